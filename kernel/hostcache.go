package kernel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The first kernel of a notebook folder used to link its host program
// (1.2-1.8 s on two cores) while its first cell compiled. Every work
// folder writes the same module (go.mod, the cell runtime, the host's
// source) until %go get adds to it, and the host and the cells are built
// with -trimpath, so a host linked in one work folder is, byte for byte,
// the one another would link. The shared folder keeps one linked host per
// module, and a new work folder starts with a copy of it. go build still
// decides: it compares the copy's build ID with what it would build and
// links again when anything differs (a module added, another toolchain),
// so a wrong copy costs a link, never a wrong host. The export files go
// list found are kept the same way (exports.json): they name files in the
// Go build cache, which every work folder shares.

// Prepare links the host of a new notebook module and lists the export
// files of what every cell imports, and keeps both in the shared folder:
// the first kernel on the machine then starts as any later one does
// instead of linking (fair kernel install runs it).
func Prepare(ctx context.Context, shared string) error {
	tmp, err := os.MkdirTemp("", "fair-kernel-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e, err := NewExecutor(tmp, WithSharedDir(shared), WithCellDir(tmp))
	if err != nil {
		return err
	}
	if _, err := e.linkHost(ctx); err != nil {
		return err
	}
	e.direct.prefetch(ctx, e, nbPackage, "fmt")
	return ctx.Err()
}

// moduleCache is one module's folder in the shared folder ("": none).
type moduleCache string

// moduleCache returns the shared folder of the work folder's module as it
// is now: its go.mod and go.sum.
func (e *Executor) moduleCache() moduleCache {
	if e.shared == "" {
		return ""
	}
	mod, err := os.ReadFile(filepath.Join(e.dir, "go.mod"))
	if err != nil {
		return ""
	}
	sum, err := os.ReadFile(filepath.Join(e.dir, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	h := sha256.New()
	h.Write(mod)
	h.Write([]byte{0})
	h.Write(sum)
	return moduleCache(filepath.Join(e.shared, "modules", hex.EncodeToString(h.Sum(nil))[:24]))
}

// host is the kept host linked with ldflags.
func (c moduleCache) host(ldflags string) string {
	if c == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(ldflags))
	return filepath.Join(string(c), "host-"+hex.EncodeToString(sum[:6]))
}

// exports is the kept exports.json.
func (c moduleCache) exports() string {
	if c == "" {
		return ""
	}
	return filepath.Join(string(c), "exports.json")
}

// seedFile copies kept into file when the work folder has none of its
// own, and returns the copy (nil: no copy).
func seedFile(kept, file string, mode fs.FileMode) fs.FileInfo {
	if kept == "" {
		return nil
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		return nil // its own: go build (or the exports' key) says if it still fits
	}
	b, err := os.ReadFile(kept)
	if err != nil || writeIfChanged(file, b, mode) != nil {
		return nil
	}
	now := time.Now()
	_ = os.Chtimes(filepath.Dir(kept), now, now) // used: the last to be pruned
	fi, err := os.Stat(file)
	if err != nil {
		return nil
	}
	return fi
}

// seedHost seeds the host from kept when kept is a Go program: go build
// replaces a Go program that does not fit, but refuses to overwrite
// anything else ("not an object file").
func seedHost(kept, bin string) fs.FileInfo {
	if kept == "" {
		return nil
	}
	if _, err := buildinfo.ReadFile(kept); err != nil {
		return nil
	}
	return seedFile(kept, bin, 0o755)
}

// untouched reports whether file is still the copy a seed made: go build
// found it up to date and left it (it only touches its time); a link
// writes a new file in its place.
func untouched(file string, seeded fs.FileInfo) bool {
	fi, err := os.Stat(file)
	return seeded != nil && err == nil && os.SameFile(fi, seeded)
}

// keepFile stores file as kept for the next work folder, unless it is there.
func keepFile(kept, file string, mode fs.FileMode) {
	if kept == "" {
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	_ = writeIfChanged(kept, b, mode)
}

// writeIfChanged writes b to file unless it holds b already, through a
// temporary file and a rename: kernels of other folders may read it at
// the same moment.
func writeIfChanged(file string, b []byte, mode fs.FileMode) error {
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// orDir is dir unless it is "", then def.
func orDir(dir, def string) string {
	if dir == "" {
		return def
	}
	return dir
}

// keptModules bounds the modules the shared folder keeps a host for (5-8
// MB each): the least recently used go first.
const keptModules = 16

// prune removes the least recently used modules beyond keptModules.
func (c moduleCache) prune() {
	if c == "" {
		return
	}
	root := filepath.Dir(string(c))
	ents, err := os.ReadDir(root)
	if err != nil || len(ents) <= keptModules {
		return
	}
	type used struct {
		dir string
		at  time.Time
	}
	var mods []used
	for _, ent := range ents {
		if fi, err := ent.Info(); err == nil && ent.IsDir() {
			mods = append(mods, used{filepath.Join(root, ent.Name()), fi.ModTime()})
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].at.After(mods[j].at) })
	for _, m := range mods[min(keptModules, len(mods)):] {
		if m.dir != string(c) {
			_ = os.RemoveAll(m.dir)
		}
	}
}
