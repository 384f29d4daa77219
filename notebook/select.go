package notebook

import (
	"fmt"
	"strings"
)

// Cell tags (or directives on a cell's first line, for the kernel, which
// never sees tags) that steer what a program built from a notebook runs.
const (
	TagSkip = "fair:skip" // leave the cell out
	TagMain = "fair:main" // the cell is (part of) the entry
)

// Code is one cell's code on its way into a program built from a notebook.
type Code struct {
	Label  string // how messages name the cell: "cell 3", "In[5]"
	Source string
	Tags   []string
}

// Selection is the code a program built from a notebook runs, in order:
// the cells before the entry, then the entry.
type Selection struct {
	Cells []Code
	// Verb is what the entry asks for: "train" or "serve" for a %%kf cell,
	// "" otherwise.
	Verb string
	// Args are the flags written on the entry's %%kf line.
	Args string
	// Entry describes the entry for messages.
	Entry string
}

// Select picks the code of the program that does remotely what the
// notebook did locally: the code cells before the entry, in order, then
// the entry. The entry is body when given (the %%kf cell being run), else
// the first %%kf VERB cell (VERB "" takes train, then serve), else the
// cells tagged fair:main, else the cell that declares func main, else every
// cell. Cells tagged fair:skip, other %%cell magics and cells without Go
// code are left out; a bare %% cell (GoNB's main cell) counts as Go.
func Select(cells []Code, verb string, body *Code) (*Selection, error) {
	type item struct {
		code  Code
		magic *Magic
	}
	var items []item
	for _, c := range cells {
		if has(c, TagSkip) {
			continue
		}
		cell, err := Parse(c.Source)
		if err != nil {
			return nil, labelled(c.Label, err)
		}
		if cell.Magic != nil && cell.Magic.Name == "" {
			c.Source = cell.Magic.Body // GoNB: %% runs the cell as main
			if cell, err = Parse(c.Source); err != nil {
				return nil, labelled(c.Label, err)
			}
		}
		items = append(items, item{code: c, magic: cell.Magic})
	}
	goCells := func(items []item) []Code {
		var out []Code
		for _, it := range items {
			if it.magic != nil {
				continue
			}
			cell, _ := Parse(it.code.Source)
			if cell.HasGo() {
				out = append(out, it.code)
			}
		}
		return out
	}
	sel := &Selection{Verb: verb}
	if body != nil {
		before := goCells(items)
		sel.Cells = append(before, *body)
		sel.Entry = "the %%kf " + verb + " cell"
		return sel, nil
	}
	verbs := []string{verb}
	if verb == "" {
		verbs = []string{"train", "serve"}
	}
	for _, v := range verbs {
		for i, it := range items {
			if it.magic == nil || it.magic.Name != "kf" {
				continue
			}
			w, args, _ := strings.Cut(it.magic.Args, " ")
			if w != v {
				continue
			}
			before := goCells(items[:i])
			sel.Cells = append(before, Code{Label: it.code.Label, Source: it.magic.Below(), Tags: it.code.Tags})
			sel.Verb, sel.Args = v, strings.TrimSpace(args)
			sel.Entry = fmt.Sprintf("the %%%%kf %s cell (%s)", v, it.code.Label)
			return sel, nil
		}
	}
	for i, it := range items {
		if !has(it.code, TagMain) {
			continue
		}
		before := goCells(items[:i])
		var mains []item
		for _, m := range items[i:] {
			if has(m.code, TagMain) {
				mains = append(mains, m)
			}
		}
		entry := goCells(mains)
		sel.Cells = append(before, entry...)
		sel.Entry = "the cells tagged " + TagMain
		return sel, nil
	}
	all := goCells(items)
	for i, c := range all {
		if declaresMain(c.Source) {
			sel.Cells = all[:i+1]
			sel.Entry = "func main (" + c.Label + ")"
			return sel, nil
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("the notebook has no Go code to run")
	}
	sel.Cells = all
	sel.Entry = "every code cell, in order"
	return sel, nil
}

// has reports whether c is tagged tag, in its metadata or by a //tag
// comment on its first line.
// Skipped reports whether the cell is left out of programs: tagged
// fair:skip, or starting with a //fair:skip line.
func (c Code) Skipped() bool { return has(c, TagSkip) }

func has(c Code, tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	first := strings.TrimSpace(c.Source)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = strings.TrimSpace(first[:i])
	}
	if rest, ok := strings.CutPrefix(first, "//"); ok {
		return strings.TrimSpace(rest) == tag
	}
	return false
}

func declaresMain(src string) bool {
	cell, err := Parse(src)
	if err != nil {
		return false
	}
	for _, c := range cell.Of(Decl) {
		if c.Keyword != "func" {
			continue
		}
		text := strings.TrimSpace(strings.TrimPrefix(cell.Text(c), "func"))
		if strings.HasPrefix(text, "main(") || strings.HasPrefix(text, "main (") {
			return true
		}
	}
	return false
}

func labelled(label string, err error) error {
	if pe, ok := err.(*Error); ok {
		return fmt.Errorf("%s line %d:%d: %s", label, pe.Line, pe.Col, pe.Msg)
	}
	return fmt.Errorf("%s: %v", label, err)
}

// Codes returns the code cells of f, labelled by their position.
func (f *File) Codes() []Code {
	var out []Code
	for _, c := range f.Cells {
		if c.Type == "code" {
			out = append(out, Code{Label: c.Label(), Source: c.Source, Tags: c.Tags})
		}
	}
	return out
}
