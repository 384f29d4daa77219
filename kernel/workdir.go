package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// maxSlots bounds the work folders of one notebook folder: one per kernel
// running there at the same time.
const maxSlots = 32

// ClaimWorkDir returns the notebook module folder for a kernel whose
// notebook is in notebookDir: a folder under root that belongs to that
// notebook folder and that the next kernel started there gets again, the
// way a Python virtual environment outlives a kernel. What stays is what
// makes a first cell cheap: the module (go.mod, go.sum, modules added by
// %go get or by an import) and the linked host program, which is otherwise
// linked again for each new kernel (about a second). A second kernel
// running in the same notebook folder gets a folder of its own. The
// folder is locked (flock) until release is called or the process ends; a
// lock left by a kernel that was killed goes with its process. Cells and
// plugins of an earlier kernel are removed: they belong to its session.
func ClaimWorkDir(root, notebookDir string) (dir string, release func(), err error) {
	abs, err := filepath.Abs(notebookDir)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256([]byte(abs))
	base := slug(filepath.Base(abs)) + "-" + hex.EncodeToString(sum[:4])
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, fmt.Errorf("create the kernels' folder: %w", err)
	}
	for slot := 0; slot < maxSlots; slot++ {
		dir := filepath.Join(root, fmt.Sprintf("%s-%d", base, slot))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("create kernel work folder: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return "", nil, fmt.Errorf("lock kernel work folder: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue // a running kernel holds it
			}
			return "", nil, fmt.Errorf("lock kernel work folder %s: %w", dir, err)
		}
		// Whose folder this is, for someone looking through the cache.
		_ = os.WriteFile(filepath.Join(dir, "notebook-folder"), []byte(abs+"\n"), 0o644)
		for _, stale := range []string{"cells", "bin"} {
			if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
				f.Close()
				return "", nil, fmt.Errorf("clear kernel work folder: %w", err)
			}
		}
		return dir, func() { f.Close() }, nil
	}
	return "", nil, fmt.Errorf("%d kernels already run for notebooks in %s; stop one or set FAIR_KERNEL_WORKDIR", maxSlots, abs)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// slug is a folder name's readable part of a work folder's name.
func slug(name string) string {
	s := strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-.")
	if len(s) > 40 {
		s = s[:40]
	}
	if s == "" {
		s = "notebooks"
	}
	return s
}
