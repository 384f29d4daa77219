package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/login"
	"github.com/fair-go/fair/podruntime"
)

// registryArg is the registry a login is for: the argument, else the host
// of the configured registry.
func registryArg(cfg *config.Config, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	if cfg.Registry == "" {
		return "", errors.New("which registry? fair login REGISTRY (no registry is configured: --registry or registry: in fair.yaml)")
	}
	host, _, _ := strings.Cut(cfg.Registry, "/")
	return host, nil
}

func newLoginCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var user, password string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "login [REGISTRY] -u USER [--password-stdin]",
		Short: "Log in to a registry: check the credentials and store them in the Docker config",
		Long: `Check USER and the password against REGISTRY (default: the configured
registry's host) and store them the way docker login does: in the Docker
config's credential store or helper when it names one, in
$DOCKER_CONFIG/config.json (~/.docker) otherwise. fair, docker, crane, ko
and kubectl's image tools all read them there. Nothing is stored when the
registry refuses them. The password comes from --password-stdin, or a
prompt on a terminal.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := registryArg(cfg, args)
			if err != nil {
				return err
			}
			if user == "" {
				return errors.New("--username (-u) is required")
			}
			switch {
			case fromStdin && password != "":
				return errors.New("--password and --password-stdin: give one")
			case fromStdin:
				line, err := bufio.NewReader(io.In).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("read the password from stdin: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			case password != "":
				fmt.Fprintln(io.Err, "warning: --password is visible to other users of this machine and in shell history; use --password-stdin")
			default:
				f, ok := io.In.(*os.File)
				if !ok || !term.IsTerminal(int(f.Fd())) {
					return errors.New("no password: give it with --password-stdin (echo \"$TOKEN\" | fair login REGISTRY -u USER --password-stdin)")
				}
				fmt.Fprint(io.Err, "Password: ")
				b, err := term.ReadPassword(int(f.Fd()))
				fmt.Fprintln(io.Err)
				if err != nil {
					return err
				}
				password = string(b)
			}
			where, err := login.Login(cmd.Context(), reg, user, password, login.Options{Insecure: podruntime.Insecure(cfg, reg)})
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "Logged in to %s as %s (credentials in %s)\n", reg, user, where)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "user name")
	f.StringVarP(&password, "password", "p", "", "password (visible to other users: prefer --password-stdin)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func newLogoutCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [REGISTRY]",
		Short: "Remove a registry's credentials from the Docker config",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := registryArg(cfg, args)
			if err != nil {
				return err
			}
			removed, err := login.Logout(reg, login.Options{Insecure: podruntime.Insecure(cfg, reg)})
			if err != nil {
				return err
			}
			if !removed {
				fmt.Fprintf(io.Out, "Not logged in to %s\n", reg)
				return nil
			}
			fmt.Fprintf(io.Out, "Removed the credentials for %s\n", reg)
			return nil
		},
	}
}
