package kernel

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/fair-go/fair/notebook"
)

// Imports that resolve themselves: a cell that imports a package no module
// of the notebook's go.mod provides gets that package's module added
// through the module proxy (the latest version, or the one %go get pinned
// before), and compiles again; the cell says what was added in one line.

var missingPkg = regexp.MustCompile(`no required module provides package ([^\s;]+)`)

// missingImports lists the packages the go command found no module for.
func missingImports(out []byte) []string {
	var pkgs []string
	seen := map[string]bool{}
	for _, m := range missingPkg.FindAllStringSubmatch(string(out), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			pkgs = append(pkgs, m[1])
		}
	}
	return pkgs
}

var addedModule = regexp.MustCompile(`(?m)^go: (?:added|upgraded) (\S+) (\S+)`)

// addModules runs go get for pkgs in the notebook module and returns what
// was added ("gonum.org/v1/gonum v0.16.0"). On failure the error is one
// line naming the cell, the line and the import.
func (e *Executor) addModules(ctx context.Context, cell *notebook.Cell, file string, pkgs []string) ([]string, error) {
	var added []string
	for _, p := range pkgs {
		out, err := e.goCmd(ctx, "get", p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &CellError{Name: "ImportError", Value: importWhere(cell, file, p) + ": cannot add it to the notebook's module: " + goFailure(out),
				Traceback: strings.Split(strings.TrimSpace(string(out)), "\n")}
		}
		for _, m := range addedModule.FindAllStringSubmatch(string(out), -1) {
			added = append(added, m[1]+" "+m[2])
		}
	}
	return added, nil
}

// importWhere names where cell imports pkg: "In[3] line 2: import \"x\"".
func importWhere(cell *notebook.Cell, file, pkg string) string {
	if cell != nil {
		for i, l := range strings.Split(cell.Source, "\n") {
			if strings.Contains(l, `"`+pkg+`"`) {
				return fmt.Sprintf("%s line %d: import %q", file, i+1, pkg)
			}
		}
	}
	return fmt.Sprintf("%s: import %q", file, pkg)
}

// goFailure is the go command's reason, in one line.
func goFailure(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "go: "))
		if l != "" && !strings.HasPrefix(l, "downloading ") && !strings.HasPrefix(l, "finding ") {
			return l
		}
	}
	return "go get failed"
}
