package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// GoSource is a Go main package, compiled with the go command for each
// platform (CGO off, -trimpath) and placed in the image as its entrypoint.
// The package's own go.mod and the user's GOFLAGS apply.
type GoSource struct {
	dir  string // package directory
	name string
	// Env is added to the go command's environment.
	Env []string
	// Label names the package in progress lines (default its folder).
	Label string
}

// BinDir is where Go binaries go in the image.
const BinDir = "/usr/local/bin"

// NewGo returns the source for the Go main package in dir.
func NewGo(dir string) (*GoSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if !IsGoMain(abs) {
		return nil, fmt.Errorf("%s is not a Go main package", dir)
	}
	return &GoSource{dir: abs, name: ImageName(filepath.Base(abs))}, nil
}

// IsGoMain reports whether dir holds a Go package named main.
func IsGoMain(dir string) bool {
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return false
		}
		// Build-constraint or multi-package errors: let the compiler speak.
		return pkg != nil && pkg.Name == "main"
	}
	return pkg.Name == "main"
}

// Name implements Source.
func (s *GoSource) Name() string { return s.name }

// Dir implements Describer.
func (s *GoSource) Dir() string { return s.dir }

// Build implements Source.
func (s *GoSource) Build(ctx context.Context, bc *Context, p v1.Platform) (v1.Image, error) {
	base, err := bc.Base(ctx, p)
	if err != nil {
		return nil, err
	}
	// The binary lives at a stable path in the cache: when nothing changed,
	// the go command sees the up-to-date target and skips the link, which
	// is most of a no-change rebuild.
	bin, err := bc.binPath(s.dir, s.name, p)
	if err != nil {
		return nil, err
	}
	label := s.Label
	if label == "" {
		label = s.dir
	}
	bc.Logf("compiling %s for %s", label, p.String())
	start := time.Now()
	if err := goBuild(ctx, s.dir, bin, p, s.Env); err != nil {
		return nil, err
	}
	if bc.Verbose() {
		bc.Logf("compiled %s in %.2fs", p.String(), time.Since(start).Seconds())
	}
	f, err := os.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	target := BinDir + "/" + s.name
	layer, err := bc.Layer(func(t *Tar) error { return t.File(target, 0o755, st.Size(), f) })
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: "",
		History:   v1.History{Created: v1.Time{Time: bc.Epoch()}, CreatedBy: "fair build " + s.name, Comment: "go build"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{target}
	cf.Config.Cmd = nil
	return mutate.ConfigFile(img, cf)
}

// CompileError is a Go package that did not compile; Output is what the
// compiler said.
type CompileError struct {
	Dir    string
	Output string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s does not compile:\n%s", e.Dir, strings.TrimRight(e.Output, "\n"))
}

func goBuild(ctx context.Context, dir, out string, p v1.Platform, extraEnv []string) error {
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), platformEnv(p)...)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &CompileError{Dir: dir, Output: stderr.String()}
		}
		return fmt.Errorf("running go build: %v", err)
	}
	return nil
}

func platformEnv(p v1.Platform) []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + p.OS, "GOARCH=" + p.Architecture}
	switch {
	case p.Architecture == "arm" && p.Variant != "":
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	case p.Architecture == "amd64" && p.Variant != "":
		env = append(env, "GOAMD64="+p.Variant)
	}
	return env
}

// ImageName makes a repository path component from a folder or file name.
func ImageName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '_' || r == '.':
			if b.Len() > 0 {
				b.WriteRune(r)
			}
		default:
			if b.Len() > 0 {
				b.WriteRune('-')
			}
		}
	}
	n := strings.TrimRight(b.String(), "-_.")
	if n == "" {
		n = "app"
	}
	return n
}
