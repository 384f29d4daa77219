package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

const sweepDir = "../../examples/sweep-go"

// noCluster is a configuration whose cluster cannot be reached, so a test
// shows that a refused sweep stopped before reaching for it.
func noCluster(t *testing.T) *config.Config {
	cfg := config.Default()
	for k, v := range map[string]string{"kubeconfig": filepath.Join(t.TempDir(), "none"), "namespace": "ns", "registry": "127.0.0.1:1/x"} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func TestSweepBadSpecs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := map[string][]string{
		`parameter lr: "abc" is neither a range`:                               {"-p", "lr=abc", "--objective", "loss"},
		"parameter opt: empty list":                                            {"-p", "opt=", "--objective", "loss"},
		"range 1..1 is empty":                                                  {"-p", "lr=1..1", "--objective", "loss"},
		`no file of ../../examples/sweep-go mentions "accuracy"`:               {"-p", "lr=0.1..1", "--objective", "accuracy"},
		"--objective: name the metric":                                         {"-p", "lr=0.1..1"},
		"at least one --param":                                                 {"--objective", "loss"},
		"--parallel 4 is more than --trials 2":                                 {"-p", "lr=0.1..1", "--objective", "loss", "--trials", "2", "--parallel", "4"},
		"--goal: want minimize or maximize":                                    {"-p", "lr=0.1..1", "--objective", "loss", "--goal", "down"},
		"--algorithm-setting":                                                  {"-p", "lr=0.1..1", "--objective", "loss", "--algorithm-setting", "seed"},
		"--goal-value":                                                         {"-p", "lr=0.1..1", "--objective", "loss", "--goal-value", "low"},
		"kind deployment: a sweep's trials run as job, pytorchjob or trainjob": {"-p", "lr=0.1..1", "--objective", "loss", "--kind", "deployment"},
	}
	for want, args := range cases {
		_, _, err := runFair(ctx, noCluster(t), append([]string{"sweep", sweepDir}, args...)...)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: got %v, want one line with %q", args, err, want)
		}
	}
}

// A client dry run shows the Experiment without a cluster or a build.
func TestSweepDryRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _, err := runFair(ctx, noCluster(t), "sweep", sweepDir, "--name", "sw", "-p", "lr=0.001..0.1:log", "-p", "opt=adam,sgd",
		"--objective", "loss", "--goal", "minimize", "--trials", "4", "--parallel", "2", "--gpus", "2", "--dry-run=client")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := deployer.DecodeYAML([]byte(out.String()))
	if err != nil || len(objs) != 1 || objs[0].GetKind() != "Experiment" || objs[0].GetName() != "sw" {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"image: fair://" + sweepDir, "nvidia.com/gpu: \"2\"", "value: ${trialParameters.lr}", "parameterType: categorical", "maxTrialCount: 4", "kind: StdOut"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

// fair.yaml's sweep: section gives what the flags do not; a flag wins.
func TestSweepFromFairYAML(t *testing.T) {
	dir := t.TempDir()
	yaml := "sweep:\n  params: [\"lr=0.01..0.1:log\", \"opt=adam,sgd\"]\n  objective: loss\n  goal: maximize\n  trials: 5\n  parallel: 1\n  algorithm: tpe\n"
	if err := os.WriteFile(filepath.Join(dir, "fair.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"kubeconfig": filepath.Join(dir, "none"), "namespace": "ns"} {
		cfg.Set(k, v, "test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _, err := runFair(ctx, cfg, "sweep", sweepDir, "--name", "y", "--trials", "4", "--dry-run=client")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"maxTrialCount: 4", "parallelTrialCount: 1", "type: maximize", "algorithmName: tpe", "distribution: logUniform", "- sgd"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// A typo in the section names its line.
	if err := os.WriteFile(filepath.Join(dir, "fair.yaml"), []byte("sweep:\n  objectiv: loss\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(config.WithDir(dir)); err == nil || !strings.Contains(err.Error(), `line 2: unknown key "objectiv"`) {
		t.Errorf("typo: %v", err)
	}
}
