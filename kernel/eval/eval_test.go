package eval

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

type inner struct{ Ξn int }

// Ξinner is the exported alias the kernel gives a cell's type, so that an
// embedded field is exported and its fields are promoted.
type Ξinner = inner

type point struct {
	Ξx, Ξy float64
	Name   string
	Ξinner
	Tags map[string]int
}

type hidden struct{ inner }

func (p point) String() string { return fmt.Sprintf("(%g, %g)", p.Ξx, p.Ξy) }

// capture runs f with os.Stdout going to a pipe and returns what it wrote.
func capture(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	f()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestEval(t *testing.T) {
	p := &point{Ξx: 1, Ξy: 2, Name: "a", Tags: map[string]int{"k": 7}}
	xs := []int{10, 20, 30}
	var nilp *point
	s := "héllo"
	h := hidden{}
	vars := map[string]any{"p": &p, "xs": &xs, "nilp": &nilp, "s": &s, "h": &h}
	for _, tc := range []struct {
		src    string
		out    string // printed
		result any    // shown
	}{
		{`fmt.Println(1)`, "1\n", nil},
		{`fmt.Println(1.5, "a", 'x', true)`, "1.5 a 120 true\n", nil},
		{`fmt.Printf("%d-%s\n", xs[1], p.Name)`, "20-a\n", nil},
		{`fmt.Print(p)`, "(1, 2)", nil}, // the value's own String method
		{`fmt.Println(*p, p.x, p.n)`, "(1, 2) 1 0\n", nil},
		{`len(xs)`, "", 3},
		{`cap(xs[:0])`, "", nil}, // slicing: not supported
		{`xs[2]`, "", 30},
		{`p.Tags["k"]`, "", 7},
		{`p.Tags["missing"]`, "", 0},
		{`(p.y)`, "", 2.0},
		{`s[1]`, "", byte(0xc3)},
		{`fmt.Sprintf("%.1f", p.x)`, "", "1.0"},
	} {
		e, err := Compile(tc.src, vars)
		if tc.src == `cap(xs[:0])` {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: got %v, want ErrUnsupported", tc.src, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		var v any
		out := capture(t, func() { v, err = e.Run() })
		if err != nil || out != tc.out || fmt.Sprint(v) != fmt.Sprint(tc.result) {
			t.Errorf("%s: printed %q result %v err %v; want %q, %v", tc.src, out, v, err, tc.out, tc.result)
		}
	}
	for _, src := range []string{
		`x := 1`, `p.String()`, `undefinedName`, `math.Pi`, `fmt.Println(p.nosuch)`, `xs[1] + 1`,
		`fmt.Printf(xs)`, `f(1)`, `fmt.Println(xs...)`, `9999999999999999999999`, `h.n`, `h.inner`,
	} {
		if _, err := Compile(src, vars); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", src, err)
		}
	}
	// A notebook variable named fmt hides the package, as in compiled Go.
	fmtVar := 3
	shadow := map[string]any{"fmt": &fmtVar, "s": &s}
	for _, src := range []string{`fmt.Println(s)`, `fmt.Sprint(s)`} {
		if _, err := Compile(src, shadow); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s with a variable fmt: got %v, want ErrUnsupported", src, err)
		}
	}
	// Run-time errors are the ones Go would panic with.
	for src, want := range map[string]string{
		`xs[5]`:               "runtime error: index out of range [5] with length 3",
		`fmt.Println(nilp.x)`: "runtime error: invalid memory address or nil pointer dereference",
	} {
		e, err := Compile(src, vars)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		out := capture(t, func() { _, err = e.Run() })
		var pe *Panic
		if !errors.As(err, &pe) || err.Error() != want || out != "" {
			t.Errorf("%s: err %v printed %q, want %q and nothing printed", src, err, out, want)
		}
	}
	if e, _ := Compile(`fmt.Println(1)`, nil); e == nil || !e.Prints || !e.Void {
		t.Error("fmt.Println is not marked as printing")
	}
	if e, _ := Compile(`len(xs)`, vars); e == nil || e.Prints || e.Void {
		t.Error("len(xs) is marked as printing")
	}
}
