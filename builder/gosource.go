package builder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/fair-go/fair"
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
	err = goBuild(ctx, s.dir, bin, p, s.Env)
	if needsSDK(err) {
		// The program imports fair's runtime (serving, kernel/display) from
		// a module that does not require fair: build it against the copy
		// inside this fair binary, as the notebook kernel does, through a
		// go.mod of fair's own; the user's go.mod is left as it is.
		modfile, merr := sdkModfile(ctx, filepath.Join(bc.b.layers.dir, "sdk"), s.dir, s.Env)
		if merr != nil {
			return nil, fmt.Errorf("%v\n(%v)", err, merr)
		}
		bc.Logf("your go.mod does not require %s: building against the %s packages inside fair", fairModule, fairModule)
		// -mod=mod: the copy, not the user's go.mod, takes what the go
		// command must add (a newer go line for fair's, a missing sum).
		err = goBuild(ctx, s.dir, bin, p, s.Env, "-mod=mod", "-modfile="+modfile)
	}
	if err != nil {
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

// fairModule is the path of fair's module, whose runtime packages a
// program may import (serving, kernel/display).
const fairModule = "github.com/fair-go/fair"

// needsSDK reports whether err is the go command saying that the module
// does not provide a package of fair's: it does not require fair
// (-mod=readonly), or could not fetch it (-mod=mod).
func needsSDK(err error) bool {
	var ce *CompileError
	if !errors.As(err, &ce) {
		return false
	}
	for _, m := range []string{"no required module provides package " + fairModule + "/", "cannot find module providing package " + fairModule + "/", ": module " + fairModule + ": "} {
		if strings.Contains(ce.Output, m) {
			return true
		}
	}
	return false
}

// sdkModfile writes fair's runtime packages under cache and, beside them, a
// copy of dir's go.mod (and go.sum) that requires fair and replaces it with
// that copy; it returns the copy's path for go build -modfile.
func sdkModfile(ctx context.Context, cache, dir string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, goCommand(), "env", "GOMOD")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%s is not in a Go module: go mod init, then build again", dir)
	}
	mod, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sdk := filepath.Join(cache, fair.SDKHash())
	if err := fair.WriteSDK(sdk); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(gomod))
	mf := filepath.Join(cache, "modfiles", hex.EncodeToString(sum[:8]), "go.mod")
	if err := os.MkdirAll(filepath.Dir(mf), 0o755); err != nil {
		return "", err
	}
	mod = fmt.Appendf(mod, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", fairModule, fairModule, sdk)
	if err := writeIfChanged(mf, mod); err != nil {
		return "", err
	}
	gosum, err := os.ReadFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return mf, writeIfChanged(strings.TrimSuffix(mf, ".mod")+".sum", gosum)
}

// writeIfChanged keeps a file's time when its content is the same, so the
// go command's cache sees nothing new.
func writeIfChanged(p string, b []byte) error {
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return os.WriteFile(p, b, 0o644)
}

func goCommand() string {
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

func goBuild(ctx context.Context, dir, out string, p v1.Platform, extraEnv []string, flags ...string) error {
	args := append([]string{"build", "-trimpath", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, goCommand(), append(args, ".")...)
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
