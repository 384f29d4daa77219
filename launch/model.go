package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/bytesize"
	"github.com/fair-go/fair/keychain"
	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/podruntime"
)

// ModelOptions reach the registry that holds cfg's models.
func ModelOptions(cfg *config.Config, ref string) artifact.Options {
	return artifact.Options{Insecure: podruntime.Insecure(cfg, ref), Remote: []remote.Option{remote.WithAuthFromKeychain(keychain.Default)}}
}

// checkModelName refuses a name train cannot save a model under, before
// anything is built.
func checkModelName(name string) error {
	switch {
	case len(name) > 63:
		return fmt.Errorf("--model: a name of %d characters; a model name has at most 63", len(name))
	case strings.ContainsAny(name, ":/@") || deployer.DNSLabel(name, "") != name:
		return fmt.Errorf("--model %q: train saves the model under a name (lower-case letters, digits and '-'), not a reference", name)
	}
	return nil
}

// saveModel makes training run w save its model: its image gets fair's pod
// runtime, which runs the program with $FAIR_MODEL_DIR and, when it
// succeeds on rank 0, pushes what it wrote there as
// REGISTRY/models/NAME, tagged with tag (the run's name; a sweep's
// trial's) and latest.
func saveModel(ctx context.Context, o Options, c *deployer.Client, w *deployer.Workload, tag string) error {
	cfg := o.Config
	if err := checkModelName(cfg.Model); err != nil {
		return err
	}
	if cfg.Registry == "" {
		return errors.New("--model: models are kept in the registry; set FAIR_REGISTRY or --registry")
	}
	// A run of the same name trained before: its model loses the tag.
	ref := models.Repo(cfg.Registry, cfg.Model) + ":" + tag
	if old, err := models.Get(ctx, ref, ModelOptions(cfg, ref)); err == nil {
		fmt.Fprintf(o.Progress, "model %s:%s exists (%s, of an earlier run of that name): this run's model takes the tag; the earlier one stays, by digest, until fair models rm %s@%s\n",
			cfg.Model, tag, old.Digest[:19], cfg.Model, old.Digest)
	}
	rt, err := podruntime.Load(ctx, cfg, "", build.Options{Progress: o.Progress, TTY: o.TTY})
	if err != nil {
		return err
	}
	wr, err := rt.Wrap(w.Image, "")
	if err != nil {
		return fmt.Errorf("add fair's pod runtime to %s: %v", w.Image, err)
	}
	cmd := []string{podruntime.Path, "train", "--repo", models.Repo(c.PodRegistry(ctx, cfg.Registry), cfg.Model), "--tag", tag}
	if podruntime.Insecure(cfg, cfg.Registry) {
		cmd = append(cmd, "--insecure")
	}
	prog := wr.Command
	if len(w.Command) > 0 {
		prog = w.Command
	}
	if len(prog) == 0 {
		return fmt.Errorf("image %s has no entrypoint or command to run", w.Image)
	}
	w.Env = append(w.Env, deployer.EnvVar{Name: "FAIR_RUN", Value: tag}, deployer.EnvVar{Name: "FAIR_IMAGE", Value: w.Image})
	if rev := gitRevision(o.Path); o.Path != "" && rev != "" {
		w.Env = append(w.Env, deployer.EnvVar{Name: "FAIR_GIT_REVISION", Value: rev})
	}
	w.Command = append(append(cmd, "--"), prog...)
	w.Image = wr.Ref
	return nil
}

// reportModel says what a successful run saved.
func reportModel(ctx context.Context, o Options, run string) {
	cfg := o.Config
	ref := models.Repo(cfg.Registry, cfg.Model) + ":" + run
	m, err := models.Get(ctx, ref, ModelOptions(cfg, ref))
	if err != nil {
		fmt.Fprintf(o.Progress, "no model saved (the program wrote nothing to $FAIR_MODEL_DIR?): %v\n", err)
		return
	}
	// The stored size (a tar layer), as fair models ls shows it; the run's
	// own line gave the files' size.
	line := fmt.Sprintf("model %s:%s saved (%s stored, %s)", cfg.Model, run, bytesize.Format(m.Size), m.Digest[:19])
	if len(m.Metrics) > 0 {
		line += " " + models.FormatMetrics(m.Metrics)
	}
	fmt.Fprintf(o.Progress, "%s; serve it with: fair serve --model %s:%s\n", line, cfg.Model, run)
	if o.ModelSaved != nil {
		o.ModelSaved(cfg.Model + ":" + run)
	}
}

// pullModel makes server w find cfg's model at deployer.ModelDir, pinned
// by digest: an InferenceService on a cluster whose KServe serves oci://
// models gets the model as an image KServe runs beside the server (its
// modelcar: no copy, cached by the node like any image); anything else
// gets fair's init container, which pulls the model's files.
func pullModel(ctx context.Context, o Options, c *deployer.Client, w *deployer.Workload) error {
	cfg := o.Config
	ref, err := models.Ref(cfg.Registry, cfg.Model)
	if err != nil {
		return err
	}
	mo := ModelOptions(cfg, ref)
	m, err := models.Get(ctx, ref, mo)
	if err != nil {
		return err
	}
	w.Model = m.Name
	if m.Tag != "" {
		w.Model += ":" + m.Tag
	}
	w.Model += "@" + m.Digest
	if w.Kind == deployer.KindKServe {
		if mode := c.KServeOCIModels(ctx); mode != "" {
			shell, err := podruntime.Program(ctx, cfg, "fair-modelcar", build.Options{Progress: o.Progress, TTY: o.TTY})
			if err != nil {
				return err
			}
			start := time.Now()
			img, made, err := models.Modelcar(ctx, m, shell, mo)
			if err != nil {
				return err
			}
			how := "found"
			if made {
				how = fmt.Sprintf("made in %.1fs", time.Since(start).Seconds())
			}
			// The kubelet pulls it, by the name the server's image has.
			w.ModelImage = img
			fmt.Fprintf(o.Progress, "serving model %s (%s, %s) from its image %s (%s), through KServe's %s\n", ref, bytesize.Format(m.Size), m.Digest[:19], img, how, mode)
			return nil
		}
	}
	rt, err := podruntime.Load(ctx, cfg, "", build.Options{Progress: o.Progress, TTY: o.TTY})
	if err != nil {
		return err
	}
	w.ModelPull = &deployer.ModelPull{Ref: podRef(ctx, c, cfg, m.Ref), Image: rt.Ref(), Insecure: podruntime.Insecure(cfg, m.Ref)}
	fmt.Fprintf(o.Progress, "serving model %s (%s, %s)\n", ref, bytesize.Format(m.Size), m.Digest[:19])
	return nil
}

// podRef is ref in cfg's registry as pods reach it.
func podRef(ctx context.Context, c *deployer.Client, cfg *config.Config, ref string) string {
	if cfg.Registry != "" {
		if host, _, _ := strings.Cut(cfg.Registry, "/"); strings.HasPrefix(ref, host+"/") {
			phost, _, _ := strings.Cut(c.PodRegistry(ctx, host), "/")
			return phost + strings.TrimPrefix(ref, host)
		}
	}
	return ref
}

// gitRevision is the commit of the repository holding path, with
// "-dirty" when it has changes; empty outside a repository.
func gitRevision(path string) string {
	dir := path
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		dir = filepath.Dir(path)
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "-dirty"
	}
	return rev
}

// stockServer makes o serve cfg's model with fair's stock server for its
// format (ONNX: cmd/fair-onnx, built from fair's embedded source), named
// after the model.
func stockServer(ctx context.Context, o *Options) error {
	cfg := o.Config
	ref, err := models.Ref(cfg.Registry, cfg.Model)
	if err != nil {
		return err
	}
	m, err := models.Get(ctx, ref, ModelOptions(cfg, ref))
	if err != nil {
		return err
	}
	if m.Format != "onnx" {
		return fmt.Errorf("model %s holds no .onnx file, so fair has no stock server for it: give the server's source (fair serve ./server --model %s)", cfg.Model, cfg.Model)
	}
	if o.DryRun == "client" {
		o.Image = deployer.RefScheme + "fair-onnx"
	} else if o.Image, err = podruntime.Program(ctx, cfg, "fair-onnx", build.Options{Progress: o.Progress, TTY: o.TTY}); err != nil {
		return err
	}
	cfg.Env = append(cfg.Env, "FAIR_MODEL_NAME="+m.Name)
	if cfg.Name == "" {
		cfg.Name = deployer.DNSLabel(m.Name, "onnx")
	}
	return nil
}
