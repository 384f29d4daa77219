package builder

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/fair-go/fair/builder/ignore"
)

// DirSource is a directory of any code appended as one layer under a
// working directory on top of the base image, with a command: Fairing's
// "append" build, for Python or anything else a framework base image runs.
type DirSource struct {
	dir     string
	workdir string
	cmd     []string
	name    string
	warn    sync.Once // one warning for all platforms
}

// NewDir returns the source for dir, placed at workdir in the image and
// run with cmd (empty keeps the base image's command).
func NewDir(dir, workdir string, cmd []string) (*DirSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if workdir == "" {
		workdir = "/app"
	}
	if !path.IsAbs(workdir) {
		return nil, fmt.Errorf("--workdir %q must be an absolute path", workdir)
	}
	return &DirSource{dir: abs, workdir: path.Clean(workdir), cmd: cmd, name: ImageName(filepath.Base(abs))}, nil
}

// Name implements Source.
func (s *DirSource) Name() string { return s.name }

// Dir implements Describer.
func (s *DirSource) Dir() string { return s.dir }

// Build implements Source.
func (s *DirSource) Build(ctx context.Context, bc *Context, p v1.Platform) (v1.Image, error) {
	base, err := bc.Base(ctx, p)
	if err != nil {
		return nil, err
	}
	if bc.b.base.static() && len(s.cmd) > 0 {
		// A warning, not an error: the image may be built to be run with
		// another command, and its build is still right.
		s.warn.Do(func() {
			if why := staticCmdProblem(s.dir, s.workdir, s.cmd[0]); why != "" {
				bc.Logf("warning: the image will not start as built: %s; pass --base with an image that has it (a Python base: docs/bases.md)", why)
			}
		})
	}
	layer, err := DirLayer(bc, s.dir, s.workdir)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: bc.Epoch()}, CreatedBy: "fair build " + s.name, Comment: "append " + s.workdir},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.WorkingDir = s.workdir
	if len(s.cmd) > 0 {
		cf.Config.Cmd = s.cmd
	}
	return mutate.ConfigFile(img, cf)
}

// DirLayer makes a layer of dir's files (less those .fairignore and the
// secret defaults exclude) under target.
func DirLayer(bc *Context, dir, target string) (v1.Layer, error) {
	if why := ignore.SecretPath(dir); why != "" {
		return nil, fmt.Errorf("%s: fair does not ship it", why)
	}
	// A source that is a link to a folder ships the folder.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	m, err := ignore.Load(dir)
	if err != nil {
		return nil, err
	}
	var skipped, private []string
	layer, err := bc.Layer(func(t *Tar) error {
		if err := t.Dir(target, 0o755); err != nil {
			return err
		}
		return m.Walk(dir, func(rel string, d fs.DirEntry) error {
			name := path.Join(target, rel)
			full := filepath.Join(dir, filepath.FromSlash(rel))
			switch {
			case d.IsDir():
				return t.Dir(name, 0o755)
			case d.Type()&fs.ModeSymlink != 0:
				dest, err := os.Readlink(full)
				if err != nil {
					return err
				}
				return t.Symlink(name, dest)
			case d.Type().IsRegular():
				f, err := os.Open(full)
				if err != nil {
					return err
				}
				defer f.Close()
				st, err := f.Stat()
				if err != nil {
					return err
				}
				// Only the executable bit survives: the same checkout gives
				// the same layer whatever the umask. A file its owner keeps
				// to themselves (no read for group and others) stays so.
				mode := int64(0o644)
				if st.Mode()&0o111 != 0 {
					mode = 0o755
				}
				if st.Mode()&0o044 == 0 {
					mode &= 0o700
					private = append(private, rel)
				}
				return t.File(name, mode, st.Size(), f)
			default:
				return nil // sockets, devices and pipes have no place in an image
			}
		}, func(rel string) { skipped = append(skipped, rel) })
	})
	if err != nil {
		return nil, err
	}
	if len(private) > 0 {
		bc.Logf("warning: %d files readable by their owner only are shipped so (root in the image; a non-root user cannot read them), e.g. %s: exclude them with .fairignore, or make them readable", len(private), private[0])
	}
	if len(skipped) > 0 {
		if bc.Verbose() {
			for _, s := range skipped {
				bc.Logf("excluded %s", s)
			}
		} else {
			bc.Logf("excluded %d paths (.fairignore and secret defaults; -v lists them)", len(skipped))
		}
	}
	return layer, nil
}

// staticPath is the static base's PATH: it holds no programs of its own.
var staticPath = []string{"/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"}

// staticCmdProblem says why program, run on the static base (which has no
// programs: no shell, no python) with dir's files at workdir, cannot start;
// "" when the folder has it, and its script interpreter if it has one.
func staticCmdProblem(dir, workdir, program string) string {
	find := func(p string) (string, bool) { // p: an absolute path in the image
		rel, ok := strings.CutPrefix(path.Clean(p), strings.TrimSuffix(workdir, "/")+"/")
		if !ok {
			return "", false
		}
		local := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(local)
		return local, err == nil && st.Mode().IsRegular()
	}
	var local string
	switch {
	case path.IsAbs(program):
		l, ok := find(program)
		if !ok {
			return fmt.Sprintf("the command %s is not in the image (the static base has no programs; the source folder is at %s)", program, workdir)
		}
		local = l
	case strings.Contains(program, "/"):
		l, ok := find(path.Join(workdir, program))
		if !ok {
			return fmt.Sprintf("the command %s is not in the source folder", program)
		}
		local = l
	default:
		for _, d := range staticPath {
			if l, ok := find(path.Join(d, program)); ok {
				local = l
				break
			}
		}
		if local == "" {
			return fmt.Sprintf("the static base has no programs, so no %q to run (only the source folder's files, at %s, are in the image)", program, workdir)
		}
	}
	// A script runs only if its interpreter is there too.
	if interp := shebang(local); interp != "" && path.IsAbs(interp) {
		if _, ok := find(interp); !ok {
			return fmt.Sprintf("%s is a script for %s, which the static base does not have", program, interp)
		}
	}
	return ""
}

// shebang is the interpreter named on a script's "#!" line.
func shebang(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return ""
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
