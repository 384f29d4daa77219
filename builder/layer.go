package builder

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// Tar writes a reproducible tar stream: entries in the order given
// (callers add them sorted), root ownership, normalised modes and one fixed
// modification time. It hashes the stream as it goes, which gives the
// layer's diff ID without a second pass.
type Tar struct {
	tw    *tar.Writer
	h     hash.Hash
	mtime time.Time
	dirs  map[string]bool
}

func newTar(w io.Writer, mtime time.Time) *Tar {
	h := sha256.New()
	return &Tar{tw: tar.NewWriter(io.MultiWriter(w, h)), h: h, mtime: mtime, dirs: map[string]bool{}}
}

// Dir adds a directory entry and any missing parents.
func (t *Tar) Dir(name string, mode int64) error {
	name = strings.Trim(path.Clean("/"+name), "/")
	if name == "" || t.dirs[name] {
		return nil
	}
	if err := t.Dir(path.Dir(name), 0o755); err != nil {
		return err
	}
	t.dirs[name] = true
	return t.tw.WriteHeader(t.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}))
}

// DirAs adds a directory entry owned by uid:gid (parents owned by root).
func (t *Tar) DirAs(name string, mode int64, uid, gid int) error {
	name = strings.Trim(path.Clean("/"+name), "/")
	if err := t.Dir(path.Dir(name), 0o755); err != nil {
		return err
	}
	t.dirs[name] = true
	h := t.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode})
	h.Uid, h.Gid = uid, gid
	return t.tw.WriteHeader(h)
}

// File adds a regular file from r with size bytes.
func (t *Tar) File(name string, mode, size int64, r io.Reader) error {
	name = strings.Trim(path.Clean("/"+name), "/")
	if err := t.Dir(path.Dir(name), 0o755); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(t.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size})); err != nil {
		return err
	}
	n, err := io.Copy(t.tw, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%s changed size while it was being added (%d bytes, expected %d)", name, n, size)
	}
	return nil
}

// Bytes adds a regular file with the given content.
func (t *Tar) Bytes(name string, mode int64, data []byte) error {
	return t.File(name, mode, int64(len(data)), bytes.NewReader(data))
}

// Symlink adds a symbolic link.
func (t *Tar) Symlink(name, target string) error {
	name = strings.Trim(path.Clean("/"+name), "/")
	if err := t.Dir(path.Dir(name), 0o755); err != nil {
		return err
	}
	return t.tw.WriteHeader(t.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}))
}

func (t *Tar) header(h *tar.Header) *tar.Header {
	h.ModTime = t.mtime
	h.Uid, h.Gid = 0, 0
	h.Uname, h.Gname = "", ""
	h.Format = tar.FormatPAX
	// PAX would record sub-second times and access times; a fixed time in
	// whole seconds keeps headers identical across machines.
	h.ModTime = h.ModTime.Truncate(time.Second)
	return h
}

// close finishes the stream and returns its diff ID.
func (t *Tar) close() (v1.Hash, error) {
	if err := t.tw.Close(); err != nil {
		return v1.Hash{}, err
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(t.h.Sum(nil))}, nil
}

// layerCache keeps compressed layers on disk keyed by diff ID, so a rebuild
// whose files did not change skips compression and yields the same blob.
type layerCache struct{ dir string }

// newLayer turns an uncompressed tar held in file (its diff ID known) into a
// gzip-compressed OCI layer, reusing a cached compression when there is one.
// The uncompressed file is removed.
func (c *layerCache) newLayer(uncompressed string, diffID v1.Hash) (v1.Layer, error) {
	defer os.Remove(uncompressed)
	var dir string
	if c != nil && c.dir != "" {
		dir = filepath.Join(c.dir, "layers")
		if l, err := c.lookup(dir, diffID); err == nil {
			return l, nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	} else {
		dir = filepath.Dir(uncompressed)
	}
	in, err := os.Open(uncompressed)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "layer-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(out.Name())
	h := sha256.New()
	// klauspost gzip at BestSpeed: about twice the standard library's speed;
	// the registry is usually near, and compression dominates a
	// rebuild's time otherwise. A zero gzip header (no name, no time) keeps
	// the output reproducible.
	zw, _ := gzip.NewWriterLevel(io.MultiWriter(out, h), gzip.BestSpeed)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return nil, err
	}
	st, err := out.Stat()
	if err != nil {
		out.Close()
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	l := &fileLayer{
		path:   filepath.Join(dir, diffID.Hex+".tar.gz"),
		digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))},
		diffID: diffID,
		size:   st.Size(),
	}
	if err := os.Rename(out.Name(), l.path); err != nil {
		return nil, err
	}
	if c != nil && c.dir != "" {
		// The digest goes into a side file so a cache hit needs no hashing.
		if err := os.WriteFile(l.path+".digest", []byte(l.digest.String()), 0o644); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (c *layerCache) lookup(dir string, diffID v1.Hash) (v1.Layer, error) {
	p := filepath.Join(dir, diffID.Hex+".tar.gz")
	d, err := os.ReadFile(p + ".digest")
	if err != nil {
		return nil, err
	}
	digest, err := v1.NewHash(string(d))
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	return &fileLayer{path: p, digest: digest, diffID: diffID, size: st.Size()}, nil
}

// fileLayer is a gzip-compressed layer stored in a file.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: f.Close}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// buildLayer writes a layer through fn into a temporary tar and returns it
// as a compressed, cached layer.
func buildLayer(cache *layerCache, tmpDir string, mtime time.Time, fn func(*Tar) error) (v1.Layer, error) {
	f, err := os.CreateTemp(tmpDir, "layer-*.tar")
	if err != nil {
		return nil, err
	}
	tw := newTar(f, mtime)
	err = fn(tw)
	var diffID v1.Hash
	if err == nil {
		diffID, err = tw.close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return cache.newLayer(f.Name(), diffID)
}
