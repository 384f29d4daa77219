// Package notebooks runs every notebook in examples/notebooks through the
// fair kernel with the real Jupyter client (jupyter nbconvert --execute)
// and checks the saved outputs.
package notebooks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type output struct {
	OutputType string            `json:"output_type"`
	Name       string            `json:"name"`
	Text       any               `json:"text"`
	Data       map[string]any    `json:"data"`
	EName      string            `json:"ename"`
	EValue     string            `json:"evalue"`
	Traceback  []string          `json:"traceback"`
	Metadata   map[string]any    `json:"metadata"`
	Transient  map[string]string `json:"transient"`
}

type cell struct {
	CellType string   `json:"cell_type"`
	Outputs  []output `json:"outputs"`
}

// code cell i (1-based) of an executed notebook
type executed []cell

func join(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var b strings.Builder
		for _, x := range t {
			b.WriteString(x.(string))
		}
		return b.String()
	}
	return ""
}

func (e executed) stdout(i int) string { return e.stream(i, "stdout") }
func (e executed) stderr(i int) string { return e.stream(i, "stderr") }

func (e executed) stream(i int, name string) string {
	var s string
	for _, o := range e[i-1].Outputs {
		if o.OutputType == "stream" && o.Name == name {
			s += join(o.Text)
		}
	}
	return s
}

func (e executed) result(i int) string {
	for _, o := range e[i-1].Outputs {
		if o.OutputType == "execute_result" {
			return join(o.Data["text/plain"])
		}
	}
	return ""
}

func (e executed) data(i int, mime string) []string {
	var out []string
	for _, o := range e[i-1].Outputs {
		if o.OutputType == "display_data" || o.OutputType == "execute_result" {
			if v, ok := o.Data[mime]; ok {
				if s := join(v); s != "" {
					out = append(out, s)
				} else {
					b, _ := json.Marshal(v)
					out = append(out, string(b))
				}
			}
		}
	}
	return out
}

func (e executed) err(i int) *output {
	for _, o := range e[i-1].Outputs {
		if o.OutputType == "error" {
			o := o
			return &o
		}
	}
	return nil
}

type bed struct {
	dir, root string
	env       []string
	// defaultWorkDir: kernels choose their work folder as they do for a
	// user (no FAIR_KERNEL_WORKDIR).
	defaultWorkDir bool
}

func setup(t *testing.T) *bed {
	t.Helper()
	for _, tool := range []string{"jupyter", "gcc", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: install Debian's jupyter-client python3-nbclient jupyter-nbconvert jupyter-notebook python3-ipykernel and gcc", tool)
		}
	}
	if err := exec.Command("jupyter", "nbconvert", "--version").Run(); err != nil {
		t.Skip("jupyter nbconvert is not installed (Debian: jupyter-nbconvert python3-nbclient)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fair := filepath.Join(dir, "fair")
	build := exec.Command("go", "build", "-o", fair, "./cmd/fair")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fair: %v\n%s", err, out)
	}
	prefix := filepath.Join(dir, "jupyter")
	if out, err := exec.Command(fair, "kernel", "install", "--prefix", prefix).CombinedOutput(); err != nil {
		t.Fatalf("fair kernel install: %v\n%s", err, out)
	}
	b := &bed{dir: dir, root: root, env: append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"PYDEVD_DISABLE_FILE_VALIDATION=1",
	)}
	list := exec.Command("jupyter", "kernelspec", "list")
	list.Env = b.env
	out, err := list.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "fair") {
		t.Fatalf("jupyter kernelspec list does not show fair: %v\n%s", err, out)
	}
	return b
}

// run executes a notebook with nbconvert and returns its code cells.
func (b *bed) run(t *testing.T, name string, timeout int, extra ...string) executed {
	t.Helper()
	return b.runFile(t, filepath.Join(b.root, "examples", "notebooks", name), timeout, extra...)
}

// runFile executes the notebook at src.
func (b *bed) runFile(t *testing.T, src string, timeout int, extra ...string) executed {
	t.Helper()
	nb, err := b.execute(src, timeout, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

// execute runs the notebook at src with nbconvert and returns its code cells.
func (b *bed) execute(src string, timeout int, extra ...string) (executed, error) {
	name := filepath.Base(src)
	outDir := filepath.Join(b.dir, "out")
	args := append([]string{"nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name=fair", fmt.Sprintf("--ExecutePreprocessor.timeout=%d", timeout),
		"--ExecutePreprocessor.startup_timeout=120",
		"--output-dir", outDir, "--output", name}, extra...)
	args = append(args, src)
	cmd := exec.Command("jupyter", args...)
	// A copy: subtests run notebooks in parallel, and appending to the
	// shared b.env could hand one kernel another's work folder.
	cmd.Env = append([]string(nil), b.env...)
	if !b.defaultWorkDir {
		cmd.Env = append(cmd.Env, "FAIR_KERNEL_WORKDIR="+filepath.Join(b.dir, "work-"+strings.TrimSuffix(name, ".ipynb")))
	}
	cmd.Dir = filepath.Dir(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nbconvert %s: %v\n%s", name, err, out)
	}
	raw, err := os.ReadFile(filepath.Join(outDir, name))
	if err != nil {
		return nil, err
	}
	var nb struct{ Cells []cell }
	if err := json.Unmarshal(raw, &nb); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var code executed
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			code = append(code, c)
		}
	}
	return code, nil
}

func expect(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s: got %q, want it to contain %q", what, got, want)
	}
}

func noErrors(t *testing.T, nb executed) {
	t.Helper()
	for i := range nb {
		if e := nb.err(i + 1); e != nil {
			t.Errorf("cell %d: unexpected error %s: %s\n%s", i+1, e.EName, e.EValue, strings.Join(e.Traceback, "\n"))
		}
	}
}

func TestNotebooks(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("state", func(t *testing.T) {
		t.Parallel()
		nb := b.run(t, "state.ipynb", 600)
		noErrors(t, nb)
		expect(t, "workers started", nb.stdout(1), "3 workers started")
		expect(t, "jobs fed to goroutines of cell 1", nb.stdout(2), "job 5: sum(1..50) = 1275")
		expect(t, "counter kept across cells", nb.result(5), "42")
		expect(t, "first definition", nb.result(7), "hello v1")
		expect(t, "redefinition", nb.result(9), "hello v2")
		expect(t, "goroutines finish", nb.stdout(10), "workers done; jobs sent before: 5")
	})

	t.Run("repl", func(t *testing.T) {
		t.Parallel()
		nb := b.run(t, "repl.ipynb", 600)
		noErrors(t, nb)
		expect(t, "trailing expression", nb.result(3), "5")
		expect(t, "generics", nb.result(4), "5")
		expect(t, "map", nb.result(5), "2")
		expect(t, "string result", nb.result(6), "3-4")
		expect(t, "multi-value statement", nb.stdout(7), "2 <nil> 15")
		expect(t, "missing import added", nb.result(8), "MISSING IMPORTS ARE ADDED")
	})

	t.Run("display", func(t *testing.T) {
		t.Parallel()
		nb := b.run(t, "display.ipynb", 600)
		noErrors(t, nb)
		expect(t, "html", strings.Join(nb.data(1, "text/html"), ""), "<b>bold</b>")
		expect(t, "markdown", strings.Join(nb.data(1, "text/markdown"), ""), "## Markdown")
		expect(t, "svg", strings.Join(nb.data(1, "image/svg+xml"), ""), "<svg")
		expect(t, "json", strings.Join(nb.data(1, "application/json"), ""), `"epochs":3`)
		// update_display_data replaced the first epoch line in place.
		if got := nb.data(2, "text/markdown"); len(got) != 1 || got[0] != "epoch 3/3" {
			t.Errorf("updated display: got %q, want one output \"epoch 3/3\"", got)
		}
		expect(t, "HTML() method", strings.Join(nb.data(3, "text/html"), ""), "<table><tr><td>a</td>")
		expect(t, "image result", strings.Join(nb.data(4, "image/png"), ""), "iVBORw0KGgo")
	})

	t.Run("plot", func(t *testing.T) {
		t.Parallel()
		if os.Getenv("FAIR_TEST_OFFLINE") != "" {
			t.Skip("FAIR_TEST_OFFLINE is set: the plot notebook downloads gonum.org/v1/plot from the module proxy")
		}
		nb := b.run(t, "plot.ipynb", 600)
		noErrors(t, nb)
		pngs := nb.data(3, "image/png")
		if len(pngs) != 1 || !strings.HasPrefix(pngs[0], "iVBORw0KGgo") || len(pngs[0]) < 2000 {
			t.Errorf("plot: want one PNG, got %d outputs", len(pngs))
		}
		expect(t, "plot", nb.stdout(3), "plotted 50 points")
	})

	t.Run("compile_error", func(t *testing.T) {
		t.Parallel()
		nb := b.run(t, "compile_error.ipynb", 600)
		e := nb.err(2)
		if e == nil {
			t.Fatal("cell 2: no compile error")
		}
		expect(t, "error at the cell's line 3", e.EValue, "In[2] line 3")
		expect(t, "message", e.EValue, "undefined: undefinedThing")
		if e := nb.err(3); e == nil {
			t.Error("cell 3: no compile error")
		} else {
			expect(t, "type error at line 1", e.EValue, "In[3] line 1")
			expect(t, "user's own type name", e.EValue, "as point value")
		}
		expect(t, "state kept after compile errors", nb.result(4), "1")
	})

	t.Run("pipeline", func(t *testing.T) {
		t.Parallel()
		// The tagged cells run in the notebook too; %kf pipeline reads the
		// saved file relative to the notebook's folder.
		nb := b.run(t, "pipeline.ipynb", 600)
		noErrors(t, nb)
		expect(t, "skip cell runs in the notebook", nb.stdout(3), "exploring in the notebook only: 9 words")
		expect(t, "count step", nb.stdout(5), "words: 9")
		wf := nb.stdout(6)
		for _, want := range []string{"kind: Workflow", "name: ingest", "name: transform", "name: count", "fair://pipeline.ipynb#count"} {
			expect(t, "%kf pipeline compile", wf, want)
		}
	})

	t.Run("interrupt", func(t *testing.T) {
		t.Parallel()
		nb := b.run(t, "interrupt.ipynb", 60, "--ExecutePreprocessor.interrupt_on_timeout=True")
		expect(t, "cooperative cell", nb.stdout(2), "stopped cleanly after an interrupt")
		if e := nb.err(2); e == nil || e.EName != "KeyboardInterrupt" {
			t.Errorf("cell 2: want a KeyboardInterrupt error, got %+v", e)
		}
		expect(t, "state kept after interrupt", nb.result(3), "true")
		e := nb.err(4)
		if e == nil {
			t.Fatal("cell 4: no interrupt error")
		}
		tb := strings.Join(e.Traceback, "\n")
		expect(t, "restart reported", tb, "restarted")
		expect(t, "lost values named", tb, "total")
		expect(t, "how to write a cell that stops", tb, "when it checks nb.Context()")
		expect(t, "kernel alive, declarations replayed", nb.stdout(5), "the kernel is alive; total = 0")
	})
}

// TestImportsResolveThemselves runs a notebook written for gophernotes
// that imports gonum: the module is added to the notebook's module
// through the module proxy (one line says so) and the cell runs; a later
// cell uses it again; an import no module provides fails in one line
// naming the cell, the line and the import, and the kernel carries on.
func TestImportsResolveThemselves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nb := b.runFile(t, filepath.Join(b.root, "test", "notebooks", "testdata", "gonum.ipynb"), 600)
	for _, i := range []int{1, 2, 4} {
		if e := nb.err(i); e != nil {
			t.Fatalf("cell %d: %s: %s\n%s", i, e.EName, e.EValue, strings.Join(e.Traceback, "\n"))
		}
	}
	expect(t, "the module added", nb.stdout(1), "go: added gonum.org/v1/gonum v")
	expect(t, "gonum ran", nb.stdout(1), "det=-2.0")
	if strings.Count(nb.stdout(1), "go: added") != 1 || strings.Contains(nb.stdout(2), "go: added") {
		t.Errorf("the module is added once: %q %q", nb.stdout(1), nb.stdout(2))
	}
	expect(t, "second cell", nb.stdout(2), "3 7")
	e := nb.err(3)
	if e == nil || e.EName != "ImportError" || strings.Contains(e.EValue, "\n") ||
		!strings.Contains(e.EValue, `line 1: import "example.invalid/no/such/module": cannot add it`) || !strings.HasPrefix(e.EValue, "In[") {
		t.Errorf("unresolvable import: %+v", e)
	}
	expect(t, "kernel alive", nb.stdout(4), "still alive -2")
}

// TestWorkFolderKeptPerNotebookFolder: without FAIR_KERNEL_WORKDIR, the
// next kernel started for a notebook folder gets the module folder of the
// last one (its host already linked); two kernels running in the same
// folder at once get one each; another notebook folder gets its own.
func TestWorkFolderKeptPerNotebookFolder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(b.dir, "cache")
	var env []string
	for _, kv := range b.env {
		if !strings.HasPrefix(kv, "FAIR_KERNEL_WORKDIR=") {
			env = append(env, kv)
		}
	}
	// The kernels' folders go to a cache of the test's; Go's build cache
	// stays the warm one.
	nb := &bed{dir: b.dir, root: b.root, env: append(env, "XDG_CACHE_HOME="+cache, "GOCACHE="+strings.TrimSpace(string(gocache))), defaultWorkDir: true}
	notebook := func(dir, name string, sleep int) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(dir, name)
		cells := fmt.Sprintf(`[{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "%%workdir"},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "import \"time\"\ntime.Sleep(%d * time.Second)"}]`, sleep)
		doc := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "fair", "display_name": "Go (fair)", "language": "go"}}, "cells": ` + cells + `}`
		if err := os.WriteFile(src, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return src
	}
	workdir := func(e executed) string {
		t.Helper()
		noErrors(t, e)
		return strings.TrimSpace(e.stdout(1))
	}
	folder := filepath.Join(b.dir, "project")
	first := workdir(nb.runFile(t, notebook(folder, "a.ipynb", 0), 300))
	if !strings.HasPrefix(first, filepath.Join(cache, "fair", "kernels")+string(filepath.Separator)) {
		t.Fatalf("work folder %q is not in the user's cache", first)
	}
	if _, err := os.Stat(filepath.Join(first, "hostbin", "host")); err != nil {
		t.Errorf("the linked host did not stay: %v", err)
	}
	if again := workdir(nb.runFile(t, notebook(folder, "b.ipynb", 0), 300)); again != first {
		t.Errorf("the next kernel in %s got %s, want %s again", folder, again, first)
	}
	// Two at once in the same folder: one folder each.
	type result struct {
		nb  executed
		err error
	}
	got := make(chan result, 2)
	for _, name := range []string{"c.ipynb", "d.ipynb"} {
		src := notebook(folder, name, 4)
		go func() {
			nb, err := nb.execute(src, 300)
			got <- result{nb, err}
		}()
	}
	var dirs []string
	for range 2 {
		r := <-got
		if r.err != nil {
			t.Fatal(r.err)
		}
		dirs = append(dirs, workdir(r.nb))
	}
	if dirs[0] == dirs[1] {
		t.Errorf("two kernels running at once share %s", dirs[0])
	}
	if other := workdir(nb.runFile(t, notebook(filepath.Join(b.dir, "elsewhere"), "a.ipynb", 0), 300)); other == first {
		t.Errorf("another notebook folder got %s too", first)
	}
}

// TestGoNBMagics runs a notebook written for GoNB and IPython habits:
// %% with a program's arguments and flags defined in an earlier cell,
// %args, %main (a bad flag fails the cell, -h prints the usage and runs
// nothing), a flag cell run twice, %env in its three forms (seen by the
// cells and the !commands; the listing hides a token), %cd to a folder
// with a space (cells and !commands follow), and both kept when the
// kernel's Go process dies and is restarted; %ls, and %reset forgets the
// definitions but not the environment. A main cell's arguments do not
// leak into the next cell, and a cell declaring func main gets %args.
func TestGoNBMagics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "my data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "my data", "hello.txt"), []byte("from the data folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := "import \"flag\"\n\nvar lr = flag.Float64(\"lr\", 0.01, \"learning rate\")\nvar epochs = flag.Int(\"epochs\", 1, \"epochs\")"
	nb := b.runFile(t, writeNotebook(t, filepath.Join(dir, "gonb.ipynb"), []string{
		flags, // 1
		"%% --lr=0.5 --epochs=3\nfmt.Println(\"lr\", *lr, \"epochs\", *epochs, \"args\", flag.Args())",
		"%args --epochs=7 \"two words\"",
		"%%\nfmt.Println(\"epochs\", *epochs, \"args\", flag.Args())",
		"%main --nope\nfmt.Println(\"must not run\")", // 5
		"%main -h\nfmt.Println(\"must not run\")",
		flags,
		"%% --lr=0.25\nfmt.Println(\"again\", *lr, *epochs)",
		"%env MY_VAR hello world\n%env OTHER=x=y\n%env FAIR_TEST_TOKEN=s3cr3t\n!echo shell: $MY_VAR $OTHER",
		"import \"os\"\nfmt.Println(\"cell:\", os.Getenv(\"MY_VAR\"), os.Getenv(\"OTHER\"))", // 10
		"%env",
		"%env MY_VAR",
		"%cd \"my data\"\n!cat hello.txt",
		"b, _ := os.ReadFile(\"hello.txt\")\nfmt.Println(\"read:\", string(b))",
		"os.Exit(3)", // 15
		"wd, _ := os.Getwd()\nfmt.Println(\"after restart:\", filepath.Base(wd), os.Getenv(\"MY_VAR\"))",
		"%cd /nonexistent/dir",
		"%ls",
		"%reset", // 19
		"fmt.Println(*lr)",
		"fmt.Println(os.Getenv(\"MY_VAR\"))",
		"%% a b\nfmt.Println(\"main\", os.Args[1:])",
		"fmt.Println(\"plain\", os.Args[1:], flag.Args())",
		"%args -v x\nfunc main() { v := flag.Bool(\"v\", false, \"v\"); flag.Parse(); fmt.Println(\"func main\", *v, flag.Args()) }",
		"func main() { v := flag.Bool(\"v\", false, \"v\"); flag.Parse(); fmt.Println(\"func main\", *v, flag.Args()) }", // 25
		"fmt.Println(\"plain again\", os.Args[1:])",
		"os.Args = []string{\"prog\", \"own\"}",
		"fmt.Println(\"set by a cell\", os.Args[1:])", // 28
		"%args -bad\nfunc main() { v := flag.Bool(\"v\", false, \"verbose\"); flag.Parse(); fmt.Println(\"must not run\", *v) }",
		"%args -h\nfunc main() { v := flag.Bool(\"v\", false, \"verbose\"); flag.Parse(); fmt.Println(\"must not run\", *v) }", // 30
		"%args\nfmt.Println(\"after help\")",
		flags,
		"%args --epochs=9 -q\nfunc main() { q := flag.Bool(\"q\", false, \"quiet\"); flag.Parse(); fmt.Println(\"earlier flags\", *lr, *epochs, *q, flag.Args()) }",
		"%args -q rest\nmain()", // 34
		"%args\nfmt.Println(\"epochs now\", *epochs)",
	}), 600)
	for _, i := range []int{1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 30, 31, 32, 33, 34, 35} {
		if e := nb.err(i); e != nil {
			t.Errorf("cell %d: %s: %s", i, e.EName, e.EValue)
		}
	}
	expect(t, "%% ARGS parses earlier cells' flags", nb.stdout(2), "lr 0.5 epochs 3 args []")
	expect(t, "%args for a bare %%", nb.stdout(4), "epochs 7 args [two words]")
	if e := nb.err(5); e == nil || e.EName != "FlagError" || !strings.Contains(e.EValue, "-nope") {
		t.Errorf("cell 5: want a FlagError naming -nope, got %+v", e)
	}
	for _, i := range []int{5, 6, 29, 30} {
		if strings.Contains(nb.stdout(i), "must not run") {
			t.Errorf("cell %d ran its code: %q", i, nb.stdout(i))
		}
	}
	expect(t, "%main -h prints the usage", nb.stdout(6)+nb.stderr(6), "Usage of In[6]:")
	expect(t, "%main -h lists the flags", nb.stdout(6)+nb.stderr(6), "learning rate (default 0.01)")
	expect(t, "a flag cell run again redefines its flags", nb.stdout(8), "again 0.25 1")
	expect(t, "%env for !commands", nb.stdout(9), "shell: hello world x=y")
	expect(t, "%env for cells", nb.stdout(10), "cell: hello world x=y")
	expect(t, "%env lists", nb.stdout(11), "MY_VAR=hello world")
	expect(t, "%env hides a token", nb.stdout(11), "FAIR_TEST_TOKEN=<hidden>")
	if strings.Contains(nb.stdout(11), "s3cr3t") {
		t.Error("the env listing showed a token's value")
	}
	expect(t, "%env NAME", nb.stdout(12), "hello world")
	expect(t, "%cd for !commands", nb.stdout(13), "from the data folder")
	expect(t, "%cd for cells", nb.stdout(14), "read: from the data folder")
	if e := nb.err(15); e == nil {
		t.Error("cell 15: os.Exit(3) did not fail the cell")
	} else if strings.Contains(strings.Join(e.Traceback, "\n"), "nope") {
		t.Errorf("cell 15: the crash report repeats earlier cells' output:\n%s", strings.Join(e.Traceback, "\n"))
	}
	expect(t, "folder and environment kept after a restart", nb.stdout(16), "after restart: my data hello world")
	if e := nb.err(17); e == nil || !strings.Contains(e.EValue, "/nonexistent/dir") {
		t.Errorf("cell 17: want an error naming the folder, got %+v", e)
	}
	expect(t, "%ls lists the definitions", nb.stdout(18), "epochs")
	if e := nb.err(20); e == nil || !strings.Contains(e.EValue, "undefined: lr") {
		t.Errorf("cell 20: after %%reset, want undefined: lr, got %+v", e)
	}
	expect(t, "the environment outlives %reset", nb.stdout(21), "hello world")
	// A main cell's arguments are its own: the next cell does not see them.
	expect(t, "%% a b", nb.stdout(22), "main [a b]")
	expect(t, "after a main cell", nb.stdout(23), "plain [] []")
	// A cell that declares func main gets %args and parses its own flags,
	// also when run again.
	expect(t, "func main with %args", nb.stdout(24), "func main true [x]")
	expect(t, "func main again", nb.stdout(25), "func main true [x]")
	expect(t, "after func main", nb.stdout(26), "plain again []")
	// os.Args a cell sets itself stays, as in a program.
	expect(t, "os.Args set by a cell", nb.stdout(28), "set by a cell [own]")
	// func main's own flag.Parse ends the cell as the program would end:
	// a bad flag fails it, -h shows the usage only.
	if e := nb.err(29); e == nil || e.EName != "FlagError" || !strings.Contains(e.EValue, "-bad") {
		t.Errorf("cell 29: want a FlagError naming -bad, got %+v", e)
	}
	expect(t, "func main's -h prints the usage", nb.stdout(30)+nb.stderr(30), "verbose")
	expect(t, "after func main's -h", nb.stdout(31), "after help")
	expect(t, "%args alone clears them", nb.stdout(31), "arguments cleared (they were: -h)")
	// func main sees the flags earlier cells declared, starting from their
	// defaults as a program does; the flag it defines itself is its run's,
	// so main() run again defines it again.
	expect(t, "func main with earlier cells' flags", nb.stdout(33), "earlier flags 0.01 9 true []")
	expect(t, "main() with its own %args", nb.stdout(34), "earlier flags 0.01 1 true [rest]")
}

// TestGoNBDisplays runs GoNB's own display package, gonbui (from the
// module proxy, unchanged), in a notebook: HTML, Markdown, an image and
// SVG become the cell's displays, UpdateHTML replaces its display in
// place (the saved notebook holds the last step only), Sync returns, and
// gonbui knows it runs in a notebook.
func TestGoNBDisplays(t *testing.T) {
	t.Parallel()
	if os.Getenv("FAIR_TEST_OFFLINE") != "" {
		t.Skip("FAIR_TEST_OFFLINE is set: the notebook downloads github.com/janpfeifer/gonb from the module proxy")
	}
	b := setup(t)
	nb := b.runFile(t, writeNotebook(t, filepath.Join(t.TempDir(), "gonbui.ipynb"), []string{
		"%go get github.com/janpfeifer/gonb@v0.11.1",
		"import \"github.com/janpfeifer/gonb/gonbui\"\n\n%%\ngonbui.DisplayHTML(\"<b>bold from gonbui</b>\")\ngonbui.DisplayMarkdown(\"## from gonbui\")",
		"%%\nid := gonbui.UniqueId()\nfor i := 1; i <= 3; i++ {\n\tgonbui.UpdateHTML(id, fmt.Sprintf(\"step %d/3\", i))\n}\ngonbui.Sync()\nfmt.Println(\"synced\")",
		"import (\"image\"; \"image/color\")\n\n%%\nimg := image.NewRGBA(image.Rect(0, 0, 4, 4))\nimg.Set(1, 1, color.RGBA{255, 0, 0, 255})\nif err := gonbui.DisplayImage(img); err != nil {\n\tpanic(err)\n}\ngonbui.DisplaySVG(`<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>`)",
		"fmt.Println(\"in a notebook:\", gonbui.IsNotebook)",
	}), 600)
	noErrors(t, nb)
	expect(t, "DisplayHTML", strings.Join(nb.data(2, "text/html"), ""), "<b>bold from gonbui</b>")
	expect(t, "DisplayMarkdown", strings.Join(nb.data(2, "text/markdown"), ""), "## from gonbui")
	if got := nb.data(3, "text/html"); len(got) != 1 || got[0] != "step 3/3" {
		t.Errorf("UpdateHTML: got %q, want one display \"step 3/3\"", got)
	}
	expect(t, "Sync returns", nb.stdout(3), "synced")
	if png := nb.data(4, "image/png"); len(png) != 1 || !strings.HasPrefix(png[0], "iVBORw0KGgo") {
		t.Errorf("DisplayImage: got %q, want one PNG", png)
	}
	expect(t, "DisplaySVG", strings.Join(nb.data(4, "text/html"), ""), "<svg")
	expect(t, "IsNotebook", nb.stdout(5), "in a notebook: true")
}

// TestKernelEndsWithItsParent: a Jupyter client killed with SIGKILL sends
// no shutdown; the kernel (and its Go process) end on their own, as
// ipykernel's do, instead of living on.
func TestKernelEndsWithItsParent(t *testing.T) {
	b := setup(t)
	script := `
import time, sys
from jupyter_client import KernelManager
km = KernelManager(kernel_name="fair")
km.start_kernel()
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=120)
kc.execute_interactive("x := 1", timeout=120)
print(km.provisioner.pid, flush=True)
time.sleep(600)
`
	cmd := exec.Command(jupyterPython(t), "-c", script)
	cmd.Env = append(append([]string(nil), b.env...), "FAIR_KERNEL_WORKDIR="+filepath.Join(b.dir, "work-orphan"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second // the kernel holds the stderr pipe too
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var pid int
	if _, serr := fmt.Sscan(line, &pid); err != nil || serr != nil || pid <= 0 {
		t.Fatalf("kernel pid: %q %v\n%s", line, err, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(st), ") Z ") {
			return // gone (or a zombie no one has reaped yet)
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the kernel (pid %d) outlived its client by 20s", pid)
		}
	}
}

// jupyterPython is the Python that runs jupyter (its script's #! line),
// which has jupyter_client whatever python3 comes first on PATH.
func jupyterPython(t *testing.T) string {
	p, err := exec.LookPath("jupyter")
	if err != nil {
		t.Skip("jupyter not found")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if py, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok && !strings.Contains(py, " ") {
		return py
	}
	return "python3"
}
