package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel"
	notebookext "github.com/fair-go/fair/notebook-ext"
)

func newNotebookExtCmd(io *iostreams.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notebook-ext",
		Short: "Install fair's panel (runs, logs, train, serve, delete) in the classic Notebook and JupyterLab 4",
	}
	flags := func(c *cobra.Command, p *kernel.SpecPlace) {
		c.Flags().BoolVar(&p.User, "user", false, "use the user's Jupyter folders (the default)")
		c.Flags().BoolVar(&p.SysPrefix, "sys-prefix", false, "use the Python environment's prefix (sys.prefix)")
		c.Flags().StringVar(&p.Prefix, "prefix", "", "use DIR/share/jupyter and DIR/etc/jupyter")
	}
	var in, un kernel.SpecPlace
	install := &cobra.Command{
		Use:   "install [--user | --sys-prefix | --prefix DIR]",
		Short: "Install and enable the panel (embedded in fair: no Node.js needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := in.Dir(); err != nil {
				return err
			}
			got, err := notebookext.Install(in)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Err, "installed the notebook panel in %s and enabled it in %s\n", got.Classic, got.Config)
			fmt.Fprintf(io.Err, "installed the JupyterLab extension %s in %s\n", notebookext.LabName, got.Lab)
			fmt.Fprintln(io.Err, "open a notebook with the Go (fair) kernel (fair kernel install): in the classic Notebook press the rocket button; in JupyterLab (reload the page) the panel is in the left sidebar")
			return nil
		},
	}
	uninstall := &cobra.Command{
		Use:   "uninstall [--user | --sys-prefix | --prefix DIR]",
		Short: "Remove the panel and its nbconfig entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := un.Dir(); err != nil {
				return err
			}
			got, err := notebookext.Uninstall(un)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Err, "removed the notebook panel from %s, %s and %s\n", got.Classic, got.Config, got.Lab)
			return nil
		},
	}
	flags(install, &in)
	flags(uninstall, &un)
	cmd.AddCommand(install, uninstall)
	return cmd
}
