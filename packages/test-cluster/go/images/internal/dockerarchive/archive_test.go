package dockerarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readTar returns a tar's headers in order and its regular files' contents.
func readTar(t *testing.T, r io.Reader) ([]*tar.Header, map[string][]byte) {
	t.Helper()
	var headers []*tar.Header
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return headers, files
		}
		if err != nil {
			t.Fatal(err)
		}
		headers = append(headers, h)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// writeTestImage makes an image of a fake binary; certs is a fake CA bundle.
func writeTestImage(t *testing.T, dir string, gzipLayer bool) (string, Result) {
	t.Helper()
	bin := filepath.Join(dir, "app-binary")
	certs := filepath.Join(dir, "certs.pem")
	if err := os.WriteFile(bin, []byte("\x7fELF pretend"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Times on the host must not reach the image.
	now := time.Now()
	os.Chtimes(bin, now, now)

	l := NewLayer()
	if err := l.AddBase(); err != nil {
		t.Fatal(err)
	}
	if added, err := l.AddCACerts(certs); err != nil || !added {
		t.Fatalf("AddCACerts: %v, %v", added, err)
	}
	if err := l.AddHostFile("/ko-app/controller", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "image.tar")
	res, err := Write(out, "registry.localhost/paved/hello:1.0.0", Config{
		Architecture: "amd64",
		OS:           "linux",
		User:         "65532",
		Env:          []string{"PATH=/bin", "A=b"},
		Entrypoint:   []string{"/ko-app/controller"},
		ExposedPorts: []string{"8080/tcp"},
	}, l, gzipLayer)
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

func TestWriteDockerSaveLayout(t *testing.T) {
	for _, gzipLayer := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gzipLayer], func(t *testing.T) {
			testWriteDockerSaveLayout(t, gzipLayer)
		})
	}
}

func testWriteDockerSaveLayout(t *testing.T, gzipLayer bool) {
	out, res := writeTestImage(t, t.TempDir(), gzipLayer)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, files := readTar(t, f)

	var manifest []ManifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 {
		t.Fatalf("manifest.json has %d images", len(manifest))
	}
	m := manifest[0]
	if !reflect.DeepEqual(m.RepoTags, []string{"registry.localhost/paved/hello:1.0.0"}) {
		t.Errorf("RepoTags %v", m.RepoTags)
	}
	configJSON, ok := files[m.Config]
	if !ok || len(m.Layers) != 1 {
		t.Fatalf("config %q or layers %v missing from %v", m.Config, m.Layers, keys(files))
	}
	layerBlob, ok := files[m.Layers[0]]
	if !ok {
		t.Fatalf("layer %q missing", m.Layers[0])
	}
	// Blobs are named by their digest.
	if "blobs/sha256/"+strings.TrimPrefix(sha(configJSON), "sha256:") != m.Config || sha(configJSON) != res.ConfigDigest {
		t.Errorf("config %s is not named by its digest %s", m.Config, sha(configJSON))
	}
	if "blobs/sha256/"+strings.TrimPrefix(sha(layerBlob), "sha256:") != m.Layers[0] || sha(layerBlob) != res.LayerDigest {
		t.Errorf("layer %s is not named by its digest %s", m.Layers[0], sha(layerBlob))
	}

	layerTar := layerBlob
	if gzipLayer {
		zr, err := gzip.NewReader(bytes.NewReader(layerBlob))
		if err != nil {
			t.Fatalf("layer is not gzipped: %v", err)
		}
		if layerTar, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(layerBlob[257:262], []byte("ustar")) {
		t.Errorf("plain layer is not a tar")
	}

	var cfg struct {
		Architecture string
		OS           string
		Config       struct {
			User         string
			Env          []string
			Entrypoint   []string
			ExposedPorts map[string]struct{}
		}
		RootFS struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(configJSON, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || cfg.Config.User != "65532" {
		t.Errorf("config %s", configJSON)
	}
	if !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/ko-app/controller"}) || len(cfg.Config.Env) != 2 {
		t.Errorf("config %s", configJSON)
	}
	if _, ok := cfg.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("config %s lacks ExposedPorts 8080/tcp", configJSON)
	}
	// The diff ID is the digest of the uncompressed layer: what containerd
	// checks after unpacking.
	if cfg.RootFS.Type != "layers" || !reflect.DeepEqual(cfg.RootFS.DiffIDs, []string{sha(layerTar)}) || res.DiffID != sha(layerTar) {
		t.Errorf("rootfs %+v, want diff_ids [%s]", cfg.RootFS, sha(layerTar))
	}

	checkLayer(t, layerTar)
}

// checkLayer checks the layer's entries, modes and owners.
func checkLayer(t *testing.T, layerTar []byte) {
	t.Helper()
	headers, files := readTar(t, bytes.NewReader(layerTar))
	var names []string
	byName := map[string]*tar.Header{}
	for _, h := range headers {
		names = append(names, h.Name)
		byName[h.Name] = h
		if !h.ModTime.Equal(Epoch) || h.Uname != "" {
			t.Errorf("%s: mtime %s, uname %q", h.Name, h.ModTime, h.Uname)
		}
	}
	want := []string{
		"etc/", "etc/group", "etc/nsswitch.conf", "etc/passwd",
		"etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt",
		"home/", "home/nonroot/", "ko-app/", "ko-app/controller", "root/", "tmp/",
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("layer entries\n got %q\nwant %q", names, want)
	}
	for name, mode := range map[string]int64{
		"tmp/": 0o1777, "ko-app/": 0o755, "ko-app/controller": 0o755,
		"etc/ssl/certs/ca-certificates.crt": 0o644, "home/nonroot/": 0o700,
	} {
		if byName[name].Mode != mode {
			t.Errorf("%s: mode %o, want %o", name, byName[name].Mode, mode)
		}
	}
	if h := byName["home/nonroot/"]; h.Uid != NonRootUID || h.Gid != NonRootUID {
		t.Errorf("home/nonroot: owner %d:%d", h.Uid, h.Gid)
	}
	if h := byName["ko-app/controller"]; h.Uid != 0 || h.Typeflag != tar.TypeReg {
		t.Errorf("ko-app/controller: %+v", h)
	}
	if string(files["ko-app/controller"]) != "\x7fELF pretend" {
		t.Errorf("binary content %q", files["ko-app/controller"])
	}
	if !strings.Contains(string(files["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd %q", files["etc/passwd"])
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	for _, gzipLayer := range []bool{false, true} {
		a, resA := writeTestImage(t, t.TempDir(), gzipLayer)
		time.Sleep(10 * time.Millisecond) // a later mtime on the sources
		b, resB := writeTestImage(t, t.TempDir(), gzipLayer)
		bytesA, _ := os.ReadFile(a)
		bytesB, _ := os.ReadFile(b)
		if !bytes.Equal(bytesA, bytesB) || resA != resB {
			t.Errorf("gzip=%v: two builds of the same image differ: %+v, %+v", gzipLayer, resA, resB)
		}
	}
}

func TestAddRejectsBadPaths(t *testing.T) {
	l := NewLayer()
	if err := l.AddFile("relative", 0o644, nil); err == nil {
		t.Error("relative path accepted")
	}
	if err := l.AddDir("/", 0o755, 0, 0); err == nil {
		t.Error("root directory accepted")
	}
	if err := l.AddFile("/app", 0o755, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.AddFile("/app", 0o755, nil); err == nil {
		t.Error("same file added twice")
	}
	if err := l.AddHostFile("/dir", t.TempDir(), 0o755); err == nil {
		t.Error("directory accepted as a host file")
	}
}

func TestAddCACertsSkipsMissingBundle(t *testing.T) {
	added, err := NewLayer().AddCACerts(filepath.Join(t.TempDir(), "nope.crt"))
	if added || err != nil {
		t.Errorf("got %v, %v", added, err)
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
