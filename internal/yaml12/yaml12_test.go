package yaml12

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type step struct {
	Name   string            `json:"name"`
	Inputs map[string]string `json:"inputs,omitempty"`
	Values []string          `json:"values,omitempty"`
	CPU    string            `json:"cpu,omitempty"`
	GPUs   int               `json:"gpus,omitempty"`
	On     bool              `json:"on,omitempty"`
}

type file struct {
	Name  string `json:"name"`
	Steps []step `json:"steps"`
}

// YAML 1.1 would read y, n, yes, no, on and off as booleans.
func TestNamesStayNames(t *testing.T) {
	var f file
	err := Unmarshal([]byte(`name: no
steps:
- name: y
  inputs: {n: y.count, yes: off}
  values: [on, n]
  cpu: 2
  gpus: 1
  on: true
`), &f)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Steps[0]
	if f.Name != "no" || s.Name != "y" || s.Inputs["n"] != "y.count" || s.Inputs["yes"] != "off" ||
		strings.Join(s.Values, ",") != "on,n" || s.CPU != "2" || s.GPUs != 1 || !s.On {
		t.Fatalf("got %+v", f)
	}
}

// jsonIndexes reports whether encoding/json names list elements in a type
// error's field path ("steps.1.gpus"), as it does from Go 1.27 on; before,
// the path is "steps.gpus" and the line is that of the first element with
// the key.
func jsonIndexes() bool {
	var v struct{ A []struct{ B int } }
	var te *json.UnmarshalTypeError
	return errors.As(json.Unmarshal([]byte(`{"A":[{"B":"x"}]}`), &v), &te) && te.Field == "A.0.B"
}

func TestErrorsNameTheLine(t *testing.T) {
	field, second := "steps.gpus", "line 4: steps.gpus"
	if jsonIndexes() {
		field, second = "steps.0.gpus", `line 6: steps.1.gpus: want a whole number, got "many"`
	}
	for _, tc := range []struct{ in, want string }{
		{"name: a\nstepz: []\n", `line 2: unknown key "stepz"`},
		{"name: a\nsteps:\n- name: b\n  gpuz: 1\n", `line 4: unknown key "gpuz"`},
		{"name: a\nsteps:\n- name: b\n  gpus: many\n", `line 4: ` + field + `: want a whole number, got "many"`},
		{"name: a\nsteps:\n- name: b\n  gpus: 1\n- name: c\n  gpus: many\n", second},
		{"name: a\nsteps: {}\n", `line 2: steps: want a list, got a mapping`},
		{"name: a\nname: b\n", `line 2: key "name" is given twice`},
		{"name: [\n", "line 1"},
		{"name: a\nsteps:\n\t- name: b\n", "line 3: found character that cannot start any token (a tab: YAML indents with spaces)"},
		{"\t- tab\n", "line 1: found character that cannot start any token (a tab: YAML indents with spaces)"},
	} {
		var f file
		err := Unmarshal([]byte(tc.in), &f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestAliasBombRefused(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	var m map[string]any
	if err := Unmarshal([]byte(doc), &m); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyDocument(t *testing.T) {
	f := file{Name: "kept"}
	if err := Unmarshal([]byte("# nothing\n"), &f); err != nil || f.Name != "kept" {
		t.Fatalf("%v %+v", err, f)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte("name: y\nsteps: [{name: n, inputs: {n: y.x}}]\n"))
	f.Add([]byte("a: &a [1]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v file
		_ = Unmarshal(data, &v)
		var m map[string]any
		_ = Unmarshal(data, &m)
	})
}
