package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/go-zeromq/zmq4"

	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/cellgen"
)

// Connection is a Jupyter connection file.
type Connection struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
}

// ReadConnection reads a connection file.
func ReadConnection(path string) (*Connection, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read connection file: %w", err)
	}
	var c Connection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("connection file %s: %w", path, err)
	}
	if c.SignatureScheme != "" && c.SignatureScheme != "hmac-sha256" {
		return nil, fmt.Errorf("connection file %s: signature scheme %q is not supported (want hmac-sha256)", path, c.SignatureScheme)
	}
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	return &c, nil
}

func (c *Connection) addr(port int) string {
	if c.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", c.IP, port)
	}
	t := c.Transport
	if t == "tcp" {
		t = boundedTCP // the same, with frame sizes bounded
	}
	return fmt.Sprintf("%s://%s:%d", t, c.IP, port)
}

// Kernel is a running Jupyter kernel.
type Kernel struct {
	conn    *Connection
	sig     *signer
	session string
	exec    *Executor
	log     *log.Logger
	magics  map[string]Magic
	version string    // implementation version in kernel_info
	runs    RunSource // what the "fair" comm lists
	// panelDefaults prefill the panel's form.
	panelDefaults PanelDefaults

	shell, control, stdin, iopub, hb zmq4.Socket
	iopubMu, stdinMu                 sync.Mutex

	mu         sync.Mutex
	count      int
	history    []histEntry
	magicStop  context.CancelFunc // cancels the running magic on interrupt
	mainArgs   []string           // %args: a main cell's arguments
	comms      map[string]*Comm
	targets    map[string]CommTarget
	lastParent *Message
	stop       context.CancelFunc
}

// Option configures a Kernel.
type Option func(*Kernel)

// WithLogger sets where protocol problems are logged (default stderr).
func WithLogger(l *log.Logger) Option { return func(k *Kernel) { k.log = l } }

// New returns a kernel for a connection using an executor.
func New(conn *Connection, ex *Executor, opts ...Option) *Kernel {
	k := &Kernel{conn: conn, sig: newSigner(conn.Key), session: newID(), exec: ex,
		log: log.New(os.Stderr, "fair kernel: ", log.LstdFlags), magics: map[string]Magic{},
		comms: map[string]*Comm{}, targets: map[string]CommTarget{}, version: "dev"}
	for name, m := range builtins {
		k.magics[name] = m
	}
	k.targets["fair"] = &fairTarget{k: k}
	for _, o := range opts {
		o(k)
	}
	return k
}

// Executor returns the kernel's executor.
func (k *Kernel) Executor() *Executor { return k.exec }

// History returns the code of the cells run so far without error, in order.
func (k *Kernel) History() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(k.history))
	for i, h := range k.history {
		out[i] = h.code
	}
	return out
}

// histEntry is a cell run without error and its execution count.
type histEntry struct {
	count  int
	code   string
	output *string // the execute_result's text/plain, if the cell had one
	hidden bool    // silent, or store_history false: not in history_reply
}

// historyReply answers a history_request as the messaging spec says: the
// cells of this session (session 0 is the current one) by tail (the last
// n), range (execution counts start <= n < stop) or search (a glob over
// the input, optionally unique, the last n matches); with output, each
// entry's third element is the pair [input, output].
func (k *Kernel) historyReply(content json.RawMessage) []any {
	var req struct {
		Output  bool   `json:"output"`
		Access  string `json:"hist_access_type"`
		Session int    `json:"session"`
		Start   int    `json:"start"`
		Stop    int    `json:"stop"`
		N       int    `json:"n"`
		Pattern string `json:"pattern"`
		Unique  bool   `json:"unique"`
	}
	_ = json.Unmarshal(content, &req)
	k.mu.Lock()
	var h []histEntry
	for _, e := range k.history {
		if !e.hidden {
			h = append(h, e)
		}
	}
	k.mu.Unlock()
	last := func(n int) {
		if n > 0 && n < len(h) {
			h = h[len(h)-n:]
		}
	}
	switch req.Access {
	case "tail":
		last(req.N)
	case "range":
		var in []histEntry
		for _, e := range h {
			if req.Session == 0 && e.count >= req.Start && (req.Stop <= 0 || e.count < req.Stop) {
				in = append(in, e)
			}
		}
		h = in
	case "search":
		var in []histEntry
		seen := map[string]bool{}
		for i := len(h) - 1; i >= 0; i-- {
			e := h[i]
			if !glob(req.Pattern, e.code) || (req.Unique && seen[e.code]) {
				continue
			}
			seen[e.code] = true
			in = append([]histEntry{e}, in...)
		}
		h = in
		last(req.N)
	}
	out := make([]any, 0, len(h))
	for _, e := range h {
		var item any = e.code
		if req.Output {
			var o any
			if e.output != nil {
				o = *e.output
			}
			item = []any{e.code, o}
		}
		out = append(out, []any{0, e.count, item})
	}
	return out
}

// cursorIn clamps a cursor position (code points, as the protocol counts
// them) from a frontend to the code: negative is the start, past the end is
// the end.
func cursorIn(code string, pos int) int {
	n := utf8.RuneCountInString(code)
	switch {
	case pos < 0:
		return 0
	case pos > n:
		return n
	}
	return pos
}

// glob matches s against pattern as IPython's history search does (SQLite
// GLOB): * is any text, newlines included, ? one character, [...] a class.
func glob(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("(?s)^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		case '[':
			if j := strings.IndexByte(pattern[i+1:], ']'); j > 0 {
				class := pattern[i+1 : i+1+j]
				if class[0] == '^' {
					class = "^" + regexp.QuoteMeta(class[1:])
				} else {
					class = regexp.QuoteMeta(class)
				}
				re.WriteString("[" + strings.ReplaceAll(class, `\-`, "-") + "]")
				i += j + 1
				continue
			}
			re.WriteString(regexp.QuoteMeta("["))
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	m, err := regexp.MatchString(re.String(), s)
	return err == nil && m
}

// Run serves the kernel until a shutdown request or ctx ends.
func (k *Kernel) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k.stop = cancel
	if k.conn.Key == "" {
		k.log.Printf("warning: the connection file has no key: messages are not signed, so anything that can reach the kernel's ports can run code in it")
	}
	k.shell = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("fair-shell")))
	k.control = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("fair-control")))
	k.stdin = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("fair-stdin")))
	k.iopub = zmq4.NewPub(ctx)
	k.hb = zmq4.NewRep(ctx)
	socks := []struct {
		s    zmq4.Socket
		port int
	}{{k.shell, k.conn.ShellPort}, {k.control, k.conn.ControlPort}, {k.stdin, k.conn.StdinPort}, {k.iopub, k.conn.IOPubPort}, {k.hb, k.conn.HBPort}}
	for _, s := range socks {
		if err := s.s.Listen(k.conn.addr(s.port)); err != nil {
			return fmt.Errorf("listen on %s: %w", k.conn.addr(s.port), err)
		}
		defer s.s.Close()
	}
	k.exec.SetBackground(func(name, text string) {
		k.mu.Lock()
		p := k.lastParent
		k.mu.Unlock()
		if p != nil {
			k.publish(p, "stream", map[string]any{"name": name, "text": text})
		}
	})
	go k.heartbeat(ctx)
	go k.serve(ctx, k.control, "control")
	k.publish(nil, "status", map[string]any{"execution_state": "starting"})
	// Build the host early so the first cell does not pay for it.
	go func() { _ = k.exec.Start(ctx) }()
	k.serve(ctx, k.shell, "shell")
	k.exec.Close()
	return nil
}

func (k *Kernel) heartbeat(ctx context.Context) {
	for ctx.Err() == nil {
		m, err := k.hb.Recv()
		if err != nil {
			return
		}
		_ = k.hb.Send(m)
	}
}

func (k *Kernel) serve(ctx context.Context, sock zmq4.Socket, name string) {
	for ctx.Err() == nil {
		raw, err := sock.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			k.log.Printf("%s: receive: %v", name, err)
			continue
		}
		msg, err := k.sig.decode(raw.Frames)
		if err != nil {
			k.log.Printf("%s: rejected message: %v", name, err)
			continue
		}
		k.handle(ctx, sock, msg)
	}
}

func (k *Kernel) send(sock zmq4.Socket, parent *Message, msgType string, content any) {
	m, err := newMessage(k.session, msgType, parent, content)
	if err != nil {
		k.log.Printf("encode %s: %v", msgType, err)
		return
	}
	frames, err := k.sig.encode(m)
	if err != nil {
		k.log.Printf("encode %s: %v", msgType, err)
		return
	}
	if err := sock.Send(toMsg(frames)); err != nil {
		k.log.Printf("send %s: %v", msgType, err)
	}
}

// publish sends a message on iopub.
func (k *Kernel) publish(parent *Message, msgType string, content any) {
	m, err := newMessage(k.session, msgType, parent, content)
	if err != nil {
		return
	}
	m.Identities = [][]byte{[]byte(msgType)}
	frames, err := k.sig.encode(m)
	if err != nil {
		return
	}
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	if err := k.iopub.Send(toMsg(frames)); err != nil {
		k.log.Printf("publish %s: %v", msgType, err)
	}
}

func (k *Kernel) handle(ctx context.Context, sock zmq4.Socket, msg *Message) {
	t := msg.Header.MsgType
	k.publish(msg, "status", map[string]any{"execution_state": "busy"})
	defer k.publish(msg, "status", map[string]any{"execution_state": "idle"})
	reply := strings.TrimSuffix(t, "_request") + "_reply"
	// A request that trips a bug answers with an error; it does not take
	// the kernel, and the user's state, down with it.
	defer func() {
		if r := recover(); r != nil {
			k.log.Printf("%s: panic: %v\n%s", t, r, debug.Stack())
			if strings.HasSuffix(t, "_request") {
				k.send(sock, msg, reply, map[string]any{"status": "error", "ename": "InternalError",
					"evalue": fmt.Sprintf("the kernel could not answer %s: %v", t, r), "traceback": []string{}})
			}
		}
	}()
	switch t {
	case "kernel_info_request":
		k.send(sock, msg, reply, kernelInfo(k.version))
	case "execute_request":
		k.execute(ctx, sock, msg)
	case "is_complete_request":
		var c struct{ Code string }
		_ = json.Unmarshal(msg.Content, &c)
		k.send(sock, msg, reply, isComplete(c.Code))
	case "complete_request":
		var c struct {
			Code      string `json:"code"`
			CursorPos int    `json:"cursor_pos"`
		}
		_ = json.Unmarshal(msg.Content, &c)
		k.send(sock, msg, reply, k.complete(c.Code, cursorIn(c.Code, c.CursorPos)))
	case "inspect_request":
		var c struct {
			Code      string `json:"code"`
			CursorPos int    `json:"cursor_pos"`
		}
		_ = json.Unmarshal(msg.Content, &c)
		k.send(sock, msg, reply, k.inspect(ctx, c.Code, cursorIn(c.Code, c.CursorPos)))
	case "history_request":
		k.send(sock, msg, reply, map[string]any{"status": "ok", "history": k.historyReply(msg.Content)})
	case "comm_info_request":
		var c struct {
			TargetName string `json:"target_name"`
		}
		_ = json.Unmarshal(msg.Content, &c)
		k.send(sock, msg, reply, k.commInfo(c.TargetName))
	case "comm_open":
		k.commOpen(msg)
	case "comm_msg":
		k.commMsg(msg)
	case "comm_close":
		k.commClose(msg)
	case "interrupt_request":
		k.mu.Lock()
		stop := k.magicStop
		k.mu.Unlock()
		if stop != nil {
			stop()
		}
		k.exec.Interrupt()
		k.send(sock, msg, reply, map[string]any{"status": "ok"})
	case "shutdown_request":
		var c struct {
			Restart bool `json:"restart"`
		}
		_ = json.Unmarshal(msg.Content, &c)
		if c.Restart {
			k.exec.Reset()
			k.mu.Lock()
			k.count, k.history = 0, nil
			k.mu.Unlock()
			go func() { _ = k.exec.Start(ctx) }()
		} else {
			k.exec.Shutdown()
		}
		k.send(sock, msg, reply, map[string]any{"status": "ok", "restart": c.Restart})
		if !c.Restart {
			// Let the reply and the idle status go out before closing.
			go func() { time.Sleep(200 * time.Millisecond); k.stop() }()
		}
	default:
		k.log.Printf("unhandled message type %q", t)
	}
}

func kernelInfo(version string) map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       ProtocolVersion,
		"implementation":         "fair",
		"implementation_version": version,
		"language_info": map[string]any{
			"name": "go", "version": goVersion(), "mimetype": "text/x-go",
			"file_extension": ".go", "pygments_lexer": "go", "codemirror_mode": "go",
		},
		"banner":     "fair: compiled Go with live state between cells",
		"help_links": []any{map[string]any{"text": "fair kernel", "url": "https://github.com/fair-go/fair/blob/main/docs/kernel.md"}},
	}
}

// WithVersion sets the implementation version kernel_info reports.
func WithVersion(v string) Option { return func(k *Kernel) { k.version = v } }

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
}

// cellOutput sends a running cell's output to the frontend.
type cellOutput struct {
	k      *Kernel
	parent *Message
	stdin  bool
	result *string // text/plain of the execute_result; guarded by k.mu
	// sink, when set, takes the output of a magic run outside a cell (a
	// panel's action) instead of the frontend's iopub stream.
	sink func(name, text string)
}

func (o *cellOutput) Stream(name, text string) {
	if o.sink != nil {
		o.sink(name, text)
		return
	}
	o.k.publish(o.parent, "stream", map[string]any{"name": name, "text": text})
}

func (o *cellOutput) Display(m nb.Message) {
	if o.sink != nil {
		// A live display's lines, as text.
		if t, ok := m.Data["text/plain"].(string); ok {
			o.sink("display", t)
		}
		return
	}
	content := map[string]any{"data": m.Data, "metadata": orEmpty(m.Metadata)}
	switch m.Type {
	case "result":
		o.k.mu.Lock()
		n := o.k.count
		if t, ok := m.Data["text/plain"].(string); ok {
			o.result = &t
		}
		o.k.mu.Unlock()
		content["execution_count"] = n
		o.k.publish(o.parent, "execute_result", content)
	case "update":
		content["transient"] = map[string]any{"display_id": m.DisplayID}
		o.k.publish(o.parent, "update_display_data", content)
	default:
		if m.DisplayID != "" {
			content["transient"] = map[string]any{"display_id": m.DisplayID}
		}
		o.k.publish(o.parent, "display_data", content)
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Input asks the frontend for a line of input over the stdin channel.
func (o *cellOutput) Input(prompt string, password bool) (string, error) {
	if !o.stdin || o.sink != nil {
		return "", errors.New("this frontend does not accept input")
	}
	k := o.k
	k.stdinMu.Lock()
	defer k.stdinMu.Unlock()
	k.send(k.stdin, o.parent, "input_request", map[string]any{"prompt": prompt, "password": password})
	for {
		raw, err := k.stdin.Recv()
		if err != nil {
			return "", err
		}
		m, err := k.sig.decode(raw.Frames)
		if err != nil {
			k.log.Printf("stdin: rejected message: %v", err)
			continue
		}
		if m.Header.MsgType != "input_reply" {
			continue
		}
		var c struct {
			Value string `json:"value"`
		}
		_ = json.Unmarshal(m.Content, &c)
		return c.Value, nil
	}
}

// Writer returns an io.Writer that streams to the cell's stdout or stderr.
func (o *cellOutput) Writer(name string) io.Writer { return streamWriter{o, name} }

type streamWriter struct {
	o    *cellOutput
	name string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.o.Stream(w.name, string(p))
	return len(p), nil
}

func (k *Kernel) execute(ctx context.Context, sock zmq4.Socket, msg *Message) {
	var req struct {
		Code         string `json:"code"`
		Silent       bool   `json:"silent"`
		StoreHistory *bool  `json:"store_history"`
		AllowStdin   bool   `json:"allow_stdin"`
	}
	_ = json.Unmarshal(msg.Content, &req)
	k.mu.Lock()
	if !req.Silent {
		k.count++
	}
	n := k.count
	k.lastParent = msg
	k.mu.Unlock()
	if !req.Silent {
		k.publish(msg, "execute_input", map[string]any{"code": req.Code, "execution_count": n})
	}
	out := &cellOutput{k: k, parent: msg, stdin: req.AllowStdin}
	err := k.run(ctx, req.Code, n, out)
	if err != nil {
		ce := toCellError(err)
		k.publish(msg, "error", map[string]any{"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback})
		k.send(sock, msg, "execute_reply", map[string]any{"status": "error", "execution_count": n,
			"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback})
		return
	}
	k.mu.Lock()
	hidden := req.Silent || (req.StoreHistory != nil && !*req.StoreHistory)
	k.history = append(k.history, histEntry{count: n, code: req.Code, output: out.result, hidden: hidden})
	k.mu.Unlock()
	k.send(sock, msg, "execute_reply", map[string]any{"status": "ok", "execution_count": n,
		"user_expressions": map[string]any{}, "payload": []any{}})
}

func toCellError(err error) *CellError {
	var ce *CellError
	if errors.As(err, &ce) {
		return ce
	}
	return &CellError{Name: "Error", Value: err.Error(), Traceback: strings.Split(err.Error(), "\n")}
}

// run executes a cell: magics and shell lines first, in order, then Go.
func (k *Kernel) run(ctx context.Context, code string, n int, out *cellOutput) error {
	cell, err := notebook.Parse(code)
	if err != nil {
		var pe *notebook.Error
		if errors.As(err, &pe) {
			msg := fmt.Sprintf("In[%d] line %d:%d: %s", n, pe.Line, pe.Col, pe.Msg)
			return &CellError{Name: "SyntaxError", Value: msg, Traceback: []string{msg}}
		}
		return err
	}
	if cell.Magic != nil && cell.Magic.Name == "" {
		// GoNB's bare %% cell: its body is plain Go, run as a program's
		// main with the arguments on the %% line (or those of %args).
		if err := k.runMain(ctx, out, n, cell.Magic.Args); err != nil {
			if errors.Is(err, errHelp) {
				return nil
			}
			return err
		}
		return k.run(ctx, cell.Magic.Below(), n, out)
	}
	if cell.Magic != nil {
		return k.runMagic(ctx, out, n, *cell.Magic, true)
	}
	ranMain := false
	for _, c := range cell.Of(notebook.LineMagic, notebook.Shell) {
		var err error
		if c.Kind == notebook.Shell {
			err = k.shellCmd(ctx, out, c.Args)
		} else if c.Keyword == "%" || c.Keyword == "main" {
			// GoNB's %% below a cell's imports and declarations: the rest
			// is main's body, which runs as the cell's statements anyway.
			err, ranMain = k.runMain(ctx, out, n, c.Args), true
		} else {
			err = k.runMagic(ctx, out, n, notebook.Magic{Name: c.Keyword, Args: c.Args}, false)
		}
		if errors.Is(err, errHelp) {
			return nil // %main -h: the usage is the cell's output
		}
		if err != nil {
			return err
		}
	}
	if !cell.HasGo() {
		return nil
	}
	if !ranMain && (declaresMain(cell) || callsMain(cell)) {
		// A cell that declares func main runs it, as GoNB does, with the
		// arguments of %args; main parses its own flags. So does a cell
		// that calls main() (gophernotes notebooks do).
		k.mu.Lock()
		args := k.mainArgs
		k.mu.Unlock()
		if len(args) > 0 {
			if err := k.exec.Main(ctx, n, args, false, out); err != nil {
				return err
			}
		}
	}
	if err := k.exec.Run(ctx, cell, n, out); !errors.Is(err, errHelp) {
		return err
	}
	return nil // the program's -h: the usage is the cell's output
}

// declaresMain reports whether the cell declares func main.
func declaresMain(cell *notebook.Cell) bool {
	for _, c := range cell.Of(notebook.Decl) {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+cell.Text(c), parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
				return true
			}
		}
	}
	return false
}

// callsMain reports whether one of the cell's top-level statements is
// main().
func callsMain(cell *notebook.Cell) bool {
	for _, c := range cell.Of(notebook.Stmt) {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p; func _() {"+cell.Text(c)+"\n}", parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(f.Decls[0].(*ast.FuncDecl).Body.List, cellgen.IsMainCall) {
			return true
		}
	}
	return false
}

// shellCmd runs a !command with sh in the notebook's folder; GoNB's
// !*command runs in the notebook's Go module (the work folder), as GoNB
// runs it in its own.
func (k *Kernel) shellCmd(ctx context.Context, out *cellOutput, command string) error {
	if rest, ok := strings.CutPrefix(command, "*"); ok {
		return k.scriptIn(ctx, out, k.exec.Dir(), "!"+command, "sh", strings.TrimSpace(rest))
	}
	return k.script(ctx, out, "!"+command, "sh", command)
}

// script runs code with a shell (sh, bash) in the notebook's folder; label
// names it in errors. The stop button interrupts it (its whole process
// group, then kills it after a grace period), and a background child that
// keeps its output open does not hold the cell.
func (k *Kernel) script(ctx context.Context, out *cellOutput, label, shell, code string) error {
	return k.scriptIn(ctx, out, k.exec.CellDir(), label, shell, code)
}

// scriptIn is script in folder dir.
func (k *Kernel) scriptIn(ctx context.Context, out *cellOutput, dir, label, shell, code string) error {
	ctx, done := k.stoppable(ctx)
	defer done()
	cmd := exec.CommandContext(ctx, shell, "-c", code)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out.Writer("stdout"), out.Writer("stderr")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		go func() {
			time.Sleep(k.exec.grace)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}()
		return nil
	}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // sh is done; a child it left in the background keeps the output
	}
	if ctx.Err() != nil && err != nil {
		return &CellError{Name: "KeyboardInterrupt", Value: label + ": interrupted", Traceback: []string{label + ": interrupted"}}
	}
	if err != nil {
		return &CellError{Name: "ShellError", Value: fmt.Sprintf("%s: %v", label, err), Traceback: []string{fmt.Sprintf("%s: %v", label, err)}}
	}
	return nil
}
