package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/deployer"
)

// Manifests reads Kubernetes YAML files (a file, a folder, or "-" for
// stdin), builds each distinct fair://path reference once, puts the image
// reference by digest in its place, and labels every object as part of the
// run cfg.Name (default: the first file's name plus a suffix), as
// fair deploy and fair resolve do. Build progress goes to o.Progress.
func Manifests(ctx context.Context, o Options, files []string, stdin io.Reader) ([]*unstructured.Unstructured, error) {
	o.defaults()
	cfg := o.Config
	var objs []*unstructured.Unstructured
	for _, f := range files {
		got, err := deployer.ReadManifests(f, stdin)
		if err != nil {
			return nil, err
		}
		objs = append(objs, got...)
	}
	if len(objs) == 0 {
		return nil, errors.New("no objects in " + strings.Join(files, ", "))
	}
	run := cfg.Name
	if run == "" {
		base := filepath.Base(files[0])
		if files[0] == "-" {
			base = "stdin"
		}
		run = deployer.NameFor(strings.TrimSuffix(base, filepath.Ext(base)), time.Now())
	}
	if refs := deployer.Refs(objs); len(refs) > 1 && cfg.Repo != "" {
		return nil, fmt.Errorf("%d fair:// references cannot share --repo %s: set --registry instead", len(refs), cfg.Repo)
	}
	err := deployer.Resolve(ctx, objs, func(ctx context.Context, path string) (string, error) {
		fmt.Fprintf(o.Progress, "resolving %s%s\n", deployer.RefScheme, path)
		return o.Build(ctx, cfg, build.Options{Path: path, Progress: o.Progress, TTY: o.TTY})
	})
	if err != nil {
		return nil, err
	}
	for _, u := range objs {
		if l := u.GetLabels(); l[deployer.LabelKind] != "" && l[deployer.LabelRun] != "" {
			// fair's own output (fair train --dry-run=client -o yaml):
			// its pods carry its run label, which must stay the same.
			deployer.Label(u, l[deployer.LabelRun])
			continue
		}
		deployer.Label(u, run)
		if u.GetNamespace() == "" && cfg.Namespace != "" {
			u.SetNamespace(cfg.Namespace)
		}
	}
	return objs, nil
}
