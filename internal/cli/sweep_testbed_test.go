package cli

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/sweep"
	"github.com/fair-go/fair/test/testbed"
)

// knownLoss is examples/sweep-go's loss for its parameters.
func knownLoss(t *testing.T, tr sweep.Trial) float64 {
	var lr float64
	layers := 3
	for _, a := range tr.Params {
		switch a.Name {
		case "lr":
			lr, _ = strconv.ParseFloat(a.Value, 64)
		case "layers":
			layers, _ = strconv.Atoi(a.Value)
		}
	}
	if lr <= 0 {
		t.Fatalf("trial %s: no lr in %v", tr.Name, tr.Params)
	}
	return math.Pow(math.Log10(lr)+2, 2) + 0.1*math.Pow(float64(layers-3), 2) + 0.05
}

// checkTrials checks a finished sweep of examples/sweep-go: trials whose
// lr is above failAbove failed, the others succeeded with the loss the
// program printed, and the best trial is the lowest loss among those.
func checkTrials(t *testing.T, st *sweep.Status, failAbove float64) (best *sweep.Trial, failed int) {
	t.Helper()
	for i, tr := range st.Trials {
		lr := 0.0
		for _, a := range tr.Params {
			if a.Name == "lr" {
				lr, _ = strconv.ParseFloat(a.Value, 64)
			}
		}
		switch {
		case lr > failAbove:
			failed++
			if tr.Phase != sweep.PhaseFailed {
				t.Errorf("trial %s (lr %g > %g) is %s, want Failed", tr.Name, lr, failAbove, tr.Phase)
			}
		case tr.Phase != sweep.PhaseSucceeded || tr.Objective == nil:
			t.Errorf("trial %s (lr %g) is %s with objective %v", tr.Name, lr, tr.Phase, tr.Objective)
		default:
			if want := knownLoss(t, tr); math.Abs(*tr.Objective-want) > 1e-5 {
				t.Errorf("trial %s: Katib read loss %g, the program's lowest was %g", tr.Name, *tr.Objective, want)
			}
			if best == nil || *tr.Objective < *best.Objective {
				best = &st.Trials[i]
			}
		}
	}
	if best == nil || st.Best == nil || st.Best.Name != best.Name {
		t.Fatalf("best trial %v, want %v", st.Best, best)
	}
	return best, failed
}

// A sweep with a known answer under the test bed's real Katib: six random
// trials, two at a time, each with a GPU; every metric Katib read is the
// program's lowest printed loss, and the reported best trial is the lowest
// among the trials run. Then a deterministic (Sobol) sweep of the same
// name in which trials above FAIL_ABOVE fail: they are counted and the
// sweep goes on to succeed; each trial saves its model, the best is latest.
func TestTestbedSweep(t *testing.T) {
	t.Parallel()
	testbed.RequireKatib(t)
	bed := testbed.Env(t)
	img := testImage(t, bed, "examples/sweep-go")
	ctx := ctxFor(t, 10*time.Minute)
	cfg := bedConfig(t, bed)

	out, errOut, err := runFair(ctx, cfg, "sweep", "--image", img, "--name", "sw", "-p", "lr=0.001..0.1:log", "-p", "layers=1..5",
		"--objective", "loss", "--trials", "6", "--parallel", "2", "--algorithm", "random", "--gpus", "1")
	if err != nil {
		t.Fatalf("sweep: %v\n%s\n%s", err, out, errOut)
	}
	st, err := sweep.Get(ctx, bed.Dynamic, bed.Namespace, "sw")
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != "Succeeded" || len(st.Trials) != 6 {
		t.Fatalf("sweep %s with %d trials\n%s", st.Phase, len(st.Trials), out)
	}
	best, _ := checkTrials(t, st, math.Inf(1))
	for _, want := range []string{"best trial " + best.Name + ": loss=", "train with them: fair train --gpus 1 -e LR=", "sweep sw: Succeeded, 6/6 trials"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "warning: Katib's goptuna suggestion service (random) samples lr uniformly") {
		t.Errorf("no warning that :log is ignored:\n%s", errOut)
	}
	if !strings.Contains(errOut.String(), "labelled namespace "+bed.Namespace) || !strings.Contains(errOut.String(), "trial "+best.Name+": succeeded") {
		t.Errorf("progress:\n%s", errOut)
	}

	// Each trial's program got a GPU.
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sweep.LabelSweep + "=sw," + sweep.LabelTrial})
	if err != nil || len(pods.Items) != 6 {
		t.Fatalf("trial pods: %v (%d)", err, len(pods.Items))
	}
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			if c.Name != "fair" {
				continue
			}
			if q := c.Resources.Limits[corev1.ResourceName("nvidia.com/gpu")]; q.Value() != 1 {
				t.Errorf("pod %s: GPU limit %v", p.Name, c.Resources.Limits)
			}
		}
	}

	// The best trial's logs, status as JSON, the list.
	logs, _, err := runFair(ctx, cfg, "sweep", "logs", "sw", best.Name)
	if err != nil || !strings.Contains(logs.String(), "["+best.Name+"] epoch=3 loss=") || strings.Contains(logs.String(), "Trial Name") {
		t.Errorf("sweep logs: %v\n%s", err, logs)
	}
	if _, _, err := runFair(ctx, cfg, "sweep", "logs", "sw", "no-such-trial"); err == nil || !strings.Contains(err.Error(), "sweep sw has no trial no-such-trial (its trials: ") {
		t.Errorf("logs of a trial that is not: %v", err)
	}
	js, _, err := runFair(ctx, cfg, "sweep", "status", "sw", "-o", "json")
	var got sweep.Status
	if err != nil || json.Unmarshal([]byte(js.String()), &got) != nil || got.Best == nil || got.Best.Name != best.Name {
		t.Errorf("status -o json: %v\n%s", err, js)
	}
	ls, _, err := runFair(ctx, cfg, "sweep", "ls")
	if err != nil || !strings.Contains(ls.String(), "sw ") || !strings.Contains(ls.String(), "6/6") {
		t.Errorf("sweep ls: %v\n%s", err, ls)
	}

	comp, _, err := runFair(ctx, cfg, "__complete", "sweep", "logs", "")
	if err != nil || !strings.Contains(comp.String(), "sw\tsweep Succeeded") {
		t.Errorf("completion of sweep names: %v\n%s", err, comp)
	}
	// fair status and fair logs answer for a sweep as fair sweep does.
	top, _, err := runFair(ctx, cfg, "status", "sw")
	if err != nil || !strings.Contains(top.String(), best.Name) {
		t.Errorf("fair status of a sweep: %v\n%s", err, top)
	}
	ps, _, err := runFair(ctx, cfg, "ps")
	if err != nil || !strings.Contains(ps.String(), "sweep") || !strings.Contains(ps.String(), "6/6") {
		t.Errorf("ps: %v\n%s", err, ps)
	}
	// The sweep, not each of its trials.
	for _, tr := range st.Trials {
		if strings.Contains(ps.String(), tr.Name+" ") {
			t.Errorf("ps lists trial %s beside its sweep:\n%s", tr.Name, ps)
		}
	}

	// A rerun with the same name replaces the finished sweep. Sobol's
	// points are fixed (0 or 1/2 first, then 3/4, 1/4, ...), so of four
	// trials over 0.001..0.03 some are above 0.02 and fail, and some are
	// not; with --model each trial saves its model and the best is latest.
	out, errOut, err = runFair(ctx, cfg, "sweep", "--image", img, "--name", "sw", "-p", "lr=0.001..0.03", "--objective", "loss",
		"--trials", "4", "--parallel", "2", "--algorithm", "sobol", "--model", "swm", "-e", "FAIL_ABOVE=0.02")
	if err != nil || !strings.Contains(errOut.String(), "replaced the finished sweep sw (succeeded)") || !strings.Contains(out.String(), "4/4 trials") {
		t.Fatalf("rerun: %v\n%s\n%s", err, out, errOut)
	}
	if st, err = sweep.Get(ctx, bed.Dynamic, bed.Namespace, "sw"); err != nil || st.Phase != "Succeeded" {
		t.Fatalf("rerun: %v %+v\n%s", err, st, out)
	}
	best, failed := checkTrials(t, st, 0.02)
	if failed == 0 || failed == len(st.Trials) {
		t.Errorf("want failed and succeeded trials, %d of %d failed\n%s", failed, len(st.Trials), out)
	}
	if !strings.Contains(errOut.String(), "model swm:"+best.Name+" saved") || !strings.Contains(errOut.String(), "the best trial's model is now swm:latest") {
		t.Errorf("models of the rerun:\n%s", errOut)
	}
	show, _, err := runFair(ctx, cfg, "models", "show", "swm:latest")
	if err != nil || !strings.Contains(show.String(), best.Name) {
		t.Errorf("models show swm:latest: %v\n%s", err, show)
	}
	if _, _, err := runFair(ctx, cfg, "sweep", "delete", "sw"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFair(ctx, cfg, "sweep", "status", "sw"); err == nil || !strings.Contains(err.Error(), "no sweep sw") {
		t.Errorf("status after delete: %v", err)
	}

	// Trials whose loss is NaN (they end well: a diverged loop) have no
	// metric: never the best, and the sweep ends (Katib's default filter
	// read NaN as an empty value, made it the best, and its suggestion
	// service then failed on it, forever).
	out, errOut, err = runFair(ctx, cfg, "sweep", "--image", img, "--name", "swnan", "-p", "lr=0.001..0.03", "--objective", "loss",
		"--trials", "4", "--parallel", "2", "--algorithm", "sobol", "-e", "NAN_ABOVE=0.02")
	if err != nil && ExitCode(err) != 1 {
		t.Fatalf("NaN sweep: %v\n%s\n%s", err, out, errOut)
	}
	if st, err = sweep.Get(ctx, bed.Dynamic, bed.Namespace, "swnan"); err != nil || !st.Done() {
		t.Fatalf("NaN sweep: %v %+v\n%s", err, st, out)
	}
	if st.Best == nil || st.Best.Objective == nil || math.IsNaN(*st.Best.Objective) {
		t.Errorf("NaN sweep's best: %+v\n%s", st.Best, out)
	}
	for _, tr := range st.Trials {
		lr, _ := strconv.ParseFloat(tr.Params[0].Value, 64)
		if lr > 0.02 && tr.Objective != nil {
			t.Errorf("trial %s (lr %g) printed NaN but has loss %g", tr.Name, lr, *tr.Objective)
		}
	}

	// A running sweep is deleted at once (it took minutes: Katib made its
	// suggestion service again while a foreground deletion waited for it).
	if _, errOut, err := runFair(ctx, cfg, "sweep", "--image", img, "--name", "swdel", "-p", "lr=0.001..0.1", "--objective", "loss",
		"--trials", "4", "--parallel", "2", "--detach", "-e", "EPOCH_SECONDS=5"); err != nil {
		t.Fatalf("sweep --detach: %v\n%s", err, errOut)
	}
	time.Sleep(3 * time.Second)
	if _, _, err := runFair(ctx, cfg, "sweep", "delete", "swdel"); err != nil {
		t.Errorf("delete a running sweep: %v", err)
	}
}
