package cellgen

import (
	"fmt"
	"sort"
	"strings"
)

// AddVarImports remembers packages that variable types refer to.
func (s *Session) AddVarImports(paths []string) {
	if s.varImports == nil {
		s.varImports = map[string]bool{}
	}
	for _, p := range paths {
		s.varImports[p] = true
	}
}

// ReplaySource returns one cell's worth of source that redeclares the
// newest version of every notebook declaration, with variables at their
// zero value. vars lists the variables redeclared; lost those that cannot
// be (their type has no name outside its package).
func (s *Session) ReplaySource() (src string, vars, lost []string) {
	return s.replay(true)
}

// ReplaySourceDecls is ReplaySource without any variables.
func (s *Session) ReplaySourceDecls() (src string, vars, lost []string) {
	return s.replay(false)
}

func (s *Session) replay(withVars bool) (string, []string, []string) {
	defs := make([]*Def, 0, len(s.Defs))
	for _, d := range s.Defs {
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Order < defs[j].Order })
	var b strings.Builder
	paths := map[string]bool{}
	for _, p := range s.Imports {
		paths[p] = true
	}
	for p := range s.varImports {
		paths[p] = true
	}
	var ps []string
	for p := range paths {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	for _, p := range ps {
		fmt.Fprintf(&b, "import %q\n", p)
	}
	var vars, lost []string
	seen := map[string]bool{}
	for _, d := range defs {
		switch d.Kind {
		case "var":
			if !withVars || d.VarType == "" {
				lost = append(lost, d.Name)
				continue
			}
			fmt.Fprintf(&b, "var %s %s\n", d.Name, d.VarType)
			vars = append(vars, d.Name)
		default:
			if seen[d.Text] {
				continue
			}
			seen[d.Text] = true
			b.WriteString(d.Text + "\n")
			for _, m := range d.Methods {
				b.WriteString(m + "\n")
			}
		}
	}
	return b.String(), vars, lost
}
