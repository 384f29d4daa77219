// Package nb is the runtime a Go notebook cell sees inside the fair kernel:
// the cell's context (cancelled when the user presses stop), the channel to
// the kernel used by the display package, and the helpers the kernel's
// generated code calls. Outside the kernel (a program built from the
// notebook) the context is cancelled on os.Interrupt and display output is
// dropped, so the same code runs unchanged.
package nb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
)

// FDEnv names the environment variable holding the file descriptor on
// which the kernel host reads messages from cells.
const FDEnv = "FAIR_KERNEL_FD"

var (
	mu     sync.Mutex
	out    *os.File
	ctx    context.Context
	cancel context.CancelFunc
	inited bool
)

func setup() {
	if inited {
		return
	}
	inited = true
	if s := os.Getenv(FDEnv); s != "" {
		if fd, err := strconv.Atoi(s); err == nil {
			out = os.NewFile(uintptr(fd), "fair-kernel")
		}
	}
	if out == nil {
		// A program built from the notebook: the context ends on Ctrl-C.
		ctx, cancel = signal.NotifyContext(context.Background(), os.Interrupt)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
}

// InKernel reports whether the code runs inside the fair kernel.
func InKernel() bool {
	mu.Lock()
	defer mu.Unlock()
	setup()
	return out != nil
}

// Context returns the running cell's context. The kernel cancels it when
// the user interrupts the cell; long loops should watch it.
func Context() context.Context {
	mu.Lock()
	defer mu.Unlock()
	setup()
	return ctx
}

// Message is one message from a cell to the kernel.
type Message struct {
	Type      string         `json:"type"` // display, update, result, done, input, comm
	Data      map[string]any `json:"data,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	DisplayID string         `json:"display_id,omitempty"`
	// Fields used by the host for cell completion and other requests.
	Cell  int               `json:"cell,omitempty"`
	Error *CellError        `json:"error,omitempty"`
	Vars  map[string]string `json:"vars,omitempty"`
	Text  string            `json:"text,omitempty"`
}

// CellError describes a cell that failed while running.
type CellError struct {
	Name      string   `json:"ename"`
	Value     string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// Renderer renders values and encodes messages for the kernel. The kernel
// host installs one (package render) when it starts; cells, which share
// this package with the host, reach it through Bundle, Result and Emit
// without linking encoding/json or image/png into every cell's plugin.
type Renderer interface {
	Bundle(v any) map[string]any
	Text(v any) string
	Encode(m Message) ([]byte, error)
}

var renderer Renderer

// SetRenderer installs r. It is called by the kernel host, not by cells.
func SetRenderer(r Renderer) {
	mu.Lock()
	defer mu.Unlock()
	renderer = r
}

func current() Renderer {
	mu.Lock()
	defer mu.Unlock()
	return renderer
}

// Bundle renders v as a Jupyter MIME bundle (see package render); without
// a renderer (outside the kernel) it is v as text.
func Bundle(v any) map[string]any {
	if r := current(); r != nil {
		return r.Bundle(v)
	}
	return map[string]any{"text/plain": fmt.Sprint(v)}
}

func text(v any) string {
	if r := current(); r != nil {
		return r.Text(v)
	}
	return fmt.Sprint(v)
}

// Emit sends m to the kernel. Outside the kernel it does nothing.
func Emit(m Message) error {
	mu.Lock()
	defer mu.Unlock()
	setup()
	if out == nil {
		return nil
	}
	if renderer == nil {
		return errors.New("the kernel host installed no renderer")
	}
	b, err := renderer.Encode(m)
	if err != nil {
		return fmt.Errorf("encode message for the kernel: %w", err)
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// BeginCell gives the next cell a fresh context. It is called by the
// kernel host, not by cells.
func BeginCell() {
	mu.Lock()
	defer mu.Unlock()
	setup()
	ctx, cancel = context.WithCancel(context.Background())
}

// Interrupt cancels the running cell's context. It is called by the kernel
// host when the user interrupts.
func Interrupt() {
	mu.Lock()
	defer mu.Unlock()
	setup()
	cancel()
}

// Stmt runs top-level statements of a cell; the kernel's generated code
// calls it so that statements run in cell order among declarations.
func Stmt(f func()) int { f(); return 0 }

// MainHook, when set (the kernel's host sets it), runs a cell's func main:
// it gives main the flags earlier cells defined, as a program's main has
// its packages', and keeps those main defines to that run.
var MainHook func(main func())

// Main runs a cell's func main.
func Main(main func()) int {
	if MainHook != nil {
		MainHook(main)
	} else {
		main()
	}
	return 0
}

// Result shows the values of a cell's trailing expression as the cell's
// result.
func Result(v ...any) int {
	if len(v) == 0 {
		return 0
	}
	var b map[string]any
	if len(v) == 1 && v[0] == nil {
		// A call's nil error (display.Image(img), os.Remove(f)) or a nil
		// interface shows nothing, as None in IPython.
		return 0
	}
	if _, shown := v[0].(interface{ FairShown() }); len(v) == 1 && shown {
		return 0 // display.HTML(...) and friends: in the cell already
	}
	if len(v) == 1 {
		b = Bundle(v[0])
	} else {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = text(x)
		}
		b = map[string]any{"text/plain": strings.Join(parts, " ")}
	}
	if !InKernel() {
		return 0
	}
	_ = Emit(Message{Type: "result", Data: b})
	return 0
}
