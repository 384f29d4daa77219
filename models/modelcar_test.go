package models

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/pipeline/artifact"
)

func TestModelcarRepo(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5055/models/mlp":        "127.0.0.1:5055/modelcars/mlp",
		"ghcr.io/acme/ml/models/mlp":       "ghcr.io/acme/ml/modelcars/mlp",
		"ghcr.io/models/acme/models/mlp-2": "ghcr.io/models/acme/modelcars/mlp-2",
		"127.0.0.1:5055/elsewhere/weights": "127.0.0.1:5055/elsewhere/weights-modelcar",
	} {
		if got := ModelcarRepo(in); got != want {
			t.Errorf("ModelcarRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

// pushShell pushes an image standing for fair's modelcar shell: one file
// and an entrypoint.
func pushShell(t *testing.T, ref string) string {
	t.Helper()
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: tarLayer(t, map[string]string{"usr/local/bin/fair-modelcar": "#!shell"})})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{"/usr/local/bin/fair-modelcar"}
	cf.Config.Env = []string{"PATH=/usr/local/bin:/bin"}
	img, _ = mutate.ConfigFile(img, cf)
	tag, _ := name.NewTag(ref)
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return tag.Context().Digest(d.String()).String()
}

func tarLayer(t *testing.T, files map[string]string) v1.Layer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, body := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	return static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)
}

func TestModelcarImage(t *testing.T) {
	reg := testregistry.Start(t)
	ctx := context.Background()
	shell := pushShell(t, reg.Host+"/fair-modelcar:1")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("weights"), 0o644)
	os.MkdirAll(filepath.Join(dir, "tok"), 0o755)
	os.WriteFile(filepath.Join(dir, "tok", "vocab.txt"), []byte("a b c"), 0o644)
	os.Symlink("w.bin", filepath.Join(dir, "latest.bin"))
	repo := Repo(reg.Host, "mlp")
	mref, err := Save(ctx, dir, repo, []string{"run-1", "latest"}, Meta{Run: "run-1"}, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Get(ctx, mref, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, made, err := Modelcar(ctx, m, shell, artifact.Options{})
	if err != nil || !made {
		t.Fatalf("Modelcar: %v made=%v", err, made)
	}
	if !strings.HasPrefix(ref, reg.Host+"/modelcars/mlp@sha256:") {
		t.Errorf("modelcar %s, want it in %s/modelcars/mlp", ref, reg.Host)
	}
	r, _ := name.NewDigest(ref)
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	// What a container runtime checks: digests, sizes, diff IDs.
	if err := validate.Image(img, validate.Fast); err != nil {
		t.Fatalf("modelcar image is not valid: %v", err)
	}
	cf, _ := img.ConfigFile()
	ls, _ := img.Layers()
	if len(cf.RootFS.DiffIDs) != len(ls) || len(ls) != 3 {
		t.Fatalf("%d layers, %d diff IDs in the config, want 3 and 3", len(ls), len(cf.RootFS.DiffIDs))
	}
	for i, l := range ls {
		if d, _ := l.DiffID(); d != cf.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: diff ID %s, config says %s", i, d, cf.RootFS.DiffIDs[i])
		}
	}
	if cf.Config.Entrypoint != nil || cf.Config.Cmd != nil || cf.Config.Labels[AnnotationModel] != m.Ref {
		t.Errorf("config: entrypoint %q cmd %q labels %v", cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.Labels)
	}
	files := map[string]string{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b) + hdr.Linkname
	}
	for n, want := range map[string]string{
		"models/w.bin":                "weights",
		"models/tok/vocab.txt":        "a b c",
		"models/latest.bin":           "w.bin",
		"bin/sh":                      "/usr/local/bin/fair-modelcar",
		"usr/local/bin/fair-modelcar": "#!shell",
	} {
		if got, ok := files[n]; !ok || got != want {
			t.Errorf("%s: %q (present %v), want %q; files %v", n, got, ok, want, files)
		}
	}
	// The same model and shell again: found, nothing pushed.
	again, made, err := Modelcar(ctx, m, shell, artifact.Options{})
	if err != nil || made || again != ref {
		t.Errorf("second call: %s made=%v %v, want %s not made", again, made, err, ref)
	}
	// Another model: another image.
	os.WriteFile(filepath.Join(dir, "w.bin"), []byte("weights 2"), 0o644)
	mref2, _ := Save(ctx, dir, repo, []string{"run-2"}, Meta{Run: "run-2"}, artifact.Options{})
	m2, _ := Get(ctx, mref2, artifact.Options{})
	if other, made, err := Modelcar(ctx, m2, shell, artifact.Options{}); err != nil || !made || other == ref {
		t.Errorf("another model: %s made=%v %v", other, made, err)
	}
	// Modelcars are not listed as models.
	ms, err := List(ctx, reg.Host, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ms {
		if x.Name != "mlp" {
			t.Errorf("listed %s", x.Name)
		}
	}
}

func TestUnderDirRefusesEscapes(t *testing.T) {
	for _, n := range []string{"../evil", "a/../../evil", "/etc/passwd"} {
		var src, dst bytes.Buffer
		tw := tar.NewWriter(&src)
		tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644})
		tw.Close()
		if err := underDir(tar.NewWriter(&dst), &src, "models"); err == nil || !strings.Contains(err.Error(), "leaves its folder") {
			t.Errorf("%q: %v", n, err)
		}
	}
}

// A model named by the short digest fair prints is found among its tags;
// too short or unknown prefixes are errors.
func TestShortDigest(t *testing.T) {
	reg := testregistry.Start(t)
	ctx := context.Background()
	repo := Repo(reg.Host, "lin")
	var refs []string
	for i, run := range []string{"run-1", "run-2"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "w.bin"), []byte{byte(i)}, 0o644)
		ref, err := Save(ctx, dir, repo, []string{run}, Meta{Run: run}, artifact.Options{})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	_, full, _ := strings.Cut(refs[1], "@")
	m, err := Get(ctx, repo+"@"+full[:19], artifact.Options{})
	if err != nil || m.Run != "run-2" || "sha256:"+strings.TrimPrefix(full, "sha256:") != m.Digest {
		t.Fatalf("short digest: %+v %v", m, err)
	}
	for short, want := range map[string]string{full[:10]: "at least 6 digits", "sha256:000000": "no model"} {
		if _, err := Get(ctx, repo+"@"+short, artifact.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", short, err, want)
		}
	}
}
