package cli

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/notebook"
	"github.com/fair-go/fair/notebook/nbsource"
)

// kfVerbs are the %kf subcommands and their one-line help.
var kfVerbs = []struct{ name, help string }{
	{"config", "%kf config [key=value ...] [--save]: show or set registry, namespace, kind, gpus, base, ..."},
	{"build", "%kf build [flags]: build the notebook's program into an image and push it"},
	{"train", "%kf train [flags] / %%kf train [flags]: run the notebook (or the cell) as a training job and stream its logs"},
	{"serve", "%kf serve [flags] / %%kf serve [flags]: serve the predict functions the cell defines"},
	{"predict", "%kf predict NAME -d JSON|@FILE: call an endpoint (Open Inference Protocol v2) and print its answer"},
	{"pipeline", "%kf pipeline run|compile|status|logs|delete NOTEBOOK.ipynb ...: pipelines from the saved notebook's step:NAME cell tags"},
	{"logs", "%kf logs NAME [-f]: print (or follow) the logs of a run's replicas"},
	{"status", "%kf status [NAME]: show a run's phase and replicas"},
	{"ps", "%kf ps: list the runs fair started"},
	{"delete", "%kf delete NAME: delete a run"},
	{"help", "%kf help: this list; %kf VERB --help shows the verb's flags (as fair VERB --help)"},
}

// registerMagics makes %kf available in kernels started afterwards. cfg is
// the kernel's configuration (defaults, fair.yaml, FAIR_*); %kf config
// changes it for the rest of the session.
func registerMagics(cfg *config.Config) {
	m := &kfMagic{cfg: cfg}
	kernel.RegisterMagic("kf", kernel.Magic{
		Help: "%kf build|train|serve|predict|pipeline|logs|status|ps|delete|config|help: run the notebook on Kubernetes (%kf help)",
		Run:  m.run,
	})
}

type kfMagic struct {
	mu  sync.Mutex
	cfg *config.Config
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
	if env.Cell && verb != "train" && verb != "serve" {
		return env.Error("%%%%kf %s: only train and serve take a cell body; use %%kf %s on one line", verb, verb)
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
	case "build", "train", "serve":
		var body *notebook.Code
		if env.Cell {
			body = &notebook.Code{Label: fmt.Sprintf("In[%d]", env.Count), Source: env.Body}
		}
		source := notebookSource(env, body)
		disp := newStatusDisplay(env)
		defer disp.stop()
		// Progress is not an error: Jupyter paints stderr as one. It goes
		// to the live display (a build's to plain output); warnings stay
		// on stderr.
		progress := &lineSink{fn: func(line string) {
			switch {
			case isWarning(line):
				fmt.Fprintln(env.Stderr, line)
			case verb == "build":
				fmt.Fprintln(env.Stdout, line)
			default:
				disp.progress(line)
			}
		}}
		defer progress.Flush()
		io.Err = progress
		switch verb {
		case "build":
			cmd = newBuildCmd(io, cfg, withSource(source))
		case "train":
			cmd = newTrainCmd(io, cfg, withSource(source), withObserver(disp.observe))
		default:
			cmd = newServeCmd(io, cfg, withSource(source), withObserver(disp.observe))
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
	case "delete":
		cmd = newDeleteCmd(io, cfg)
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
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		return env.Error("%s", magicMessage(err))
	}
	return nil
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
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code == ExitDetached {
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
			fmt.Fprintf(env.Stdout, "%s = %s\n", k, v)
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
	}
	return nil
}

func (m *kfMagic) showConfig(env *kernel.MagicEnv) {
	var text, rows strings.Builder
	for _, e := range m.cfg.Entries() {
		fmt.Fprintf(&text, "%-20s %-40s %s\n", e.Key, e.Value, e.Origin)
		fmt.Fprintf(&rows, "<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>", html.EscapeString(e.Key), html.EscapeString(e.Value), html.EscapeString(e.Origin))
	}
	env.Display("", map[string]any{
		"text/plain": text.String(),
		"text/html":  "<table><tr><th>key</th><th>value</th><th>from</th></tr>" + rows.String() + "</table>",
	})
}

// statusDisplay is the live status of a run, updated in place in the cell
// as events arrive and once a second for the elapsed time.
type statusDisplay struct {
	env   *kernel.MagicEnv
	id    string
	mu    sync.Mutex
	shown bool
	start time.Time
	run   string
	st    *deployer.Status
	note  string
	done  chan struct{}
	once  sync.Once
}

func newStatusDisplay(env *kernel.MagicEnv) *statusDisplay {
	d := &statusDisplay{env: env, id: fmt.Sprintf("fair-status-%d-%d", env.Count, time.Now().UnixNano()), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-d.done:
				return
			case <-t.C:
				d.mu.Lock()
				if d.shown && (d.st == nil || !d.st.Phase.Done()) {
					d.show()
				}
				d.mu.Unlock()
			}
		}
	}()
	return d
}

func (d *statusDisplay) stop() { d.once.Do(func() { close(d.done) }) }

// progress shows a line of the command's progress (building, pushing,
// submitting) as the display's latest event.
func (d *statusDisplay) progress(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.start.IsZero() {
		d.start = time.Now()
	}
	d.note = line
	d.show()
}

// isWarning reports a progress line that is a warning for the user.
func isWarning(line string) bool {
	l := strings.ToLower(line)
	return strings.HasPrefix(l, "warning") || strings.Contains(l, ": warning:")
}

// lineSink hands what is written to it to fn a line at a time; a carriage
// return (a terminal's redraw) ends a line too.
type lineSink struct {
	mu  sync.Mutex
	buf []byte
	fn  func(string)
}

func (l *lineSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexAny(string(l.buf), "\r\n")
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		if strings.TrimSpace(line) != "" {
			l.fn(line)
		}
	}
	return len(p), nil
}

// Flush hands on a last line that had no newline.
func (l *lineSink) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.TrimSpace(string(l.buf)) != "" {
		l.fn(string(l.buf))
	}
	l.buf = nil
}

func (d *statusDisplay) observe(e deployer.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.start.IsZero() {
		d.start = time.Now()
	}
	d.run = e.Run
	if e.Status != nil {
		st := *e.Status
		d.st = &st
	}
	if e.Message != "" {
		d.note = e.Message
		if e.Replica != "" {
			d.note = e.Replica + ": " + e.Message
		}
	}
	d.show()
}

// show publishes the display; the caller holds d.mu.
func (d *statusDisplay) show() {
	elapsed := time.Since(d.start).Round(time.Second)
	kind, name, ns := "", d.run, ""
	phase, ready, total, gpus, image := "Pending", 0, 0, 0, ""
	state := "ready"
	if st := d.st; st != nil {
		kind, name, ns = string(st.Kind), st.Name, st.Namespace
		phase, ready, total, gpus, image = string(st.Phase), st.Ready, st.Total, st.GPUs, st.Image
		if st.Phase.Done() && st.Kind.Training() {
			// A finished run counts the replicas whose program ran.
			state, ready = "ran", st.Total-st.NotStarted
		}
	}
	if i := strings.LastIndex(image, "@"); i >= 0 {
		image = image[i+1:]
	}
	cell := func(k, v string) string {
		return "<tr><th style=\"text-align:left\">" + k + "</th><td style=\"text-align:left\">" + html.EscapeString(v) + "</td></tr>"
	}
	var text, h string
	if name == "" {
		// Not submitted yet: building and pushing.
		text = fmt.Sprintf("%s  %s", d.note, elapsed)
		h = "<table>" + cell("progress", d.note) + cell("elapsed", elapsed.String()) + "</table>"
	} else {
		reach := fmt.Sprintf("%%kf logs %s -f", name)
		if kind != "" {
			reach += fmt.Sprintf("  |  kubectl -n %s get %s %s", ns, kind, name)
		}
		text = fmt.Sprintf("%s/%s  %s  replicas %d/%d %s  GPUs %d  %s  image %s\n%s", kind, name, phase, ready, total, state, gpus, elapsed, image, reach)
		if d.note != "" {
			text += "\n" + d.note
		}
		h = "<table>" + cell("run", kind+"/"+name) + cell("phase", phase) +
			cell("replicas "+state, fmt.Sprintf("%d/%d", ready, total)) + cell("GPUs", fmt.Sprint(gpus)) +
			cell("elapsed", elapsed.String()) + cell("image", image) + cell("follow", reach)
		if d.note != "" {
			h += cell("last event", d.note)
		}
		h += "</table>"
	}
	b := map[string]any{"text/plain": text, "text/html": h}
	if d.shown {
		d.env.Update(d.id, b)
		return
	}
	d.shown = true
	d.env.Display(d.id, b)
}
