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
	checkLab(t, in.Lab)
	// A file of an earlier build (remoteEntry names change) does not stay.
	stale := filepath.Join(in.Lab, "static", "remoteEntry.0123.js")
	must(t, os.WriteFile(stale, []byte("old"), 0o644))
	// Twice is the same as once.
	_, err = Install(place)
	must(t, err)
	checkLab(t, in.Lab)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a second install left %s", stale)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(in.Lab), ".fair-*")); len(left) > 0 {
		t.Errorf("install left %v", left)
	}

	_, err = Uninstall(place)
	must(t, err)
	if _, err := os.Stat(in.Classic); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s", in.Classic)
	}
	if _, err := os.Stat(in.Lab); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s", in.Lab)
	}
	got = readJSON(t, cfgPath)
	ext = got["load_extensions"].(map[string]any)
	if _, ok := ext[Require]; ok || ext["other/ext"] != true {
		t.Errorf("nbconfig after uninstall = %v", got)
	}
}

// Check tells a missing, a stale and a disabled panel from a good one.
func TestCheck(t *testing.T) {
	place := kernel.SpecPlace{Prefix: t.TempDir()}
	if _, err := Check(place); err == nil || !strings.Contains(err.Error(), "classic Notebook panel not installed") || !strings.Contains(err.Error(), "JupyterLab panel not installed") {
		t.Errorf("nothing installed: %v", err)
	}
	in, err := Install(place)
	must(t, err)
	if _, err := Check(place); err != nil {
		t.Errorf("just installed: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(in.Lab, "package.json"), []byte(`{"name": "jupyterlab-fair", "version": "0.0.1"}`), 0o644))
	if _, err := Check(place); err == nil || !strings.Contains(err.Error(), "JupyterLab panel from another fair build") {
		t.Errorf("stale Lab extension: %v", err)
	}
	_, err = Install(place)
	must(t, err)
	must(t, enable(in.Config, false))
	if _, err := Check(place); err == nil || !strings.Contains(err.Error(), "not enabled") {
		t.Errorf("disabled: %v", err)
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

// checkLab: dir is a prebuilt JupyterLab extension as JupyterLab reads it:
// labextensions/NAME/package.json naming the remoteEntry file it loads.
func checkLab(t *testing.T, dir string) {
	t.Helper()
	if filepath.Base(dir) != LabName || filepath.Base(filepath.Dir(dir)) != "labextensions" {
		t.Errorf("lab extension folder %s, want .../labextensions/%s", dir, LabName)
	}
	pkg := readJSON(t, filepath.Join(dir, "package.json"))
	lab, _ := pkg["jupyterlab"].(map[string]any)
	build, _ := lab["_build"].(map[string]any)
	load, _ := build["load"].(string)
	if pkg["name"] != LabName || build["extension"] != "./extension" || !strings.HasPrefix(load, "static/remoteEntry.") {
		t.Fatalf("%s/package.json: name %v, _build %v", dir, pkg["name"], build)
	}
	js, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(load)))
	must(t, err)
	if !strings.Contains(string(js), `_JUPYTERLAB`) || !strings.Contains(string(js), `"jupyterlab-fair"`) {
		t.Errorf("%s is not the extension's federated container", load)
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
