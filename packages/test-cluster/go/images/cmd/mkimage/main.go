// Command mkimage writes a container image as a `docker save` tarball, for
// `ctr -n k8s.io images import` (or `docker load`), from files on the host:
// no Docker, no registry, no base image. The single layer holds the given
// files plus what a static Go program expects (/etc/passwd with nonroot
// 65532, /tmp, CA certificates).
//
//	mkimage --name registry.localhost/paved/hello:1.0.0 --out hello.tar \
//	  --file ./example-app:/app --entrypoint /app
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"paved.dev/test-cluster/images/internal/dockerarchive"
)

// defaultPath is distroless/static's PATH.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type fileSpec struct {
	src, dest string
	mode      int64 // -1: the source file's permissions
}

type options struct {
	name, out  string
	files      []fileSpec
	entrypoint []string
	cmd        []string
	env        []string
	user       string
	workdir    string
	expose     []string
	caCerts    string
	base       bool
	gzip       bool
	arch, goos string
}

func main() {
	o, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
	res, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkimage: wrote %s (%s, %d bytes): config %s, layer %s\n",
		o.out, o.name, res.Size, res.ConfigDigest, res.DiffID)
	fmt.Println(res.ConfigDigest) // the image ID
}

func build(o options) (dockerarchive.Result, error) {
	layer := dockerarchive.NewLayer()
	if o.base {
		if err := layer.AddBase(); err != nil {
			return dockerarchive.Result{}, err
		}
	}
	if o.caCerts != "" {
		added, err := layer.AddCACerts(o.caCerts)
		if err != nil {
			return dockerarchive.Result{}, err
		}
		if !added {
			fmt.Fprintf(os.Stderr, "mkimage: %s not found: the image has no CA certificates\n", o.caCerts)
		}
	}
	for _, f := range o.files {
		mode := f.mode
		if mode < 0 {
			fi, err := os.Stat(f.src)
			if err != nil {
				return dockerarchive.Result{}, err
			}
			mode = int64(fi.Mode().Perm())
		}
		if err := layer.AddHostFile(f.dest, f.src, mode); err != nil {
			return dockerarchive.Result{}, err
		}
	}
	cfg := dockerarchive.Config{
		Architecture: o.arch,
		OS:           o.goos,
		User:         o.user,
		Env:          withDefaultPath(o.env),
		Entrypoint:   o.entrypoint,
		Cmd:          o.cmd,
		WorkingDir:   o.workdir,
		ExposedPorts: o.expose,
	}
	return dockerarchive.Write(o.out, o.name, cfg, layer, o.gzip)
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.name, "name", "", "image name with tag (RepoTag), e.g. registry.localhost/paved/hello:1.0.0 (required)")
	fs.StringVar(&o.out, "out", "", "tarball to write (required)")
	fs.Func("file", "SRC:DEST[:MODE] host file SRC copied to DEST in the image, MODE in octal (default: SRC's); repeatable", func(v string) error {
		f, err := parseFile(v)
		o.files = append(o.files, f)
		return err
	})
	fs.Func("entrypoint", "one element of the entrypoint; repeat for more, e.g. --entrypoint /app --entrypoint --verbose", appendTo(&o.entrypoint))
	fs.Func("cmd", "one element of the default arguments (Cmd); repeatable", appendTo(&o.cmd))
	fs.Func("env", "K=V in the image's environment; repeatable (PATH defaults to distroless')", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return fmt.Errorf("%q: want K=V", v)
		}
		o.env = append(o.env, v)
		return nil
	})
	fs.StringVar(&o.user, "user", strconv.Itoa(dockerarchive.NonRootUID), "user to run as, UID or UID:GID; numeric so runAsNonRoot pods can check it")
	fs.StringVar(&o.workdir, "workdir", "", "working directory (default /)")
	fs.Func("expose", "port to declare, e.g. 8080/tcp (/tcp if no protocol); repeatable", func(v string) error {
		if !strings.Contains(v, "/") {
			v += "/tcp"
		}
		if _, err := strconv.ParseUint(strings.SplitN(v, "/", 2)[0], 10, 16); err != nil {
			return fmt.Errorf("%q: want PORT[/PROTOCOL]", v)
		}
		o.expose = append(o.expose, v)
		return nil
	})
	fs.BoolVar(&o.base, "base", true, "add /etc/passwd, /etc/group, /etc/nsswitch.conf, /tmp, /root and /home/nonroot")
	caCerts := fs.Bool("ca-certs", true, "copy the host's "+dockerarchive.HostCACerts+" into the image, if it exists")
	fs.BoolVar(&o.gzip, "gzip", true, "store the layer gzipped (smaller, and faster to import)")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "image architecture: that of the binaries in it")
	fs.StringVar(&o.goos, "os", "linux", "image operating system")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.name == "" || o.out == "" {
		return o, errors.New("--name and --out are required")
	}
	if o.user == "" {
		return o, errors.New("--user must not be empty (use 0 for root)")
	}
	if *caCerts {
		o.caCerts = dockerarchive.HostCACerts
	}
	return o, nil
}

func parseFile(v string) (fileSpec, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
		return fileSpec{}, fmt.Errorf("%q: want SRC:DEST[:MODE] with an absolute DEST", v)
	}
	f := fileSpec{src: parts[0], dest: parts[1], mode: -1}
	if len(parts) == 3 {
		m, err := strconv.ParseUint(parts[2], 8, 32)
		if err != nil || m > 0o7777 {
			return fileSpec{}, fmt.Errorf("%q: MODE %q is not an octal file mode", v, parts[2])
		}
		f.mode = int64(m)
	}
	return f, nil
}

func appendTo(list *[]string) func(string) error {
	return func(v string) error {
		*list = append(*list, v)
		return nil
	}
}

// withDefaultPath puts distroless' PATH first unless env sets PATH itself.
func withDefaultPath(env []string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return env
		}
	}
	return append([]string{defaultPath}, env...)
}
