package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/test/testbed"
)

// A user reruns training under the same name all the time: a finished run
// is replaced (its pods and logs gone first), a running one is refused in
// one line, and an object fair did not make is never taken over.
func TestTestbedRerunSameName(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 5*time.Minute)
	cfg := func() *config.Config { return bedConfig(t, bed) }

	for _, kind := range []string{"job", "pytorchjob"} {
		name := "again-" + kind
		args := []string{"train", "--image", img, "--name", name, "--kind", kind, "-e", "LINES=2"}
		if kind == "pytorchjob" {
			args = append(args, "--workers", "2")
		}
		if _, errOut, err := runFair(ctx, cfg(), append(args, "-e", "TAG=first")...); err != nil {
			t.Fatalf("%s: first run: %v\n%s", kind, err, errOut)
		}
		out, errOut, err := runFair(ctx, cfg(), append(args, "-e", "LINES=3")...)
		if err != nil {
			t.Fatalf("%s: rerun of a finished run: %v\n%s", kind, err, errOut)
		}
		if !strings.Contains(errOut.String(), "replaced the finished "+kind+"/"+name+" (succeeded) of the same name") {
			t.Errorf("%s: the rerun did not say it replaced the finished run:\n%s", kind, errOut)
		}
		// Only the new run's logs: three lines per replica, not two.
		if strings.Contains(out.String(), "of 2") || !strings.Contains(out.String(), "line 3 of 3") {
			t.Errorf("%s: rerun logs mix in the old run:\n%s", kind, out)
		}
	}

	// A run still going is refused, in one line, and left alone.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, _, err := runFair(cctx, cfg(), "train", "--image", img, "--name", "busy", "-e", "LINES=100", "-e", "INTERVAL=200ms")
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pods, _ := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "fair.dev/run=busy"})
		if len(pods.Items) > 0 && pods.Items[0].Status.Phase == corev1.PodRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("busy never ran")
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, errOut, err := runFair(ctx, cfg(), "train", "--image", img, "--name", "busy")
	if !errors.Is(err, deployer.ErrNameTaken) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 300 ||
		!strings.Contains(err.Error(), "job busy is still running") || !strings.Contains(err.Error(), "fair delete busy") {
		t.Errorf("rerun of a running job: %v\n%s", err, errOut)
	}
	// A training run is not an endpoint.
	if _, _, err := runFair(ctx, cfg(), "predict", "busy", "-d", "{}"); err == nil || !strings.Contains(err.Error(), "busy is a job, a training run: fair predict asks endpoints") {
		t.Errorf("predict of a job: %v", err)
	}
	// From a source, it is refused before the build.
	_, errOut, err = runFair(ctx, cfg(), "train", "../../"+linesDir, "--name", "busy")
	if !errors.Is(err, deployer.ErrNameTaken) || strings.Contains(errOut.String(), "compiling") {
		t.Errorf("rerun of a running job from a source: %v\n%s", err, errOut)
	}
	cancel()
	<-done
	if j, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "busy", metav1.GetOptions{}); err != nil || j.DeletionTimestamp != nil {
		t.Errorf("the running job was touched: %v", err)
	}

	// Objects fair did not make are not taken over, whatever their kind.
	foreignJob := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}, Spec: batchv1.JobSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "c", Image: img}}}}}}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Create(ctx, foreignJob, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, err = runFair(ctx, cfg(), "train", "--image", img, "--name", "theirs")
	if !errors.Is(err, deployer.ErrNameTaken) || !strings.Contains(err.Error(), "was not made by fair") {
		t.Errorf("train over someone's job: %v", err)
	}
	one := int32(1)
	foreignDep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-theirs"}, Spec: appsv1.DeploymentSpec{Replicas: &one,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web-theirs"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web-theirs"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "their/image:1"}}}}}}
	if _, err := bed.Client.AppsV1().Deployments(bed.Namespace).Create(ctx, foreignDep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, err = runFair(ctx, cfg(), "serve", "--image", img, "--kind", "deployment", "--name", "web-theirs", "--detach")
	if !errors.Is(err, deployer.ErrNameTaken) {
		t.Errorf("serve over someone's deployment: %v", err)
	}
	d, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, "web-theirs", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "their/image:1" || d.Labels[deployer.LabelManagedBy] != "" {
		t.Errorf("someone's deployment changed: %v %+v", err, d.Spec.Template.Spec.Containers)
	}
}

// Serving again under the same name rolls the new image out.
func TestTestbedServeAgainRollsOut(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, echoDir)
	ctx := ctxFor(t, 4*time.Minute)
	cfg := bedConfig(t, bed)
	if _, errOut, err := runFair(ctx, cfg, "serve", "--image", img, "--kind", "deployment", "--name", "echo-again"); err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut)
	}
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--image", img, "--kind", "deployment", "--name", "echo-again", "-e", "VERSION=2")
	if err != nil {
		t.Fatalf("serve again: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "deployment/echo-again exists: updated in place") {
		t.Errorf("no word about the update:\n%s", errOut)
	}
	d, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, "echo-again", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		found = found || e.Name == "VERSION" && e.Value == "2"
	}
	// Ready means the new version serves: every replica updated and
	// available, no old one left.
	want := *d.Spec.Replicas
	if !found || d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas != want || d.Status.AvailableReplicas != want || d.Status.Replicas != want {
		t.Errorf("fair said ready before the new version rolled out: env %v, status %+v", d.Spec.Template.Spec.Containers[0].Env, d.Status)
	}
}

// A PyTorchJob whose master finishes while its workers are still starting
// is a success by the Training Operator's rule; fair says which replicas
// never ran.
func TestTestbedMasterFinishesFirst(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 4*time.Minute)
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "lonely", "--kind", "pytorchjob",
		"--workers", "3", "--gpus", "1", "-e", "LINES=1", "-e", "ALONE=1")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, errOut)
	}
	st, err := statusOf(ctx, bed, "lonely")
	if err != nil {
		t.Fatal(err)
	}
	if st.NotStarted == 0 {
		t.Skipf("every replica ran before the master finished (%s): nothing to report on this run", st.Summary())
	}
	if !strings.Contains(errOut.String(), "warning: pytorchjob/lonely succeeded, but only") || !strings.Contains(errOut.String(), "never started") {
		t.Errorf("no word that replicas never ran:\n%s", errOut)
	}
	if strings.Contains(errOut.String(), "ready)") && strings.Contains(errOut.String(), "Succeeded (1/3 ready)") {
		t.Errorf("a finished run reported as ready replicas:\n%s", errOut)
	}
	out, _, err := runFair(ctx, bedConfig(t, bed), "ps")
	if err != nil || !strings.Contains(out.String(), "lonely") {
		t.Fatalf("ps: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[0] == "lonely" && f[4] != "3" {
			t.Errorf("ps GPUS column %q, want 3 (1 per replica):\n%s", f[4], out)
		}
	}
}

func statusOf(ctx context.Context, bed *testbed.Bed, name string) (deployer.Status, error) {
	c, err := deployer.Connect(deployer.WithRESTConfig(bed.Config), deployer.WithNamespace(bed.Namespace))
	if err != nil {
		return deployer.Status{}, err
	}
	return c.Status(ctx, name)
}
