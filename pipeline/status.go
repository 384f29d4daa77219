package pipeline

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// StepStatus is one step of a running Workflow.
type StepStatus struct {
	Name     string    `json:"name"`
	Phase    string    `json:"phase"` // Pending, Running, Succeeded, Failed, Error, Skipped, Omitted
	Message  string    `json:"message,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Outputs are the step's output parameters: values, and the
	// references of artifacts and models.
	Outputs map[string]string `json:"outputs,omitempty"`
	// Leaf is a step no other step waits for: its outputs are the run's.
	Leaf bool `json:"leaf,omitempty"`
}

// Duration is how long the step ran (so far, at now).
func (s StepStatus) Duration(now time.Time) time.Duration {
	if s.Started.IsZero() {
		return 0
	}
	end := s.Finished
	if end.IsZero() {
		end = now
	}
	return end.Sub(s.Started).Round(time.Second)
}

// RunStatus is the state of a pipeline run (an Argo Workflow).
type RunStatus struct {
	Name     string       `json:"name"`
	Pipeline string       `json:"pipeline,omitempty"`
	Phase    string       `json:"phase"` // empty until a workflow controller picks it up
	Created  time.Time    `json:"created,omitzero"`
	Message  string       `json:"message,omitempty"`
	Started  time.Time    `json:"started,omitzero"`
	Finished time.Time    `json:"finished,omitzero"`
	Steps    []StepStatus `json:"steps"` // in the order of the DAG's tasks
}

// Succeeded is how many of the run's steps succeeded.
func (r RunStatus) Succeeded() int {
	n := 0
	for _, s := range r.Steps {
		if s.Phase == "Succeeded" {
			n++
		}
	}
	return n
}

// Done reports whether the run has finished.
func (r RunStatus) Done() bool {
	return r.Phase == "Succeeded" || r.Phase == "Failed" || r.Phase == "Error"
}

// WorkflowStatus reads a Workflow's DAG tasks and node statuses. Steps
// without a node yet are Pending.
func WorkflowStatus(u *unstructured.Unstructured) RunStatus {
	r := RunStatus{Name: u.GetName(), Pipeline: u.GetLabels()[LabelPipeline]}
	r.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	r.Created = u.GetCreationTimestamp().Time
	r.Message, _, _ = unstructured.NestedString(u.Object, "status", "message")
	r.Started = timeAt(u.Object, "status", "startedAt")
	r.Finished = timeAt(u.Object, "status", "finishedAt")
	nodes, _, _ := unstructured.NestedMap(u.Object, "status", "nodes")
	byStep := map[string]map[string]any{}
	for _, n := range nodes {
		m, ok := n.(map[string]any)
		if !ok || m["type"] != "Pod" {
			continue
		}
		name, _ := m["displayName"].(string)
		byStep[name] = m
	}
	templates, _, _ := unstructured.NestedSlice(u.Object, "spec", "templates")
	for _, t := range templates {
		tm, _ := t.(map[string]any)
		tasks, _, _ := unstructured.NestedSlice(tm, "dag", "tasks")
		needed := map[string]bool{}
		for _, task := range tasks {
			deps, _, _ := unstructured.NestedStringSlice(task.(map[string]any), "dependencies")
			for _, d := range deps {
				needed[d] = true
			}
		}
		for _, task := range tasks {
			name, _ := task.(map[string]any)["name"].(string)
			s := StepStatus{Name: name, Phase: "Pending", Leaf: !needed[name]}
			if n, ok := byStep[name]; ok {
				if p, _ := n["phase"].(string); p != "" {
					s.Phase = p
				}
				s.Message, _ = n["message"].(string)
				s.Started = timeAt(n, "startedAt")
				s.Finished = timeAt(n, "finishedAt")
				params, _, _ := unstructured.NestedSlice(n, "outputs", "parameters")
				for _, p := range params {
					pm, _ := p.(map[string]any)
					k, _ := pm["name"].(string)
					v, ok := pm["value"].(string)
					if k == "" || !ok {
						continue
					}
					if s.Outputs == nil {
						s.Outputs = map[string]string{}
					}
					s.Outputs[k] = v
				}
			}
			r.Steps = append(r.Steps, s)
		}
	}
	if r.Done() {
		// A finished run's step that never got a pod did not run (a step
		// before it failed): Argo's word for it.
		for i := range r.Steps {
			if r.Steps[i].Phase == "Pending" {
				r.Steps[i].Phase = "Omitted"
			}
		}
	}
	return r
}

// Outputs are the run's outputs: those of the steps no other step waits
// for, as "step.output" and value, in step order.
func (r RunStatus) Outputs() [][2]string {
	var out [][2]string
	for _, s := range r.Steps {
		if !s.Leaf {
			continue
		}
		keys := make([]string, 0, len(s.Outputs))
		for k := range s.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, [2]string{s.Name + "." + k, s.Outputs[k]})
		}
	}
	return out
}

// exitCode matches how Argo says a step's container failed: "Error (exit
// code 7)", with the container's name in front in current versions.
var exitCode = regexp.MustCompile(`^(?:[\w-]+: )?Error \(exit code (\d+)\)$`)

// executorError is how Argo says its executor failed a resource step:
// the exit code, then the executor's own error.
var executorError = regexp.MustCompile(`^(?:[\w-]+: )?Error \(exit code \d+\): (?:error: )?(.+)$`)

// Failure says in one line why a finished run did not succeed: the first
// step that failed and how, else the workflow's own message.
// ExitCode is the exit status of the first failed step's program, or 0
// when no step failed with one (fair pipeline run exits with it, as fair
// train exits with its program's).
func (r RunStatus) ExitCode() int {
	for _, s := range r.Steps {
		if s.Phase != "Failed" && s.Phase != "Error" {
			continue
		}
		if m := exitCode.FindStringSubmatch(strings.TrimSpace(s.Message)); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		return 0
	}
	return 0
}

func (r RunStatus) Failure() string {
	for _, s := range r.Steps {
		if s.Phase != "Failed" && s.Phase != "Error" {
			continue
		}
		msg := strings.TrimSpace(s.Message)
		if m := exitCode.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("step %s exited with status %s", s.Name, m[1])
		}
		if m := executorError.FindStringSubmatch(firstLine(msg)); m != nil {
			return fmt.Sprintf("step %s %s: %s", s.Name, strings.ToLower(s.Phase), m[1])
		}
		if msg == "" || strings.EqualFold(msg, s.Phase) {
			return fmt.Sprintf("step %s %s", s.Name, strings.ToLower(s.Phase))
		}
		return fmt.Sprintf("step %s %s: %s", s.Name, strings.ToLower(s.Phase), firstLine(msg))
	}
	msg := strings.TrimSpace(r.Message)
	if msg == "" || strings.EqualFold(msg, r.Phase) {
		return strings.ToLower(r.Phase)
	}
	return firstLine(msg)
}

func timeAt(obj map[string]any, path ...string) time.Time {
	s, _, _ := unstructured.NestedString(obj, path...)
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// Table writes the run's steps as a table: step, status, duration, message.
func (r RunStatus) Table(w io.Writer, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tDURATION\tMESSAGE")
	for _, s := range r.Steps {
		d := "-"
		if !s.Started.IsZero() {
			d = s.Duration(now).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Phase, d, firstLine(s.Message))
	}
	tw.Flush()
}

// Line is the run's state on one line, for a status line redrawn in place.
func (r RunStatus) Line(now time.Time) string {
	parts := make([]string, 0, len(r.Steps))
	for _, s := range r.Steps {
		p := s.Name + " " + strings.ToLower(s.Phase)
		if !s.Started.IsZero() {
			p += " " + s.Duration(now).String()
		}
		parts = append(parts, p)
	}
	phase := r.Phase
	if phase == "" {
		phase = "Submitted"
	}
	return fmt.Sprintf("%s %s: %s", r.Name, strings.ToLower(phase), strings.Join(parts, " · "))
}
