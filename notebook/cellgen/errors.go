package cellgen

import (
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"strings"

	"github.com/fair-go/fair/notebook"
)

// Error is a problem at a cell position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

func (g *gen) errorAt(cellOff int, msg string) error {
	l, c := g.cell.Position(cellOff)
	return &Error{File: g.opt.File, Line: l, Col: c, Msg: msg}
}

// syntaxError maps an error from parsing a statement chunk to the cell.
func (g *gen) syntaxError(err error, c notebook.Chunk) error {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		off := list[0].Pos.Offset - len(stmtPrefix)
		if off < 0 {
			off = 0
		}
		msg := list[0].Msg
		if off > c.End-c.Offset {
			// At the brace that closes the wrapper, past the cell's text.
			off = c.End - c.Offset
			msg = strings.Replace(msg, "found '}'", "found the end of the cell", 1)
		}
		if off == c.End-c.Offset {
			msg = strings.Replace(msg, "found 'EOF'", "found the end of the cell", 1)
		}
		if strings.HasPrefix(strings.TrimSpace(lineAt(g.cell.Source, c.Offset+off)), ":") {
			msg += ` (a line starting with ":" is a gophernotes command, not Go: write import "fmt" for :import "fmt")`
		}
		return g.errorAt(c.Offset+off, msg)
	}
	return &Error{File: g.opt.File, Msg: err.Error()}
}

// genSyntaxError maps an error from parsing the generated file, whose
// positions follow the line directives.
func (g *gen) genSyntaxError(fset *token.FileSet, err error) error {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		p := list[0].Pos
		if p.Filename == g.opt.File {
			return &Error{File: p.Filename, Line: p.Line, Col: p.Column, Msg: list[0].Msg}
		}
		return &Error{File: g.opt.File, Msg: list[0].Msg}
	}
	return &Error{File: g.opt.File, Msg: err.Error()}
}

// lineAt is the line of src holding offset off.
func lineAt(src string, off int) string {
	if off < 0 || off > len(src) {
		return ""
	}
	start := strings.LastIndexByte(src[:off], '\n') + 1
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		return src[start:]
	}
	return src[start : off+end]
}
