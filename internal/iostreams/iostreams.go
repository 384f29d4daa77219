// Package iostreams carries the standard streams of a command so that
// commands can be run against buffers in tests and against a notebook cell
// in the kernel.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes.
// Out gets results only (an image reference, a table); Err gets progress.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	// ErrTTY reports whether Err is a terminal, to choose progress bars
	// over plain progress lines.
	ErrTTY bool
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrTTY: isTerminal(os.Stderr)}
}

// Test returns streams backed by buffers, and the buffers.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, Err: errOut}, in, out, errOut
}

// isTerminal asks the terminal driver (a character device such as
// /dev/null is not a terminal); TERM=dumb turns redraws off.
func isTerminal(f *os.File) bool {
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
