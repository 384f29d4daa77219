// Command fair builds code into container images without Docker and runs
// it on Kubernetes as training jobs, endpoints and pipelines.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fair-go/fair/internal/cli"
	"github.com/fair-go/fair/internal/iostreams"
)

func main() {
	// A closed terminal (SIGHUP) detaches like Ctrl-C instead of killing
	// fair mid-way, so the exit status says the run is still going.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	io := iostreams.System()
	if err := cli.NewRoot(io).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(io.Err, "fair:", err)
		os.Exit(cli.ExitCode(err))
	}
}
