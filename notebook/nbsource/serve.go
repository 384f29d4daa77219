package nbsource

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"github.com/fair-go/fair/notebook"
)

// serveCell returns the code that serves what a %%kf serve cell defines:
// each func NAME(rows [][]float32) ([]float32, error) (or [][]float32
// results) becomes model NAME, and each func NAME() serving.Model (or
// []serving.Model) adds the models it returns. A cell that calls
// serving.Serve itself needs nothing more.
func serveCell(body notebook.Code) (notebook.Code, error) {
	cell, err := notebook.Parse(body.Source)
	if err != nil {
		return notebook.Code{}, err
	}
	var decls strings.Builder
	for _, c := range cell.Of(notebook.Decl) {
		decls.WriteString(cell.Text(c) + "\n")
	}
	if strings.Contains(body.Source, "serving.Serve(") {
		return notebook.Code{}, errNoMain
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+decls.String(), parser.SkipObjectResolution)
	if err != nil {
		return notebook.Code{}, fmt.Errorf("%s: %v", body.Label, err)
	}
	var models []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Type.TypeParams != nil {
			continue
		}
		name := fd.Name.Name
		params, results := fieldTypes(fd.Type.Params), fieldTypes(fd.Type.Results)
		switch {
		case len(params) == 1 && params[0] == "[][]float32" && len(results) == 2 && results[0] == "[]float32" && results[1] == "error":
			models = append(models, fmt.Sprintf("fairserving.Func(%q, %s)", name, name))
		case len(params) == 1 && params[0] == "[][]float32" && len(results) == 2 && results[0] == "[][]float32" && results[1] == "error":
			models = append(models, fmt.Sprintf("fairserving.VecFunc(%q, %s)", name, name))
		case len(params) == 0 && len(results) == 1 && strings.HasSuffix(results[0], ".Model") && !strings.HasPrefix(results[0], "[]"):
			models = append(models, name+"()")
		case len(params) == 0 && len(results) == 1 && strings.HasPrefix(results[0], "[]") && strings.HasSuffix(results[0], ".Model"):
			models = append(models, name+"()...")
		}
	}
	if len(models) == 0 {
		return notebook.Code{}, fmt.Errorf("%s: the %%%%kf serve cell defines no model: declare func predict(rows [][]float32) ([]float32, error), or a func returning serving.Model", body.Label)
	}
	var src strings.Builder
	src.WriteString("import fairserving \"github.com/fair-go/fair/serving\"\n")
	// A []Model spread must be the only argument.
	if len(models) > 1 {
		src.WriteString("fairModels := []fairserving.Model{}\n")
		for _, m := range models {
			fmt.Fprintf(&src, "fairModels = append(fairModels, %s)\n", m)
		}
		src.WriteString("fairErr := fairserving.Serve(fairModels...)\n")
	} else {
		fmt.Fprintf(&src, "fairErr := fairserving.Serve(%s)\n", models[0])
	}
	src.WriteString("if fairErr != nil {\n\tpanic(fairErr)\n}\n")
	return notebook.Code{Label: body.Label, Source: src.String()}, nil
}

var errNoMain = errors.New("the cell serves by itself")

func fieldTypes(fl *ast.FieldList) []string {
	if fl == nil {
		return nil
	}
	var out []string
	for _, f := range fl.List {
		t := types(f.Type)
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			out = append(out, t)
		}
	}
	return out
}

func types(x ast.Expr) string {
	switch t := x.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + types(t.Elt)
		}
	case *ast.SelectorExpr:
		return types(t.X) + "." + t.Sel.Name
	case *ast.StarExpr:
		return "*" + types(t.X)
	}
	return "?"
}
