package cellgen

import (
	"regexp"
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

// afterEdit are the /*line*/ comments a rename leaves after itself (to
// keep the columns of what follows); contains compares without them.
var afterEdit = regexp.MustCompile("([\\pL\\pN_\"`])/\\*line [^*]*\\*/")

func contains(t *testing.T, src string, want ...string) {
	t.Helper()
	src = afterEdit.ReplaceAllString(src, "$1")
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
		"Ξ0nb.Result(/*line In[2]:3:1*/c1.Ξdata[0].Ξsum())",
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
	contains(t, src, "Ξa, Ξerr = ", "Ξb, Ξtmp1 = ", "Ξerr = Ξtmp1", "Ξ0nb.Stmt(func() {")
	if strings.Contains(src, "Ξ0nb.Result") {
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

// One cell is one block: a name declared twice, or a := that declares
// nothing new, is an error at its line, as Go says it, not a generated
// file's error or a silent assignment. Across cells names may be declared
// again, and := with one new name reuses the others.
func TestRedeclaredInOneCell(t *testing.T) {
	for src, want := range map[string]string{
		"var s = \"a\"\nvar s = \"b\"":            "In[1]:2:5: s redeclared in this cell",
		"x := 1\ntype y int\nfunc x() {}":         "In[1]:1:1: x redeclared in this cell",
		"z := 3\nz := 4":                          "In[1]:2:1: no new variables on left side of :=",
		"a, _ := 1, 2\na, _ = 3, 4\n_, a := 5, 6": "In[1]:3:1: no new variables on left side of :=",
	} {
		c, err := notebook.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewSession("nb").Generate(1, c, Options{})
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", src, err, want)
		}
	}
	s := NewSession("nb")
	generate(t, s, 1, "x := 1\nfunc init() {}\nfunc init() {}", Options{})
	generate(t, s, 2, "x := 2\nx, err := 3, error(nil)\n_ = err", Options{})
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

// A top-level loop works on a local copy of the cell's own variable and
// writes it back after each assignment; a variable a closure, a function,
// an address or a for clause can see keeps working on the package variable.
func TestGenerateLocalCopies(t *testing.T) {
	s := NewSession("nb")
	src := generate(t, s, 1, "import \"fmt\"\nsum := 0\nfor i := 1; i <= 10; i++ {\n\tsum += i\n}\nfmt.Println(sum)", Options{})
	contains(t, src, "Ξloc1 := &Ξsum; sum := *Ξloc1", "\tsum += i\n", "*Ξloc1 = sum\n\n})")
	if strings.Count(src, "Ξloc") != 3 { // declared, dereferenced, written back at the end
		t.Errorf("want one local copy written back once:\n%s", src)
	}
	// A return leaves the wrapper early: the copy is written back first.
	src = generate(t, NewSession("nb"), 1, "n := 0\nfor i := 0; i < 5; i++ {\n\tn++\n\tif n == 3 {\n\t\treturn\n\t}\n}", Options{})
	contains(t, src, "*Ξloc1 = n; /*line In[1]:5:3*/return")
	for _, c := range []string{
		"n := 0\ngo func() { n++ }()\nn = 2",        // a closure sees it
		"n := 0\np := &n\nn = 2\n_ = p",             // its address is taken
		"n := 0\nfor n = 0; n < 3; n++ {\n}",        // assigned in a for clause
		"n := 0\nfunc show() { println(n) }\nn = 2", // a function of the cell sees it
		"type T struct{ v int }\nn := T{}\nn.v = 3", // selected from (a method could keep &n)
		"n := []int{1}\nn[0] = 2",                   // indexed
		"n := 0\nfor n = range 3 {\n}",              // a range key
	} {
		if src := generate(t, NewSession("nb"), 1, c, Options{}); strings.Contains(src, " n := *Ξloc") {
			t.Errorf("%q: copied to a local, which would change what others see:\n%s", c, src)
		}
	}
	// A name in another script, seen by a function of the cell.
	if src := generate(t, NewSession("nb"), 1, "ñ := 0\nfunc show() { println(ñ) }\nñ = 2\nshow()", Options{}); strings.Contains(src, "ñ := *Ξloc") {
		t.Errorf("a variable a function of the cell reads was copied:\n%s", src)
	}
	// A user's own local of the same name inside a block is left alone.
	src = generate(t, NewSession("nb"), 1, "n := 1\nif true {\n\tn := 5\n\tn++\n\t_ = n\n}\nn = 3", Options{})
	contains(t, src, "n := *Ξloc1", "\tn := 5\n", "*Ξloc1 = n\n")
}

// Compiler messages name the user's code, not fair's runtime.
func TestCleanNamesRuntime(t *testing.T) {
	msg := "cannot use big (untyped int constant 1267650600228229401496703205376) as int value in argument to " + RuntimeName + ".Result (overflows)"
	want := "cannot use big (untyped int constant 1267650600228229401496703205376) as int value for the cell's result (overflows)"
	if got := CleanNames(msg, "nb"); got != want {
		t.Errorf("got %q", got)
	}
	if got := CleanNames("undefined: "+RuntimeName+".Stmt", "nb"); got != "undefined: nb.Stmt" {
		t.Errorf("got %q", got)
	}
}

// A panic's stack trace from a notebook's program names the cells and
// leaves fair's cell runtime out.
func TestMapTrace(t *testing.T) {
	trace := "[job-0] panic: fails remotely\n[job-0] \n[job-0] goroutine 1 [running]:\n" +
		"[job-0] fairnb/cells/c2.Ξtrain(...)\n[job-0] \tfairnb/cells/c2/go-cell-2:14\n" +
		"[job-0] fairnb/cells/c2.init.func1(...)\n[job-0] \tfairnb/cells/c2/go-cell-2:3\n" +
		"[job-0] github.com/fair-go/fair/kernel/nb.Stmt(...)\n[job-0] \tgithub.com/fair-go/fair@v0.0.0/kernel/nb/nb.go:167\n" +
		"[job-0] fairnb/cells/c2.init()\n[job-0] \tfairnb/cells/c2/cell.go:10 +0x5b\n" +
		"[job-0] main.main()\n[job-0] \t/src/main.go:3 +0x1d\n[job-0] \tgo-cell-9:1\n"
	got := MapTrace(trace, []string{"In[3]", "In[9]"})
	want := "[job-0] panic: fails remotely\n[job-0] \n[job-0] goroutine 1 [running]:\n" +
		"[job-0] In[9]: train(...)\n[job-0] \tIn[9] line 14\n" +
		"[job-0] In[9]: init.func1(...)\n[job-0] \tIn[9] line 3\n" +
		"[job-0] main.main()\n[job-0] \t/src/main.go:3 +0x1d\n[job-0] \tgo-cell-9:1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := "plain log line\n"; MapTrace(s, nil) != s {
		t.Error("a plain line changed")
	}
}

// Notebooks written for gophernotes import its display package: the cell
// gets fair's, which has its API (the module itself is not fetched).
func TestGophernotesDisplayImport(t *testing.T) {
	src := generate(t, NewSession("nb"), 1, "import \"github.com/gopherdata/gophernotes/display\"\ndisplay.HTML(\"<b>x</b>\")", Options{})
	if strings.Contains(src, "gopherdata") || !strings.Contains(src, DisplayPath) {
		t.Errorf("import not mapped:\n%s", src)
	}
}

// gophernotes' :import line is not Go: the error says what to write.
func TestColonCommandHint(t *testing.T) {
	c, err := notebook.Parse("x := 1\n:import \"strings\"")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewSession("nb").Generate(1, c, Options{})
	if err == nil || !strings.Contains(err.Error(), "In[1]:2:1") || !strings.Contains(err.Error(), `write import "fmt" for :import "fmt"`) {
		t.Errorf("got %v", err)
	}
}

// A position inside a compiler message names the cell's line, not the
// kernel's folders and generated file.
func TestCleanNamesPaths(t *testing.T) {
	msg := "method S.M already declared at /root/.cache/fair/kernels/nb-1948f049-0/cells/c17/In[17]:2:10[/root/.cache/fair/kernels/nb-1948f049-0/cells/c17/cell.go:11:10]"
	if got := CleanNames(msg, "nb"); got != "method S.M already declared at In[17]:2:10" {
		t.Errorf("got %q", got)
	}
}

// A cell that declares main runs it once, also when it calls main() itself
// as gophernotes notebooks do.
// Either way main runs through the runtime's Main, which gives it the
// flags of earlier cells.
func TestMainRunsOnce(t *testing.T) {
	calls := regexp.MustCompile(`\.Main\((/\*line [^*]*\*/)?Ξmain(/\*line [^*]*\*/)?\)`)
	for _, src := range []string{"func main() { println(1) }", "func main() { println(1) }\nmain()", "func main() { println(1) }\nx := 1\nmain()\nprintln(x)"} {
		if got := generate(t, NewSession("nb"), 1, src, Options{}); len(calls.FindAllString(got, -1)) != 1 || strings.Contains(got, "Ξmain()") {
			t.Errorf("%q: want main run once by Main:\n%s", src, got)
		}
	}
}

// An assignment to an earlier cell's constant or function is Go's error,
// at its line; a local of the same name, or a variable, may be assigned.
func TestAssignToConstant(t *testing.T) {
	s := NewSession("nb")
	generate(t, s, 1, "const limit = 5\nfunc dist() int { return 1 }\nvar v = 1", Options{})
	for src, want := range map[string]string{
		"limit = 3":       "In[2]:1:1: cannot assign to limit: a constant (In[1]); declare a variable to change it",
		"x := 1\nlimit++": "In[2]:2:1: cannot assign to limit: a constant (In[1]); declare a variable to change it",
		"for i := 0; i < 2; i++ {\n\tdist = nil\n}": "In[2]:2:2: cannot assign to dist: a function (In[1]); declare a variable to change it",
	} {
		c, err := notebook.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Generate(2, c, Options{}); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", src, err, want)
		}
	}
	generate(t, s, 3, "v = 3\nfunc() { limit := 1; limit++ }()", Options{})
}

// TestInitBeforeStatements: a cell's func init runs before its statements
// and its main, as a program runs init before main; its name stays out of
// what the cell defines.
func TestInitBeforeStatements(t *testing.T) {
	s := NewSession("nb")
	src := generate(t, s, 1, "func init() { println(\"init\") }\nprintln(\"statement\")\nfunc init() { println(\"second init\") }", Options{})
	first, stmt := strings.Index(src, Prefix+"0init1(); "+Prefix+"0init2()"), strings.Index(src, "println(\"statement\")")
	if first < 0 || stmt < 0 || first > stmt {
		t.Errorf("the inits are not called before the statement:\n%s", src)
	}
	if strings.Contains(src, "func init") {
		t.Errorf("func init kept its name:\n%s", src)
	}
	for name := range s.Defs {
		if strings.Contains(name, "init") {
			t.Errorf("defines %s", name)
		}
	}
	// A program pasted in a cell: init before main.
	src = generate(t, s, 2, "var n int\nfunc main() { println(n) }\nfunc init() { n = 3 }", Options{})
	if i, m := strings.Index(src, Prefix+"0init1()"), strings.Index(src, ".Main("+Prefix+"main"); i < 0 || m < 0 || i > m {
		t.Errorf("init is not called before main:\n%s", src)
	}
	// A cell of declarations only keeps Go's own init.
	if src := generate(t, s, 3, "var x = 1\nfunc init() { x = 2 }", Options{}); !strings.Contains(src, "func init()") {
		t.Errorf("a declarations-only cell renamed init:\n%s", src)
	}
}

// TestValuesOnLastLine: a last line "x, y", which notebooks show and Go
// has no statement for, shows its values at their own columns; elsewhere
// it is Go's parse error, and a program evaluates it without showing it.
func TestValuesOnLastLine(t *testing.T) {
	s := NewSession("nb")
	generate(t, s, 1, "x, y := 1, \"two\"", Options{})
	contains(t, generate(t, s, 2, "z := 3\n\tx,  y, len(y)  \n", Options{}), "Ξ0nb.Result(/*line In[2]:2:2*/c1.Ξx,  c1.Ξy, len(c1.Ξy))")
	contains(t, generate(t, s, 3, "x, y", Options{}), "Ξ0nb.Result(/*line In[3]:1:1*/c1.Ξx, c1.Ξy)")
	contains(t, generate(t, s, 4, "x, y", Options{Program: true}), "var _, _ = /*line In[4]:1:1*/c1.Ξx, c1.Ξy")
	for src, want := range map[string]string{
		"x, y\nprintln(x)":   "In[5]:1:1: expected 1 expression",
		"f(x,\n  y, 2":       "In[5]:2:7: missing ',' before newline in argument list",
		"if x > 0 {\nx, y }": "In[5]:2:1: expected 1 expression",
		"z := x +":           "In[5]:1:9: expected operand, found the end of the cell",
		"for {\n\tx++":       "In[5]:2:5: expected '}', found the end of the cell",
	} {
		c, err := notebook.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Generate(5, c, Options{}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %s", src, err, want)
		}
	}
}
