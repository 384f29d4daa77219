package untar

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, link, body string
	typ              byte
	mode             int64
}

func archive(t testing.TB, entries ...entry) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return b.Bytes()
}

// Nothing may be written outside the root, whatever the entries say.
func TestNothingEscapes(t *testing.T) {
	for name, entries := range map[string][]entry{
		// The chain from the review: a link to ".", a link through it to
		// "../..", then a file through that.
		"link chain": {
			{name: "a", link: ".", typ: tar.TypeSymlink},
			{name: "a/b", link: "../..", typ: tar.TypeSymlink},
			{name: "a/b/escaped", body: "x", typ: tar.TypeReg},
		},
		// The same with a link that looks inside when read as text.
		"link chain, lexically inside": {
			{name: "a", link: ".", typ: tar.TypeSymlink},
			{name: "a/b", link: "..", typ: tar.TypeSymlink},
			{name: "a/b/escaped", body: "x", typ: tar.TypeReg},
		},
		"dotdot name":   {{name: "../escaped", body: "x", typ: tar.TypeReg}},
		"dotdot inside": {{name: "d/../../escaped", body: "x", typ: tar.TypeReg}},
		"absolute name": {{name: "/tmp/escaped", body: "x", typ: tar.TypeReg}},
		"link out":      {{name: "out", link: "../", typ: tar.TypeSymlink}, {name: "out/escaped", body: "x", typ: tar.TypeReg}},
		"absolute link": {{name: "etc", link: "/etc", typ: tar.TypeSymlink}},
		"link to dir then through": {
			{name: "d/", typ: tar.TypeDir},
			{name: "l", link: "d", typ: tar.TypeSymlink},
			{name: "l/f", body: "x", typ: tar.TypeReg},
		},
		"hard link": {{name: "h", link: "/etc/passwd", typ: tar.TypeLink}},
		"device":    {{name: "dev", typ: tar.TypeChar}},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root", "in")
			err := Extract(bytes.NewReader(archive(t, entries...)), root, WithSymlinks())
			if err == nil {
				t.Errorf("accepted")
			}
			filepath.Walk(parent, func(p string, info os.FileInfo, err error) error {
				if err == nil && !strings.HasPrefix(p, root) && info.Mode().IsRegular() {
					t.Errorf("wrote %s outside the root", p)
				}
				return nil
			})
		})
	}
}

func TestExtract(t *testing.T) {
	root := t.TempDir()
	err := Extract(bytes.NewReader(archive(t,
		entry{name: "./", typ: tar.TypeDir},
		entry{name: "data/", typ: tar.TypeDir},
		entry{name: "data/a.txt", body: "a", typ: tar.TypeReg},
		entry{name: "data/run.sh", body: "#!/bin/sh", typ: tar.TypeReg, mode: 0o4755},
		entry{name: "deep/er/b.txt", body: "b", typ: tar.TypeReg},
		entry{name: "data/latest", link: "a.txt", typ: tar.TypeSymlink},
		entry{name: "up", link: "data/../deep", typ: tar.TypeSymlink},
		// A later entry of the same name replaces a link, never writes
		// through it.
		entry{name: "up", body: "file now", typ: tar.TypeReg},
	)), root, WithSymlinks())
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"data/a.txt": "a", "deep/er/b.txt": "b", "data/latest": "a", "up": "file now"} {
		if b, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	if st, _ := os.Stat(filepath.Join(root, "data/run.sh")); st.Mode().Perm() != 0o755 || st.Mode()&os.ModeSetuid != 0 {
		t.Errorf("run.sh mode %v, want 0755 without setuid", st.Mode())
	}
	if err := Extract(bytes.NewReader(archive(t, entry{name: "l", link: "x", typ: tar.TypeSymlink})), t.TempDir()); err == nil {
		t.Error("a link accepted without WithSymlinks")
	}
}

func TestFile(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out")
	data := archive(t, entry{name: "other", body: "no", typ: tar.TypeReg}, entry{name: "model.onnx", body: "yes", typ: tar.TypeReg})
	if err := File(bytes.NewReader(data), "model.onnx", dest); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "yes" {
		t.Errorf("got %q", b)
	}
	if err := File(bytes.NewReader(data), "missing", dest); err == nil || !strings.Contains(err.Error(), "no file missing") {
		t.Errorf("missing: %v", err)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(archive(f, entry{name: "a", link: ".", typ: tar.TypeSymlink}, entry{name: "a/b", link: "../..", typ: tar.TypeSymlink}, entry{name: "a/b/c", body: "x", typ: tar.TypeReg}))
	f.Add(archive(f, entry{name: "d/", typ: tar.TypeDir}, entry{name: "d/f", body: "x", typ: tar.TypeReg}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		_ = Extract(bytes.NewReader(data), root, WithSymlinks())
		filepath.Walk(parent, func(p string, info os.FileInfo, err error) error {
			if err == nil && p != parent && !strings.HasPrefix(p, root) {
				t.Fatalf("wrote %s outside the root", p)
			}
			return nil
		})
	})
}
