package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/test/testbed"
)

// The API server restarts while fair train follows a job: no line of the
// job's log is lost or repeated, and the job's outcome is still reported.
func TestTestbedAPIServerRestartDuringFollow(t *testing.T) {
	// Not parallel: it stops the API server every other test uses.
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 4*time.Minute)
	const n = 200
	done := make(chan error, 1)
	streams := make(chan [2]*iostreams.SyncBuffer, 1)
	go func() {
		_, _, err := runFairStreams(ctx, bedConfig(t, bed), streams, "train", "--image", img, "--name", "through", "-e", fmt.Sprintf("LINES=%d", n), "-e", "INTERVAL=100ms")
		done <- err
	}()
	bufs := <-streams
	begin := time.Now()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(bufs[0].String(), "line 10 of") {
		if time.Now().After(deadline) {
			t.Fatalf("no logs before the restart:\n%s\n%s", bufs[0], bufs[1])
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Kill the API server (as a crash would), then let the test bed's up
	// start it again.
	pidFile := filepath.Join(testbed.Dir(), "run", "kube-apiserver.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s: API server stopped at %q", time.Since(begin).Round(time.Second), lastLine(bufs[0].String()))
	time.Sleep(2 * time.Second)
	up := exec.CommandContext(ctx, "../../hack/testbed/testbed", "up")
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("testbed up: %v\n%s", err, out)
	}
	t.Logf("%s: API server back at %q", time.Since(begin).Round(time.Second), lastLine(bufs[0].String()))

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("train: %v\n%s", err, bufs[1])
		}
	case <-ctx.Done():
		t.Fatalf("train did not end:\n%s", bufs[1])
	}
	t.Logf("%s: train ended", time.Since(begin).Round(time.Second))
	want := ""
	for i := 1; i <= n; i++ {
		want += fmt.Sprintf("[job-0] line %d of %d\n", i, n)
	}
	if bufs[0].String() != want {
		t.Errorf("the job's log across the restart:\n%s\nwant every line once", bufs[0])
	}
	if !strings.Contains(bufs[1].String(), "job/through succeeded") {
		t.Errorf("no outcome reported:\n%s", bufs[1])
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
