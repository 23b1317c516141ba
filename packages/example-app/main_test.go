package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testConfig(t *testing.T, env map[string]string) config {
	t.Helper()
	c, err := loadConfig(func(k string) string { return env[k] }, "pod-1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve runs one request through the app's handler and returns the
// response and what the app logged.
func serve(t *testing.T, c config, target string) (*httptest.ResponseRecorder, string, []int) {
	t.Helper()
	var logs bytes.Buffer
	var exits []int
	h := newHandler(c, log.New(&logs, "", 0), func(code int) { exits = append(exits, code) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec, logs.String(), exits
}

func TestGreetingDefaults(t *testing.T) {
	rec, _, _ := serve(t, testConfig(t, nil), "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if first, _, _ := strings.Cut(body, "\n"); first != "Hello, world!" {
		t.Errorf("first line %q, want %q", first, "Hello, world!")
	}
	for _, want := range []string{"GREETING=world\n", "HOSTNAME=pod-1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %q lacks %q", body, want)
		}
	}
	if strings.Contains(body, "K_REVISION") {
		t.Errorf("body %q mentions K_REVISION, which is not set", body)
	}
}

func TestGreetingFromEnv(t *testing.T) {
	c := testConfig(t, map[string]string{"GREETING": "Paved", "K_REVISION": "hello-00002"})
	rec, _, _ := serve(t, c, "/")
	body := rec.Body.String()
	if !strings.HasPrefix(body, "Hello, Paved!\n") {
		t.Errorf("body %q does not start with the greeting", body)
	}
	if !strings.Contains(body, "K_REVISION=hello-00002\n") {
		t.Errorf("body %q lacks the revision", body)
	}
}

func TestHealthz(t *testing.T) {
	rec, _, _ := serve(t, testConfig(t, nil), "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestUnknownPathIs404(t *testing.T) {
	rec, logs, _ := serve(t, testConfig(t, nil), "/nope")
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d", rec.Code)
	}
	if !strings.HasPrefix(logs, "GET /nope 404 ") {
		t.Errorf("log %q", logs)
	}
}

func TestRequestLogLine(t *testing.T) {
	_, logs, _ := serve(t, testConfig(t, nil), "/healthz")
	fields := strings.Fields(logs)
	if len(fields) != 4 || fields[0] != "GET" || fields[1] != "/healthz" || fields[2] != "200" {
		t.Fatalf("log %q, want \"GET /healthz 200 <duration>\"", logs)
	}
	if _, err := time.ParseDuration(fields[3]); err != nil {
		t.Errorf("duration %q: %v", fields[3], err)
	}
}

func TestSleep(t *testing.T) {
	started := time.Now()
	rec, _, _ := serve(t, testConfig(t, nil), "/sleep?ms=50")
	if rec.Code != http.StatusOK || rec.Body.String() != "slept 50 ms\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	if elapsed := time.Since(started); elapsed < 50*time.Millisecond {
		t.Errorf("answered after %s", elapsed)
	}
}

func TestSleepRejectsBadMs(t *testing.T) {
	for _, q := range []string{"/sleep", "/sleep?ms=abc", "/sleep?ms=-1"} {
		rec, _, _ := serve(t, testConfig(t, nil), q)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d", q, rec.Code)
		}
	}
}

func TestSleepIsCapped(t *testing.T) {
	d, err := sleepDuration("3600000")
	if err != nil || d != maxSleep {
		t.Errorf("got %s, %v; want %s", d, err, maxSleep)
	}
}

func TestCrashExits2AfterAnswering(t *testing.T) {
	rec, _, exits := serve(t, testConfig(t, nil), "/crash")
	if len(exits) != 1 || exits[0] != 2 {
		t.Fatalf("exit calls %v, want [2]", exits)
	}
	if !strings.Contains(rec.Body.String(), "crashing") || !rec.Flushed {
		t.Errorf("answer %q flushed=%v", rec.Body.String(), rec.Flushed)
	}
}

func TestLoadConfigRejectsNonsense(t *testing.T) {
	for _, env := range []map[string]string{
		{"CRASH_ON_START": "maybe"},
		{"STARTUP_DELAY_MS": "soon"},
	} {
		if _, err := loadConfig(func(k string) string { return env[k] }, "h"); err == nil {
			t.Errorf("%v: no error", env)
		}
	}
}

func TestCrashOnStart(t *testing.T) {
	c := testConfig(t, map[string]string{"CRASH_ON_START": "1"})
	var stderr bytes.Buffer
	code := run(context.Background(), c, io.Discard, &stderr, func(int) {})
	if code != 1 || !strings.Contains(stderr.String(), "CRASH_ON_START") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeAndShutdown runs the whole program on a free loopback port:
// startup delay, the "listening on" line, a request, then graceful shutdown.
func TestServeAndShutdown(t *testing.T) {
	c := testConfig(t, map[string]string{"PORT": "0", "STARTUP_DELAY_MS": "20"})
	c.host = "127.0.0.1"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, c, outW, io.Discard, func(int) {})
		outW.Close()
	}()

	lines := bufio.NewScanner(out)
	var port string
	for lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "listening on :"); ok {
			port = p
			break
		}
	}
	if port == "" {
		t.Fatal("no \"listening on\" line")
	}
	go io.Copy(io.Discard, out) // keep the logger from blocking

	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), "Hello, world!\n") {
		t.Errorf("body %q", body)
	}

	cancel() // what SIGTERM does in main
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d after shutdown", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop after shutdown")
	}
}
