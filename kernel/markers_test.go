package kernel

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadStreamMarkers reads a stream cut at every size and checks that
// the end markers come out of the output with their numbers, and that
// look-alikes in a cell's output stay in it.
func TestReadStreamMarkers(t *testing.T) {
	stream := "one\n" + hostMarker + "1\x00" +
		"two \x00fair-cell-end x\x00 \x00fair\n" + hostMarker + "2\x00" +
		"three" + hostMarker + "3\x00" + "late \x00fair-cell-end 99"
	want := "one\ntwo \x00fair-cell-end x\x00 \x00fair\nthreelate \x00fair-cell-end 99"
	for size := 1; size <= len(stream); size++ {
		var got strings.Builder
		bg := &atomic.Value{}
		bg.Store(func(_, s string) { got.WriteString(s) })
		h := &hostProc{seen: map[string]int64{}, marked: make(chan struct{}, 1), background: bg, bgLeft: 1 << 20}
		h.readStream("stdout", io.NopCloser(&chunks{s: stream, n: size}))
		if got.String() != want || h.seen["stdout"] != 3 {
			t.Fatalf("reads of %d: output %q, last marker %d", size, got.String(), h.seen["stdout"])
		}
	}
}

// TestWaitMarkersIgnoresEarlier: a marker of an earlier command does not
// end the wait for this one.
func TestWaitMarkersIgnoresEarlier(t *testing.T) {
	h := &hostProc{seen: map[string]int64{"stdout": 4, "stderr": 5}, marked: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() { h.waitMarkers(5, time.Minute); close(done) }()
	select {
	case <-done:
		t.Fatal("the wait ended on an earlier command's marker")
	case <-time.After(100 * time.Millisecond):
	}
	h.mu.Lock()
	h.seen["stdout"] = 5
	h.mu.Unlock()
	h.marked <- struct{}{}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not end on this command's markers")
	}
}

type chunks struct {
	s string
	n int
}

func (c *chunks) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := min(c.n, len(c.s), len(p))
	copy(p, c.s[:k])
	c.s = c.s[k:]
	return k, nil
}
