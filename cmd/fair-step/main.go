// Command fair-step is the runtime fair adds to images that run in pods:
// pipeline steps, training jobs that save a model, and servers' model
// pulls.
//
//	fair-step run --repo REPO --run RUN --step NAME [--insecure] [--dir /tmp/fair] \
//	    [--in NAME=REF]... [--in-value NAME=VALUE]... \
//	    [--out NAME[=PARAMFILE]]... [--out-value NAME[=PARAMFILE]]... -- COMMAND [ARGS...]
//
// pulls a step's inputs from the registry, runs COMMAND, and pushes its
// outputs (see package github.com/fair-go/fair/pipeline/step).
//
//	fair-step train --repo REGISTRY/models/NAME --tag RUN [--insecure] [--dir /tmp/fair/model] -- COMMAND [ARGS...]
//
// runs a training program with $FAIR_MODEL_DIR and, when it succeeds on
// rank 0 (or the only replica), saves what it wrote there as the model
// (see package github.com/fair-go/fair/models).
//
//	fair-step pull [--insecure] REF DIR
//
// unpacks model REF into DIR (a server's init container).
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
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/pipeline/step"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	if len(os.Args) >= 2 {
		switch os.Args[1] {
		case "train":
			train(os.Args[2:])
			return
		case "pull":
			pull(os.Args[2:])
			return
		}
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: fair-step run|train|pull ...")
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

func train(args []string) {
	var c models.TrainConfig
	var tag string
	fs := flag.NewFlagSet("fair-step train", flag.ExitOnError)
	fs.StringVar(&c.Repo, "repo", "", "the model's repository")
	fs.StringVar(&tag, "tag", "", "the run's name: the model's tag")
	fs.StringVar(&c.Dir, "dir", "/tmp/fair/model", "$FAIR_MODEL_DIR")
	fs.BoolVar(&c.Artifact.Insecure, "insecure", false, "reach the registry over plain HTTP")
	_ = fs.Parse(args)
	c.Command = fs.Args()
	if c.Repo == "" || tag == "" {
		fail(errors.New("train: --repo and --tag are required"))
	}
	c.Tags = []string{tag, "latest"}
	// The Training Operator and the test bed's TrainJob runtime set RANK;
	// a plain Job has one replica.
	rank := os.Getenv("RANK")
	c.Primary = rank == "" || rank == "0"
	c.Meta = models.Meta{Run: os.Getenv("FAIR_RUN"), Image: os.Getenv("FAIR_IMAGE"), Revision: os.Getenv("FAIR_GIT_REVISION")}
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	c.Artifact.Remote = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := models.Train(ctx, c); err != nil {
		var ee *models.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.Code)
		}
		fail(err)
	}
}

func pull(args []string) {
	var o artifact.Options
	fs := flag.NewFlagSet("fair-step pull", flag.ExitOnError)
	fs.BoolVar(&o.Insecure, "insecure", false, "reach the registry over plain HTTP")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		fail(errors.New("usage: fair-step pull [--insecure] REF DIR"))
	}
	o.Remote = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	// The model's files go into DIR, which the server mounts.
	tmp := fs.Arg(1) + "/.fair-pull"
	if err := artifact.Pull(ctx, fs.Arg(0), tmp, o); err != nil {
		fail(err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		fail(err)
	}
	for _, e := range entries {
		if err := os.Rename(tmp+"/"+e.Name(), fs.Arg(1)+"/"+e.Name()); err != nil {
			fail(err)
		}
	}
	_ = os.Remove(tmp)
	fmt.Fprintf(os.Stderr, "fair-step: pulled model %s into %s in %.1fs\n", fs.Arg(0), fs.Arg(1), time.Since(start).Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fair-step:", err)
	// The pod's termination message: Argo puts it in the step's status, so
	// the run's summary says fair's step runtime failed, and why, rather
	// than blaming the program with "exit code 1".
	_ = os.WriteFile("/dev/termination-log", []byte("fair-step: "+err.Error()), 0o644)
	os.Exit(1)
}
