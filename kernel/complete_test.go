package kernel

import "testing"

func TestIsComplete(t *testing.T) {
	for code, want := range map[string]string{
		"x := 1":                    "complete",
		"x++":                       "complete",
		"fmt.Println(1)":            "complete",
		"%ls":                       "complete",
		"!ls -la":                   "complete",
		"x :=":                      "incomplete",
		"total = a +":               "incomplete",
		"s.":                        "incomplete",
		"f(a,":                      "incomplete",
		"func f() {":                "incomplete",
		"if x {\n}":                 "complete",
		"x := []int{1, 2,\n":        "incomplete",
		"y := 2 // a comment":       "complete",
		"y := 2 + // a comment":     "incomplete",
		"s := `raw\nstring":         "incomplete",
		"/* a comment":              "incomplete",
		"/* a comment */":           "complete",
		"if x {\n} else":            "incomplete",
		"defer":                     "incomplete",
		"x := y)":                   "invalid",
		"type T struct":             "incomplete",
		"var i interface":           "incomplete",
		"s := \"abc":                "invalid",
		"func (t T) M()":            "incomplete",
		"func f() (int, error)":     "incomplete",
		"func f() int { return 1 }": "complete",
	} {
		if got := isComplete(code)["status"]; got != want {
			t.Errorf("%q: %v, want %s", code, got, want)
		}
	}
}
