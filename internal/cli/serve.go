package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
)

type serveFlags struct {
	workloadFlags
	portForward bool
	localPort   int
}

func newServeCmd(io *iostreams.IOStreams, cfg *config.Config, opts ...runOption) *cobra.Command {
	var trustNotebook bool
	var sf serveFlags
	var ro runOpts
	for _, o := range opts {
		o(&ro)
	}
	cmd := &cobra.Command{
		Use:   "serve [SOURCE] [flags] [-- ARGS...]",
		Short: "Build SOURCE (or take --image) and deploy it as an endpoint",
		Long: `Build SOURCE into an image and deploy it as an inference endpoint: a KServe
InferenceService when KServe is installed, else a Deployment plus a Service
(--kind kserve|deployment chooses). fair waits until it is ready and prints
how to reach it; --port-forward opens a local port to it and keeps it open
until Ctrl-C. The program listens on --port (PORT is set in its environment).

--model NAME[:TAG] serves a saved model (fair models ls): its files are pulled
into the server's $FAIR_MODEL_DIR (/mnt/models). A model of .onnx files needs
no SOURCE: fair builds its stock ONNX server.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			src, progArgs, err := splitSource(cmd, args, sf.image, ro.source != nil)
			// A model alone: fair's stock server for its format (ONNX).
			if err != nil && cfg.Model != "" && cmd.ArgsLenAtDash() <= 0 && len(args) == 0 && sf.image == "" && ro.source == nil {
				err = nil
			}
			if err != nil {
				return err
			}
			nb, err := applyNotebookFlags(io, cfg, src, "serve", trustNotebook, func(_ string, c *config.Config) *cobra.Command { return newServeCmd(io, c) }, nil)
			if err != nil {
				return err
			}
			if cfg.Model == "last" && ro.lastModel != nil {
				if cfg.Model = ro.lastModel(); cfg.Model == "" {
					return errors.New("--model last: no %kf train --model NAME has saved a model in this kernel yet")
				}
			}
			return launch.Serve(cmd.Context(), launchOptions(io, cfg, ro, nb, sf.workloadFlags, src, progArgs),
				launch.ServeOptions{PortForward: sf.portForward, LocalPort: sf.localPort})
		},
	}
	addWorkloadFlags(cmd, cfg, &sf.workloadFlags)
	f := cmd.Flags()
	cfgFlag(f, cfg, "kind", "kind", "", "string", "kserve or deployment (default: kserve when installed)")
	cfgFlag(f, cfg, "model", "model", "", "string", "model to serve, NAME[:TAG] or a reference; its files are at $FAIR_MODEL_DIR (/mnt/models)")
	cfgFlag(f, cfg, "replicas", "replicas", "", "int", "serving replicas")
	cfgFlag(f, cfg, "port", "port", "", "int", "port the program listens on")
	cfgFlag(f, cfg, "probe", "probe", "", "string", "health check: oip (/v2/health/ready and /v2/health/live), tcp, or an HTTP PATH (default oip)")
	cfgFlag(f, cfg, "timeout", "timeout", "", "string", "how long to wait for the endpoint to be ready (default 5m)")
	f.BoolVar(&sf.portForward, "port-forward", false, "forward a local port to the endpoint and print its URL")
	f.IntVar(&sf.localPort, "local-port", 0, "local port for --port-forward (default: a free one)")
	cmd.Flags().BoolVar(&trustNotebook, "trust-notebook", false, "take every flag on a notebook's %kf line, even those deciding where credentials go (registry, cluster, secrets)")
	return cmd
}
