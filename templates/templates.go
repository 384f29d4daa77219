// Package templates holds the manifest templates fair renders for each
// workload kind, one file per kind, embedded in the binary. A project
// overrides one by putting a file of the same name in .fair/templates/.
//
// Templates are Go text/templates producing YAML (one or more documents
// separated by "---"). The values, all on the top-level object:
//
//	.Name            run name (also the value of the fair.dev/run label)
//	.Namespace       target namespace
//	.Kind            workload kind (job, pytorchjob, ...)
//	.Image           image reference, by digest when fair built it
//	.Labels          map: app.kubernetes.io/managed-by, fair.dev/run, fair.dev/kind and --label values
//	.Container       map: the main container's fields except name (image, command, args, env, envFrom, resources, volumeMounts)
//	.ContainerNoGPU  the same without GPU resources (parameter servers)
//	.Pod             map: pod spec fields (nodeSelector, tolerations, volumes, serviceAccountName, imagePullSecrets)
//	.Resources       map: requests and limits of the main container
//	.Env             list of {name, value}
//	.GPUs .GPUResource .CPU .Memory
//	.Workers         replicas doing work (at least 1); .WorkerReplicas = .Workers - 1
//	.PS              TFJob parameter servers
//	.Replicas .Port  serving replicas and container port
//	.Runtime         TrainJob runtime name
//	.BackoffLimit    retries before a job fails
//	.TTLSeconds      ttlSecondsAfterFinished (0: not set)
//	.DeadlineSeconds activeDeadlineSeconds (0: not set)
//
// Functions: toYaml (a value as YAML; empty for an empty value), indent N,
// nindent N (newline then indent), quote.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

//go:embed *.yaml
var builtin embed.FS

// OverrideDir is where a project keeps its own templates, relative to the
// project root (the folder of fair.yaml, or the working directory).
const OverrideDir = ".fair/templates"

// Source returns the text of the template name (e.g. "job.yaml") and where
// it came from: the file in dir/.fair/templates when present, else the
// built-in one.
func Source(dir, name string) (text []byte, from string, err error) {
	if dir != "" {
		p := filepath.Join(dir, OverrideDir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return b, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	b, err := builtin.ReadFile(name)
	if err != nil {
		return nil, "", fmt.Errorf("no template %q", name)
	}
	return b, "builtin:" + name, nil
}

// Names lists the built-in templates.
func Names() []string {
	ents, _ := builtin.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// Render executes the template name with values and returns the YAML.
func Render(dir, name string, values any) ([]byte, error) {
	text, from, err := Source(dir, name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Funcs(Funcs).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("template %s: %v", from, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, values); err != nil {
		return nil, fmt.Errorf("template %s: %v", from, err)
	}
	return buf.Bytes(), nil
}

// Funcs are the functions templates may call.
var Funcs = template.FuncMap{
	"toYaml":  toYaml,
	"indent":  indent,
	"nindent": func(n int, s string) string { return "\n" + indent(n, s) },
	"quote":   strconv.Quote,
}

func toYaml(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "{}" || s == "[]" || s == "null" {
		return "", nil
	}
	return s, nil
}

func indent(n int, s string) string {
	if s == "" {
		return ""
	}
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}
