package kernel

import (
	"context"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/fair-go/fair/notebook"
)

// isComplete answers is_complete_request: "incomplete" while braces or
// parentheses are open.
func isComplete(code string) map[string]any {
	if _, err := notebook.Parse(code); err != nil {
		// An unterminated raw string or block comment goes on, as an
		// open brace does.
		if e := err.Error(); strings.Contains(e, "EOF") || strings.Contains(e, "raw string literal not terminated") || strings.Contains(e, "comment not terminated") {
			return map[string]any{"status": "incomplete", "indent": "\t"}
		}
		return map[string]any{"status": "invalid"}
	}
	depth := 0
	for _, r := range code {
		switch r {
		case '{', '(', '[':
			depth++
		case '}', ')', ']':
			depth--
		}
	}
	if depth > 0 || continues(code) || wantsBody(code) {
		return map[string]any{"status": "incomplete", "indent": "\t"}
	}
	return map[string]any{"status": "complete"}
}

// wantsBody reports whether code ends with a function declared without
// its body (func (t T) Area() float64): the brace comes next.
func wantsBody(code string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+code, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) == 0 {
		return false
	}
	fd, ok := f.Decls[len(f.Decls)-1].(*ast.FuncDecl)
	return ok && fd.Body == nil
}

// continues reports whether Go code goes on past its end: its last token
// is an operator that wants an operand (x :=, a +, f(a,), s.).
func continues(code string) bool {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	last := token.ILLEGAL
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted at a line end, not written
		}
		last = tok
	}
	switch last {
	case token.RPAREN, token.RBRACK, token.RBRACE, token.INC, token.DEC, token.SEMICOLON, token.ILLEGAL:
		return false
	case token.ELSE, token.FUNC, token.GO, token.DEFER, token.IF, token.FOR, token.SWITCH, token.SELECT,
		token.VAR, token.CONST, token.TYPE, token.IMPORT, token.CHAN, token.MAP, token.RANGE, token.CASE,
		token.STRUCT, token.INTERFACE:
		return true // a keyword that needs what follows
	}
	return last.IsOperator()
}

var keywords = []string{"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package",
	"range", "return", "select", "struct", "switch", "type", "var",
	"append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make", "max", "min",
	"new", "panic", "print", "println", "real", "recover",
	"bool", "byte", "error", "float32", "float64", "int", "int64", "int32", "string", "rune", "uint", "any",
	"nil", "true", "false", "iota", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "uintptr",
	"complex64", "complex128", "comparable"}

// stdPackages maps a standard package's name to its path (json:
// encoding/json), for completing the names of one the cell has not
// imported yet (the import is added when the cell runs). Where two share
// a name, the one goimports would pick for common code wins.
var stdPackages = sync.OnceValue(func() map[string]string {
	prefer := map[string]string{"rand": "math/rand", "template": "text/template", "scanner": "text/scanner", "pprof": "runtime/pprof"}
	m := map[string]string{}
	src := filepath.Join(build.Default.GOROOT, "src")
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		switch d.Name() {
		case "internal", "vendor", "testdata", "cmd":
			return filepath.SkipDir
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		name := path.Base(rel)
		if old, ok := m[name]; !ok || len(rel) < len(old) {
			m[name] = rel
		}
		return nil
	})
	for n, p := range prefer {
		m[n] = p
	}
	return m
})

// wordAt returns the identifier (with an optional pkg. qualifier) ending
// at cursor (counted in code points), and its start.
func wordAt(code string, cursor int) (qual, word string, start int) {
	rs := []rune(code)
	if cursor > len(rs) {
		cursor = len(rs)
	}
	isID := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	i := cursor
	for i > 0 && isID(rs[i-1]) {
		i--
	}
	word, start = string(rs[i:cursor]), i
	if i > 0 && rs[i-1] == '.' {
		j := i - 1
		for j > 0 && isID(rs[j-1]) {
			j--
		}
		qual = string(rs[j : i-1])
	}
	return qual, word, start
}

// pkgScope loads a package (standard library, or a module the notebook's
// go.mod requires) with its exported names.
func (k *Kernel) pkgScope(path string) *types.Package {
	if p := k.exec.Session().Packages; p != nil {
		return p.Load(path)
	}
	return nil
}

// importsOf returns package name -> path for the cell's imports and the
// notebook's earlier ones.
func (k *Kernel) importsOf(code string) map[string]string {
	m := map[string]string{}
	for n, p := range k.exec.Session().Imports {
		m[n] = p
	}
	if f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+importLines(code), parser.ImportsOnly); err == nil {
		for _, im := range f.Imports {
			p := strings.Trim(im.Path.Value, `"`)
			n := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				n = im.Name.Name
			}
			m[n] = p
		}
	}
	return m
}

func importLines(code string) string {
	var b strings.Builder
	for _, l := range strings.Split(code, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "import") || strings.HasPrefix(strings.TrimSpace(l), "\"") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func (k *Kernel) complete(code string, cursor int) map[string]any {
	qual, word, start := wordAt(code, cursor)
	cands := []string{} // the protocol wants a list, empty or not
	line, inGo := lineBefore(code, cursor)
	if ms, ok := k.magicWords(line); ok {
		for _, n := range ms {
			if strings.HasPrefix(n, word) {
				cands = append(cands, n)
			}
		}
	} else if !inGo || qual == "" && afterDot(code, start) {
		// In a magic's arguments, a string or a comment, or after an
		// expression's dot (f().): no names to offer.
	} else if ms, ok := k.members(code, qual); ok {
		for _, n := range ms {
			if strings.HasPrefix(n, word) {
				cands = append(cands, n)
			}
		}
	} else if qual != "" {
		path, ok := k.importsOf(code)[qual]
		if !ok {
			path = qual
			if p, ok := stdPackages()[qual]; ok {
				path = p
			}
		}
		if p := k.pkgScope(path); p != nil {
			for _, n := range p.Scope().Names() {
				if token.IsExported(n) && strings.HasPrefix(n, word) {
					cands = append(cands, n)
				}
			}
		}
	} else {
		seen := map[string]bool{}
		add := func(n string) {
			if strings.HasPrefix(n, word) && !seen[n] {
				seen[n] = true
				cands = append(cands, n)
			}
		}
		for n := range k.exec.Session().Defs {
			add(n)
		}
		for n := range k.importsOf(code) {
			add(n)
		}
		for _, n := range keywords {
			add(n)
		}
		// Names of the notebook's dot imports (import . "strings").
		for _, p := range k.exec.Session().DotImports {
			if pk := k.pkgScope(p); pk != nil {
				for _, n := range pk.Scope().Names() {
					if token.IsExported(n) {
						add(n)
					}
				}
			}
		}
	}
	sort.Strings(cands)
	return map[string]any{"status": "ok", "matches": cands, "cursor_start": start,
		"cursor_end": cursor, "metadata": map[string]any{}}
}

// afterDot reports whether the word at start follows a '.'.
func afterDot(code string, start int) bool {
	rs := []rune(code)
	return start > 0 && start <= len(rs) && rs[start-1] == '.'
}

// lineBefore is the cursor's line up to the cursor (cursor counted in code
// points), and whether the cursor is in Go code: not in a magic or shell
// line, a string or a comment.
func lineBefore(code string, cursor int) (line string, inGo bool) {
	rs := []rune(code)
	if cursor > len(rs) {
		cursor = len(rs)
	}
	if cursor < 0 {
		cursor = 0
	}
	before := string(rs[:cursor])
	line = before[strings.LastIndexByte(before, '\n')+1:]
	if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
		return line, false
	}
	// Scan the code before the cursor: an open string or comment ends it.
	var sc scanner.Scanner
	open := false
	src := []byte(before)
	sc.Init(token.NewFileSet().AddFile("", -1, len(src)), src, func(pos token.Position, msg string) {
		if strings.Contains(msg, "not terminated") {
			open = true
		}
	}, scanner.ScanComments)
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		// A // comment runs to the line's end, where the cursor is.
		if tok == token.COMMENT && strings.HasPrefix(lit, "//") && int(pos)-1+len(lit) >= len(src) {
			open = true
		}
	}
	return line, !open
}

// magicWords completes a magic line: magic names after % (or %%), and a
// magic's first argument (%kf's verbs); ok is false off such a place.
func (k *Kernel) magicWords(line string) (words []string, ok bool) {
	t := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(t, "%") {
		return nil, false
	}
	fields := strings.Fields(t)
	trailing := strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")
	switch {
	case len(fields) == 1 && !trailing:
		for n := range k.magics {
			words = append(words, n)
		}
		sort.Strings(words)
		return words, true
	case len(fields) == 1 && trailing || len(fields) == 2 && !trailing:
		m, found := k.magics[strings.TrimLeft(fields[0], "%")]
		return m.Words, found
	}
	return nil, true
}

func (k *Kernel) inspect(ctx context.Context, code string, cursor int) map[string]any {
	// Extend the word to the right of the cursor too.
	rs := []rune(code)
	for cursor < len(rs) && (rs[cursor] == '_' || unicode.IsLetter(rs[cursor]) || unicode.IsDigit(rs[cursor])) {
		cursor++
	}
	qual, word, _ := wordAt(code, cursor)
	text := ""
	if qual == "" {
		if d, ok := k.exec.Session().Defs[word]; ok {
			text = d.Text
			if d.Kind == "var" {
				text = "var " + word + " " + d.VarType
				if td := d.TypeAt; td != nil && k.exec.Session().Defs[td.Name] != td {
					s := k.exec.Session()
					text += fmt.Sprintf("\n\n%s of %s (redefined since in %s):\n%s", td.Name, s.CellName(td.Cell), s.CellName(s.Defs[td.Name].Cell), td.Text)
				}
			}
		}
	}
	if text == "" && word != "" {
		target := word
		if qual != "" {
			path, ok := k.importsOf(code)[qual]
			if !ok {
				path = qual
			}
			target = path + "." + word
		}
		cmd := exec.CommandContext(ctx, "go", "doc", target)
		cmd.Dir = k.exec.Dir()
		if out, err := cmd.Output(); err == nil {
			text = string(out)
		}
	}
	if text == "" {
		return map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	}
	return map[string]any{"status": "ok", "found": true, "data": map[string]any{"text/plain": text}, "metadata": map[string]any{}}
}

// members lists the fields and methods of the type of v, a notebook
// variable (q. completes q's fields): from the declaration of a notebook
// type, or from a package's type information.
func (k *Kernel) members(code, v string) ([]string, bool) {
	s := k.exec.Session()
	d, ok := s.Defs[v]
	if !ok || d.Kind != "var" || d.VarType == "" {
		return nil, false
	}
	if d.TypeAt != nil { // the type's version the value has
		return declMembers(d.TypeAt.Text, d.TypeAt.Methods), true
	}
	t := strings.TrimPrefix(d.VarType, "*")
	if td, ok := s.Defs[t]; ok && td.Kind == "type" {
		return declMembers(td.Text, td.Methods), true
	}
	pkg, name, ok := strings.Cut(t, ".")
	if !ok {
		return nil, false
	}
	path, ok := k.importsOf(code)[pkg]
	if !ok {
		return nil, false
	}
	p := k.pkgScope(path)
	if p == nil {
		return nil, false
	}
	tn, _ := p.Scope().Lookup(name).(*types.TypeName)
	if tn == nil {
		return nil, false
	}
	var out []string
	if st, ok := tn.Type().Underlying().(*types.Struct); ok {
		for i := 0; i < st.NumFields(); i++ {
			if f := st.Field(i); f.Exported() {
				out = append(out, f.Name())
			}
		}
	}
	ms := types.NewMethodSet(types.NewPointer(tn.Type()))
	for i := 0; i < ms.Len(); i++ {
		if o := ms.At(i).Obj(); o.Exported() {
			out = append(out, o.Name())
		}
	}
	return out, true
}

// declMembers lists the fields of a notebook type declaration (a struct)
// and the names of its methods.
func declMembers(decl string, methods []string) []string {
	var out []string
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+decl+"\n"+strings.Join(methods, "\n"), 0)
	if err != nil {
		return nil
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				ts, ok := sp.(*ast.TypeSpec)
				if !ok {
					continue
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					for _, n := range fl.Names {
						out = append(out, n.Name)
					}
					if len(fl.Names) == 0 {
						if id := embeddedName(fl.Type); id != "" {
							out = append(out, id)
						}
					}
				}
			}
		case *ast.FuncDecl:
			out = append(out, d.Name.Name)
		}
	}
	return out
}

// embeddedName is the field name of an embedded type: T, *T, pkg.T.
func embeddedName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return embeddedName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(e.X)
	}
	return ""
}
