package config

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("fair.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The published schema is the one the code makes, and every key has a
// description.
func TestSchemaIsCurrentAndDescribed(t *testing.T) {
	want, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("fair.schema.json")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("config/fair.schema.json is stale: run go generate ./config")
	}
	typ := reflect.TypeOf(Config{})
	for _, f := range fields() {
		if strings.TrimSpace(typ.Field(f.index).Tag.Get("desc")) == "" {
			t.Errorf("key %s has no desc tag", f.key)
		}
	}
}

func validateYAML(s *jsonschema.Schema, data []byte) error {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return err
	}
	return s.Validate(v)
}

// Every fair.yaml in the repository validates; a misspelt key and a
// wrong type are rejected, naming the key.
func TestSchemaValidatesFairYAML(t *testing.T) {
	s := compileSchema(t)
	n := 0
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.Name() == FileName {
			b, _ := os.ReadFile(p)
			if err := validateYAML(s, b); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			n++
		}
		return nil
	})
	good := []byte("registry: 127.0.0.1:5055/team\nkind: pytorchjob\nworkers: 3\ngpus: 1\nenv: [EPOCHS=3]\nmodel: lr\n")
	if err := validateYAML(s, good); err != nil {
		t.Errorf("a good fair.yaml: %v", err)
	}
	if err := validateYAML(s, []byte("registry: r\nnamespce: ml\n")); err == nil || !strings.Contains(err.Error(), "namespce") {
		t.Errorf("misspelt key: %v", err)
	}
	if err := validateYAML(s, []byte("gpus: two\n")); err == nil || !strings.Contains(err.Error(), "gpus") {
		t.Errorf("wrong type: %v", err)
	}
	if err := validateYAML(s, []byte("kind: cronjob\n")); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Errorf("unknown kind: %v", err)
	}
	t.Logf("%d fair.yaml files in the repository validate", n)
}
