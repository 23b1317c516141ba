// Package dockerarchive writes single-layer container images as `docker
// save` tarballs: the format `docker load` and `ctr images import` read.
// Output is deterministic (fixed times and owners, sorted entries), so the
// same inputs give the same image digest.
package dockerarchive

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// Epoch is the time every entry (and the image) is stamped with, as ko and
// go-containerregistry do, so that rebuilding yields the same bytes.
var Epoch = time.Unix(0, 0).UTC()

// Layer is a set of files and directories, written as one uncompressed tar.
type Layer struct {
	entries map[string]entry // by clean absolute path
}

type entry struct {
	dir      bool
	mode     int64 // tar mode bits: permissions plus setuid/setgid/sticky
	uid, gid int
	data     []byte // file content, unless source is set
	source   string // host file to copy, read when the layer is written
}

// NewLayer returns an empty layer.
func NewLayer() *Layer { return &Layer{entries: map[string]entry{}} }

// AddDir adds a directory. mode may include the sticky bit (0o1777 for /tmp).
func (l *Layer) AddDir(p string, mode int64, uid, gid int) error {
	return l.add(p, entry{dir: true, mode: mode, uid: uid, gid: gid})
}

// AddFile adds a file with the given content, owned by root.
func (l *Layer) AddFile(p string, mode int64, data []byte) error {
	return l.add(p, entry{mode: mode, data: data})
}

// AddHostFile adds a copy of the host file src, owned by root. The file is
// read when the layer is written, so large binaries are streamed.
func (l *Layer) AddHostFile(p, src string, mode int64) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	return l.add(p, entry{mode: mode, source: src})
}

func (l *Layer) add(p string, e entry) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("%q: image paths must be absolute", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return fmt.Errorf("cannot add the root directory")
	}
	if old, ok := l.entries[p]; ok && (old.dir != e.dir || !e.dir) {
		return fmt.Errorf("%s: added twice", p)
	}
	l.entries[p] = e
	return nil
}

// WriteTar writes the layer as a tar to w. Parent directories that were not
// added explicitly are written as root-owned 0755 directories, before
// their children, as container runtimes expect.
func (l *Layer) WriteTar(w io.Writer) error {
	all := map[string]entry{}
	for p, e := range l.entries {
		all[p] = e
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = entry{dir: true, mode: 0o755}
			}
		}
	}
	for p, e := range l.entries { // explicit entries win over implied parents
		all[p] = e
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	// Sorting the paths puts every directory before what it contains.
	sort.Strings(paths)

	tw := tar.NewWriter(w)
	for _, p := range paths {
		if err := writeEntry(tw, strings.TrimPrefix(p, "/"), all[p]); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, name string, e entry) error {
	h := &tar.Header{
		Name:    name,
		Mode:    e.mode,
		Uid:     e.uid,
		Gid:     e.gid,
		ModTime: Epoch,
	}
	if e.dir {
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
		return tw.WriteHeader(h)
	}
	h.Typeflag = tar.TypeReg
	if e.source == "" {
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.data)
		return err
	}
	f, err := os.Open(e.source)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h.Size = fi.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("%s: %w", e.source, err)
	}
	return nil
}
