package cli

import (
	"context"
	"sync"
	"time"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/pipeline"
)

// panelSource feeds the notebook panel (the kernel's "fair" comm) from the
// same listing as fair ps and fair pipeline status, with the kernel's
// configuration as %kf config leaves it.
type panelSource struct {
	m *kfMagic

	mu  sync.Mutex
	key config.Config // the cluster settings c was made for
	c   *deployer.Client
}

func (p *panelSource) config() *config.Config {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.m.cfg.Clone()
}

// client reuses one connection while the cluster settings stay the same:
// the kernel asks twice a second while a panel is open.
func (p *panelSource) client(cfg *config.Config) (*deployer.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := config.Config{Kubeconfig: cfg.Kubeconfig, Context: cfg.Context, Namespace: cfg.Namespace}
	if p.c != nil && p.key.Kubeconfig == k.Kubeconfig && p.key.Context == k.Context && p.key.Namespace == k.Namespace {
		return p.c, nil
	}
	c, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	p.c, p.key = c, k
	return c, nil
}

func (p *panelSource) runs(ctx context.Context) ([]kernel.Run, error) {
	cfg := p.config()
	c, err := p.client(cfg)
	if err != nil {
		return nil, err
	}
	list, err := c.List(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]kernel.Run, 0, len(list))
	for _, s := range list {
		out = append(out, kernel.Run{
			Name: s.Name, Kind: string(s.Kind), Phase: string(s.Phase), Ready: s.Ready, Total: s.Total,
			GPUs: s.GPUs, Created: stamp(s.Created), Image: s.Image, Message: firstLine(s.Message), Namespace: s.Namespace,
		})
	}
	// Pipelines, where Argo is installed: a missing CRD is no error here.
	if wfs, err := pipeline.NewRuns(c).List(ctx, ""); err == nil {
		for _, w := range wfs {
			out = append(out, kernel.Run{Name: w.Name, Kind: "pipeline", Phase: phaseOr(w.Phase, "Pending"), Ready: w.Succeeded(), Total: len(w.Steps),
				Created: stamp(w.Created), Message: firstLine(w.Message), Namespace: c.Namespace})
		}
	}
	return out, nil
}

func (p *panelSource) defaults() map[string]any {
	cfg := p.config()
	kinds := make([]string, len(deployer.Kinds))
	for i, k := range deployer.Kinds {
		kinds[i] = string(k)
	}
	return map[string]any{
		"gpus": cfg.GPUs, "workers": cfg.Workers, "kind": cfg.Kind, "kinds": kinds,
		"namespace": cfg.Namespace, "registry": cfg.Registry, "model": cfg.Model,
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func phaseOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}
