// Command host is the long-lived process of a fair kernel that runs a
// notebook's cells. The kernel builds it inside the notebook's own Go module
// and sends it, one by one, cells compiled as Go plugins; the host loads
// them into its single address space, so variables, channels and goroutines
// of earlier cells stay alive for later ones.
//
// File descriptor 3 carries commands from the kernel (JSON lines); messages
// go back on the descriptor named by FAIR_KERNEL_FD. Stdout and stderr are
// the cells' own output streams.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	goflag "flag"
	"fmt"
	"os"
	"os/signal"
	"plugin"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fair-go/fair/kernel/eval"
	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/kernel/nb/render"
)

// Marker, followed by the command's sequence number and a NUL, ends a
// cell's output on stdout and stderr, so the kernel knows it has read
// everything the cell wrote before reporting the cell done. The number
// keeps a marker that arrives late from ending the next cell's output.
const Marker = "\x00fair-cell-end "

type command struct {
	Op    string   `json:"op"` // load, eval, input, eof, main, setenv, chdir
	Cell  int      `json:"cell"`
	Count int      `json:"count"` // the cell's execution count (main, load, eval)
	Seq   int64    `json:"seq"`   // numbers the end markers of load, eval and main
	Path  string   `json:"path"`
	Vars  []string `json:"vars"`
	Value string   `json:"value"`
	Name  string   `json:"name"`
	Args  []string `json:"args"`
	// NoParse sets os.Args without parsing flags: a cell that declares
	// func main defines its flags and parses them there.
	NoParse bool `json:"noParse"`
	// Bind maps the names an eval expression uses to loaded variables,
	// "CELL:SYMBOL".
	Bind map[string]string `json:"bind"`
}

// cellVars holds, per loaded cell, pointers to its package variables.
var (
	cellVarsMu sync.Mutex
	cellVars   = map[int]map[string]any{}
)

var stdinW *os.File

// hostArgs is os.Args outside main cells; mainCell is the main cell whose
// arguments os.Args holds, until its code runs; mainArgsSet is the os.Args
// the last main cell got.
var (
	hostArgs    []string
	mainCell    int
	mainArgsSet []string
)

func main() {
	// Rendering and message encoding live here, not in every cell's plugin.
	nb.SetRenderer(render.Renderer{})
	// A bad flag given to a cell's flag.Parse must fail that cell, not end
	// the process that holds the notebook's state.
	goflag.CommandLine.Init(os.Args[0], goflag.ContinueOnError)
	hostArgs = os.Args
	saveStdio()
	setupStdin()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		for range sig {
			nb.Interrupt()
		}
	}()
	in := bufio.NewScanner(os.NewFile(3, "commands"))
	in.Buffer(make([]byte, 1<<20), 1<<26)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "fair host: bad command:", err)
			continue
		}
		switch c.Op {
		case "load", "eval":
			drainStdin()
			if readingStdin() {
				// A goroutine of a finished cell waits on os.Stdin: it
				// gets the end of input, as from a closed terminal, so
				// the input this cell is asked for goes to this cell.
				stdinEOF()
				fmt.Fprintln(os.Stderr, "fair: a goroutine of an earlier cell was reading os.Stdin; it got the end of input (input goes to the running cell)")
			}
			// A main cell's arguments are its own, not the next cell's.
			if c.Count != mainCell && mainArgsSet != nil {
				// Unless the cells set os.Args themselves since.
				if len(os.Args) > 0 && &os.Args[0] == &mainArgsSet[0] {
					os.Args = hostArgs
					_ = goflag.CommandLine.Parse(nil) // flag.Args() too
				}
				mainArgsSet = nil
			}
			isMain := mainCell != 0 && c.Count == mainCell
			mainCell = 0
			if c.Op == "load" {
				go load(c, isMain)
			} else {
				go evaluate(c)
			}
		case "main":
			// Its code comes next, unless the arguments failed it.
			mainCell = 0
			if runMain(c) {
				mainCell = c.Count
			}
		case "setenv":
			_ = os.Setenv(c.Name, c.Value)
		case "chdir":
			if os.Chdir(c.Path) == nil && os.Getenv("GONB_DIR") != "" {
				os.Setenv("GONB_DIR", c.Path)
			}
		case "input":
			if stdinW != nil {
				_, _ = stdinW.WriteString(c.Value + "\n")
			}
			inputPending.Store(false)
		case "eof":
			stdinEOF()
			inputPending.Store(false)
		}
	}
}

// setupStdin makes fd 0 a blocking pipe that the host feeds, so a cell
// blocked reading os.Stdin shows up as a thread in read(0, ...).
func setupStdin() {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return
	}
	if err := syscall.Dup3(p[0], 0, 0); err != nil {
		return
	}
	syscall.Close(p[0])
	stdinW = os.NewFile(uintptr(p[1]), "stdin-writer")
}

// savedStdio holds copies of fds 1 and 2: a cell that closes os.Stdout
// would otherwise silence every later cell.
var savedStdio = map[int]int{}

func saveStdio() {
	for _, fd := range []int{1, 2} {
		if d, err := syscall.Dup(fd); err == nil {
			syscall.CloseOnExec(d)
			savedStdio[fd] = d
		}
	}
}

// endMarkers ends the cell's output on the kernel's own stdout and stderr
// (copies of fds 1 and 2): a cell that points os.Stdout at a file must not
// get the marker in it, nor leave the kernel waiting for it.
func endMarkers(seq int64) {
	m := []byte(fmt.Sprintf("%s%d\x00", Marker, seq))
	for _, fd := range []int{1, 2} {
		if saved, ok := savedStdio[fd]; ok {
			_, _ = syscall.Write(saved, m)
		} else {
			_, _ = syscall.Write(fd, m)
		}
	}
}

// reopenStdio opens stdout and stderr again when the cell closed them,
// and says so.
func reopenStdio() {
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, 0, syscall.F_GETFD, 0); e == syscall.EBADF && stdinW != nil {
		// A new pipe for the input the kernel relays.
		_ = stdinW.Close()
		setupStdin()
		os.Stdin = os.NewFile(0, "/dev/stdin")
		fmt.Fprintln(os.Stderr, "fair: the cell closed os.Stdin; it is open again for the next cells")
	}
	for fd, name := range map[int]string{1: "os.Stdout", 2: "os.Stderr"} {
		saved, ok := savedStdio[fd]
		if !ok {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); e != syscall.EBADF {
			continue
		}
		if syscall.Dup3(saved, fd, 0) != nil {
			continue
		}
		f := os.NewFile(uintptr(fd), name)
		if fd == 1 {
			os.Stdout = f
		} else {
			os.Stderr = f
		}
		fmt.Fprintf(os.Stderr, "fair: the cell closed %s; it is open again for the next cells\n", name)
	}
}

// drainStdin drops what an earlier cell's input left unread (Scanln of
// "hello world" reads "hello"): each cell asks for its own input.
func drainStdin() {
	if stdinW == nil || syscall.SetNonblock(0, true) != nil {
		return
	}
	defer syscall.SetNonblock(0, false)
	var buf [4096]byte
	for {
		if n, err := syscall.Read(0, buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// stdinEOF ends the input of the reads waiting on fd 0 (the frontend
// takes no input: nbconvert, papermill), as a closed terminal would:
// their pipe's writer closes, and fd 0 becomes a fresh pipe for what
// reads next.
func stdinEOF() {
	var p [2]int
	if stdinW == nil || syscall.Pipe2(p[:], syscall.O_CLOEXEC) != nil {
		return
	}
	_ = stdinW.Close()
	if err := syscall.Dup3(p[0], 0, 0); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		stdinW = nil
		return
	}
	syscall.Close(p[0])
	stdinW = os.NewFile(uintptr(p[1]), "stdin-writer")
}

type flag struct {
	mu sync.Mutex
	v  bool
}

func (f *flag) Store(v bool) { f.mu.Lock(); f.v = v; f.mu.Unlock() }
func (f *flag) Load() bool   { f.mu.Lock(); defer f.mu.Unlock(); return f.v }

var inputPending flag

// watchStdin asks the kernel for input whenever a thread of this process
// is blocked reading fd 0.
func watchStdin(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if inputPending.Load() || !readingStdin() {
			continue
		}
		inputPending.Store(true)
		_ = nb.Emit(nb.Message{Type: "input"})
	}
}

func readingStdin() bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/syscall")
		if err == nil && strings.HasPrefix(string(b), "0 0x0 ") {
			return true
		}
	}
	return false
}

func load(c command, isMain bool) {
	nb.BeginCell()
	stop := make(chan struct{})
	go watchStdin(stop)
	msg := nb.Message{Type: "done", Cell: c.Cell}
	// The cell's end is reported from a defer: runtime.Goexit in the cell
	// (testing's FailNow calls it) ends this goroutine past any return.
	ended := false
	defer func() {
		if !ended {
			const why = "the cell called runtime.Goexit, which stopped it there; it defines nothing"
			msg.Error = &nb.CellError{Name: "Goexit", Value: why, Traceback: []string{"Goexit: " + why}}
		}
		close(stop)
		reopenStdio()
		endMarkers(c.Seq)
		_ = nb.Emit(msg)
	}()
	func() {
		defer func() {
			if r := recover(); r != nil {
				stack := debug.Stack()
				if fe := flagError(r, stack); isMain && fe != nil {
					msg.Error = fe
				} else {
					msg.Error = panicError(r, stack)
				}
			}
		}()
		defer newFlags(isMain)()
		p, err := plugin.Open(c.Path)
		if err != nil {
			msg.Error = &nb.CellError{Name: "LoadError", Value: err.Error(), Traceback: []string{err.Error()}}
			return
		}
		msg.Vars = map[string]string{}
		imports := map[string]bool{}
		if sym, err := p.Lookup("FairVars"); err == nil {
			if vars, ok := sym.(*map[string]any); ok {
				cellVarsMu.Lock()
				cellVars[c.Cell] = *vars
				cellVarsMu.Unlock()
				for name, ptr := range *vars {
					if src, ok := typeSource(reflect.TypeOf(ptr).Elem(), imports); ok {
						msg.Vars[name] = src
					}
				}
			}
		}
		for p := range imports {
			msg.Text += p + "\n"
		}
	}()
	ended = true
}

// newFlags gives a cell that is loading a flag set of its own, so that
// running again a cell that defines flags redefines them (as a program
// run afresh would) instead of panicking; the returned func adds the
// flags of earlier cells that the cell did not define.
//
// A main cell's flag.Parse panics on a bad flag or -h, which ends the cell
// there as the program would exit (flagError); elsewhere flag.Parse
// carries on, as it cannot end the kernel.
func newFlags(isMain bool) func() {
	prev := goflag.CommandLine
	handling := goflag.ContinueOnError
	if isMain {
		handling = goflag.PanicOnError
	}
	goflag.CommandLine = goflag.NewFlagSet(prev.Name(), handling)
	if prev.Parsed() {
		// flag.Args() and flag.Parsed() answer as before in the cell.
		_ = goflag.CommandLine.Parse(append([]string{"--"}, prev.Args()...))
	}
	nb.MainHook = func(main func()) {
		// main sees the flags earlier cells defined as package variables,
		// as a program's main sees its packages'.
		cur := goflag.CommandLine
		addMissing(cur, prev)
		toDefaults(cur)
		before := map[string]bool{}
		cur.VisitAll(func(f *goflag.Flag) { before[f.Name] = true })
		// The flags main defines belong to that run, as a program's do:
		// a later main cell defines them again.
		defer func() {
			kept := goflag.NewFlagSet(cur.Name(), handling)
			cur.VisitAll(func(f *goflag.Flag) {
				if before[f.Name] {
					addFlag(kept, f)
				}
			})
			if cur.Parsed() {
				_ = kept.Parse(append([]string{"--"}, cur.Args()...))
			}
			goflag.CommandLine = kept
		}()
		main()
	}
	return func() {
		nb.MainHook = nil
		cur := goflag.CommandLine
		// After the cell, a bad flag no longer ends anything.
		cur.Init(cur.Name(), goflag.ContinueOnError)
		addMissing(cur, prev)
	}
}

// toDefaults sets flags back to their defaults before a main runs, as a
// program starts with them: a flag an earlier main cell was given does
// not carry over to the next. Only the flag package's own kinds are set
// so: a Value of the program's own may add to what it holds on Set (a
// list), and flag.Func's calls the program.
func toDefaults(set *goflag.FlagSet) {
	set.VisitAll(func(f *goflag.Flag) {
		t := reflect.TypeOf(f.Value)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() != "flag" || t.Name() == "funcValue" || t.Name() == "boolFuncValue" {
			return
		}
		if f.Value.String() != f.DefValue {
			_ = f.Value.Set(f.DefValue)
		}
	})
}

// addMissing adds to set the flags of from that set does not define.
func addMissing(set, from *goflag.FlagSet) {
	from.VisitAll(func(f *goflag.Flag) {
		if set.Lookup(f.Name) == nil {
			addFlag(set, f)
		}
	})
}

// addFlag defines f in set, sharing its value.
func addFlag(set *goflag.FlagSet, f *goflag.Flag) {
	set.Var(f.Value, f.Name, f.Usage)
	set.Lookup(f.Name).DefValue = f.DefValue
}

// flagError is the cell's error for a panic of a main cell's flag.Parse
// (the usage is printed already): "Help" for -h, which the kernel shows as
// the cell's output only, a FlagError for a bad flag.
func flagError(r any, stack []byte) *nb.CellError {
	err, ok := r.(error)
	if !ok || !strings.Contains(string(stack), "flag.(*FlagSet).Parse(") {
		return nil
	}
	if errors.Is(err, goflag.ErrHelp) {
		return &nb.CellError{Name: "Help", Value: err.Error()}
	}
	return &nb.CellError{Name: "FlagError", Value: err.Error(), Traceback: []string{"FlagError: " + err.Error()}}
}

// runMain starts a main cell (GoNB's %% ARGS, %main): os.Args[1:] become
// the cell's arguments and the flags earlier cells defined are parsed, as a
// program's main would with flag.Parse().
func runMain(c command) (ok bool) {
	msg := nb.Message{Type: "done", Cell: c.Cell}
	// The program's name is the cell's (the usage says "Usage of In[3]").
	os.Args = append([]string{fmt.Sprintf("In[%d]", c.Cell)}, c.Args...)
	mainArgsSet = os.Args
	goflag.CommandLine.Init(os.Args[0], goflag.ContinueOnError)
	if !c.NoParse { // a cell declaring func main parses its flags there
		toDefaults(goflag.CommandLine)
		switch err := goflag.CommandLine.Parse(os.Args[1:]); {
		case err == goflag.ErrHelp:
			msg.Text = "help"
		case err != nil:
			msg.Error = &nb.CellError{Name: "FlagError", Value: err.Error(), Traceback: []string{err.Error()}}
		}
	}
	endMarkers(c.Seq)
	_ = nb.Emit(msg)
	return msg.Error == nil && msg.Text == ""
}

// evaluate runs a simple inspection cell (fmt.Println(x), len(data), a
// field) without compiling it; an expression eval does not support is
// answered "unsupported" before anything runs, and the kernel compiles it.
func evaluate(c command) {
	msg := nb.Message{Type: "done", Cell: c.Cell}
	defer func() {
		endMarkers(c.Seq)
		_ = nb.Emit(msg)
	}()
	vars := map[string]any{}
	cellVarsMu.Lock()
	for name, at := range c.Bind {
		cell, sym, _ := strings.Cut(at, ":")
		var n int
		fmt.Sscan(cell, &n)
		if p, ok := cellVars[n][sym]; ok {
			vars[name] = p
		}
	}
	cellVarsMu.Unlock()
	e, err := eval.Compile(c.Value, vars)
	if err != nil {
		msg.Text = "unsupported"
		return
	}
	nb.BeginCell()
	defer func() {
		if r := recover(); r != nil {
			msg.Error = panicError(r, debug.Stack())
		}
	}()
	v, err := e.Run()
	if err != nil {
		msg.Error = &nb.CellError{Name: "panic", Value: err.Error(), Traceback: []string{"panic: " + err.Error(), fmt.Sprintf("In[%d]:1", c.Cell)}}
		return
	}
	if !e.Void {
		nb.Result(v)
	}
}

func panicError(r any, stack []byte) *nb.CellError {
	v := fmt.Sprint(r)
	tb := []string{"panic: " + v, ""}
	lines := strings.Split(string(stack), "\n")
	prev, prevCell := "-", ""
	for i := 0; i+1 < len(lines); i++ {
		loc := strings.TrimSpace(lines[i+1])
		// Go 1.27 prints a //line file name relative to the source's
		// folder: /.../cells/c3/In[3]:2.
		if j := strings.LastIndex(loc, "/In["); j >= 0 {
			loc = loc[j+1:]
		}
		if !strings.HasPrefix(loc, "In[") {
			continue
		}
		if k := strings.LastIndex(loc, " +0x"); k > 0 {
			loc = loc[:k]
		}
		fn := frameName(lines[i])
		// The cell calling its main or init has no line of its own, and
		// its top-level statements are one frame (a wrapper's and the
		// package initialisation's).
		cell, line, _ := strings.Cut(loc, ":")
		skip := fn == "" && cell == prevCell && (prev == "main" || prev == "init" || prev == "")
		if prev, prevCell = fn, cell; skip {
			continue
		}
		loc = cell + " line " + line
		if fn != "" {
			loc += ", in " + fn
		}
		tb = append(tb, loc)
	}
	return &nb.CellError{Name: "panic", Value: v, Traceback: tb}
}

// frameName is a stack frame's function as the cell wrote it
// (fairnb/cells/c1.Ξf(...) is f, c2.(*Ξpoint).ΞArea is (*point).Area);
// "" for the cell's top-level statements, which run as its package's
// initialisation.
func frameName(fn string) string {
	if j := strings.LastIndex(fn, "("); j > 0 {
		fn = fn[:j]
	}
	fn = fn[strings.LastIndex(fn, "/")+1:]
	_, fn, _ = strings.Cut(fn, ".") // the cell's package
	if fn == "init" || strings.HasPrefix(fn, "init.") || strings.HasPrefix(fn, "glob.") {
		return ""
	}
	fn = strings.ReplaceAll(fn, "Ξ", "")
	if rest, ok := strings.CutPrefix(fn, "0init"); ok {
		// A renamed func init: 0init2.func1 is init.func1.
		fn = "init" + strings.TrimLeft(rest, "0123456789")
	}
	return fn
}

// typeSource writes t as Go source for replaying a variable's declaration
// into a fresh host; it fails for types that cannot be named outside their
// package.
func typeSource(t reflect.Type, imports map[string]bool) (string, bool) {
	if t.Name() != "" {
		pkg := t.PkgPath()
		if pkg == "" {
			return t.Name(), true
		}
		if strings.Contains(pkg, "/cells/c") {
			return strings.TrimPrefix(t.Name(), "Ξ"), !strings.Contains(t.Name(), "[")
		}
		if strings.Contains(t.Name(), "[") || !isExported(t.Name()) {
			return "", false
		}
		imports[pkg] = true
		return t.String(), true
	}
	elem := func(e reflect.Type) string {
		s, ok := typeSource(e, imports)
		if !ok {
			panic(errUnnamed)
		}
		return s
	}
	var out string
	ok := func() (ok bool) {
		defer func() {
			if r := recover(); r == errUnnamed {
				ok = false
			} else if r != nil {
				panic(r)
			}
		}()
		switch t.Kind() {
		case reflect.Pointer:
			out = "*" + elem(t.Elem())
		case reflect.Slice:
			out = "[]" + elem(t.Elem())
		case reflect.Array:
			out = fmt.Sprintf("[%d]%s", t.Len(), elem(t.Elem()))
		case reflect.Map:
			out = "map[" + elem(t.Key()) + "]" + elem(t.Elem())
		case reflect.Chan:
			switch t.ChanDir() {
			case reflect.RecvDir:
				out = "<-chan " + elem(t.Elem())
			case reflect.SendDir:
				out = "chan<- " + elem(t.Elem())
			default:
				out = "chan " + elem(t.Elem())
			}
		case reflect.Func:
			var in, res []string
			for i := 0; i < t.NumIn(); i++ {
				if t.IsVariadic() && i == t.NumIn()-1 {
					in = append(in, "..."+elem(t.In(i).Elem()))
				} else {
					in = append(in, elem(t.In(i)))
				}
			}
			for i := 0; i < t.NumOut(); i++ {
				res = append(res, elem(t.Out(i)))
			}
			out = "func(" + strings.Join(in, ", ") + ")"
			if len(res) == 1 {
				out += " " + res[0]
			} else if len(res) > 1 {
				out += " (" + strings.Join(res, ", ") + ")"
			}
		case reflect.Struct:
			var fs []string
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() {
					panic(errUnnamed)
				}
				s := f.Name + " " + elem(f.Type)
				if f.Anonymous {
					s = elem(f.Type)
				}
				if f.Tag != "" {
					s += fmt.Sprintf(" %q", string(f.Tag))
				}
				fs = append(fs, s)
			}
			out = "struct{" + strings.Join(fs, "; ") + "}"
		case reflect.Interface:
			if t.NumMethod() != 0 {
				panic(errUnnamed)
			}
			out = "any"
		default:
			panic(errUnnamed)
		}
		return true
	}()
	return out, ok
}

type unnamed struct{}

var errUnnamed = unnamed{}

func isExported(s string) bool {
	r := []rune(s)
	return len(r) > 0 && strings.ToUpper(string(r[0])) == string(r[0]) && strings.ToLower(string(r[0])) != string(r[0])
}
