package pipeline_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/pipeline"
)

func TestLoadDiamondYAML(t *testing.T) {
	p, err := pipeline.Load("../examples/pipeline/diamond/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string][]string{}
	for _, s := range p.Steps {
		deps[s.Name] = p.Deps(s)
	}
	if want := map[string][]string{"a": {}, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}; !reflect.DeepEqual(deps, want) {
		t.Fatalf("deps %v, want %v", deps, want)
	}
	b := p.Step("b")
	if b.Source.Kind != pipeline.SourceGo || b.Source.Path != filepath.Join("../examples/pipeline/diamond", "double") {
		t.Errorf("b source %+v: fair:// paths are relative to the file", b.Source)
	}
	if p.Step("c").Resources.Memory != "64Mi" || !p.Step("d").Outputs[0].Value {
		t.Errorf("resources or values lost: %+v %+v", p.Step("c").Resources, p.Step("d").Outputs)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"name: p\nsteps:\n- name: a\n  source: ./a\n", `step a: source "./a": want fair://PATH`},
		{"name: p\nsteps:\n- name: a\n", "step a: no source"},
		{"name: p\nsteps:\n- name: a\n  image: x\n  gpu: 1\n", `line 5: unknown key "gpu"`},
		{"name: p\nsteps:\n- name: a\n  source: fair:///home/me/.ssh\n  command: [cat]\n", "must be relative"},
		{"name: p\nsteps:\n- name: a\n  source: fair://../../elsewhere\n  command: [cat]\n", "leaves the project"},
		// y and n are names, not YAML 1.1 booleans: the cycle is found.
		{"name: p\nsteps:\n- name: x\n  image: i\n  inputs: {shards: y.squares}\n  outputs: [squares]\n- name: y\n  image: i\n  inputs: {shards: x.squares}\n  outputs: [squares]\n", "cycle: x -> y -> x"},
		{"name: p\nsteps:\n- name: a\n  image: x\n  inputs: {d: b.out}\n", `input d comes from unknown step "b"`},
		{"name: p\nsteps:\n- name: a\n  image: x\n  resources: {tolerations: ['k:Sometimes']}\n", "effect must be"},
	} {
		_, err := pipeline.Parse([]byte(tc.yaml), ".")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	p, err := pipeline.Parse([]byte("name: p\nsteps:\n- name: y\n  image: i\n  values: [n]\n- name: n\n  image: i\n  inputs: {n: y.n, no: y.n}\n"), ".")
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Step("n").Inputs; len(in) != 2 || in[0].Name != "n" || in[0].From != "y.n" || in[1].Name != "no" {
		t.Errorf("inputs named n and no: %+v", in)
	}
	p, err = pipeline.Parse([]byte("name: p\nsteps:\n- name: a\n  source: fair://nb.ipynb#train\n- name: b\n  source: fair://./py\n  command: [python, b.py]\n"), "/src")
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Step("a").Source; s.Kind != pipeline.SourceNotebook || s.Path != "/src/nb.ipynb" || s.Section != "train" {
		t.Errorf("notebook source %+v", s)
	}
	if s := p.Step("b").Source; s.Kind != pipeline.SourceDir || s.Path != "/src/py" {
		t.Errorf("dir source %+v", s)
	}
}

func writeNotebook(t *testing.T, cells string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nb.ipynb")
	if err := os.WriteFile(p, []byte(`{"cells":[`+cells+`],"metadata":{},"nbformat":4,"nbformat_minor":5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNotebookErrors(t *testing.T) {
	p := writeNotebook(t, `{"cell_type":"code","metadata":{"tags":["step:a"]},"source":"x := 1"},
		{"cell_type":"code","metadata":{"tags":["step:b","prev:nope"]},"source":"y := 2"}`)
	if _, err := pipeline.FromNotebook(p); err == nil || !strings.Contains(err.Error(), `step b: runs after unknown step "nope"`) {
		t.Errorf("unknown prev: err = %v", err)
	}
	p = writeNotebook(t, `{"cell_type":"code","metadata":{},"source":"x := 1"}`)
	if _, err := pipeline.FromNotebook(p); err == nil || !strings.Contains(err.Error(), "no cell is tagged step:NAME") {
		t.Errorf("untagged: err = %v", err)
	}
	p = writeNotebook(t, `{"cell_type":"code","metadata":{"tags":["step:a","in:x=a.y","out:y"]},"source":"x := 1"}`)
	if _, err := pipeline.FromNotebook(p); err == nil || !strings.Contains(err.Error(), "cycle: a -> a") {
		t.Errorf("self input: err = %v", err)
	}
}

// TestNotebookPipelineRunsLocally turns examples/notebooks/pipeline.ipynb
// into its three step programs, compiles each with the Go toolchain and runs
// them in order, passing files the way the step runtime does.
func TestNotebookPipelineRunsLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles three programs")
	}
	nb := "../examples/notebooks/pipeline.ipynb"
	p, err := pipeline.FromNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range p.Order() {
		order = append(order, s.Name)
	}
	if !reflect.DeepEqual(order, []string{"ingest", "transform", "count"}) {
		t.Fatalf("order %v", order)
	}
	data := t.TempDir()
	out := func(step, name string) string { return filepath.Join(data, step+"."+name) }
	var last string
	for _, s := range p.Order() {
		src, err := pipeline.NotebookStep(nb, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := src.Program(dir); err != nil {
			t.Fatalf("step %s: %v", s.Name, err)
		}
		prog := readTree(t, dir)
		if strings.Contains(prog, "exploring in the notebook only") || strings.Contains(prog, "%kf") {
			t.Fatalf("step %s contains a fair:skip cell:\n%s", s.Name, prog)
		}
		bin := filepath.Join(dir, "step")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = dir
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("step %s does not compile: %v\n%s\n%s", s.Name, err, b, prog)
		}
		run := exec.Command(bin)
		run.Env = os.Environ()
		for _, in := range s.Inputs {
			from, o, _ := strings.Cut(in.From, ".")
			run.Env = append(run.Env, "FAIR_IN_"+in.Name+"="+out(from, o))
		}
		for _, o := range s.Outputs {
			run.Env = append(run.Env, "FAIR_OUT_"+o.Name+"="+out(s.Name, o.Name))
		}
		b, err := run.CombinedOutput()
		if err != nil {
			t.Fatalf("step %s: %v\n%s", s.Name, err, b)
		}
		last = string(b)
	}
	if last != "words: 9\n" {
		t.Errorf("count printed %q", last)
	}
	if b, _ := os.ReadFile(out("count", "count")); string(b) != "9" {
		t.Errorf("count value %q, want 9", b)
	}
}

// readTree is every Go file under dir, for messages and checks.
func readTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".go") {
			data, rerr := os.ReadFile(p)
			b.WriteString("// " + p + "\n" + string(data) + "\n")
			return rerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A later step reaches a helper an earlier step's cell declares, without
// running that step's statements; the build uses the kernel's generator, so
// a compile error names the notebook's cell and line.
func TestNotebookStepDeclarationsOnly(t *testing.T) {
	nb := writeNotebook(t, `{"cell_type":"code","metadata":{},"source":"import \"fmt\"\n\nbase := 20"},
{"cell_type":"code","metadata":{"tags":["step:a"]},"source":"func double(x int) int { return 2 * x }\n\nfmt.Println(\"a ran\")"},
{"cell_type":"code","metadata":{"tags":["step:b","prev:a"]},"source":"fmt.Println(\"b:\", double(base+1))"}`)
	src, err := pipeline.NotebookStep(nb, "b")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	must(t, src.Program(dir))
	run := exec.Command("go", "run", ".")
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s\n%s", err, out, readTree(t, dir))
	}
	if string(out) != "b: 42\n" {
		t.Errorf("step b printed %q, want only its own line", out)
	}

	// A compile error names the cell and line of the notebook.
	bad := writeNotebook(t, `{"cell_type":"code","metadata":{"tags":["step:a"]},"source":"x := 1\nundefinedThing(x)"}`)
	src, err = pipeline.NotebookStep(bad, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), src); err == nil || !strings.Contains(err.Error(), "cell 1 line 2") {
		t.Errorf("compile error: %v, want it to name cell 1 line 2", err)
	}
}

// Any pipeline.yaml is read without a panic; one that is read is valid.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../examples/pipeline/values/pipeline.yaml")
	f.Add(b)
	f.Add([]byte("name: x\nsteps:\n- name: y\n  image: i\n  inputs: {n: y.n}\n  values: [n]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := pipeline.Parse(data, t.TempDir())
		if err == nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("parsed but not valid: %v", err)
			}
		}
	})
}
