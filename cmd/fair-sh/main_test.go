package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKatibWrapper runs the script Katib's pod webhook makes of a trial's
// command: the program's output lands in the metrics file, and the pid file
// says the program completed only when it did.
func TestKatibWrapper(t *testing.T) {
	dir := t.TempDir()
	prog, err := exec.LookPath("printf")
	if err != nil {
		t.Skip("no printf program")
	}
	metrics := filepath.Join(dir, "metrics.log")
	script := prog + " 'loss=%s\\n' 0.25 1>" + metrics + " 2>&1 && echo completed > " + dir + "/$$.pid"
	if got := run(context.Background(), []string{"-c", script}); got != 0 {
		t.Fatalf("status %d", got)
	}
	b, err := os.ReadFile(metrics)
	if err != nil || string(b) != "loss=0.25\n" {
		t.Fatalf("metrics file %q, %v", b, err)
	}
	pid, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(os.Getpid())+".pid"))
	if err != nil || strings.TrimSpace(string(pid)) != "completed" {
		t.Fatalf("pid file %q, %v", pid, err)
	}

	// A failing program: its status, and no pid file.
	os.Remove(filepath.Join(dir, strconv.Itoa(os.Getpid())+".pid"))
	if got := run(context.Background(), []string{"-c", "sh -c 'exit 3' 1>" + metrics + " 2>&1 && echo completed > " + dir + "/$$.pid"}); got != 3 {
		t.Fatalf("failing program: status %d, want 3", got)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(os.Getpid())+".pid")); err == nil {
		t.Fatal("pid file written for a failed program")
	}
}

func TestHeadAndErrors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("early-stopped\nx\n"), 0o644)
	out := filepath.Join(dir, "out")
	if got := run(context.Background(), []string{"-c", "if [ $(head -n 1 " + f + ") = early-stopped ]; then echo yes > " + out + "; fi"}); got != 0 {
		t.Fatalf("status %d", got)
	}
	if b, _ := os.ReadFile(out); string(b) != "yes\n" {
		t.Fatalf("got %q", b)
	}
	if got := run(context.Background(), []string{"-c", "no-such-program-here"}); got != 127 {
		t.Fatalf("missing program: status %d, want 127", got)
	}
	if got := run(context.Background(), []string{"-c", "echo 'unterminated"}); got != 2 {
		t.Fatalf("syntax error: status %d, want 2", got)
	}
	if got := run(context.Background(), []string{"script.sh"}); got != 2 {
		t.Fatalf("no -c: status %d, want 2", got)
	}
}

func TestWaitCollector(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "7"), 0o755)
	os.WriteFile(filepath.Join(proc, "7", "cmdline"), []byte("/app/train\x00--s-db-like\x00"), 0o644)
	start := time.Now()
	waitCollector(proc, 200*time.Millisecond, 0)()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("returned after %v with no collector", d)
	}

	// The collector appears while the shell waits; the shell then stays
	// until it has run for settle.
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.MkdirAll(filepath.Join(proc, "19"), 0o755)
		os.WriteFile(filepath.Join(proc, "19", "cmdline"), []byte("/app/collector\x00-t\x00tr\x00-s-db\x00katib-db-manager.kubeflow:6789\x00"), 0o644)
	}()
	start = time.Now()
	done := waitCollector(proc, 5*time.Second, 300*time.Millisecond)
	seen := time.Since(start)
	if seen < 100*time.Millisecond || seen > 2*time.Second {
		t.Fatalf("saw the collector after %v", seen)
	}
	done()
	if d := time.Since(start); d < seen+250*time.Millisecond {
		t.Fatalf("left %v after start, before the collector had run 300ms", d)
	}
}
