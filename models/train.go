package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fair-go/fair/internal/bytesize"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/pipeline/step"
)

// TrainConfig is one training program run by fair's in-pod runtime.
type TrainConfig struct {
	Repo     string   // the model's repository, REGISTRY/models/NAME
	Tags     []string // the run's name, then latest
	Dir      string   // $FAIR_MODEL_DIR
	Meta     Meta     // run, image, revision (metrics and time are filled in)
	Command  []string
	Artifact artifact.Options
	Stdout   io.Writer
	Stderr   io.Writer
	// Primary says this replica's model is the run's: rank 0, or the only
	// replica. The others run the program and save nothing.
	Primary bool
}

// ExitError carries the program's exit status.
type ExitError = step.ExitError

// Train runs the program with $FAIR_MODEL_DIR and, when it succeeds on
// the primary replica, saves what it wrote there as the model, with the
// last metrics it printed. A failing program saves nothing and returns
// *ExitError; a program that wrote nothing is told so, and the run still
// succeeds.
func Train(ctx context.Context, c TrainConfig) error {
	if len(c.Command) == 0 {
		return errors.New("no command to run")
	}
	// World-writable: images often run as a non-root user.
	if err := os.MkdirAll(c.Dir, 0o777); err != nil {
		return err
	}
	_ = os.Chmod(c.Dir, 0o777)
	metrics := &Metrics{W: c.Stdout}
	if err := step.Exec(ctx, c.Command, append(os.Environ(), "FAIR_MODEL_DIR="+c.Dir), metrics, c.Stderr); err != nil {
		return err
	}
	if !c.Primary {
		return nil
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.Stderr, "fair: the program wrote no model to $FAIR_MODEL_DIR (%s); nothing saved\n", c.Dir)
		return nil
	}
	m := c.Meta
	m.Metrics = metrics.Last()
	m.Created = time.Now()
	start := time.Now()
	ref, err := Save(ctx, c.Dir, c.Repo, c.Tags, m, c.Artifact)
	if err != nil {
		return fmt.Errorf("save the model: %v", err)
	}
	fmt.Fprintf(c.Stderr, "fair: model saved as %s:%s (%s of files, %s) in %.1fs\n", c.Repo, c.Tags[0], bytesize.Format(bytesize.Of(c.Dir)), shortDigest(ref), time.Since(start).Seconds())
	return nil
}

func shortDigest(ref string) string {
	if i := len(ref) - 64; i > 0 && ref[i-1] == ':' {
		return "sha256:" + ref[i:i+12]
	}
	return ref
}
