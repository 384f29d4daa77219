package cli

import (
	"errors"

	"github.com/fair-go/fair/launch"
)

// Exit statuses of fair, documented in docs/deployer.md. A run that fails
// gives its program's own exit status, so a script sees what the program
// said; the statuses below are fair's own.
const (
	// ExitFailure is fair's own failure (bad input, unreachable cluster or
	// registry, a build that did not compile), and a run that failed
	// without an exit status of its own (evicted, deadline, image pull).
	ExitFailure = 1
	// ExitDetached: interrupted (Ctrl-C, SIGTERM, the terminal closed)
	// while following; the run keeps going on the cluster. 75 is
	// EX_TEMPFAIL: not done, come back later (fair logs NAME -f).
	ExitDetached = 75
	// ExitCancelled: interrupted with --on-interrupt cancel; the run was
	// deleted (128 + SIGINT, as shells report an interrupted command).
	ExitCancelled = 130
)

// ExitError carries the exit status a command wants, for example the exit
// code of a training job's failing replica.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by a command to the process exit status.
func ExitCode(err error) int {
	var ee *ExitError
	var rf *launch.RunFailed
	switch {
	case errors.As(err, &ee) && ee.Code != 0:
		return ee.Code
	case errors.Is(err, launch.ErrDetached):
		return ExitDetached
	case errors.Is(err, launch.ErrCancelled):
		return ExitCancelled
	case errors.As(err, &rf):
		return rf.ExitCode()
	}
	return ExitFailure
}
