package cellgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"

	"golang.org/x/tools/imports"
)

// FixImports adds missing imports and removes unused ones with goimports.
// goimports runs on a copy without the line directives (it may move
// comments when it edits imports); its import block then replaces the
// cell's own.
func FixImports(name string, src []byte) []byte {
	head, body, ok := bytes.Cut(src, []byte(ImportsEnd))
	if !ok {
		return src
	}
	plain := StripLineDirectives(src)
	if importsOK(plain) {
		return src // goimports starts the go command; skip it when it has nothing to do
	}
	fixed, err := imports.Process(name, plain, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
	if err != nil {
		return src // the compiler reports the problem against the cell lines
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, fixed, parser.ImportsOnly)
	if err != nil {
		return src
	}
	var b bytes.Buffer
	b.WriteString(string(head[:bytes.IndexByte(head, '\n')+1]))
	for _, im := range f.Imports {
		if im.Path.Value == `"C"` {
			continue // below the marker, with its preamble
		}
		if im.Name != nil {
			fmt.Fprintf(&b, "import %s %s\n", im.Name.Name, im.Path.Value)
		} else {
			fmt.Fprintf(&b, "import %s\n", im.Path.Value)
		}
	}
	b.Write(body)
	return b.Bytes()
}

// importsOK reports whether every package name used is imported and every
// import is used, judged syntactically (names of imports are guessed from
// their paths, so a wrong guess only costs a goimports run).
func importsOK(src []byte) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil {
		return false
	}
	imported := map[string]bool{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := ImportName(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if name == "_" || name == "." {
			continue
		}
		imported[name] = false
	}
	unresolved := map[*ast.Ident]bool{}
	for _, id := range f.Unresolved {
		unresolved[id] = true
	}
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		sel, isSel := n.(*ast.SelectorExpr)
		if !isSel {
			return true
		}
		if id, isID := sel.X.(*ast.Ident); isID && unresolved[id] {
			if _, known := imported[id.Name]; known {
				imported[id.Name] = true
			} else {
				ok = false // a package that is not imported
			}
		}
		return true
	})
	for _, used := range imported {
		ok = ok && used
	}
	return ok
}
