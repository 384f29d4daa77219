package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// dryRun is --dry-run as kubectl has it, the same on every command that
// creates objects: none (the default), client (print what would be sent,
// send nothing to the cluster) or server (the API server validates it and
// stores nothing). It always takes a value (--dry-run client or
// --dry-run=client), so a bare --dry-run is refused rather than guessed.
type dryRun string

const (
	dryRunNone   dryRun = "none"
	dryRunClient dryRun = "client"
	dryRunServer dryRun = "server"
)

func (d *dryRun) String() string {
	if *d == "" {
		return string(dryRunNone)
	}
	return string(*d)
}

func (d *dryRun) Set(v string) error {
	switch dryRun(v) {
	case dryRunNone, dryRunClient, dryRunServer:
		*d = dryRun(v)
		return nil
	}
	return fmt.Errorf("want none, client or server")
}

func (d *dryRun) Type() string { return "string" }

// on reports a client or server dry run.
func (d dryRun) on() bool { return d == dryRunClient || d == dryRunServer }

// launchMode is the value launch.Options.DryRun takes ("" for none).
func (d dryRun) launchMode() string {
	if !d.on() {
		return ""
	}
	return string(d)
}

func addDryRunFlag(cmd *cobra.Command, d *dryRun, client string) {
	f := cmd.Flags()
	f.Var(d, "dry-run", "none, client ("+client+") or server (the API server validates the objects and stores nothing)")
}
