package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{
		"--name", "registry.localhost/knative/queue:v0.42.2", "--out", "q.tar",
		"--file", "bin/queue:/ko-app/queue", "--file", "x:/etc/x:0644",
		"--entrypoint", "/ko-app/queue", "--entrypoint", "--flag",
		"--env", "A=b", "--expose", "8080", "--expose", "53/udp",
		"--ca-certs=false",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []fileSpec{{"bin/queue", "/ko-app/queue", -1}, {"x", "/etc/x", 0o644}}
	if !reflect.DeepEqual(o.files, wantFiles) {
		t.Errorf("files %+v", o.files)
	}
	if !reflect.DeepEqual(o.entrypoint, []string{"/ko-app/queue", "--flag"}) {
		t.Errorf("entrypoint %q", o.entrypoint)
	}
	if !reflect.DeepEqual(o.expose, []string{"8080/tcp", "53/udp"}) {
		t.Errorf("expose %q", o.expose)
	}
	if o.user != "65532" || !o.base || !o.gzip || o.caCerts != "" {
		t.Errorf("defaults: %+v", o)
	}
}

func TestParseArgsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--out", "x.tar"},
		{"--name", "x:1"},
		{"--name", "x:1", "--out", "x.tar", "--file", "a"},
		{"--name", "x:1", "--out", "x.tar", "--file", "a:relative"},
		{"--name", "x:1", "--out", "x.tar", "--file", "a:/b:999"},
		{"--name", "x:1", "--out", "x.tar", "--env", "NOEQUALS"},
		{"--name", "x:1", "--out", "x.tar", "--expose", "http"},
		{"--name", "x:1", "--out", "x.tar", "stray"},
	} {
		if _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestWithDefaultPath(t *testing.T) {
	if got := withDefaultPath([]string{"A=b"}); !reflect.DeepEqual(got, []string{defaultPath, "A=b"}) {
		t.Errorf("got %q", got)
	}
	if got := withDefaultPath([]string{"PATH=/x"}); !reflect.DeepEqual(got, []string{"PATH=/x"}) {
		t.Errorf("got %q", got)
	}
}

func TestBuildKeepsSourceMode(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "app")
	if err := os.WriteFile(src, []byte("bin"), 0o750); err != nil {
		t.Fatal(err)
	}
	o, err := parseArgs([]string{"--name", "x:1", "--out", filepath.Join(dir, "x.tar"), "--file", src + ":/app", "--gzip=false"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := build(o)
	if err != nil {
		t.Fatal(err)
	}
	// The archive's layout is tested in internal/dockerarchive; here, find
	// /app in the (uncompressed) layer blob and check its mode.
	archive := tarFiles(t, o.out)
	layer := archive["blobs/sha256/"+strings.TrimPrefix(res.DiffID, "sha256:")]
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no app in the layer: %v", err)
		}
		if h.Name == "app" {
			if h.Mode != 0o750 {
				t.Errorf("mode %o, want the source's 750", h.Mode)
			}
			return
		}
	}
}

func tarFiles(t *testing.T, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
}
