// Command netprobe is an HTTP server that makes network calls on request,
// from wherever it runs: run as a pod (an App, say), it tells a test what
// that pod can and cannot reach, so NetworkPolicies are checked for real.
//
//	GET /                        "netprobe <hostname>": who answered
//	GET /dial?addr=HOST:PORT     an HTTP GET to addr from this pod; &host=
//	                             sets the Host header, &path= the path,
//	                             &timeout= the limit (Go duration, default 3s)
//	GET /resolve?name=NAME       a DNS lookup from this pod
//
// /dial and /resolve answer 200 with JSON whatever the outcome:
// {"ok":true,"status":200,"body":"…"} or {"ok":false,"error":"…"}, and the
// time taken in "ms". The server listens on $PORT (default 8080).
// Standard library only; build with CGO_ENABLED=0 (Go's own resolver reads
// the pod's /etc/resolv.conf).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type result struct {
	OK     bool     `json:"ok"`
	Status int      `json:"status,omitempty"`
	Body   string   `json:"body,omitempty"`
	Addrs  []string `json:"addrs,omitempty"`
	Error  string   `json:"error,omitempty"`
	Ms     int64    `json:"ms"`
}

const maxTimeout = 30 * time.Second

func timeoutOf(r *http.Request) (time.Duration, error) {
	raw := r.URL.Query().Get("timeout")
	if raw == "" {
		return 3 * time.Second, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > maxTimeout {
		return 0, fmt.Errorf("timeout must be a Go duration up to %s, not %q", maxTimeout, raw)
	}
	return d, nil
}

func dial(ctx context.Context, addr, host, path string) result {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return result{Error: "addr must be HOST:PORT: " + err.Error()}
	}
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return result{Error: err.Error()}
	}
	if host != "" {
		req.Host = host
	}
	client := &http.Client{
		// No proxy from the environment, no keep-alive: every probe is a
		// new connection, so a policy change shows at once.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	res, err := client.Do(req)
	if err != nil {
		return result{Error: err.Error()}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	return result{OK: true, Status: res.StatusCode, Body: string(body)}
}

func resolve(ctx context.Context, name string) result {
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return result{Error: err.Error()}
	}
	return result{OK: true, Addrs: addrs}
}

func handler(hostname string, logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "netprobe %s\n", hostname)
	})
	probe := func(do func(ctx context.Context, r *http.Request) result) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			timeout, err := timeoutOf(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			started := time.Now()
			res := do(ctx, r)
			res.Ms = time.Since(started).Milliseconds()
			logger.Printf("%s %s: ok=%t %s", r.URL.Path, r.URL.RawQuery, res.OK, res.Error)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(res)
		}
	}
	mux.HandleFunc("/dial", probe(func(ctx context.Context, r *http.Request) result {
		q := r.URL.Query()
		return dial(ctx, q.Get("addr"), q.Get("host"), q.Get("path"))
	}))
	mux.HandleFunc("/resolve", probe(func(ctx context.Context, r *http.Request) result {
		name := strings.TrimSpace(r.URL.Query().Get("name"))
		if name == "" {
			return result{Error: "name is required"}
		}
		return resolve(ctx, name)
	}))
	return mux
}

func main() {
	logger := log.New(os.Stdout, "", 0)
	hostname, _ := os.Hostname()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netprobe:", err)
		os.Exit(1)
	}
	logger.Printf("netprobe listening on %s", ln.Addr())
	srv := &http.Server{Handler: handler(hostname, logger), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "netprobe:", err)
		os.Exit(1)
	}
}
