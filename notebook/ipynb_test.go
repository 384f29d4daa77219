package notebook

import (
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"bad json", "{\"nbformat\": 4,\n \"cells\": [}", "bad JSON at line 2, column 12"},
		{"not a notebook", `{"cells": []}`, "no nbformat field"},
		{"nbformat 3", `{"nbformat": 3, "worksheets": []}`, "nbformat 3; fair reads nbformat 4: convert it with `jupyter nbconvert --to notebook --nbformat 4 x.ipynb`"},
		{"python", `{"nbformat": 4, "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, "cells": []}`, "is a python notebook (kernel python3); fair builds Go notebooks"},
		{"wrong type", `{"nbformat": 4, "cells": {}}`, "cells has the wrong type"},
		{"bad source", `{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}`, "cell 1: source is neither a string nor a list of strings"},
	} {
		_, err := Decode("dir/x.ipynb", []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDecodeOtherGoKernels(t *testing.T) {
	// gophernotes and GoNB notebooks declare language go; list sources and
	// language_info-only metadata are accepted.
	for _, meta := range []string{
		`{"kernelspec": {"name": "gophernotes", "language": "go", "display_name": "Go"}}`,
		`{"kernelspec": {"name": "gonb", "language": "go"}, "language_info": {"name": "go"}}`,
		`{"language_info": {"name": "go"}}`,
		`{}`,
	} {
		f, err := Decode("x.ipynb", []byte(`{"nbformat": 4, "nbformat_minor": 4, "metadata": `+meta+`, "cells": [
			{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
			{"cell_type": "code", "metadata": {"tags": [" fair:skip "]}, "execution_count": 3, "outputs": [], "source": ["a := 1\n", "_ = a"]}]}`))
		if err != nil {
			t.Fatalf("%s: %v", meta, err)
		}
		c := f.Cells[1]
		if c.Index != 2 || c.Source != "a := 1\n_ = a" || c.Count != 3 || len(c.Tags) != 1 || c.Tags[0] != TagSkip {
			t.Errorf("%s: cell %+v", meta, c)
		}
		if codes := f.Codes(); len(codes) != 1 || codes[0].Label != "cell 2" {
			t.Errorf("codes: %+v", codes)
		}
	}
}

func TestSelect(t *testing.T) {
	c := func(label, src string, tags ...string) Code { return Code{Label: label, Source: src, Tags: tags} }
	labels := func(s *Selection) string {
		var out []string
		for _, c := range s.Cells {
			out = append(out, c.Label)
		}
		return strings.Join(out, ",")
	}
	base := []Code{
		c("cell 1", "x := 1"),
		c("cell 2", "%kf config registry=r"), // magics only: no Go
		c("cell 3", "y := 2", TagSkip),
		c("cell 4", "//fair:skip\nz := 3"),
		c("cell 5", "%%writefile a.txt\nhello"),
		c("cell 6", "!ls\nw := 4"),
	}
	for _, tc := range []struct {
		name, verb string
		cells      []Code
		body       *Code
		want       string // labels
		entry      string
		args       string
	}{
		{"every cell", "", base, nil, "cell 1,cell 6", "every code cell, in order", ""},
		{"kf train cell", "train", append(append([]Code{}, base...), c("cell 7", "%%kf train --gpus 1\nrun()"), c("cell 8", "after := 1")), nil,
			"cell 1,cell 6,cell 7", "the %%kf train cell (cell 7)", "--gpus 1"},
		{"build takes the train cell", "", append(append([]Code{}, base...), c("cell 7", "%%kf train\nrun()")), nil, "cell 1,cell 6,cell 7", "the %%kf train cell (cell 7)", ""},
		{"serve cell", "serve", append(append([]Code{}, base...), c("cell 7", "%%kf train\nrun()"), c("cell 8", "%%kf serve\nfunc p() {}")), nil,
			"cell 1,cell 6,cell 8", "the %%kf serve cell (cell 8)", ""},
		{"body", "train", base, &Code{Label: "In[9]", Source: "go()"}, "cell 1,cell 6,In[9]", "the %%kf train cell", ""},
		{"fair:main", "", []Code{c("a", "x := 1"), c("b", "train()", TagMain), c("c", "other()"), c("d", "//fair:main\nsave()")}, nil, "a,b,d", "the cells tagged fair:main", ""},
		{"func main", "", []Code{c("a", "x := 1"), c("b", "func main() { run() }"), c("c", "after()")}, nil, "a,b", "func main (b)", ""},
		{"GoNB %%", "", []Code{c("a", "func f() {}"), c("b", "%%\nf()")}, nil, "a,b", "every code cell, in order", ""},
	} {
		s, err := Select(tc.cells, tc.verb, tc.body)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := labels(s); got != tc.want || s.Entry != tc.entry || s.Args != tc.args {
			t.Errorf("%s: got %s / %q / %q, want %s / %q / %q", tc.name, got, s.Entry, s.Args, tc.want, tc.entry, tc.args)
		}
	}
	// The %%kf cell's body keeps its lines: line 2 of the cell is line 2.
	s, err := Select([]Code{c("cell 1", "%%kf train\nrun()")}, "train", nil)
	if err != nil || s.Cells[0].Source != "\nrun()" {
		t.Errorf("body lines: %v %q", err, s.Cells[0].Source)
	}
	if _, err := Select([]Code{c("cell 1", "%%writefile x\nhi")}, "", nil); err == nil {
		t.Error("a notebook without Go code was accepted")
	}
	if _, err := Select([]Code{c("cell 3", "x := 1)")}, "", nil); err == nil || !strings.Contains(err.Error(), "cell 3 line") {
		t.Errorf("syntax error: got %v, want it to name cell 3", err)
	}
}
