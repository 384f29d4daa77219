package cli

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/internal/testbuildkit"
	"github.com/fair-go/fair/test/testbed"
)

// podRegistry is the test bed's registry as pods (and a daemon in a pod)
// reach it.
const podRegistry = "198.18.0.1:5055"

// A Dockerfile with a RUN step built by a BuildKit daemon running as a pod
// of the test bed (fair buildkit up, --buildkit kube-pod://...): the image
// comes back through the port-forward and fair pushes it; after fair
// buildkit down a build says how to start one again.
func TestTestbedBuildKitInCluster(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 6*time.Minute)
	cfg := bedConfig(t, bed)

	// The daemon's image: buildkitd and runc, both static, onto fair's
	// static base (the test bed cannot pull moby/buildkit).
	bk, err := testbuildkit.Find()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{bk: "buildkitd", filepath.Join(filepath.Dir(bk), "runc-static"): "runc"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("%v (hack/deps.sh builds it)", err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img, errOut, err := runFair(ctx, cfg, "build", dir, "--cmd", "buildkitd", "--user", "0", "--repo", bed.Registry+"/fair-test/buildkitd")
	if err != nil {
		t.Fatalf("build the daemon's image: %v\n%s", err, errOut)
	}
	out, errOut, err := runFair(ctx, cfg, "buildkit", "up", "--image", strings.TrimSpace(img.String()), "--insecure-registry", podRegistry)
	if err != nil || strings.TrimSpace(out.String()) != "kube-pod://fair-buildkitd?namespace="+bed.Namespace {
		t.Fatalf("buildkit up: %v\n%s\n%s", err, out, errOut)
	}

	// up again on a running daemon: updated in place, ready again.
	out, errOut, err = runFair(ctx, cfg, "buildkit", "up", "--image", strings.TrimSpace(img.String()), "--insecure-registry", podRegistry)
	if err != nil || !strings.Contains(errOut.String(), "BuildKit ready in pod") {
		t.Fatalf("buildkit up again: %v\n%s\n%s", err, out, errOut)
	}

	// A base with a shell, addressed as the daemon's pod reaches it.
	shell := t.TempDir()
	os.MkdirAll(filepath.Join(shell, "bin"), 0o755)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("static busybox needed for a RUN step (apt-get install busybox-static): %v", err)
	}
	os.WriteFile(filepath.Join(shell, "bin", "busybox"), bb, 0o755)
	os.Symlink("busybox", filepath.Join(shell, "bin", "sh"))
	base, errOut, err := runFair(ctx, cfg, "build", shell, "--workdir", "/", "--cmd", "sh", "--repo", bed.Registry+"/fair-test/shell")
	if err != nil {
		t.Fatalf("shell base: %v\n%s", err, errOut)
	}
	from := strings.Replace(strings.TrimSpace(base.String()), bed.Registry, podRegistry, 1)

	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "Dockerfile"), []byte("FROM "+from+"\nUSER 0\nRUN echo built-in-the-cluster > /built.txt\nCMD [\"sh\"]\n"), 0o644)
	addr := "kube-pod://fair-buildkitd?namespace=" + bed.Namespace
	ref, errOut, err := runFair(ctx, cfg, "build", proj, "--dockerfile", "Dockerfile", "--buildkit", addr, "--repo", bed.Registry+"/fair-test/incluster")
	if err != nil {
		t.Fatalf("build through the daemon in the cluster: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "building through BuildKit at "+addr) {
		t.Errorf("progress:\n%s", errOut)
	}
	r, err := name.ParseReference(strings.TrimSpace(ref.String()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(mutate.Extract(im))
	found := ""
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if strings.TrimPrefix(h.Name, "/") == "built.txt" {
			b, _ := io.ReadAll(tr)
			found = string(b)
		}
	}
	if found != "built-in-the-cluster\n" {
		t.Fatalf("/built.txt in %s: %q", ref, found)
	}

	// An address with no name, and one naming no daemon: one line each.
	for bad, want := range map[string]string{"kube-pod://": "want kube-pod://NAME", "kube-pod://nothing-here": "no ready BuildKit pod nothing-here"} {
		_, _, err := runFair(ctx, cfg, "build", proj, "--dockerfile", "Dockerfile", "--buildkit", bad)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("--buildkit %s: %v", bad, err)
		}
	}

	out, _, err = runFair(ctx, cfg, "buildkit", "down")
	if err != nil || !strings.Contains(out.String(), "deployment/fair-buildkitd deleted") {
		t.Fatalf("buildkit down: %v\n%s", err, out)
	}
	_, _, err = runFair(ctx, cfg, "build", proj, "--dockerfile", "Dockerfile", "--buildkit", addr, "--repo", bed.Registry+"/fair-test/incluster")
	if err == nil || !strings.Contains(err.Error(), "start one with: fair buildkit up") {
		// The pod may still be terminating: it is not ready either way.
		t.Errorf("build after down: %v", err)
	}
}
