package cellgen

import (
	"fmt"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/packages"
)

// Packages loads the packages a notebook imports, for what syntax alone
// cannot tell: a dot import (import . "strings") brings names in
// unqualified, and only the package knows which.
type Packages interface {
	// Load returns the package at path with its types, nil if it cannot
	// be loaded. Loads are cached.
	Load(path string) *types.Package
}

// SourcePackages reads packages from source through the go command's
// view of the world (the standard library, and module packages the
// working directory can see), once each.
var SourcePackages Packages = &sourcePackages{cache: map[string]*types.Package{}}

// ModulePackages reads packages as the Go module in dir sees them: the
// standard library, and the modules its go.mod requires (a notebook's
// work module, where %go get and imports add them).
func ModulePackages(dir string) Packages {
	return &sourcePackages{dir: dir, cache: map[string]*types.Package{}}
}

type sourcePackages struct {
	dir   string // module folder for packages outside the standard library
	mu    sync.Mutex
	imp   types.Importer
	cache map[string]*types.Package
}

func (s *sourcePackages) Load(path string) *types.Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.cache[path]; ok {
		return p
	}
	var p *types.Package
	if first, _, _ := strings.Cut(path, "/"); s.dir != "" && strings.Contains(first, ".") {
		cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes, Dir: s.dir,
			Env: append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")}
		if ps, err := packages.Load(cfg, path); err == nil && len(ps) == 1 && len(ps[0].Errors) == 0 {
			p = ps[0].Types
		}
	} else {
		if s.imp == nil {
			s.imp = importer.ForCompiler(token.NewFileSet(), "source", nil)
		}
		p, _ = s.imp.Import(path)
	}
	s.cache[path] = p
	return p
}

// exports reports whether p exports name.
func exports(p *types.Package, name string) bool {
	return p != nil && token.IsExported(name) && p.Scope().Lookup(name) != nil
}

// dotUse is a declaration that uses a dot import of p ("var _ = ToUpper"),
// so a cell that only imports it compiles; "" if p has no name to use.
func dotUse(p *types.Package) string {
	if p == nil {
		return ""
	}
	for _, n := range p.Scope().Names() { // sorted
		if !token.IsExported(n) {
			continue
		}
		switch o := p.Scope().Lookup(n).(type) {
		case *types.TypeName:
			if named, ok := o.Type().(*types.Named); ok && named.TypeParams().Len() > 0 {
				continue
			}
			return "var _ *" + n
		case *types.Func:
			if sig, ok := o.Type().(*types.Signature); ok && sig.TypeParams().Len() > 0 {
				continue
			}
			return "var _ = " + n
		case *types.Var:
			return "var _ = &" + n
		}
	}
	return ""
}

// dotAlias names the i-th remembered dot import's package in a later cell,
// where its names are qualified with it (CleanNames takes it out again).
func dotAlias(i int) string { return fmt.Sprintf("%sdot%d", Prefix, i) }

// dotQualified matches a dotAlias qualifier in a compiler message.
var dotQualified = regexp.MustCompile(Prefix + `dot\d+\.`)

// dotImportsOf lists the paths an import declaration imports with a dot.
func dotImportsOf(decl string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+decl, parser.ImportsOnly)
	if err != nil {
		return nil
	}
	var out []string
	for _, im := range f.Imports {
		if im.Name != nil && im.Name.Name == "." {
			p, _ := strconv.Unquote(im.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// dotFor returns the remembered dot import that exports name: the newest
// one when several do (strings and bytes both export Repeat), as the
// newest definition of a name wins in a notebook.
func (s *Session) dotFor(name string) (string, bool) {
	if s.Packages == nil {
		return "", false
	}
	for i := len(s.DotImports) - 1; i >= 0; i-- {
		if p := s.DotImports[i]; exports(s.Packages.Load(p), name) {
			return p, true
		}
	}
	return "", false
}

// rememberDots adds a committed cell's dot imports to the session, newest
// last (a path imported again moves to the end).
func (s *Session) rememberDots(paths []string) {
	for _, p := range paths {
		s.DotImports = slices.DeleteFunc(s.DotImports, func(q string) bool { return q == p })
		s.DotImports = append(s.DotImports, p)
	}
}
