package main

import (
	"fmt"
	"strconv"
	"time"
)

// config is everything the app reads from its environment, read once at
// start so that handlers never call os.Getenv and tests can build one.
type config struct {
	// host is empty in a container (listen on every interface); tests set
	// 127.0.0.1. It is deliberately not read from the environment.
	host         string
	port         string
	greeting     string
	revision     string // K_REVISION, set by Knative on every revision's pods
	hostname     string
	crashOnStart bool
	startupDelay time.Duration
}

func loadConfig(getenv func(string) string, hostname string) (config, error) {
	c := config{
		port:     getenv("PORT"),
		greeting: getenv("GREETING"),
		revision: getenv("K_REVISION"),
		hostname: hostname,
	}
	if c.port == "" {
		c.port = "8080" // Knative and Cloud Run always set PORT; this is for a plain `go run`.
	}
	if c.greeting == "" {
		c.greeting = "world"
	}
	if v := getenv("CRASH_ON_START"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("CRASH_ON_START=%q: want 1/0 or true/false", v)
		}
		c.crashOnStart = b
	}
	if v := getenv("STARTUP_DELAY_MS"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return c, fmt.Errorf("STARTUP_DELAY_MS=%q: want a whole number of milliseconds", v)
		}
		c.startupDelay = time.Duration(ms) * time.Millisecond
	}
	return c, nil
}
