//go:build unix

// Command pause stands in for Kubernetes' pause container (a small C program
// in kubernetes/build/pause): the first process of every pod sandbox, which
// holds the pod's namespaces open. Like it, pause sleeps until SIGINT or
// SIGTERM and then exits 0, and, being PID 1 of the pod's PID namespace when
// that is shared, reaps the zombies of orphaned processes. Build it with
// CGO_ENABLED=0 so it runs in an image with nothing else in it.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is what -v prints; the image tag says the same.
const version = "paved-pause 3.10"

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "-v" {
			fmt.Println(version)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "usage: %s [-v]\n", os.Args[0])
		os.Exit(2)
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}

	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %s\n", sig)
		os.Exit(0)
	}
}

// reap collects every child that has exited. Signals coalesce, so one
// SIGCHLD may stand for several children: wait until none is left.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil { // 0: children left but running; ECHILD: none
			return
		}
	}
}
