// Command example-app is Paved's example app: a tiny HTTP server that greets,
// reports health, and can be told to crash or to be slow, so that Paved's
// tests (and its users) can see every state a deployed app goes through.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout is how long in-flight requests get after SIGTERM. It stays
// under Kubernetes' default 30 s grace period, after which comes SIGKILL.
const shutdownTimeout = 25 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hostname, _ := os.Hostname()
	c, err := loadConfig(os.Getenv, hostname)
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-app:", err)
		os.Exit(1)
	}
	os.Exit(run(ctx, c, os.Stdout, os.Stderr, os.Exit))
}

// run serves until ctx is done and returns the process's exit status.
func run(ctx context.Context, c config, stdout, stderr io.Writer, exit func(int)) int {
	logger := log.New(stdout, "", 0) // the node's log collector adds timestamps
	if c.crashOnStart {
		fmt.Fprintln(stderr, "example-app: CRASH_ON_START is set: exiting with status 1 as asked")
		return 1
	}
	if c.startupDelay > 0 {
		logger.Printf("STARTUP_DELAY_MS: waiting %s before listening", c.startupDelay)
		select {
		case <-time.After(c.startupDelay):
		case <-ctx.Done():
			return 0
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(c.host, c.port))
	if err != nil {
		fmt.Fprintln(stderr, "example-app:", err)
		return 1
	}
	// The real port, so that PORT=0 (tests) prints where it listens.
	logger.Printf("listening on :%d", ln.Addr().(*net.TCPAddr).Port)

	srv := &http.Server{
		Handler:           newHandler(c, logger, exit),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "example-app: ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		fmt.Fprintln(stderr, "example-app:", err)
		return 1
	case <-ctx.Done():
	}
	logger.Printf("shutting down: waiting up to %s for in-flight requests", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "example-app: shutdown:", err)
		return 1
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "example-app:", err)
		return 1
	}
	logger.Printf("stopped")
	return 0
}
