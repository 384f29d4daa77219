package podruntime

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/pushretry"
	"github.com/fair-go/fair/keychain"
)

// ShellDir holds fair's shell (cmd/fair-sh) as "sh" in images WithShell
// made; it is the last folder on their PATH.
const ShellDir = "/fair/bin"

// defaultPath is the PATH of an image that sets none (the container
// runtimes' default).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// WithShell returns ref (read from its registry) with fair's shell added as
// ShellDir/sh and ShellDir appended to PATH, pushed by digest: Katib runs
// a sweep's trials through "sh -c", and images built onto fair's static
// base have no shell. An image's own sh, anywhere earlier on PATH, still
// wins. The result goes to ref's repository, or under cfg.Registry when
// ref is elsewhere (a public image fair may not push to).
func WithShell(ctx context.Context, cfg *config.Config, ref string, o build.Options) (string, error) {
	shellRef, err := Program(ctx, cfg, "fair-sh", o)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain.Default)}
	nopts := func(r string) []name.Option {
		if Insecure(cfg, r) {
			return []name.Option{name.Insecure}
		}
		return nil
	}
	read := func(r string) (v1.Image, name.Reference, error) {
		n, err := name.ParseReference(r, nopts(r)...)
		if err != nil {
			return nil, nil, err
		}
		img, err := remote.Image(n, append(opts, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))...)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %v", r, err)
		}
		return img, n, nil
	}
	shell, _, err := read(shellRef)
	if err != nil {
		return "", err
	}
	scf, err := shell.ConfigFile()
	if err != nil {
		return "", err
	}
	layers, err := shell.Layers()
	if err != nil || len(layers) == 0 || len(scf.Config.Entrypoint) != 1 {
		return "", fmt.Errorf("fair's shell image %s: want a top layer and one entrypoint", shellRef)
	}
	img, n, err := read(ref)
	if err != nil {
		return "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("read %s: %v", ref, err)
	}
	pathVar := defaultPath
	for _, e := range cf.Config.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathVar = v
		}
	}
	if strings.Contains(":"+pathVar+":", ":"+ShellDir+":") {
		return ref, nil // made by an earlier call
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	epoch := time.Unix(0, 0).UTC()
	dir := strings.TrimPrefix(ShellDir, "/")
	for _, d := range []string{path.Dir(dir) + "/", dir + "/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
			return "", err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: dir + "/sh", Linkname: scf.Config.Entrypoint[0], Mode: 0o777, ModTime: epoch}); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	out, err := mutate.Append(img,
		mutate.Addendum{Layer: layers[len(layers)-1], History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair: trial shell " + scf.Config.Entrypoint[0]}},
		mutate.Addendum{Layer: static.NewLayer(b.Bytes(), types.OCIUncompressedLayer), History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair: trial shell", Comment: ShellDir + "/sh"}},
	)
	if err != nil {
		return "", err
	}
	if cf, err = out.ConfigFile(); err != nil {
		return "", err
	}
	cf = cf.DeepCopy()
	env := []string{"PATH=" + pathVar + ":" + ShellDir}
	for _, e := range cf.Config.Env {
		if !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	cf.Config.Env = env
	if out, err = mutate.ConfigFile(out, cf); err != nil {
		return "", err
	}
	repo := n.Context().String()
	if cfg.Registry != "" && !strings.HasPrefix(repo, strings.TrimSuffix(cfg.Registry, "/")+"/") {
		repo = strings.TrimSuffix(cfg.Registry, "/") + "/" + path.Base(n.Context().RepositoryStr())
	}
	dst, err := name.NewRepository(repo, nopts(repo)...)
	if err != nil {
		return "", err
	}
	d, err := out.Digest()
	if err != nil {
		return "", err
	}
	target := dst.Digest(d.String())
	if err := pushretry.Do(ctx, func() error { return remote.Write(target, out, opts...) }); err != nil {
		return "", fmt.Errorf("push %s: %v", target, err)
	}
	return target.String(), nil
}
