package debian

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// Builds from the Debian archive this machine's apt sources name (the
// packages are cached by SHA-256 after the first run). FAIR_DEBIAN=off
// skips, where no archive is reachable.
func realBuild(t *testing.T, pkgs ...string) *Result {
	t.Helper()
	if os.Getenv("FAIR_DEBIAN") == "off" {
		t.Skip("FAIR_DEBIAN=off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Build(ctx, Options{Packages: pkgs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Close() })
	return res
}

func TestBuildIsReproducibleAndClean(t *testing.T) {
	a := realBuild(t, "python3-minimal")
	b := realBuild(t, "python3-minimal")
	da, _ := a.Image.Digest()
	db, _ := b.Image.Digest()
	if da != db {
		t.Fatalf("two builds of the same packages: %s and %s", da, db)
	}
	layers, err := a.Image.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v %d", err, len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]bool{}
	var sbom []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = true
		if h.Uid != 0 && h.Uid != NonrootUID || h.Gid != 0 && h.Gid != NonrootUID {
			t.Errorf("%s owned by %d:%d", h.Name, h.Uid, h.Gid)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s has time %v", h.Name, h.ModTime)
		}
		if strings.HasPrefix(h.Name, "var/lib/apt/lists") || strings.HasPrefix(h.Name, "var/cache/apt") || strings.HasPrefix(h.Name, "usr/share/man/") {
			t.Errorf("%s is in the image", h.Name)
		}
		if h.Name == SBOMPath {
			sbom, _ = io.ReadAll(tr)
		}
	}
	for _, want := range []string{"usr/bin/python3", "usr/bin/python3.11", "etc/passwd", "tmp/", "home/nonroot/", "lib64/ld-linux-x86-64.so.2"} {
		if !seen[want] {
			t.Errorf("no %s in the image", want)
		}
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name, VersionInfo string
		}
	}
	if err := json.Unmarshal(sbom, &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("SBOM: %v\n%s", err, sbom)
	}
	found := false
	for _, p := range doc.Packages {
		found = found || p.Name == "python3.11-minimal" && p.VersionInfo != ""
	}
	if !found || len(doc.Packages) != len(a.Packages) {
		t.Errorf("SBOM lists %d packages, python3.11-minimal %v", len(doc.Packages), found)
	}
	cf, _ := a.Image.ConfigFile()
	if cf.Config.User != "65532" || cf.Architecture != "amd64" {
		t.Errorf("config: user %q arch %q", cf.Config.User, cf.Architecture)
	}
}

func TestBuildErrors(t *testing.T) {
	if os.Getenv("FAIR_DEBIAN") == "off" {
		t.Skip("FAIR_DEBIAN=off")
	}
	ctx := context.Background()
	_, err := Build(ctx, Options{Packages: []string{"python3-minimal", "no-such-package-xyz"}, Cache: t.TempDir()})
	if err == nil || err.Error() != "no package no-such-package-xyz in the apt sources" {
		t.Errorf("missing package: %v", err)
	}
	_, err = Build(ctx, Options{Packages: []string{"bash"}, Cache: t.TempDir(),
		Sources: []Source{{URI: "http://127.0.0.1:9/debian", Suite: "bookworm", Components: []string{"main"}}}})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the package source") || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable source: %v", err)
	}
}
