package artifact_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/pipeline/artifact"
)

func TestDirectoryRoundTrip(t *testing.T) {
	reg := testregistry.Start(t)
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "ckpt", "empty"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "ckpt", "weights.bin"), []byte("w"), 0o600))
	must(t, os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(t, os.Symlink("ckpt/weights.bin", filepath.Join(src, "latest")))
	ctx := context.Background()
	ref, err := artifact.Push(ctx, src, reg.Host+"/a:run.s.model", artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := artifact.Push(ctx, src, reg.Host+"/a:run2.s.model", artifact.Options{})
	if err != nil || strings.Split(again, "@")[1] != strings.Split(ref, "@")[1] {
		t.Errorf("same content, different digest: %s %s (%v)", ref, again, err)
	}
	dest := filepath.Join(t.TempDir(), "model")
	must(t, artifact.Pull(ctx, ref, dest, artifact.Options{}))
	if b, err := os.ReadFile(filepath.Join(dest, "latest")); err != nil || string(b) != "w" {
		t.Errorf("symlink: %q %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(dest, "run.sh")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("mode of run.sh: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(dest, "ckpt", "empty")); err != nil || !st.IsDir() {
		t.Errorf("empty dir lost: %v", err)
	}
}

// A hostile artifact must not write outside the input folder.
func TestPullRejectsEscapingEntries(t *testing.T) {
	reg := testregistry.Start(t)
	for _, hdrs := range [][]*tar.Header{
		{{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1}},
		{{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "../../etc/passwd"}},
		// Each link looks inside on its own; together they lead out.
		{
			{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "."},
			{Name: "a/b", Typeflag: tar.TypeSymlink, Linkname: ".."},
			{Name: "a/b/evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1},
		},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, hdr := range hdrs {
			must(t, tw.WriteHeader(hdr))
			if hdr.Size > 0 {
				_, _ = tw.Write([]byte("x"))
			}
		}
		must(t, tw.Close())
		hdr := hdrs[len(hdrs)-1]
		img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)})
		must(t, err)
		tag, err := name.NewTag(reg.Host + "/evil:x")
		must(t, err)
		must(t, remote.Write(tag, img))
		parent := t.TempDir()
		err = artifact.Pull(context.Background(), tag.String(), filepath.Join(parent, "in"), artifact.Options{})
		if err == nil || !strings.Contains(err.Error(), "outside") && !strings.Contains(err.Error(), "climbs out") && !strings.Contains(err.Error(), "goes through the link") {
			t.Errorf("%s: err = %v", hdr.Name, err)
		}
		if _, err := os.Lstat(filepath.Join(parent, "evil")); err == nil {
			t.Errorf("%s: wrote outside the input folder", hdr.Name)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Steps of one pipeline run side by side and often write the same bytes
// (two branches of a diamond computing the same value): concurrent pushes of
// identical blobs to one repository must all land.
func TestConcurrentIdenticalPushes(t *testing.T) {
	reg := testregistry.Start(t)
	ctx := context.Background()
	const rounds, workers = 10, 6
	for r := 0; r < rounds; r++ {
		src := filepath.Join(t.TempDir(), "result")
		must(t, os.WriteFile(src, []byte(fmt.Sprintf("%d\n", 42+r)), 0o644))
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			go func(w int) {
				_, err := artifact.Push(ctx, src, fmt.Sprintf("%s/artifacts:run%d.s%d.result", reg.Host, r, w), artifact.Options{})
				errs <- err
			}(w)
		}
		for w := 0; w < workers; w++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
	}
}
