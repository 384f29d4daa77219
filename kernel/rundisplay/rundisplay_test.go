package rundisplay

import (
	"fmt"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	var got []string
	l := &Lines{Each: func(s string) { got = append(got, s) }}
	fmt.Fprint(l, "building x\npushed 1 MiB")
	fmt.Fprint(l, " of 2\r\rpushed 2 MiB\n\n  \nlast")
	l.Flush()
	want := "building x|pushed 1 MiB of 2|pushed 2 MiB|last"
	if strings.Join(got, "|") != want {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

func TestIsWarning(t *testing.T) {
	for line, want := range map[string]bool{
		"warning: 2 of 3 replicas never ran":       true,
		"job/x job-0: warning: BackOff":            true,
		"building notebook":                        false,
		"pushed 1.7 MiB (warnings are for others)": false,
	} {
		if IsWarning(line) != want {
			t.Errorf("IsWarning(%q) = %v", line, !want)
		}
	}
}
