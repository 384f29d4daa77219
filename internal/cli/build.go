package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/notebook/nbsource"
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
				nb, err := applyNotebookFlags(io, cfg, src, "", newCmd, func(key string) bool { return own[key] })
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
	return cmd
}

// addBuildFlags registers the flags every building command shares (build,
// train, serve, deploy and the notebook magics).
func addBuildFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	cfgFlag(f, cfg, "repo", "repo", "", "string", "repository to push to (default: $FAIR_REGISTRY/NAME)")
	cfgFlag(f, cfg, "registry", "registry", "", "string", "registry prefix; the image name is appended")
	cfgFlag(f, cfg, "tag", "tag", "t", "string", "tag to push besides the digest")
	cfgFlag(f, cfg, "base", "base", "", "string", "base image: static, a registry reference, or oci:PATH[@DIGEST]")
	cfgFlag(f, cfg, "platforms", "platform", "", "strings", "platforms to build, e.g. linux/amd64,linux/arm64")
	cfgFlag(f, cfg, "workdir", "workdir", "", "string", "where a directory source lands in the image")
	cfgFlag(f, cfg, "cmd", "cmd", "", "string", "command of a directory source, e.g. \"python train.py\"")
	cfgFlag(f, cfg, "user", "user", "", "string", "user the image runs as (the static base runs as nonroot, 65532)")
	cfgFlag(f, cfg, "imageEnv", "image-env", "", "strings", "K=V environment baked into the image")
	cfgFlag(f, cfg, "imageLabels", "image-label", "", "strings", "K=V label on the image config")
	cfgFlag(f, cfg, "dockerfile", "dockerfile", "", "string", "build with this Dockerfile through BuildKit")
	cfgFlag(f, cfg, "buildkit", "buildkit", "", "string", "BuildKit daemon address (FAIR_BUILDKIT_ADDR)")
	cfgFlag(f, cfg, "include", "include", "", "strings", "file or folder shipped with a notebook, under the program's working directory (repeatable)")
	cfgFlag(f, cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
}

// buildImage builds src with cfg and pushes it to the configured registry;
// it is what train, serve and deploy call before they submit.
func buildImage(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, src string) (string, error) {
	return buildWith(ctx, io, cfg, src, buildOpts{})
}

func buildWith(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, srcPath string, bo buildOpts) (string, error) {
	start := time.Now()
	src := bo.source
	if src == nil {
		var err error
		if src, err = sourceFor(srcPath, cfg, bo.verb); err != nil {
			return "", err
		}
	}
	b, platforms, err := newBuilder(io, cfg, bo.verbose)
	if err != nil {
		return "", err
	}

	repo := cfg.Repo
	var pub builder.Publisher
	switch {
	case bo.ociLayout != "":
		pub = &builder.Layout{Dir: bo.ociLayout, Tag: cfg.Tag}
	case bo.tarball != "":
		if len(platforms) > 1 {
			return "", errors.New("a tarball holds one platform: build one --platform, or use --oci-layout for several")
		}
		pub = &builder.Tarball{File: bo.tarball, Tag: cfg.Tag}
	default:
		if repo == "" && cfg.Registry == "" {
			return "", config.ErrNoRegistry
		}
		pub = &builder.Registry{Tag: cfg.Tag, Insecure: cfg.InsecureRegistries, Progress: io.Err, TTY: io.ErrTTY}
	}
	if repo == "" {
		prefix := strings.TrimSuffix(cfg.Registry, "/")
		if prefix == "" {
			prefix = "fair.local"
		}
		repo = prefix + "/" + src.Name()
	}

	// Ask the registry while compiling, so a wrong address or missing
	// login fails in a second rather than after the build.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if r, ok := pub.(*builder.Registry); ok {
		go func() {
			if err := r.Check(ctx, repo); err != nil {
				cancel(err)
			}
		}()
	}
	fmt.Fprintf(io.Err, "building %s\n", srcPath)
	art, err := b.Build(ctx, src)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return "", cause
		}
		return "", err
	}
	built := time.Now()
	if bo.verbose {
		fmt.Fprintf(io.Err, "built in %.2fs\n", built.Sub(start).Seconds())
	}
	res, err := pub.Publish(ctx, art, repo)
	if err != nil {
		return "", err
	}
	if bo.verbose {
		fmt.Fprintf(io.Err, "published in %.2fs\n", time.Since(built).Seconds())
	}
	if _, ok := pub.(*builder.Registry); ok {
		fmt.Fprintf(io.Err, "%s; done in %.1fs\n", res.Summary(), time.Since(start).Seconds())
	} else {
		fmt.Fprintf(io.Err, "done in %.1fs\n", time.Since(start).Seconds())
	}
	return res.Ref, nil
}

// newBuilder makes a Builder from the configuration, as every building
// command does; it also returns the parsed platforms.
func newBuilder(io *iostreams.IOStreams, cfg *config.Config, verbose bool) (*builder.Builder, []v1.Platform, error) {
	platforms, err := builder.ParsePlatforms(cfg.Platforms)
	if err != nil {
		return nil, nil, err
	}
	epoch, err := sourceDateEpoch()
	if err != nil {
		return nil, nil, err
	}
	opts := []builder.Option{
		builder.WithBase(cfg.Base),
		builder.WithEpoch(epoch),
		builder.WithProgress(io.Err, verbose),
		builder.WithInsecureRegistries(cfg.InsecureRegistries...),
		builder.WithEnv(cfg.ImageEnv...),
		builder.WithLabels(cfg.ImageLabels...),
		builder.WithUser(cfg.User),
	}
	if len(platforms) > 0 {
		opts = append(opts, builder.WithPlatforms(platforms...))
	}
	b, err := builder.New(opts...)
	return b, platforms, err
}

// sourceFor picks the kind of source from the path and the configuration.
func sourceFor(path string, cfg *config.Config, verb string) (builder.Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", path, errors.Unwrap(err))
	}
	if !st.IsDir() && strings.EqualFold(filepath.Ext(path), ".ipynb") {
		return nbsource.FromFile(path, verb, nbsource.WithInclude(cfg.Include...))
	}
	if len(cfg.Include) > 0 {
		return nil, errors.New("--include ships files with a notebook source; put them in the source folder instead")
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("source %s: want a directory (a Go main package, a folder of code, or a Dockerfile project) or a Go notebook (.ipynb)", path)
	}
	switch {
	case cfg.Dockerfile != "":
		return dockerfileSource(path, cfg.Dockerfile, cfg)
	case cfg.Cmd != "":
		cmd, err := splitCommand(cfg.Cmd)
		if err != nil {
			return nil, err
		}
		return builder.NewDir(path, cfg.Workdir, cmd)
	case builder.IsGoMain(path):
		return builder.NewGo(path)
	}
	if _, err := os.Stat(filepath.Join(path, "Dockerfile")); err == nil {
		return dockerfileSource(path, "Dockerfile", cfg)
	}
	return nil, fmt.Errorf("source %s is not a Go main package: pass --cmd to add it to a base image (e.g. --base my.registry/pytorch:2.5 --cmd \"python train.py\"), or --dockerfile", path)
}

func dockerfileSource(dir, dockerfile string, cfg *config.Config) (builder.Source, error) {
	if cfg.BuildKit == "" {
		return nil, errors.New("a Dockerfile build needs a BuildKit daemon: pass --buildkit unix:///run/buildkit/buildkitd.sock or set FAIR_BUILDKIT_ADDR")
	}
	return builder.NewDockerfile(dir, dockerfile, cfg.BuildKit)
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// splitCommand splits a command line the way a POSIX shell splits words,
// with single and double quotes and backslash escapes, and nothing else.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("--cmd %q: unterminated quote or escape", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
