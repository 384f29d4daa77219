package notebook

import (
	"strings"
	"testing"
)

func TestParseSplitsCell(t *testing.T) {
	src := `%go get example.com/m@v1.0.0
import "fmt"
!ls -l
type point struct{ x, y int }
func (p point) sum() int { return p.x + p.y }
for i := 0; i < 3; i++ {
	fmt.Println(i)
}
x := point{1,
	2}
func() { fmt.Println("literal") }()
x.sum()`
	c, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range c.Chunks {
		got = append(got, ch.Kind.String()+"@"+itoa(ch.Line))
	}
	want := "magic@1 import@2 shell@3 declaration@4 declaration@5 statement@6 statement@9 statement@11 statement@12"
	if strings.Join(got, " ") != want {
		t.Fatalf("chunks:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if m := c.Chunks[0]; m.Keyword != "go" || m.Args != "get example.com/m@v1.0.0" {
		t.Errorf("magic: %+v", m)
	}
	if s := c.Chunks[2]; s.Args != "ls -l" {
		t.Errorf("shell: %+v", s)
	}
	if txt := c.Text(c.Chunks[6]); txt != "x := point{1,\n\t2}" {
		t.Errorf("multi-line statement text %q", txt)
	}
	if !c.HasGo() {
		t.Error("HasGo false")
	}
}

func TestParseCellMagic(t *testing.T) {
	c, err := Parse("%%kf train --gpus 1\nfmt.Println(1)\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Magic == nil || c.Magic.Name != "kf" || c.Magic.Args != "train --gpus 1" || c.Magic.Body != "fmt.Println(1)\n" {
		t.Fatalf("cell magic: %+v", c.Magic)
	}
	// GoNB's bare %%: an empty name, the rest is the body.
	if c, err := Parse("%%\nx := 1"); err != nil || c.Magic == nil || c.Magic.Name != "" || c.Magic.Body != "x := 1" {
		t.Errorf("bare %%%%: got %+v, %v", c, err)
	}
	// GoNB's %% ARGS: a space after %% makes the rest the program's
	// arguments, not a magic's name.
	for src, args := range map[string]string{"%% --lr=0.5 -v\nx := 1": "--lr=0.5 -v", "%%\t-h\nx := 1": "-h", "%%  \r\nx := 1": ""} {
		if c, err := Parse(src); err != nil || c.Magic == nil || c.Magic.Name != "" || c.Magic.Args != args || c.Magic.Body != "x := 1" {
			t.Errorf("%q: got %+v, %v; want a bare %%%% with args %q", src, c.Magic, err, args)
		}
	}
	if c, err := Parse("%%kf  train\nx := 1"); err != nil || c.Magic == nil || c.Magic.Name != "kf" || c.Magic.Args != "train" {
		t.Errorf("%%%%kf: got %+v, %v", c.Magic, err)
	}
	// Below blank lines, as IPython takes it; the body keeps its lines.
	c, err = Parse(" \n\r\n\t%%time\nx := 1\ny")
	if err != nil || c.Magic == nil || c.Magic.Name != "time" || c.Magic.Line != 3 || c.Magic.Body != "x := 1\ny" {
		t.Fatalf("%%%%time below blank lines: %+v, %v", c.Magic, err)
	}
	if b := c.Magic.Below(); b != "\n\n\nx := 1\ny" {
		t.Errorf("Below: %q", b)
	}
}

func TestParseErrors(t *testing.T) {
	for src, line := range map[string]int{
		"x := 1\n}\n":   2,
		"s := \"open\n": 1,
	} {
		_, err := Parse(src)
		e, ok := err.(*Error)
		if !ok || e.Line != line {
			t.Errorf("Parse(%q): err %v, want a line %d error", src, err, line)
		}
	}
}

func TestPosition(t *testing.T) {
	c := &Cell{Source: "ab\ncd\nef"}
	if l, col := c.Position(4); l != 2 || col != 2 {
		t.Errorf("Position(4) = %d:%d, want 2:2", l, col)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestDoc(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"/*\nint x;\n*/\nimport \"C\"", "/*\nint x;\n*/\nimport \"C\""},
		{"x := 1\n// #include <stdio.h>\n// static int y;\nimport \"C\"", "// #include <stdio.h>\n// static int y;\nimport \"C\""},
		{"// unrelated\n\n//go:embed a.txt\nvar s string", "//go:embed a.txt\nvar s string"},
		{"x := 1 /* not a doc */\nvar s string", "var s string"},
		{"var s string", "var s string"},
		{"/* a */ /* b */\nfunc f() {}", "/* a */ /* b */\nfunc f() {}"},
	} {
		cell, err := Parse(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		last := cell.Chunks[len(cell.Chunks)-1]
		if got := cell.Source[cell.Doc(last):last.End]; got != tc.want {
			t.Errorf("%q: doc and chunk %q, want %q", tc.src, got, tc.want)
		}
	}
	// A function literal with one result called at top level is a
	// statement; a method is a declaration.
	for src, want := range map[string]Kind{"func() int { return 1 }()": Stmt, "func (p T) Name() int { return 1 }": Decl, "func() (int, error) { return 1, nil }()": Stmt} {
		cell, _ := Parse(src)
		if k := cell.Chunks[0].Kind; k != want {
			t.Errorf("%q: %v, want %v", src, k, want)
		}
	}
}
