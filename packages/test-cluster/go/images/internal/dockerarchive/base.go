package dockerarchive

import (
	"errors"
	"io/fs"
	"os"
)

// NonRootUID is distroless' "nonroot" user, which ko-built images (Knative's)
// and Paved's example app run as.
const NonRootUID = 65532

// Base files are what a static Go program expects of a minimal root
// filesystem, after distroless/static: users to name, a writable /tmp, a
// home for nonroot, and CA certificates for TLS clients.
const (
	passwd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`
	group = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`
	// Go's resolver reads this to decide between /etc/hosts and DNS.
	nsswitch = "hosts: files dns\n"
)

// HostCACerts is where Debian (and the machines Paved's tests run on) keep
// the CA bundle; Go's crypto/x509 looks for it at the same path in the image.
const HostCACerts = "/etc/ssl/certs/ca-certificates.crt"

// AddBase adds /etc/passwd, /etc/group, /etc/nsswitch.conf, /tmp, /root and
// /home/nonroot.
func (l *Layer) AddBase() error {
	return errors.Join(
		l.AddFile("/etc/passwd", 0o644, []byte(passwd)),
		l.AddFile("/etc/group", 0o644, []byte(group)),
		l.AddFile("/etc/nsswitch.conf", 0o644, []byte(nsswitch)),
		l.AddDir("/tmp", 0o1777, 0, 0),
		l.AddDir("/root", 0o700, 0, 0),
		l.AddDir("/home/nonroot", 0o700, NonRootUID, NonRootUID),
	)
}

// AddCACerts copies the host's CA bundle src to
// /etc/ssl/certs/ca-certificates.crt. A missing src is skipped, not an
// error, so images can be made where no bundle is installed; it reports
// whether the bundle was added.
func (l *Layer) AddCACerts(src string) (bool, error) {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return true, l.AddHostFile(HostCACerts, src, 0o644)
}
