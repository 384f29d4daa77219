// Package step is the runtime inside every pipeline step's container: it
// pulls the step's inputs from the registry, runs the user's program with
// their paths in the environment, and pushes its outputs back, keyed by run
// and step. cmd/fair-step is its command line.
//
// Inside the step, input NAME is at $FAIR_IN_NAME and output NAME is to be
// written at $FAIR_OUT_NAME (a file or a directory). NAME is the name as
// declared and, where that differs, its upper-case form: output data is at
// both $FAIR_OUT_data and $FAIR_OUT_DATA.
package step

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fair-go/fair/internal/bytesize"
	"github.com/fair-go/fair/pipeline/artifact"
)

// appendEnv sets prefix+name, and prefix+NAME where the upper-case form
// differs: environment variables are upper case by convention, so a
// program reads $FAIR_OUT_DATA for output data as often as $FAIR_OUT_data.
func appendEnv(env []string, prefix, name, value string) []string {
	env = append(env, prefix+name+"="+value)
	if up := strings.ToUpper(name); up != name {
		env = append(env, prefix+up+"="+value)
	}
	return env
}

// MaxValue is the largest value output passed as a workflow parameter;
// bigger data belongs in an artifact output. A value reaches the next step
// as one command-line argument, and Linux allows 128 KiB for one: 64 KiB
// leaves room for its flag and any escaping.
const MaxValue = 64 << 10

// Input is an input of the step: an artifact reference by digest, or a
// small value.
type Input struct {
	Name, Ref string
	Value     bool
}

// Output is an output of the step; its reference (or value) goes to
// ParamFile, where the workflow engine reads it.
type Output struct {
	Name, ParamFile string
	Value           bool
}

// Config is one step run.
type Config struct {
	Repo     string // artifact repository
	Run      string // workflow run name, part of each output's tag
	Step     string
	Dir      string // working folder: in/, out/, params/
	Inputs   []Input
	Outputs  []Output
	Command  []string
	Artifact artifact.Options
	Stdout   io.Writer
	Stderr   io.Writer // the program's stderr and the runtime's progress
}

// ExitError carries the program's exit status.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("step program exited with status %d", e.Code) }

// Exec runs command with env, stopping it with an interrupt (then a kill
// after 10 s) when ctx ends. A program that fails returns *ExitError with
// its status (128 when a signal ended it).
func Exec(ctx context.Context, command, env []string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code := ee.ExitCode()
			if code < 0 {
				code = 128
			}
			return &ExitError{Code: code}
		}
		return fmt.Errorf("run %s: %v", command[0], err)
	}
	return nil
}

// Run pulls, runs and pushes. A failing program returns *ExitError and
// pushes nothing.
func Run(ctx context.Context, c Config) error {
	if len(c.Command) == 0 {
		return errors.New("no command to run")
	}
	for _, sub := range []string{"in", "out", "params"} {
		// World-writable: images often run as a non-root user.
		if err := os.MkdirAll(filepath.Join(c.Dir, sub), 0o777); err != nil {
			return err
		}
		_ = os.Chmod(filepath.Join(c.Dir, sub), 0o777)
	}
	env := os.Environ()
	env = append(env, "FAIR_RUN="+c.Run, "FAIR_STEP="+c.Step)
	for _, in := range c.Inputs {
		dest := filepath.Join(c.Dir, "in", in.Name)
		if in.Value {
			if err := os.WriteFile(dest, []byte(in.Ref), 0o644); err != nil {
				return err
			}
		} else {
			start := time.Now()
			if err := artifact.Pull(ctx, in.Ref, dest, c.Artifact); err != nil {
				return fmt.Errorf("input %s: %v", in.Name, err)
			}
			c.logf("pulled input %s (%s) in %.2fs", in.Name, bytesize.Format(bytesize.Of(dest)), time.Since(start).Seconds())
		}
		env = appendEnv(env, "FAIR_IN_", in.Name, dest)
	}
	for _, out := range c.Outputs {
		env = appendEnv(env, "FAIR_OUT_", out.Name, filepath.Join(c.Dir, "out", out.Name))
	}

	if err := Exec(ctx, c.Command, env, c.Stdout, c.Stderr); err != nil {
		return err
	}

	for _, out := range c.Outputs {
		src := filepath.Join(c.Dir, "out", out.Name)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("output %s: the program did not write $FAIR_OUT_%s (%s)", out.Name, strings.ToUpper(out.Name), src)
		}
		var param []byte
		if out.Value {
			b, err := os.ReadFile(src)
			if err != nil {
				return fmt.Errorf("output %s: %v (a value output is a file; use an artifact output for directories)", out.Name, err)
			}
			if len(b) > MaxValue {
				return fmt.Errorf("output %s: %d bytes is too big for a value (max %d); declare it as an artifact output", out.Name, len(b), MaxValue)
			}
			param = []byte(strings.TrimRight(string(b), "\r\n"))
		} else {
			start := time.Now()
			ref, err := artifact.Push(ctx, src, c.Repo+":"+Tag(c.Run, c.Step, out.Name), c.Artifact)
			if err != nil {
				return fmt.Errorf("output %s: %v", out.Name, err)
			}
			c.logf("pushed output %s (%s) in %.2fs: %s", out.Name, bytesize.Format(bytesize.Of(src)), time.Since(start).Seconds(), ref)
			param = []byte(ref)
		}
		pf := out.ParamFile
		if pf == "" {
			pf = filepath.Join(c.Dir, "params", out.Name)
		}
		if err := os.MkdirAll(filepath.Dir(pf), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(pf, param, 0o644); err != nil {
			return fmt.Errorf("output %s: %v", out.Name, err)
		}
	}
	return nil
}

func (c Config) logf(format string, args ...any) {
	if c.Stderr != nil {
		fmt.Fprintf(c.Stderr, "fair-step: "+format+"\n", args...)
	}
}

var tagUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Tag is the registry tag of an output: run, step and output name, made
// safe for a tag and at most 128 characters.
func Tag(run, step, output string) string {
	t := tagUnsafe.ReplaceAllString(run+"."+step+"."+output, "-")
	t = strings.TrimLeft(t, ".-")
	if t == "" {
		t = "output"
	}
	if len(t) > 128 {
		t = t[len(t)-128:]
		t = strings.TrimLeft(t, ".-")
	}
	return t
}
