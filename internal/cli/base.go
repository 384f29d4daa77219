package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/debian"
	"github.com/fair-go/fair/internal/iostreams"
)

func newBaseCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "base",
		Short: "Work with base images",
	}
	push := &cobra.Command{
		Use:   "push REPO",
		Short: "Publish the base image (default: the built-in static base) to REPO",
		Long: `Publish the configured base image unchanged, e.g. to mirror the built-in
static base into a registry so that other tools can build on it:

  fair base push 127.0.0.1:5000/static --tag latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, _, err := build.NewBuilder(cfg, io.Err, false)
			if err != nil {
				return err
			}
			if args[0] == "" {
				return errors.New("REPO is empty")
			}
			art, err := b.Build(cmd.Context(), builder.BaseSource{})
			if err != nil {
				return err
			}
			res, err := (&builder.Registry{Tag: cfg.Tag, Insecure: cfg.InsecureRegistries, Progress: io.Err, TTY: io.ErrTTY}).Publish(cmd.Context(), art, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Err, res.Summary())
			fmt.Fprintln(io.Out, res.Ref)
			return nil
		},
	}
	f := push.Flags()
	cfgFlag(f, cfg, "base", "base", "", "string", "base image: static, a registry reference, or oci:PATH[@DIGEST]")
	cfgFlag(f, cfg, "tag", "tag", "t", "string", "tag to push besides the digest")
	cfgFlag(f, cfg, "platforms", "platform", "", "strings", "platforms, e.g. linux/amd64,linux/arm64")
	cfgFlag(f, cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
	cmd.AddCommand(push, newBaseDebianCmd(io, cfg))
	return cmd
}

func newBaseDebianCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var o debian.Options
	var sbom bool
	cmd := &cobra.Command{
		Use:   "debian --packages PKG[,PKG...] --repo REPO",
		Short: "Build a base image from Debian packages (no Docker, no chroot) and push it",
		Long: `Build a base image from Debian packages and their dependencies, taken from the
apt sources this machine is configured with (their signed indexes checked with
gpgv, each package against its index), and push it to REPO. No Docker, no chroot,
no maintainer scripts: the packages' files are unpacked into one layer with root
as owner and one fixed time, so the same package versions give the same digest.
The image runs as the user nonroot (65532) in /home/nonroot, and lists its
packages (SPDX 2.3) in /usr/share/fair/sbom.spdx.json.

  fair base debian --packages python3,python3-numpy --repo 127.0.0.1:5055/py
  fair train ./train-py --base 127.0.0.1:5055/py@sha256:... --cmd "python3 train.py"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.Packages) == 0 {
				return errors.New("--packages: name at least one Debian package")
			}
			if cfg.Repo == "" && !sbom {
				return errors.New("--repo: name the repository to push the base to")
			}
			o.Progress = io.Err
			res, err := debian.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer res.Close()
			if sbom {
				b, err := res.SBOM()
				if err != nil {
					return err
				}
				_, err = io.Out.Write(append(b, '\n'))
				return err
			}
			pub, err := (&builder.Registry{Tag: cfg.Tag, Insecure: cfg.InsecureRegistries, Progress: io.Err, TTY: io.ErrTTY}).Publish(cmd.Context(), res.Image, cfg.Repo)
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Err, pub.Summary())
			fmt.Fprintln(io.Out, pub.Ref)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Packages, "packages", nil, "Debian packages to install, with their dependencies")
	f.StringSliceVar(&o.Suites, "suite", nil, "only the apt sources of these suites, e.g. bookworm,bookworm-updates,bookworm-security (default: every configured suite)")
	f.StringVar(&o.Arch, "arch", "amd64", "Debian architecture")
	f.BoolVar(&sbom, "sbom", false, "print the SPDX list of packages instead of pushing")
	cfgFlag(f, cfg, "repo", "repo", "", "string", "repository to push the base to")
	cfgFlag(f, cfg, "tag", "tag", "t", "string", "tag to push besides the digest")
	cfgFlag(f, cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
	return cmd
}
