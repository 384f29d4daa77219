package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

// CompileOptions say how Compile writes a pipeline.
type CompileOptions struct {
	Format       string // argo (default) or kfp
	NoBuild      bool   // leave fair://SOURCE placeholders instead of building
	ArtifactRepo string // default: next to the configured registry
	HostNetwork  bool
	Build        BuildOptions
	// PodRegistry, when set, maps a repository to the address pods reach
	// it at (a cluster's local-registry-hosting); without it a loopback
	// artifact repository gets a warning on Build.Progress.
	PodRegistry func(ctx context.Context, repo string) string
}

// Compile reads the pipeline at path, builds its steps (unless NoBuild)
// and returns it as an Argo Workflow or a KFP PipelineSpec, in YAML.
func Compile(ctx context.Context, cfg *config.Config, path string, o CompileOptions) ([]byte, error) {
	if o.Format == "" {
		o.Format = "argo"
	}
	if o.Format != "argo" && o.Format != "kfp" {
		return nil, fmt.Errorf("--format: want argo or kfp, got %q", o.Format)
	}
	p, err := Open(path)
	if err != nil {
		return nil, err
	}
	repo := o.ArtifactRepo
	if repo == "" && o.NoBuild && cfg.Registry == "" {
		repo = "REGISTRY/fair-artifacts"
	} else if repo, err = ArtifactRepo(cfg, o.ArtifactRepo); err != nil {
		return nil, err
	}
	if o.PodRegistry != nil && !o.HostNetwork {
		repo = o.PodRegistry(ctx, repo)
	}
	if host, _, _ := strings.Cut(repo, "/"); loopback(host) && !o.HostNetwork && o.Build.Progress != nil {
		fmt.Fprintf(o.Build.Progress, "warning: the steps push their outputs to %s, a loopback address no pod reaches; pass --artifact-repo with an address pods reach (fair pipeline run finds it in the cluster's local-registry-hosting ConfigMap), or --host-network\n", repo)
	}
	var imgs map[string]Built
	if o.NoBuild {
		imgs = p.Placeholders()
	} else if imgs, err = BuildImages(ctx, cfg, p, o.Build); err != nil {
		return nil, err
	}
	opts := Options{ArtifactRepo: repo, Insecure: InsecureHost(cfg, repo), Namespace: cfg.Namespace, HostNetwork: o.HostNetwork}
	if o.Format == "kfp" {
		return KFP(p, imgs, opts)
	}
	wf, err := Argo(p, imgs, opts)
	if err != nil {
		return nil, err
	}
	objs, err := p.Objects(imgs, opts)
	if err != nil {
		return nil, err
	}
	return deployer.EncodeYAML(append(objs, wf))
}

// StartOptions say how Start submits a pipeline.
type StartOptions struct {
	ArtifactRepo string // default: next to the configured registry
	HostNetwork  bool
	DryRun       bool // the API server validates the Workflow, nothing is stored
	// ForceConflicts takes over fields another field manager set on the
	// objects the steps share (ServiceAccount, Role, RoleBinding).
	ForceConflicts bool
	Build          BuildOptions
}

// Started is a submitted pipeline run.
type Started struct {
	Name          string
	Build, Submit time.Duration
	// Replaced is the phase of the finished run of the same name that
	// this one replaced, if any.
	Replaced string
}

// Start builds the pipeline's steps and submits it as an Argo Workflow named
// cfg.Name (or after the pipeline, with a suffix).
func (r *Runs) Start(ctx context.Context, cfg *config.Config, p *Pipeline, o StartOptions) (Started, error) {
	repo, err := ArtifactRepo(cfg, o.ArtifactRepo)
	if err != nil {
		return Started{}, err
	}
	if err := r.Installed(); err != nil {
		return Started{}, err
	}
	// A rerun with the same name replaces a finished run, as fair train
	// does, and refuses one still going; checked before any build.
	var replace string
	if cfg.Name != "" && !o.DryRun {
		if u, err := r.Get(ctx, cfg.Name); err == nil {
			st := WorkflowStatus(u)
			if !st.Done() {
				phase := "pending" // no workflow controller has picked it up
				if st.Phase != "" {
					phase = strings.ToLower(st.Phase)
				}
				return Started{}, fmt.Errorf("pipeline run %s is still %s: wait for it (fair pipeline logs %s -f -n %s), delete it (fair pipeline delete %s -n %s), or pick another --name",
					cfg.Name, phase, cfg.Name, r.c.Namespace, cfg.Name, r.c.Namespace)
			}
			replace = st.Phase
		}
	}
	start := time.Now()
	imgs, err := BuildImages(ctx, cfg, p, o.Build)
	if err != nil {
		return Started{}, err
	}
	s := Started{Name: cfg.Name, Build: time.Since(start)}
	if s.Name == "" {
		s.Name = deployer.NameFor(p.Name, time.Now())
	}
	opts := Options{
		ArtifactRepo: repo, Insecure: InsecureHost(cfg, repo), Namespace: r.c.Namespace, Name: s.Name,
		ServiceAccount: cfg.ServiceAccount, ImagePullSecrets: cfg.ImagePullSecrets, RegistrySecret: cfg.RegistrySecret, HostNetwork: o.HostNetwork,
	}
	if cfg.TTL != "" {
		if opts.TTL, err = time.ParseDuration(cfg.TTL); err != nil || opts.TTL <= 0 {
			return Started{}, fmt.Errorf("ttl %q: want a positive duration such as 24h", cfg.TTL)
		}
	}
	if !o.HostNetwork {
		// Step pods reach a local registry by its cluster-side address
		// (KEP-1755), as training pods and servers do.
		opts.ArtifactRepo = r.c.PodRegistry(ctx, repo)
	}
	wf, err := Argo(p, imgs, opts)
	if err != nil {
		return Started{}, err
	}
	objs, err := p.Objects(imgs, opts)
	if err != nil {
		return Started{}, err
	}
	submit := time.Now()
	if replace != "" {
		if err := r.deleteAndWait(ctx, s.Name, time.Minute); err != nil {
			return Started{}, err
		}
		s.Replaced = replace
	}
	if len(objs) > 0 {
		if _, err := r.c.Apply(ctx, objs, deployer.ApplyOptions{DryRun: o.DryRun, ForceConflicts: o.ForceConflicts}); err != nil {
			return Started{}, fmt.Errorf("pipeline %s: %v (training and serving steps need a ServiceAccount allowed to create their jobs and endpoints: set serviceAccount in fair.yaml, or ask for rights to create Roles)", p.Name, err)
		}
	}
	if err := r.Submit(ctx, wf, o.DryRun); err != nil {
		return Started{}, err
	}
	s.Submit = time.Since(submit)
	return s, nil
}

// deleteAndWait deletes the run called name and waits until it is gone.
func (r *Runs) deleteAndWait(ctx context.Context, name string, limit time.Duration) error {
	if err := r.Delete(ctx, name); err != nil && !errors.Is(err, ErrNoRun) {
		return err
	}
	for end := time.Now().Add(limit); ; {
		if _, err := r.Get(ctx, name); errors.Is(err, ErrNoRun) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("pipeline run %s: the finished run of that name is still being deleted after %s; try again, or pick another --name", name, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// loopback reports whether host (with an optional port) is this machine.
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
