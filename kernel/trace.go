package kernel

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// laps times the phases of one compiled cell (generate, compile, link,
// load and run) for FAIR_KERNEL_TRACE=1, which writes one line a cell to
// the kernel's stderr (the Jupyter server's log): the figures behind
// docs/bench/kernel.md.
type laps struct {
	w     io.Writer
	last  time.Time
	parts []string
}

func newLaps() *laps {
	if os.Getenv("FAIR_KERNEL_TRACE") == "" {
		return nil
	}
	return &laps{w: os.Stderr, last: time.Now()}
}

// lap ends the phase called name.
func (l *laps) lap(name string) {
	if l == nil {
		return
	}
	now := time.Now()
	l.parts = append(l.parts, fmt.Sprintf("%s=%.1fms", name, float64(now.Sub(l.last).Microseconds())/1000))
	l.last = now
}

// done writes the cell's line.
func (l *laps) done(cell string) {
	if l == nil || len(l.parts) == 0 {
		return
	}
	fmt.Fprintf(l.w, "fair kernel: %s %s\n", cell, strings.Join(l.parts, " "))
}
