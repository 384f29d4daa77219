// Package nbsource builds a Go notebook into a container image: it picks the
// cells that make the notebook's program (notebook.Select), generates the
// program exactly as the kernel runs the cells (cellgen.Program), and
// compiles it with the notebook's go.mod into an ordinary static binary. It
// is a builder.Source, used by `fair build notebook.ipynb` and by the %kf
// magics alike, so both give the same image for the same cells.
package nbsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"golang.org/x/mod/modfile"

	"github.com/fair-go/fair"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/builder/ignore"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/cellgen"
)

// Module is the module path of every program built from a notebook, as of
// the kernel's own notebook module.
const Module = "fairnb"

// WorkDir is the working directory of the program in the image; files
// shipped with WithInclude land under it.
const WorkDir = "/workspace"

// binName is the program's file name in the image. It is the same for
// every notebook so that the image depends only on the notebook's code.
const binName = "notebook"

// Source is a notebook program to build.
type Source struct {
	name     string
	sel      *notebook.Selection
	modDir   string // folder whose go.mod and go.sum the program uses
	baseDir  string // folder relative includes are resolved against
	includes []string

	once   sync.Once
	dir    string
	labels []string
	err    error
}

// Option configures a Source.
type Option func(*Source)

// WithModule uses the go.mod (and go.sum) in dir: the kernel's work folder,
// or a project next to the notebook. Without it, or when dir has no go.mod,
// the program gets the go.mod of a new notebook.
func WithModule(dir string) Option { return func(s *Source) { s.modDir = dir } }

// WithInclude ships files or folders (relative to the notebook's folder)
// into the image under WorkDir, at the same relative path, so the program
// finds the data files the notebook read.
func WithInclude(paths ...string) Option {
	return func(s *Source) { s.includes = append(s.includes, paths...) }
}

// WithBaseDir sets the folder relative includes are resolved against (the
// notebook's folder; default the working directory).
func WithBaseDir(dir string) Option { return func(s *Source) { s.baseDir = dir } }

// WithName sets the image name (default: the notebook's file name).
func WithName(name string) Option { return func(s *Source) { s.name = name } }

// FromFile reads an .ipynb file and selects its program for verb ("train",
// "serve" or "" for build); see notebook.Select. The go.mod next to the
// notebook is used when there is one.
func FromFile(file, verb string, opts ...Option) (*Source, error) {
	f, err := notebook.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sel, err := notebook.Select(f.Codes(), verb, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return FromSelection(file, sel, opts...)
}

// FromSelection is FromFile for a notebook already read and selected: the
// go.mod next to file is used, includes are relative to its folder, and the
// image is named after it.
func FromSelection(file string, sel *notebook.Selection, opts ...Option) (*Source, error) {
	dir := filepath.Dir(file)
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	all := append([]Option{WithModule(dir), WithBaseDir(dir), WithName(name)}, opts...)
	return New(sel, all...)
}

// FromCells selects the program from cells run so far (the kernel's
// history) and, for a %%kf cell, its body.
func FromCells(cells []notebook.Code, verb string, body *notebook.Code, opts ...Option) (*Source, error) {
	sel, err := notebook.Select(cells, verb, body)
	if err != nil {
		return nil, err
	}
	return New(sel, opts...)
}

// New returns the source for a selection.
func New(sel *notebook.Selection, opts ...Option) (*Source, error) {
	s := &Source{sel: sel, name: "notebook"}
	for _, o := range opts {
		o(s)
	}
	s.name = builder.ImageName(s.name)
	if sel.Verb == "serve" {
		last := sel.Cells[len(sel.Cells)-1]
		main, err := serveCell(last)
		switch {
		case errors.Is(err, errNoMain):
		case err != nil:
			return nil, err
		default:
			sel.Cells = append(sel.Cells, main)
		}
	}
	return s, nil
}

// Name implements builder.Source.
func (s *Source) Name() string { return s.name }

// Selection says which cells the program runs and what its entry is.
func (s *Source) Selection() *notebook.Selection { return s.sel }

// Program writes the program's module into dir (for inspection or go run).
func (s *Source) Program(dir string) error {
	files, err := cellgen.Program(Module, s.sel.Cells)
	if err != nil {
		return err
	}
	gomod, gosum, err := s.goMod()
	if err != nil {
		return err
	}
	files["go.mod"] = gomod
	if gosum != nil {
		files["go.sum"] = gosum
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		// Files a cell embeds, from the notebook's folder, as the kernel
		// does: the image carries them in the binary.
		embeds, err := cellgen.EmbedPatterns(b)
		if err != nil {
			return err
		}
		if err := cellgen.CopyEmbedded(s.base(), filepath.Dir(p), embeds); err != nil {
			return err
		}
	}
	return fair.WriteSDK(filepath.Join(dir, fair.SDKDir))
}

// base is the folder relative paths are taken from: the notebook's, else
// the working directory.
func (s *Source) base() string {
	if s.baseDir != "" {
		return s.baseDir
	}
	return "."
}

// MapTrace names the notebook's cells in the program's output, such as a
// panic's stack trace in a job's logs ("In[9] line 2", not a generated
// file's position).
func (s *Source) MapTrace(text string) string {
	labels := make([]string, len(s.sel.Cells))
	for i, c := range s.sel.Cells {
		labels[i] = c.Label
	}
	return cellgen.MapTrace(text, labels)
}

// Build implements builder.Source.
func (s *Source) Build(ctx context.Context, bc *builder.Context, p v1.Platform) (v1.Image, error) {
	s.once.Do(func() {
		s.dir = filepath.Join(bc.TempDir(), "nb", binName)
		for _, c := range s.sel.Cells {
			s.labels = append(s.labels, c.Label)
		}
		s.err = s.Program(s.dir)
	})
	if s.err != nil {
		return nil, s.err
	}
	gs, err := builder.NewGo(s.dir)
	if err != nil {
		return nil, err
	}
	gs.Env = []string{"GOWORK=off", "GOFLAGS=-mod=mod"}
	gs.Label = fmt.Sprintf("the notebook (%d cells; entry: %s)", len(s.labels), s.sel.Entry)
	img, err := gs.Build(ctx, bc, p)
	if err != nil {
		var ce *builder.CompileError
		if errors.As(err, &ce) {
			return nil, &CompileError{Lines: cellgen.ProgramErrors(Module, ce.Output, s.labels)}
		}
		return nil, err
	}
	for _, inc := range s.includes {
		layer, err := s.includeLayer(bc, inc)
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer,
			History: v1.History{Created: v1.Time{Time: bc.Epoch()}, CreatedBy: "fair build --include " + inc}})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.WorkingDir = WorkDir
	return mutate.ConfigFile(img, cf)
}

// CompileError is a notebook program that did not compile; each line
// names the notebook cell and the line in it.
type CompileError struct{ Lines []string }

func (e *CompileError) Error() string {
	return "the notebook does not compile:\n" + strings.Join(e.Lines, "\n")
}

// includeLayer puts a file or folder under WorkDir at its path relative to
// the notebook's folder (its base name when it lies outside).
func (s *Source) includeLayer(bc *builder.Context, inc string) (v1.Layer, error) {
	full := inc
	if !filepath.IsAbs(full) && s.baseDir != "" {
		full = filepath.Join(s.baseDir, inc)
	}
	st, err := os.Stat(full)
	if err != nil {
		return nil, fmt.Errorf("--include %s: %v", inc, errors.Unwrap(err))
	}
	if why := ignore.SecretPath(full); why != "" {
		return nil, fmt.Errorf("--include %s: %s; pass secrets with --env-from-secret instead", inc, why)
	}
	rel := filepath.ToSlash(filepath.Clean(inc))
	if filepath.IsAbs(inc) || rel == ".." || strings.HasPrefix(rel, "../") {
		rel = filepath.Base(full)
	}
	target := path.Join(WorkDir, rel)
	if st.IsDir() {
		return builder.DirLayer(bc, full, target)
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return bc.Layer(func(t *builder.Tar) error { return t.File(target, 0o644, st.Size(), f) })
}

// goMod returns the program's go.mod, made from the source module's
// requirements and replacements so that the program gets the notebook's
// dependency versions, and the source's go.sum.
func (s *Source) goMod() (gomod, gosum []byte, err error) {
	data := []byte(fair.NotebookGoMod(Module))
	dir := s.modDir
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			data = b
			if sum, err := os.ReadFile(filepath.Join(dir, "go.sum")); err == nil {
				gosum = sum
			}
		}
		if dir, err = filepath.Abs(dir); err != nil {
			return nil, nil, err
		}
	}
	f, err := modfile.Parse(filepath.Join(dir, "go.mod"), data, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the notebook's go.mod: %v", err)
	}
	goVersion := "1.26"
	if f.Go != nil {
		goVersion = f.Go.Version
	}
	requires := map[string]string{"github.com/fair-go/fair": "v0.0.0"}
	replaces := map[string]string{"github.com/fair-go/fair": "./" + fair.SDKDir}
	for _, r := range f.Require {
		if _, ok := requires[r.Mod.Path]; !ok {
			requires[r.Mod.Path] = r.Mod.Version
		}
	}
	for _, r := range f.Replace {
		if _, ok := replaces[r.Old.Path]; ok {
			continue
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += " " + r.Old.Version
		}
		to := r.New.Path
		if modfile.IsDirectoryPath(to) {
			if !filepath.IsAbs(to) {
				to = filepath.Join(dir, to)
			}
		} else {
			to += " " + r.New.Version
		}
		replaces[old] = to
	}
	// A project next to the notebook: its own packages stay importable.
	if f.Module != nil && f.Module.Mod.Path != Module {
		requires[f.Module.Mod.Path] = "v0.0.0"
		replaces[f.Module.Mod.Path] = dir
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\nrequire (\n", Module, goVersion)
	for _, p := range sortedKeys(requires) {
		fmt.Fprintf(&b, "\t%s %s\n", p, requires[p])
	}
	b.WriteString(")\n\nreplace (\n")
	for _, p := range sortedKeys(replaces) {
		fmt.Fprintf(&b, "\t%s => %s\n", p, replaces[p])
	}
	b.WriteString(")\n")
	return []byte(b.String()), gosum, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
