package cellgen

import (
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
)

// Cell-local copies of a cell's own variables.
//
// A top-level x := v becomes a package variable (it outlives the cell), so
// a loop over it at the top level of a cell loads and stores memory each
// time round: summing 1..1e7 took 0.02 s, against 0.0036 s for the same
// loop inside a function. In a statement wrapper, a variable of this cell
// that nothing else can observe while the wrapper runs is read into a local
// once and written back to the package variable when the wrapper ends (at
// its end, and before a return), and the loop works on a register. A cell
// that panics defines nothing for later cells, so the write-back a panic
// skips is never missed.
//
// Nothing else can observe it when no function or closure of the cell
// refers to it, its address is not taken, it is not selected from, indexed
// or sliced (a method could keep its address), and every assignment to it
// is a statement of a block, where the write-back can follow (not a for,
// if or switch clause, a range key or a select case). Earlier cells cannot
// name it, and later cells run after the wrapper.
type localizer struct {
	cands map[string]bool          // this cell's top-level := names
	defs  map[*ast.AssignStmt]bool // this cell's top-level := statements
	bad   map[string]bool
}

// newLocalizer finds the variables the cell's wrappers may copy: the
// names its top-level := statements declare (not those a declaration of
// the cell or an earlier := already declared: the generator renames those),
// minus the ones the cell uses in a way a copy would change.
func newLocalizer(sts []*stmtInfo, decls []string, declared map[string]bool) *localizer {
	l := &localizer{cands: map[string]bool{}, defs: map[*ast.AssignStmt]bool{}, bad: map[string]bool{}}
	seen := map[string]bool{}
	for n := range declared {
		seen[n] = true
	}
	for _, si := range sts {
		as, ok := si.stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			continue
		}
		l.defs[as] = true
		for _, e := range as.Lhs {
			id, ok := e.(*ast.Ident)
			if !ok || id.Name == "_" {
				continue
			}
			if seen[id.Name] {
				l.bad[id.Name] = true
			}
			seen[id.Name] = true
			l.cands[id.Name] = true
		}
	}
	for _, si := range sts {
		l.scan(si.stmt)
	}
	for _, d := range decls {
		l.scanDecl(d)
	}
	return l
}

// refers reports whether id is the package variable of this cell.
func (l *localizer) refers(id *ast.Ident) bool {
	if id == nil || !l.cands[id.Name] {
		return false
	}
	if id.Obj == nil {
		return true // declared in another chunk of the cell: package scope
	}
	as, ok := id.Obj.Decl.(*ast.AssignStmt)
	return ok && l.defs[as]
}

func (l *localizer) mark(x ast.Expr) {
	if id, ok := x.(*ast.Ident); ok && l.refers(id) {
		l.bad[id.Name] = true
	}
}

// scan rules out the variables st uses in ways a local copy would change.
func (l *localizer) scan(st ast.Stmt) {
	var stack []ast.Node
	ast.Inspect(st, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		var parent ast.Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		switch x := n.(type) {
		case *ast.FuncLit:
			ast.Inspect(x.Body, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok {
					l.mark(id)
				}
				return true
			})
		case *ast.UnaryExpr:
			if x.Op == token.AND {
				l.mark(x.X)
			}
		case *ast.SelectorExpr:
			l.mark(x.X)
		case *ast.IndexExpr:
			l.mark(x.X)
		case *ast.IndexListExpr:
			l.mark(x.X)
		case *ast.SliceExpr:
			l.mark(x.X)
		case *ast.RangeStmt:
			l.mark(x.Key)
			l.mark(x.Value)
		case *ast.AssignStmt:
			if !inStatementList(parent, n) {
				for _, e := range x.Lhs {
					l.mark(e)
				}
			}
		case *ast.IncDecStmt:
			if !inStatementList(parent, n) {
				l.mark(x.X)
			}
		}
		stack = append(stack, n)
		return true
	})
}

// inStatementList reports whether statement n is in a list of statements
// (or is a wrapper's own statement), where another may follow it.
func inStatementList(parent, n ast.Node) bool {
	switch p := parent.(type) {
	case nil, *ast.BlockStmt, *ast.CaseClause:
		return true
	case *ast.CommClause:
		return p.Comm != n
	}
	return false
}

// scanDecl rules out the variables a declaration of the cell (a function,
// a method, a var initialiser) names: conservatively, any identifier token
// of that name (a regexp's \b would miss names in other scripts).
func (l *localizer) scanDecl(text string) {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(text)), []byte(text), nil, 0)
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return
		}
		if tok == token.IDENT && l.cands[lit] {
			l.bad[lit] = true
		}
	}
}

// wrapperLocals are the variables a wrapper of sts takes local copies of.
func (l *localizer) wrapperLocals(sts []stmtInfo) []string {
	used := map[string]bool{}
	for _, si := range sts {
		ast.Inspect(si.stmt, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && l.refers(id) && !l.bad[id.Name] {
				used[id.Name] = true
			}
			return true
		})
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeBacks returns where, in statement si's source text, the wrapper's
// locals must be written back to their package variables before it leaves
// early (a return; closures' own returns excepted), and what to insert.
// The wrapper writes them back at its end too.
func writeBacks(si stmtInfo, start int, ptr map[string]string, names []string, pos func(int) string) map[int]string {
	if len(names) == 0 {
		return nil
	}
	var wb strings.Builder
	for _, n := range names {
		fmt.Fprintf(&wb, "*%s = %s; ", ptr[n], n)
	}
	out := map[int]string{}
	ast.Inspect(si.stmt, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			at := int(x.Pos()) - 1 - si.off
			out[at-start] += wb.String() + pos(si.chunk.Offset+at)
		}
		return true
	})
	return out
}

// splice inserts ins (offset -> text) into src.
func splice(src string, ins map[int]string) string {
	if len(ins) == 0 {
		return src
	}
	offs := make([]int, 0, len(ins))
	for o := range ins {
		offs = append(offs, o)
	}
	sort.Ints(offs)
	var b strings.Builder
	last := 0
	for _, o := range offs {
		b.WriteString(src[last:o])
		b.WriteString(ins[o])
		last = o
	}
	b.WriteString(src[last:])
	return b.String()
}
