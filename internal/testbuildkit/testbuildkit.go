// Package testbuildkit starts a real BuildKit daemon (buildkitd, OCI worker
// with runc) for tests, with its state in a temporary folder and plain HTTP
// allowed for the given loopback registries.
package testbuildkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bk "github.com/moby/buildkit/client"
)

// Find returns the buildkitd program: $FAIR_BUILDKITD, PATH, or the tools
// folder hack/tools.sh installs into.
func Find() (string, error) {
	if p := os.Getenv("FAIR_BUILDKITD"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p, nil
	}
	dir := os.Getenv("FAIR_TOOLS")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "fair", "tools")
	}
	p := filepath.Join(dir, "bin", "buildkitd")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("buildkitd not found in PATH or %s (run hack/tools.sh)", p)
	}
	return p, nil
}

// Start runs buildkitd until the test ends and returns its address. It
// fails the test when buildkitd or runc is missing: the suite needs real
// parts.
func Start(t testing.TB, insecureRegistries ...string) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatal("runc not found (apt-get install runc)")
	}
	// A short path: unix socket names are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "bk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var cfg strings.Builder
	for _, r := range insecureRegistries {
		fmt.Fprintf(&cfg, "[registry.%q]\n  http = true\n  insecure = true\n", r)
	}
	cfg.WriteString("[worker.containerd]\n  enabled = false\n[worker.oci]\n  enabled = true\n  gc = false\n")
	cfgPath := filepath.Join(dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfgPath, "--root", filepath.Join(dir, "root"), "--addr", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		// buildkitd leaves overlay mounts under its root when killed.
		_ = exec.Command("sh", "-c", "grep -o ' "+dir+"[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l").Run()
		logf.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := bk.New(ctx, addr)
		if err == nil {
			_, err = c.ListWorkers(ctx)
			c.Close()
		}
		cancel()
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "buildkitd.log"))
			t.Fatalf("buildkitd did not start: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
