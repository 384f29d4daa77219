package launch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

// A run past its front door: the build and the cluster are options, so a
// front door (or this test) gives its own.
func TestInjectedBuildAndCluster(t *testing.T) {
	cfg := config.Default()
	if err := cfg.Set("gpus", "2", "test"); err != nil {
		t.Fatal(err)
	}
	var built string
	noCluster := errors.New("no cluster in this test")
	o := Options{Config: cfg, Path: "../examples/train-go", Args: []string{"--epochs", "3"},
		Build: func(_ context.Context, _ *config.Config, bo build.Options) (string, error) {
			built = bo.Path + " " + bo.Verb
			return "reg.example/train@sha256:" + strings.Repeat("b", 64), nil
		},
		Connect: func(*config.Config) (*deployer.Client, error) { return nil, noCluster },
	}
	if err := Train(context.Background(), o); !errors.Is(err, noCluster) {
		t.Fatalf("train: %v, want the injected cluster's error", err)
	}
	if built != "../examples/train-go train" {
		t.Errorf("built %q", built)
	}
	w, err := Prepare(context.Background(), o, deployer.KindJob)
	if err != nil || w.GPUs != 2 || strings.Join(w.Args, " ") != "--epochs 3" || !strings.HasPrefix(w.Image, "reg.example/train@") || !strings.HasPrefix(w.Name, "train-go-") {
		t.Errorf("workload %+v, %v", w, err)
	}
	// A bad flag is an error before anything is built.
	built = ""
	must(t, cfg.Set("memory", "8X", "test"))
	if err := Train(context.Background(), o); err == nil || !strings.Contains(err.Error(), `--memory "8X"`) || built != "" {
		t.Errorf("bad memory: %v, built %q", err, built)
	}
	must(t, cfg.Set("memory", "", "test"))
	// A client dry run builds nothing and needs no cluster.
	var out bytes.Buffer
	built = ""
	o.DryRun, o.Out = "client", &out
	must(t, cfg.Set("namespace", "ns", "test"))
	if err := Train(context.Background(), o); err != nil || built != "" || !strings.Contains(out.String(), "image: fair://../examples/train-go") {
		t.Errorf("dry run: %v, built %q\n%s", err, built, out.String())
	}
}

// The cluster is reached beside the build: when it cannot be, the build is
// stopped and the cluster's error said, not after a build of minutes; a
// build that fails on its own says so without waiting for the cluster.
func TestClusterCheckedBesideTheBuild(t *testing.T) {
	cfg := config.Default()
	noCluster := errors.New("cannot reach the cluster")
	stopped := make(chan struct{})
	o := Options{Config: cfg, Path: "../examples/train-go",
		Build: func(ctx context.Context, _ *config.Config, _ build.Options) (string, error) {
			<-ctx.Done() // a long build, stopped only by the check
			close(stopped)
			return "", ctx.Err()
		},
		Connect: func(*config.Config) (*deployer.Client, error) { return nil, noCluster },
	}
	if err := Train(context.Background(), o); !errors.Is(err, noCluster) {
		t.Fatalf("train: %v, want the cluster's error", err)
	}
	select {
	case <-stopped:
	default:
		t.Error("the build was not stopped")
	}
	// fair serve of a named kind (without one, it asks the cluster which
	// before anything else).
	must(t, cfg.Set("kind", "deployment", "test"))
	stopped = make(chan struct{})
	if err := Serve(context.Background(), o, ServeOptions{}); !errors.Is(err, noCluster) {
		t.Fatalf("serve --kind deployment: %v, want the cluster's error", err)
	}
	<-stopped

	// A compile error is said at once, while the cluster still answers.
	must(t, cfg.Set("kind", "", "test"))
	compile := errors.New("main.go:3: syntax error")
	slow := make(chan struct{})
	defer close(slow)
	o.Build = func(context.Context, *config.Config, build.Options) (string, error) { return "", compile }
	o.Connect = func(*config.Config) (*deployer.Client, error) { <-slow; return nil, noCluster }
	if err := Train(context.Background(), o); !errors.Is(err, compile) {
		t.Errorf("train: %v, want the build's error", err)
	}
}

// A run that uses the project's own template says so.
func TestTemplateOverrideIsNamed(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, ".fair", "templates"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".fair", "templates", "job.yaml"), []byte("kind: Job\n"), 0o644))
	cfg := config.Default()
	cfg.File = filepath.Join(dir, "fair.yaml")
	var b bytes.Buffer
	templateNote(&b, cfg, deployer.KindJob)
	templateNote(&b, cfg, deployer.KindPyTorchJob)
	if got := b.String(); got != "using the project's template "+filepath.Join(dir, ".fair/templates/job.yaml")+" for job\n" {
		t.Errorf("note %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A model name train cannot save under is refused before anything is
// built, a long one for its length.
func TestModelNameCheckedFirst(t *testing.T) {
	for name, want := range map[string]string{
		"Hostile_Model":          "not a reference",
		"m:v1":                   "not a reference",
		strings.Repeat("m", 300): "a name of 300 characters; a model name has at most 63",
	} {
		cfg := config.Default()
		must(t, cfg.Set("model", name, "test"))
		built := false
		o := Options{Config: cfg, Path: "../examples/train-go",
			Build:   func(context.Context, *config.Config, build.Options) (string, error) { built = true; return "", nil },
			Connect: func(*config.Config) (*deployer.Client, error) { return nil, errors.New("no cluster") },
		}
		if err := Train(context.Background(), o); err == nil || !strings.Contains(err.Error(), want) || built {
			t.Errorf("%.20s: %v (built %v)", name, err, built)
		}
	}
}
