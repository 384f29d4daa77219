package cellgen

import (
	"strings"
	"testing"

	"github.com/fair-go/fair/notebook"
)

func generate(t *testing.T, s *Session, n int, src string, opt Options) string {
	t.Helper()
	c, err := notebook.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Generate(n, c, opt)
	if err != nil {
		t.Fatalf("cell %d: %v", n, err)
	}
	s.Commit(u)
	return string(u.Source)
}

func contains(t *testing.T, src string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(src, w) {
			t.Errorf("generated source lacks %q:\n%s", w, src)
		}
	}
}

func TestGenerateAcrossCells(t *testing.T) {
	s := NewSession("nb")
	c1 := generate(t, s, 1, "type point struct{ x, y int }\nfunc (p point) sum() int { return p.x + p.y }\ndata := []point{{x: 1, y: 2}}\ncount := 0", Options{})
	contains(t, c1,
		"type point struct{ Ξx, Ξy int `json:\"-\"` }", // fields exported, still hidden from JSON
		"func (p point) Ξsum() int { return p.Ξx + p.Ξy }",
		"Ξdata = ", // := at top level becomes a package variable
		"[]point{{Ξx: 1, Ξy: 2}}",
		"type Ξpoint = point", // exported alias keeps the type's own name
		"//line In[1]:1",
	)
	c2 := generate(t, s, 2, "count++\nm := map[string]int{\"a\": count}\ndata[0].sum()", Options{})
	contains(t, c2,
		`import c1 "nb/cells/c1"`,
		"c1.Ξcount++",
		`map[string]int{"a": c1.Ξcount}`,
		"Ξnb.Result(/*line In[2]:3:1*/c1.Ξdata[0].Ξsum())",
	)
	// Redefinition: later cells use the newest definition.
	generate(t, s, 3, "func f() int { return 1 }", Options{})
	generate(t, s, 4, "func f() int { return 2 }", Options{})
	contains(t, generate(t, s, 5, "f()", Options{}), "c4.Ξf()")
	// A method added to an earlier cell's type carries the type along.
	c6 := generate(t, s, 6, "func (p point) diff() int { return p.x - p.y }", Options{})
	contains(t, c6, "type point struct", "Ξsum()", "Ξdiff()")
	if s.Defs["point"].Cell != 6 {
		t.Errorf("point defined by cell %d, want 6", s.Defs["point"].Cell)
	}
}

// An exported type keeps its name: later cells refer to it as it is
// (there is no alias with the prefix), generic or not.
func TestExportedTypeAcrossCells(t *testing.T) {
	s := NewSession("nb")
	generate(t, s, 1, "type Point struct{ X, y int }\ntype Box[T any] struct{ V T }", Options{})
	c2 := generate(t, s, 2, "p := Point{X: 1, y: 2}\nb := Box[Point]{V: p}\nvar q *Point = &b.V", Options{})
	contains(t, c2, "c1.Point{X: 1, Ξy: 2}", "c1.Box[c1.Point]{V: Ξp}", "*c1.Point")
	if strings.Contains(c2, "c1.ΞPoint") || strings.Contains(c2, "c1.ΞBox") {
		t.Errorf("an exported type was referred to with the prefix:\n%s", c2)
	}
}

func TestGenerateStatements(t *testing.T) {
	s := NewSession("nb")
	src := generate(t, s, 1, "import \"fmt\"\na, err := fmt.Println(1)\nb, err := fmt.Println(2)\nfmt.Println(a, b, err)", Options{})
	contains(t, src, "Ξa, Ξerr = ", "Ξb, Ξtmp1 = ", "Ξerr = Ξtmp1", "Ξnb.Stmt(func() {")
	if strings.Contains(src, "Ξnb.Result") {
		t.Errorf("fmt.Println as last line shown as a result:\n%s", src)
	}
	src = generate(t, s, 2, "f()", Options{NoResult: true})
	if strings.Contains(src, "Result") {
		t.Errorf("NoResult ignored:\n%s", src)
	}
}

func TestGenerateErrorsUseCellLines(t *testing.T) {
	s := NewSession("nb")
	c, err := notebook.Parse("x := 1\ny := (x +\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Generate(1, c, Options{})
	if e, ok := err.(*Error); !ok || e.Line < 2 || e.File != "In[1]" {
		t.Fatalf("err %v, want an In[1] error on line 2 or later", err)
	}
}

func TestReplaySource(t *testing.T) {
	s := NewSession("nb")
	generate(t, s, 1, "import \"strings\"\ntype T struct{ a int }\nfunc (t T) get() int { return t.a }\nv := T{a: 1}\nw := strings.Repeat(\"x\", 2)", Options{})
	s.SetVarTypes(1, map[string]string{"Ξv": "T"})
	src, vars, lost := s.ReplaySource()
	contains(t, src, `import "strings"`, "type T struct{ a int }", "func (t T) get() int", "var v T")
	if strings.Join(vars, ",") != "v" || strings.Join(lost, ",") != "w" {
		t.Errorf("vars %v lost %v", vars, lost)
	}
}

func TestImportName(t *testing.T) {
	for p, want := range map[string]string{"fmt": "fmt", "gonum.org/v1/plot/plotter": "plotter",
		"gopkg.in/yaml.v3": "yaml", "github.com/x/y/v2": "y", "github.com/x/go-cmp": "cmp"} {
		if got := ImportName(p); got != want {
			t.Errorf("ImportName(%q) = %q, want %q", p, got, want)
		}
	}
}
