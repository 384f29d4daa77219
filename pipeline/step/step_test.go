package step_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/pipeline/step"
)

// TestDataFlowsThroughRegistry runs a producer and a consumer step the way
// two pods of a pipeline would: the producer's file and directory outputs
// are pushed, the consumer pulls them by the references the producer wrote
// to its parameter files and sees the same bytes.
func TestDataFlowsThroughRegistry(t *testing.T) {
	reg := testregistry.Start(t)
	repo := reg.Host + "/fair-artifacts"
	opts := artifact.Options{Insecure: true}
	ctx := context.Background()

	a := t.TempDir()
	var errA bytes.Buffer
	err := step.Run(ctx, step.Config{
		Repo: repo, Run: "diamond-x1", Step: "a", Dir: a, Artifact: opts,
		Outputs: []step.Output{{Name: "data"}, {Name: "model"}, {Name: "score", Value: true}},
		Command: []string{"sh", "-c", `echo 21 > "$FAIR_OUT_data" && mkdir -p "$FAIR_OUT_model/sub" && echo w > "$FAIR_OUT_model/sub/weights" && echo 0.93 > "$FAIR_OUT_score"`},
		Stdout:  os.Stdout, Stderr: &errA,
	})
	if err != nil {
		t.Fatalf("step a: %v\n%s", err, errA.String())
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dataRef := read(filepath.Join(a, "params", "data"))
	modelRef := read(filepath.Join(a, "params", "model"))
	if !strings.HasPrefix(dataRef, repo+"@sha256:") {
		t.Fatalf("data parameter %q is not a reference by digest in %s", dataRef, repo)
	}
	if got := read(filepath.Join(a, "params", "score")); got != "0.93" {
		t.Fatalf("value output score = %q, want 0.93", got)
	}

	b := t.TempDir()
	var out bytes.Buffer
	err = step.Run(ctx, step.Config{
		Repo: repo, Run: "diamond-x1", Step: "b", Dir: b, Artifact: opts,
		Inputs:  []step.Input{{Name: "data", Ref: dataRef}, {Name: "model", Ref: modelRef}, {Name: "score", Ref: "0.93", Value: true}},
		Outputs: []step.Output{{Name: "sum"}},
		Command: []string{"sh", "-c", `cat "$FAIR_IN_data" "$FAIR_IN_MODEL/sub/weights" "$FAIR_IN_score"; expr $(cat "$FAIR_IN_DATA") \* 2 > "$FAIR_OUT_SUM"`},
		Stdout:  &out, Stderr: os.Stderr,
	})
	if err != nil {
		t.Fatalf("step b: %v", err)
	}
	if got, want := out.String(), "21\nw\n0.93"; got != want {
		t.Fatalf("consumer saw %q, want %q", got, want)
	}
	sum := t.TempDir() + "/sum"
	if err := artifact.Pull(ctx, read(filepath.Join(b, "params", "sum")), sum, opts); err != nil {
		t.Fatal(err)
	}
	if got := read(sum); got != "42\n" {
		t.Fatalf("sum = %q, want 42", got)
	}
}

func TestFailingProgramPushesNothing(t *testing.T) {
	dir := t.TempDir()
	err := step.Run(context.Background(), step.Config{
		Repo: "127.0.0.1:1/none", Run: "r", Step: "s", Dir: dir,
		Outputs: []step.Output{{Name: "x"}},
		Command: []string{"sh", "-c", `echo partial > "$FAIR_OUT_x"; exit 3`},
		Stdout:  os.Stdout, Stderr: os.Stderr,
	})
	var ee *step.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "params", "x")); err == nil {
		t.Fatal("a failed step wrote an output parameter")
	}
}

func TestMissingOutputIsAClearError(t *testing.T) {
	err := step.Run(context.Background(), step.Config{
		Repo: "127.0.0.1:1/none", Run: "r", Step: "s", Dir: t.TempDir(),
		Outputs: []step.Output{{Name: "model"}},
		Command: []string{"true"},
	})
	if err == nil || !strings.Contains(err.Error(), "did not write $FAIR_OUT_MODEL") {
		t.Fatalf("err = %v", err)
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[[3]string]string{
		{"diamond-abc12", "train", "model"}:  "diamond-abc12.train.model",
		{"{{odd}}", "a", "b"}:                "odd-.a.b",
		{strings.Repeat("r", 200), "a", "b"}: strings.Repeat("r", 124) + ".a.b",
	} {
		if got := step.Tag(in[0], in[1], in[2]); got != want {
			t.Errorf("Tag%v = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkArtifact100MB pushes and pulls a 100 MB output through a local
// registry; MB/s is the transfer rate of one round trip (push + pull).
func BenchmarkArtifact100MB(b *testing.B) {
	reg := testregistry.Start(b)
	opts := artifact.Options{Insecure: true, TempDir: b.TempDir()}
	src := filepath.Join(b.TempDir(), "blob")
	data := make([]byte, 100<<20)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Fresh content each round: the registry must not already have it.
		b.StopTimer()
		data[0], data[1] = byte(i), byte(i>>8)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ref, err := artifact.Push(ctx, src, reg.Host+"/bench:run", opts)
		if err != nil {
			b.Fatal(err)
		}
		dest := filepath.Join(b.TempDir(), "out")
		if err := artifact.Pull(ctx, ref, dest, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// A value reaches the next step as one command-line argument (Linux allows
// 128 KiB for one): a value larger than MaxValue is refused, naming the
// artifact output to use instead; one of MaxValue passes.
func TestValueSizeLimit(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{{step.MaxValue, true}, {step.MaxValue + 1, false}} {
		dir := t.TempDir()
		t.Setenv("SIZE", strconv.Itoa(tc.size))
		err := step.Run(context.Background(), step.Config{
			Repo: "unused.example/x", Run: "r", Step: "s", Dir: dir,
			Outputs: []step.Output{{Name: "v", Value: true}},
			Command: []string{"sh", "-c", `head -c "$SIZE" /dev/zero | tr '\0' 'x' > "$FAIR_OUT_v"`},
			Stdout:  os.Stdout, Stderr: os.Stderr,
		})
		if tc.ok != (err == nil) || !tc.ok && !strings.Contains(err.Error(), "declare it as an artifact output") {
			t.Errorf("value of %d bytes: %v", tc.size, err)
		}
	}
}
