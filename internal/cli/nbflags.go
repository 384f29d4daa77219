package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/nbsource"
)

// OriginNotebook marks values taken from a notebook's %%kf line.
const OriginNotebook = "notebook %%kf line"

// applyNotebookFlags gives `fair train notebook.ipynb` the flags written on
// the notebook's %%kf train line (e.g. --gpus 1), parsed by the same flag
// definitions; flags given on the command line win. Only flags that are
// configuration keys apply; the rest (--detach, --dry-run) belong to
// whoever runs the notebook.
//
// newCmd makes the command whose flags the line is parsed with (the train
// or serve command, as the line says); keep, when set, limits the keys
// taken (fair build takes only the build flags).
//
// The notebook is read and its program selected here, once: the result
// makes the build source (notebookFile.source), with the includes the
// line may have added.
//
// A notebook may come from anyone: unless trust is set, its line may shape
// the run (GPUs, kind, workers, resources, base, environment) but not
// decide where credentials go or what leaves the machine (see untrusted).
func applyNotebookFlags(io *iostreams.IOStreams, cfg *config.Config, path, verb string, trust bool, newCmd func(verb string, c *config.Config) *cobra.Command, keep func(key string) bool) (*notebookFile, error) {
	if !strings.EqualFold(filepath.Ext(path), ".ipynb") {
		return nil, nil
	}
	f, err := notebook.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sel, err := notebook.Select(f.Codes(), verb, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	nb := &notebookFile{path: path, sel: sel}
	if sel.Args == "" {
		return nb, nil
	}
	words, err := build.SplitCommand(sel.Args)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", filepath.Base(path), sel.Entry, err)
	}
	from := cfg.Clone()
	cmd := newCmd(sel.Verb, from)
	if err := cmd.Flags().Parse(words); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", filepath.Base(path), sel.Entry, err)
	}
	var used, refused []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		v, ok := fl.Value.(*cfgValue)
		if !ok || strings.HasPrefix(cfg.Origin(v.key), config.OriginFlag) || (keep != nil && !keep(v.key)) {
			return
		}
		val, _ := from.Get(v.key)
		if !trust {
			if why := config.FromNotebook(v.key, val); why != "" {
				refused = append(refused, "--"+fl.Name+" ("+why+")")
				return
			}
		}
		if cfg.Set(v.key, val, OriginNotebook) == nil {
			used = append(used, "--"+fl.Name+"="+val)
		}
	})
	if len(refused) > 0 {
		return nil, fmt.Errorf("%s: %s sets %s, which a notebook may not decide: give it on the command line, or pass --trust-notebook if you trust this notebook",
			filepath.Base(path), sel.Entry, strings.Join(refused, ", "))
	}
	if len(used) > 0 {
		fmt.Fprintf(io.Err, "using %s from %s\n", strings.Join(used, " "), sel.Entry)
	}
	return nb, nil
}

// notebookFile is a notebook given as SOURCE, read and selected once.
type notebookFile struct {
	path string
	sel  *notebook.Selection
}

// source is the notebook's program as a build source, shipping cfg's
// includes.
func (nb *notebookFile) source(cfg *config.Config) (builder.Source, error) {
	return nbsource.FromSelection(nb.path, nb.sel, nbsource.WithInclude(cfg.Include...))
}
