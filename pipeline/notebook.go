package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/nbsource"
)

// Notebook cell tags, Kale style.
const (
	TagStep  = "step:" // step:NAME starts step NAME; untagged cells after it belong to it
	TagPrev  = "prev:" // prev:NAME runs the step after NAME
	TagSkip  = "fair:skip"
	TagOut   = "out:"   // out:NAME declares an artifact output
	TagValue = "value:" // value:NAME declares a small value output
	TagIn    = "in:"    // in:NAME=STEP.OUTPUT feeds an input
)

type nbSection struct {
	step *Step
}

// nbCell is a code cell and the step it belongs to ("" for a shared cell).
type nbCell struct {
	code notebook.Code
	step string
}

// notebookSections reads an .ipynb and splits its code cells: cells before
// the first step:NAME tag are shared, each step:NAME cell starts a step, and
// untagged cells continue the step above them. Cells tagged fair:skip (or
// starting with //fair:skip) are left out.
func notebookSections(path string) (name string, cells []nbCell, steps []*nbSection, err error) {
	f, err := notebook.ReadFile(path)
	if err != nil {
		return "", nil, nil, err
	}
	var cur *nbSection
	for _, c := range f.Codes() {
		if c.Skipped() {
			continue
		}
		for _, tag := range c.Tags {
			if n, ok := strings.CutPrefix(strings.TrimSpace(tag), TagStep); ok {
				cur = nil
				for _, s := range steps {
					if s.step.Name == n {
						cur = s
					}
				}
				if cur == nil {
					cur = &nbSection{step: NewStep(n, Notebook(path, n))}
					steps = append(steps, cur)
				}
			}
		}
		for _, tag := range c.Tags {
			tag = strings.TrimSpace(tag)
			var err error
			switch {
			case strings.HasPrefix(tag, TagStep), tag == TagSkip:
			case strings.HasPrefix(tag, TagPrev), strings.HasPrefix(tag, TagOut), strings.HasPrefix(tag, TagValue), strings.HasPrefix(tag, TagIn):
				if cur == nil {
					err = fmt.Errorf("tag %q on a cell before any step:NAME cell", tag)
				} else {
					err = cur.tag(tag)
				}
			}
			if err != nil {
				return "", nil, nil, fmt.Errorf("%s: %s: %v", path, c.Label, err)
			}
		}
		owner := ""
		if cur != nil {
			owner = cur.step.Name
		}
		cells = append(cells, nbCell{code: c, step: owner})
	}
	name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return deployer.DNSLabel(name, "pipeline"), cells, steps, nil
}

func (s *nbSection) tag(tag string) error {
	switch {
	case strings.HasPrefix(tag, TagPrev):
		s.step.Needs(strings.TrimPrefix(tag, TagPrev))
	case strings.HasPrefix(tag, TagOut):
		s.step.Out(strings.TrimPrefix(tag, TagOut))
	case strings.HasPrefix(tag, TagValue):
		s.step.Value(strings.TrimPrefix(tag, TagValue))
	case strings.HasPrefix(tag, TagIn):
		n, from, ok := strings.Cut(strings.TrimPrefix(tag, TagIn), "=")
		if !ok {
			return fmt.Errorf("tag %q: want in:NAME=STEP.OUTPUT", tag)
		}
		s.step.In(n, from)
	}
	return nil
}

// FromNotebook reads a notebook whose code cells are tagged step:NAME (plus
// prev:NAME, in:NAME=STEP.OUT, out:NAME, value:NAME, fair:skip) into a
// pipeline named after the file. Each step is built from its own cells plus
// the notebook's shared cells (see NotebookStep).
func FromNotebook(path string) (*Pipeline, error) {
	name, _, sections, err := notebookSections(path)
	if err != nil {
		return nil, err
	}
	if len(sections) == 0 {
		return nil, fmt.Errorf("%s: no cell is tagged step:NAME", path)
	}
	p := &Pipeline{Name: name}
	for _, s := range sections {
		p.Steps = append(p.Steps, s.step)
	}
	return p, p.Validate()
}

// NotebookStep is the program of one notebook step as a build source. It
// is built the way the kernel runs cells and `fair build nb.ipynb` builds
// them (notebook/nbsource, with the go.mod next to the notebook): the
// shared cells and the step's own cells run in notebook order, and the
// other steps' cells contribute their imports and declarations only, so a
// helper defined in an earlier step's cell is in reach, as it was in the
// notebook, while that step's statements do not run.
func NotebookStep(path, step string, opts ...nbsource.Option) (*nbsource.Source, error) {
	name, cells, sections, err := notebookSections(path)
	if err != nil {
		return nil, err
	}
	found := false
	for _, s := range sections {
		found = found || s.step.Name == step
	}
	if !found {
		return nil, fmt.Errorf("%s: no step %q (tag a cell step:%s)", path, step, step)
	}
	var codes []notebook.Code
	for _, c := range cells {
		code := c.code
		cell, err := notebook.Parse(code.Source)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", filepath.Base(path), code.Label, err)
		}
		if cell.Magic != nil {
			if cell.Magic.Name != "" {
				continue // %%kf and other cell magics are not the program
			}
			code.Source = cell.Magic.Below() // GoNB's bare %% cell
		}
		if c.step != "" && c.step != step {
			if code.Source, err = notebook.Declarations(code.Source); err != nil {
				return nil, fmt.Errorf("%s: %s: %v", filepath.Base(path), code.Label, err)
			}
		}
		if cell, err := notebook.Parse(code.Source); err != nil || !cell.HasGo() {
			continue
		}
		codes = append(codes, code)
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%s: step %s has no Go code", path, step)
	}
	dir := filepath.Dir(path)
	sel := &notebook.Selection{Cells: codes, Entry: "step " + step}
	all := append([]nbsource.Option{nbsource.WithModule(dir), nbsource.WithBaseDir(dir), nbsource.WithName(name + "-" + step)}, opts...)
	return nbsource.New(sel, all...)
}
