package kernel

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"

	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/cellgen"
)

// The evaluator path: cells that only look at values are answered in the
// host without a compile (see kernel/eval).

// tryEval runs a cell that is one simple expression over the notebook's
// variables (fmt.Println(x), len(data), p.w[0]) in the host without
// compiling it. ok is false when the cell is not such a cell, and the
// caller compiles it.
func (e *Executor) tryEval(ctx context.Context, cell *notebook.Cell, count int, out Output, rs *runState) (ok bool, err error) {
	src, bind, ok := e.evalCandidate(cell)
	if !ok {
		return false, nil
	}
	m, err := e.exchange(ctx, out, rs, map[string]any{"op": "eval", "cell": count, "count": count, "value": src, "bind": bind})
	if err != nil {
		return true, err
	}
	if m.Text == "unsupported" {
		e.mu.Lock()
		rs.loaded = false
		e.mu.Unlock()
		return false, nil
	}
	if m.Error != nil {
		return true, &CellError{Name: m.Error.Name, Value: cellgen.CleanNames(m.Error.Value, Module), Traceback: m.Error.Traceback}
	}
	return true, nil
}

// evalCandidate says whether a cell is a single expression whose names are
// all notebook variables (or fmt, len, cap, true, false), and binds each
// variable to the cell package that defines its newest version.
func (e *Executor) evalCandidate(cell *notebook.Cell) (string, map[string]string, bool) {
	stmts := cell.Of(notebook.Stmt)
	if len(stmts) != 1 || len(cell.Of(notebook.Import, notebook.Decl)) > 0 {
		return "", nil, false
	}
	src := cell.Text(stmts[0])
	x, err := parser.ParseExpr(src)
	if err != nil {
		return "", nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	bind := map[string]string{}
	ok := true
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, isID := n.X.(*ast.Ident); isID && id.Name == "fmt" && e.session.Defs["fmt"] == nil {
				return false
			}
			ast.Inspect(n.X, visit)
			return false // a field name, not a variable
		case *ast.Ident:
			if d := e.session.Defs[n.Name]; d != nil {
				if d.Kind != "var" {
					ok = false
				}
				bind[n.Name] = fmt.Sprintf("%d:%s%s", d.Cell, cellgen.Prefix, n.Name)
				return false
			}
			switch n.Name {
			case "true", "false", "len", "cap":
			default:
				ok = false
			}
		}
		return ok
	}
	ast.Inspect(x, visit)
	return src, bind, ok
}
