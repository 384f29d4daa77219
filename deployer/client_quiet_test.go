package deployer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// A watch stopped by fair (its context canceled) prints nothing; other
// errors reach client-go's handlers as before.
func TestQuietStoppedWatches(t *testing.T) {
	saved := utilruntime.ErrorHandlers
	defer func() { utilruntime.ErrorHandlers = saved }()
	var got []string
	utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{func(_ context.Context, err error, msg string, _ ...any) {
		got = append(got, msg+": "+err.Error())
	}}
	quietStoppedWatches()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	utilruntime.HandleErrorWithContext(context.Background(), fmt.Errorf("Get https://x/api: %w", context.Canceled), "Failed to watch")
	utilruntime.HandleErrorWithContext(canceled, errors.New("stream closed"), "Failed to watch")
	utilruntime.HandleErrorWithContext(context.Background(), errors.New("forbidden"), "Failed to watch")
	if len(got) != 1 || got[0] != "Failed to watch: forbidden" {
		t.Errorf("logged %q, want only the forbidden error", got)
	}
}
