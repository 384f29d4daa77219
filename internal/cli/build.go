package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

// buildOpts are the build settings that are not configuration keys.
type buildOpts struct {
	ociLayout string
	tarball   string
	verbose   bool
	// verb picks a notebook's entry (train, serve; "" for build).
	verb string
	// source, when set, is built instead of the path (the notebook kernel
	// passes the notebook's cells).
	source builder.Source
}

func newBuildCmd(io *iostreams.IOStreams, cfg *config.Config, opts ...runOption) *cobra.Command {
	var trustNotebook bool
	var bo buildOpts
	var ro runOpts
	for _, o := range opts {
		o(&ro)
	}
	cmd := &cobra.Command{
		Use:   "build SOURCE",
		Short: "Build an image from a Go package, a directory or a Dockerfile, without Docker",
		Long: `Build an image and publish it; print its reference by digest on stdout.

SOURCE is one of:
  a Go main package       fair build ./cmd/train
  a Go notebook           fair build train.ipynb --include data.csv
  a directory of any code fair build ./train-py --base my.registry/pytorch:2.5 --cmd "python train.py"
  a Dockerfile project    fair build ./svc --dockerfile Dockerfile --buildkit unix:///run/buildkit/buildkitd.sock

The image goes to --repo (or FAIR_REGISTRY/NAME), --oci-layout DIR or --tarball FILE.
Builds are reproducible (SOURCE_DATE_EPOCH sets file times, default 0); a rebuild
with no change uploads nothing.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := ""
			switch {
			case ro.source != nil && len(args) > 0:
				return fmt.Errorf("the notebook is the source; unexpected %s", args[0])
			case ro.source != nil:
				s, err := ro.source(cfg, "")
				if err != nil {
					return err
				}
				bo.source, src = s, s.Name()
			case len(args) == 0:
				return errors.New("build what? give SOURCE: a Go main package, a folder, a Dockerfile project or a notebook")
			default:
				src = args[0]
				// The build flags on a notebook's %%kf line (--base,
				// --platform, ...) apply, as they do for the magic.
				own := map[string]bool{}
				cmd.Flags().VisitAll(func(f *pflag.Flag) {
					if v, ok := f.Value.(*cfgValue); ok {
						own[v.key] = true
					}
				})
				newCmd := func(verb string, c *config.Config) *cobra.Command {
					if verb == "serve" {
						return newServeCmd(io, c)
					}
					return newTrainCmd(io, c)
				}
				nb, err := applyNotebookFlags(io, cfg, src, "", trustNotebook, newCmd, func(key string) bool { return own[key] })
				if err != nil {
					return err
				}
				if nb != nil {
					if bo.source, err = nb.source(cfg); err != nil {
						return err
					}
				}
			}
			ref, err := buildWith(cmd.Context(), io, cfg, src, bo)
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Out, ref)
			return nil
		},
	}
	addBuildFlags(cmd, cfg)
	f := cmd.Flags()
	// On build, --env and --label can only mean the image's; train and
	// serve use them for the container, hence the longer shared names.
	cfgFlag(f, cfg, "imageEnv", "env", "e", "strings", "K=V environment baked into the image (same as --image-env)")
	cfgFlag(f, cfg, "imageLabels", "label", "l", "strings", "K=V image label (same as --image-label)")
	f.StringVar(&bo.ociLayout, "oci-layout", "", "write the image into this OCI layout directory instead of a registry")
	f.StringVar(&bo.tarball, "tarball", "", "write the image into this tarball (docker load) instead of a registry")
	f.BoolVarP(&bo.verbose, "verbose", "v", false, "show more progress, such as each excluded file")
	cmd.Flags().BoolVar(&trustNotebook, "trust-notebook", false, "take every flag on a notebook's %kf line, even those deciding where credentials go (registry, cluster, secrets)")
	return cmd
}

// addBuildFlags registers the flags every building command shares (build,
// train, serve, deploy and the notebook magics).
func addBuildFlags(cmd *cobra.Command, cfg *config.Config) {
	addOneImageFlags(cmd, cfg)
	addImageFlags(cmd, cfg)
}

// addOneImageFlags are the flags of a build of one image: where it goes,
// its tag, its command. A pipeline builds an image per step source, each
// named after it and run with the step's own command, so it has none.
func addOneImageFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	cfgFlag(f, cfg, "repo", "repo", "", "string", "repository to push to (default: $FAIR_REGISTRY/NAME)")
	cfgFlag(f, cfg, "tag", "tag", "t", "string", "tag to push besides the digest")
	cfgFlag(f, cfg, "cmd", "cmd", "", "string", "command of a directory source, e.g. \"python train.py\"")
	cfgFlag(f, cfg, "dockerfile", "dockerfile", "", "string", "build with this Dockerfile through BuildKit")
}

// addImageFlags are the flags of how images are built, however many.
func addImageFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	cfgFlag(f, cfg, "registry", "registry", "", "string", "registry prefix; the image name is appended")
	cfgFlag(f, cfg, "base", "base", "", "string", "base image: static, a registry reference, or oci:PATH[@DIGEST]")
	cfgFlag(f, cfg, "platforms", "platform", "", "strings", "platforms to build, e.g. linux/amd64,linux/arm64")
	cfgFlag(f, cfg, "workdir", "workdir", "", "string", "where a directory source lands in the image")
	cfgFlag(f, cfg, "user", "user", "", "string", "user the image runs as (the static base runs as nonroot, 65532)")
	cfgFlag(f, cfg, "imageEnv", "image-env", "", "strings", "K=V environment baked into the image")
	cfgFlag(f, cfg, "imageLabels", "image-label", "", "strings", "K=V label on the image config")
	cfgFlag(f, cfg, "buildkit", "buildkit", "", "string", "BuildKit daemon address (FAIR_BUILDKIT_ADDR, BUILDKIT_HOST)")
	cfgFlag(f, cfg, "include", "include", "", "strings", "file or folder shipped with a notebook, under the program's working directory (repeatable)")
	cfgFlag(f, cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
}

func buildWith(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, srcPath string, bo buildOpts) (string, error) {
	return build.Image(ctx, cfg, build.Options{
		Path: srcPath, Source: bo.source, Verb: bo.verb,
		OCILayout: bo.ociLayout, Tarball: bo.tarball,
		Progress: io.Err, TTY: io.ErrTTY, Verbose: bo.verbose,
	})
}
