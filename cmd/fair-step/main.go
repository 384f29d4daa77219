// Command fair-step is the runtime fair adds to every pipeline step image:
//
//	fair-step run --repo REPO --run RUN --step NAME [--insecure] [--dir /tmp/fair] \
//	    [--in NAME=REF]... [--in-value NAME=VALUE]... \
//	    [--out NAME[=PARAMFILE]]... [--out-value NAME[=PARAMFILE]]... -- COMMAND [ARGS...]
//
// It pulls the inputs from the registry, runs COMMAND, and pushes the
// outputs (see package github.com/fair-go/fair/pipeline/step).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/pipeline/step"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: fair-step run --repo REPO --run RUN --step NAME [--in NAME=REF]... [--out NAME]... -- COMMAND...")
		os.Exit(2)
	}
	var c step.Config
	var ins, inValues, outs, outValues list
	fs := flag.NewFlagSet("fair-step run", flag.ExitOnError)
	fs.StringVar(&c.Repo, "repo", "", "artifact repository")
	fs.StringVar(&c.Run, "run", "", "workflow run name")
	fs.StringVar(&c.Step, "step", "", "step name")
	fs.StringVar(&c.Dir, "dir", "/tmp/fair", "folder for inputs, outputs and parameters")
	fs.BoolVar(&c.Artifact.Insecure, "insecure", false, "reach the registry over plain HTTP")
	fs.Var(&ins, "in", "NAME=REF artifact input")
	fs.Var(&inValues, "in-value", "NAME=VALUE value input")
	fs.Var(&outs, "out", "NAME[=PARAMFILE] artifact output")
	fs.Var(&outValues, "out-value", "NAME[=PARAMFILE] value output")
	_ = fs.Parse(os.Args[2:])
	c.Command = fs.Args()
	if c.Repo == "" || c.Run == "" || c.Step == "" {
		fail(errors.New("--repo, --run and --step are required"))
	}
	for _, group := range []struct {
		l     list
		value bool
	}{{ins, false}, {inValues, true}} {
		for _, s := range group.l {
			n, v, ok := strings.Cut(s, "=")
			if !ok || n == "" {
				fail(fmt.Errorf("input %q: want NAME=VALUE", s))
			}
			c.Inputs = append(c.Inputs, step.Input{Name: n, Ref: v, Value: group.value})
		}
	}
	for _, group := range []struct {
		l     list
		value bool
	}{{outs, false}, {outValues, true}} {
		for _, s := range group.l {
			n, pf, _ := strings.Cut(s, "=")
			c.Outputs = append(c.Outputs, step.Output{Name: n, ParamFile: pf, Value: group.value})
		}
	}
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	c.Artifact.Remote = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := step.Run(ctx, c); err != nil {
		var ee *step.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.Code)
		}
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fair-step:", err)
	os.Exit(1)
}
