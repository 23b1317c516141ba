package main

import (
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"
)

// maxSleep bounds GET /sleep so a test cannot park a request for longer
// than Kubernetes' default termination grace period.
const maxSleep = 30 * time.Second

// newHandler returns the app's routes wrapped in request logging. exit is
// os.Exit in production; tests pass a fake to observe GET /crash.
func newHandler(c config, logger *log.Logger, exit func(int)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, greeting(c))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		d, err := sleepDuration(r.URL.Query().Get("ms"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done(): // the client gave up; nobody reads the answer
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "slept %d ms\n", d.Milliseconds())
	})
	mux.HandleFunc("GET /crash", func(w http.ResponseWriter, r *http.Request) {
		logger.Printf("GET /crash: exiting with status 2 as asked")
		// Send a complete answer before dying, so the caller can tell
		// "crashed as asked" from "never reached the app": with a length
		// (not chunked) the response ends where the body does.
		const body = "crashing (exit 2)\n"
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, body)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		exit(2)
	})
	return logRequests(logger, mux)
}

// greeting is GET / 's body. Its first line, "Hello, <GREETING>!", is what
// tests assert; the rest shows where the answer came from.
func greeting(c config) string {
	s := fmt.Sprintf("Hello, %s!\nThis is Paved's example app.\nGREETING=%s\n", c.greeting, c.greeting)
	if c.revision != "" {
		s += fmt.Sprintf("K_REVISION=%s\n", c.revision)
	}
	return s + fmt.Sprintf("HOSTNAME=%s\n", c.hostname)
}

func sleepDuration(ms string) (time.Duration, error) {
	n, err := strconv.Atoi(ms)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("ms=%q: want a whole number of milliseconds, e.g. /sleep?ms=500", ms)
	}
	return min(time.Duration(n)*time.Millisecond, maxSleep), nil
}

// logRequests writes one line per request, after it is answered, e.g.
// "GET /healthz 200 41µs". Paved streams these lines as the app's logs.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, time.Since(started).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (and so Flush) reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
