// Package cellgen turns notebook cells into Go packages that a long-lived
// host process loads one after another as plugins, so that the notebook
// keeps its live state between cells.
//
// Cell n becomes package "<module>/cells/c<n>". Its declarations keep their
// source but are made reachable from later cells: package-level vars,
// consts and funcs get a Ξ prefix (which makes them exported), types get an
// exported alias, and lowercase struct fields and methods get the Ξ prefix
// too, so that later cells (other packages) may use them. A later cell's
// reference to an earlier name is rewritten to the newest definition,
// c<k>.Ξname. Top-level statements run, in cell order, as package variable
// initialisers when the host loads the plugin; a top-level x := v becomes a
// package variable, so it lives on for later cells as in an interpreter.
// /*line In[n]:L:C*/ directives map compiler errors and stack traces back
// to the cell's own lines.
package cellgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/fair-go/fair/notebook"
)

// Prefix is prepended to names that must become exported.
const Prefix = "Ξ"

// NBPath and DisplayPath are the import paths of the cell runtime and
// display packages.
const (
	NBPath      = "github.com/fair-go/fair/kernel/nb"
	DisplayPath = "github.com/fair-go/fair/kernel/display"
	// gophernotesDisplay is gophernotes' display package, which cells
	// import as DisplayPath.
	gophernotesDisplay = "github.com/gopherdata/gophernotes/display"
)

// Def is a notebook-level name and the cell that defines its newest version.
type Def struct {
	Name string
	Kind string // var, const, func, type
	Cell int
	// Text is the declaration's source, used to replay declarations into a
	// fresh host; empty for vars, whose type comes from the running host.
	Text string
	// Methods holds the source of methods declared on a type.
	Methods []string
	// VarType is a var's type as Go source, reported by the host.
	VarType string
	// TypeAt is the notebook type VarType names (T or *T) as it was when
	// the variable was made: a later cell may redefine the type, and the
	// value keeps this version.
	TypeAt *Def
	// Order keeps replay in declaration order.
	Order int
}

// Session is the notebook's set of definitions so far.
type Session struct {
	Module  string
	Defs    map[string]*Def
	Imports map[string]string // package name -> import path, from earlier cells
	// DotImports are the paths earlier cells imported with a dot; a later
	// cell gets the import when it uses a name one of them exports.
	DotImports []string
	// Packages says what a package exports (for dot imports); nil: dot
	// imports are not carried to later cells.
	Packages Packages
	order    int
	files    map[int]string // committed cell number -> its name ("In[3]")

	varImports map[string]bool
}

// NewSession returns an empty session for a notebook module.
func NewSession(module string) *Session {
	// The kernel's own packages resolve without a search.
	imps := map[string]string{"nb": NBPath, "display": DisplayPath}
	return &Session{Module: module, Defs: map[string]*Def{}, Imports: imps, Packages: SourcePackages}
}

// Unit is one generated cell package.
type Unit struct {
	Cell    int
	Pkg     string // import path
	Dir     string // directory relative to the module root
	Source  []byte
	Vars    []string // exported names of the cell's package variables
	HasCode bool
	File    string // the cell's name in positions, e.g. "In[3]"

	defs    []*Def
	imports map[string]string
	dots    []string
	methods map[string][]string
}

// Options change how a cell is generated.
type Options struct {
	// NoResult treats a trailing expression as a plain statement (for a
	// call that returns no value).
	NoResult bool
	// File names the cell in positions, e.g. "In[3]".
	File string
	// Program generates the cell for a standalone program built from the
	// notebook, where nothing is displayed: a trailing call runs as a
	// statement and any other trailing expression is evaluated and dropped.
	Program bool
}

// PkgName returns the package name of cell n.
func PkgName(n int) string { return fmt.Sprintf("c%d", n) }

// Generate builds the package for cell number n. The session is not
// changed until Commit.
func (s *Session) Generate(n int, cell *notebook.Cell, opt Options) (*Unit, error) {
	if opt.File == "" {
		opt.File = fmt.Sprintf("In[%d]", n)
	}
	g := &gen{s: s, n: n, cell: cell, opt: opt, cellRefs: map[int]bool{}, addImports: map[string]string{}}
	return g.run(nil)
}

type gen struct {
	s    *Session
	n    int
	cell *notebook.Cell
	opt  Options

	b          bytes.Buffer
	cellRefs   map[int]bool
	addImports map[string]string // name -> path
	userImps   map[string]string
	ownDots    []string // the paths this cell imports with a dot
	// inits: the cell's func init, renamed where a chunk declares one
	// (chunk offset -> offsets of "init" in its text, and the new names,
	// which the cell calls before its statements and main).
	inits     map[int][]int
	initNames map[int][]string
}

type stmtInfo struct {
	chunk notebook.Chunk
	stmt  ast.Stmt
	off   int // offset of the chunk text inside the parse buffer
	// values: the statement is a cell's last line "x, y", whose values
	// are shown (parsed as "_ = x, y"; these are its expressions).
	values []ast.Expr
}

const stmtPrefix = "package p; func _() {"

func (g *gen) pos(off int) string {
	l, c := g.cell.Position(off)
	return fmt.Sprintf("/*line %s:%d:%d*/", g.opt.File, l, c)
}

// chunkWithDoc writes a top-level import or declaration with the comment
// group above it (a cgo preamble, //go:embed), after a //line directive.
// Top-level code is not indented by gofmt, so the directive on its own
// line survives formatting. A blank line keeps the directive out of the
// comment group, where cgo would read it as C.
func (g *gen) chunkWithDoc(c notebook.Chunk) {
	start := g.cell.Doc(c)
	l, _ := g.cell.Position(start)
	text := g.cell.Source[start:c.End]
	for i := len(g.inits[c.Offset]) - 1; i >= 0; i-- {
		// Renamed in place; the rest of the line keeps its columns.
		at := c.Offset - start + g.inits[c.Offset][i]
		name := g.initNames[c.Offset][i]
		text = text[:at] + name + g.pos(c.Offset+g.inits[c.Offset][i]+len("init")) + text[at+len("init"):]
	}
	if c.Kind == notebook.Import {
		// gophernotes' display package, which notebooks for it import:
		// fair's has its API.
		text = strings.ReplaceAll(text, `"`+gophernotesDisplay+`"`, `"`+DisplayPath+`"`)
	}
	// With the column, so errors in the declaration name one.
	_, col := g.cell.Position(start)
	switch {
	case start == c.Offset && !importsC(text):
		fmt.Fprintf(&g.b, "\n//line %s:%d:%d\n%s\n", g.opt.File, l, col, text)
	case l > 1:
		fmt.Fprintf(&g.b, "\n//line %s:%d\n\n%s\n", g.opt.File, l-1, text)
	default: // on the cell's first line: one line off rather than no position
		fmt.Fprintf(&g.b, "\n//line %s:1\n\n%s\n", g.opt.File, text)
	}
}

// importsC reports whether an import declaration imports "C" (cgo).
func importsC(decl string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+decl, parser.ImportsOnly)
	if err != nil {
		return false
	}
	for _, im := range f.Imports {
		if im.Path.Value == `"C"` {
			return true
		}
	}
	return false
}

func (g *gen) run(pulled []string) (*Unit, error) {
	cell := g.cell
	u := &Unit{Cell: g.n, Pkg: g.s.Module + "/cells/" + PkgName(g.n), Dir: "cells/" + PkgName(g.n), File: g.opt.File}
	b := &g.b
	b.Reset()
	fmt.Fprintf(b, "package %s\n\nimport %s %q\n", PkgName(g.n), RuntimeName, NBPath)
	var cgo []notebook.Chunk
	for _, c := range cell.Of(notebook.Import) {
		if importsC(cell.Text(c)) {
			cgo = append(cgo, c)
			continue
		}
		g.chunkWithDoc(c)
	}
	b.WriteString(ImportsEnd)
	// import "C" after the marker: FixImports rewrites the imports above
	// it, one line each, and would drop the cgo preamble above this one.
	for _, c := range cgo {
		g.chunkWithDoc(c)
	}
	for _, t := range pulled {
		b.WriteString(t + "\n")
	}
	declared := map[string]bool{}
	byDecl := map[string]bool{} // declared by a declaration, not by :=
	hasMain := false
	inits := map[int][]int{}
	for _, c := range cell.Of(notebook.Decl) {
		names, isMain := declNames(cell.Text(c))
		for _, nm := range names {
			if nm.name == "init" {
				inits[c.Offset] = append(inits[c.Offset], nm.off)
			}
			if declared[nm.name] && nm.name != "_" && nm.name != "init" {
				// Two declarations would be one name in the cell's package.
				return nil, g.errorAt(c.Offset+nm.off, nm.name+" redeclared in this cell")
			}
			declared[nm.name] = true
			byDecl[nm.name] = true
		}
		hasMain = hasMain || isMain
	}
	// Declarations and statements, in cell order; consecutive plain
	// statements share a wrapper.
	goChunks := cell.Of(notebook.Import, notebook.Decl, notebook.Stmt)
	type item struct {
		decl *notebook.Chunk
		st   *stmtInfo
	}
	var items []item
	for _, c := range cell.Of(notebook.Decl, notebook.Stmt) {
		if c.Kind == notebook.Decl {
			items = append(items, item{decl: &c})
			continue
		}
		text := cell.Text(c)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "", stmtPrefix+text+"\n}", 0)
		if err != nil {
			sts, ok := valuesLast(text)
			if !ok {
				return nil, g.syntaxError(err, c)
			}
			for _, si := range sts {
				si.chunk = c
				items = append(items, item{st: si})
			}
			continue
		}
		for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
			if _, empty := st.(*ast.EmptyStmt); empty {
				continue
			}
			items = append(items, item{st: &stmtInfo{chunk: c, stmt: st, off: len(stmtPrefix)}})
		}
	}
	var sts []*stmtInfo
	var decls []string
	for _, it := range items {
		if it.st != nil {
			sts = append(sts, it.st)
		} else {
			decls = append(decls, cell.Text(*it.decl))
		}
	}
	if err := g.assignsToConstant(sts, declared); err != nil {
		return nil, err
	}
	// A cell's statements and main run as its package's variables are
	// set, before Go would call init: its func init is renamed and called
	// first, as a program runs init before main.
	callInits := func() {}
	g.inits, g.initNames = nil, nil
	if len(inits) > 0 && (len(sts) > 0 || hasMain) {
		g.inits, g.initNames = inits, map[int][]string{}
		var all []string
		for _, c := range cell.Of(notebook.Decl) {
			for range inits[c.Offset] {
				all = append(all, fmt.Sprintf("%s0init%d", Prefix, len(all)+1))
				g.initNames[c.Offset] = append(g.initNames[c.Offset], all[len(all)-1])
			}
		}
		callInits = func() {
			if all != nil {
				fmt.Fprintf(b, "var _ = %s.Stmt(func() { %s() })\n", RuntimeName, strings.Join(all, "(); "))
				all = nil
			}
		}
	}
	loc := newLocalizer(sts, decls, declared)
	var pending []stmtInfo // the plain statements of the wrapper being built
	tmp := 0
	closeWrap := func() {
		if len(pending) == 0 {
			return
		}
		fmt.Fprintf(b, "var _ = %s.Stmt(func() {\n", RuntimeName)
		ptr := map[string]string{}
		locals := loc.wrapperLocals(pending)
		for _, name := range locals {
			tmp++
			ptr[name] = fmt.Sprintf("%sloc%d", Prefix, tmp)
			fmt.Fprintf(b, "%s := &%s; %s := *%s\n", ptr[name], name, name, ptr[name])
		}
		for _, si := range pending {
			text := g.cell.Text(si.chunk)
			start := int(si.stmt.Pos()) - 1 - si.off
			end := int(si.stmt.End()) - 1 - si.off
			src := splice(text[start:end], writeBacks(si, start, ptr, locals, g.pos))
			b.WriteString(g.pos(si.chunk.Offset+start) + src + "\n")
		}
		for _, name := range locals {
			fmt.Fprintf(b, "*%s = %s\n", ptr[name], name)
		}
		b.WriteString("\n})\n")
		pending = nil
	}
	for i, it := range items {
		if it.decl != nil {
			closeWrap()
			g.chunkWithDoc(*it.decl)
			continue
		}
		callInits()
		si := *it.st
		text := g.cell.Text(si.chunk)
		start := int(si.stmt.Pos()) - 1 - si.off
		if si.values != nil {
			start = int(si.values[0].Pos()) - 1 - si.off
		}
		end := int(si.stmt.End()) - 1 - si.off
		cellOff := si.chunk.Offset + start
		src := text[start:end]
		last := i == len(items)-1 && len(goChunks) > 0 && goChunks[len(goChunks)-1].Offset == si.chunk.Offset
		if si.values != nil {
			switch {
			case !last:
				return nil, g.errorAt(cellOff, "expected 1 expression (a list of values is shown only on a cell's last line)")
			case g.opt.NoResult || g.opt.Program:
				closeWrap()
				fmt.Fprintf(b, "var %s = %s%s\n", strings.Repeat("_, ", len(si.values)-1)+"_", g.pos(cellOff), src)
			default:
				closeWrap()
				fmt.Fprintf(b, "var _ = %s.Result(%s%s)\n", RuntimeName, g.pos(cellOff), src)
			}
			continue
		}
		if as, ok := si.stmt.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			closeWrap()
			var lhs []string
			var fix []string
			// Go's rules within one cell; a name from an earlier cell may
			// be declared again.
			fresh, clash := false, ""
			for _, e := range as.Lhs {
				if id, _ := e.(*ast.Ident); id != nil && id.Name != "_" {
					fresh = fresh || !declared[id.Name]
					if byDecl[id.Name] && clash == "" {
						clash = id.Name
					}
				}
			}
			switch {
			case clash != "":
				return nil, g.errorAt(cellOff, clash+" redeclared in this cell")
			case !fresh:
				return nil, g.errorAt(cellOff, "no new variables on left side of :=")
			}
			for _, e := range as.Lhs {
				id, _ := e.(*ast.Ident)
				if id == nil {
					return nil, g.errorAt(cellOff, "cannot declare a non-name on the left of :=")
				}
				name := id.Name
				if declared[name] && name != "_" {
					tmp++
					t := fmt.Sprintf("%stmp%d", Prefix, tmp)
					fix = append(fix, name+" = "+t)
					name = t
				}
				declared[id.Name] = true
				lhs = append(lhs, name)
			}
			rhsStart := int(as.Rhs[0].Pos()) - 1 - si.off
			fmt.Fprintf(b, "var %s%s = %s%s\n", g.pos(cellOff), strings.Join(lhs, ", "),
				g.pos(si.chunk.Offset+rhsStart), text[rhsStart:end])
			if len(fix) > 0 {
				fmt.Fprintf(b, "var _ = %s.Stmt(func() { %s })\n", RuntimeName, strings.Join(fix, "; "))
			}
			continue
		}
		if IsMainCall(si.stmt) && !g.opt.Program {
			// main() at top level (gophernotes notebooks write it) runs
			// as the main fair calls does.
			closeWrap()
			fmt.Fprintf(b, "var _ = %s.Main(%smain)\n", RuntimeName, g.pos(cellOff))
			continue
		}
		if es, ok := si.stmt.(*ast.ExprStmt); ok && last && g.opt.Program && isValue(es.X) {
			closeWrap()
			fmt.Fprintf(b, "var _ = %s%s\n", g.pos(cellOff), src)
			continue
		}
		if es, ok := si.stmt.(*ast.ExprStmt); ok && last && !g.opt.NoResult && !g.opt.Program && showsResult(es.X) {
			closeWrap()
			fmt.Fprintf(b, "var _ = %s.Result(%s%s)\n", RuntimeName, g.pos(cellOff), src)
			continue
		}
		pending = append(pending, si)
	}
	closeWrap()
	if hasMain && !callsMain(sts) {
		// A cell that calls main() itself (gophernotes notebooks do) runs
		// it once.
		callInits()
		fmt.Fprintf(b, "var _ = %s.Main(main)\n", RuntimeName)
	}
	// A dot import is remembered for later cells, so a cell may import
	// without using it yet: a use keeps the compiler from refusing it.
	g.ownDots = nil
	for _, c := range cell.Of(notebook.Import) {
		g.ownDots = append(g.ownDots, dotImportsOf(cell.Text(c))...)
	}
	if g.s.Packages != nil {
		for _, p := range g.ownDots {
			if use := dotUse(g.s.Packages.Load(p)); use != "" {
				b.WriteString(use + "\n")
			}
		}
	}
	u.HasCode = len(goChunks) > 0
	return g.rewrite(u, pulled)
}

// valuesLast parses a chunk whose last line is a list of values, "x, y",
// which Go has no statement for and which a notebook shows, as the
// chunk's statements ending in "_ = x, y". It reports false when the
// chunk does not parse so either.
func valuesLast(text string) ([]*stmtInfo, bool) {
	body := strings.TrimRight(text, " \t\r\n")
	ls := strings.LastIndexByte(body, '\n') + 1
	const assign = "_ = "
	f, err := parser.ParseFile(token.NewFileSet(), "", stmtPrefix+text[:ls]+assign+text[ls:]+"\n}", 0)
	if err != nil {
		return nil, false
	}
	var sts []*stmtInfo
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		if _, empty := st.(*ast.EmptyStmt); empty {
			continue
		}
		sts = append(sts, &stmtInfo{stmt: st, off: len(stmtPrefix)})
	}
	if len(sts) == 0 {
		return nil, false
	}
	lastSt := sts[len(sts)-1]
	as, ok := lastSt.stmt.(*ast.AssignStmt)
	if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) < 2 || int(as.Pos())-1-len(stmtPrefix) != ls {
		return nil, false
	}
	// Positions after the inserted "_ = " are 4 bytes on.
	lastSt.off += len(assign)
	lastSt.values = as.Rhs
	return sts, true
}

// showsResult reports whether a trailing expression's value is shown:
// calls to fmt's and log's printing functions are statements.
func showsResult(x ast.Expr) bool {
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return true
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "fmt" || id.Name == "log") &&
			(strings.HasPrefix(sel.Sel.Name, "Print") || strings.HasPrefix(sel.Sel.Name, "Fprint") ||
				strings.HasPrefix(sel.Sel.Name, "Fatal") || strings.HasPrefix(sel.Sel.Name, "Panic")) {
			return false
		}
	}
	if id, ok := call.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println" || id.Name == "panic" || id.Name == "close" || id.Name == "delete" || id.Name == "clear") {
		return false
	}
	return true
}

// isValue reports whether a trailing expression must be used as a value
// (a name, an operation, a builtin or a conversion to a built-in type)
// rather than run as a call statement. Without types a call to a named type
// (a conversion) looks like a function call; the compiler then says the
// value is unused.
func isValue(x ast.Expr) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return true
	}
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		switch f.Name {
		case "len", "cap", "append", "make", "new", "complex", "real", "imag", "min", "max",
			"bool", "byte", "rune", "string", "int", "int8", "int16", "int32", "int64",
			"uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32", "float64",
			"complex64", "complex128", "any", "error":
			return true
		}
		return false
	case *ast.SelectorExpr:
		return false
	case *ast.IndexExpr, *ast.IndexListExpr, *ast.FuncLit, *ast.CallExpr:
		return false // a generic function, a literal called at once, a returned function
	}
	return true // []byte(s), map[K]V(m), *T(p) and other conversions
}

// assignsToConstant refuses an assignment to a constant or a function an
// earlier cell declared, as Go would, at its line: the cell's package
// would otherwise give the compiler's message about its own code.
func (g *gen) assignsToConstant(sts []*stmtInfo, declared map[string]bool) error {
	var bad *ast.Ident
	var at *stmtInfo
	check := func(si *stmtInfo, e ast.Expr) {
		id, ok := e.(*ast.Ident)
		if !ok || bad != nil || id.Obj != nil || declared[id.Name] {
			return // a local, or declared by this cell
		}
		if d, ok := g.s.Defs[id.Name]; ok && (d.Kind == "const" || d.Kind == "func") {
			bad, at = id, si
		}
	}
	for _, si := range sts {
		ast.Inspect(si.stmt, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					for _, e := range n.Lhs {
						check(si, e)
					}
				}
			case *ast.IncDecStmt:
				check(si, n.X)
			}
			return bad == nil
		})
		if bad != nil {
			d := g.s.Defs[bad.Name]
			what := "a constant"
			if d.Kind == "func" {
				what = "a function"
			}
			return g.errorAt(at.chunk.Offset+int(bad.Pos())-1-at.off, fmt.Sprintf("cannot assign to %s: %s (In[%d]); declare a variable to change it", bad.Name, what, d.Cell))
		}
	}
	return nil
}

// callsMain reports whether a top-level statement is main().
func callsMain(sts []*stmtInfo) bool {
	for _, si := range sts {
		if IsMainCall(si.stmt) {
			return true
		}
	}
	return false
}

// IsMainCall reports whether st is the statement main(); at a cell's top
// level it runs the cell's main, with the notebook's %args.
func IsMainCall(st ast.Stmt) bool {
	if es, ok := st.(*ast.ExprStmt); ok {
		if call, ok := es.X.(*ast.CallExpr); ok && len(call.Args) == 0 {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "main" {
				return true
			}
		}
	}
	return false
}

// declName is a name a declaration declares, at its offset in the text.
type declName struct {
	name string
	off  int
}

func declNames(text string) (names []declName, isMain bool) {
	const prefix = "package p;"
	f, err := parser.ParseFile(token.NewFileSet(), "", prefix+text, parser.SkipObjectResolution)
	if err != nil {
		return nil, false
	}
	add := func(id *ast.Ident) {
		names = append(names, declName{id.Name, int(id.Pos()) - 1 - len(prefix)})
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				add(d.Name)
				isMain = isMain || d.Name.Name == "main"
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						add(id)
					}
				case *ast.TypeSpec:
					add(sp.Name)
				}
			}
		}
	}
	return names, isMain
}

type edit struct {
	off, n int
	with   string
}

// rewrite turns the generated cell source into the cell's package: names
// of this cell get the package prefix, names of earlier cells are
// qualified with their package, imports are added, and what the cell
// defines is recorded for Commit.
func (g *gen) rewrite(u *Unit, pulled []string) (*Unit, error) {
	src := g.b.Bytes()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell.go", src, parser.ParseComments)
	if err != nil {
		return nil, g.genSyntaxError(fset, err)
	}
	tf := fset.File(f.Pos())
	c := &cellFile{f: f, src: src, offset: func(p token.Pos) int { return tf.Offset(p) }, tf: tf}

	g.importNames(c)
	if pulled == nil {
		if need := g.pulledTypes(c); len(need) > 0 {
			return g.run(need)
		}
	}
	edits, typeNames := g.renames(c)
	u.Source = g.apply(c, edits, g.aliases(c, typeNames))
	g.record(u, c)
	return u, nil
}

// cellFile is the parsed source of a cell being rewritten.
type cellFile struct {
	f      *ast.File
	src    []byte
	offset func(token.Pos) int
	tf     *token.File // positions in src, with its line directives
}

// importNames records the import names of this cell.
func (g *gen) importNames(c *cellFile) {
	f := c.f
	g.userImps = map[string]string{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := ImportName(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		g.userImps[name] = p
	}
}

// pulledTypes returns the types (with their methods) of earlier cells that
// this cell declares methods on: they move into this cell, since Go only
// allows methods in the type's own package.
func (g *gen) pulledTypes(c *cellFile) []string {
	var need []string
	for _, d := range c.f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || len(fd.Recv.List) == 0 {
			continue
		}
		tn := recvTypeName(fd.Recv.List[0].Type)
		if tn == nil || tn.Obj != nil {
			continue
		}
		if def, ok := g.s.Defs[tn.Name]; ok && def.Kind == "type" && def.Text != "" {
			need = append(need, def.Text)
			need = append(need, def.Methods...)
		}
	}
	return need
}

func isExportedName(s string) bool {
	r := []rune(s)
	return len(r) > 0 && unicode.IsUpper(r[0])
}

// renames are the edits that give this cell's names the package prefix
// and qualify names of earlier cells; it also returns the cell's types.
func (g *gen) renames(c *cellFile) ([]edit, map[string]*ast.TypeSpec) {
	f, offset := c.f, c.offset
	var edits []edit
	rename := func(id *ast.Ident, name string) {
		edits = append(edits, edit{offset(id.Pos()), len(id.Name), name})
	}
	needsPrefix := func(name string) bool { return name != "_" && !isExportedName(name) }

	// Package-level objects of this cell.
	// The parser's syntactic resolution is enough here: unresolved names
	// are exactly the ones earlier cells (or imports) must provide, and
	// type-checking a cell would need its earlier cells' export data.
	//lint:ignore SA1019 syntactic resolution is what is wanted (see above)
	scope := map[*ast.Object]bool{}
	for _, obj := range f.Scope.Objects {
		scope[obj] = true
	}
	typeNames := map[string]*ast.TypeSpec{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
			for _, sp := range gd.Specs {
				ts := sp.(*ast.TypeSpec)
				typeNames[ts.Name.Name] = ts
			}
		}
	}
	qualify := func(id *ast.Ident) bool {
		def, ok := g.s.Defs[id.Name]
		if !ok {
			return false
		}
		if _, imp := g.userImps[id.Name]; imp {
			return false
		}
		g.cellRefs[def.Cell] = true
		if def.Kind == "type" && isExportedName(id.Name) {
			// Exported types keep their name and get no alias (aliases).
			rename(id, PkgName(def.Cell)+"."+id.Name)
			return true
		}
		rename(id, PkgName(def.Cell)+"."+Prefix+id.Name)
		return true
	}
	unresolved := map[*ast.Ident]bool{}
	for _, id := range f.Unresolved {
		unresolved[id] = true
	}
	isPkgIdent := func(x ast.Expr) bool {
		id, ok := x.(*ast.Ident)
		if !ok || id.Obj != nil {
			return false
		}
		if _, ok := g.userImps[id.Name]; ok {
			return true
		}
		if _, ok := g.s.Defs[id.Name]; ok {
			return false
		}
		_, ok = g.s.Imports[id.Name]
		return ok || stdName(id.Name)
	}
	handled := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.StructType:
			for _, fl := range n.Fields.List {
				if len(fl.Names) == 0 {
					// Embedded: name the field after the exported alias.
					if id := embeddedIdent(fl.Type); id != nil && !isExportedName(id.Name) {
						if id.Obj != nil && scope[id.Obj] {
							rename(id, Prefix+id.Name)
							handled[id] = true
						}
					}
					continue
				}
				renamed := false
				for _, id := range fl.Names {
					if needsPrefix(id.Name) {
						rename(id, Prefix+id.Name)
						handled[id] = true
						renamed = true
					}
				}
				if renamed {
					edits = append(edits, jsonHide(fl, offset)...)
				}
			}
		case *ast.InterfaceType:
			for _, fl := range n.Methods.List {
				for _, id := range fl.Names {
					if needsPrefix(id.Name) {
						rename(id, Prefix+id.Name)
						handled[id] = true
					}
				}
			}
		case *ast.FuncDecl:
			if n.Recv != nil && needsPrefix(n.Name.Name) {
				rename(n.Name, Prefix+n.Name.Name)
				handled[n.Name] = true
			}
		case *ast.SelectorExpr:
			if !isPkgIdent(n.X) && needsPrefix(n.Sel.Name) {
				rename(n.Sel, Prefix+n.Sel.Name)
			}
			handled[n.Sel] = true
		case *ast.CompositeLit:
			_, isMap := n.Type.(*ast.MapType)
			_, isArr := n.Type.(*ast.ArrayType)
			if at, ok := n.Type.(*ast.ArrayType); ok && at.Len == nil {
				isArr = true
			}
			for _, e := range n.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				id, ok := kv.Key.(*ast.Ident)
				if !ok || id.Obj != nil {
					continue
				}
				handled[id] = true
				if isMap || isArr {
					qualify(id)
				} else if needsPrefix(id.Name) {
					rename(id, Prefix+id.Name)
				}
			}
		case *ast.Ident:
			if handled[n] {
				return true
			}
			if n.Obj != nil && scope[n.Obj] && n.Obj.Kind != ast.Typ && n.Name != "_" && n.Name != "init" && !strings.HasPrefix(n.Name, Prefix) {
				rename(n, Prefix+n.Name)
				return true
			}
			if unresolved[n] {
				if qualify(n) {
					return true
				}
				if _, mine := g.userImps["display"]; n.Name == "Display" && !mine {
					// gophernotes' Display(v): display.Show.
					rename(n, "display.Show")
					g.addImports["display"] = DisplayPath
					return true
				}
				if p, ok := g.s.Imports[n.Name]; ok {
					if _, mine := g.userImps[n.Name]; !mine {
						g.addImports[n.Name] = p
					}
				} else if p, ok := g.s.dotFor(n.Name); ok && !slices.Contains(g.ownDots, p) {
					// Qualified rather than dot-imported: names from two
					// dot imports may then meet in one cell.
					alias := dotAlias(slices.Index(g.s.DotImports, p))
					g.addImports[alias] = p
					rename(n, alias+"."+n.Name)
				}
			}
		}
		return true
	})

	return edits, typeNames
}

// aliases are the exported aliases of this cell's types, and a name every
// cell exports (the plugin's main package refers to it).
func (g *gen) aliases(c *cellFile, typeNames map[string]*ast.TypeSpec) []byte {
	src, offset := c.src, c.offset
	var tail bytes.Buffer
	fmt.Fprintf(&tail, "\nconst %s = %d\n\nvar _ = %s.InKernel\n", CellConst, g.n, RuntimeName)
	// Sorted: the generated source (and so the compiled program) must not
	// depend on map order.
	for _, name := range sortedKeys(typeNames) {
		ts := typeNames[name]
		if name == "_" || isExportedName(name) {
			continue
		}
		if ts.TypeParams == nil {
			fmt.Fprintf(&tail, "type %s%s = %s\n", Prefix, name, name)
			continue
		}
		var params, args []string
		for _, fl := range ts.TypeParams.List {
			for _, id := range fl.Names {
				args = append(args, id.Name)
			}
			params = append(params, string(src[offset(fl.Pos()):offset(fl.End())]))
		}
		fmt.Fprintf(&tail, "type %s%s[%s] = %s[%s]\n", Prefix, name, strings.Join(params, ", "), name, strings.Join(args, ", "))
	}

	return tail.Bytes()
}

// apply applies the edits, appends tail and puts the imports of earlier
// cells and of remembered packages right after the package clause.
func (g *gen) apply(c *cellFile, edits []edit, tail []byte) []byte {
	src := c.src
	sort.Slice(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	var out bytes.Buffer
	last := 0
	for _, e := range edits {
		if e.off < last {
			continue
		}
		out.Write(src[last:e.off])
		out.WriteString(e.with)
		last = e.off + e.n
		// A rename (x to c1.Ξx) moves what follows on its line: a
		// /*line*/ comment gives it back its column in the cell, so an
		// error there names the column the user sees.
		if len(e.with) != e.n && c.tf != nil && last < len(src) && src[last] != '\n' {
			if p := c.tf.Position(c.tf.Pos(last)); p.Column > 0 && p.Filename == g.opt.File {
				fmt.Fprintf(&out, "/*line %s:%d:%d*/", p.Filename, p.Line, p.Column)
			}
		}
	}
	out.Write(src[last:])
	out.Write(tail)
	// Imports of earlier cells and of remembered packages, right after the
	// package clause.
	var imps bytes.Buffer
	cells := make([]int, 0, len(g.cellRefs))
	for c := range g.cellRefs {
		cells = append(cells, c)
	}
	sort.Ints(cells)
	for _, c := range cells {
		fmt.Fprintf(&imps, "import %s %q\n", PkgName(c), g.s.Module+"/cells/"+PkgName(c))
	}
	for _, name := range sortedKeys(g.addImports) {
		fmt.Fprintf(&imps, "import %s %q\n", name, g.addImports[name])
	}
	final := out.Bytes()
	if imps.Len() > 0 {
		i := bytes.IndexByte(final, '\n') + 1
		final = append(append(append([]byte{}, final[:i]...), imps.Bytes()...), final[i:]...)
	}
	return final

}

// record notes what the cell defines, for Commit.
func (g *gen) record(u *Unit, c *cellFile) {
	f, src, offset := c.f, c.src, c.offset
	u.imports = map[string]string{}
	for k, v := range g.userImps {
		u.imports[k] = v
	}
	for k, v := range g.addImports {
		u.imports[k] = v
	}
	u.dots = g.ownDots
	u.methods = map[string][]string{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			text := string(src[offset(d.Pos()):offset(d.End())])
			text = stripLineComments(text)
			if d.Recv != nil {
				if tn := recvTypeName(d.Recv.List[0].Type); tn != nil {
					u.methods[tn.Name] = append(u.methods[tn.Name], text)
				}
				continue
			}
			if d.Name.Name == "init" || d.Name.Name == "_" || strings.HasPrefix(d.Name.Name, Prefix+"0init") {
				continue // a renamed init too
			}
			u.defs = append(u.defs, &Def{Name: d.Name.Name, Kind: "func", Cell: g.n, Text: text})
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, sp := range d.Specs {
					ts := sp.(*ast.TypeSpec)
					text := "type " + stripLineComments(string(src[offset(ts.Pos()):offset(ts.End())]))
					u.defs = append(u.defs, &Def{Name: ts.Name.Name, Kind: "type", Cell: g.n, Text: text})
				}
			case token.CONST:
				text := stripLineComments(string(src[offset(d.Pos()):offset(d.End())]))
				for _, sp := range d.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						if id.Name != "_" {
							u.defs = append(u.defs, &Def{Name: id.Name, Kind: "const", Cell: g.n, Text: text})
						}
					}
				}
			case token.VAR:
				for _, sp := range d.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						if id.Name != "_" && !strings.HasPrefix(id.Name, Prefix) {
							u.defs = append(u.defs, &Def{Name: id.Name, Kind: "var", Cell: g.n})
							u.Vars = append(u.Vars, Prefix+id.Name)
						}
					}
				}
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func recvTypeName(x ast.Expr) *ast.Ident {
	for {
		switch t := x.(type) {
		case *ast.StarExpr:
			x = t.X
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		case *ast.ParenExpr:
			x = t.X
		case *ast.Ident:
			return t
		default:
			return nil
		}
	}
}

func embeddedIdent(x ast.Expr) *ast.Ident {
	if s, ok := x.(*ast.StarExpr); ok {
		x = s.X
	}
	id, _ := x.(*ast.Ident)
	return id
}

// jsonHide keeps renamed (formerly unexported) fields out of encoding/json,
// as they were before the rename.
func jsonHide(fl *ast.Field, offset func(token.Pos) int) []edit {
	if fl.Tag == nil {
		return []edit{{offset(fl.Type.End()), 0, " `json:\"-\"`"}}
	}
	tag, err := strconv.Unquote(fl.Tag.Value)
	if err != nil || strings.Contains(tag, "json:") {
		return nil
	}
	return []edit{{offset(fl.Tag.Pos()), len(fl.Tag.Value), strconv.Quote(strings.TrimSpace(tag + ` json:"-"`))}}
}

var (
	lineComment   = regexp.MustCompile(`/\*line [^*]*\*/`)
	lineDirective = regexp.MustCompile(`(?m)^//line .*$`)
)

// Names the generated code declares next to the user's: Prefix and a
// digit, which no renamed user name (Prefix and an identifier) can be.
const (
	RuntimeName = Prefix + "0nb"   // the cell runtime's import name
	CellConst   = Prefix + "0Cell" // the cell's number
)

// ImportsEnd marks the end of a generated cell's imports.
const ImportsEnd = "\n// fair:imports-end\n"

// StripLineDirectives removes the line directives from generated source.
func StripLineDirectives(src []byte) []byte {
	return lineDirective.ReplaceAll(lineComment.ReplaceAll(src, nil), nil)
}

func stripLineComments(s string) string { return lineComment.ReplaceAllString(s, "") }

// ImportName guesses a package's name from its import path: the last
// element without a version suffix or a "go-" prefix.
func ImportName(p string) string {
	name := path.Base(p)
	if len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
		name = path.Base(path.Dir(p))
	}
	if i := strings.Index(name, ".v"); i > 0 {
		name = name[:i]
	}
	name = strings.TrimPrefix(name, "go-")
	return strings.ReplaceAll(name, "-", "_")
}

// stdName reports whether name is a standard library package name likely
// used without an import (goimports will add it).
func stdName(name string) bool {
	switch name {
	case "fmt", "strings", "strconv", "math", "os", "time", "sort", "errors", "bytes", "io",
		"sync", "context", "rand", "json", "http", "filepath", "regexp", "bufio", "slices", "maps",
		"runtime", "reflect", "log", "image", "color", "png", "atomic", "utf8", "unicode", "big", "cmplx":
		return true
	}
	return false
}

// Commit records a successfully run unit's definitions in the session.
func (s *Session) Commit(u *Unit) {
	for _, d := range u.defs {
		s.order++
		d.Order = s.order
		if d.Kind == "type" {
			d.Methods = u.methods[d.Name]
		}
		s.Defs[d.Name] = d
	}
	for k, v := range u.imports {
		if k != RuntimeName && k != "_" && k != "." && !strings.HasPrefix(v, s.Module+"/cells/") {
			s.Imports[k] = v
		}
	}
	s.rememberDots(u.dots)
	if s.files == nil {
		s.files = map[int]string{}
	}
	s.files[u.Cell] = u.File
}

// DeclaresType reports whether the unit's cell declares a type called name.
func (u *Unit) DeclaresType(name string) bool {
	for _, d := range u.defs {
		if d.Name == name && d.Kind == "type" {
			return true
		}
	}
	return false
}

// CellName is the name a committed cell had in positions ("In[3]"), or
// "cell N".
func (s *Session) CellName(cell int) string {
	if f := s.files[cell]; f != "" {
		return f
	}
	return fmt.Sprintf("cell %d", cell)
}

// SetVarTypes records the types of a unit's variables as reported by the
// host (exported name -> Go type source).
func (s *Session) SetVarTypes(cell int, types map[string]string) {
	for name, t := range types {
		if d, ok := s.Defs[strings.TrimPrefix(name, Prefix)]; ok && d.Cell == cell && d.Kind == "var" {
			d.VarType = t
			if td, ok := s.Defs[strings.TrimPrefix(t, "*")]; ok && td.Kind == "type" {
				d.TypeAt = td
			}
		}
	}
}
