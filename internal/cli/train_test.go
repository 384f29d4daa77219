package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
)

// deployRoot is a root command holding the deployer's verbs over cfg.
func deployRoot(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	root := &cobra.Command{Use: "fair", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.AddCommand(newTrainCmd(io, cfg), newServeCmd(io, cfg), newDeployCmd(io, cfg), newResolveCmd(io, cfg),
		newLogsCmd(io, cfg), newPsCmd(io, cfg), newStatusCmd(io, cfg), newDeleteCmd(io, cfg), newPredictCmd(io, cfg), newModelsCmd(io, cfg), newBaseCmd(io, cfg), newDoctorCmd(io, cfg),
		newLoginCmd(io, cfg), newLogoutCmd(io, cfg), newSweepCmd(io, cfg), newBuildKitCmd(io, cfg), newBuildCmd(io, cfg), newPipelineCmd(io, cfg))
	withCompletion(root, cfg)
	return root
}

// runFair runs one fair command line in process.
func runFair(ctx context.Context, cfg *config.Config, args ...string) (stdout, stderr *iostreams.SyncBuffer, err error) {
	return runFairStreams(ctx, cfg, nil, args...)
}

// runFairStreams is runFair that first hands the stdout and stderr buffers
// to streams, for tests that read output while the command runs.
func runFairStreams(ctx context.Context, cfg *config.Config, streams chan<- [2]*iostreams.SyncBuffer, args ...string) (stdout, stderr *iostreams.SyncBuffer, err error) {
	stdout, stderr = &iostreams.SyncBuffer{}, &iostreams.SyncBuffer{}
	if streams != nil {
		streams <- [2]*iostreams.SyncBuffer{stdout, stderr}
	}
	io := &iostreams.IOStreams{In: strings.NewReader(""), Out: stdout, Err: stderr}
	root := deployRoot(io, cfg)
	root.SetArgs(args)
	return stdout, stderr, root.ExecuteContext(ctx)
}

func TestTrainDryRunMapsEveryFlag(t *testing.T) {
	cfg := config.Default()
	out, _, err := runFair(context.Background(), cfg, "train", "--image", "reg/x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--dry-run", "client",
		"--name", "exp1", "-n", "team", "--kind", "pytorchjob", "--workers", "2", "--gpus", "2", "--gpu-resource", "amd.com/gpu",
		"--cpu", "4", "--memory", "8Gi", "--node-selector", "pool=gpu", "--toleration", "spot=yes:NoSchedule",
		"-e", "A=1", "--env", "B=2", "--env-from-secret", "creds", "--volume", "pvc:data:/mnt/data",
		"--service-account", "trainer", "--image-pull-secret", "pull", "--label", "team=ml", "--ttl", "1h",
		"--backoff-limit", "1", "--timeout", "2h", "--", "--epochs", "3")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := deployer.DecodeYAML([]byte(out.String()))
	if err != nil || len(objs) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	y := out.String()
	for _, want := range []string{
		"kind: PyTorchJob", "name: exp1", "namespace: team", "amd.com/gpu: \"2\"", "cpu: \"4\"", "memory: 8Gi",
		"pool: gpu", "key: spot", "value: \"yes\"", "name: A", "name: B", "name: creds", "claimName: data", "mountPath: /mnt/data",
		"serviceAccountName: trainer", "name: pull", "team: ml", "ttlSecondsAfterFinished: 3600", "backoffLimit: 1",
		"activeDeadlineSeconds: 7200", "- --epochs", "key: amd.com/gpu", "fair.dev/run: exp1", "app.kubernetes.io/managed-by: fair",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("missing %q in\n%s", want, y)
		}
	}
}

func TestTrainFlagsFromConfigFile(t *testing.T) {
	cfg := config.Default()
	cfg.Set("gpus", "3", "fair.yaml")
	cfg.Set("kind", "tfjob", "fair.yaml")
	out, _, err := runFair(context.Background(), cfg, "train", "--image", "i", "--dry-run", "client", "--name", "x", "-n", "d", "--kind", "job")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "kind: Job") || !strings.Contains(out.String(), "nvidia.com/gpu: \"3\"") {
		t.Errorf("flag should override kind, file should give gpus:\n%s", out)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "./src", "--image", "i"},
		{"train", "a", "b"},
		{"train", "--image", "i", "--kind", "mpijob", "--dry-run", "client"},
		{"train", "--image", "i", "--kind", "kserve", "--dry-run", "client"},
		{"train", "--image", "i", "--workers", "2", "--dry-run", "client"},
		{"train", "--image", "i", "--gpus", "-1"},
		{"train", "--image", "i", "--ttl", "soon"},
		{"train", "--image", "i", "--on-interrupt", "pause"},
		{"train", "--image", "i", "--volume", "data:/x", "--dry-run", "client"},
		{"serve", "--image", "i", "--kind", "job", "--dry-run", "client"},
		{"ps", "-o", "xml"},
	} {
		_, _, err := runFair(context.Background(), config.Default(), args...)
		if err == nil {
			t.Errorf("%v: no error", args)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error spans lines: %q", args, err)
		}
	}
}

func TestServeDryRunDeployment(t *testing.T) {
	out, _, err := runFair(context.Background(), config.Default(), "serve", "--image", "i", "--kind", "deployment", "--dry-run", "client",
		"--name", "svc", "-n", "d", "--port", "9000", "--replicas", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Deployment", "kind: Service", "replicas: 2", "containerPort: 9000", "value: \"9000\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestNoClusterIsOneClearLine(t *testing.T) {
	cfg := config.Default()
	cfg.Set("kubeconfig", t.TempDir()+"/missing", "test")
	_, _, err := runFair(context.Background(), cfg, "ps")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("err = %v", err)
	}
}

// fair train notebook.ipynb takes the flags of the notebook's %%kf train
// line; the command line wins over them.
func TestTrainNotebookTakesCellFlags(t *testing.T) {
	nb := "../../examples/notebooks/train.ipynb"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `nvidia.com/gpu: "1"`},
		{[]string{"--gpus", "3"}, `nvidia.com/gpu: "3"`},
	} {
		args := append([]string{"train", nb, "--dry-run", "client", "--namespace", "ns"}, tc.args...)
		out, errOut, err := runFair(context.Background(), config.Default(), args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut)
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: want %s in\n%s", tc.args, tc.want, out)
		}
		if len(tc.args) == 0 && !strings.Contains(errOut.String(), "using --gpus=1 from the %%kf train cell (cell 5)") {
			t.Errorf("no note about the notebook's flags: %s", errOut)
		}
	}
}

// A downloaded notebook's %%kf line shapes the run but may not decide where
// credentials go or what leaves the machine.
func TestNotebookLineCannotRedirectCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(line string) string {
		cells := []map[string]any{
			{"cell_type": "code", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil, "source": "import \"fmt\""},
			{"cell_type": "code", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil, "source": line + "\nfmt.Println(\"hi\")"},
		}
		b, _ := json.Marshal(map[string]any{"cells": cells, "metadata": map[string]any{"kernelspec": map[string]any{"name": "fair", "language": "go"}}, "nbformat": 4, "nbformat_minor": 5})
		p := filepath.Join(dir, "nb.ipynb")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ line, flag string }{
		{"%%kf train --registry evil.example/x", "--registry"},
		{"%%kf train --repo evil.example/x/y", "--repo"},
		{"%%kf train --kubeconfig /tmp/theirs", "--kubeconfig"},
		{"%%kf train --context prod", "--context"},
		{"%%kf train --buildkit tcp://evil.example:1234", "--buildkit"},
		{"%%kf train --service-account admin", "--service-account"},
		{"%%kf train --env-from-secret db-password", "--env-from-secret"},
		{"%%kf train --include /root/.ssh", "--include"},
		{"%%kf train --include ../../.kube", "--include"},
		{"%%kf train --insecure-registry evil.example", "--insecure-registry"},
	} {
		nb := write(tc.line)
		_, _, err := runFair(context.Background(), config.Default(), "train", nb, "--dry-run", "client", "--namespace", "ns")
		if err == nil || !strings.Contains(err.Error(), "sets "+tc.flag) || !strings.Contains(err.Error(), "--trust-notebook") {
			t.Errorf("%s: err = %v", tc.line, err)
		}
		switch tc.flag {
		case "--registry", "--repo", "--buildkit", "--include", "--insecure-registry":
			// fair build takes the line's build flags: the same rule.
			_, _, err := run(t, dir, nil, "build", "nb.ipynb", "--oci-layout", filepath.Join(t.TempDir(), "oci"))
			if err == nil || !strings.Contains(err.Error(), "sets "+tc.flag) {
				t.Errorf("build: %s: err = %v", tc.line, err)
			}
		}
	}
	// Shaping the run is fine; so is anything with --trust-notebook, and
	// the command line always decides.
	nb := write("%%kf train --gpus 2 --include data/ --registry evil.example/x")
	out, _, err := runFair(context.Background(), config.Default(), "train", nb, "--dry-run", "client", "--namespace", "ns", "--registry", "mine.example/me")
	if err != nil || !strings.Contains(out.String(), `nvidia.com/gpu: "2"`) {
		t.Errorf("command line registry wins, gpus taken: %v\n%s", err, out)
	}
	if _, _, err := runFair(context.Background(), config.Default(), "train", nb, "--dry-run", "client", "--namespace", "ns", "--trust-notebook"); err != nil {
		t.Errorf("--trust-notebook: %v", err)
	}
}
