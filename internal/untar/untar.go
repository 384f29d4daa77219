// Package untar unpacks tar streams that come from elsewhere (pipeline
// artifacts pushed by other pods, tarballs a BuildKit daemon exports) into a
// folder, and never writes outside it. Every entry is resolved against the
// root: names that are absolute or climb with "..", hard links, devices and
// links that point out of the root are refused, and no entry is written
// through a symbolic link (an earlier entry cannot make a later one land
// elsewhere, as a chain of links to "." and "../.." would). Files keep their
// permission bits, never setuid, setgid or sticky.
package untar

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Option changes what Extract accepts.
type Option func(*options)

type options struct {
	symlinks bool
}

// WithSymlinks accepts symbolic links whose target stays inside the root;
// without it a link is an error.
func WithSymlinks() Option { return func(o *options) { o.symlinks = true } }

// Extract unpacks every entry of r under dest, creating dest if needed.
func Extract(r io.Reader, dest string, opts ...Option) error {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	root, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := clean(hdr.Name)
		if err != nil {
			return err
		}
		if rel == "." {
			continue
		}
		target := filepath.Join(root, rel)
		if err := noLinkOnTheWay(root, rel); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := mkdirs(root, rel); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := mkdirs(root, filepath.Dir(rel)); err != nil {
				return err
			}
			if err := writeFile(tr, target, hdr.FileInfo().Mode()); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if !o.symlinks {
				return fmt.Errorf("entry %q is a symbolic link", hdr.Name)
			}
			if err := linkInside(rel, hdr.Linkname); err != nil {
				return fmt.Errorf("entry %q: %v", hdr.Name, err)
			}
			if err := mkdirs(root, filepath.Dir(rel)); err != nil {
				return err
			}
			if err := replace(target); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader:
		default:
			return fmt.Errorf("entry %q: %s entries are not accepted", hdr.Name, kind(hdr.Typeflag))
		}
	}
}

// File writes the regular file called name in r to dest.
func File(r io.Reader, name, dest string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("no file %s", name)
		}
		if err != nil {
			return err
		}
		if hdr.Name != name || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := replace(dest); err != nil {
			return err
		}
		return writeFile(tr, dest, hdr.FileInfo().Mode())
	}
}

// clean makes an entry name a relative path inside the root, or refuses it.
func clean(name string) (string, error) {
	n := filepath.FromSlash(name)
	if filepath.IsAbs(n) || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("entry %q has an absolute path", name)
	}
	for _, part := range strings.Split(filepath.ToSlash(n), "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q climbs out of its folder", name)
		}
	}
	return filepath.Clean(n), nil
}

// noLinkOnTheWay refuses a path whose parent folders include a symbolic
// link: the entry would be written wherever the link points.
func noLinkOnTheWay(root, rel string) error {
	dir := root
	parts := strings.Split(filepath.Dir(rel), string(filepath.Separator))
	for _, p := range parts {
		if p == "." || p == "" {
			continue
		}
		dir = filepath.Join(dir, p)
		st, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("entry %q goes through the link %s", rel, p)
		}
		if !st.IsDir() {
			return fmt.Errorf("entry %q: %s is not a folder", rel, p)
		}
	}
	return nil
}

func mkdirs(root, rel string) error {
	if rel == "." {
		return nil
	}
	if err := noLinkOnTheWay(root, filepath.Join(rel, "x")); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(root, rel), 0o755)
}

// linkInside checks that a link at rel pointing at target resolves inside
// the root, judged by its text (links are not followed to check).
func linkInside(rel, target string) error {
	if target == "" || filepath.IsAbs(target) || strings.HasPrefix(target, "/") {
		return fmt.Errorf("link to %q points outside its folder", target)
	}
	resolved := filepath.Clean(filepath.Join(filepath.Dir(rel), filepath.FromSlash(target)))
	if resolved == ".." || strings.HasPrefix(resolved, ".."+string(filepath.Separator)) {
		return fmt.Errorf("link to %q points outside its folder", target)
	}
	return nil
}

// replace removes what stands at path unless it is a folder, so a new
// entry never writes through an earlier link of the same name.
func replace(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	return os.Remove(path)
}

func writeFile(r io.Reader, dest string, mode fs.FileMode) error {
	perm := mode.Perm()
	if perm == 0 {
		perm = 0o644
	}
	if err := replace(dest); err != nil {
		return err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The umask may have taken bits the entry asked for; setuid, setgid
	// and sticky are never kept.
	return os.Chmod(dest, perm)
}

func kind(t byte) string {
	switch t {
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return fmt.Sprintf("type %q", t)
}
