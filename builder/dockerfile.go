package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	bk "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"

	"github.com/fair-go/fair/builder/ignore"
	"github.com/fair-go/fair/internal/untar"
)

// DockerfileSource is a directory built from a Dockerfile by a BuildKit
// daemon. The result comes back as an OCI layout and is published like any
// other image, so registry behaviour (skipped blobs, tags last) is the same.
type DockerfileSource struct {
	dir, dockerfile, addr, name string
}

// NewDockerfile returns the source for the Dockerfile (relative to dir)
// built by the BuildKit daemon at addr.
func NewDockerfile(dir, dockerfile, addr string) (*DockerfileSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	df := dockerfile
	if !filepath.IsAbs(df) {
		df = filepath.Join(abs, df)
	}
	if _, err := os.Stat(df); err != nil {
		return nil, fmt.Errorf("dockerfile %s: %v", dockerfile, err)
	}
	if addr == "" {
		return nil, fmt.Errorf("a Dockerfile build needs a BuildKit daemon: pass --buildkit or set FAIR_BUILDKIT_ADDR")
	}
	return &DockerfileSource{dir: abs, dockerfile: df, addr: addr, name: ImageName(filepath.Base(abs))}, nil
}

// Name implements Source.
func (s *DockerfileSource) Name() string { return s.name }

// Address is the BuildKit daemon the source builds with.
func (s *DockerfileSource) Address() string { return s.addr }

// SetAddress makes the source build with the daemon at addr (a port-forward
// to a daemon in the cluster, opened for one build).
func (s *DockerfileSource) SetAddress(addr string) { s.addr = addr }

// Dir implements Describer.
func (s *DockerfileSource) Dir() string { return s.dir }

// Build implements Source.
func (s *DockerfileSource) Build(ctx context.Context, bc *Context, p v1.Platform) (v1.Image, error) {
	c, err := bk.New(ctx, s.addr)
	if err != nil {
		return nil, fmt.Errorf("BuildKit at %s: %v", s.addr, err)
	}
	defer c.Close()
	if _, err := c.Info(ctx); err != nil {
		return nil, fmt.Errorf("cannot reach BuildKit at %s: %v", s.addr, shortErr(err))
	}

	// The same exclusions as every other source: .fairignore and the
	// secret defaults keep files out of the build context.
	patterns := append([]string{}, ignore.Defaults...)
	if f, err := os.Open(filepath.Join(s.dir, ignore.FileName)); err == nil {
		more, err := ignore.Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", ignore.FileName, err)
		}
		patterns = append(patterns, more...)
	}
	ctxFS, err := fsutil.NewFS(s.dir)
	if err != nil {
		return nil, err
	}
	ctxFS, err = fsutil.NewFilterFS(ctxFS, &fsutil.FilterOpt{ExcludePatterns: patterns})
	if err != nil {
		return nil, err
	}
	dfFS, err := fsutil.NewFS(filepath.Dir(s.dockerfile))
	if err != nil {
		return nil, err
	}

	tarPath := filepath.Join(bc.TempDir(), "buildkit-"+strings.ReplaceAll(p.String(), "/", "-")+".tar")
	dockerCfg := config.LoadDefaultConfigFile(io.Discard)
	opt := bk.SolveOpt{
		Frontend: "dockerfile.v0",
		FrontendAttrs: map[string]string{
			"filename": filepath.Base(s.dockerfile),
			"platform": p.String(),
		},
		LocalMounts: map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
		Session: []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(dockerCfg),
		})},
		Exports: []bk.ExportEntry{{
			Type:  bk.ExporterOCI,
			Attrs: map[string]string{"source-date-epoch": fmt.Sprint(bc.Epoch().Unix()), "rewrite-timestamp": "true"},
			Output: func(map[string]string) (io.WriteCloser, error) {
				return os.Create(tarPath)
			},
		}},
	}
	if opt.FrontendAttrs["build-arg:SOURCE_DATE_EPOCH"] == "" {
		opt.FrontendAttrs["build-arg:SOURCE_DATE_EPOCH"] = fmt.Sprint(bc.Epoch().Unix())
	}

	bc.Logf("building %s with BuildKit at %s for %s", s.dockerfile, s.addr, p.String())
	ch := make(chan *bk.SolveStatus)
	disp, err := progressui.NewDisplay(bc.b.log, progressui.PlainMode)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		_, err := disp.UpdateFrom(context.WithoutCancel(ctx), ch)
		done <- err
	}()
	_, solveErr := c.Solve(ctx, nil, opt, ch)
	<-done
	if solveErr != nil {
		return nil, fmt.Errorf("BuildKit build of %s failed: %v", s.dockerfile, shortErr(solveErr))
	}

	dir, err := bc.b.keepLayout(tarPath)
	if err != nil {
		return nil, fmt.Errorf("reading BuildKit output: %v", err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading BuildKit output: %v", err)
	}
	img, err := pickPlatform(idx, p, s.dockerfile)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// keepLayout unpacks an OCI layout tarball into the cache, in a folder
// named by the digest of its index, so its blobs outlive the build's
// temporary folder until they are published (and a repeat build finds them).
func (b *Builder) keepLayout(tarPath string) (string, error) {
	root := filepath.Join(b.layers.dir, "buildkit")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, "tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := untarLayout(tarPath, tmp); err != nil {
		return "", err
	}
	index, err := os.ReadFile(filepath.Join(tmp, "index.json"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(index)
	dir := filepath.Join(root, hex.EncodeToString(sum[:]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // another build won the race with the same content
		}
		return "", err
	}
	return dir, nil
}

// untarLayout unpacks an OCI layout tarball, refusing anything that would
// land outside dir.
func untarLayout(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return untar.Extract(f, dir)
}
