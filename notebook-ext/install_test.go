package notebookext

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fair-go/fair/kernel"
)

func TestInstallKeepsOtherSettings(t *testing.T) {
	dir := t.TempDir()
	place := kernel.SpecPlace{Prefix: dir}
	cfgPath := filepath.Join(dir, "etc", "jupyter", "nbconfig", "notebook.json")
	must(t, os.MkdirAll(filepath.Dir(cfgPath), 0o755))
	must(t, os.WriteFile(cfgPath, []byte(`{"load_extensions": {"other/ext": true}, "Cell": {"cm_config": {"lineNumbers": true}}}`), 0o644))

	in, err := Install(place)
	must(t, err)
	js, err := os.ReadFile(in.Classic)
	must(t, err)
	if !strings.HasPrefix(string(js), "// fair's panel") || !strings.Contains(string(js), "load_ipython_extension") {
		t.Errorf("%s is not the built extension", in.Classic)
	}
	got := readJSON(t, cfgPath)
	ext := got["load_extensions"].(map[string]any)
	if ext[Require] != true || ext["other/ext"] != true || got["Cell"] == nil {
		t.Errorf("nbconfig after install = %v", got)
	}
	// Twice is the same as once.
	_, err = Install(place)
	must(t, err)

	_, err = Uninstall(place)
	must(t, err)
	if _, err := os.Stat(in.Classic); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s", in.Classic)
	}
	got = readJSON(t, cfgPath)
	ext = got["load_extensions"].(map[string]any)
	if _, ok := ext[Require]; ok || ext["other/ext"] != true {
		t.Errorf("nbconfig after uninstall = %v", got)
	}
}

func TestInstallRefusesBrokenConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "etc", "jupyter", "nbconfig", "notebook.json")
	must(t, os.MkdirAll(filepath.Dir(cfgPath), 0o755))
	must(t, os.WriteFile(cfgPath, []byte(`{"load_extensions": `), 0o644))
	if _, err := Install(kernel.SpecPlace{Prefix: dir}); err == nil || !strings.Contains(err.Error(), "notebook.json") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != `{"load_extensions": ` {
		t.Errorf("the broken file was changed: %q", b)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
