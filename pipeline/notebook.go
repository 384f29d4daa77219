package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/imports"

	"github.com/fair-go/fair/notebook"
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

type nbCell struct {
	Type     string          `json:"cell_type"`
	Source   json.RawMessage `json:"source"`
	Metadata struct {
		Tags []string `json:"tags"`
	} `json:"metadata"`
}

type nbSection struct {
	step  *Step
	cells []string
}

// notebookSections reads an .ipynb and splits its code cells: cells before
// the first step:NAME tag are shared, each step:NAME cell starts a step, and
// untagged cells continue the step above them.
func notebookSections(path string) (name string, shared []string, steps []*nbSection, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, nil, err
	}
	var nb struct {
		Cells []nbCell `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return "", nil, nil, fmt.Errorf("%s: not a notebook: %v", path, err)
	}
	var cur *nbSection
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		src, err := cellSource(c.Source)
		if err != nil {
			return "", nil, nil, fmt.Errorf("%s: cell %d: %v", path, i+1, err)
		}
		skip := false
		for _, tag := range c.Metadata.Tags {
			tag = strings.TrimSpace(tag)
			switch {
			case tag == TagSkip:
				skip = true
			case strings.HasPrefix(tag, TagStep):
				n := strings.TrimPrefix(tag, TagStep)
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
		if skip {
			continue
		}
		for _, tag := range c.Metadata.Tags {
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
				return "", nil, nil, fmt.Errorf("%s: cell %d: %v", path, i+1, err)
			}
		}
		if cur == nil {
			shared = append(shared, src)
		} else {
			cur.cells = append(cur.cells, src)
		}
	}
	name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return sanitizeName(name), shared, steps, nil
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

func cellSource(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return "", fmt.Errorf("source is neither a string nor a list of strings")
	}
	return strings.Join(lines, ""), nil
}

func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if len(n) > 40 {
		n = strings.Trim(n[:40], "-")
	}
	if n == "" {
		n = "pipeline"
	}
	return n
}

// FromNotebook reads a notebook whose code cells are tagged step:NAME (plus
// prev:NAME, in:NAME=STEP.OUT, out:NAME, value:NAME, fair:skip) into a
// pipeline named after the file. Each step is built from its own cells plus
// the notebook's shared cells (see NotebookProgram).
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

// NotebookProgram synthesizes the Go main program of one notebook step: the
// imports and declarations of every cell that is not skipped (so helpers
// defined anywhere are in reach), then the statements of the shared cells
// and of the step's own cells as the body of main. Magics, shell lines and
// %%cell magics are left out; imports are fixed up as goimports does.
func NotebookProgram(path, step string) ([]byte, error) {
	_, shared, sections, err := notebookSections(path)
	if err != nil {
		return nil, err
	}
	var own []string
	var all []string
	found := false
	all = append(all, shared...)
	for _, s := range sections {
		all = append(all, s.cells...)
		if s.step.Name == step {
			own, found = s.cells, true
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no step %q (tag a cell step:%s)", path, step, step)
	}
	var head, decls, body bytes.Buffer
	head.WriteString("// Code generated by fair from " + filepath.Base(path) + ", step " + step + ". DO NOT EDIT.\n\npackage main\n\n")
	for _, src := range all {
		cell, err := notebook.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		for _, c := range cell.Of(notebook.Import) {
			head.WriteString(cell.Text(c) + "\n")
		}
		for _, c := range cell.Of(notebook.Decl) {
			decls.WriteString(cell.Text(c) + "\n\n")
		}
	}
	for _, src := range append(append([]string{}, shared...), own...) {
		cell, err := notebook.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		for _, c := range cell.Of(notebook.Stmt) {
			body.WriteString(cell.Text(c) + "\n")
		}
	}
	src := head.String() + "\n" + decls.String() + "func main() {\n" + body.String() + useLocals(body.String()) + "}\n"
	out, err := imports.Process("main.go", []byte(src), &imports.Options{Comments: true, TabIndent: true, TabWidth: 8, FormatOnly: false})
	if err != nil {
		return nil, fmt.Errorf("%s: step %s: %v", path, step, err)
	}
	return out, nil
}

// useLocals returns "_ = x" for each variable the statements declare at
// top level, since a shared cell's variables need not be used by every step.
func useLocals(stmts string) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc f() {\n"+stmts+"\n}", 0)
	if err != nil {
		return "" // the compiler will report it against the program
	}
	var out strings.Builder
	seen := map[string]bool{}
	use := func(id *ast.Ident) {
		if id.Name != "_" && !seen[id.Name] {
			seen[id.Name] = true
			out.WriteString("\t_ = " + id.Name + "\n")
		}
	}
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						use(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						use(id)
					}
				}
			}
		}
	}
	return out.String()
}
