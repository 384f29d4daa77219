package kernel

// GoNB's display protocol, so that notebooks written for GoNB show what
// they display with github.com/janpfeifer/gonb/gonbui (DisplayHTML,
// DisplayMarkdown, DisplayPNG, DisplaySVG, UpdateHTML, Sync...) with the
// gonbui package itself, unchanged. gonbui writes gob-encoded DisplayData
// values to the named pipe $GONB_PIPE and reads replies (CommValue) from
// $GONB_PIPE_BACK. The kernel, not the host, owns both pipes: the host
// links nothing more (its link is part of a new kernel's first cell), and
// the values join the host's own displays on their way to the cell.

import (
	"encoding/base64"
	"encoding/gob"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/fair-go/fair/kernel/nb"
)

// gonbDisplay has the fields of gonbui's protocol.DisplayData; gob
// matches fields by name. Values of a type gob does not know here
// (gonbui's CommValue, for Sync) arrive as a *gonbComm: gonbui registers
// them under its package path, which gonbTypes registers here too.
type gonbDisplay struct {
	Data      map[string]any
	Metadata  map[string]any
	DisplayID string
}

// gonbComm has the fields of gonbui's protocol.CommValue.
type gonbComm struct {
	Address string
	Request bool
	Value   any
}

const gonbProtocol = "github.com/janpfeifer/gonb/gonbui/protocol."

var gonbTypes sync.Once

// gonbBridge relays one host's gonbui values.
type gonbBridge struct {
	dir     string
	pipe    *os.File
	fd      uintptr     // the pipe's, for the count of bytes not read yet
	reading atomic.Bool // blocked reading the pipe, between values
	back    *os.File
	enc     *gob.Encoder
	shown   map[string]bool // display ids already shown (reader only)
}

// newGoNB makes the pipes in dir and returns the variables that name them
// for the host, whose cells' gonbui reads them when it starts. emit
// receives each value as a display or update message.
func newGoNB(dir, cellsDir string, emit func(nb.Message)) (*gonbBridge, []string, error) {
	gonbTypes.Do(func() {
		gob.RegisterName(gonbProtocol+"CommValue", gonbComm{})
		gob.RegisterName(gonbProtocol+"CommSubscription", struct {
			Address     string
			Unsubscribe bool
		}{})
		gob.RegisterName(gonbProtocol+"InputRequest", struct {
			Prompt   string
			Password bool
		}{})
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	d, err := os.MkdirTemp(dir, "gonb-")
	if err != nil {
		return nil, nil, err
	}
	in, back := filepath.Join(d, "pipe"), filepath.Join(d, "pipe_back")
	for _, p := range []string{in, back} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			os.RemoveAll(d)
			return nil, nil, err
		}
	}
	// Read-write opens do not wait for the other end (Linux), and keep
	// each pipe open across programs that open and close theirs.
	r, err := os.OpenFile(in, os.O_RDWR, 0)
	if err != nil {
		os.RemoveAll(d)
		return nil, nil, err
	}
	w, err := os.OpenFile(back, os.O_RDWR, 0)
	if err != nil {
		r.Close()
		os.RemoveAll(d)
		return nil, nil, err
	}
	g := &gonbBridge{dir: d, pipe: r, fd: r.Fd(), back: w, enc: gob.NewEncoder(w), shown: map[string]bool{}}
	go g.read(emit)
	env := []string{"GONB_PIPE=" + in, "GONB_PIPE_BACK=" + back, "GONB_DIR=" + cellsDir, "GONB_TMP_DIR=" + d}
	return g, env, nil
}

// unbuffered is a ByteReader, so that gob reads no further than the value
// it decodes: what is left in the pipe is what is not shown yet.
type unbuffered struct{ g *gonbBridge }

func (u unbuffered) Read(p []byte) (int, error) {
	u.g.reading.Store(true)
	n, err := u.g.pipe.Read(p)
	u.g.reading.Store(false)
	return n, err
}

func (u unbuffered) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(u, b[:])
	return b[0], err
}

func (g *gonbBridge) read(emit func(nb.Message)) {
	dec := gob.NewDecoder(unbuffered{g})
	for failed := 0; failed < 10; {
		var d gonbDisplay
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return
			}
			emit(nb.Message{Type: "display", Data: map[string]any{"text/plain": "fair: a GoNB display could not be read: " + err.Error()}})
			failed++
			continue
		}
		failed = 0
		if m, ok := g.message(d); ok {
			emit(m)
		}
	}
}

// message turns a gonbui value into a display, or an update of the
// display with its id when that was shown before.
func (g *gonbBridge) message(d gonbDisplay) (nb.Message, bool) {
	data := map[string]any{}
	for mime, v := range d.Data {
		switch x := v.(type) {
		case string:
			data[mime] = x
		case []byte: // PNG and other images, raw
			data[mime] = base64.StdEncoding.EncodeToString(x)
		default:
			g.reply(x)
		}
	}
	if len(data) == 0 {
		return nb.Message{}, false
	}
	m := nb.Message{Type: "display", Data: data, Metadata: d.Metadata, DisplayID: d.DisplayID}
	if d.DisplayID != "" {
		if g.shown[d.DisplayID] {
			m.Type = "update"
		}
		g.shown[d.DisplayID] = true
	}
	return m, true
}

// reply answers gonbui.Sync, which waits for it; widgets and input
// requests, which need GoNB's front-end code, are not answered.
func (g *gonbBridge) reply(v any) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return
	}
	addr, val := rv.FieldByName("Address"), rv.FieldByName("Value")
	if !addr.IsValid() || addr.String() != "#gonbui/sync" || !val.IsValid() {
		return
	}
	_ = g.enc.Encode(gonbComm{Address: "#gonbui/sync_ack", Value: val.Interface()})
}

// drain waits, for at most a second, until what the cell wrote to the
// pipe has been read and handed on, so that it belongs to the cell.
func (g *gonbBridge) drain() {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var n int32
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, g.fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
		if errno != 0 || (n == 0 && g.reading.Load()) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (g *gonbBridge) close() {
	g.pipe.Close()
	g.back.Close()
	os.RemoveAll(g.dir)
}
