package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/notebook"
)

// Magic handles a %name line magic or a %%name cell magic.
type Magic struct {
	// Help is one line shown by %help.
	Help string
	// Run handles the magic. For a cell magic, env.Body holds the cell's
	// body and env.Cell is true.
	Run func(ctx context.Context, env *MagicEnv) error
	// Words complete the magic's first argument (%kf's verbs).
	Words []string
}

// MagicEnv is what a magic sees of the kernel and the cell.
type MagicEnv struct {
	// The magic's name, arguments and, for a %%magic, its body and line
	// (Below places the body on the cell's lines).
	notebook.Magic
	Cell bool
	// Count is the execution count of the cell running the magic.
	Count int
	// Stdout and Stderr stream to the cell's output.
	Stdout, Stderr io.Writer

	k   *Kernel
	out *cellOutput
}

// Display shows a MIME bundle; a non-empty id lets Update replace it.
func (e *MagicEnv) Display(id string, bundle map[string]any) {
	e.out.Display(nb.Message{Type: "display", DisplayID: id, Data: bundle})
}

// Update replaces the display shown with id.
func (e *MagicEnv) Update(id string, bundle map[string]any) {
	e.out.Display(nb.Message{Type: "update", DisplayID: id, Data: bundle})
}

// Input asks the user for a line of input.
func (e *MagicEnv) Input(prompt string, password bool) (string, error) {
	return e.out.Input(prompt, password)
}

// WorkDir is the notebook's Go module folder (its go.mod and go.sum).
func (e *MagicEnv) WorkDir() string { return e.k.exec.Dir() }

// History returns the code of the cells run so far without error.
func (e *MagicEnv) History() []string { return e.k.History() }

// Cells returns the cells run so far without error, labelled In[n].
func (e *MagicEnv) Cells() []notebook.Code {
	e.k.mu.Lock()
	defer e.k.mu.Unlock()
	out := make([]notebook.Code, len(e.k.history))
	for i, h := range e.k.history {
		out[i] = notebook.Code{Label: fmt.Sprintf("In[%d]", h.count), Source: h.code}
	}
	return out
}

// NotebookDir is the folder the notebook's cells and !commands run in.
func (e *MagicEnv) NotebookDir() string { return e.k.exec.CellDir() }

// Kernel returns the kernel, e.g. to publish comm messages.
func (e *MagicEnv) Kernel() *Kernel { return e.k }

// Error is a magic failure shown as the cell's error.
func (e *MagicEnv) Error(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &CellError{Name: "MagicError", Value: msg, Traceback: []string{"%" + e.Name + ": " + msg}}
}

// builtins are the magics every kernel has; New adds those given with
// WithMagic.
var builtins = map[string]Magic{}

// WithMagic makes %name (and %%name) available in the kernel.
func WithMagic(name string, m Magic) Option {
	return func(k *Kernel) { k.magics[name] = m }
}

func init() {
	builtins["go"] = Magic{
		Help: "%go get MODULE@VERSION | %go mod tidy | ...: run the go command in the notebook's module",
		Run: func(ctx context.Context, e *MagicEnv) error {
			args := strings.Fields(e.Args)
			if len(args) == 0 {
				return e.Error("usage: %%go get MODULE@VERSION (or any go subcommand)")
			}
			if err := e.k.exec.Go(ctx, e.Stderr, args...); err != nil {
				return e.Error("%v", err)
			}
			return nil
		},
	}
	builtins["help"] = Magic{
		Help: "%help: list the magics",
		Run: func(ctx context.Context, e *MagicEnv) error {
			names := make([]string, 0, len(e.k.magics))
			for n := range e.k.magics {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(e.Stdout, "%%%-8s %s\n", n, e.k.magics[n].Help)
			}
			fmt.Fprintln(e.Stdout, "!cmd      run a shell command in the notebook's folder")
			return nil
		},
	}
	builtins["who"] = Magic{
		Help: "%who: list the notebook's declarations and the cell that defines each",
		Run: func(ctx context.Context, e *MagicEnv) error {
			s := e.k.exec.Session()
			names := make([]string, 0, len(s.Defs))
			for n := range s.Defs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				d := s.Defs[n]
				fmt.Fprintf(e.Stdout, "%-6s %-20s %s\n", d.Kind, n, d.VarType)
			}
			return nil
		},
	}
	// The environment and the arguments, as GoNB and IPython name them,
	// so that notebooks written for those kernels run here.
	builtins["env"] = Magic{
		Help: "%env [NAME [VALUE]] | %env NAME=VALUE: show or set an environment variable of the cells, !commands and %kf",
		Run: func(ctx context.Context, e *MagicEnv) error {
			name, value, set := envArgs(e.Args)
			switch {
			case name == "":
				env := os.Environ()
				sort.Strings(env)
				for _, kv := range env {
					// Saved notebooks get shared: as IPython's %env does,
					// the list hides values whose names look secret.
					if n, _, _ := strings.Cut(kv, "="); secretName(n) {
						kv = n + "=<hidden>"
					}
					fmt.Fprintln(e.Stdout, kv)
				}
			case !set:
				v, ok := os.LookupEnv(name)
				if !ok {
					return e.Error("%s is not set", name)
				}
				fmt.Fprintln(e.Stdout, v)
			default:
				if err := e.k.exec.Setenv(name, value); err != nil {
					return e.Error("%v", err)
				}
			}
			return nil
		},
	}
	builtins["cd"] = Magic{
		Help: "%cd [DIR]: show or change the folder cells and !commands run in",
		Run: func(ctx context.Context, e *MagicEnv) error {
			dir := strings.TrimSpace(e.Args)
			if w, err := build.SplitCommand(dir); err == nil && len(w) == 1 {
				dir = w[0] // %cd "my data"
			}
			if dir == "" {
				fmt.Fprintln(e.Stdout, e.k.exec.CellDir())
				return nil
			}
			if dir == "~" || strings.HasPrefix(dir, "~/") {
				home, _ := os.UserHomeDir()
				dir = home + dir[1:]
			}
			now, err := e.k.exec.Chdir(dir)
			if err != nil {
				return e.Error("%v", err)
			}
			fmt.Fprintln(e.Stdout, now)
			return nil
		},
	}
	builtins["args"] = Magic{
		Help: "%args [ARGS...]: set the arguments of later main cells (%%, %main, func main) as os.Args[1:]; %args alone clears them, as in GoNB",
		Run: func(ctx context.Context, e *MagicEnv) error {
			var args []string
			if strings.TrimSpace(e.Args) != "" {
				var err error
				if args, err = build.SplitCommand(e.Args); err != nil {
					return e.Error("%v", err)
				}
			}
			e.k.mu.Lock()
			was := e.k.mainArgs
			e.k.mainArgs = args
			e.k.mu.Unlock()
			if len(args) == 0 && len(was) > 0 {
				fmt.Fprintf(e.Stdout, "arguments cleared (they were: %s)\n", strings.Join(was, " "))
			}
			return nil
		},
	}
	builtins["main"] = Magic{
		Help: "%main [ARGS...]: run this cell as a program's main (GoNB's %%): os.Args[1:] = ARGS (or %args), flags parsed",
		Run: func(ctx context.Context, e *MagicEnv) error {
			return e.k.runMain(ctx, e.out, e.Count, e.Args)
		},
	}
	builtins["version"] = Magic{
		Help: "%version: the kernel's version and its Go (GoNB's %version)",
		Run: func(ctx context.Context, e *MagicEnv) error {
			fmt.Fprintf(e.Stdout, "fair Go kernel %s, Go %s\n", e.k.version, goVersion())
			return nil
		},
	}
	builtins["ls"] = Magic{Help: "%ls (GoNB's name for %who)", Run: builtins["who"].Run}
	builtins["list"] = Magic{Help: "%list (GoNB's name for %who)", Run: builtins["who"].Run}
	builtins["reset"] = Magic{
		Help: "%reset: forget every definition and start a new Go process (as a kernel restart)",
		Run: func(ctx context.Context, e *MagicEnv) error {
			e.k.exec.Reset()
			fmt.Fprintln(e.Stdout, "every definition forgotten; the next cell starts a new Go process")
			return nil
		},
	}
	// IPython's cell magics that notebooks use to set things up.
	builtins["writefile"] = Magic{
		Help: "%%writefile [-a] FILE: write (-a: append) the cell's body to FILE, from the notebook's folder",
		Run: func(ctx context.Context, e *MagicEnv) error {
			words, err := build.SplitCommand(e.Args)
			if err != nil {
				return e.Error("%v", err)
			}
			appendTo := len(words) > 0 && (words[0] == "-a" || words[0] == "--append")
			if appendTo {
				words = words[1:]
			}
			if !e.Cell || len(words) != 1 {
				return e.Error("usage: %%%%writefile [-a] FILE, with the file's text below")
			}
			name := words[0]
			if !filepath.IsAbs(name) {
				name = filepath.Join(e.k.exec.CellDir(), name)
			}
			flag, verb := os.O_CREATE|os.O_WRONLY|os.O_TRUNC, "Writing"
			if appendTo {
				flag, verb = os.O_CREATE|os.O_WRONLY|os.O_APPEND, "Appending to"
			} else if _, err := os.Stat(name); err == nil {
				verb = "Overwriting"
			}
			f, err := os.OpenFile(name, flag, 0o644)
			if err != nil {
				return e.Error("%v", err)
			}
			body := e.Body
			if body != "" && !strings.HasSuffix(body, "\n") {
				body += "\n"
			}
			if _, err := f.WriteString(body); err != nil {
				f.Close()
				return e.Error("%v", err)
			}
			if err := f.Close(); err != nil {
				return e.Error("%v", err)
			}
			fmt.Fprintln(e.Stdout, verb, words[0])
			return nil
		},
	}
	for _, sh := range []string{"bash", "sh"} {
		builtins[sh] = Magic{
			Help: "%%" + sh + ": run the cell's body as a " + sh + " script in the notebook's folder",
			Run: func(ctx context.Context, e *MagicEnv) error {
				if !e.Cell {
					return e.Error("usage: %%%%%s, with the script below", sh)
				}
				return e.k.script(ctx, e.out, "%%"+sh, sh, e.Body)
			},
		}
	}
	builtins["time"] = Magic{
		Help: "%%time: run the cell's body and print its wall time",
		Run: func(ctx context.Context, e *MagicEnv) error {
			if !e.Cell {
				return e.Error("usage: %%%%time, with the cell's code below")
			}
			start := time.Now()
			err := e.k.run(ctx, e.Below(), e.Count, e.out)
			var ce *CellError
			if errors.As(err, &ce) && (ce.Name == "CompileError" || ce.Name == "SyntaxError") {
				return err // nothing ran to time
			}
			fmt.Fprintf(e.Stdout, "Wall time: %v\n", time.Since(start).Round(time.Microsecond))
			return err
		},
	}
	builtins["workdir"] = Magic{
		Help: "%workdir: print the notebook's Go module folder",
		Run: func(ctx context.Context, e *MagicEnv) error {
			fmt.Fprintln(e.Stdout, e.WorkDir())
			return nil
		},
	}
}

// MainArgs are the arguments %args set for main cells.
func (e *MagicEnv) MainArgs() []string {
	e.k.mu.Lock()
	defer e.k.mu.Unlock()
	return slices.Clone(e.k.mainArgs)
}

// secretName reports whether an environment variable's name looks like
// it holds a credential.
func secretName(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASS", "CREDENTIAL", "AUTH"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// envArgs reads %env's forms: NAME, NAME VALUE, NAME=VALUE.
func envArgs(s string) (name, value string, set bool) {
	s = strings.TrimSpace(s)
	if n, v, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(n, " \t") {
		return n, v, true
	}
	name, value, set = strings.Cut(s, " ")
	return name, strings.TrimSpace(value), set
}

// runMain starts a main cell: its arguments are those on its line, else
// those of %args. Without either there is nothing to parse, and the cell
// does not wait for a host that is still starting.
func (k *Kernel) runMain(ctx context.Context, out *cellOutput, n int, line string) error {
	args, err := build.SplitCommand(line)
	if err != nil {
		return &CellError{Name: "MagicError", Value: err.Error(), Traceback: []string{err.Error()}}
	}
	if len(args) == 0 {
		k.mu.Lock()
		args = k.mainArgs
		k.mu.Unlock()
	}
	if len(args) == 0 {
		return nil
	}
	return k.exec.Main(ctx, n, args, true, out)
}

// otherKernelMagics says what to do in fair's kernel instead of a magic
// of GoNB's that it does not have, for notebooks written for GoNB.
var otherKernelMagics = map[string]string{
	"goflags":       "flags for go build; the kernel builds each cell as a plugin with fixed flags",
	"test":          "the kernel does not run Test functions; check in a cell's statements, or go test the folder",
	"with_inputs":   "a cell that reads os.Stdin gets an input box without it",
	"with_password": "a cell that reads os.Stdin gets an input box without it",
	"track":         "use a local module with !*go mod edit -replace MODULE=DIR, then import it",
	"untrack":       "drop a local module with !*go mod edit -dropreplace MODULE",
	"wasm":          "cells run as native Go in the kernel's process",
	"widgets":       "the fair panel (fair notebook-ext install) shows runs; cells show HTML with display.HTML",
	"exec":          "call the function from a cell, or declare func main and run the cell",
}

func (k *Kernel) runMagic(ctx context.Context, out *cellOutput, count int, mg notebook.Magic, cell bool) error {
	name := mg.Name
	m, ok := k.magics[name]
	if !ok {
		msg := fmt.Sprintf("unknown magic %%%s (try %%help)", name)
		if hint, ok := otherKernelMagics[name]; ok {
			msg = fmt.Sprintf("%%%s is GoNB's magic, which fair's kernel does not have: %s (try %%help)", name, hint)
		}
		return &CellError{Name: "MagicError", Value: msg, Traceback: []string{msg}}
	}
	env := &MagicEnv{Magic: mg, Cell: cell, Count: count,
		Stdout: out.Writer("stdout"), Stderr: out.Writer("stderr"), k: k, out: out}
	// The stop button cancels a magic's context (a %kf train then detaches
	// from its job, or cancels it if asked to).
	ctx, done := k.stoppable(ctx)
	defer done()
	return m.Run(ctx, env)
}

// RunMagic runs %name args outside any cell, for a frontend's panel: what
// the magic writes goes to out as (stream name, text), and it sees the
// cells run so far, as a magic in a new cell would. It does not touch the
// stop button, which belongs to the running cell.
func (k *Kernel) RunMagic(ctx context.Context, name, args string, out func(stream, text string)) error {
	m, ok := k.magics[name]
	if !ok {
		return fmt.Errorf("unknown magic %%%s", name)
	}
	o := &cellOutput{k: k, sink: out}
	env := &MagicEnv{Magic: notebook.Magic{Name: name, Args: args}, Stdout: o.Writer("stdout"), Stderr: o.Writer("stderr"), k: k, out: o}
	return m.Run(ctx, env)
}

// stoppable returns a context the stop button cancels (an interrupt
// request) until done is called: for magics and !shell lines, which run in
// the kernel rather than in the host.
func (k *Kernel) stoppable(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	k.mu.Lock()
	k.magicStop = cancel
	k.mu.Unlock()
	return ctx, func() {
		k.mu.Lock()
		k.magicStop = nil
		k.mu.Unlock()
		cancel()
	}
}
