package project

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

// A cluster that does not answer: the file is written all the same, with
// one line saying what could not be detected; it validates against the
// schema and loads; a second init refuses to overwrite it.
func TestInitUnreachableCluster(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-written-anywhere}}]
contexts: [{name: nowhere, context: {cluster: c, user: u, namespace: ml}}]
current-context: nowhere
`), 0o600)
	cfg := config.Default()
	cfg.Set("kubeconfig", kc, "test")
	connect := func(c *config.Config) (*deployer.Client, error) {
		return deployer.Connect(deployer.WithKubeconfig(c.Kubeconfig), deployer.WithContext(c.Context), deployer.WithNamespace(c.Namespace))
	}
	d, err := Init(context.Background(), cfg, InitOptions{Dir: dir, Registry: "127.0.0.1:5055/team", Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) != 1 || strings.Contains(d.Problems[0], "\n") || !strings.Contains(d.Problems[0], "could not detect") {
		t.Errorf("problems: %q", d.Problems)
	}
	got := string(d.Written)
	for _, want := range []string{"# yaml-language-server: $schema=" + config.SchemaID, `registry: "127.0.0.1:5055/team"`, "context: nowhere", "namespace: ml"} {
		if !strings.Contains(got, want) {
			t.Errorf("fair.yaml lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "not-written-anywhere") {
		t.Error("a credential was written into fair.yaml")
	}
	// The schema accepts it, and fair loads it.
	sb, err := config.Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(sb))
	c := jsonschema.NewCompiler()
	c.AddResource(config.SchemaID, doc)
	s, err := c.Compile(config.SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := yaml.YAMLToJSON(d.Written)
	var v any
	json.Unmarshal(j, &v)
	if err := s.Validate(v); err != nil {
		t.Errorf("schema: %v", err)
	}
	loaded, err := config.Load(config.WithDir(dir), config.WithEnv(func(string) string { return "" }))
	if err != nil || loaded.Registry != "127.0.0.1:5055/team" || loaded.Namespace != "ml" {
		t.Errorf("load: %v %+v", err, loaded)
	}
	if _, err := Init(context.Background(), cfg, InitOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second init: %v", err)
	}
}
