package cli

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/kernel/rundisplay"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/nbsource"
)

// kfVerbs are the %kf subcommands and their one-line help.
var kfVerbs = []struct{ name, help string }{
	{"config", "%kf config [key=value ...] [--save]: show or set registry, namespace, kind, gpus, base, ..."},
	{"build", "%kf build [flags]: build the notebook's program into an image and push it"},
	{"train", "%kf train [flags] / %%kf train [flags]: run the notebook (or the cell) as a training job and stream its logs"},
	{"serve", "%kf serve [flags] / %%kf serve [flags]: serve the predict functions the cell defines"},
	{"sweep", "%kf sweep --param NAME=SPEC --objective METRIC [flags] / %%kf sweep ...: tune hyperparameters with Katib (live table and chart); %kf sweep status|logs|delete|ls NAME"},
	{"deploy", "%kf deploy --kind KIND [flags] / %%kf deploy ...: train or serve, as KIND says (--wait=false returns at once); %kf deploy -f FILE applies YAML and waits for it"},
	{"predict", "%kf predict NAME -d JSON|@FILE: call an endpoint (Open Inference Protocol v2) and print its answer"},
	{"pipeline", "%kf pipeline run|compile|status|logs|delete NOTEBOOK.ipynb ...: pipelines from the saved notebook's step:NAME cell tags"},
	{"logs", "%kf logs NAME [-f]: print (or follow) the logs of a run's replicas"},
	{"status", "%kf status NAME: show a run's phase and replicas"},
	{"ps", "%kf ps: list the runs fair started"},
	{"delete", "%kf delete NAME: delete a run"},
	{"models", "%kf models ls|show|rm: the models training runs saved (%%kf train --model NAME; %%kf serve --model last serves the last one)"},
	{"help", "%kf help: this list; %kf VERB --help shows the verb's flags (as fair VERB --help)"},
}

// kfMagicOption gives a kernel %kf. cfg is the kernel's configuration
// (defaults, fair.yaml, FAIR_*); %kf config changes it for the rest of the
// session.
func kfMagicOption(cfg *config.Config) kernel.Option {
	m := &kfMagic{cfg: cfg}
	var verbs []string
	for _, v := range kfVerbs {
		verbs = append(verbs, v.name)
	}
	magic := kernel.WithMagic("kf", kernel.Magic{
		Help:  "%kf build|train|sweep|serve|predict|pipeline|logs|status|ps|delete|models|config|help: run the notebook on Kubernetes (%kf help)",
		Run:   m.run,
		Words: verbs,
	})
	panel := &panelSource{m: m}
	runs := kernel.WithRunSource(panel.runs, panel.defaults)
	return func(k *kernel.Kernel) { magic(k); runs(k) }
}

type kfMagic struct {
	mu        sync.Mutex
	cfg       *config.Config
	lastModel string // NAME:RUN of the model the last %kf train --model saved
}

func (m *kfMagic) setLastModel(ref string) {
	m.mu.Lock()
	m.lastModel = ref
	m.mu.Unlock()
}

func (m *kfMagic) getLastModel() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastModel
}

func (m *kfMagic) run(ctx context.Context, env *kernel.MagicEnv) error {
	args, err := build.SplitCommand(env.Args)
	if err != nil {
		return env.Error("%v", err)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		for _, v := range kfVerbs {
			fmt.Fprintln(env.Stdout, v.help)
		}
		return nil
	}
	verb := args[0]
	if verb == "deploy" {
		// %kf deploy --kind KIND is %kf train or %kf serve for that kind.
		m.mu.Lock()
		v, rest, err := deployVerb(m.cfg, args[1:])
		m.mu.Unlock()
		if err != nil {
			return env.Error("%v", err)
		}
		switch {
		case v == "apply" && !hasFile(args[1:]):
			return env.Error("%%kf deploy needs --kind (a training or a serving kind), or -f FILE to apply YAML")
		case v == "apply":
			verb = "deploy -f" // args stay: deploy -f FILE...
		default:
			verb, args = v, append([]string{v}, rest...)
		}
	}
	sweepSub := verb == "sweep" && len(args) > 1 && slices.Contains([]string{"status", "logs", "delete", "ls", "list"}, args[1])
	if env.Cell && verb != "train" && verb != "serve" && (verb != "sweep" || sweepSub) {
		return env.Error("%%%%kf %s: only train, serve and sweep take a cell body; use %%kf %s on one line", verb, verb)
	}
	if verb == "config" {
		return m.config(env, args[1:])
	}
	m.mu.Lock()
	cfg := m.cfg.Clone() // a cell's flags do not outlive the cell
	m.mu.Unlock()
	io := &iostreams.IOStreams{In: strings.NewReader(""), Out: env.Stdout, Err: env.Stderr}
	var cmd *cobra.Command
	switch verb {
	case "sweep":
		if sweepSub {
			cmd = newSweepCmd(io, cfg)
			break
		}
		var body *notebook.Code
		if env.Cell {
			body = &notebook.Code{Label: fmt.Sprintf("In[%d]", env.Count), Source: env.Below()}
		}
		disp := rundisplay.NewSweep(env)
		progress := &rundisplay.Lines{Each: func(line string) {
			if rundisplay.IsWarning(line) {
				fmt.Fprintln(env.Stderr, line)
				return
			}
			disp.Progress(line)
		}}
		defer progress.Flush()
		io.Err = progress
		cmd = newSweepCmd(io, cfg, withSource(notebookSource(env, body)), withSweepObserver(disp.Observe))
	case "build", "train", "serve":
		var body *notebook.Code
		if env.Cell {
			body = &notebook.Code{Label: fmt.Sprintf("In[%d]", env.Count), Source: env.Below()}
		}
		source := notebookSource(env, body)
		disp := rundisplay.New(env)
		defer disp.Stop()
		// Progress is not an error: Jupyter paints stderr as one. It goes
		// to the live display (a build's to plain output); warnings stay
		// on stderr.
		progress := &rundisplay.Lines{Each: func(line string) {
			switch {
			case rundisplay.IsWarning(line):
				fmt.Fprintln(env.Stderr, line)
			case verb == "build":
				fmt.Fprintln(env.Stdout, line)
			default:
				disp.Progress(line)
			}
		}}
		defer progress.Flush()
		io.Err = progress
		switch verb {
		case "build":
			cmd = newBuildCmd(io, cfg, withSource(source))
		case "train":
			cmd = newTrainCmd(io, cfg, withSource(source), withObserver(disp.Observe), withModels(m.setLastModel, nil))
		default:
			cmd = newServeCmd(io, cfg, withSource(source), withObserver(disp.Observe), withModels(nil, m.getLastModel))
		}
	case "predict":
		cmd = newPredictCmd(io, cfg)
	case "pipeline":
		cmd = newPipelineCmd(io, cfg)
	case "logs":
		cmd = newLogsCmd(io, cfg)
	case "status":
		cmd = newStatusCmd(io, cfg)
	case "ps":
		cmd = newPsCmd(io, cfg)
	case "models":
		cmd = newModelsCmd(io, cfg)
	case "delete":
		cmd = newDeleteCmd(io, cfg)
	case "deploy -f":
		// YAML from the notebook's folder (fair:// paths too); a cell
		// follows what it applied, as a terminal does (--wait=false
		// returns at once).
		cmd = newManifestDeployCmd(io, cfg)
		_ = cmd.Flags().Set("wait", "true")
	default:
		return env.Error("unknown verb %q (try %%kf help)", verb)
	}
	// Paths in arguments (a notebook, @input.json) are the user's, relative
	// to the notebook's folder; the kernel itself works in its Go module.
	// Cells run one at a time, so the kernel has nothing else under way.
	if wd, err := os.Getwd(); err == nil {
		if err := os.Chdir(env.NotebookDir()); err == nil {
			defer os.Chdir(wd)
		}
	}
	// The same command, flags and help as fair VERB, under a %kf root.
	root := &cobra.Command{Use: "%kf", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(cmd)
	args = withMainArgs(env, verb, args)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		return magicError(env, err)
	}
	return nil
}

// magicError is the cell's error for a command's: a detach or cancel is
// the user's interrupt, which Jupyter front ends know by IPython's name,
// not a fault of the magic.
func magicError(env *kernel.MagicEnv, err error) error {
	msg := magicMessage(err)
	if code := ExitCode(err); code == ExitDetached || code == ExitCancelled {
		return &kernel.CellError{Name: "KeyboardInterrupt", Value: msg, Traceback: []string{"KeyboardInterrupt: " + msg}}
	}
	return env.Error("%s", msg)
}

// notebookSource builds the cells the kernel ran so far (and a %%kf cell's
// body) with the kernel's go.mod.
func notebookSource(env *kernel.MagicEnv, body *notebook.Code) sourceFunc {
	return func(cfg *config.Config, verb string) (builder.Source, error) {
		name := "notebook"
		// Jupyter Server tells kernels which notebook they run.
		if p := os.Getenv("JPY_SESSION_NAME"); p != "" {
			name = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		}
		return nbsource.FromCells(env.Cells(), verb, body,
			nbsource.WithModule(env.WorkDir()),
			nbsource.WithBaseDir(env.NotebookDir()),
			nbsource.WithInclude(cfg.Include...),
			nbsource.WithName(name))
	}
}

// magicMessage rewords errors whose fix differs in a notebook.
func magicMessage(err error) string {
	if errors.Is(err, config.ErrNoRegistry) {
		return "no registry to push the notebook's image to: set one with %kf config registry=HOST[:PORT]/PATH (or FAIR_REGISTRY before starting Jupyter)"
	}
	if ExitCode(err) == ExitDetached {
		// The notebook's way back is the magic, not the CLI.
		return strings.NewReplacer("fair logs ", "%kf logs ", "fair pipeline logs ", "%kf pipeline logs ",
			"fair status ", "%kf status ", "fair delete ", "%kf delete ").Replace(err.Error())
	}
	return err.Error()
}

// config shows or changes the kernel's configuration.
func (m *kfMagic) config(env *kernel.MagicEnv, args []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	save := false
	var show []string
	for _, a := range args {
		switch {
		case a == "--save":
			save = true
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			if err := m.cfg.Set(k, v, "%kf config"); err != nil {
				return env.Error("%v", err)
			}
			show = append(show, k)
		default:
			if _, err := m.cfg.Get(a); err != nil {
				return env.Error("%v", err)
			}
			show = append(show, a)
		}
	}
	if len(show) > 0 {
		for _, k := range show {
			v, _ := m.cfg.Get(k)
			fmt.Fprintf(env.Stdout, "%s = %s\n", k, shown(k, v))
		}
	} else if !save {
		m.showConfig(env)
	}
	if save {
		path := m.cfg.File
		if path == "" {
			path = filepath.Join(env.NotebookDir(), "fair.yaml")
		}
		if err := m.cfg.Save(path); err != nil {
			return env.Error("save %s: %v", path, err)
		}
		fmt.Fprintf(env.Stdout, "saved %s\n", path)
		if len(m.cfg.Env) > 0 {
			fmt.Fprintln(env.Stdout, "(env is not saved: its values may be secrets, and fair.yaml is usually committed)")
		}
	}
	return nil
}

// shown is a configuration value as %kf config shows it: environment
// variables by name only, since the output is saved in the notebook, which
// people share.
func shown(key, value string) string {
	if key != "env" || value == "" {
		return value
	}
	var names []string
	for _, kv := range strings.Split(value, ",") {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k+"=…")
	}
	return strings.Join(names, ",")
}

func (m *kfMagic) showConfig(env *kernel.MagicEnv) {
	var text, rows strings.Builder
	for _, e := range m.cfg.Entries() {
		v := shown(e.Key, e.Value)
		fmt.Fprintf(&text, "%-20s %-40s %s\n", e.Key, v, e.Origin)
		fmt.Fprintf(&rows, "<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>", html.EscapeString(e.Key), html.EscapeString(v), html.EscapeString(e.Origin))
	}
	env.Display("", map[string]any{
		"text/plain": text.String(),
		"text/html":  "<table><tr><th>key</th><th>value</th><th>from</th></tr>" + rows.String() + "</table>",
	})
}

// withMainArgs passes the notebook's %args to a run of the notebook's
// program, as its main cells got them, when the line gives none after --:
// otherwise the job would run with other hyperparameters than the
// notebook did, and nothing would say so.
func withMainArgs(env *kernel.MagicEnv, verb string, args []string) []string {
	if verb != "train" && verb != "sweep" && verb != "deploy" || slices.Contains(args, "--") {
		return args
	}
	main := env.MainArgs()
	if len(main) == 0 {
		return args
	}
	fmt.Fprintf(env.Stderr, "passing the notebook's %%args to the program: %s (arguments after -- pass others)\n", strings.Join(main, " "))
	return append(append(args, "--"), main...)
}
