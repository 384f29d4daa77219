package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// KServe v0.20's modelcar scripts as the container's shell receives them
// (pkg/utils/storage.go; the kubelet has turned $$ into $), with /models
// and /mnt moved under a test folder.
const (
	initScript = `echo 'Pre-fetching modelcar REF: ' && [ -d /models ] && [ "$(ls -A /models)" ] && echo 'OK ... Prefetched and valid (/models exists)' || (echo 'NOK ... Prefetched but modelcar is invalid (/models does not exist or is empty)' && exit 1)`
	linkScript = `ln -sf /proc/$$/root/models /mnt/models && sleep infinity`
	subScript  = `mkdir -p '/mnt/models' && ln -sf /proc/$$/root/models '/mnt/models/llama' && sleep infinity`
)

func under(dir, script string) string {
	return strings.NewReplacer(" /models", " "+dir+"/models", "'/mnt", "'"+dir+"/mnt", " /mnt", " "+dir+"/mnt").Replace(script)
}

func TestInitScript(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// No /models: the check fails with status 1.
	if got := script(ctx, under(dir, initScript), nil); got != 1 {
		t.Errorf("no models folder: status %d, want 1", got)
	}
	// An empty /models fails too: $(ls -A) is empty.
	os.Mkdir(filepath.Join(dir, "models"), 0o755)
	if got := script(ctx, under(dir, initScript), nil); got != 1 {
		t.Errorf("empty models folder: status %d, want 1", got)
	}
	// A hidden file counts (ls -A).
	os.WriteFile(filepath.Join(dir, "models", ".weights"), []byte("w"), 0o644)
	if got := script(ctx, under(dir, initScript), nil); got != 0 {
		t.Errorf("models folder with a file: status %d, want 0", got)
	}
}

func TestLinkScriptLinksThisProcessAndSleepsUntilStopped(t *testing.T) {
	for _, tc := range []struct{ script, link string }{{linkScript, "mnt/models"}, {subScript, "mnt/models/llama"}} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "mnt"), 0o755) // the emptyDir KServe mounts
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() { done <- script(ctx, under(dir, tc.script), nil) }()
		want := "/proc/" + strconv.Itoa(os.Getpid()) + "/root/models"
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := os.Readlink(filepath.Join(dir, tc.link))
			if err == nil {
				if got != want {
					t.Errorf("%s -> %s, want %s", tc.link, got, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no link %s: %v", tc.link, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		select {
		case st := <-done:
			t.Fatalf("the sidecar ended (status %d) instead of sleeping", st)
		case <-time.After(100 * time.Millisecond):
		}
		cancel() // SIGTERM from the kubelet
		if st := <-done; st != 0 {
			t.Errorf("stopped sidecar: status %d, want 0", st)
		}
	}
}

func TestRunArgs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "exit 4"}, 4},    // entrypoint + KServe's args
		{[]string{"-c", "ln -sf a"}, 1},        // a usage error
		{[]string{"-c", "curl http://x"}, 127}, // no such command
		{[]string{"-c", "sleep forever"}, 1},
		{[]string{"-c", "sleep 0.01 && true"}, 0},
		{[]string{"-c", "if then"}, 2}, // syntax
		{[]string{"script.sh"}, 2},
		{nil, 2},
	} {
		if got := run(ctx, tc.args); got != tc.want {
			t.Errorf("%q: status %d, want %d", tc.args, got, tc.want)
		}
	}
}
