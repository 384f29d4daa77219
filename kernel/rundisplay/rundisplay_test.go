package rundisplay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/deployer"
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

// Before its first status a run is shown by name and kind, without the
// counts it does not know yet; then with them.
func TestRenderBeforeStatus(t *testing.T) {
	text, h := render("notebook-x", "", nil, "submitted", 2*time.Second)
	if !strings.HasPrefix(text, "notebook-x  Pending  replicas - ready  GPUs -") || strings.Contains(h, "/notebook-x") {
		t.Errorf("before status:\n%s\n%s", text, h)
	}
	text, _ = render("notebook-x", deployer.KindPyTorchJob, nil, "Scheduled", 2*time.Second)
	if !strings.HasPrefix(text, "pytorchjob/notebook-x  Pending  replicas - ready  GPUs -") || strings.Contains(text, "kubectl") {
		t.Errorf("before status, kind known:\n%s", text)
	}
	st := &deployer.Status{Run: deployer.Run{Name: "notebook-x", Kind: deployer.KindJob, Namespace: "ns"}, Phase: deployer.PhaseRunning, Ready: 1, Total: 1, GPUs: 2}
	text, _ = render("notebook-x", deployer.KindJob, st, "", time.Second)
	if !strings.HasPrefix(text, "job/notebook-x  Running  replicas 1/1 ready  GPUs 2") {
		t.Errorf("with status:\n%s", text)
	}
}
