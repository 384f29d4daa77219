package project

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/fair-go/fair/config"
)

// GoLand writes .run/*.run.xml run configurations in dir, which GoLand and
// IntelliJ pick up from the project folder: a shell configuration per
// task (run in the project folder) and a Go application per package (run
// or debug it locally, with fair.yaml's env). Files fair wrote before are
// replaced; other files in .run are left alone.
func GoLand(dir string, pkgs []string, cfg *config.Config) ([]string, error) {
	run := filepath.Join(dir, ".run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, err
	}
	module, err := goModule(dir)
	if err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, c runConfig) error {
		b, err := xml.MarshalIndent(component{Name: "ProjectRunConfigurationManager", Config: c}, "", "  ")
		if err != nil {
			return err
		}
		path := filepath.Join(run, fileName(name)+".run.xml")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	for _, t := range Tasks(pkgs) {
		script := t.Command + " " + shellJoin(t.Args)
		// GoLand has no prompt input: follow and delete take the run's
		// name from FAIR_RUN, set in the configuration's environment.
		script = strings.ReplaceAll(script, "'${input:fairRun}'", `"${FAIR_RUN:?set FAIR_RUN, the run's name (fair ps), in this configuration}"`)
		opts := []option{
			{"SCRIPT_TEXT", script},
			{"INDEPENDENT_SCRIPT_PATH", "true"}, {"SCRIPT_PATH", ""}, {"SCRIPT_OPTIONS", ""},
			{"INDEPENDENT_SCRIPT_WORKING_DIRECTORY", "true"}, {"SCRIPT_WORKING_DIRECTORY", "$PROJECT_DIR$"},
			{"INDEPENDENT_INTERPRETER_PATH", "true"}, {"INTERPRETER_PATH", "/bin/sh"}, {"INTERPRETER_OPTIONS", ""},
			{"EXECUTE_IN_TERMINAL", "true"}, {"EXECUTE_SCRIPT_FILE", "false"},
		}
		if err := write(t.Label, runConfig{Name: t.Label, Type: "ShConfigurationType", Options: opts, Method: method{V: "2"}}); err != nil {
			return written, err
		}
	}
	for _, p := range packages(pkgs) {
		imp := module
		if rel := strings.TrimPrefix(p, "./"); rel != "." {
			imp = module + "/" + rel
		}
		var envs []env
		for _, kv := range cfg.Env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				envs = append(envs, env{Name: k, Value: v})
			}
		}
		name := Prefix + "run locally (" + p + ")"
		c := runConfig{Name: name, Type: "GoApplicationRunConfiguration", Factory: "Go Application",
			Module:  &value{V: moduleName(dir)},
			WorkDir: &value{V: "$PROJECT_DIR$"},
			Kind:    &value{V: "PACKAGE"},
			Package: &value{V: imp},
			Dir:     &value{V: "$PROJECT_DIR$"},
			Envs:    &envList{Envs: envs},
			Method:  method{V: "2"},
		}
		if err := write(name, c); err != nil {
			return written, err
		}
	}
	return written, nil
}

type component struct {
	XMLName xml.Name  `xml:"component"`
	Name    string    `xml:"name,attr"`
	Config  runConfig `xml:"configuration"`
}

type runConfig struct {
	Name    string   `xml:"name,attr"`
	Type    string   `xml:"type,attr"`
	Factory string   `xml:"factoryName,attr,omitempty"`
	Module  *value   `xml:"module"`
	WorkDir *value   `xml:"working_directory"`
	Kind    *value   `xml:"kind"`
	Package *value   `xml:"package"`
	Dir     *value   `xml:"directory"`
	Options []option `xml:"option"`
	Envs    *envList `xml:"envs"`
	Method  method   `xml:"method"`
}

type option struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type value struct {
	V string `xml:"value,attr"`
}

type envList struct {
	Envs []env `xml:"env"`
}

type env struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type method struct {
	V string `xml:"v,attr"`
}

var (
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	shellSafe  = regexp.MustCompile(`^[A-Za-z0-9_./=:@%+-]+$`)
)

func fileName(label string) string {
	return strings.Trim(unsafeName.ReplaceAllString(label, "_"), "_.")
}

// moduleName is the IDE module of the project: its folder's name.
func moduleName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(dir)
}

// shellJoin quotes args for /bin/sh.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// goModule reads the module path of dir's go.mod ("" when it has none).
func goModule(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", filepath.Join(dir, "go.mod"))
}
