package kernel

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/cellgen"
)

// The host program is built inside every notebook module (next to the
// runtime fair.WriteSDK copies there), so it is built against exactly the
// packages the cells use.
//
//go:embed host/main.go
var hostFS embed.FS

// Module is the module path of a notebook's work folder.
const Module = "fairnb"

// nbPackage is the cell runtime every cell imports.
const nbPackage = "github.com/fair-go/fair/kernel/nb"

// hostMarker must match the host's Marker.
const hostMarker = "\x00fair-cell-end "

// Output receives what a running cell produces.
type Output interface {
	Stream(name, text string)
	Display(m nb.Message) // display, update or result
	Input(prompt string, password bool) (string, error)
}

// CellError is a failed cell, shown to the user as a Jupyter error.
type CellError struct {
	Name      string
	Value     string
	Traceback []string

	raw []string // a compile error's lines before the names were cleaned
}

func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// Executor compiles cells and runs them in a host process that keeps the
// notebook's state.
type Executor struct {
	dir      string // notebook module (work folder)
	cellsDir string // directory cells run in (the notebook's folder)
	shared   string // kept by the kernels of every notebook folder ("": none)
	goBin    string
	maxOut   int64
	grace    time.Duration

	mu      sync.Mutex
	session *cellgen.Session
	seq     int
	host    *hostProc
	running *runState
	notes   []string // things to tell the user with the next output
	added   []string // modules a build added to the notebook's module, told with its cell
	direct  directBuild
	// starting is closed when a host build under way ends (nil: none).
	starting chan struct{}
	gen      int   // counts Shutdowns, so a host built across one is stopped
	laps     *laps // this cell's phases, for FAIR_KERNEL_TRACE

	// hostCopied: the host came from the shared folder, not linked here.
	hostCopied atomic.Bool

	// background receives stream output that arrives while no cell runs.
	background atomic.Value // func(name, text string)
}

type runState struct {
	interrupted bool
	killed      bool
	loaded      bool               // the cell is running in the host
	cancel      context.CancelFunc // stops the compile
	count       int                // the cell's execution count (0: a replay)
}

// ExecOption configures an Executor.
type ExecOption func(*Executor)

// WithOutputLimit caps the bytes of stdout+stderr a single cell may send.
func WithOutputLimit(n int64) ExecOption { return func(e *Executor) { e.maxOut = n } }

// WithInterruptGrace sets how long a cell may ignore an interrupt before
// the host process is restarted.
func WithInterruptGrace(d time.Duration) ExecOption { return func(e *Executor) { e.grace = d } }

// WithCellDir sets the working directory of the cells (default: the
// directory the kernel was started in, the notebook's folder).
func WithCellDir(dir string) ExecOption { return func(e *Executor) { e.cellsDir = dir } }

// WithSharedDir names a folder the kernels of all notebook folders share:
// the C compiler's answers to the linker, and each module's linked host
// program, which a new notebook folder's first kernel then copies instead
// of linking it again (kernel/hostcache.go).
func WithSharedDir(dir string) ExecOption { return func(e *Executor) { e.shared = dir } }

// NewExecutor prepares the notebook module in dir.
func NewExecutor(dir string, opts ...ExecOption) (*Executor, error) {
	wd, _ := os.Getwd()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	e := &Executor{dir: dir, cellsDir: wd, goBin: "go", maxOut: 16 << 20, grace: 3 * time.Second}
	e.session = e.newSession()
	for _, o := range opts {
		o(e)
	}
	if p, err := exec.LookPath("go"); err == nil {
		e.goBin = p
	} else if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		e.goBin = "/usr/local/go/bin/go"
	} else {
		return nil, errors.New("the go command is not on PATH; the kernel compiles cells with it")
	}
	if err := e.writeModule(); err != nil {
		return nil, err
	}
	return e, nil
}

// Dir returns the notebook module's folder.
func (e *Executor) Dir() string { return e.dir }

// Session returns the notebook's definitions so far.
func (e *Executor) Session() *cellgen.Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.session
}

// Start builds and starts the host process if it is not running. The
// kernel calls it when it starts, so the host is ready, or being built,
// when the first cell arrives.
func (e *Executor) Start(ctx context.Context) error {
	// What every cell imports, listed while the host links, so the first
	// cell does not wait for it.
	seedFile(e.moduleCache().exports(), filepath.Join(e.dir, "exports.json"), 0o644)
	go e.direct.prefetch(ctx, e, nbPackage, "fmt")
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.startLocked(ctx)
}

// startLocked starts the host unless it runs. It is called with e.mu held
// and releases it while the host builds (a second of linking), so a cell
// can compile meanwhile; a caller that finds a build under way waits for
// it.
func (e *Executor) startLocked(ctx context.Context) error {
	for {
		if e.host != nil && !e.host.exited() {
			return nil
		}
		if e.starting == nil {
			break
		}
		ch := e.starting
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		e.mu.Lock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	e.starting = ch
	gen := e.gen
	e.mu.Unlock()
	h, err := e.buildHost(ctx)
	e.mu.Lock()
	e.starting = nil
	close(ch)
	if err != nil {
		return err
	}
	if gen != e.gen {
		// Shut down while it was building: it must not outlive that.
		h.stop()
		return errors.New("the kernel was shut down while its Go process started")
	}
	e.host = h
	return nil
}

// buildHost builds the host program and starts it.
func (e *Executor) buildHost(ctx context.Context) (*hostProc, error) {
	bin, err := e.linkHost(ctx)
	if err != nil {
		return nil, err
	}
	return startHost(bin, e.CellDir(), filepath.Join(e.dir, "bin"), &e.background)
}

// linkHost builds the host program, or finds it up to date, and returns
// its path.
func (e *Executor) linkHost(ctx context.Context) (string, error) {
	// Outside bin, which Close empties: go build leaves a host that is up
	// to date alone (0.2 s) instead of linking it again (1.2 s).
	bin := filepath.Join(e.dir, "hostbin", "host")
	ldflags := e.direct.hostLDFlags(ctx, e)
	mc := e.moduleCache()
	seeded := seedHost(mc.host(ldflags), bin)
	out, err := e.goCmd(ctx, "build", "-trimpath", "-ldflags="+ldflags, "-o", bin, "./host")
	if err != nil && ldflags != "" && ctx.Err() == nil {
		ldflags = "" // as go build links by itself
		out, err = e.goCmd(ctx, "build", "-trimpath", "-o", bin, "./host")
	}
	if err != nil {
		return "", fmt.Errorf("build the kernel host: %v\n%s", err, out)
	}
	if untouched(bin, seeded) {
		e.hostCopied.Store(true)
		if os.Getenv("FAIR_KERNEL_TRACE") != "" {
			fmt.Fprintln(os.Stderr, "fair kernel: host copied from", filepath.Dir(mc.host(ldflags)))
		}
	} else {
		keepFile(mc.host(ldflags), bin, 0o755)
		mc.prune()
	}
	return bin, nil
}

// waitHost returns once the host runs, starting it if nobody is.
func (e *Executor) waitHost(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.startLocked(ctx); err != nil {
		if ctx.Err() != nil {
			return &CellError{Name: "KeyboardInterrupt", Value: "interrupted while the kernel's Go process started", Traceback: []string{"KeyboardInterrupt: interrupted while the kernel's Go process started"}}
		}
		return &CellError{Name: "KernelError", Value: err.Error(), Traceback: strings.Split(err.Error(), "\n")}
	}
	return nil
}

// Run compiles and runs the Go code of a parsed cell. count names the cell
// in messages (In[count]).
func (e *Executor) Run(ctx context.Context, cell *notebook.Cell, count int, out Output) error {
	e.mu.Lock()
	if e.host != nil && e.host.exited() {
		// The host died between cells (a goroutine panicked, os.Exit):
		// start a new one with the declarations replayed.
		why := e.host.exitReason()
		e.mu.Unlock()
		lost := e.restart(ctx, out)
		out.Stream("stderr", "The kernel's Go process had exited ("+why+"); it was restarted and the declarations replayed.\n")
		for _, l := range lost {
			out.Stream("stderr", l+"\n")
		}
		e.mu.Lock()
	}
	// A host still being built (the kernel just started) is waited for
	// only when the cell needs it: an evaluated cell at once, a compiled
	// one after it compiled.
	building := e.starting != nil
	if !building {
		if err := e.startLocked(ctx); err != nil {
			e.mu.Unlock()
			return &CellError{Name: "KernelError", Value: err.Error(), Traceback: strings.Split(err.Error(), "\n")}
		}
	}
	notes := e.notes
	e.notes = nil
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rs := &runState{cancel: cancel, count: count}
	e.running = rs
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = nil
		e.mu.Unlock()
	}()
	for _, n := range notes {
		out.Stream("stderr", n+"\n")
	}

	if _, _, candidate := e.evalCandidate(cell); candidate && building {
		if err := e.waitHost(ctx); err != nil {
			return err
		}
		building = false
	}
	if !building {
		if ok, err := e.tryEval(ctx, cell, count, out, rs); ok {
			return err
		}
	}
	file := fmt.Sprintf("In[%d]", count)
	e.laps = newLaps()
	defer e.laps.done(file)
	u, err := e.build(ctx, cell, file, false)
	e.mu.Lock()
	added := e.added
	e.added = nil
	e.mu.Unlock()
	for _, a := range added {
		out.Stream("stdout", a+"\n")
	}
	if err != nil {
		var ce *CellError
		if errors.As(err, &ce) && strings.Contains(ce.Value, "used as value") {
			if u2, err2 := e.build(ctx, cell, file, true); err2 == nil {
				u, err = u2, nil
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return &CellError{Name: "KeyboardInterrupt", Value: "interrupted while compiling", Traceback: []string{"KeyboardInterrupt: interrupted while compiling"}}
			}
			return err
		}
	}
	if building {
		if err := e.waitHost(ctx); err != nil {
			return err
		}
	}
	return e.load(ctx, u, out, rs)
}

// build generates, writes and compiles a cell package as a plugin.
func (e *Executor) build(ctx context.Context, cell *notebook.Cell, file string, noResult bool) (*cellgen.Unit, error) {
	e.mu.Lock()
	e.seq++
	n := e.seq
	sess := e.session
	e.mu.Unlock()
	u, err := sess.Generate(n, cell, cellgen.Options{File: file, NoResult: noResult})
	e.laps.lap("generate")
	if err != nil {
		var ge *cellgen.Error
		if errors.As(err, &ge) {
			return nil, compileError([]string{ge.Error()})
		}
		return nil, &CellError{Name: "SyntaxError", Value: err.Error(), Traceback: []string{err.Error()}}
	}
	err = e.compile(ctx, u)
	var me *missingModules
	if errors.As(err, &me) {
		added, aerr := e.addModules(ctx, cell, file, me.pkgs)
		if aerr != nil {
			return nil, aerr
		}
		e.mu.Lock()
		for _, a := range added {
			e.added = append(e.added, "go: added "+a+" to the notebook's module")
		}
		e.mu.Unlock()
		err = e.compile(ctx, u)
		if errors.As(err, &me) {
			return nil, compileError([]string{importWhere(cell, file, me.pkgs[0]) + ": no module provides it"})
		}
	}
	return u, staleTypes(err, sess, u)
}

// missingModules is a build that failed only for want of modules.
type missingModules struct {
	pkgs []string
	out  []byte
}

func (m *missingModules) Error() string {
	return compileError(strings.Split(string(m.out), "\n")).Error()
}

func (e *Executor) compile(ctx context.Context, u *cellgen.Unit) error {
	dir := filepath.Join(e.dir, u.Dir)
	if err := os.MkdirAll(filepath.Join(dir, "plugin"), 0o755); err != nil {
		return err
	}
	name := filepath.Join(dir, "cell.go")
	if err := os.WriteFile(name, cellgen.FixImports(name, u.Source), 0o644); err != nil {
		return err
	}
	// //go:embed names files in the notebook's folder; the go command
	// looks in the package's.
	embeds, err := cellgen.EmbedPatterns(u.Source)
	if err != nil {
		return err
	}
	if err := cellgen.CopyEmbedded(e.CellDir(), dir, embeds); err != nil {
		return err
	}
	// The plugin's main package hands the host pointers to the cell's
	// variables (plugin.Lookup only sees package main).
	var vars strings.Builder
	for _, v := range u.Vars {
		fmt.Fprintf(&vars, "\t%q: &c.%s,\n", v, v)
	}
	main := fmt.Sprintf("package main\n\nimport c %q\n\nvar _ = c.%s\n\nvar FairVars = map[string]any{\n%s}\n\nfunc main() {}\n", u.Pkg, cellgen.CellConst, vars.String())
	if err := os.WriteFile(filepath.Join(dir, "plugin", "main.go"), []byte(main), 0o644); err != nil {
		return err
	}
	so := filepath.Join(e.dir, "bin", cellgen.PkgName(u.Cell)+".so")
	// No DWARF in cell plugins: it only slows the link down (stack
	// traces come from the pclntab, which stays).
	e.laps.lap("write")
	if done, err := e.direct.build(ctx, e, dir, u.Pkg, so); done {
		return err
	}
	out, err := e.goCmd(ctx, "build", "-trimpath", "-buildmode=plugin", "-ldflags=-s -w", "-o", so, "./"+u.Dir+"/plugin")
	e.laps.lap("go-build")
	if err != nil {
		if pkgs := missingImports(out); len(pkgs) > 0 && ctx.Err() == nil {
			return &missingModules{pkgs: pkgs, out: out}
		}
		return compileError(strings.Split(string(out), "\n"))
	}
	return nil
}

var (
	cellPos = regexp.MustCompile(`(?:^|[\s/])(In\[\d+\]|replay):(\d+)(:\d+)?: (.*)$`)
)

// compileError turns compiler output into a cell error with the cell's own
// line numbers and the user's own names.
// otherKernels are names that notebooks written for other Go kernels use
// and fair does not define, with what to use instead.
var otherKernels = map[string]string{
	"_ctx": "lgo's cell context; here it is nb.Context() from github.com/fair-go/fair/kernel/nb",
}

func compileError(lines []string) error {
	var tb []string
	var first string
	for _, l := range lines {
		if l == "" || strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "go: ") && strings.Contains(l, "fairnb") {
			continue
		}
		l = cellgen.CleanNames(l, Module)
		if m := cellPos.FindStringSubmatch(l); m != nil {
			l = fmt.Sprintf("%s line %s%s: %s", m[1], m[2], m[3], m[4])
		}
		// Names other Go kernels give cells: say what fair has instead.
		for name, hint := range otherKernels {
			if strings.HasSuffix(l, "undefined: "+name) {
				l += " (" + hint + ")"
			}
		}
		if first == "" {
			first = l
		}
		tb = append(tb, l)
	}
	if first == "" {
		first = "compilation failed"
	}
	return &CellError{Name: "CompileError", Value: first, Traceback: tb, raw: lines}
}

// cellQualified matches a name of an earlier cell in a compiler message
// (c3.Point, c3.Ξp) with its cell number.
var cellQualified = regexp.MustCompile(`\bc(\d+)\.` + cellgen.Prefix + `?([A-Za-z_][A-Za-z0-9_]*)`)

// staleTypes explains a compile error that involves an older version of
// a redefined type: the compiler's "cannot use p (variable of struct type
// Point) as Point value" names two types the same. Values made before a
// type's redefinition keep the old type.
func staleTypes(err error, s *cellgen.Session, u *cellgen.Unit) error {
	var ce *CellError
	if !errors.As(err, &ce) || ce.Name != "CompileError" {
		return err
	}
	stale := map[string]int{} // type name -> cell of the older version
	for _, l := range ce.raw {
		for _, m := range cellQualified.FindAllStringSubmatch(l, -1) {
			d, ok := s.Defs[m[2]]
			if !ok || d.Kind != "type" {
				continue
			}
			if n, _ := strconv.Atoi(m[1]); n != d.Cell || u != nil && u.DeclaresType(m[2]) {
				stale[m[2]] = n
			}
		}
	}
	if len(stale) == 0 {
		return err
	}
	names := make([]string, 0, len(stale))
	for n := range stale {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		where := "this cell"
		if u == nil || !u.DeclaresType(n) {
			where = s.CellName(s.Defs[n].Cell)
		}
		hint := fmt.Sprintf("%s is redefined in %s; values made before keep the %s of %s: make them again or rerun their cells",
			n, where, n, s.CellName(stale[n]))
		ce.Traceback = append(ce.Traceback, hint)
		if len(names) == 1 {
			ce.Value += " (" + hint + ")"
		}
	}
	return ce
}

// newSession is an empty notebook session whose dot imports are read as
// the notebook's module sees them.
func (e *Executor) newSession() *cellgen.Session {
	s := cellgen.NewSession(Module)
	s.Packages = cellgen.ModulePackages(e.dir)
	return s
}

// load runs a compiled cell in the host and relays its output.
func (e *Executor) load(ctx context.Context, u *cellgen.Unit, out Output, rs *runState) error {
	so := filepath.Join(e.dir, "bin", cellgen.PkgName(u.Cell)+".so")
	m, err := e.exchange(ctx, out, rs, map[string]any{"op": "load", "cell": u.Cell, "count": rs.count, "path": so, "vars": u.Vars})
	e.laps.lap("load-run")
	if err != nil {
		return err
	}
	e.mu.Lock()
	interrupted := rs.interrupted
	e.mu.Unlock()
	if m.Error != nil && m.Error.Name == "Help" {
		return errHelp // a main cell's -h: its usage is the output
	}
	if m.Error != nil {
		ce := &CellError{Name: m.Error.Name, Value: cellgen.CleanNames(m.Error.Value, Module), Traceback: m.Error.Traceback}
		if interrupted {
			ce.Name = "Interrupted"
		}
		return ce
	}
	e.mu.Lock()
	e.session.Commit(u)
	e.session.SetVarTypes(u.Cell, m.Vars)
	e.session.AddVarImports(strings.Fields(m.Text))
	e.mu.Unlock()
	if interrupted {
		return &CellError{Name: "KeyboardInterrupt", Value: "the cell stopped after an interrupt", Traceback: []string{"KeyboardInterrupt: the cell stopped after an interrupt; the kernel's state is kept"}}
	}
	return nil
}

// exchange sends the host a command that runs a cell (load, eval) and
// relays the cell's output until the host reports it done.
func (e *Executor) exchange(ctx context.Context, out Output, rs *runState, cmd map[string]any) (nb.Message, error) {
	e.mu.Lock()
	h := e.host
	rs.loaded = true
	e.mu.Unlock()
	budget := &outBudget{left: e.maxOut, out: out}
	h.setSink(budget)
	defer h.setSink(nil)
	seq := h.nextSeq()
	cmd["seq"] = seq
	if err := h.send(cmd); err != nil {
		return nb.Message{}, e.crashed(ctx, h, out, "the kernel's Go process is gone: "+err.Error())
	}
	for {
		select {
		case m := <-h.events:
			switch m.Type {
			case "display", "update", "result":
				budget.display(m)
			case "input":
				v, err := out.Input("", false)
				if err != nil {
					// No input here (nbconvert, papermill): the read
					// gets end of file, not a made-up empty line.
					_ = h.send(map[string]any{"op": "eof"})
					continue
				}
				_ = h.send(map[string]any{"op": "input", "value": v})
			case "done":
				h.drainDisplays(budget.display)
				h.waitMarkers(seq, 2*time.Second)
				return m, nil
			}
		case <-h.done:
			e.mu.Lock()
			killed := rs.killed
			e.mu.Unlock()
			if killed {
				lost := e.restart(ctx, out)
				msg := "the cell ignored the interrupt, so the kernel restarted its Go process and replayed the notebook's declarations"
				tb := append([]string{"KeyboardInterrupt: " + msg}, lost...)
				// Go cannot stop a goroutine from outside: say how a cell
				// lets itself be stopped.
				tb = append(tb, "A cell stops on interrupt, keeping every value, when it checks nb.Context(): in a loop, for nb.Context().Err() == nil { ... }; instead of time.Sleep, select { case <-time.After(d): case <-nb.Context().Done(): }.")
				return nb.Message{}, &CellError{Name: "KeyboardInterrupt", Value: msg, Traceback: tb}
			}
			return nb.Message{}, e.crashed(ctx, h, out, "the kernel's Go process exited while running the cell: "+h.exitReason())
		}
	}
}

func (e *Executor) crashed(ctx context.Context, h *hostProc, out Output, why string) error {
	lost := e.restart(ctx, out)
	return &CellError{Name: "KernelCrash", Value: why, Traceback: append([]string{why, "The notebook's declarations were replayed into a new process."}, lost...)}
}

// Interrupt asks the running cell to stop: its context is cancelled and it
// gets os.Interrupt. If it is still running after the grace period the host
// is killed (Run then restarts it and replays the declarations).
func (e *Executor) Interrupt() {
	e.mu.Lock()
	h, rs := e.host, e.running
	if rs != nil {
		rs.interrupted = true
	}
	loaded := rs != nil && rs.loaded
	e.mu.Unlock()
	if rs != nil && !loaded {
		rs.cancel() // still compiling
		return
	}
	if h == nil || rs == nil {
		return
	}
	_ = h.cmd.Process.Signal(os.Interrupt)
	go func() {
		select {
		case <-h.done:
		case <-time.After(e.grace):
			e.mu.Lock()
			still := e.running == rs
			if still {
				rs.killed = true
			}
			e.mu.Unlock()
			if still {
				_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL) // the host and its children
			}
		}
	}()
}

// Shutdown stops the host process.
func (e *Executor) Shutdown() {
	e.mu.Lock()
	h := e.host
	e.host = nil
	e.gen++
	e.mu.Unlock()
	if h != nil {
		h.stop()
	}
}

// Close stops the host and removes the compiled cells; the module (go.mod,
// go.sum) stays for the next session and for building the notebook.
func (e *Executor) Close() {
	e.Shutdown()
	e.direct.reset()
	_ = os.RemoveAll(filepath.Join(e.dir, "cells"))
	_ = os.RemoveAll(filepath.Join(e.dir, "bin"))
}

// Reset forgets every definition and restarts the host (a kernel restart).
func (e *Executor) Reset() {
	e.Shutdown()
	e.mu.Lock()
	e.session = e.newSession()
	e.mu.Unlock()
	e.direct.reset()
	_ = os.RemoveAll(filepath.Join(e.dir, "cells"))
	_ = os.RemoveAll(filepath.Join(e.dir, "bin"))
}

// restart starts a new host and replays the notebook's declarations into
// it. It returns lines saying which values were lost.
func (e *Executor) restart(ctx context.Context, out Output) []string {
	e.mu.Lock()
	if e.host != nil {
		e.host.stop()
		e.host = nil
	}
	old := e.session
	e.session = e.newSession()
	err := e.startLocked(ctx)
	e.mu.Unlock()
	if err != nil {
		return []string{"restart failed: " + err.Error()}
	}
	src, vars, lost := old.ReplaySource()
	if strings.TrimSpace(src) == "" {
		return nil
	}
	var notes []string
	try := func(src string) error {
		cell, err := notebook.Parse(src)
		if err != nil {
			return err
		}
		u, err := e.build(ctx, cell, "replay", false)
		if err != nil {
			return err
		}
		return e.load(ctx, u, discard{}, &runState{})
	}
	if err := try(src); err != nil {
		src, _, _ = old.ReplaySourceDecls()
		lost = append(lost, vars...)
		vars = nil
		if err := try(src); err != nil {
			e.mu.Lock()
			e.session = e.newSession()
			e.mu.Unlock()
			return []string{"Replaying the declarations failed, so the notebook starts empty: " + err.Error()}
		}
	}
	e.mu.Lock()
	e.session.Imports = old.Imports
	e.mu.Unlock()
	if len(vars) > 0 {
		sort.Strings(vars)
		notes = append(notes, "Values lost (variables reset to their zero value): "+strings.Join(vars, ", "))
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		notes = append(notes, "Variables lost (not restored; re-run the cells that define them): "+strings.Join(lost, ", "))
	}
	notes = append(notes, "Running goroutines of earlier cells were stopped.")
	return notes
}

type discard struct{}

func (discard) Stream(string, string)              {}
func (discard) Display(nb.Message)                 {}
func (discard) Input(string, bool) (string, error) { return "", io.EOF }

// SetBackground sets where output written between cells goes.
func (e *Executor) SetBackground(f func(name, text string)) { e.background.Store(f) }

// Setenv sets an environment variable for the cells, the !commands and the
// kernel's own work (%kf builds and deploys): in the kernel's process,
// which a restarted host inherits, and in the running host.
func (e *Executor) Setenv(name, value string) error {
	if name == "" || strings.ContainsAny(name, "=\x00") || strings.ContainsRune(value, 0) {
		return fmt.Errorf("%q is not an environment variable name", name)
	}
	if err := os.Setenv(name, value); err != nil {
		return err
	}
	e.mu.Lock()
	h := e.host
	e.mu.Unlock()
	if h != nil && !h.exited() {
		return h.send(map[string]any{"op": "setenv", "name": name, "value": value})
	}
	return nil
}

// CellDir is the folder cells and !commands run in.
func (e *Executor) CellDir() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cellsDir
}

// Chdir changes the folder cells and !commands run in; a relative dir is
// taken from the current one.
func (e *Executor) Chdir(dir string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(e.cellsDir, dir)
	}
	if fi, err := os.Stat(dir); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a folder", dir)
	}
	e.cellsDir = filepath.Clean(dir)
	if e.host != nil && !e.host.exited() {
		if err := e.host.send(map[string]any{"op": "chdir", "path": e.cellsDir}); err != nil {
			return "", err
		}
	}
	return e.cellsDir, nil
}

// errHelp stops a main cell whose arguments asked for its flags' usage.
var errHelp = errors.New("help requested")

// Main prepares the host for a main cell (GoNB's %% ARGS and %main): args
// become os.Args[1:] and the flags earlier cells defined are parsed, as
// flag.Parse would (unless parse is false: a cell that declares func main
// parses them there). A bad flag fails the cell; -h prints the usage and
// returns errHelp, and the cell's code does not run.
func (e *Executor) Main(ctx context.Context, count int, args []string, parse bool, out Output) error {
	if err := e.waitHost(ctx); err != nil {
		return err
	}
	if args == nil {
		args = []string{}
	}
	m, err := e.exchange(ctx, out, &runState{}, map[string]any{"op": "main", "cell": count, "count": count, "args": args, "noParse": !parse})
	if err != nil {
		return err
	}
	if m.Error != nil {
		return &CellError{Name: m.Error.Name, Value: fmt.Sprintf("In[%d]: %s", count, m.Error.Value), Traceback: []string{fmt.Sprintf("In[%d]: %s", count, m.Error.Value)}}
	}
	if m.Text == "help" {
		return errHelp
	}
	return nil
}
