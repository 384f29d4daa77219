package main

// GoNB's display protocol, so that notebooks written for GoNB show what
// they display with github.com/janpfeifer/gonb/gonbui (DisplayHTML,
// DisplayMarkdown, DisplayPNG, DisplaySVG, UpdateHTML, Sync...) with the
// gonbui package itself, unchanged. gonbui writes gob-encoded DisplayData
// values to the named pipe $GONB_PIPE and reads replies (CommValue) from
// $GONB_PIPE_BACK; the host owns both pipes and turns each value into a
// display (or an update of a display by its id) of the running cell.

import (
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
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
// matches fields by name.
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

const (
	gonbSync    = "#gonbui/sync"
	gonbSyncAck = "#gonbui/sync_ack"
)

var gonb struct {
	pipe    *os.File
	fd      uintptr     // the pipe's, for the count of bytes not read yet
	reading atomic.Bool // blocked reading the pipe, between values
	back    *gob.Encoder
	mu      sync.Mutex
	shown   map[string]bool // display ids already shown
}

// startGoNB makes the pipes and sets GoNB's variables before any cell
// (and so gonbui's init, which reads them) runs. Without them gonbui's
// display functions do nothing, as outside GoNB.
func startGoNB() {
	// In the kernel's folder for the host's files, which the kernel
	// empties when it closes (a killed host cannot clean up).
	parent := os.Getenv("FAIR_HOST_DIR")
	if parent != "" {
		_ = os.MkdirAll(parent, 0o755)
	}
	dir, err := os.MkdirTemp(parent, "gonb-")
	if err != nil {
		return
	}
	in, back := filepath.Join(dir, "pipe"), filepath.Join(dir, "pipe_back")
	for _, p := range []string{in, back} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			return
		}
	}
	// Read-write opens do not wait for the other end (Linux), and keep
	// each pipe open when a program closes its end.
	r, err := os.OpenFile(in, os.O_RDWR, 0)
	if err != nil {
		return
	}
	w, err := os.OpenFile(back, os.O_RDWR, 0)
	if err != nil {
		return
	}
	gonb.pipe, gonb.fd, gonb.back, gonb.shown = r, r.Fd(), gob.NewEncoder(w), map[string]bool{}
	os.Setenv("GONB_PIPE", in)
	os.Setenv("GONB_PIPE_BACK", back)
	if wd, err := os.Getwd(); err == nil {
		os.Setenv("GONB_DIR", wd)
	}
	os.Setenv("GONB_TMP_DIR", dir)
	go readGoNB(gob.NewDecoder(unbuffered{r}))
}

// unbuffered is a ByteReader, so that gob reads no further than the value
// it decodes: what is left in the pipe is what is not shown yet.
type unbuffered struct{ f *os.File }

func (u unbuffered) Read(p []byte) (int, error) {
	gonb.reading.Store(true)
	n, err := u.f.Read(p)
	gonb.reading.Store(false)
	return n, err
}

func (u unbuffered) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(u, b[:])
	return b[0], err
}

func readGoNB(dec *gob.Decoder) {
	for failed := 0; failed < 10; {
		var d gonbDisplay
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return
			}
			fmt.Fprintln(os.Stderr, "fair: a GoNB display could not be read:", err)
			failed++
			continue
		}
		failed = 0
		showGoNB(d)
	}
}

func showGoNB(d gonbDisplay) {
	data := map[string]any{}
	for mime, v := range d.Data {
		switch x := v.(type) {
		case string:
			data[mime] = x
		case []byte: // PNG and other images, raw
			data[mime] = base64.StdEncoding.EncodeToString(x)
		default:
			replyGoNB(x)
		}
	}
	if len(data) == 0 {
		return
	}
	m := nb.Message{Type: "display", Data: data, Metadata: d.Metadata, DisplayID: d.DisplayID}
	if d.DisplayID != "" {
		gonb.mu.Lock()
		if gonb.shown[d.DisplayID] {
			m.Type = "update"
		}
		gonb.shown[d.DisplayID] = true
		gonb.mu.Unlock()
	}
	_ = nb.Emit(m)
}

// replyGoNB answers gonbui.Sync, which waits for it; widgets and input
// requests, which need GoNB's front-end code, are not answered.
func replyGoNB(v any) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return
	}
	addr := rv.FieldByName("Address")
	val := rv.FieldByName("Value")
	if !addr.IsValid() || addr.String() != gonbSync || !val.IsValid() {
		return
	}
	gonb.mu.Lock()
	defer gonb.mu.Unlock()
	_ = gonb.back.Encode(gonbComm{Address: gonbSyncAck, Value: val.Interface()})
}

// drainGoNB waits, for at most a second, until what the cell wrote to the
// pipe has been shown, so that it belongs to the cell.
func drainGoNB() {
	if gonb.pipe == nil {
		return
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		var n int32
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, gonb.fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
		if errno != 0 || (n == 0 && gonb.reading.Load()) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
