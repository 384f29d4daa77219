// Package notebookext installs fair's notebook panel into Jupyter: the
// classic Notebook's nbextension and JupyterLab 4's prebuilt extension. The
// panel is TypeScript in this folder (src/), built by `make notebook-ext`
// into dist/, which is checked in and embedded here: a user who ran
// `go install` needs no Node.js.
package notebookext

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fair-go/fair/kernel"
)

//go:embed dist/classic/main.js
var classicJS []byte

// labFS is the JupyterLab prebuilt extension (dist/lab: package.json and
// static/), as @jupyterlab/builder wrote it.
//
//go:embed dist/lab
var labFS embed.FS

// LabName is the prebuilt extension's name: its folder under
// labextensions, and what `jupyter labextension list` shows.
const LabName = "jupyterlab-fair"

// ClassicJS is the classic Notebook extension (nbextensions/fair/main.js).
func ClassicJS() []byte { return classicJS }

// Require is the extension's requirejs name, enabled in nbconfig.
const Require = "fair/main"

// Installed says where the panel went.
type Installed struct {
	Classic string // the nbextension's file
	Config  string // the nbconfig/notebook.json that enables it
	Lab     string // the JupyterLab prebuilt extension's folder
}

// Install writes the classic Notebook extension into place's Jupyter data
// folder and enables it in its nbconfig, keeping the other settings there,
// and writes the JupyterLab extension into labextensions, where JupyterLab
// finds prebuilt extensions (no rebuild of JupyterLab).
func Install(place kernel.SpecPlace) (Installed, error) {
	in, err := paths(place)
	if err != nil {
		return in, err
	}
	if err := os.MkdirAll(filepath.Dir(in.Classic), 0o755); err != nil {
		return in, err
	}
	if err := writeFile(in.Classic, classicJS); err != nil {
		return in, err
	}
	if err := writeLab(in.Lab); err != nil {
		return in, err
	}
	return in, enable(in.Config, true)
}

// writeLab replaces the folder dir with dist/lab. The new files are
// written beside it and swapped in, so JupyterLab never lists a package.json
// whose remoteEntry file is missing (its name changes with each build).
func writeLab(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".fair-lab-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sub, err := fs.Sub(labFS, "dist/lab")
	if err != nil {
		return err
	}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		to := filepath.Join(tmp, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// Uninstall removes the extension and its nbconfig entry.
func Uninstall(place kernel.SpecPlace) (Installed, error) {
	in, err := paths(place)
	if err != nil {
		return in, err
	}
	if err := os.RemoveAll(filepath.Dir(in.Classic)); err != nil {
		return in, err
	}
	if err := os.RemoveAll(in.Lab); err != nil {
		return in, err
	}
	return in, enable(in.Config, false)
}

// Check says whether the panel is installed at place, enabled, and the
// one this fair embeds: nil, or one line saying what is missing or stale.
func Check(place kernel.SpecPlace) (Installed, error) {
	in, err := paths(place)
	if err != nil {
		return in, err
	}
	var problems []string
	same := func(path string, want []byte, what string) {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, what+" panel not installed")
		case err != nil:
			problems = append(problems, err.Error())
		case !bytes.Equal(b, want):
			problems = append(problems, what+" panel from another fair build")
		}
	}
	same(in.Classic, classicJS, "classic Notebook")
	if pkg, err := labFS.ReadFile("dist/lab/package.json"); err == nil {
		same(filepath.Join(in.Lab, "package.json"), pkg, "JupyterLab")
	}
	if _, err := os.Stat(in.Classic); err == nil {
		var cfg struct {
			Load map[string]any `json:"load_extensions"`
		}
		if b, err := os.ReadFile(in.Config); err != nil || json.Unmarshal(b, &cfg) != nil || cfg.Load[Require] != true {
			problems = append(problems, "classic Notebook panel not enabled in "+in.Config)
		}
	}
	if len(problems) > 0 {
		return in, errors.New(strings.Join(problems, "; "))
	}
	return in, nil
}

// paths are where the extension and its nbconfig go for place.
func paths(place kernel.SpecPlace) (Installed, error) {
	data, config, err := place.Jupyter()
	if err != nil {
		return Installed{}, err
	}
	return Installed{
		Classic: filepath.Join(data, "nbextensions", "fair", "main.js"),
		Config:  filepath.Join(config, "nbconfig", "notebook.json"),
		Lab:     filepath.Join(data, "labextensions", LabName),
	}, nil
}

// enable sets (or removes) load_extensions["fair/main"] in an nbconfig
// file, keeping every other key.
func enable(path string, on bool) error {
	cfg := map[string]any{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !on {
			return nil
		}
	case err != nil:
		return err
	default:
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return fmt.Errorf("%s: %v (fix or remove it; fair keeps the other settings there)", path, err)
			}
		}
	}
	ext, _ := cfg["load_extensions"].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
	}
	if on {
		ext[Require] = true
	} else {
		delete(ext, Require)
	}
	cfg["load_extensions"] = ext
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFile(path, append(out, '\n'))
}

// writeFile replaces path atomically.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fair-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
