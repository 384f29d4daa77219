package test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/test/testbed"
)

// fairBinary builds the fair command as a user installs it.
func fairBinary(t *testing.T) (bin, root string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(t.TempDir(), "fair")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "fair")).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/fair: %v\n%s", err, out)
	}
	return bin, root
}

// pipelineCmd is fair pipeline run FILE on the test bed.
func pipelineCmd(ctx context.Context, bed *testbed.Bed, fair, root, file, name string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, fair, "pipeline", "run", file,
		"--kubeconfig", testbed.Kubeconfig(), "--namespace", bed.Namespace,
		"--registry", bed.Registry+"/fair-test", "--name", name,
		"--host-network", "--controller-timeout", "60s")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "FAIR_CACHE_DIR="+filepath.Join(os.TempDir(), "fair-pipeline-test-cache"))
	return cmd
}

// TestArgoValuesPipeline runs examples/pipeline/values on the real Argo
// controller: gen's value n reaches report two steps later beside y's
// artifact, and only the programs' own lines reach the user.
func TestArgoValuesPipeline(t *testing.T) {
	t.Parallel()
	if testing.Short() || os.Getenv("FAIR_TESTBED_ARGO") == "0" {
		t.Skip("needs the test bed's Argo workflow controller")
	}
	bed := testbed.Env(t)
	fair, root := fairBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var stdout, stderr iostreams.SyncBuffer
	cmd := pipelineCmd(ctx, bed, fair, root, "examples/pipeline/values/pipeline.yaml", "values-argo")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fair pipeline run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "[report] n=5 total=55") {
		t.Errorf("report did not get n and the squares:\n%s", out)
	}
	if strings.Contains(out, "argo=true") || strings.Contains(out, "Error: exit status") {
		t.Errorf("Argo's executor lines reached the user:\n%s", out)
	}

	// A failing step: its own line, then one failure line, and the step's
	// own exit status (7), as fair train exits with its program's.
	file := "examples/pipeline/values/failing.yaml"
	var fout, ferr iostreams.SyncBuffer
	cmd = pipelineCmd(ctx, bed, fair, root, file, "failing-argo")
	cmd.Stdout, cmd.Stderr = &fout, &ferr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("a failing pipeline: %v, want exit status 7\n%s\n%s", err, fout.String(), ferr.String())
	}
	if !strings.Contains(fout.String(), "[boom] failing on purpose") {
		t.Errorf("the failing step's own output is missing:\n%s", fout.String())
	}
	if strings.Contains(fout.String(), "argo=true") || strings.Contains(fout.String(), "Error: exit status") {
		t.Errorf("Argo's executor lines reached the user:\n%s", fout.String())
	}
	const want = "fair: pipeline failing-argo failed: step boom exited with status 7"
	if n := strings.Count(ferr.String(), "failed"); !strings.Contains(ferr.String(), want+"\n") || n > 2 {
		t.Errorf("want one failure line %q (the step table may say failed once), got:\n%s", want, ferr.String())
	}
	// The step that needed boom's output never ran: Omitted, not Pending.
	if !regexp.MustCompile(`(?m)^after\s+Omitted\s`).MatchString(ferr.String()) {
		t.Errorf("the step after the failure is not Omitted:\n%s", ferr.String())
	}

	// A step whose program ends well but whose value is too big: fair's
	// step runtime failed it, and the summary says why, not "status 1".
	var bout, berr iostreams.SyncBuffer
	cmd = pipelineCmd(ctx, bed, fair, root, "examples/pipeline/values/toobig.yaml", "toobig-argo")
	cmd.Stdout, cmd.Stderr = &bout, &berr
	err = cmd.Run()
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(berr.String(), "fair: pipeline toobig-argo failed: step big failed: fair-step: output n: 102400 bytes is too big for a value") {
		t.Errorf("a value too big: %v\n%s\n%s", err, bout.String(), berr.String())
	}
}

// TestPipelineDetachExitStatus: a closed terminal (SIGHUP) while following
// detaches, and the exit status says the run is still going.
func TestPipelineDetachExitStatus(t *testing.T) {
	t.Parallel()
	if testing.Short() || os.Getenv("FAIR_TESTBED_ARGO") == "0" {
		t.Skip("needs the test bed's Argo workflow controller")
	}
	bed := testbed.Env(t)
	fair, root := fairBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := pipelineCmd(ctx, bed, fair, root, "examples/pipeline/values/pipeline.yaml", "values-detach")
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "workflow/values-detach submitted") {
			_ = cmd.Process.Signal(syscall.SIGHUP)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 75 {
		t.Fatalf("detached pipeline: %v, want exit status 75\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "detached: workflow/values-detach keeps running; re-attach with: fair pipeline logs values-detach -f") {
		t.Errorf("no detach message:\n%s", stderr.String())
	}
	_ = exec.Command(fair, "pipeline", "delete", "values-detach", "--kubeconfig", testbed.Kubeconfig(), "--namespace", bed.Namespace).Run()
}
