// Command fair-sh is the shell fair gives sweep trial images that have
// none. Katib's metrics collector runs a trial's program as
//
//	sh -c "PROGRAM ARGS 1>/var/log/katib/metrics.log 2>&1 && echo completed > /var/log/katib/$$.pid"
//
// so an image built onto fair's static base (no shell) could not be a
// trial. fair adds this program as /fair/bin/sh with /fair/bin last on
// PATH: an image with a shell of its own keeps using it.
//
// It is a POSIX shell (mvdan.cc/sh) that runs external programs as any
// shell does; echo, test and redirections are built in, and head (Katib's
// early-stopping check) is done in this process.
//
// Under Katib it also waits for the collector: the sidecar looks for the
// trial's process once, when it starts, and fails the trial when that
// process has already ended ("unable to find main pid"), which a program
// of a few milliseconds does. So this shell starts the program once the
// collector runs and stays until it has been up for a moment.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run takes "-c SCRIPT [NAME ARGS...]" and returns the exit status.
func run(ctx context.Context, args []string) int {
	if len(args) < 2 || args[0] != "-c" {
		fmt.Fprintln(os.Stderr, "usage: sh -c SCRIPT [ARG...] (fair's trial shell runs scripts given with -c only)")
		return 2
	}
	file, err := syntax.NewParser().Parse(strings.NewReader(args[1]), "sh")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 2
	}
	if strings.Contains(args[1], katibDir) {
		defer waitCollector("/proc", 2*time.Minute, time.Second)()
	}
	params := []string{"--"}
	if len(args) > 3 {
		params = append(params, args[3:]...) // $0 is args[2], as in sh -c
	}
	r, err := interp.New(
		interp.StdIO(os.Stdin, os.Stdout, os.Stderr),
		interp.Params(params...),
		interp.ExecHandlers(func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			return func(ctx context.Context, args []string) error {
				if args[0] == "head" {
					return head(ctx, args)
				}
				return next(ctx, args)
			}
		}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 2
	}
	err = r.Run(ctx, file)
	var status interp.ExitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 1
	}
	return 0
}

// katibDir is where Katib's wrapper sends a trial's output.
const katibDir = "/var/log/katib/"

// waitCollector waits (at most max) until Katib's metrics collector runs
// in the pod's shared process namespace (proc), and returns a function
// that waits until it has run for at least settle: by then it has taken
// this process as the trial's.
func waitCollector(proc string, max, settle time.Duration) func() {
	deadline := time.Now().Add(max)
	for {
		if collectorRunning(proc) {
			seen := time.Now()
			return func() { time.Sleep(time.Until(seen.Add(settle))) }
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "sh: Katib's metrics collector did not start; running the trial anyway")
			return func() {}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collectorRunning reports a process whose command line has the
// collector's -s-db flag (the DB manager's address, which Katib always
// passes it).
func collectorRunning(proc string) bool {
	dirs, err := os.ReadDir(proc)
	if err != nil {
		return false
	}
	self := strconv.Itoa(os.Getpid())
	for _, d := range dirs {
		if d.Name() == self || d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join(proc, d.Name(), "cmdline"))
		if err == nil && strings.Contains("\x00"+string(b), "\x00-s-db\x00") {
			return true
		}
	}
	return false
}

// head prints the first lines of a file: "head [-n N] FILE".
func head(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	n, rest := 10, args[1:]
	if len(rest) >= 2 && rest[0] == "-n" {
		v, err := strconv.Atoi(rest[1])
		if err != nil || v < 0 {
			fmt.Fprintf(hc.Stderr, "head: invalid number of lines: %q\n", rest[1])
			return interp.ExitStatus(1)
		}
		n, rest = v, rest[2:]
	}
	if len(rest) != 1 {
		fmt.Fprintln(hc.Stderr, "usage: head [-n N] FILE")
		return interp.ExitStatus(1)
	}
	p := rest[0]
	if !filepath.IsAbs(p) {
		p = filepath.Join(hc.Dir, p)
	}
	f, err := os.Open(p)
	if err != nil {
		fmt.Fprintf(hc.Stderr, "head: %v\n", err)
		return interp.ExitStatus(1)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; i < n && sc.Scan(); i++ {
		fmt.Fprintln(hc.Stdout, sc.Text())
	}
	return nil
}
