package deployer

import (
	"bytes"
	"strings"
	"testing"
)

// A resumed stream starts at the whole second of the latest line written;
// the server sends the same lines again in the same order, and exactly those
// must be dropped. Within one connection nothing is dropped, even a stderr
// line stamped before the stdout line it follows.
func TestStreamResumeDropsOnlyWhatWasWritten(t *testing.T) {
	var buf bytes.Buffer
	lw := &lineWriter{w: &buf}
	s := &podStream{replica: "worker-0", out: func(text string) { lw.line("worker-0", text) }, tail: 2}
	file := []string{
		"2026-11-28T09:59:59.900000000Z zero",
		"2026-11-28T10:00:00.100000000Z one",
		"2026-11-28T10:00:00.200000000Z two",
		"2026-11-28T10:00:00.150000000Z stderr",
		"2026-11-28T10:00:00.200000000Z two-bis",
	}
	for _, l := range file {
		s.handle(l)
	}
	since, n := s.resumeFrom()
	if since.Format("15:04:05.000") != "10:00:00.000" || n != 4 {
		t.Fatalf("resume from %v skipping %d, want 10:00:00 and 4", since, n)
	}
	s.skip = n
	// The server's answer to sinceTime=10:00:00: the file from there on.
	for _, l := range append(file[1:], "2026-11-28T10:00:00.200000000Z two-ter", "2026-11-28T10:00:01.000000000Z three", "no timestamp") {
		s.handle(l)
	}
	want := "[worker-0] zero\n[worker-0] one\n[worker-0] two\n[worker-0] stderr\n[worker-0] two-bis\n[worker-0] two-ter\n[worker-0] three\n[worker-0] no timestamp\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if got := strings.Join(s.lastLines(), ","); got != "three,no timestamp" {
		t.Errorf("last lines = %s", got)
	}
}
