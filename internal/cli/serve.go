package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
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
until Ctrl-C. The program listens on --port (PORT is set in its environment).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			src, progArgs, err := splitSource(cmd, args, sf.image, ro.source != nil)
			if err != nil {
				return err
			}
			nb, err := applyNotebookFlags(io, cfg, src, "serve", trustNotebook, func(_ string, c *config.Config) *cobra.Command { return newServeCmd(io, c) }, nil)
			if err != nil {
				return err
			}
			r := newRunner(io, cfg, ro, sf.workloadFlags, src, progArgs)
			r.file = nb
			return r.serve(cmd.Context(), sf)
		},
	}
	addWorkloadFlags(cmd, cfg, &sf.workloadFlags)
	f := cmd.Flags()
	cfgFlag(f, cfg, "kind", "kind", "", "string", "kserve or deployment (default: kserve when installed)")
	cfgFlag(f, cfg, "replicas", "replicas", "", "int", "serving replicas")
	cfgFlag(f, cfg, "port", "port", "", "int", "port the program listens on")
	cfgFlag(f, cfg, "timeout", "timeout", "", "string", "how long to wait for the endpoint to be ready (default 5m)")
	f.BoolVar(&sf.portForward, "port-forward", false, "forward a local port to the endpoint and print its URL")
	f.IntVar(&sf.localPort, "local-port", 0, "local port for --port-forward (default: a free one)")
	cmd.Flags().BoolVar(&trustNotebook, "trust-notebook", false, "take every flag on a notebook's %kf line, even those deciding where credentials go (registry, cluster, secrets)")
	return cmd
}

func (r *runner) serve(ctx context.Context, sf serveFlags) error {
	io, cfg := r.io, r.cfg
	var c *deployer.Client
	def := deployer.KindDeployment
	if cfg.Kind == "" && sf.dryRun != "client" {
		var err error
		if c, err = r.connect(cfg); err != nil {
			return err
		}
		ok, err := c.Installed(deployer.KindKServe)
		if err != nil {
			return err
		}
		if ok {
			def = deployer.KindKServe
		}
	}
	w, err := r.prepare(ctx, def)
	if err != nil {
		return err
	}
	if w.Kind.Training() {
		return fmt.Errorf("kind %s is a training kind; use fair train", w.Kind)
	}
	if sf.dryRun != "" {
		return r.dryRun(ctx, w, sf.dryRun)
	}
	if c == nil {
		if c, err = r.connect(cfg); err != nil {
			return err
		}
	}
	wait := 5 * time.Minute
	if w.Timeout > 0 {
		wait = w.Timeout
	}
	w.Timeout = 0 // for serving kinds it bounds the wait, not the pods
	templateNote(io, cfg, w.Kind)
	start := time.Now()
	sub, err := c.Submit(ctx, w, deployer.WithTemplateDir(projectDir(cfg)))
	if err != nil {
		return err
	}
	run := sub.Run
	switch {
	case sub.Replaced:
		fmt.Fprintf(io.Err, "replaced the finished run %s (%s) of the same name\n", run.Name, strings.ToLower(string(sub.Previous)))
	case sub.Previous != "":
		fmt.Fprintf(io.Err, "%s/%s exists: updated in place, rolling out the new image\n", run.Kind, run.Name)
	}
	fmt.Fprintf(io.Err, "%s/%s applied in namespace %s (image %s)\n", run.Kind, run.Name, run.Namespace, w.Image)
	if sf.detach {
		fmt.Fprintln(io.Out, run.Name)
		return nil
	}
	obs := r.opts.observer
	if obs == nil {
		obs = progressPrinter(io, run)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res, err := c.Watch(wctx, run, deployer.WatchOptions{Observer: obs, UntilReady: true, Since: start.Add(-time.Second)})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(io.Err)
			return detached(fmt.Sprintf("%s/%s stays deployed, not ready yet; follow it with fair status %s, remove it with fair delete %s", run.Kind, run.Name, run.Name, run.Name))
		}
		if wctx.Err() != nil {
			hint := ""
			if run.Kind == deployer.KindKServe {
				hint = " (is the KServe controller running? --kind deployment works without it)"
			}
			return fmt.Errorf("%s/%s not ready after %s%s; see fair status %s", run.Kind, run.Name, wait, hint, run.Name)
		}
		return err
	}
	if ferr := res.Err(); ferr != nil {
		return &ExitError{Code: 1, Err: ferr}
	}
	fmt.Fprintf(io.Err, "%s/%s ready\n", run.Kind, run.Name)
	if !sf.portForward {
		fmt.Fprintln(io.Out, endpointURL(ctx, c, run, w.Port))
		return nil
	}
	url, done, err := c.PortForward(ctx, run, sf.localPort, w.Port)
	if err != nil {
		return err
	}
	fmt.Fprintln(io.Out, url)
	fmt.Fprintln(io.Err, "forwarding; Ctrl-C stops")
	<-done
	return nil
}

// endpointURL says where the endpoint answers inside the cluster.
func endpointURL(ctx context.Context, c *deployer.Client, run deployer.Run, port int) string {
	if run.Kind == deployer.KindKServe {
		if _, u, err := c.Find(ctx, run.Name); err == nil {
			if s, _, _ := unstructured.NestedString(u.Object, "status", "url"); s != "" {
				return s
			}
		}
	}
	return fmt.Sprintf("http://%s.%s.svc:%d", run.Name, run.Namespace, port)
}
