// Command fair-modelcar is the shell of fair's KServe modelcar images
// (fair serve --kind kserve --model NAME on a cluster whose KServe has
// enableModelcar on). KServe runs a modelcar image twice in the
// predictor's pod, as "sh -c SCRIPT": an init container that checks /models
// is there, and a sidecar that links /proc/$$/root/models to /mnt/models
// and sleeps, so the server reads the model from the image with no copy.
// Model images need no base with a shell: this program is /bin/sh there.
//
// It is a POSIX shell (mvdan.cc/sh) whose only external commands are the
// ones those scripts use, done in this process: ln, mkdir, sleep, ls. $$
// is this process, whose root holds /models.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run takes "-c SCRIPT" (also after a leading "sh", for an image whose
// entrypoint is this program) and returns the exit status.
func run(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "sh" {
		args = args[1:]
	}
	if len(args) < 2 || args[0] != "-c" {
		fmt.Fprintln(os.Stderr, "usage: sh -c SCRIPT (fair's modelcar shell runs KServe's modelcar scripts only)")
		return 2
	}
	return script(ctx, args[1], args[2:])
}

// script runs src with positional parameters params.
func script(ctx context.Context, src string, params []string) int {
	file, err := syntax.NewParser().Parse(strings.NewReader(src), "sh")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 2
	}
	r, err := interp.New(
		interp.StdIO(nil, os.Stdout, os.Stderr),
		interp.Params(append([]string{"--"}, params...)...),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return commands }),
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
		if ctx.Err() != nil {
			return 0 // stopped by the kubelet: a sidecar's normal end
		}
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 1
	}
	return 0
}
