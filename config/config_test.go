package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestPrecedence(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, FileName)
	if err := os.WriteFile(file, []byte("registry: file.example/team\nbase: file-base\ngpus: 2\nplatforms: [linux/amd64, linux/arm64]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(WithDir(sub), WithEnv(env(map[string]string{"FAIR_BASE": "env-base", "FAIR_BUILDKIT_ADDR": "unix:///bk.sock", "FAIR_GPU_RESOURCE": "amd.com/gpu"})))
	if err != nil {
		t.Fatal(err)
	}
	if c.File != file {
		t.Errorf("fair.yaml found at %q, want %q (walking up)", c.File, file)
	}
	checks := []struct{ key, value, origin string }{
		{"registry", "file.example/team", file},
		{"base", "env-base", "env FAIR_BASE"},
		{"buildkit", "unix:///bk.sock", "env FAIR_BUILDKIT_ADDR"},
		{"gpuResource", "amd.com/gpu", "env FAIR_GPU_RESOURCE"},
		{"gpus", "2", file},
		{"platforms", "linux/amd64,linux/arm64", file},
		{"workdir", "/app", OriginDefault},
	}
	for _, ch := range checks {
		v, _ := c.Get(ch.key)
		if v != ch.value || c.Origin(ch.key) != ch.origin {
			t.Errorf("%s = %q from %q, want %q from %q", ch.key, v, c.Origin(ch.key), ch.value, ch.origin)
		}
	}
	// A flag beats both.
	if err := c.Set("base", "flag-base", "flag --base"); err != nil {
		t.Fatal(err)
	}
	if c.Base != "flag-base" || c.Origin("base") != "flag --base" {
		t.Errorf("flag did not win: %q from %q", c.Base, c.Origin("base"))
	}
}

func TestSetParsesAndRejects(t *testing.T) {
	c := Default()
	for _, k := range []string{"gpu-resource", "GPU_RESOURCE", "gpuresource"} {
		if err := c.Set(k, "nvidia.com/gpu", OriginSet); err != nil {
			t.Errorf("key spelling %q: %v", k, err)
		}
	}
	bad := []struct{ key, value, want string }{
		{"gpus", "two", "whole number"},
		{"gpus", "-1", "whole number"},
		{"ttl", "soon", "duration"},
		{"onInterrupt", "explode", "detach or cancel"},
		{"nosuchkey", "x", "unknown configuration key"},
	}
	for _, b := range bad {
		if err := c.Set(b.key, b.value, OriginSet); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Set(%s, %s) = %v, want error with %q", b.key, b.value, err, b.want)
		}
	}
	if err := c.Set("env", "A=1, B=2", OriginSet); err != nil || len(c.Env) != 2 || c.Env[1] != "B=2" {
		t.Errorf("list parse: %v %q", err, c.Env)
	}
}

func TestUnknownKeyInFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("registy: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(WithDir(dir), WithEnv(env(nil)))
	if err == nil || !strings.Contains(err.Error(), "registy") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

// YAML 1.1 would make namespace "false" and tag "true".
func TestFileValuesAreWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	data := "namespace: no\ntag: yes\ncpu: 2\nname: y\nregistry: r.example/t\n\ngpus: 1\n"
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(WithDir(dir), WithEnv(env(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "no" || c.Tag != "yes" || c.CPU != "2" || c.Name != "y" || c.GPUs != 1 {
		t.Fatalf("got namespace %q tag %q cpu %q name %q gpus %d", c.Namespace, c.Tag, c.CPU, c.Name, c.GPUs)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("registry: r\ngpus: lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(WithDir(dir), WithEnv(env(nil)))
	if err == nil || !strings.Contains(err.Error(), "fair.yaml: line 2: gpus") {
		t.Fatalf("want file, line and key, got %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := Default()
	_ = c.Set("env", "A=1", OriginSet)
	n := c.Clone()
	_ = n.Set("env", "B=2", OriginFlag)
	n.Env[0] = "X"
	if c.Env[0] != "A=1" || c.Origin("env") != OriginSet {
		t.Fatalf("clone shares state: %q %q", c.Env, c.Origin("env"))
	}
}

func TestSaveRoundTrip(t *testing.T) {
	c := Default()
	_ = c.Set("registry", "r.example/x", OriginSet)
	_ = c.Set("gpus", "1", OriginFlag)
	_ = c.Set("kubeconfig", "/secret/path", "env KUBECONFIG")
	_ = c.Set("env", "TOKEN=s3cret", OriginSet)
	p := filepath.Join(t.TempDir(), FileName)
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if strings.Contains(string(data), "kubeconfig") || strings.Contains(string(data), "workdir") || strings.Contains(string(data), "s3cret") {
		t.Errorf("saved environment or default values:\n%s", data)
	}
	back, err := Load(WithDir(filepath.Dir(p)), WithEnv(env(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if back.Registry != "r.example/x" || back.GPUs != 1 {
		t.Fatalf("round trip lost values: %+v\n%s", back, data)
	}
}

// The search for fair.yaml stops at a repository's root and at the home
// folder: a file planted above them is not read.
func TestFindStopsAtRepositoryAndHome(t *testing.T) {
	top := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(top, FileName), []byte("buildkit: tcp://planted.example:1234\n"), 0o644))
	repo := filepath.Join(top, "repo")
	must(os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	must(os.MkdirAll(filepath.Join(repo, "cmd", "train"), 0o755))
	if p, ok := Find(filepath.Join(repo, "cmd", "train")); ok {
		t.Errorf("found %s above the repository", p)
	}
	must(os.WriteFile(filepath.Join(repo, FileName), []byte("registry: r\n"), 0o644))
	if p, ok := Find(filepath.Join(repo, "cmd", "train")); !ok || p != filepath.Join(repo, FileName) {
		t.Errorf("the repository's own fair.yaml: %q %v", p, ok)
	}
	home := filepath.Join(top, "home")
	must(os.MkdirAll(filepath.Join(home, "proj"), 0o755))
	t.Setenv("HOME", home)
	if p, ok := Find(filepath.Join(home, "proj")); ok {
		t.Errorf("found %s above the home folder", p)
	}
}

func TestFromNotebook(t *testing.T) {
	for _, tc := range []struct {
		key, val string
		ok       bool
	}{
		{"gpus", "2", true}, {"kind", "pytorchjob", true}, {"include", "data/", true}, {"base", "my.reg/torch:2", true},
		{"registry", "evil.example", false}, {"kubeconfig", "/x", false}, {"namespace", "prod", false},
		{"buildkit", "tcp://x:1", false}, {"envFromSecrets", "db", false},
		{"include", "/root/.ssh", false}, {"include", "data,../../secret", false}, {"include", "~/x", false},
	} {
		if why := FromNotebook(tc.key, tc.val); (why == "") != tc.ok {
			t.Errorf("%s=%s: %q", tc.key, tc.val, why)
		}
	}
}

// A comma inside an env value stays in the value unless NAME= follows it,
// also when the flag is repeated (the values are joined with commas).
func TestEnvValuesKeepCommas(t *testing.T) {
	c := Default()
	if err := c.Set("env", "LAYERS=64,32,16,MODE=fast,EMPTY=,LIST=a,b", "test"); err != nil {
		t.Fatal(err)
	}
	want := []string{"LAYERS=64,32,16", "MODE=fast", "EMPTY=", "LIST=a,b"}
	if strings.Join(c.Env, "|") != strings.Join(want, "|") {
		t.Errorf("env = %q, want %q", c.Env, want)
	}
	joined, _ := c.Get("env")
	if err := c.Set("env", joined+",NEXT=1,2", "test"); err != nil {
		t.Fatal(err)
	}
	if len(c.Env) != 5 || c.Env[4] != "NEXT=1,2" || c.Env[0] != "LAYERS=64,32,16" {
		t.Errorf("after a second -e: %q", c.Env)
	}
	// Other lists split on every comma.
	if err := c.Set("labels", "a=1,b=2", "test"); err != nil || len(c.Labels) != 2 {
		t.Errorf("labels = %q (%v)", c.Labels, err)
	}
}

// BUILDKIT_HOST, as buildctl reads it, names the daemon when
// FAIR_BUILDKIT_ADDR is not set; fair's own variable wins when both are.
func TestBuildKitHostFromTheEcosystemVariable(t *testing.T) {
	for _, c := range []struct {
		env        map[string]string
		want, from string
	}{
		{map[string]string{"BUILDKIT_HOST": "tcp://bk:1234"}, "tcp://bk:1234", "env BUILDKIT_HOST"},
		{map[string]string{"BUILDKIT_HOST": "tcp://bk:1234", "FAIR_BUILDKIT_ADDR": "unix:///x.sock"}, "unix:///x.sock", "env FAIR_BUILDKIT_ADDR"},
		{map[string]string{}, "", ""},
	} {
		cfg, err := Load(WithDir(t.TempDir()), WithEnv(func(k string) string { return c.env[k] }))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BuildKit != c.want || cfg.Origin("buildkit") != c.from {
			t.Errorf("env %v: buildkit %q from %q, want %q from %q", c.env, cfg.BuildKit, cfg.Origin("buildkit"), c.want, c.from)
		}
	}
}
