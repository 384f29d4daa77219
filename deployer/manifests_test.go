package deployer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
	write("c.json", `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}`)
	write("notes.txt", "not a manifest")
	objs, err := ReadManifests(dir, nil)
	if err != nil || len(objs) != 3 || objs[2].GetKind() != "Secret" {
		t.Fatalf("folder: %v %d", err, len(objs))
	}
	objs, err = ReadManifests("-", strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"))
	if err != nil || len(objs) != 1 || objs[0].GetName() != "s" {
		t.Fatalf("stdin: %v %v", err, objs)
	}
	if _, err := ReadManifests("-", nil); err == nil {
		t.Error("stdin without one: no error")
	}
	write("bad.yaml", "apiVersion: v1\nkind: [\n")
	if _, err := ReadManifests(filepath.Join(dir, "bad.yaml"), nil); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("bad YAML: %v", err)
	}
	if _, err := ReadManifests(filepath.Join(dir, "none.yaml"), nil); err == nil || !strings.Contains(err.Error(), "-f ") {
		t.Errorf("missing file: %v", err)
	}
}
