package cli

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/pipeline"
)

// extractFile copies one file out of an image's filesystem.
func extractFile(t testing.TB, ref, path, dest string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	want := strings.TrimPrefix(path, "/")
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("image %s has no %s", ref, path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(hdr.Name, "./") != want {
			continue
		}
		f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
}

var placeholder = regexp.MustCompile(`\{\{(tasks\.([a-z0-9-]+)\.outputs\.parameters\.(\w+)|inputs\.parameters\.(\w+)|workflow\.name)\}\}`)

// stepRun is what one task of a locally executed Workflow did.
type stepRun struct {
	output  string
	params  map[string]string
	elapsed time.Duration
}

// runWorkflowLocally executes an Argo Workflow's DAG on this machine the
// way the workflow controller would schedule it: tasks in dependency order,
// parameters substituted, each task's container command run with the files
// it would have had in its image (the step runtime and the program, both
// copied out of the step's image). Only the pod is missing; the registry is
// real, so step outputs really travel through it.
func runWorkflowLocally(t testing.TB, wf *unstructured.Unstructured, run string) map[string]*stepRun {
	t.Helper()
	templates, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	byName := map[string]map[string]any{}
	for _, x := range templates {
		m := x.(map[string]any)
		byName[m["name"].(string)] = m
	}
	tasks, _, _ := unstructured.NestedSlice(byName["main"], "dag", "tasks")
	root := t.TempDir()
	done := map[string]*stepRun{}
	for len(done) < len(tasks) {
		progress := false
		for _, x := range tasks {
			task := x.(map[string]any)
			tname := task["name"].(string)
			deps, _, _ := unstructured.NestedStringSlice(task, "dependencies")
			ready := done[tname] == nil
			for _, d := range deps {
				ready = ready && done[d] != nil
			}
			if !ready {
				continue
			}
			progress = true
			inputs := map[string]string{}
			params, _, _ := unstructured.NestedSlice(task, "arguments", "parameters")
			subst := func(s string) string {
				return placeholder.ReplaceAllStringFunc(s, func(m string) string {
					g := placeholder.FindStringSubmatch(m)
					switch {
					case g[1] == "workflow.name":
						return run
					case g[2] != "":
						return done[g[2]].params[g[3]]
					default:
						return inputs[g[4]]
					}
				})
			}
			for _, p := range params {
				pm := p.(map[string]any)
				inputs[pm["name"].(string)] = subst(pm["value"].(string))
			}
			tm := byName[task["template"].(string)]
			image, _, _ := unstructured.NestedString(tm, "container", "image")
			cmd, _, _ := unstructured.NestedStringSlice(tm, "container", "command")
			args, _, _ := unstructured.NestedStringSlice(tm, "container", "args")
			dir := filepath.Join(root, tname)
			bin := filepath.Join(dir, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			argv := append(cmd, args...)
			sep := -1
			for i, a := range argv {
				if a == "--" && sep < 0 {
					sep = i
				}
				a = subst(a)
				// The pod's data folder becomes the task's own folder here.
				if a == pipeline.DataDir {
					a = dir
				}
				a = strings.ReplaceAll(a, pipeline.DataDir+"/", dir+"/")
				argv[i] = a
			}
			// The runtime and the program come out of the step's image.
			for _, i := range []int{0, sep + 1} {
				local := filepath.Join(bin, filepath.Base(argv[i]))
				extractFile(t, image, argv[i], local)
				argv[i] = local
			}
			start := time.Now()
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("step %s: %v\n%s", tname, err, out)
			}
			sr := &stepRun{output: string(out), params: map[string]string{}, elapsed: time.Since(start)}
			outs, _, _ := unstructured.NestedSlice(tm, "outputs", "parameters")
			for _, o := range outs {
				om := o.(map[string]any)
				path, _, _ := unstructured.NestedString(om, "valueFrom", "path")
				b, err := os.ReadFile(strings.Replace(path, pipeline.DataDir+"/", dir+"/", 1))
				if err != nil {
					t.Fatalf("step %s: output parameter: %v", tname, err)
				}
				sr.params[om["name"].(string)] = string(b)
			}
			done[tname] = sr
		}
		if !progress {
			t.Fatal("the Workflow's DAG cannot make progress")
		}
	}
	return done
}

// TestPipelineDiamondDataThroughRegistry compiles the diamond with real
// builds into a real registry and executes the generated Workflow's tasks
// in DAG order: a's file reaches b and c through the registry, d adds their
// results, and 21*2 + 21*2 = 84 comes out as d's value.
func TestPipelineDiamondDataThroughRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds four Go programs")
	}
	reg := startRegistry(t)
	cfg := registryConfig(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, errOut, err := runPipelineCmd(ctx, cfg, "compile", diamondYAML)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	built := time.Since(start)
	wf, _ := workflowTasks(t, out)
	steps := runWorkflowLocally(t, wf, "diamond-local")
	if got := steps["d"].params["sum"]; got != "84" {
		t.Fatalf("d's sum = %q, want 84\n%s", got, steps["d"].output)
	}
	if !strings.Contains(steps["b"].output, "21 * 2 = 42") || !strings.Contains(steps["c"].output, "21 * 2 = 42") {
		t.Errorf("b and c did not both read a's 21:\n%s\n%s", steps["b"].output, steps["c"].output)
	}
	if !strings.HasPrefix(steps["a"].params["data"], reg+"/team/fair-artifacts@sha256:") {
		t.Errorf("a's data parameter %q is not an artifact in the registry", steps["a"].params["data"])
	}
	var total time.Duration
	for _, n := range []string{"a", "b", "c", "d"} {
		total += steps[n].elapsed
		t.Logf("step %s: %s (runtime + program)\n%s", n, steps[n].elapsed.Round(time.Millisecond), steps[n].output)
	}
	t.Logf("build and compile: %s; four steps in sequence: %s", built.Round(time.Millisecond), total.Round(time.Millisecond))
}

// TestPipelineValueConsumedLater runs the values example: gen's value n
// reaches report two steps later as the file $FAIR_IN_n, beside the
// artifact report reads from y.
func TestPipelineValueConsumedLater(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a Go program")
	}
	reg := startRegistry(t)
	cfg := registryConfig(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, errOut, err := runPipelineCmd(ctx, cfg, "compile", "../../examples/pipeline/values/pipeline.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	wf, _ := workflowTasks(t, out)
	steps := runWorkflowLocally(t, wf, "values-local")
	if got := steps["report"].params["total"]; got != "55" {
		t.Fatalf("report's total = %q, want 55 (1+4+9+16+25)\n%s", got, steps["report"].output)
	}
	if !strings.Contains(steps["report"].output, "n=5 total=55") {
		t.Errorf("report output:\n%s", steps["report"].output)
	}
}

var artifactTime = regexp.MustCompile(`fair-step: (?:pushed|pulled) \w+ \w+ \([^)]*\) in ([0-9.]+)s`)

// BenchmarkPipelineDiamond measures what fair adds to the diamond pipeline:
// building and compiling it (build_s; rebuilds of unchanged sources push
// nothing), the four steps run in DAG order one after another (steps_s),
// and within them the time the step runtime spends pushing and pulling
// artifacts through the registry (artifacts_s).
func BenchmarkPipelineDiamond(b *testing.B) {
	b.Setenv("FAIR_CACHE_DIR", filepath.Join(b.TempDir(), "cache"))
	host := testregistry.Start(b).Host
	cfg := config.Default()
	if err := cfg.Set("registry", host+"/team", "bench"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var build, steps, artifacts time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		out, errOut, err := runPipelineCmd(ctx, cfg, "compile", diamondYAML)
		if err != nil {
			b.Fatalf("%v\n%s", err, errOut)
		}
		build += time.Since(start)
		objs, err := deployer.DecodeYAML([]byte(out))
		if err != nil {
			b.Fatal(err)
		}
		for _, sr := range runWorkflowLocally(b, objs[0], fmt.Sprintf("bench-%d", n)) {
			steps += sr.elapsed
			for _, m := range artifactTime.FindAllStringSubmatch(sr.output, -1) {
				s, _ := strconv.ParseFloat(m[1], 64)
				artifacts += time.Duration(s * float64(time.Second))
			}
		}
		n++
	}
	b.ReportMetric(build.Seconds()/float64(n), "build_s")
	b.ReportMetric(steps.Seconds()/float64(n), "steps_s")
	b.ReportMetric(artifacts.Seconds()/float64(n), "artifacts_s")
}
