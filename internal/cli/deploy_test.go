package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/config"
)

// fair deploy SOURCE --kind KIND is fair train or fair serve, flag for
// flag: the same objects for the same flags.
func TestDeployRunsAsTrainOrServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img := "reg.example/m@sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct{ verb, kind string }{
		{"train", "pytorchjob"}, {"train", "job"}, {"serve", "deployment"}, {"serve", "kserve"},
	} {
		common := []string{"--image", img, "--kind", tc.kind, "--name", "d", "--gpus", "1", "--namespace", "ns", "--dry-run", "client"}
		if tc.kind == "pytorchjob" {
			common = append(common, "--workers", "3")
		}
		want, _, err := runFair(ctx, config.Default(), append([]string{tc.verb}, common...)...)
		if err != nil {
			t.Fatalf("%s: %v", tc.verb, err)
		}
		got, _, err := runFair(ctx, config.Default(), append([]string{"deploy"}, common...)...)
		if err != nil {
			t.Fatalf("deploy --kind %s: %v", tc.kind, err)
		}
		if got.String() != want.String() || !strings.Contains(got.String(), "name: d\n") {
			t.Errorf("deploy --kind %s printed\n%s\nwant what %s prints:\n%s", tc.kind, got, tc.verb, want)
		}
	}
	// --wait=false is --detach; a SOURCE without a kind is one line.
	if _, _, err := runFair(ctx, config.Default(), "deploy", "./somewhere"); err == nil || !strings.Contains(err.Error(), "needs --kind") {
		t.Errorf("deploy SOURCE without --kind: %v", err)
	}
	if _, _, err := runFair(ctx, config.Default(), "deploy", "./x", "--kind", "sparkjob"); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("deploy --kind sparkjob: %v", err)
	}
	out, _, err := runFair(ctx, config.Default(), "deploy", "--help")
	if err != nil || !strings.Contains(out.String(), "SOURCE --kind KIND") {
		t.Errorf("deploy --help: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, config.Default(), "deploy", "-f", "x.yaml", "--help")
	if err != nil || !strings.Contains(out.String(), "server-side apply") || strings.Contains(out.String(), "SOURCE --kind KIND") {
		t.Errorf("deploy -f --help: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, config.Default(), "deploy", "--kind", "job", "--help")
	if err != nil || !strings.Contains(out.String(), "--workers") {
		t.Errorf("deploy --kind job --help shows train's flags: %v\n%s", err, out)
	}
	target, rest, err := deployTarget(nil, config.Default(), []string{"./x", "--kind", "job", "--wait=false"})
	if err != nil || target.Name() != "train" || strings.Join(rest, " ") != "./x --kind job --detach" {
		t.Errorf("--wait=false: %v %v %v", target, rest, err)
	}
}

// --dry-run takes the same values on every command that creates objects,
// and a client dry run of deploy -f and pipeline run contacts no cluster.
func TestDryRunFlagEverywhere(t *testing.T) {
	cfg := config.Default()
	cfg.Kubeconfig = filepath.Join(t.TempDir(), "no-such-kubeconfig")
	ctx := context.Background()
	for _, args := range [][]string{
		{"train", "--image", "i", "--dry-run", "maybe"},
		{"serve", "--image", "i", "--dry-run=true"},
		{"deploy", "-f", "x.yaml", "--dry-run", "yes"},
		{"pipeline", "run", "p.yaml", "--dry-run", "client-side"},
	} {
		var err error
		if args[0] == "pipeline" {
			_, _, err = runPipelineCmd(ctx, cfg, args[1:]...)
		} else {
			_, _, err = runFair(ctx, cfg, args...)
		}
		if err == nil || !strings.Contains(err.Error(), "want none, client or server") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
	if _, _, err := runFair(ctx, cfg, "deploy", "-f", "x.yaml", "--dry-run"); err == nil || !strings.Contains(err.Error(), "needs an argument") {
		t.Errorf("bare --dry-run: err = %v", err)
	}
	// A manifest without fair:// references needs no build: the client dry
	// run prints it labelled, with no cluster (the kubeconfig does not exist).
	dir := t.TempDir()
	m := filepath.Join(dir, "cm.yaml")
	if err := os.WriteFile(m, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runFair(ctx, cfg, "deploy", "-f", m, "--dry-run", "client", "--name", "dr", "--namespace", "ns")
	if err != nil {
		t.Fatalf("deploy -f --dry-run client: %v\n%s", err, errOut)
	}
	for _, want := range []string{"kind: ConfigMap", "name: settings", "namespace: ns", "fair.dev/run: dr"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("client dry run output lacks %q:\n%s", want, out)
		}
	}
	// fair's own output keeps its run name: its pods carry it, and fair
	// ps, status and logs find them by it.
	own, _, err := runFair(ctx, cfg, "train", "--image", "reg.example/i:1", "--name", "keep", "--kind", "pytorchjob", "--workers", "2", "--dry-run", "client")
	if err != nil {
		t.Fatal(err)
	}
	m = filepath.Join(dir, "keep.yaml")
	must(t, os.WriteFile(m, []byte(own.String()), 0o644))
	// A fresh configuration: the one above now holds --name keep.
	fresh := config.Default()
	fresh.Kubeconfig = cfg.Kubeconfig
	out, _, err = runFair(ctx, fresh, "deploy", "-f", m, "--dry-run", "client", "--namespace", "ns")
	if err != nil || strings.Count(out.String(), "fair.dev/run: keep") != strings.Count(own.String(), "fair.dev/run: keep") || strings.Contains(out.String(), "fair.dev/run: keep-") {
		t.Errorf("fair deploy -f of fair's own YAML: %v\n%s", err, out)
	}
}

// A verb that wants a run's name says so, with where to find one.
func TestMissingNameSaysWhich(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"logs"}, {"predict"}, {"pipeline", "status"}, {"sweep", "status"}} {
		_, _, err := runFair(context.Background(), config.Default(), args...)
		if err == nil || !strings.Contains(err.Error(), ": name the ") || !strings.Contains(err.Error(), " lists them); usage: fair ") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := runFair(context.Background(), config.Default(), "status", "a", "b"); err == nil || !strings.Contains(err.Error(), "takes one run name, got 2: a b") {
		t.Errorf("two names: %v", err)
	}
}

// A kubeconfig that points at some other web server (every path 404): an
// error naming it, not an empty list or "batch/v1 is not installed".
func TestNotAnAPIServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+srv.URL+`"}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
users: [{name: u, user: {token: t}}]
current-context: x
`), 0o600))
	cfg := config.Default()
	must(t, cfg.Set("kubeconfig", kc, "test"))
	for _, args := range [][]string{{"ps"}, {"train", "--image", "reg.example/x@sha256:" + strings.Repeat("a", 64), "--name", "x"}} {
		_, _, err := runFair(context.Background(), cfg, args...)
		if err == nil || !strings.Contains(err.Error(), "does not serve") || !strings.Contains(err.Error(), "which every Kubernetes API server does") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
