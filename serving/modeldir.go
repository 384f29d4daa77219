package serving

import (
	"log/slog"
	"os"
	"sync"
	"time"
)

// ModelDir is the folder that holds the files of the model this server
// serves: $FAIR_MODEL_DIR, which fair sets when it serves a saved model
// (fair serve --model NAME), else KServe's /mnt/models. Run locally with
// FAIR_MODEL_DIR set to the folder a local training run wrote.
//
// When KServe serves the model from its image (a modelcar), it says so
// with MODEL_INIT_MODE=async: the folder appears once the modelcar
// sidecar has started, so the first call waits for it (up to
// ModelWaitTimeout; after that the server's own read fails and says why).
func ModelDir() string {
	d := os.Getenv("FAIR_MODEL_DIR")
	if d == "" {
		d = "/mnt/models"
	}
	if os.Getenv("MODEL_INIT_MODE") == "async" {
		waitOnce.Do(func() { waitForDir(d, ModelWaitTimeout) })
	}
	return d
}

// ModelWaitTimeout bounds how long ModelDir waits for a modelcar's model.
var ModelWaitTimeout = 10 * time.Minute

var waitOnce sync.Once

// waitForDir waits until dir (a symbolic link, for a modelcar) resolves
// to a folder, or timeout passes.
func waitForDir(dir string, timeout time.Duration) bool {
	start := time.Now()
	said := false
	for {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			if said {
				slog.Info("the model is there", "dir", dir, "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return true
		}
		if time.Since(start) > timeout {
			slog.Warn("the model did not appear", "dir", dir, "waited", timeout.String())
			return false
		}
		if !said && time.Since(start) > time.Second {
			slog.Info("waiting for the model (KServe's modelcar)", "dir", dir)
			said = true
		}
		time.Sleep(50 * time.Millisecond)
	}
}
