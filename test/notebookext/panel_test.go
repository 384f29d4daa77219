// Package notebookext tests fair's notebook panel end to end: Debian's
// classic Notebook server (or Debian's Jupyter Server with the JupyterLab 4
// front end of notebook-ext/lab-app) with the fair kernel and the panel
// installed by the fair binary, driven in Debian's Chromium by
// notebook-ext/e2e/panel.mjs.
package notebookext

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/internal/iostreams"
	notebookext "github.com/fair-go/fair/notebook-ext"
	"github.com/fair-go/fair/test/testbed"
)

const notebook = `{"cells": [
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import \"fmt\""]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["greeting := \"hello from the panel's run\"\n", "fmt.Println(greeting)"]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["// predict doubles each row's first value: what Serve serves.\n", "func predict(rows [][]float32) ([]float32, error) {\n", "\tout := make([]float32, len(rows))\n", "\tfor i, r := range rows {\n", "\t\tout[i] = 2 * r[0]\n", "\t}\n", "\treturn out, nil\n", "}"]}
], "metadata": {"kernelspec": {"display_name": "Go (fair)", "language": "go", "name": "fair"}}, "nbformat": 4, "nbformat_minor": 5}`

// TestClassicPanelTrainsOnTheTestBed: the panel trains the notebook with a
// GPU, shows the run going to Succeeded with its log, and deletes it.
func TestClassicPanelTrainsOnTheTestBed(t *testing.T) { panelJourney(t, "classic") }

// TestLabPanelTrainsOnTheTestBed: the same journey in JupyterLab 4 (the
// front end of notebook-ext/lab-app with the panel's plugin bundled in).
func TestLabPanelTrainsOnTheTestBed(t *testing.T) { panelJourney(t, "lab") }

func panelJourney(t *testing.T, frontend string) {
	if testing.Short() {
		t.Skip("-short: a browser, a notebook server and a training run")
	}
	bed := testbed.Env(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	nb := startServer(ctx, t, frontend, "KUBECONFIG="+testbed.Kubeconfig(), "FAIR_REGISTRY="+bed.Registry+"/fair-test", "FAIR_NAMESPACE="+bed.Namespace)
	root, ext, dir, base, token := nb.root, nb.ext, nb.dir, nb.base, nb.token
	chromium := nb.chromium

	run := "panel-" + bed.Namespace[len(bed.Namespace)-5:]
	// FAIR_SCREENSHOTS=1 updates the screenshot in docs/ (check it in
	// when the panel's look changed); otherwise it stays with the test.
	shot := filepath.Join(dir, "notebook-ext-"+frontend+".png")
	if os.Getenv("FAIR_SCREENSHOTS") == "1" {
		shot = filepath.Join(root, "docs", "images", "notebook-ext-"+frontend+".png")
	}
	url := base + "/notebooks/panel.ipynb?token=" + token
	if frontend == "lab" {
		url = base + "/static/index.html"
	}
	e2e := exec.CommandContext(ctx, "node", "e2e/panel.mjs")
	e2e.Dir = ext
	e2e.Env = append(os.Environ(),
		"FAIR_E2E_FRONTEND="+frontend,
		"FAIR_E2E_NOTEBOOK=panel.ipynb",
		"FAIR_E2E_URL="+url,
		"FAIR_E2E_RUN="+run,
		"FAIR_E2E_LOG=hello from the panel's run",
		"FAIR_E2E_SCREENSHOT="+shot,
		"KUBECONFIG="+testbed.Kubeconfig(),
		"CHROMIUM="+chromium,
	)
	var out iostreams.SyncBuffer
	e2e.Stderr = &out
	stdout, err := e2e.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := e2e.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The job is gone once the panel deleted it; keep what the cluster said
	// about it while it existed.
	job := make(chan jobSeen, 1)
	go watchJob(ctx, bed, run, job)
	if err := e2e.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(&out, line)
		what, ok := strings.CutPrefix(line, "e2e-ask: ")
		if !ok {
			continue
		}
		answer := "ok"
		if err := outside(ctx, bed, what); err != nil {
			answer = err.Error()
		}
		fmt.Fprintln(stdin, answer)
	}
	err = e2e.Wait()
	t.Logf("browser:\n%s", out.String())
	if err != nil {
		t.Fatalf("the panel's journey failed: %v", err)
	}
	var seen jobSeen
	select {
	case seen = <-job:
		if seen.gpus != "1" {
			t.Errorf("job %s: GPU limit %q, want 1", run, seen.gpus)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("job %s was never seen on the cluster", run)
	}
	reportDelay(t, out.String(), seen)
}

// TestClassicPanelUnreachableCluster: with no cluster, the panel says so in
// one line, a Train fails in one line, and the panel stays usable.
func TestClassicPanelUnreachableCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a browser and a notebook server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nb := startNotebook(ctx, t, "KUBECONFIG="+filepath.Join(t.TempDir(), "no-such-kubeconfig"), "FAIR_REGISTRY=127.0.0.1:1/none")
	e2e := exec.CommandContext(ctx, "node", "e2e/panel.mjs")
	e2e.Dir = nb.ext
	e2e.Env = append(os.Environ(), "FAIR_E2E_MODE=unreachable", "CHROMIUM="+nb.chromium,
		"FAIR_E2E_URL="+nb.base+"/notebooks/panel.ipynb?token="+nb.token)
	out, err := e2e.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("the panel's unreachable-cluster journey failed: %v", err)
	}
	if !regexp.MustCompile(`(?m)^e2e: error line: cluster: kubeconfig: .* \| train: `).Match(out) {
		t.Errorf("no one-line error for the action")
	}
}

type notebookServer struct {
	root, ext, dir, base, token, chromium string
}

// startNotebook runs Debian's classic Notebook server with the fair kernel
// and the panel installed by the fair binary under a temporary prefix, the
// kernel seeing env; it stops when the test ends.
func startNotebook(ctx context.Context, t *testing.T, env ...string) notebookServer {
	return startServer(ctx, t, "classic", env...)
}

// startServer starts the classic Notebook, or for "lab" Debian's Jupyter
// Server serving the JupyterLab 4 front end of notebook-ext/lab-app (built
// here) with fair's panel bundled in.
func startServer(ctx context.Context, t *testing.T, frontend string, env ...string) notebookServer {
	t.Helper()
	for _, tool := range []string{"jupyter-notebook", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the panel's end-to-end test needs Debian's jupyter-notebook and nodejs", tool)
		}
	}
	if frontend == "lab" {
		if err := exec.Command("/usr/bin/python3", "-c", "import jupyter_server").Run(); err != nil {
			t.Fatalf("Debian's Jupyter Server is missing (apt-get install python3-jupyter-server): %v", err)
		}
	}
	nb := notebookServer{token: "fair-e2e", chromium: os.Getenv("CHROMIUM")}
	if nb.chromium == "" {
		nb.chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(nb.chromium); err != nil {
		t.Fatalf("no Chromium at %s (Debian: chromium; or set CHROMIUM)", nb.chromium)
	}
	var err error
	if nb.root, err = filepath.Abs("../.."); err != nil {
		t.Fatal(err)
	}
	nb.ext = filepath.Join(nb.root, "notebook-ext")
	if _, err := os.Stat(filepath.Join(nb.ext, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("notebook-ext has no node_modules: run make notebook-ext (npm ci) first")
	}
	nb.dir = t.TempDir()
	fair := filepath.Join(nb.dir, "fair")
	build := exec.Command("go", "build", "-o", fair, "./cmd/fair")
	build.Dir = nb.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fair: %v\n%s", err, out)
	}
	prefix := filepath.Join(nb.dir, "jupyter")
	for _, args := range [][]string{{"kernel", "install", "--prefix", prefix}, {"notebook-ext", "install", "--prefix", prefix}} {
		if out, err := exec.Command(fair, args...).CombinedOutput(); err != nil {
			t.Fatalf("fair %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	work := filepath.Join(nb.dir, "notebooks")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "panel.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	server := exec.CommandContext(ctx, "jupyter-notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--NotebookApp.token="+nb.token, "--notebook-dir="+work)
	if frontend == "lab" {
		labext := filepath.Join(prefix, "share", "jupyter", "labextensions")
		static := labStatic(t, nb, port, labext)
		// /static serves the page, the front end and, as JupyterLab's
		// /lab/extensions does, the prebuilt extensions fair installed.
		server = exec.CommandContext(ctx, "/usr/bin/python3", "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
			fmt.Sprintf("--port=%d", port), "--ServerApp.token="+nb.token, "--ServerApp.root_dir="+work,
			fmt.Sprintf("--ServerApp.extra_static_paths=['%s', '%s', '%s']", static, filepath.Join(nb.ext, "lab-app", "dist"), labext))
	}
	server.Env = append(append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
		"JUPYTER_CONFIG_PATH="+filepath.Join(prefix, "etc", "jupyter"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(nb.dir, "config"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(nb.dir, "runtime"),
	), env...)
	var serverLog iostreams.SyncBuffer
	server.Stdout, server.Stderr = &serverLog, &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = server.Process.Kill()
		}
		if t.Failed() {
			t.Logf("notebook server:\n%s", serverLog.String())
		}
	})
	nb.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, nb.base+"/api/status?token="+nb.token, time.Minute)
	return nb
}

// labStatic builds the JupyterLab front end and writes its page, with the
// page config JupyterLab reads, into a folder served beside the bundle. The
// page config's federated extensions are what jupyterlab_server (Debian's,
// the code JupyterLab's own server runs) finds in labext: the panel must
// load from there as a prebuilt extension, as in a pip-installed JupyterLab.
func labStatic(t *testing.T, nb notebookServer, port int, labext string) string {
	t.Helper()
	build := exec.Command("node", "lab-app/build.mjs")
	build.Dir = nb.ext
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the JupyterLab front end: %v\n%s", err, out)
	}
	find := exec.Command("/usr/bin/python3", "-c", `import json, sys
from jupyterlab_server.config import get_page_config
print(json.dumps(get_page_config([sys.argv[1]])["federated_extensions"]))`, labext)
	out, err := find.Output()
	if err != nil {
		t.Fatalf("jupyterlab_server's get_page_config (Debian: python3-jupyterlab-server): %v\n%s", err, stderrOf(err))
	}
	var federated []map[string]string
	if err := json.Unmarshal(out, &federated); err != nil {
		t.Fatalf("federated extensions %q: %v", out, err)
	}
	if len(federated) != 1 || federated[0]["name"] != notebookext.LabName {
		t.Fatalf("jupyterlab_server finds %v in %s, want fair notebook-ext install's %s", federated, labext, notebookext.LabName)
	}
	cfg, err := json.Marshal(map[string]any{
		"appName": "JupyterLab", "appVersion": "4.2.5", "appUrl": "/lab", "baseUrl": "/",
		"wsUrl": fmt.Sprintf("ws://127.0.0.1:%d/", port), "token": nb.token, "fullStaticUrl": "/static",
		"themesUrl": "/static/themes", "treePath": "", "terminalsAvailable": "false", "exposeAppInBrowser": true,
		"fullLabextensionsUrl": "/static", "federated_extensions": federated,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(nb.dir, "lab-page")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	page := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>JupyterLab</title><link href="lab.css" rel="stylesheet">` +
		`<script id="jupyter-config-data" type="application/json">` + string(cfg) + `</script></head><body><script src="lab.js"></script></body></html>`
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// stderrOf is what a command that failed wrote to stderr.
func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}

// outside creates or deletes, as someone else would, a Job labelled as
// fair's.
func outside(ctx context.Context, bed *testbed.Bed, what string) error {
	jobs := bed.Client.BatchV1().Jobs(bed.Namespace)
	switch what {
	case "create outside":
		labels := map[string]string{"app.kubernetes.io/managed-by": "fair", "fair.dev/run": "outside", "fair.dev/kind": "job"}
		_, err := jobs.Create(ctx, &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "outside", Labels: labels},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "main", Image: bed.Registry + "/none:never"}}},
			}},
		}, metav1.CreateOptions{})
		return err
	case "delete outside":
		return jobs.Delete(ctx, "outside", metav1.DeleteOptions{})
	}
	return fmt.Errorf("unknown ask %q", what)
}

type jobSeen struct {
	gpus      string
	succeeded time.Time // when the cluster said so, polled every 50 ms
}

// watchJob reports job name's GPU limit and when it succeeded.
func watchJob(ctx context.Context, bed *testbed.Bed, name string, out chan<- jobSeen) {
	var seen jobSeen
	for ctx.Err() == nil {
		j, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			seen.gpus = gpuLimit(j)
			if j.Status.Succeeded > 0 || j.Status.Failed > 0 {
				seen.succeeded = time.Now()
				out <- seen
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func gpuLimit(j *batchv1.Job) string {
	for _, c := range j.Spec.Template.Spec.Containers {
		if q, ok := c.Resources.Limits["nvidia.com/gpu"]; ok {
			return q.String()
		}
	}
	return ""
}

// reportDelay logs when the panel showed each phase, and how long after
// the cluster's Job said it finished the panel showed it.
func reportDelay(t *testing.T, out string, seen jobSeen) {
	var m struct {
		Clicked, Listed int64
		Phases          []struct {
			Phase string
			At    int64
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			_ = json.Unmarshal(sc.Bytes(), &m)
		}
	}
	var lines []string
	for _, p := range m.Phases {
		lines = append(lines, fmt.Sprintf("%s at +%.1fs", p.Phase, float64(p.At-m.Clicked)/1000))
		if p.Phase == "Succeeded" && !seen.succeeded.IsZero() {
			t.Logf("phase change to panel: %d ms (the Job succeeded at %s, the panel showed it at %s)",
				p.At-seen.succeeded.UnixMilli(), seen.succeeded.Format("15:04:05.000"), time.UnixMilli(p.At).Format("15:04:05.000"))
		}
	}
	sort.Strings(lines)
	t.Logf("Train pressed; run listed at +%.1fs; phases shown: %s", float64(m.Listed-m.Clicked)/1000, strings.Join(lines, ", "))
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(t *testing.T, url string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("the notebook server did not answer %s within %s", url, d)
}
