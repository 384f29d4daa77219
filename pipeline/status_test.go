package pipeline_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/pipeline"
)

// TestWorkflowStatus feeds the status an Argo controller writes (nodes keyed
// by id, one Pod node per task) into the step table.
func TestWorkflowStatus(t *testing.T) {
	wf, err := pipeline.Argo(diamond(), diamondImages(t), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	wf.SetName("diamond-x1")
	wf.Object["status"] = map[string]any{
		"phase": "Running", "startedAt": "2026-11-28T10:00:00Z",
		"nodes": map[string]any{
			"diamond-x1":       map[string]any{"type": "DAG", "displayName": "diamond-x1", "phase": "Running"},
			"diamond-x1-11111": map[string]any{"type": "Pod", "displayName": "a", "phase": "Succeeded", "startedAt": "2026-11-28T10:00:01Z", "finishedAt": "2026-11-28T10:00:04Z"},
			"diamond-x1-22222": map[string]any{"type": "Pod", "displayName": "b", "phase": "Failed", "message": "Error (exit code 3)", "startedAt": "2026-11-28T10:00:05Z", "finishedAt": "2026-11-28T10:00:07Z"},
			"diamond-x1-33333": map[string]any{"type": "Pod", "displayName": "c", "phase": "Running", "startedAt": "2026-11-28T10:00:05Z"},
		},
	}
	st := pipeline.WorkflowStatus(wf)
	if st.Phase != "Running" || st.Done() || st.Pipeline != "diamond" {
		t.Fatalf("run status %+v", st)
	}
	now := time.Date(2026, 11, 28, 10, 0, 15, 0, time.UTC)
	var b bytes.Buffer
	st.Table(&b, now)
	want := `STEP  STATUS     DURATION  MESSAGE
a     Succeeded  3s        
b     Failed     2s        Error (exit code 3)
c     Running    10s       
d     Pending    -         
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := st.Line(now); got != "diamond-x1 running: a succeeded 3s · b failed 2s · c running 10s · d pending" {
		t.Errorf("line %q", got)
	}
	if got := st.ExitCode(); got != 3 {
		t.Errorf("exit code %d, want 3", got)
	}
	if got := st.Failure(); got != "step b exited with status 3" {
		t.Errorf("failure %q", got)
	}
	// Once the run has failed, d, which never got a pod, did not run.
	st2 := wf.DeepCopy()
	st2.Object["status"].(map[string]any)["phase"] = "Failed"
	if fin := pipeline.WorkflowStatus(st2); fin.Steps[3].Name != "d" || fin.Steps[3].Phase != "Omitted" || fin.Steps[2].Phase != "Running" {
		t.Errorf("finished run's steps: %+v", fin.Steps)
	}
	for _, tc := range []struct {
		st   pipeline.RunStatus
		want string
	}{
		{pipeline.RunStatus{Phase: "Failed", Message: "failed"}, "failed"},
		{pipeline.RunStatus{Phase: "Error", Message: "child 'x' errored\nmore"}, "child 'x' errored"},
		{pipeline.RunStatus{Phase: "Failed", Steps: []pipeline.StepStatus{{Name: "a", Phase: "Succeeded"}, {Name: "b", Phase: "Error", Message: "OOMKilled"}}}, "step b error: OOMKilled"},
		{pipeline.RunStatus{Phase: "Failed", Steps: []pipeline.StepStatus{{Name: "a", Phase: "Failed", Message: "failed"}}}, "step a failed"},
		// Argo 3.7 names the container.
		{pipeline.RunStatus{Phase: "Failed", Steps: []pipeline.StepStatus{{Name: "boom", Phase: "Failed", Message: "main: Error (exit code 7)"}}}, "step boom exited with status 7"},
		// fair's step runtime failed (its termination message), not the program.
		{pipeline.RunStatus{Phase: "Failed", Steps: []pipeline.StepStatus{{Name: "bigval", Phase: "Failed", Message: "main: Error (exit code 1): fair-step: output v: 102400 bytes is too big for a value (max 65536); declare it as an artifact output"}}}, "step bigval failed: fair-step: output v: 102400 bytes is too big for a value (max 65536); declare it as an artifact output"},
		// A resource step: the executor's own error, as Argo 3.7 reports it.
		{pipeline.RunStatus{Phase: "Failed", Steps: []pipeline.StepStatus{{Name: "train", Phase: "Failed", Message: "main: Error (exit code 64): error: the pytorchjob failed: backoff limit; its logs: fair logs r-train"}}}, "step train failed: the pytorchjob failed: backoff limit; its logs: fair logs r-train"},
	} {
		if got := tc.st.Failure(); got != tc.want {
			t.Errorf("%+v: failure %q, want %q", tc.st, got, tc.want)
		}
	}
}

func TestArgoHostNetworkAndErrors(t *testing.T) {
	o := testOpts
	o.HostNetwork = true
	wf, err := pipeline.Argo(diamond(), diamondImages(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Object["spec"].(map[string]any)["hostNetwork"] != true {
		t.Error("hostNetwork not set")
	}
	imgs := diamondImages(t)
	delete(imgs, "c")
	if _, err := pipeline.Argo(diamond(), imgs, testOpts); err == nil || err.Error() != "step c has no image" {
		t.Errorf("missing image: %v", err)
	}
	if _, err := pipeline.KFP(diamond(), diamondImages(t), pipeline.Options{}); err == nil || !strings.Contains(err.Error(), "no artifact repository") {
		t.Errorf("no repo: %v", err)
	}
}

func TestExecutorLinesLeftOut(t *testing.T) {
	for line, want := range map[string]bool{
		`time="2026-11-29T02:32:05.353Z" level=info msg="capturing logs" argo=true`:                           true,
		`time="2026-11-29T02:32:05.353Z" level=info msg="sub-process exited" argo=true error="<nil>"`:         true,
		`time="2026-11-29T02:32:05.353Z" level=info msg="sub-process exited" argo=true error="exit status 7"`: true,
		"Error: exit status 7":                true,
		"sum: 84":                             false,
		"time is money argo=true":             false, // the user's own line, whatever it says
		"Error: exit status 7 (my own words)": false,
	} {
		if got := pipeline.ExecutorLine(line); got != want {
			t.Errorf("ExecutorLine(%q) = %v, want %v", line, got, want)
		}
	}
}
