package builder_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/internal/testbuildkit"
	"github.com/fair-go/fair/internal/testregistry"
)

// shellBase pushes a base image with a shell (Debian's static busybox) made
// by fair itself, since no public image can be pulled here.
func shellBase(t *testing.T, reg string) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("static busybox needed for a RUN step (apt-get install busybox-static): %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"sh", "echo", "cat", "ls"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", app)); err != nil {
			t.Fatal(err)
		}
	}
	src, err := builder.NewDir(dir, "/", []string{"sh"})
	if err != nil {
		t.Fatal(err)
	}
	res := publish(t, build(t, src), reg+"/shell", "1")
	return res.Ref
}

func TestDockerfileWithBuildKit(t *testing.T) {
	reg := testregistry.Start(t)
	addr := testbuildkit.Start(t, reg.Host)
	base := shellBase(t, reg.Host)

	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.txt"), "application file\n")
	write(t, filepath.Join(dir, ".env"), "TOKEN=secret\n")
	write(t, filepath.Join(dir, "id_rsa"), "private key\n")
	write(t, filepath.Join(dir, "Dockerfile"), "FROM "+base+"\nUSER root\nRUN echo built-by-buildkit > /hello.txt\nCOPY . /ctx/\nCMD [\"cat\", \"/hello.txt\"]\n")

	src, err := builder.NewDockerfile(dir, "Dockerfile", addr)
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	b, err := builder.New(builder.WithCacheDir(t.TempDir()), builder.WithProgress(&progress, false))
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.Build(context.Background(), src)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "RUN echo built-by-buildkit") {
		t.Errorf("BuildKit progress was not streamed:\n%s", progress.String())
	}
	res := publish(t, a, reg.Host+"/svc", "latest")
	img, err := remote.Image(mustRef(t, res.Ref))
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := mustLayerFile(t, img, "hello.txt")
	if string(hello) != "built-by-buildkit\n" {
		t.Fatalf("RUN output = %q", hello)
	}
	fs := files(t, img)
	if fs["ctx/app.txt"] == nil {
		t.Error("COPY of the context is missing app.txt")
	}
	for _, secret := range []string{"ctx/.env", "ctx/id_rsa"} {
		if fs[secret] != nil {
			t.Errorf("%s reached the image through the build context", secret)
		}
	}
	cf, _ := img.ConfigFile()
	if strings.Join(cf.Config.Cmd, " ") != "cat /hello.txt" {
		t.Errorf("cmd = %q", cf.Config.Cmd)
	}
}

func TestDockerfileUnreachableBuildKit(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	src, err := builder.NewDockerfile(dir, "Dockerfile", "unix://"+filepath.Join(dir, "missing.sock"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := builder.New(builder.WithCacheDir(t.TempDir()))
	_, err = b.Build(context.Background(), src)
	if err == nil || !strings.Contains(err.Error(), "cannot reach BuildKit") {
		t.Fatalf("want a clear BuildKit error, got %v", err)
	}
}
