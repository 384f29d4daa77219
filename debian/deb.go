package debian

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// dataTar reads a .deb (an ar archive): it returns the decompressed
// data.tar member and the text of the control member's postinst script.
func dataTar(f *os.File) (data io.Reader, postinst string, err error) {
	br := bufio.NewReader(f)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, "", errors.New("not a Debian package (no ar header)")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return nil, "", errors.New("no data.tar member")
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("bad ar member size %q", hdr[48:58])
		}
		if !strings.HasPrefix(name, "data.tar") && !strings.HasPrefix(name, "control.tar") {
			if _, err := br.Discard(int(size + size%2)); err != nil {
				return nil, "", err
			}
			continue
		}
		lr := &io.LimitedReader{R: br, N: size}
		body, err := decompress(name, lr)
		if err != nil {
			return nil, "", err
		}
		if strings.HasPrefix(name, "data.tar") {
			return body, postinst, nil
		}
		tr := tar.NewReader(body)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if path.Base(h.Name) == "postinst" {
				b, _ := io.ReadAll(io.LimitReader(tr, 1<<20))
				postinst = string(b)
			}
		}
		if c, ok := body.(io.Closer); ok {
			c.Close()
		}
		// Whatever the decompressor left of the member, and its padding.
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return nil, "", err
		}
		if size%2 == 1 {
			if _, err := br.Discard(1); err != nil {
				return nil, "", err
			}
		}
	}
}

func decompress(name string, r io.Reader) (io.Reader, error) {
	switch path.Ext(name) {
	case ".xz":
		return xz.NewReader(r)
	case ".zst":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	case ".gz":
		return gzip.NewReader(r)
	case ".tar":
		return r, nil
	}
	return nil, fmt.Errorf("unknown compression of %s", name)
}

// skipped are paths left out of the image: documentation and manual
// pages, but not the copyright files, which the licences require.
func skipped(p string) bool {
	for _, pre := range []string{"usr/share/man/", "usr/share/info/", "usr/share/lintian/", "usr/share/linda/"} {
		if strings.HasPrefix(p+"/", pre) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(p, "usr/share/doc/"); ok {
		return !strings.HasSuffix(rest, "/copyright") && strings.Contains(rest, "/")
	}
	return false
}

// layerWriter writes the packages' files as one tar stream with owners
// root, one modification time, each directory once.
type layerWriter struct {
	tw    *tar.Writer
	mtime time.Time
	dirs  map[string]bool
	alts  map[string]alternative // by name
}

// alternative is one update-alternatives --install of a postinst script.
type alternative struct {
	link, path string
	priority   int
}

// alternatives notes what a package's postinst would register with
// update-alternatives (libblas.so.3, for one, exists only as such a link);
// links writes the best of each once every package is unpacked.
var altRE = regexp.MustCompile(`update-alternatives\s+(?:--\S+\s+)*--install\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)`)

func (w *layerWriter) alternatives(script string) {
	script = strings.ReplaceAll(script, "\\\n", " ") // continued lines
	for _, m := range altRE.FindAllStringSubmatch(script, -1) {
		if strings.ContainsAny(m[1]+m[2]+m[3], "$`\"'") {
			continue // computed by the script: not followed
		}
		prio, _ := strconv.Atoi(m[4])
		if a, ok := w.alts[m[2]]; !ok || prio > a.priority {
			w.alts[m[2]] = alternative{link: m[1], path: m[3], priority: prio}
		}
	}
}

// links writes the chosen alternatives as dpkg does: LINK to
// /etc/alternatives/NAME to PATH, in name order.
func (w *layerWriter) links() error {
	names := make([]string, 0, len(w.alts))
	for n := range w.alts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := w.alts[n]
		for _, l := range [][2]string{{"etc/alternatives/" + n, a.path}, {strings.TrimPrefix(a.link, "/"), "/etc/alternatives/" + n}} {
			if err := w.dir(path.Dir(l[0]), 0o755, 0); err != nil {
				return err
			}
			if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: l[0], Linkname: l[1], Mode: 0o777, ModTime: w.mtime, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *layerWriter) header(h *tar.Header) *tar.Header {
	return &tar.Header{
		Typeflag: h.Typeflag, Name: h.Name, Linkname: h.Linkname, Size: h.Size,
		Mode: h.Mode, ModTime: w.mtime, Format: tar.FormatPAX,
	}
}

// dir writes name (and its parents) once.
func (w *layerWriter) dir(name string, mode int64, uid int) error {
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." || w.dirs[name] {
		return nil
	}
	if parent := path.Dir(name); parent != "." {
		if err := w.dir(parent, 0o755, 0); err != nil {
			return err
		}
	}
	w.dirs[name] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: w.mtime, Uid: uid, Gid: uid, Format: tar.FormatPAX})
}

// deb copies the data of one package.
func (w *layerWriter) deb(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, postinst, err := dataTar(f)
	if err != nil {
		return err
	}
	w.alternatives(postinst)
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "" || skipped(name) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := w.dir(name, h.Mode, 0); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
			if err := w.dir(path.Dir(name), 0o755, 0); err != nil {
				return err
			}
			nh := w.header(h)
			nh.Name = name
			if h.Typeflag == tar.TypeLink {
				nh.Linkname = strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
			}
			if err := w.tw.WriteHeader(nh); err != nil {
				return err
			}
			if h.Typeflag == tar.TypeReg {
				if _, err := io.Copy(w.tw, tr); err != nil {
					return err
				}
			}
		}
	}
}

// bytes writes a small file.
func (w *layerWriter) bytes(name string, mode int64, data []byte) error {
	if err := w.dir(path.Dir(name), 0o755, 0); err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: w.mtime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}
