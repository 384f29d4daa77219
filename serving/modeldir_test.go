package serving

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A modelcar's link appears after the server started: waitForDir waits
// for it to resolve, and gives up after its timeout.
func TestWaitForDirFollowsTheModelcarLink(t *testing.T) {
	root := t.TempDir()
	model := filepath.Join(root, "image-root", "models")
	link := filepath.Join(root, "mnt", "models")
	os.MkdirAll(model, 0o755)
	os.MkdirAll(filepath.Dir(link), 0o755)
	go func() {
		time.Sleep(200 * time.Millisecond)
		os.Symlink(model, link)
	}()
	start := time.Now()
	if !waitForDir(link, 10*time.Second) {
		t.Fatal("gave up on a link that appeared")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("returned after %v, before the link existed", d)
	}
	// A link to nowhere (a sidecar of another image) is not a folder.
	dangling := filepath.Join(root, "mnt", "dangling")
	os.Symlink(filepath.Join(root, "nowhere"), dangling)
	if waitForDir(dangling, 100*time.Millisecond) {
		t.Error("a dangling link counted as the model")
	}
}
