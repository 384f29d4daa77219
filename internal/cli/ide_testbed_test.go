package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailscale/hujson"

	"github.com/fair-go/fair/test/testbed"
)

// A new user's IDE: fair init, then fair ide vscode and goland in a
// project with two packages; every command line in the generated files
// runs as the IDE would run it (same folder, arguments and environment)
// against the test bed.
func TestTestbedIDEConfigurations(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	root := repoRoot(t)
	ctx := ctxFor(t, 6*time.Minute)
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "fair"), filepath.Join(root, "cmd/fair")).CombinedOutput(); err != nil {
		t.Fatalf("build fair: %v\n%s", err, out)
	}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "train"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "serve"), 0o755))
	src, err := os.ReadFile(filepath.Join(root, "examples/train-go/main.go"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "train/main.go"), src, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "serve/main.go"), []byte(`package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/proj\n\ngo 1.24\n"), 0o644))
	// The user's own task, with comments, before fair writes anything.
	must(t, os.MkdirAll(filepath.Join(dir, ".vscode"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".vscode/tasks.json"), []byte("{\n  // my tasks\n  \"version\": \"2.0.0\",\n  \"tasks\": [\n    {\"label\": \"mine\", \"type\": \"shell\", \"command\": \"echo hi\"}, // keep me\n  ],\n}\n"), 0o644))

	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+testbed.Kubeconfig(), "FAIR_REGISTRY=", "FAIR_NAMESPACE=", "FAIR_KIND=")
	run := func(name string, args ...string) (string, string, error) {
		if name == "fair" { // found on PATH, as the IDE finds it
			name = filepath.Join(bin, "fair")
		}
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	if _, e, err := run("fair", "init", "--registry", bed.Registry+"/ide", "--namespace", bed.Namespace); err != nil || !strings.Contains(e, "kinds: job, pytorchjob") {
		t.Fatalf("fair init: %v\n%s", err, e)
	}
	for i := 0; i < 2; i++ {
		if _, e, err := run("fair", "ide", "vscode", "./train", "./serve"); err != nil {
			t.Fatalf("fair ide vscode: %v\n%s", err, e)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, ".vscode/tasks.json"))
	must(t, err)
	if !strings.Contains(string(raw), "// my tasks") || !strings.Contains(string(raw), "// keep me") {
		t.Errorf("the user's comments are gone:\n%s", raw)
	}
	std, err := hujson.Standardize(raw)
	must(t, err)
	var tasks struct {
		Tasks []struct {
			Label, Command string
			Args           []string
			Options        struct{ Cwd string }
		}
	}
	must(t, json.Unmarshal(std, &tasks))
	labels := map[string]int{}
	for _, tk := range tasks.Tasks {
		labels[tk.Label]++
	}
	if labels["mine"] != 1 || labels["fair: train on cluster (./train)"] != 1 || len(tasks.Tasks) != 1+6+3 {
		t.Errorf("tasks after two runs: %v", labels)
	}
	byLabel := func(l string) (string, []string) {
		for _, tk := range tasks.Tasks {
			if tk.Label == l {
				if tk.Options.Cwd != "${workspaceFolder}" {
					t.Errorf("%s runs in %q", l, tk.Options.Cwd)
				}
				return tk.Command, tk.Args
			}
		}
		t.Fatalf("no task %q", l)
		return "", nil
	}
	c, a := byLabel("fair: build image (./train)")
	if o, e, err := run(c, a...); err != nil || !regexp.MustCompile(`^\S+/ide/train@sha256:[0-9a-f]{64}\n$`).MatchString(o) {
		t.Errorf("build task: %v %q\n%s", err, o, e)
	}
	c, a = byLabel("fair: train on cluster (./train)")
	if o, e, err := run(c, append(a, "--", "-unused")...); err != nil || !strings.Contains(o, "[job-0] rank 0/1 epoch=10 loss=") {
		t.Errorf("train task: %v\n%s\n%s", err, o, e)
	}
	c, a = byLabel("fair: serve (./serve)")
	if o, e, err := run(c, append(a, "--kind", "deployment")...); err != nil || !strings.Contains(o, "http://") {
		t.Errorf("serve task: %v\n%s\n%s", err, o, e)
	}

	// launch.json: the package runs locally with go (as the Go extension
	// does without a debugger attached).
	raw, err = os.ReadFile(filepath.Join(dir, ".vscode/launch.json"))
	must(t, err)
	std, err = hujson.Standardize(raw)
	must(t, err)
	var launch struct {
		Configurations []struct {
			Name, Program string
			Env           map[string]string
		}
	}
	must(t, json.Unmarshal(std, &launch))
	if len(launch.Configurations) != 2 {
		t.Fatalf("launch configurations: %+v", launch)
	}
	prog := strings.ReplaceAll(launch.Configurations[0].Program, "${workspaceFolder}", dir)
	if o, e, err := run("go", "run", prog); err != nil || !strings.Contains(o, "epoch=10") {
		t.Errorf("launch %s: %v\n%s\n%s", prog, err, o, e)
	}
	settings, _ := os.ReadFile(filepath.Join(dir, ".vscode/settings.json"))
	if !strings.Contains(string(settings), "fair.schema.json") {
		t.Errorf("settings.json: %s", settings)
	}

	// GoLand: the build configuration's script, run by /bin/sh in the
	// project folder.
	if _, e, err := run("fair", "ide", "goland", "./train"); err != nil {
		t.Fatalf("fair ide goland: %v\n%s", err, e)
	}
	xb, err := os.ReadFile(filepath.Join(dir, ".run", "fair_build_image_._train.run.xml"))
	must(t, err)
	var comp struct {
		Config struct {
			Options []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"option"`
		} `xml:"configuration"`
	}
	must(t, xml.Unmarshal(xb, &comp))
	script := ""
	for _, o := range comp.Config.Options {
		if o.Name == "SCRIPT_TEXT" {
			script = o.Value
		}
	}
	if o, e, err := run("/bin/sh", "-c", script); err != nil || !strings.Contains(o, "@sha256:") {
		t.Errorf("GoLand build %q: %v\n%s\n%s", script, err, o, e)
	}
}
