package cellgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fair-go/fair"
	"github.com/fair-go/fair/notebook"
)

// buildProgram writes the program for cells into a notebook module and
// runs the go command on it.
func buildProgram(t *testing.T, cells ...string) (string, error) {
	t.Helper()
	var codes []notebook.Code
	var labels []string
	for i, c := range cells {
		l := "cell " + string(rune('1'+i))
		codes = append(codes, notebook.Code{Label: l, Source: c})
		labels = append(labels, l)
	}
	files, err := Program("fairnb", codes)
	if err != nil {
		return "", err
	}
	dir := t.TempDir()
	files["go.mod"] = []byte(fair.NotebookGoMod("fairnb"))
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := fair.WriteSDK(filepath.Join(dir, fair.SDKDir)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", &Error{File: "build", Msg: strings.Join(ProgramErrors("fairnb", string(out), labels), "\n")}
	}
	return string(out), nil
}

func TestProgramRunsCellsInOrder(t *testing.T) {
	out, err := buildProgram(t,
		"import \"fmt\"\nn := 3\nfmt.Println(\"load\", n)",
		"type model struct{ w float64 }\nfunc (m *model) step() { m.w += 0.5 }\nm := &model{}",
		"for i := 0; i < n; i++ {\n\tm.step()\n}\nm.w", // trailing value: evaluated, not shown
		"n := \"redefined with another type\"\nfmt.Println(n, m.w)\nlen(n)",
		"func show() { fmt.Println(\"show\") }\nshow()",
	)
	if err != nil {
		t.Fatal(err)
	}
	want := "load 3\nredefined with another type 1.5\nshow\n"
	if out != want {
		t.Errorf("program printed %q, want %q", out, want)
	}
}

func TestProgramCompileErrorNamesTheCell(t *testing.T) {
	_, err := buildProgram(t,
		"x := 1\n_ = x",
		"y := 2\n_ = y",
		"z := 3\nfmt.Println(z + undefinedName)",
	)
	if err == nil {
		t.Fatal("want a compile error")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "cell 3 line 2:") || !strings.Contains(err.Error(), "undefined: undefinedName") {
		t.Errorf("error %q does not point at cell 3 line 2", err)
	}
}

// The same cells always give the same program, byte for byte: the kernel
// and fair build notebook.ipynb must produce the same image.
func TestProgramIsDeterministic(t *testing.T) {
	cells := []notebook.Code{
		{Label: "cell 1", Source: "import (\n\t\"fmt\"\n\t\"math/rand\"\n\t\"strings\"\n\t\"os\"\n)\nr := rand.New(rand.NewSource(1))\nfmt.Println(strings.ToUpper(\"a\"), os.Getpid() > 0, r.Intn(3))"},
		{Label: "cell 2", Source: "type a struct{ x int }\ntype b struct{ y int }\ntype c[T any] struct{ v T }\nfunc (p a) get() int { return p.x }\nfmt.Println(strings.Repeat(\"x\", 2), r.Intn(5), os.Args[0] != \"\")"},
	}
	first, err := Program("fairnb", cells)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := Program("fairnb", cells)
		if err != nil {
			t.Fatal(err)
		}
		for name, src := range first {
			if string(again[name]) != string(src) {
				t.Fatalf("%s differs between two generations:\n%s\n---\n%s", name, src, again[name])
			}
		}
	}
}

// A dot import is remembered: a later cell uses its names unqualified, a
// cell of only the import compiles, and a name a cell defines itself wins.
// Two dot imports live side by side; a cell that uses one gets only that
// one (the other would be an unused import).
func TestProgramDotImports(t *testing.T) {
	out, err := buildProgram(t,
		"import . \"strings\"",
		"import \"fmt\"\nfmt.Println(ToUpper(\"a\"))",
		"import . \"math\"\nx := Sqrt(16)",
		"fmt.Println(x, Repeat(\"ab\", 2))",
		"fmt.Println(Abs(-2))",
		"func Abs(v float64) float64 { return 7 }\nfmt.Println(Abs(-2))",
	)
	if err != nil {
		t.Fatal(err)
	}
	if want := "A\n4 abab\n2\n7\n"; out != want {
		t.Errorf("program printed %q, want %q", out, want)
	}
	if _, err := buildProgram(t, "import . \"strings\"", "import \"fmt\"\nfmt.Println(Nope(1))"); err == nil || !strings.Contains(err.Error(), "undefined: Nope") {
		t.Errorf("unknown name: %v", err)
	}
	// strings and bytes both export Repeat: the newest dot import wins; a
	// name only strings exports still comes from strings.
	out, err = buildProgram(t,
		"import . \"strings\"",
		"import . \"bytes\"",
		"import \"fmt\"\nfmt.Println(string(Repeat([]byte(\"ab\"), 2)), NewReplacer(\"a\", \"b\").Replace(\"aa\"))",
	)
	if err != nil || out != "abab bb\n" {
		t.Errorf("two dot imports of one name: %q %v", out, err)
	}
}
