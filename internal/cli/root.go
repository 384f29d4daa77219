// Package cli holds the fair command line: one file per verb. Every command
// takes its streams from an injected IOStreams, so tests and the notebook
// kernel run the very same commands and flags as the terminal.
package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

// NewRoot returns the fair root command with every verb attached.
func NewRoot(io *iostreams.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "fair",
		Short:         "Build Go and ML code into images and run it on Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// One configuration for every verb: defaults, fair.yaml, FAIR_*; each
	// command's flags write into it.
	cfg, cfgErr := config.Load()
	if cfg == nil {
		cfg = config.Default()
	}
	// A broken fair.yaml stops only the commands that use it.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Name() == "version" || cmd.Name() == "completion" || (cmd.Parent() != nil && cmd.Parent().Name() == "completion") {
			return nil
		}
		if cfgErr == nil && cfg.File != "" {
			// Say which file applies when it is not in this folder.
			if wd, err := os.Getwd(); err == nil && filepath.Dir(cfg.File) != wd {
				fmt.Fprintf(io.Err, "fair: using %s\n", cfg.File)
			}
		}
		return cfgErr
	}
	root.Version = version()
	root.SetVersionTemplate("fair {{.Version}}\n")
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.AddCommand(
		newVersionCmd(io),
		newKernelCmd(io, cfg),
		newNotebookExtCmd(io),
		newBuildCmd(io, cfg),
		newBuildKitCmd(io, cfg),
		newTrainCmd(io, cfg),
		newSweepCmd(io, cfg),
		newServeCmd(io, cfg),
		newDeployCmd(io, cfg),
		newResolveCmd(io, cfg),
		newLogsCmd(io, cfg),
		newPsCmd(io, cfg),
		newStatusCmd(io, cfg),
		newDeleteCmd(io, cfg),
		newPredictCmd(io, cfg),
		newModelsCmd(io, cfg),
		newInitCmd(io, cfg),
		newConfigCmd(io, cfg),
		newIDECmd(io, cfg),
		newDoctorCmd(io, cfg),
		newLoginCmd(io, cfg),
		newLogoutCmd(io, cfg),
		newBaseCmd(io, cfg),
		newPipelineCmd(io, cfg),
	)
	withCompletion(root, cfg)
	return root
}
