// Package project writes fair's files into a user's project: fair.yaml
// (Init, from what the machine and the cluster say) and the IDE run
// configurations (VSCode, GoLand). The CLI, the notebook panel and the IDE
// files call these functions; none of them knows another way.
package project

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

// InitOptions are what fair init writes. Empty values are detected.
type InitOptions struct {
	Dir       string // where fair.yaml goes
	Registry  string
	Context   string
	Namespace string
	Base      string
	Force     bool // overwrite an existing fair.yaml
	// Connect reaches the cluster to detect its kinds; nil skips that.
	Connect func(cfg *config.Config) (*deployer.Client, error)
}

// Detected is what Init found, and what it could not.
type Detected struct {
	Path      string
	Kinds     []string // kinds the cluster serves (one line each in the file)
	Runtimes  []string // TrainJob runtimes
	Problems  []string // one line each: what could not be detected
	Written   []byte
	Namespace string
	Context   string
}

// Init writes a commented fair.yaml for the project in o.Dir. It never
// writes a secret: registry credentials stay in the Docker config, cluster
// credentials in the kubeconfig.
func Init(ctx context.Context, cfg *config.Config, o InitOptions) (*Detected, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	path := filepath.Join(o.Dir, config.FileName)
	if _, err := os.Stat(path); err == nil && !o.Force {
		return nil, fmt.Errorf("%s exists; --force overwrites it", path)
	}
	d := &Detected{Path: path}
	reg := first(o.Registry, cfg.Registry)
	if reg == "" {
		d.Problems = append(d.Problems, "no registry: set registry: in fair.yaml, FAIR_REGISTRY or --registry")
	}
	c := *cfg
	if o.Context != "" {
		c.Context = o.Context
	}
	if o.Namespace != "" {
		c.Namespace = o.Namespace
	}
	d.Context, d.Namespace = c.Context, c.Namespace
	if o.Connect != nil {
		client, err := o.Connect(&c)
		if err != nil {
			d.Problems = append(d.Problems, "no cluster detected: "+err.Error())
		} else {
			d.Context = first(d.Context, client.Context)
			d.Namespace = first(d.Namespace, client.Namespace)
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			for _, k := range deployer.Kinds {
				ok, err := client.Installed(k)
				if err != nil {
					d.Problems = append(d.Problems, "could not detect the cluster's kinds: "+firstLine(err.Error()))
					break
				}
				if ok {
					d.Kinds = append(d.Kinds, string(k))
				}
			}
			if contains(d.Kinds, "trainjob") {
				d.Runtimes, _ = client.Runtimes(dctx)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# yaml-language-server: $schema=%s\n", config.SchemaID)
	b.WriteString("# fair's configuration for this project (fair init). Flags and FAIR_*\n# variables override it; `fair config view` shows where each value comes from.\n\n")
	line := func(key, value string) {
		fmt.Fprintf(&b, "# %s\n", config.Description(key))
		if value == "" {
			fmt.Fprintf(&b, "# %s:\n\n", key)
		} else {
			fmt.Fprintf(&b, "%s: %s\n\n", key, quote(value))
		}
	}
	line("registry", reg)
	line("context", d.Context)
	line("namespace", d.Namespace)
	line("base", first(o.Base, ""))
	if len(d.Kinds) > 0 {
		b.WriteString("# Kinds this cluster runs (detected by fair init):\n")
		for _, k := range d.Kinds {
			fmt.Fprintf(&b, "#   %s\n", k)
		}
		if len(d.Runtimes) > 0 {
			fmt.Fprintf(&b, "# TrainJob runtimes: %s\n", strings.Join(d.Runtimes, ", "))
		}
		b.WriteString("\n")
	}
	line("kind", "")
	line("gpus", "")
	d.Written = []byte(b.String())
	if err := os.WriteFile(path, d.Written, 0o644); err != nil {
		return nil, err
	}
	return d, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// quote writes a YAML scalar that stays a string.
func quote(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") || strings.TrimSpace(s) != s {
		return fmt.Sprintf("%q", s)
	}
	return s
}
