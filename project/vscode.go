package project

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tailscale/hujson"

	"github.com/fair-go/fair/config"
)

// Prefix starts the label or name of every entry fair writes into an IDE's
// files: fair finds its own entries by it and updates them in place, and
// leaves every other entry (and the comments around them) as it was.
const Prefix = "fair: "

// Task is one command an IDE runs: a VSCode task, a GoLand shell run
// configuration. Args run as a process (no shell) in the project folder.
type Task struct {
	Label   string
	Command string
	Args    []string
	Group   string // build or test (VSCode's groups), or ""
}

// Tasks are fair's commands for the packages (folders relative to the
// project, default "."): build the image, train on the cluster, serve, and
// for a run named at the prompt, follow its logs or delete it.
func Tasks(pkgs []string) []Task {
	var out []Task
	for _, p := range packages(pkgs) {
		out = append(out,
			Task{Label: Prefix + "build image (" + p + ")", Command: "fair", Args: []string{"build", p}, Group: "build"},
			Task{Label: Prefix + "train on cluster (" + p + ")", Command: "fair", Args: []string{"train", p}},
			Task{Label: Prefix + "serve (" + p + ")", Command: "fair", Args: []string{"serve", p}},
		)
	}
	return append(out,
		Task{Label: Prefix + "follow logs", Command: "fair", Args: []string{"logs", "${input:fairRun}", "-f"}},
		Task{Label: Prefix + "delete run", Command: "fair", Args: []string{"delete", "${input:fairRun}"}},
		Task{Label: Prefix + "list runs", Command: "fair", Args: []string{"ps"}},
	)
}

func packages(pkgs []string) []string {
	if len(pkgs) == 0 {
		return []string{"."}
	}
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		p = filepath.ToSlash(filepath.Clean(p))
		if p != "." && !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") {
			p = "./" + p
		}
		out[i] = p
	}
	return out
}

// VSCode writes or merges .vscode/tasks.json, launch.json and
// settings.json in dir for pkgs, and returns the files it wrote.
func VSCode(dir string, pkgs []string, cfg *config.Config) ([]string, error) {
	vs := filepath.Join(dir, ".vscode")
	if err := os.MkdirAll(vs, 0o755); err != nil {
		return nil, err
	}
	var tasks []any
	for _, t := range Tasks(pkgs) {
		m := map[string]any{
			"label": t.Label, "type": "process", "command": t.Command, "args": t.Args,
			"options": map[string]any{"cwd": "${workspaceFolder}"},
			// Go compile errors of the build land on file:line.
			"problemMatcher": []string{"$go"},
			"detail":         "fair " + strings.Join(t.Args, " "),
		}
		if t.Group != "" {
			m["group"] = t.Group
		}
		tasks = append(tasks, m)
	}
	input := map[string]any{"id": "fairRun", "type": "promptString", "description": "the run's name (fair ps lists them)"}
	var launches []any
	for _, p := range packages(pkgs) {
		env := map[string]string{}
		for _, kv := range cfg.Env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		launches = append(launches, map[string]any{
			"name": Prefix + "run locally (" + p + ")", "type": "go", "request": "launch", "mode": "auto",
			"program": "${workspaceFolder}/" + strings.TrimPrefix(p, "./"), "env": env, "args": []string{},
		})
	}
	written := []string{}
	for _, f := range []struct {
		name  string
		empty string
		edits []edit
	}{
		{"tasks.json", "{\n\"version\": \"2.0.0\",\n\"tasks\": [\n]\n}\n", []edit{{"/tasks", "label", tasks}, {"/inputs", "id", []any{input}}}},
		{"launch.json", "{\n\"version\": \"0.2.0\",\n\"configurations\": [\n]\n}\n", []edit{{"/configurations", "name", launches}}},
		{"settings.json", "{\n}\n", nil},
	} {
		path := filepath.Join(vs, f.name)
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			b = []byte(f.empty)
		} else if err != nil {
			return written, err
		}
		v, err := hujson.Parse(b)
		if err != nil {
			return written, fmt.Errorf("%s: %v (fix or remove it; fair keeps what is there)", path, err)
		}
		for _, e := range f.edits {
			if err := mergeList(&v, e.ptr, e.key, e.entries); err != nil {
				return written, fmt.Errorf("%s: %v", path, err)
			}
		}
		if f.name == "settings.json" {
			if err := setSchema(&v); err != nil {
				return written, fmt.Errorf("%s: %v", path, err)
			}
		}
		v.Format()
		if err := os.WriteFile(path, v.Pack(), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

type edit struct {
	ptr, key string // the list, and the field that names an entry
	entries  []any
}

// mergeList replaces the entries of the list at ptr whose key field
// matches one of entries' (fair's own, by name) and appends the others;
// the user's entries, their order and their comments stay.
func mergeList(v *hujson.Value, ptr, key string, entries []any) error {
	std := v.Clone()
	std.Standardize()
	var doc map[string]any
	if err := json.Unmarshal(std.Pack(), &doc); err != nil {
		return err
	}
	name := strings.TrimPrefix(ptr, "/")
	var patch []map[string]any
	if _, ok := doc[name]; !ok {
		patch = append(patch, map[string]any{"op": "add", "path": ptr, "value": []any{}})
	}
	list, _ := doc[name].([]any)
	index := map[string]int{}
	for i, e := range list {
		if m, ok := e.(map[string]any); ok {
			if s, ok := m[key].(string); ok {
				index[s] = i
			}
		}
	}
	for _, e := range entries {
		id := e.(map[string]any)[key].(string)
		if i, ok := index[id]; ok {
			patch = append(patch, map[string]any{"op": "replace", "path": fmt.Sprintf("%s/%d", ptr, i), "value": e})
		} else {
			patch = append(patch, map[string]any{"op": "add", "path": ptr + "/-", "value": e})
		}
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return v.Patch(b)
}

// setSchema associates fair.yaml with its JSON Schema for the YAML
// extension (yaml.schemas), keeping the user's other associations.
func setSchema(v *hujson.Value) error {
	std := v.Clone()
	std.Standardize()
	var doc map[string]any
	if err := json.Unmarshal(std.Pack(), &doc); err != nil {
		return err
	}
	var patch []map[string]any
	if _, ok := doc["yaml.schemas"].(map[string]any); !ok {
		op := "add"
		if _, exists := doc["yaml.schemas"]; exists {
			op = "replace"
		}
		patch = append(patch, map[string]any{"op": op, "path": "/yaml.schemas", "value": map[string]any{}})
	}
	patch = append(patch, map[string]any{"op": "add", "path": "/yaml.schemas/" + strings.ReplaceAll(strings.ReplaceAll(config.SchemaID, "~", "~0"), "/", "~1"), "value": []string{"fair.yaml", "**/fair.yaml"}})
	b, _ := json.Marshal(patch)
	return v.Patch(b)
}
