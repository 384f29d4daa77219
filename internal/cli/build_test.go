package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/internal/testregistry"
)

// run executes the fair command line with test streams, in dir, with the
// given environment on top of a clean FAIR_* environment.
func run(t *testing.T, dir string, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	for _, k := range []string{"FAIR_REGISTRY", "FAIR_REPO", "FAIR_BASE", "FAIR_PLATFORMS", "FAIR_BUILDKIT_ADDR", "FAIR_CMD"} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("FAIR_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	if dir != "" {
		t.Chdir(dir)
	}
	io, _, out, errOut := iostreams.Test()
	root := NewRoot(io)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func goModule(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "trainer")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/trainer\n\ngo 1.22\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(body), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var digestLine = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}\n$`)

func TestBuildPrintsOneDigestLine(t *testing.T) {
	reg := testregistry.Start(t)
	dir := goModule(t, "package main\n\nfunc main() { println(\"train\") }\n")
	out, errOut, err := run(t, "", map[string]string{"FAIR_REGISTRY": reg.Host + "/team"}, "build", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !digestLine.MatchString(out) || !strings.HasPrefix(out, reg.Host+"/team/trainer@sha256:") {
		t.Fatalf("stdout = %q, want one line REPO@sha256:...", out)
	}
	if !strings.Contains(errOut, "uploaded") {
		t.Errorf("no upload summary on stderr:\n%s", errOut)
	}
	// Rebuild: same line, and fair says it sent nothing.
	out2, errOut2, err := run(t, "", map[string]string{"FAIR_REGISTRY": reg.Host + "/team"}, "build", dir)
	if err != nil {
		t.Fatal(err)
	}
	if out2 != out || !strings.Contains(errOut2, "uploaded 0 bytes") {
		t.Fatalf("rebuild: %q / %s", out2, errOut2)
	}
}

func TestBuildFlagsBeatEnvAndFile(t *testing.T) {
	reg := testregistry.Start(t)
	dir := goModule(t, "package main\n\nfunc main() {}\n")
	// fair.yaml names one repo, FAIR_REPO another, the flag a third: the flag wins.
	must(t, os.WriteFile(filepath.Join(dir, "fair.yaml"), []byte("repo: "+reg.Host+"/from-file\ntag: v1\n"), 0o644))
	out, errOut, err := run(t, dir, map[string]string{"FAIR_REPO": reg.Host + "/from-env"}, "build", ".", "--repo", reg.Host+"/from-flag")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, reg.Host+"/from-flag@") {
		t.Fatalf("flag did not win: %q", out)
	}
	out, _, err = run(t, dir, map[string]string{"FAIR_REPO": reg.Host + "/from-env"}, "build", ".")
	if err != nil || !strings.HasPrefix(out, reg.Host+"/from-env@") {
		t.Fatalf("env did not beat fair.yaml: %q %v", out, err)
	}
	out, _, err = run(t, dir, nil, "build", ".")
	if err != nil || !strings.HasPrefix(out, reg.Host+"/from-file@") {
		t.Fatalf("fair.yaml not used: %q %v", out, err)
	}
}

func TestBuildErrors(t *testing.T) {
	reg := testregistry.Start(t)
	broken := goModule(t, "package main\n\nfunc main() { x := 1 }\n")
	notGo := t.TempDir()
	must(t, os.WriteFile(filepath.Join(notGo, "train.py"), []byte("print(1)\n"), 0o644))
	dockerfile := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dockerfile, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"compile error", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", broken}, "declared and not used: x"},
		{"no registry", nil, []string{"build", broken}, "no registry set"},
		{"not a Go package", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", notGo}, "pass --cmd"},
		{"missing source", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", "/nonexistent/src"}, "no such file"},
		{"dockerfile without buildkit", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", dockerfile}, "needs a BuildKit daemon"},
		{"unreachable registry", map[string]string{"FAIR_REGISTRY": "127.0.0.1:1"}, []string{"build", goModule(t, "package main\n\nfunc main() {}\n")}, "cannot reach registry 127.0.0.1:1"},
		{"bad platform", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", broken, "--platform", "amd64"}, "want OS/ARCH"},
		{"bad cmd", map[string]string{"FAIR_REGISTRY": reg.Host}, []string{"build", notGo, "--cmd", "python 'x"}, "unterminated quote"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := run(t, "", c.env, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
			if out != "" {
				t.Fatalf("stdout must stay empty on failure, got %q", out)
			}
		})
	}
	if n := reg.BlobUploads(); n != 0 {
		t.Fatalf("failed builds uploaded %d blobs", n)
	}
}

func TestBuildDirectoryAndTarball(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "train.py"), []byte("print(1)\n"), 0o644))
	tb := filepath.Join(t.TempDir(), "img.tar")
	out, errOut, err := run(t, "", nil, "build", dir, "--cmd", "python train.py", "--tarball", tb, "-v")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !digestLine.MatchString(out) {
		t.Fatalf("stdout %q", out)
	}
	if st, err := os.Stat(tb); err != nil || st.Size() == 0 {
		t.Fatalf("tarball not written: %v", err)
	}
	// The static base has no python: built, but said.
	if !strings.Contains(errOut, `warning: the image will not start as built: the static base has no programs, so no "python" to run`) {
		t.Errorf("no warning for python on the static base:\n%s", errOut)
	}
	// A program of the folder's own: no warning.
	must(t, os.WriteFile(filepath.Join(dir, "run"), []byte("\x7fELF"), 0o755))
	if _, errOut, err := run(t, "", nil, "build", dir, "--cmd", "./run", "--tarball", tb); err != nil || strings.Contains(errOut, "warning") {
		t.Errorf("./run: %v\n%s", err, errOut)
	}
}

func TestVersion(t *testing.T) {
	// Build the real binary: dependency versions come from its build info.
	bin := filepath.Join(t.TempDir(), "fair")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/fair-go/fair/cmd/fair").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fair ", "go go1.", "go-containerregistry v0."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

// fair build notebook.ipynb takes the build flags written on the
// notebook's %%kf line (here --platform), and only those (not --gpus).
func TestBuildNotebookTakesLineBuildFlags(t *testing.T) {
	dir := t.TempDir()
	nb := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "fair", "display_name": "Go", "language": "go"}},
	 "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": "x := 2"},
	           {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": "%%kf train --gpus 1 --platform linux/arm64\nprintln(x)"}]}`
	must(t, os.WriteFile(filepath.Join(dir, "n.ipynb"), []byte(nb), 0o644))
	layout := filepath.Join(t.TempDir(), "oci")
	_, errOut, err := run(t, dir, nil, "build", "n.ipynb", "--oci-layout", layout)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "using --platform=linux/arm64 from the %%kf train cell (cell 2)") || strings.Contains(errOut, "gpus") {
		t.Errorf("notebook flags note: %s", errOut)
	}
	if !strings.Contains(errOut, "for linux/arm64") {
		t.Errorf("not built for linux/arm64:\n%s", errOut)
	}
}

// A malformed fair.yaml stops the commands that use it, with its file,
// line and key; version and --version still answer.
func TestBrokenFairYAML(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fair.yaml"), []byte("registry: r\ngpus: many\n"), 0o644))
	if out, _, err := run(t, dir, nil, "version"); err != nil || !strings.Contains(out, "fair") {
		t.Errorf("version: %v %q", err, out)
	}
	if out, _, err := run(t, dir, nil, "--version"); err != nil || !strings.HasPrefix(out, "fair ") {
		t.Errorf("--version: %v %q", err, out)
	}
	_, _, err := run(t, dir, nil, "build", ".")
	if err == nil || !strings.Contains(err.Error(), "fair.yaml: line 2: gpus") {
		t.Errorf("build with a broken fair.yaml: %v", err)
	}
}
