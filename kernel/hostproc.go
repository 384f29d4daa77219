package kernel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fair-go/fair/kernel/nb"
)

// The host process: the long-lived program that loads each compiled cell
// as a plugin and runs it, and the pipes between it and the kernel.

// outBudget caps a cell's stream output.
type outBudget struct {
	mu     sync.Mutex
	left   int64
	warned bool
	out    Output
}

// display sends a display message, counted against the same budget as
// the cell's streams.
func (b *outBudget) display(m nb.Message) {
	size := int64(len(m.DisplayID) + 64)
	for k, v := range m.Data {
		size += int64(len(k))
		if s, ok := v.(string); ok {
			size += int64(len(s))
		} else if raw, err := json.Marshal(v); err == nil {
			size += int64(len(raw))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if size > b.left {
		b.left = 0
		if !b.warned {
			b.warned = true
			b.out.Stream("stderr", "\n[fair: output limit reached; further output of this cell is dropped]\n")
		}
		return
	}
	b.left -= size
	b.out.Display(m)
}

func (b *outBudget) write(name string, p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left <= 0 {
		if !b.warned {
			b.warned = true
			b.out.Stream("stderr", "\n[fair: output limit reached; further output of this cell is dropped]\n")
		}
		return
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	b.left -= int64(len(p))
	b.out.Stream(name, string(p))
}

// hostProc is a running host process.
type hostProc struct {
	cmd        *exec.Cmd
	cmdW       *os.File
	events     chan nb.Message
	done       chan struct{}
	stderr     *tailBuffer
	background *atomic.Value // the executor's; output between cells

	mu       sync.Mutex
	sink     *outBudget
	bgLeft   int64 // background output allowed until the next cell
	bgWarned bool
	// seen holds, per stream, the sequence number of the last end
	// marker read; marked is signalled when it changes.
	seen    map[string]int64
	marked  chan struct{}
	lastSeq int64
	waitErr error
	gonb    *gonbBridge // GoNB's display pipes, nil if they could not be made
}

// startHost starts the host in dir; GoNB's pipes are made in runDir,
// which Close empties (a killed kernel cannot remove them).
func startHost(bin, dir, runDir string, background *atomic.Value) (*hostProc, error) {
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{cmdR, evW}
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.Env = append(os.Environ(), nb.FDEnv+"=4")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	h := &hostProc{cmd: cmd, cmdW: cmdW, events: make(chan nb.Message, 64), done: make(chan struct{}),
		seen: map[string]int64{}, marked: make(chan struct{}, 1), stderr: &tailBuffer{max: 4096}, background: background, bgLeft: backgroundLimit}
	if g, env, err := newGoNB(runDir, dir, h.event); err == nil {
		h.gonb = g
		cmd.Env = append(cmd.Env, env...)
	}
	if err := cmd.Start(); err != nil {
		if h.gonb != nil {
			h.gonb.close()
		}
		return nil, fmt.Errorf("start the kernel host: %w", err)
	}
	for _, f := range []*os.File{cmdR, evW, outW, errW} {
		f.Close()
	}
	go h.readEvents(evR)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.readStream("stdout", outR) }()
	go func() { defer wg.Done(); h.readStream("stderr", errR) }()
	go func() {
		err := cmd.Wait()
		// A child the host started (with setsid, out of its group) may
		// still hold the output pipes: give the readers a moment to
		// drain, then close them, so a dead host is seen as dead.
		drained := make(chan struct{})
		go func() { wg.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(2 * time.Second):
			outR.Close()
			errR.Close()
			<-drained
		}
		h.mu.Lock()
		h.waitErr = err
		h.mu.Unlock()
		close(h.done)
		if h.gonb != nil {
			h.gonb.close()
		}
	}()
	return h, nil
}

// event hands a message to the running cell, as the host's own are.
func (h *hostProc) event(m nb.Message) {
	select {
	case h.events <- m:
	case <-h.done:
	}
}

// drainDisplays, once the host reported a cell done, waits until what the
// cell wrote to GoNB's pipe is read, and shows the displays still queued.
func (h *hostProc) drainDisplays(show func(nb.Message)) {
	if h.gonb == nil {
		return
	}
	h.gonb.drain()
	for {
		select {
		case m := <-h.events:
			if m.Type == "display" || m.Type == "update" {
				show(m)
			}
		default:
			return
		}
	}
}

func (h *hostProc) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

func (h *hostProc) exitReason() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := fmt.Sprint(h.waitErr)
	if h.waitErr == nil {
		s = "exit status 0 (os.Exit(0) in a cell?)"
	}
	// The dump's first line says what happened; its end is what the tail
	// holds.
	head := h.stderr.Head()
	if m := crashLine.FindString(head); m != "" {
		s += ": " + m
		if at := cellFrame.FindString(head); at != "" {
			s += " (at " + at + ")"
		}
	}
	if t := strings.TrimSpace(h.stderr.String()); t != "" {
		s += "\n" + t
	}
	return s
}

var (
	crashLine = regexp.MustCompile(`(?m)^(fatal error|panic): .*$`)
	cellFrame = regexp.MustCompile(`In\[\d+\]:\d+`)
)

// stop kills the host and everything in its process group (the children
// a cell started, such as !shell commands or programs it ran).
func (h *hostProc) stop() {
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	_ = h.cmd.Process.Kill()
	<-h.done
	h.cmdW.Close()
}

func (h *hostProc) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err = h.cmdW.Write(append(b, '\n'))
	return err
}

func (h *hostProc) setSink(s *outBudget) {
	h.mu.Lock()
	h.sink = s
	if s != nil {
		h.bgLeft, h.bgWarned = backgroundLimit, false
	}
	h.mu.Unlock()
	if s != nil {
		// Why the host exits is told from what it wrote since this cell
		// began, not from earlier cells' output.
		h.stderr.Reset()
	}
}

// nextSeq numbers a command whose end markers the kernel waits for.
func (h *hostProc) nextSeq() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastSeq++
	return h.lastSeq
}

// waitMarkers waits until stdout and stderr both carried command seq's
// end marker, or d passed. Markers of earlier commands do not count: one
// that came late must not end this cell before its output is read.
func (h *hostProc) waitMarkers(seq int64, d time.Duration) {
	deadline := time.After(d)
	for {
		h.mu.Lock()
		ok := h.seen["stdout"] >= seq && h.seen["stderr"] >= seq
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-h.marked:
		case <-deadline:
			return
		}
	}
}

func (h *hostProc) readEvents(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for sc.Scan() {
		var m nb.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err == nil {
			h.events <- m
		}
	}
}

// readStream forwards a host stream to the current cell, cutting out the
// end-of-cell markers.
func (h *hostProc) readStream(name string, r io.ReadCloser) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			for {
				i, end, seq := findMarker(pending)
				if i < 0 {
					break
				}
				h.emit(name, pending[:i])
				pending = pending[end:]
				h.mu.Lock()
				if seq > h.seen[name] {
					h.seen[name] = seq
				}
				h.mu.Unlock()
				select {
				case h.marked <- struct{}{}:
				default:
				}
			}
			keep := partialMarker(pending)
			h.emit(name, pending[:len(pending)-keep])
			pending = append([]byte(nil), pending[len(pending)-keep:]...)
		}
		if err != nil {
			h.emit(name, pending)
			return
		}
	}
}

// findMarker finds a whole end marker in p: where it starts, where it
// ends, and its sequence number; i is -1 when there is none.
func findMarker(p []byte) (i, end int, seq int64) {
	from := 0
	for {
		j := bytes.Index(p[from:], []byte(hostMarker))
		if j < 0 {
			return -1, 0, 0
		}
		j += from
		rest := p[j+len(hostMarker):]
		k := bytes.IndexByte(rest, 0)
		if k < 0 {
			return -1, 0, 0 // not all here yet
		}
		if n, err := strconv.ParseInt(string(rest[:k]), 10, 64); err == nil {
			return j, j + len(hostMarker) + k + 1, n
		}
		from = j + 1 // a look-alike in the cell's output
	}
}

// partialMarker is how many bytes at the end of p may begin an end marker
// whose rest has not been read yet; they wait for the next read.
func partialMarker(p []byte) int {
	j := bytes.LastIndexByte(p, 0)
	if j < 0 {
		return 0
	}
	tail := p[j:]
	if len(tail) <= len(hostMarker) {
		if bytes.HasPrefix([]byte(hostMarker), tail) {
			return len(tail)
		}
		return 0
	}
	if rest := tail[len(hostMarker):]; bytes.HasPrefix(tail, []byte(hostMarker)) && len(rest) <= 20 && isDigits(rest) {
		return len(tail)
	}
	return 0
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (h *hostProc) emit(name string, p []byte) {
	if len(p) == 0 {
		return
	}
	if name == "stderr" {
		h.stderr.Write(p)
	}
	h.mu.Lock()
	s := h.sink
	h.mu.Unlock()
	if s != nil {
		s.write(name, p)
		return
	}
	lastSink := h.background.Load()
	if lastSink == nil {
		return
	}
	// Output of goroutines between cells goes to the kernel's background
	// writer (the last cell), up to backgroundLimit bytes until the next
	// cell runs: a goroutine printing in a loop cannot flood the notebook.
	h.mu.Lock()
	left := h.bgLeft
	if int64(len(p)) > left {
		p = p[:max(left, 0)]
	}
	h.bgLeft -= int64(len(p))
	note := h.bgLeft <= 0 && !h.bgWarned
	if note {
		h.bgWarned = true
	}
	h.mu.Unlock()
	if len(p) > 0 {
		lastSink.(func(string, string))(name, string(p))
	}
	if note {
		lastSink.(func(string, string))("stderr", "\n[fair: background output limit reached; more is dropped until the next cell runs]\n")
	}
}

// backgroundLimit bounds the output goroutines write between two cells.
const backgroundLimit = 1 << 20

// tailBuffer keeps the last max bytes written, and the first max/2 since
// Reset: where a crash's dump begins (fatal error: stack overflow) and
// where it ends.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	b, head []byte
}

func (t *tailBuffer) Write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := min(len(p), t.max/2-len(t.head)); n > 0 {
		t.head = append(t.head, p[:n]...)
	}
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
}

func (t *tailBuffer) Reset() {
	t.mu.Lock()
	t.b, t.head = t.b[:0], t.head[:0]
	t.mu.Unlock()
}

// Head is what was written first since Reset.
func (t *tailBuffer) Head() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
