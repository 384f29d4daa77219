package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/cellgen"

	"github.com/go-zeromq/zmq4"
)

// client talks to a kernel over ZeroMQ the way a Jupyter frontend does.
type client struct {
	t                     *testing.T
	sig                   *signer
	shell, control, stdin zmq4.Socket
	iopub                 chan *Message
	pending               []*Message
	session               string
	ex                    *Executor
	conn                  *Connection
}

// plugins counts the cell plugins the kernel has built.
func (c *client) plugins() int {
	m, _ := filepath.Glob(filepath.Join(c.ex.Dir(), "bin", "*.so"))
	return len(m)
}

func freePorts(t *testing.T, n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func startKernel(t *testing.T) (*client, *iostreams.SyncBuffer) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build Go plugins (cgo); install gcc")
	}
	p := freePorts(t, 5)
	conn := &Connection{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], ControlPort: p[1], StdinPort: p[2],
		IOPubPort: p[3], HBPort: p[4], Key: "secret-key", SignatureScheme: "hmac-sha256"}
	ex, err := NewExecutor(t.TempDir(), WithCellDir(t.TempDir()), WithInterruptGrace(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	logs := &iostreams.SyncBuffer{}
	k := New(conn, ex, WithLogger(log.New(logs, "", 0)), waitstop, WithVersion("test"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = k.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	cctx, ccancel := context.WithCancel(context.Background())
	t.Cleanup(ccancel)
	c := &client{t: t, sig: newSigner(conn.Key), session: newID(), iopub: make(chan *Message, 1000), ex: ex, conn: conn}
	c.shell = zmq4.NewDealer(cctx, zmq4.WithID(zmq4.SocketIdentity("client")))
	c.control = zmq4.NewDealer(cctx, zmq4.WithID(zmq4.SocketIdentity("client-control")))
	c.stdin = zmq4.NewDealer(cctx, zmq4.WithID(zmq4.SocketIdentity("client")))
	sub := zmq4.NewSub(cctx)
	for s, port := range map[zmq4.Socket]int{c.shell: conn.ShellPort, c.control: conn.ControlPort, c.stdin: conn.StdinPort, sub: conn.IOPubPort} {
		if err := dialRetry(s, conn.addr(port)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			if msg, err := c.sig.decode(m.Frames); err == nil {
				c.iopub <- msg
			}
		}
	}()
	// The kernel's PUB socket learns of the subscription some time after it
	// is made (ZeroMQ's slow joiner): output published before that reaches
	// nobody, and a test waiting for a cell's first line would wait in vain.
	// A request whose status message arrives on IOPub shows it is live.
	for deadline := time.Now().Add(30 * time.Second); ; {
		req := c.send(c.shell, "kernel_info_request", map[string]any{})
		c.recv(c.shell)
		if c.sawStatus(req, 200*time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no IOPub message from the kernel in 30 s\n%s", logs)
		}
	}
	return c, logs
}

// sawStatus waits up to d for a status message of req on IOPub.
func (c *client) sawStatus(req *Message, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case m := <-c.iopub:
			if parentID(m) == req.Header.MsgID && m.Header.MsgType == "status" {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func dialRetry(s zmq4.Socket, addr string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = s.Dial(addr); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func (c *client) send(sock zmq4.Socket, msgType string, content any) *Message {
	c.t.Helper()
	m, err := newMessage(c.session, msgType, nil, content)
	if err != nil {
		c.t.Fatal(err)
	}
	frames, err := c.sig.encode(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	return m
}

func (c *client) recv(sock zmq4.Socket) *Message {
	c.t.Helper()
	raw, err := sock.Recv()
	if err != nil {
		c.t.Fatal(err)
	}
	m, err := c.sig.decode(raw.Frames)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func parentID(m *Message) string {
	var h Header
	_ = json.Unmarshal(m.Parent, &h)
	return h.MsgID
}

// outputs collects iopub messages for a request until it goes idle.
func (c *client) outputs(req *Message, timeout time.Duration) []*Message {
	c.t.Helper()
	var out []*Message
	deadline := time.After(timeout)
	for {
		var m *Message
		if len(c.pending) > 0 {
			m, c.pending = c.pending[0], c.pending[1:]
		} else {
			select {
			case m = <-c.iopub:
			case <-deadline:
				c.t.Fatalf("no idle status for %s within %v; got %d messages", req.Header.MsgType, timeout, len(out))
			}
		}
		{
			if parentID(m) != req.Header.MsgID {
				continue
			}
			out = append(out, m)
			if m.Header.MsgType == "status" && strings.Contains(string(m.Content), `"idle"`) {
				return out
			}
		}
	}
}

// waitStream reads iopub until req's output contains text, keeping the
// messages for outputs.
func (c *client) waitStream(req *Message, text string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-c.iopub:
			c.pending = append(c.pending, m)
			if parentID(m) == req.Header.MsgID && m.Header.MsgType == "stream" && strings.Contains(string(m.Content), text) {
				return
			}
		case <-deadline:
			c.t.Fatalf("no output %q within %v", text, timeout)
		}
	}
}

type execResult struct {
	reply  map[string]any
	stdout string
	stderr string
	result map[string]any
	data   []map[string]any
	errMsg map[string]any
}

// mustPrint runs code, which must succeed and print exactly want.
func (c *client) mustPrint(code, want string) {
	c.t.Helper()
	r := c.execute(code, 2*time.Minute)
	if r.reply["status"] != "ok" || r.stdout != want {
		c.t.Fatalf("%q: reply %v stdout %q, want %q; stderr %q err %v", code, r.reply["status"], r.stdout, want, r.stderr, r.errMsg)
	}
}

func (c *client) execute(code string, timeout time.Duration) execResult {
	c.t.Helper()
	req := c.send(c.shell, "execute_request", map[string]any{"code": code, "silent": false, "store_history": true, "allow_stdin": false})
	return c.collect(req, timeout)
}

func (c *client) collect(req *Message, timeout time.Duration) execResult {
	c.t.Helper()
	var r execResult
	for _, m := range c.outputs(req, timeout) {
		var content map[string]any
		_ = json.Unmarshal(m.Content, &content)
		switch m.Header.MsgType {
		case "stream":
			if content["name"] == "stdout" {
				r.stdout += content["text"].(string)
			} else {
				r.stderr += content["text"].(string)
			}
		case "execute_result":
			r.result = content["data"].(map[string]any)
		case "display_data", "update_display_data":
			r.data = append(r.data, content)
		case "error":
			r.errMsg = content
		}
	}
	reply := c.recv(c.shell)
	_ = json.Unmarshal(reply.Content, &r.reply)
	return r
}

// waitstop is a magic that waits until the cell is interrupted.
var waitstop = WithMagic("waitstop", Magic{Help: "test: wait until interrupted", Run: func(ctx context.Context, e *MagicEnv) error {
	fmt.Fprintln(e.Stdout, "waiting")
	<-ctx.Done()
	fmt.Fprintln(e.Stdout, "stopped:", ctx.Err())
	return nil
}, Words: []string{"now", "never"}})

func TestKernelOverZeroMQ(t *testing.T) {
	c, logs := startKernel(t)

	// kernel_info
	c.send(c.shell, "kernel_info_request", map[string]any{})
	info := c.recv(c.shell)
	if info.Header.MsgType != "kernel_info_reply" || !strings.Contains(string(info.Content), `"protocol_version":"5.3"`) ||
		!strings.Contains(string(info.Content), `"name":"go"`) {
		t.Fatalf("kernel_info_reply: %s %s", info.Header.MsgType, info.Content)
	}

	// A forged message (signed with another key) is rejected, never run.
	forger := &client{t: t, sig: newSigner("wrong-key"), session: newID()}
	forger.send(c.shell, "execute_request", map[string]any{"code": `fmt.Println("forged")`})
	c.send(c.shell, "kernel_info_request", map[string]any{})
	if m := c.recv(c.shell); m.Header.MsgType != "kernel_info_reply" {
		t.Fatalf("after a forged message the next reply is %s, want kernel_info_reply", m.Header.MsgType)
	}
	if !strings.Contains(logs.String(), "signature") {
		t.Errorf("forged message not logged; log: %q", logs.String())
	}

	// State across cells, a trailing expression as the result.
	r := c.execute("x := 41\ntype pair struct{ a, b int }\nfmt.Println(\"set\")", 5*time.Minute)
	if r.reply["status"] != "ok" || r.stdout != "set\n" {
		t.Fatalf("first cell: reply %v stdout %q stderr %q err %v", r.reply, r.stdout, r.stderr, r.errMsg)
	}
	r = c.execute("p := pair{a: x, b: 1}\np.a + p.b", time.Minute)
	if r.reply["status"] != "ok" || r.result["text/plain"] != "42" {
		t.Fatalf("second cell: reply %v result %v err %v", r.reply, r.result, r.errMsg)
	}

	// Cells that only look at values are evaluated without a compile, with
	// the same output and results; anything else still compiles.
	built := c.plugins()
	r = c.execute("fmt.Println(x, p.a, len(\"abc\"))", time.Minute)
	if r.stdout != "41 41 3\n" || r.result != nil {
		t.Errorf("evaluated print: stdout %q result %v err %v", r.stdout, r.result, r.errMsg)
	}
	r = c.execute("p.b", time.Minute)
	if r.result["text/plain"] != "1" {
		t.Errorf("evaluated field: result %v err %v", r.result, r.errMsg)
	}
	if n := c.plugins(); n != built {
		t.Errorf("inspection cells built %d plugins, want none", n-built)
	}
	r = c.execute("fmt.Println(x + 1)", time.Minute)
	if r.stdout != "42\n" || c.plugins() != built+1 {
		t.Errorf("compiled print: stdout %q, plugins %d (was %d)", r.stdout, c.plugins(), built)
	}

	// Rich display.
	r = c.execute(`import "github.com/fair-go/fair/kernel/display"`+"\ndisplay.HTML(\"<b>hi</b>\")", time.Minute)
	if len(r.data) != 1 || r.data[0]["data"].(map[string]any)["text/html"] != "<b>hi</b>" {
		t.Fatalf("display: %v %v", r.data, r.errMsg)
	}

	// Compile errors use the cell's own line numbers.
	r = c.execute("y := 1\n\nz := nope + y", time.Minute)
	if r.reply["status"] != "error" || !strings.Contains(r.errMsg["evalue"].(string), "line 3:") ||
		!strings.Contains(r.errMsg["evalue"].(string), "undefined: nope") {
		t.Fatalf("compile error: %v", r.errMsg)
	}

	// Stdout and stderr are separate streams.
	r = c.execute("fmt.Println(\"out\")\nfmt.Fprintln(os.Stderr, \"err\")", time.Minute)
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("streams: stdout %q stderr %q", r.stdout, r.stderr)
	}

	// A panic is an error with a traceback at the cell line.
	r = c.execute("var s []int\n_ = s[3]", time.Minute)
	if r.reply["status"] != "error" || !strings.Contains(strings.Join(toStrings(r.errMsg["traceback"]), "\n"), "In[") {
		t.Fatalf("panic: %v", r.errMsg)
	}
	r = c.execute("x", time.Minute)
	if r.result["text/plain"] != "41" {
		t.Fatalf("state after a panic: %v %v", r.result, r.errMsg)
	}
	// A nil error as the last expression shows nothing (None in IPython);
	// a non-nil one shows.
	r = c.execute("import \"os\"\nos.Setenv(\"FAIR_TEST_NIL\", \"1\")", time.Minute)
	if r.reply["status"] != "ok" || r.result != nil {
		t.Fatalf("nil error result: %v %v", r.result, r.errMsg)
	}
	r = c.execute("os.Chdir(\"/nonexistent-dir\")", time.Minute)
	if !strings.Contains(fmt.Sprint(r.result["text/plain"]), "no such file") {
		t.Fatalf("non-nil error result: %v %v", r.result, r.errMsg)
	}

	// is_complete, complete, inspect.
	c.send(c.shell, "is_complete_request", map[string]any{"code": "func f() {"})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), "incomplete") {
		t.Errorf("is_complete: %s", m.Content)
	}
	code := "import \"strings\"\nstrings.ToU"
	c.send(c.shell, "complete_request", map[string]any{"code": code, "cursor_pos": len(code)})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), "ToUpper") {
		t.Errorf("complete: %s", m.Content)
	}
	c.send(c.shell, "complete_request", map[string]any{"code": "pa", "cursor_pos": 2})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), `"pair"`) {
		t.Errorf("complete of a notebook name: %s", m.Content)
	}
	c.send(c.shell, "inspect_request", map[string]any{"code": "pair", "cursor_pos": 1, "detail_level": 0})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), "struct") {
		t.Errorf("inspect: %s", m.Content)
	}

	// Hostile cursor positions get an answer, and the kernel lives on.
	for _, pos := range []int{-5, 1 << 30} {
		for _, typ := range []string{"complete_request", "inspect_request"} {
			c.send(c.shell, typ, map[string]any{"code": "pa", "cursor_pos": pos, "detail_level": 0})
			if m := c.recv(c.shell); !strings.Contains(string(m.Content), `"status":"ok"`) {
				t.Errorf("%s at %d: %s", typ, pos, m.Content)
			}
		}
	}
	if r := c.execute("pair{}", time.Minute); r.errMsg != nil {
		t.Fatalf("kernel state after hostile cursors: %v", r.errMsg)
	}

	// The fair comm target.
	c.send(c.shell, "comm_open", map[string]any{"comm_id": "comm-1", "target_name": "fair", "data": map[string]any{}})
	if !c.waitIOPub("comm_msg", "hello", 10*time.Second) {
		t.Error("no hello on the fair comm")
	}
	c.send(c.shell, "comm_info_request", map[string]any{"target_name": "fair"})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), "comm-1") {
		t.Errorf("comm_info: %s", m.Content)
	}
	c.send(c.shell, "comm_msg", map[string]any{"comm_id": "comm-1", "data": map[string]any{"request": "runs"}})
	if !c.waitIOPub("comm_msg", `"runs"`, 10*time.Second) {
		t.Error("no runs answer on the fair comm")
	}
	c.send(c.shell, "comm_close", map[string]any{"comm_id": "comm-1", "data": map[string]any{}})

	// input_request when a cell reads os.Stdin.
	ask := func(code, answer string) execResult {
		req := c.send(c.shell, "execute_request", map[string]any{"code": code, "allow_stdin": true})
		got := make(chan execResult, 1)
		go func() {
			in := c.recv(c.stdin)
			if in.Header.MsgType != "input_request" {
				t.Errorf("stdin: got %s", in.Header.MsgType)
			}
			m, _ := newMessage(c.session, "input_reply", in, map[string]any{"value": answer})
			frames, _ := c.sig.encode(m)
			_ = c.stdin.Send(zmq4.NewMsgFrom(frames[len(in.Identities):]...))
		}()
		go func() { got <- c.collect(req, time.Minute) }()
		return <-got
	}
	if r := ask("var name string\nfmt.Scanln(&name)\nfmt.Println(\"hello\", name)", "gopher and more"); r.stdout != "hello gopher\n" {
		t.Errorf("stdin: stdout %q err %v", r.stdout, r.errMsg)
	}
	// What that cell left unread is not the next cell's input: it asks.
	if r := ask("line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')\nfmt.Printf(\"%q\\n\", line)", "second"); r.stdout != "\"second\\n\"\n" {
		t.Errorf("stdin, next cell: stdout %q err %v", r.stdout, r.errMsg)
	}

	// Interrupt a cooperative cell: it stops and the state stays.
	req := c.send(c.shell, "execute_request", map[string]any{"code": "n := 0\nfmt.Println(\"started\")\nfor nb.Context().Err() == nil {\n\tn++\n\ttime.Sleep(time.Millisecond)\n}\nfmt.Println(\"stopped\")"})
	c.waitStream(req, "started", 2*time.Minute)
	c.send(c.control, "interrupt_request", map[string]any{})
	r = c.collect(req, 2*time.Minute)
	if r.stdout != "started\nstopped\n" || r.errMsg == nil || r.errMsg["ename"] != "KeyboardInterrupt" {
		t.Errorf("interrupt: stdout %q err %v", r.stdout, r.errMsg)
	}
	if m := c.recv(c.control); m.Header.MsgType != "interrupt_reply" {
		t.Errorf("control reply %s", m.Header.MsgType)
	}
	r = c.execute("x + 1", time.Minute)
	if r.result["text/plain"] != "42" {
		t.Errorf("state after interrupt: %v %v", r.result, r.errMsg)
	}

	// The stop button reaches a running magic through its context (a %kf
	// train then detaches from its job).
	req = c.send(c.shell, "execute_request", map[string]any{"code": "%waitstop"})
	c.waitStream(req, "waiting", time.Minute)
	c.send(c.control, "interrupt_request", map[string]any{})
	r = c.collect(req, time.Minute)
	if r.stdout != "waiting\nstopped: context canceled\n" || r.reply["status"] != "ok" {
		t.Errorf("interrupted magic: stdout %q reply %v err %v", r.stdout, r.reply, r.errMsg)
	}
	if m := c.recv(c.control); m.Header.MsgType != "interrupt_reply" {
		t.Errorf("control reply %s", m.Header.MsgType)
	}

	// history_request returns the cells run without error, with counts.
	c.send(c.shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 2, "output": false, "raw": true})
	h := c.recv(c.shell)
	var hist struct{ History [][]any }
	_ = json.Unmarshal(h.Content, &hist)
	if len(hist.History) != 2 || hist.History[1][2] != "%waitstop" {
		t.Errorf("history_request tail 2: %s", h.Content)
	}

	// !shell lines and magics run before the cell's Go code.
	r = c.execute("!echo from-shell\n%workdir\nfmt.Println(\"from-go\")", time.Minute)
	if !strings.HasPrefix(r.stdout, "from-shell\n") || !strings.HasSuffix(r.stdout, "from-go\n") {
		t.Errorf("shell and magic: stdout %q err %v", r.stdout, r.errMsg)
	}
	r = c.execute("%nosuchmagic", time.Minute)
	if r.errMsg == nil || !strings.Contains(r.errMsg["evalue"].(string), "unknown magic %nosuchmagic") {
		t.Errorf("unknown magic: %v", r.errMsg)
	}
	// GoNB's magics fair does not have say what to do instead.
	r = c.execute("%goflags -race", time.Minute)
	if v, _ := r.errMsg["evalue"].(string); !strings.Contains(v, "%goflags is GoNB's magic") {
		t.Errorf("GoNB's %%goflags: %v", r.errMsg)
	}
	if r = c.execute("%version", time.Minute); !strings.HasPrefix(r.stdout, "fair Go kernel ") || !strings.Contains(r.stdout, ", Go 1.") {
		t.Errorf("%%version: %q %v", r.stdout, r.errMsg)
	}

	// A goroutine that panics takes the host down: the kernel restarts it,
	// replays the declarations and says what was lost.
	r = c.execute("go func() { panic(\"boom\") }()\ntime.Sleep(5 * time.Second)", time.Minute)
	if r.errMsg == nil || r.errMsg["ename"] != "KernelCrash" || !strings.Contains(strings.Join(toStrings(r.errMsg["traceback"]), "\n"), "boom") {
		t.Errorf("goroutine panic: %v", r.errMsg)
	}
	r = c.execute("pair{a: 1, b: 2}.a + x", time.Minute)
	if r.result["text/plain"] != "1" {
		t.Errorf("after a crash the type is replayed and x is zero: %v %v", r.result, r.errMsg)
	}

	// Restart: the notebook starts empty.
	c.send(c.control, "shutdown_request", map[string]any{"restart": true})
	if m := c.recv(c.control); m.Header.MsgType != "shutdown_reply" {
		t.Errorf("restart: %s", m.Header.MsgType)
	}
	r = c.execute("x", time.Minute)
	if r.errMsg == nil || !strings.Contains(r.errMsg["evalue"].(string), "undefined: x") {
		t.Errorf("after restart: %v %v", r.result, r.errMsg)
	}
	r = c.execute("1 + 1", 5*time.Minute)
	if r.result["text/plain"] != "2" {
		t.Errorf("after restart: %v %v", r.result, r.errMsg)
	}

	c.send(c.control, "shutdown_request", map[string]any{"restart": false})
	if m := c.recv(c.control); m.Header.MsgType != "shutdown_reply" {
		t.Errorf("shutdown: %s", m.Header.MsgType)
	}
}

func (c *client) waitIOPub(msgType, contains string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case m := <-c.iopub:
			if m.Header.MsgType == msgType && strings.Contains(string(m.Content), contains) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

func TestSignature(t *testing.T) {
	s := newSigner("k")
	m, _ := newMessage("s", "kernel_info_request", nil, map[string]any{})
	frames, err := s.encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.decode(frames); err != nil {
		t.Fatalf("valid message rejected: %v", err)
	}
	if _, err := s.decode(frames); err != ErrReplay {
		t.Fatalf("the same message again: err %v, want ErrReplay", err)
	}
	frames[len(frames)-1] = []byte(`{"code":"tampered"}`)
	if _, err := s.decode(frames); err != ErrSignature {
		t.Fatalf("tampered content: err %v, want ErrSignature", err)
	}
	if _, err := s.decode([][]byte{[]byte("x")}); err == nil {
		t.Fatal("malformed message accepted")
	}
}

// A peer that declares a frame of exabytes, before any message can be
// authenticated, is disconnected; the kernel lives on and answers.
func TestHugeFrameRefused(t *testing.T) {
	c, logs := startKernel(t)
	raw, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.conn.ShellPort))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xff, 0x7f, 3
	copy(greeting[12:], "NULL")
	frame := []byte{0x06, 0x40, 0, 0, 0, 0, 0, 0, 0} // a long command frame of 2^62 bytes
	if _, err := raw.Write(append(greeting, frame...)); err != nil {
		t.Fatal(err)
	}
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, raw) // the kernel closes the connection
	c.send(c.shell, "kernel_info_request", map[string]any{})
	if m := c.recv(c.shell); m.Header.MsgType != "kernel_info_reply" {
		t.Fatalf("after a huge frame: %s\n%s", m.Header.MsgType, logs)
	}
}

// Children that outlive their command or cell cannot wedge the kernel: a
// !shell line is interrupted, a background child keeping the cell's output
// does not hold it, and a host that dies while a child (in a session of its
// own) still holds its stdout is seen dead and replaced within seconds.
func TestKernelSurvivesChildren(t *testing.T) {
	c, logs := startKernel(t)

	req := c.send(c.shell, "execute_request", map[string]any{"code": "!echo begun; sleep 60"})
	c.waitStream(req, "begun", time.Minute)
	start := time.Now()
	c.send(c.control, "interrupt_request", map[string]any{})
	r := c.collect(req, time.Minute)
	if r.errMsg == nil || r.errMsg["ename"] != "KeyboardInterrupt" || time.Since(start) > 15*time.Second {
		t.Errorf("interrupted !sleep: err %v after %s", r.errMsg, time.Since(start))
	}
	c.recv(c.control)

	start = time.Now()
	r = c.execute("!(sleep 60 &); echo detached", time.Minute)
	if r.errMsg != nil || !strings.Contains(r.stdout, "detached") || time.Since(start) > 15*time.Second {
		t.Errorf("!shell leaving a child: %q %v after %s", r.stdout, r.errMsg, time.Since(start))
	}

	r = c.execute("import (\n\t\"os\"\n\t\"os/exec\"\n\t\"syscall\"\n)\n\nchild := exec.Command(\"sleep\", \"60\")\nchild.Stdout = os.Stdout\nchild.SysProcAttr = &syscall.SysProcAttr{Setsid: true}\nerr := child.Start()\nfmt.Println(\"child started\", err)", 2*time.Minute)
	if !strings.Contains(r.stdout, "child started <nil>") {
		t.Fatalf("starting a child: %q %v\n%s", r.stdout, r.errMsg, logs)
	}
	t.Cleanup(func() { exec.Command("pkill", "-f", "^sleep 60$").Run() })
	start = time.Now()
	r = c.execute("os.Exit(3)", 2*time.Minute)
	if r.errMsg == nil {
		t.Errorf("os.Exit gave no error")
	}
	r = c.execute("1 + 1", 2*time.Minute)
	if r.result["text/plain"] != "2" || time.Since(start) > time.Minute {
		t.Errorf("after the host died with a child holding its output: %v %v after %s\n%s", r.result, r.errMsg, time.Since(start), logs)
	}
}

// Output has bounds: displays count against a cell's output limit, and
// goroutines printing between cells are cut at 1 MiB until the next cell.
func TestOutputBounds(t *testing.T) {
	c, _ := startKernel(t)
	r := c.execute("import (\n\t\"strings\"\n\n\t\"github.com/fair-go/fair/kernel/display\"\n)\n\nfor i := 0; i < 20; i++ {\n\tdisplay.HTML(strings.Repeat(\"x\", 1<<20))\n}", 2*time.Minute)
	if n := len(r.data); n == 0 || n > 16 || !strings.Contains(r.stderr, "output limit reached") {
		t.Errorf("20 displays of 1 MiB with a 16 MiB limit: %d shown, stderr %q, err %v", n, r.stderr, r.errMsg)
	}

	r = c.execute("go func() {\n\ttime.Sleep(300 * time.Millisecond)\n\tfor i := 0; i < 5000; i++ {\n\t\tfmt.Println(strings.Repeat(\"y\", 999))\n\t}\n}()", 2*time.Minute)
	if r.errMsg != nil {
		t.Fatal(r.errMsg)
	}
	total, noted := 0, false
	deadline := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case m := <-c.iopub:
			if m.Header.MsgType != "stream" {
				continue
			}
			var content map[string]any
			_ = json.Unmarshal(m.Content, &content)
			text, _ := content["text"].(string)
			total += strings.Count(text, "y")
			noted = noted || strings.Contains(text, "background output limit reached")
		case <-deadline:
			done = true
		}
	}
	if total == 0 || total > 1<<20 || !noted {
		t.Errorf("5 MB printed between cells: %d bytes reached the notebook, note %v", total, noted)
	}
	if r := c.execute("1 + 2", time.Minute); r.result["text/plain"] != "3" {
		t.Errorf("after the flood: %v %v", r.result, r.errMsg)
	}
}

// The host killed (kill -9) in the middle of a cell: the cell fails, and the
// kernel answers the next request within seconds.
func TestHostKilledMidCell(t *testing.T) {
	c, logs := startKernel(t)
	if r := c.execute("k := 7", 2*time.Minute); r.errMsg != nil {
		t.Fatal(r.errMsg)
	}
	req := c.send(c.shell, "execute_request", map[string]any{"code": "fmt.Println(\"looping\")\nfor {\n\ttime.Sleep(time.Millisecond)\n}"})
	c.waitStream(req, "looping", 2*time.Minute)
	c.ex.mu.Lock()
	pid := c.ex.host.cmd.Process.Pid
	c.ex.mu.Unlock()
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := c.collect(req, time.Minute)
	if r.errMsg == nil {
		t.Errorf("the killed cell reported no error")
	}
	// As after any forced restart, declarations come back and values are
	// reset to their zero value, and the kernel says which.
	next := c.execute("k + 1", time.Minute)
	if next.result["text/plain"] != "1" || time.Since(start) > 30*time.Second {
		t.Errorf("after the host was killed: %v %v after %s\n%s", next.result, next.errMsg, time.Since(start), logs)
	}
	if notes := r.stderr + fmt.Sprint(r.errMsg) + next.stderr; !strings.Contains(notes, "Values lost") || !strings.Contains(notes, "k") {
		t.Errorf("no word about the values lost: %q", notes)
	}
}

// Messages from the network: decoding never panics, and only a message
// signed with the key passes.
func FuzzDecodeMessage(f *testing.F) {
	s := newSigner("k")
	m, _ := newMessage("s", "execute_request", nil, map[string]any{"code": "1"})
	frames, _ := s.encode(m)
	f.Add(bytes.Join(frames, []byte{0}))
	f.Add([]byte("<IDS|MSG>\x00sig\x00{}\x00{}\x00{}\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		_, err := newSigner("k").decode(frames)
		if err == nil {
			// It verified: then it must be what the key signs.
			i := 0
			for i < len(frames) && string(frames[i]) != delim {
				i++
			}
			if !bytes.Equal(frames[i+1], s.sign(frames[i+2], frames[i+3], frames[i+4], frames[i+5])) {
				t.Fatalf("accepted a message with a wrong signature")
			}
		}
	})
}

// Completion takes any code and any cursor.
func FuzzComplete(f *testing.F) {
	k := &Kernel{exec: &Executor{session: cellgen.NewSession(Module)}}
	f.Add("fmt.Sprin", 9)
	f.Add("x := strings.ToU", -4)
	f.Add("ü\\xff", 1<<20)
	f.Fuzz(func(t *testing.T, code string, pos int) {
		_ = k.complete(code, cursorIn(code, pos))
	})
}

// TestDirectBuildMixesWithGoBuild: cells built by running the compiler and
// linker directly and cells built by go build use each other's packages in
// the same process, also after go.mod changed, and a plain cell takes the
// direct way.
func TestDirectBuildMixesWithGoBuild(t *testing.T) {
	c, _ := startKernel(t)
	d := &c.ex.direct
	setOff := func(off bool) {
		d.mu.Lock()
		d.off = off
		d.mu.Unlock()
	}
	built := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.built
	}
	run := c.mustPrint
	run("import \"fmt\"\ntype T struct{ n int }\nfunc (t T) Double() int { return 2 * t.n }\nx := T{n: 21}\nfmt.Println(x.Double())", "42\n")
	if built() != 1 {
		t.Fatalf("a plain cell went through go build (direct builds: %d)", built())
	}
	setOff(true)
	run("y := x.Double() + 1\nfmt.Println(y)", "43\n")
	setOff(false)
	run("z := T{n: y}\nfmt.Println(z.Double(), x.Double())", "86 42\n")
	if built() != 2 {
		t.Fatalf("the cell after a go build cell did not take the direct way (direct builds: %d)", built())
	}
	setOff(true)
	run("fmt.Println(z.n + y)", "86\n")
	setOff(false)
	gomod := filepath.Join(c.ex.Dir(), "go.mod")
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gomod, append(b, "// changed\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	run("w := z.Double() + y\nfmt.Println(w)", "129\n")
	if built() != 3 {
		t.Fatalf("the cell after go.mod changed did not take the direct way (direct builds: %d)", built())
	}
	// A new host gets the declarations replayed (the type T with its
	// method, and vars of it at their zero value), built the direct way.
	c.ex.mu.Lock()
	pid := c.ex.host.cmd.Process.Pid
	c.ex.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c.ex.mu.Lock()
		gone := c.ex.host.exited()
		c.ex.mu.Unlock()
		if gone || time.Now().After(deadline) {
			break
		}
	}
	r := c.execute("fmt.Println(z.Double(), T{n: 4}.Double(), w)", 2*time.Minute)
	if r.reply["status"] != "ok" || r.stdout != "0 8 0\n" {
		t.Fatalf("after the host was killed: reply %v stdout %q stderr %q err %v", r.reply["status"], r.stdout, r.stderr, r.errMsg)
	}
}

// startBuilding starts ex in the background (its result goes to started)
// and returns once the host build is under way.
func startBuilding(t *testing.T, ex *Executor, started chan<- error) {
	t.Helper()
	go func() { started <- ex.Start(context.Background()) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		ex.mu.Lock()
		building := ex.starting != nil
		ex.mu.Unlock()
		if building {
			return
		}
	}
	t.Fatal("the host build did not start")
}

type bufOut struct{ strings.Builder }

func (b *bufOut) Stream(_, text string)              { b.WriteString(text) }
func (b *bufOut) Display(nb.Message)                 {}
func (b *bufOut) Input(string, bool) (string, error) { return "", io.EOF }

// The first cell of a new kernel compiles while the host is still being
// built (the kernel starts it at once), then runs in it; a shutdown while
// the host builds leaves no host behind.
func TestFirstCellWhileHostBuilds(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build Go plugins (cgo); install gcc")
	}
	ex, err := NewExecutor(t.TempDir(), WithCellDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ex.Close)
	ctx := context.Background()
	started := make(chan error, 1)
	startBuilding(t, ex, started)
	cell, err := notebook.Parse("import \"fmt\"\nx := 41\nfmt.Println(x + 1)")
	if err != nil {
		t.Fatal(err)
	}
	var out bufOut
	if err := ex.Run(ctx, cell, 1, &out); err != nil || out.String() != "42\n" {
		t.Fatalf("first cell: %v, output %q", err, out.String())
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}

	// A shutdown while the host builds: the build's host is stopped.
	ex2, err := NewExecutor(t.TempDir(), WithCellDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ex2.Close)
	startBuilding(t, ex2, started)
	ex2.Shutdown()
	if err := <-started; err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("Start across a Shutdown: err = %v", err)
	}
	ex2.mu.Lock()
	h := ex2.host
	ex2.mu.Unlock()
	if h != nil {
		t.Errorf("a host survived the shutdown")
	}
}

// TestSavedExportsForTheNextKernel: the export files go list found are
// kept in the work folder, so the next kernel there compiles its first
// cell without running go list; a saved file gone from the build cache, or
// a changed go.mod, lists again.
func TestSavedExportsForTheNextKernel(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build Go plugins (cgo); install gcc")
	}
	dir := t.TempDir()
	kernelRun := func(code, want string) (listed, built int) {
		t.Helper()
		k := runKernel(t, dir, "", code, want, nil)
		return k.listed, k.built
	}
	if listed, built := kernelRun("import \"fmt\"\nx := 41\nfmt.Println(x + 1)", "42\n"); listed == 0 || built != 1 {
		t.Fatalf("first kernel: go list ran %d times, direct builds %d", listed, built)
	}
	var saved savedExports
	b, err := os.ReadFile(filepath.Join(dir, "exports.json"))
	if err != nil || json.Unmarshal(b, &saved) != nil {
		t.Fatalf("exports.json: %v %s", err, b)
	}
	for _, p := range []string{"fmt", "github.com/fair-go/fair/kernel/nb"} {
		if saved.Exports[p] == "" {
			t.Errorf("exports.json lacks %s", p)
		}
	}
	for p, f := range saved.Exports {
		if strings.HasPrefix(f, dir) {
			t.Errorf("exports.json keeps a cell's archive %s: %s", p, f)
		}
	}
	if listed, built := kernelRun("import \"fmt\"\nfmt.Println(\"next kernel\")", "next kernel\n"); listed != 0 || built != 1 {
		t.Errorf("next kernel: go list ran %d times (want 0), direct builds %d", listed, built)
	}
	// A file trimmed from the build cache: listed again, and the cell runs.
	saved.Exports["fmt"] = filepath.Join(t.TempDir(), "gone-d")
	b, _ = json.Marshal(saved)
	if err := os.WriteFile(filepath.Join(dir, "exports.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if listed, _ := kernelRun("import \"fmt\"\nfmt.Println(3)", "3\n"); listed == 0 {
		t.Error("a saved export file that is gone was used")
	}
	// go.mod changed: listed again.
	gomod := filepath.Join(dir, "go.mod")
	mod, _ := os.ReadFile(gomod)
	if err := os.WriteFile(gomod, append(mod, "// changed\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if listed, _ := kernelRun("import \"fmt\"\nfmt.Println(4)", "4\n"); listed == 0 {
		t.Error("exports saved for another go.mod were used")
	}
}

// TestLocalCopiesKeepState: a cell's own variables worked on through local
// copies (cellgen) leave exactly what the cell assigned: after a loop,
// across several statement groups of a cell, and with a variable a closure
// shares, which keeps no copy.
func TestLocalCopiesKeepState(t *testing.T) {
	c, _ := startKernel(t)
	run := c.mustPrint
	run("import \"fmt\"\nsum := 0\nfor i := 1; i <= 10000000; i++ {\n\tsum += i\n}\nfmt.Println(sum)", "50000005000000\n")
	run("fmt.Println(sum)", "50000005000000\n")
	// A cell's variables are another cell's only once the cell ran to its
	// end: a cell that panics half-way through a loop defines nothing.
	if r := c.execute("n := 0\nfor i := 0; i < 10; i++ {\n\tn++\n\tif i == 4 {\n\t\tpanic(\"boom\")\n\t}\n}", 2*time.Minute); r.reply["status"] != "error" {
		t.Fatalf("the panicking cell: reply %v", r.reply["status"])
	}
	run("n := 1\nfor i := 0; i < 3; i++ {\n\tn *= 2\n}\nfmt.Println(n)", "8\n")
	run("m := 0\nfor i := 0; i < 10; i++ {\n\tm++\n\tif m == 3 {\n\t\treturn\n\t}\n}", "")
	run("fmt.Println(m)", "3\n") // a return leaves the cell's statements early
	run("k := 1\nk++\nj := 10\nk += j\nk *= 2\nfmt.Println(k, j)", "24 10\n")
	run("fmt.Println(k)", "24\n")
	run("shared := 0\ndone := make(chan bool)\ngo func() { shared = 7; done <- true }()\n<-done\nshared++\nfmt.Println(shared)", "8\n")
	run("fmt.Println(shared)", "8\n")
}

// TestIPythonCellMagics: %%writefile (write, overwrite, append, a path
// outside the notebook's folder that cannot be written), %%bash and %%sh
// in the notebook's folder (a failing script fails the cell), %%time
// around Go code that keeps its state.
func TestIPythonCellMagics(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("%%writefile conf.yaml\nlr: 0.1", "Writing conf.yaml\n")
	c.mustPrint("%%writefile conf.yaml\nlr: 0.2", "Overwriting conf.yaml\n")
	c.mustPrint("%%writefile -a conf.yaml\nepochs: 3\n", "Appending to conf.yaml\n")
	c.mustPrint("%%bash\nset -e\nwc -l < conf.yaml\n[[ -f conf.yaml ]] && cat conf.yaml", "2\nlr: 0.2\nepochs: 3\n")
	c.mustPrint("%%sh\necho \"$0\" >/dev/null; pwd | grep -c /", "1\n")
	if r := c.execute("%%bash\nexit 3", time.Minute); r.reply["status"] != "error" || !strings.Contains(fmt.Sprint(r.errMsg["evalue"]), "%%bash: exit status 3") {
		t.Fatalf("failing script: %v %v", r.reply["status"], r.errMsg)
	}
	if r := c.execute("%%writefile /nonexistent-dir/x.txt\nx", time.Minute); r.reply["status"] != "error" || !strings.Contains(fmt.Sprint(r.errMsg["evalue"]), "/nonexistent-dir/x.txt") {
		t.Fatalf("unwritable file: %v %v", r.reply["status"], r.errMsg)
	}
	if r := c.execute("%writefile conf.yaml", time.Minute); r.reply["status"] != "error" || !strings.Contains(fmt.Sprint(r.errMsg["evalue"]), "usage") {
		t.Fatalf("line form: %v %v", r.reply["status"], r.errMsg)
	}
	r := c.execute("%%time\nn := 0\nfor i := 0; i < 1000; i++ {\n\tn += i\n}\nfmt.Println(n)", time.Minute)
	if r.reply["status"] != "ok" || !strings.HasPrefix(r.stdout, "499500\nWall time: ") {
		t.Fatalf("%%%%time: %v stdout %q err %v", r.reply["status"], r.stdout, r.errMsg)
	}
	c.mustPrint("fmt.Println(n + 1)", "499501\n")
	// Nested, and below blank lines (IPython drops a cell's leading blank
	// lines): errors stay at the cell's own lines.
	r = c.execute("\n%%time\n  %%time\nm := n\nm, nope", time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, "line 5:4: undefined: nope") {
		t.Errorf("nested %%%%time: %v", v)
	}
	r = c.execute("%%time\n%%time\nfmt.Println(n - 1)", time.Minute)
	if r.reply["status"] != "ok" || !strings.HasPrefix(r.stdout, "499499\nWall time: ") || strings.Count(r.stdout, "Wall time: ") != 2 {
		t.Errorf("nested %%%%time: %v stdout %q err %v", r.reply["status"], r.stdout, r.errMsg)
	}
}

// TestCgoEmbedAndDirectives: the comment group above an import or a
// declaration reaches the compiler: a cgo preamble (and import "C" on a
// cell's first line), //go:embed of a file in the notebook's folder into a
// string and an embed.FS (the file changes, the next run sees it), a
// pattern that matches nothing as the go command's error on the cell's
// line; a function literal with one result called at top level.
func TestCgoEmbedAndDirectives(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cgo and go build")
	}
	c, _ := startKernel(t)
	c.mustPrint("/*\nstatic int add(int a, int b) { return a + b; }\n*/\nimport \"C\"\nfmt.Println(C.add(2, 3))", "5\n")
	c.mustPrint("import \"C\"\nfmt.Println(C.int(7) * 6)", "42\n")
	c.mustPrint("%%writefile hello.txt\nhello, embed", "Writing hello.txt\n")
	c.mustPrint("import _ \"embed\"\n\n//go:embed hello.txt\nvar greeting string\nfmt.Print(greeting)", "hello, embed\n")
	c.mustPrint("%%writefile hello.txt\nchanged", "Overwriting hello.txt\n")
	c.mustPrint("import \"embed\"\n//go:embed *.txt\nvar files embed.FS\nb, _ := files.ReadFile(\"hello.txt\")\nfmt.Print(string(b))", "changed\n")
	r := c.execute("import _ \"embed\"\n//go:embed nonexistent.txt\nvar missing string", 2*time.Minute)
	if r.reply["status"] != "error" || !strings.Contains(fmt.Sprint(r.errMsg["evalue"]), "line 2: pattern nonexistent.txt: no matching files found") {
		t.Errorf("embed of a missing file: %v", r.errMsg["evalue"])
	}
	c.mustPrint("y := 2\nfunc() int { fmt.Println(3 * y); return 0 }()", "6\n")
	c.mustPrint("z := func() int { return 4 }()\nfmt.Println(z)", "4\n")
}

// TestStdinWithoutFrontendInput: where the frontend takes no input
// (allow_stdin false: nbconvert, papermill), a read gets end of file, as
// from a closed terminal, not a made-up empty line: a Scanner loop ends,
// ReadString returns io.EOF, and a later cell reads end of file again.
func TestStdinWithoutFrontendInput(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("import (\"bufio\"; \"os\"; \"fmt\")\nkeep := 41\nsc := bufio.NewScanner(os.Stdin)\nlines := 0\nfor sc.Scan() {\n\tlines++\n}\nfmt.Println(lines, sc.Err())", "0 <nil>\n")
	c.mustPrint("line, err := bufio.NewReader(os.Stdin).ReadString('\\n')\nfmt.Printf(\"%q %v\\n\", line, err)", "\"\" EOF\n")
	c.mustPrint("var s string\n_, err = fmt.Scanln(&s)\nfmt.Println(err, keep+1)", "EOF 42\n")
}

// TestGoexitEndsTheCell: runtime.Goexit in a cell ends it with an error,
// where it used to leave the cell running until an interrupt cost the
// session; the state stays.
func TestGoexitEndsTheCell(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("import (\"fmt\"; \"runtime\")\nkeep := 7\nfmt.Println(\"before\")", "before\n")
	r := c.execute("fmt.Println(\"in\")\nruntime.Goexit()\nfmt.Println(\"after\")", time.Minute)
	if r.reply["status"] != "error" || r.errMsg["ename"] != "Goexit" || r.stdout != "in\n" {
		t.Fatalf("Goexit: reply %v stdout %q err %v", r.reply["status"], r.stdout, r.errMsg)
	}
	c.mustPrint("fmt.Println(keep * 6)", "42\n")
}

// TestNamesOfTheGeneratedCode: a notebook's own nb and Cell are names like
// any other (the generated code's names cannot be written by a user).
func TestNamesOfTheGeneratedCode(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("import \"fmt\"\nnb := 5\nCell := \"c\"\nfmt.Println(nb, Cell)", "5 c\n")
	c.mustPrint("fmt.Println(nb*2, Cell+Cell)", "10 cc\n")
	r := c.execute("nb * 3", time.Minute)
	if r.reply["status"] != "ok" || fmt.Sprint(r.result["text/plain"]) != "15" {
		t.Errorf("nb * 3: %v %v %v", r.reply["status"], r.result, r.errMsg)
	}
}

// TestCrashSaysWhy: a stack overflow's report starts with the runtime's
// own words and the cell line, not with the end of a long dump; an
// os.Exit(0) is named as such.
func TestCrashSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: crashes and restarts the Go process twice")
	}
	c, _ := startKernel(t)
	c.mustPrint("import \"fmt\"\nfunc rec(n int) int { return rec(n+1) + 1 }\nfmt.Println(\"defined\")", "defined\n")
	r := c.execute("rec(0)", 2*time.Minute)
	v := fmt.Sprint(r.errMsg["evalue"])
	if r.errMsg["ename"] != "KernelCrash" || !strings.Contains(v, "exit status 2: fatal error: stack overflow (at In[") {
		t.Errorf("stack overflow: %v\n%.300s", r.errMsg["ename"], v)
	}
	r = c.execute("import \"os\"\nos.Exit(0)", 2*time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, "exit status 0 (os.Exit(0) in a cell?)") {
		t.Errorf("os.Exit(0): %.300s", v)
	}
	c.mustPrint("fmt.Println(\"alive\")", "alive\n")
}

// TestPastedProgram: a whole program pasted into a cell (package clause,
// imports, main) runs as GoNB runs a cell with main; its package clause is
// ignored.
func TestPastedProgram(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello from main\")\n}", "hello from main\n")
	// init runs before main and before the cell's statements, as in a
	// program; an error in it names its line and column.
	c.mustPrint("import (\"flag\"; \"fmt\")\nvar n int\nfunc main() { flag.Parse(); fmt.Println(\"main\", n) }\nfunc init() { flag.IntVar(&n, \"n\", 3, \"n\"); fmt.Println(\"init\") }", "init\nmain 3\n")
	c.mustPrint("fmt.Println(\"statement\")\nfunc init() { fmt.Println(\"init\") }", "init\nstatement\n")
	r := c.execute("x := 1\nfunc init() { nope() }", 2*time.Minute)
	if v, _ := r.errMsg["evalue"].(string); !strings.Contains(v, "line 2:15") || !strings.Contains(v, "undefined: nope") {
		t.Errorf("an error in init: %q", v)
	}
}

// TestGophernotesDisplay: a notebook written for gophernotes, where
// display.X(...) returns a value the cell shows and Display(v) shows one:
// each shows once, and a value that is not shown yet is shown by Display.
func TestGophernotesDisplay(t *testing.T) {
	c, _ := startKernel(t)
	mimes := func(r execResult) []string {
		var out []string
		for _, d := range r.data {
			for k := range d["data"].(map[string]any) {
				if k != "text/plain" {
					out = append(out, k)
				}
			}
		}
		return out
	}
	for _, tc := range []struct {
		code string
		want []string
	}{
		{`display.HTML("<b>hi</b>")`, []string{"text/html"}},
		{`d := display.Markdown("# title")`, []string{"text/markdown"}},
		{`Display(d)`, nil},
		{`Display(display.Latex("$x^2$"))`, []string{"text/latex"}},
		{`display.MakeData("text/html", "<i>x</i>")`, []string{"text/html"}},
		{`Display(display.JavaScript("1+1"))`, []string{"application/javascript"}},
		{`Display(map[string]any{"text/html": "<u>u</u>"})`, []string{"text/html"}},
	} {
		r := c.execute(tc.code, 2*time.Minute)
		if r.reply["status"] != "ok" || r.result != nil || fmt.Sprint(mimes(r)) != fmt.Sprint(tc.want) {
			t.Errorf("%s: reply %v, displays %v, result %v, want displays %v and no result; err %v", tc.code, r.reply["status"], mimes(r), r.result, tc.want, r.errMsg)
		}
	}
	r := c.execute(`Display(42)`, 2*time.Minute)
	if r.reply["status"] != "ok" || len(r.data) != 1 || r.data[0]["data"].(map[string]any)["text/plain"] != "42" {
		t.Errorf("Display(42): %v %v %v", r.reply["status"], r.data, r.errMsg)
	}
}

// TestShellInModule: GoNB's !*command runs in the notebook's Go module.
func TestShellInModule(t *testing.T) {
	c, _ := startKernel(t)
	r := c.execute("!*pwd && ls go.mod", time.Minute)
	if r.reply["status"] != "ok" || r.stdout != c.ex.Dir()+"\ngo.mod\n" {
		t.Errorf("!*: %v %q %q %v", r.reply["status"], r.stdout, r.stderr, r.errMsg)
	}
}

// TestOtherKernelsNames: lgo's _ctx is undefined here, with a pointer to
// what fair has.
func TestOtherKernelsNames(t *testing.T) {
	c, _ := startKernel(t)
	r := c.execute("<-_ctx.Done()", time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, "undefined: _ctx (lgo's cell context; here it is nb.Context()") {
		t.Errorf("_ctx: %v", v)
	}
	c.mustPrint("import (\"fmt\"; \"github.com/fair-go/fair/kernel/nb\")\nfmt.Println(nb.Context().Err())", "<nil>\n")
}

// TestErrorColumns: a compile error names the column the user sees, on a
// line where earlier cells' names were renamed (x is c1.Ξx in the
// generated code) and inside a declaration.
func TestErrorColumns(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("aa := 1\nbb := 2", "")
	for code, want := range map[string]string{
		"x := 0\ny := aa + bb + undefinedThing":          "line 2:16: undefined: undefinedThing",
		"func f() int {\n\treturn aa + nope\n}":          "line 2:14: undefined: nope",
		"type T struct{ n int }\nvar t = T{n: aa, m: 1}": "line 2:18: unknown field m in struct literal",
	} {
		r := c.execute(code, 2*time.Minute)
		if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, want) {
			t.Errorf("%q: %s, want %s", code, v, want)
		}
	}
}

// TestDotImportAcrossCells: import . "strings" in one cell (alone, as
// GoNB and gophernotes notebooks write it) serves the next cells.
func TestDotImportAcrossCells(t *testing.T) {
	c, _ := startKernel(t)
	if r := c.execute(`import . "strings"`, 2*time.Minute); r.reply["status"] != "ok" {
		t.Fatalf("dot import alone: %v", r.errMsg)
	}
	c.mustPrint(`fmt.Println(ToUpper("go"), Count("cheese", "e"))`, "GO 3\n")
	// Their names complete; no match is an empty list, never null.
	for code, want := range map[string]string{"ToUp": `"matches":["ToUpper","ToUpperSpecial"]`, "zzzq": `"matches":[]`} {
		c.send(c.shell, "complete_request", map[string]any{"code": code, "cursor_pos": len(code)})
		if m := c.recv(c.shell); !strings.Contains(string(m.Content), want) {
			t.Errorf("complete %q: %s, want %s", code, m.Content, want)
		}
	}
}

// TestCompleteMembers: v.<Tab> offers the fields and methods of v's type,
// a notebook struct (with an embedded field and a method from a later
// cell) or a package's (*strings.Builder).
func TestCompleteMembers(t *testing.T) {
	c, _ := startKernel(t)
	for _, code := range []string{
		"type Inner struct{ Depth int }\ntype Point struct {\n\tInner\n\tX, Y float64\n\tlabel string\n}",
		"func (p Point) Norm() float64 { return p.X*p.X + p.Y*p.Y }",
		"pt := Point{X: 3, Y: 4}",
		"import \"strings\"\nvar sb strings.Builder",
	} {
		if r := c.execute(code, 2*time.Minute); r.reply["status"] != "ok" {
			t.Fatalf("%s: %v", code, r.errMsg)
		}
	}
	for code, want := range map[string][]string{
		"pt.":    {"Inner", "Norm", "X", "Y", "label"},
		"pt.N":   {"Norm"},
		"sb.Wri": {"Write", "WriteByte", "WriteRune", "WriteString"},
		// A standard package not imported yet, by its name.
		"json.MarshalI": {"MarshalIndent"},
		"filepath.Jo":   {"Join"},
		"x := ni":       {"nil"},
		"%waitstop ne":  {"never"},
		"s := \"pt.":    {},
		"x := 1 // pt.": {},
		"!ls pt.":       {},
		"Point{}.":      {},
		"var u uint6":   {"uint64"},
	} {
		c.send(c.shell, "complete_request", map[string]any{"code": code, "cursor_pos": len(code)})
		var reply struct {
			Matches     []string `json:"matches"`
			CursorStart int      `json:"cursor_start"`
		}
		m := c.recv(c.shell)
		if err := json.Unmarshal(m.Content, &reply); err != nil {
			t.Fatal(err)
		}
		start := strings.LastIndex(code, ".") + 1
		if start == 0 {
			start = strings.LastIndex(code, " ") + 1
		}
		if len(want) == 0 {
			start = reply.CursorStart // nothing to place
		}
		if fmt.Sprint(reply.Matches) != fmt.Sprint(want) || reply.CursorStart != start {
			t.Errorf("%q: matches %v from %d, want %v", code, reply.Matches, reply.CursorStart, want)
		}
	}
	// Magic names after %%.
	if m, start := c.completeAt(t, "%%tim"); fmt.Sprint(m) != "[time]" || start != 2 {
		t.Errorf("%%%%tim: %v from %d", m, start)
	}
	// A value made before its type was redefined keeps the old type: it
	// completes the members it has, a new value the new type's.
	for _, code := range []string{"type Point struct{ Lat, Lon float64 }", "fresh := &Point{}"} {
		if r := c.execute(code, 2*time.Minute); r.reply["status"] != "ok" {
			t.Fatalf("%s: %v", code, r.errMsg)
		}
	}
	for code, want := range map[string]string{"pt.": "[Inner Norm X Y label]", "fresh.": "[Lat Lon]"} {
		if m, _ := c.completeAt(t, code); fmt.Sprint(m) != want {
			t.Errorf("%q after Point was redefined: %v, want %s", code, m, want)
		}
	}
	c.send(c.shell, "inspect_request", map[string]any{"code": "pt", "cursor_pos": 2})
	if m := c.recv(c.shell); !strings.Contains(string(m.Content), "Point of In[2] (redefined since in In[5])") {
		t.Errorf("inspect of a value of a redefined type: %s", m.Content)
	}
}

// completeAt asks the kernel to complete code at its end.
func (c *client) completeAt(t *testing.T, code string) (matches []string, start int) {
	t.Helper()
	c.send(c.shell, "complete_request", map[string]any{"code": code, "cursor_pos": len([]rune(code))})
	var reply struct {
		Matches     []string `json:"matches"`
		CursorStart int      `json:"cursor_start"`
	}
	if err := json.Unmarshal(c.recv(c.shell).Content, &reply); err != nil {
		t.Fatal(err)
	}
	return reply.Matches, reply.CursorStart
}

// TestRedefinedTypeSaysWhy: a value made before its type was redefined
// keeps the old type, and the compiler's "cannot use p (variable of struct
// type P) as P value" says why, in the cell that redefines it too.
func TestRedefinedTypeSaysWhy(t *testing.T) {
	c, _ := startKernel(t)
	for _, code := range []string{"type P struct{ X int }\np := P{1}", "type P struct{ X, Y int }"} {
		if r := c.execute(code, 2*time.Minute); r.reply["status"] != "ok" {
			t.Fatalf("%s: %v", code, r.errMsg)
		}
	}
	r := c.execute("var q P = p", 2*time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, "as P value") || !strings.Contains(v, "(P is redefined in In[2]; values made before keep the P of In[1]") {
		t.Errorf("old value, new type: %v", v)
	}
	r = c.execute("type P int\nvar z P = p", 2*time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); !strings.Contains(v, "P is redefined in this cell; values made before keep the P of In[1]") {
		t.Errorf("redefined in the failing cell: %v", v)
	}
	// Unrelated errors get no such note.
	r = c.execute("var w P = \"s\"", 2*time.Minute)
	if v := fmt.Sprint(r.errMsg["evalue"]); strings.Contains(v, "redefined") {
		t.Errorf("note on an unrelated error: %v", v)
	}
}

// A cell that closes os.Stdout does not silence the cells after it (nor
// make each wait 2 s for an end marker that cannot be written).
func TestStdoutClosedReopened(t *testing.T) {
	c, _ := startKernel(t)
	r := c.execute("import \"os\"\nos.Stdout.Close()", 2*time.Minute)
	if !strings.Contains(r.stderr, "the cell closed os.Stdout; it is open again") {
		t.Errorf("closing stdout: %q %v", r.stderr, r.errMsg)
	}
	r = c.execute("fmt.Println(\"after close\")", 2*time.Minute)
	if r.stdout != "after close\n" {
		t.Errorf("after close: %q %v", r.stdout, r.errMsg)
	}
	// os.Stdout pointed at a file: the file gets the cell's lines only.
	dir := t.TempDir()
	r = c.execute(fmt.Sprintf("f, _ := os.Create(%q)\nsaved := os.Stdout\nos.Stdout = f\nfmt.Println(\"to the file\")", filepath.Join(dir, "o.txt")), 2*time.Minute)
	r = c.execute("os.Stdout = saved\nf.Close()\nfmt.Println(\"back\")", 2*time.Minute)
	if b, _ := os.ReadFile(filepath.Join(dir, "o.txt")); string(b) != "to the file\n" || r.stdout != "back\n" {
		t.Errorf("stdout to a file: file %q, then %q %v", b, r.stdout, r.errMsg)
	}
	// A closed stdin is a new one for the next cell.
	r = c.execute("os.Stdin.Close()", 2*time.Minute)
	if !strings.Contains(r.stderr, "the cell closed os.Stdin; it is open again") {
		t.Errorf("closing stdin: %q %v", r.stderr, r.errMsg)
	}
}

// TestBackgroundStdinReader: a goroutine of an earlier cell waiting on
// os.Stdin gets the end of input when the next cell begins, which then
// neither asks for input it does not read nor loses it to the goroutine.
func TestBackgroundStdinReader(t *testing.T) {
	c, _ := startKernel(t)
	c.mustPrint("import (\"sync/atomic\"; \"time\")\nvar got atomic.Value\ngot.Store(\"waiting\")\ngo func() { time.Sleep(300 * time.Millisecond); var s string; fmt.Scanln(&s); got.Store(\"read\") }()", "")
	time.Sleep(time.Second)
	r := c.execute("time.Sleep(500 * time.Millisecond)\nfmt.Println(\"two\")", 2*time.Minute)
	if r.stdout != "two\n" || !strings.Contains(r.stderr, "it got the end of input") {
		t.Errorf("the next cell: %q %q %v", r.stdout, r.stderr, r.errMsg)
	}
	c.mustPrint("fmt.Println(got.Load())", "read\n")
	r = c.execute("var name string\n_, err := fmt.Scanln(&name)\nfmt.Println(\"cell read:\", err)", 2*time.Minute)
	if !strings.Contains(r.stdout, "cell read: ") || r.errMsg != nil {
		t.Errorf("a cell reading beside a background reader: %q %v", r.stdout, r.errMsg)
	}
}

// TestSharedHostForANewFolder: the first kernel of another work folder
// with the same module copies the host the first one linked, and its cells
// load into it; a work folder whose module differs links its own, and a
// kept host that does not fit is linked again, never run.
func TestSharedHostForANewFolder(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build Go plugins (cgo); install gcc")
	}
	shared := t.TempDir()
	kernelRun := func(dir, code, want string, change func()) (copied bool, listed int) {
		t.Helper()
		k := runKernel(t, dir, shared, code, want, change)
		return k.copied, k.listed
	}
	if copied, _ := kernelRun(t.TempDir(), "import \"fmt\"\nfmt.Println(1)", "1\n", nil); copied {
		t.Fatal("the first kernel found a host to copy in an empty shared folder")
	}
	hosts, _ := filepath.Glob(filepath.Join(shared, "modules", "*", "host-*"))
	if len(hosts) != 1 {
		t.Fatalf("kept hosts: %v, want one", hosts)
	}
	// Another notebook folder: the host is copied, the export files too.
	if copied, listed := kernelRun(t.TempDir(), "import \"fmt\"\ntype P struct{ X int }\nfmt.Println(P{2})", "{2}\n", nil); !copied || listed != 0 {
		t.Errorf("new work folder: host copied %v (want true), go list ran %d times (want 0)", copied, listed)
	}
	// A module of its own (go.mod changed): nothing to copy, its own link.
	other := t.TempDir()
	addComment := func() {
		gomod := filepath.Join(other, "go.mod")
		mod, _ := os.ReadFile(gomod)
		if err := os.WriteFile(gomod, append(mod, "// another module\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if copied, _ := kernelRun(other, "import \"fmt\"\nfmt.Println(3)", "3\n", addComment); copied {
		t.Error("a host kept for another go.mod was copied")
	}
	// A kept host that is not what go build would link: linked again.
	if err := os.WriteFile(hosts[0], []byte("#!/bin/sh\necho not a host\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if copied, _ := kernelRun(t.TempDir(), "import \"fmt\"\nfmt.Println(4)", "4\n", nil); copied {
		t.Error("a kept host that does not fit was run")
	}
	if b, _ := os.ReadFile(hosts[0]); bytes.HasPrefix(b, []byte("#!")) {
		t.Error("the kept host that did not fit was not replaced")
	}
}

// TestPrepareForTheFirstKernel: after Prepare (fair kernel install), the
// first kernel on the machine copies the host and lists nothing.
func TestPrepareForTheFirstKernel(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build Go plugins (cgo); install gcc")
	}
	shared := t.TempDir()
	ctx := context.Background()
	if err := Prepare(ctx, shared); err != nil {
		t.Fatal(err)
	}
	k := runKernel(t, t.TempDir(), shared, "import \"fmt\"\nfmt.Println(\"first\")", "first\n", nil)
	if !k.copied || k.listed != 0 {
		t.Errorf("host copied %v (want true), go list ran %d times (want 0)", k.copied, k.listed)
	}
}

// kernelStart is what a kernel's start and first cell did.
type kernelStart struct {
	copied        bool // the host came from the shared folder
	listed, built int  // go list runs, direct builds
}

// runKernel starts a kernel in work folder dir (shared: the shared folder,
// "" none), runs code as its first cell, checks its output and closes it.
// change runs between preparing the module and starting.
func runKernel(t *testing.T, dir, shared, code, want string, change func()) kernelStart {
	t.Helper()
	opts := []ExecOption{WithCellDir(t.TempDir())}
	if shared != "" {
		opts = append(opts, WithSharedDir(shared))
	}
	ex, err := NewExecutor(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	if change != nil {
		change()
	}
	ctx := context.Background()
	if err := ex.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cell, err := notebook.Parse(code)
	if err != nil {
		t.Fatal(err)
	}
	var out bufOut
	if err := ex.Run(ctx, cell, 1, &out); err != nil || out.String() != want {
		t.Fatalf("%q: %v, output %q, want %q", code, err, out.String(), want)
	}
	ex.direct.mu.Lock()
	defer ex.direct.mu.Unlock()
	return kernelStart{copied: ex.hostCopied.Load(), listed: ex.direct.listed, built: ex.direct.built}
}
