// Package notebook models Go notebooks: a cell's source split into the parts
// a Go program is made of (imports, declarations, statements, a trailing
// expression) and the parts that are not Go (%magics, %%cell magics, !shell
// lines). Every part keeps its position in the cell, so errors found in code
// generated from a cell can be reported against the cell's own lines. The
// kernel and the notebook-to-program builder share this model; it knows
// nothing about either.
package notebook

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
)

// Kind says what a chunk of a cell is.
type Kind int

// Chunk kinds.
const (
	Import    Kind = iota // an import declaration
	Decl                  // func, method, type, var or const declaration
	Stmt                  // a top-level statement
	LineMagic             // a %name args line
	Shell                 // a !command line
	Package               // a package clause: ignored, so a pasted program runs as a cell
)

func (k Kind) String() string {
	switch k {
	case Import:
		return "import"
	case Decl:
		return "declaration"
	case Stmt:
		return "statement"
	case LineMagic:
		return "magic"
	case Shell:
		return "shell"
	case Package:
		return "package clause"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Chunk is one top-level part of a cell. Offset and End index Cell.Source;
// Line and Col (1-based) are the position of Offset in the cell.
type Chunk struct {
	Kind        Kind
	Offset, End int
	Line, Col   int
	// Keyword is the leading keyword of a declaration ("func", "type",
	// "var", "const"); for a magic it is the magic's name.
	Keyword string
	// Args is the rest of a magic line after its name, or a shell command.
	Args string
}

// Magic is a %%name cell magic: the first line names it and the rest of the
// cell is its body. Name is empty for a bare %% line.
type Magic struct {
	Name string
	Args string
	Body string
	// Line is the cell line the %% line is on: 1, or more below blank
	// lines (IPython drops a cell's leading blank lines too).
	Line int
}

// Below is the body of a %%magic cell on the lines it has in the cell
// (the lines above it left blank), so positions in errors and stack traces
// are the cell's. A body that is itself a %%magic cell parses so too.
func (m *Magic) Below() string { return strings.Repeat("\n", max(m.Line, 1)) + m.Body }

// Cell is a parsed notebook cell.
type Cell struct {
	Source string
	// Magic is set when the cell starts with a %%cell magic; then Chunks is
	// empty and the body belongs to the magic.
	Magic  *Magic
	Chunks []Chunk
}

// Text returns the source text of c.
func (cell *Cell) Text(c Chunk) string { return cell.Source[c.Offset:c.End] }

// Of returns the chunks of the given kinds, in cell order.
func (cell *Cell) Of(kinds ...Kind) []Chunk {
	var out []Chunk
	for _, c := range cell.Chunks {
		for _, k := range kinds {
			if c.Kind == k {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// HasGo reports whether the cell holds any Go code.
func (cell *Cell) HasGo() bool { return len(cell.Of(Import, Decl, Stmt)) > 0 }

// Error is a syntax error at a cell line.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg) }

// Parse splits a cell's source into chunks. Lines starting with % or ! are
// magics and shell commands; the rest is Go, split at its top-level
// statement boundaries. Parse checks only the token structure; the Go
// compiler checks the rest.
func Parse(src string) (*Cell, error) {
	cell := &Cell{Source: src}
	if lead := len(src) - len(strings.TrimLeft(src, " \t\r\n")); strings.HasPrefix(src[lead:], "%%") {
		line := 1 + strings.Count(src[:lead], "\n")
		first, body, _ := strings.Cut(src[lead:], "\n")
		// A bare %% (GoNB's "run this cell as main", with the program's
		// arguments after a space) has an empty name.
		var name, args string
		if rest := strings.TrimRight(first[2:], "\r"); rest == "" || rest[0] == ' ' || rest[0] == '\t' {
			args = rest
		} else {
			name, args, _ = strings.Cut(strings.TrimSpace(rest), " ")
		}
		cell.Magic = &Magic{Name: name, Args: strings.TrimSpace(args), Body: body, Line: line}
		return cell, nil
	}
	// Blank out magic and shell lines so that the Go scanner sees the same
	// line structure as the cell.
	goSrc := []byte(src)
	var extra []Chunk
	off := 0
	for i, line := range strings.SplitAfter(src, "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "%") || strings.HasPrefix(trimmed, "!") {
			start := off + len(line) - len(trimmed)
			body := strings.TrimRight(trimmed, "\r\n")
			c := Chunk{Offset: start, End: start + len(body), Line: i + 1, Col: start - off + 1}
			if body[0] == '%' {
				c.Kind = LineMagic
				c.Keyword, c.Args, _ = strings.Cut(strings.TrimSpace(body[1:]), " ")
				c.Args = strings.TrimSpace(c.Args)
			} else {
				c.Kind = Shell
				c.Args = strings.TrimSpace(body[1:])
			}
			extra = append(extra, c)
			for j := start; j < c.End; j++ {
				goSrc[j] = ' '
			}
		}
		off += len(line)
	}
	chunks, err := splitGo(goSrc)
	if err != nil {
		return nil, err
	}
	// Merge magic/shell chunks and Go chunks in cell order.
	cell.Chunks = mergeChunks(chunks, extra)
	return cell, nil
}

func mergeChunks(a, b []Chunk) []Chunk {
	out := make([]Chunk, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || (len(a) > 0 && a[0].Offset < b[0].Offset) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// splitGo cuts Go source at the semicolons (written or automatic) that end
// top-level items.
func splitGo(src []byte) ([]Chunk, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, src, func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)

	var chunks []Chunk
	depth := 0
	header := false
	var cur *Chunk
	var toks []token.Token
	var lits []string
	finish := func(end int) {
		if cur == nil {
			return
		}
		cur.End = end
		classify(cur, toks, lits)
		chunks = append(chunks, *cur)
		cur, toks, lits = nil, nil, nil
	}
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		off := file.Offset(pos)
		if depth == 0 {
			switch tok {
			case token.FOR, token.IF, token.SWITCH:
				header = true // semicolons up to the block belong to the header
			case token.LBRACE:
				header = false
			}
		}
		if tok == token.SEMICOLON && depth == 0 && !header {
			end := off
			if lit == ";" {
				end = off + 1
			}
			finish(end)
			continue
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
			if depth < 0 {
				p := fset.Position(pos)
				return nil, &Error{Line: p.Line, Col: p.Column, Msg: "unexpected " + tok.String()}
			}
		}
		if cur == nil {
			p := fset.Position(pos)
			cur = &Chunk{Offset: off, Line: p.Line, Col: p.Column}
		}
		if len(toks) < 24 {
			toks = append(toks, tok)
			lits = append(lits, lit)
		}
	}
	if len(errs) > 0 {
		e := errs[0]
		return nil, &Error{Line: e.Pos.Line, Col: e.Pos.Column, Msg: e.Msg}
	}
	finish(len(src))
	// Trim trailing blanks off chunk ends (the last chunk runs to EOF).
	for i := range chunks {
		for chunks[i].End > chunks[i].Offset && strings.ContainsRune(" \t\r\n", rune(src[chunks[i].End-1])) {
			chunks[i].End--
		}
	}
	return chunks, nil
}

func classify(c *Chunk, toks []token.Token, lits []string) {
	c.Kind = Stmt
	if len(toks) == 0 {
		return
	}
	switch toks[0] {
	case token.PACKAGE:
		c.Kind, c.Keyword = Package, "package"
	case token.IMPORT:
		c.Kind, c.Keyword = Import, "import"
	case token.TYPE, token.VAR, token.CONST:
		c.Kind, c.Keyword = Decl, toks[0].String()
	case token.FUNC:
		// func name(...) and func (recv) name(...) declare; func(...) {...}()
		// at top level is a statement.
		if len(toks) > 1 && toks[1] == token.IDENT {
			c.Kind, c.Keyword = Decl, "func"
			return
		}
		if len(toks) > 1 && toks[1] == token.LPAREN {
			d := 0
			for i := 1; i < len(toks); i++ {
				switch toks[i] {
				case token.LPAREN:
					d++
				case token.RPAREN:
					d--
					if d == 0 {
						// A method: func (recv) Name(. Not a literal with
						// one result: func() int { ... }().
						if i+2 < len(toks) && toks[i+1] == token.IDENT && toks[i+2] == token.LPAREN {
							c.Kind, c.Keyword = Decl, "func"
						}
						return
					}
				}
			}
		}
	}
}

// Doc returns where the comment group directly above c starts (no blank
// line between): a cgo preamble above import "C", a //go:embed or other
// directive, a doc comment. Without one it is c.Offset.
func (cell *Cell) Doc(c Chunk) int {
	src := cell.Source
	lineStart := strings.LastIndexByte(src[:c.Offset], '\n') + 1
	if strings.TrimSpace(src[lineStart:c.Offset]) != "" {
		return c.Offset // something else before it on its line
	}
	start := c.Offset
	for lineStart > 0 {
		prevStart := strings.LastIndexByte(src[:lineStart-1], '\n') + 1
		line := strings.TrimSpace(src[prevStart : lineStart-1])
		switch {
		case strings.HasPrefix(line, "//"):
			start = prevStart + strings.Index(src[prevStart:], "//")
			lineStart = prevStart
		case strings.HasSuffix(line, "*/"):
			// Block comments, back to where the first of them opens;
			// code before them on that line means no doc.
			end := prevStart + strings.LastIndex(src[prevStart:lineStart], "*/")
			for {
				open := strings.LastIndex(src[:end], "/*")
				if open < 0 || strings.Contains(src[open+2:end], "*/") {
					return start
				}
				ls := strings.LastIndexByte(src[:open], '\n') + 1
				before := strings.TrimSpace(src[ls:open])
				if before == "" {
					start, lineStart = open, ls
					break
				}
				if !strings.HasSuffix(before, "*/") {
					return start
				}
				end = ls + strings.LastIndex(src[ls:open], "*/")
			}
		default:
			return start
		}
	}
	return start
}

// Position maps an offset in Source to a 1-based line and column.
func (cell *Cell) Position(offset int) (line, col int) {
	if offset > len(cell.Source) {
		offset = len(cell.Source)
	}
	before := cell.Source[:offset]
	line = strings.Count(before, "\n") + 1
	col = offset - (strings.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Declarations returns src with only its imports and declarations: every
// other chunk (statements, line magics, shell lines) is blanked, newlines
// kept, so positions in what remains are positions in src. A cell magic
// leaves nothing.
func Declarations(src string) (string, error) {
	cell, err := Parse(src)
	if err != nil {
		return "", err
	}
	if cell.Magic != nil {
		return "", nil
	}
	b := []byte(src)
	for _, c := range cell.Chunks {
		if c.Kind == Import || c.Kind == Decl {
			continue
		}
		for i := c.Offset; i < c.End; i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	return string(b), nil
}
