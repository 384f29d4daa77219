package podruntime

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair"
	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/keychain"
)

// Image builds the runtime image from the source embedded in this fair
// (onto the static base, into cfg's registry) and returns it by digest.
// Unchanged source builds nothing and pushes nothing new.
func Image(ctx context.Context, cfg *config.Config, o build.Options) (string, error) {
	return Program(ctx, cfg, "fair-step", o)
}

// Program builds another program of fair's embedded source (cmd/NAME:
// fair-onnx, the stock ONNX server) as Image does.
func Program(ctx context.Context, cfg *config.Config, name string, o build.Options) (string, error) {
	root, err := source()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(root), name)
	c := *cfg
	c.Base, c.Cmd, c.Dockerfile, c.Repo, c.Tag = "static", "", "", "", ""
	o.Path, o.Source = dir, nil
	ref, err := build.Image(ctx, &c, o)
	if err != nil {
		return "", fmt.Errorf("fair's %s: %w", name, err)
	}
	return ref, nil
}

// Load builds the runtime image (or takes ref, when set) and reads it.
func Load(ctx context.Context, cfg *config.Config, ref string, o build.Options) (*Runtime, error) {
	if ref == "" {
		var err error
		if ref, err = Image(ctx, cfg, o); err != nil {
			return nil, err
		}
	}
	return New(ctx, ref, func(r string) bool { return Insecure(cfg, r) }, remote.WithAuthFromKeychain(keychain.Default))
}

// Insecure reports whether ref's registry is reached over plain HTTP: it
// is listed as insecure, or on loopback (which go-containerregistry
// reaches over HTTP by itself; from a pod, the same registry has another
// address, which must be named insecure).
func Insecure(cfg *config.Config, ref string) bool {
	host, _, _ := strings.Cut(ref, "/")
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" || net.ParseIP(h).IsLoopback() {
		return true
	}
	for _, h := range cfg.InsecureRegistries {
		if h == host {
			return true
		}
	}
	return false
}

// source writes the runtime's source (cmd/fair-step, as embedded in this
// binary) into the user cache and returns its package folder.
func source() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fair's pod runtime: %v", err)
	}
	dir := filepath.Join(cache, "fair", "step-runtime", fair.StepRuntimeHash())
	if err := fair.WriteStepRuntime(dir); err != nil {
		return "", fmt.Errorf("fair's pod runtime: write its source: %v", err)
	}
	return filepath.Join(dir, "cmd", "fair-step"), nil
}
