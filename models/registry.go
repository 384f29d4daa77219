package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/fair-go/fair/pipeline/artifact"
)

// Model is a saved model as the registry holds it.
type Model struct {
	Name     string             `json:"name"`
	Tag      string             `json:"tag,omitempty"`
	Ref      string             `json:"ref"` // by digest
	Digest   string             `json:"digest"`
	Size     int64              `json:"size"`
	Run      string             `json:"run,omitempty"`
	Image    string             `json:"image,omitempty"`
	Revision string             `json:"revision,omitempty"`
	Format   string             `json:"format,omitempty"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Created  time.Time          `json:"created"`
}

// Get reads the model ref (by tag or digest; a short digest, as fair
// prints them, is looked up among the model's tags).
func Get(ctx context.Context, ref string, o artifact.Options) (Model, error) {
	ref, err := expandDigest(ctx, ref, o)
	if err != nil {
		return Model{}, err
	}
	r, err := name.ParseReference(ref, nameOpts(o)...)
	if err != nil {
		return Model{}, fmt.Errorf("model reference %q: %v", ref, err)
	}
	img, err := remote.Image(r, remoteOpts(ctx, o)...)
	if err != nil {
		if isNotFound(err) {
			return Model{}, fmt.Errorf("no model %s", ref)
		}
		return Model{}, fmt.Errorf("read model %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return Model{}, fmt.Errorf("read model %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return Model{}, err
	}
	md := Model{
		Name:     modelName(r.Context().RepositoryStr()),
		Ref:      r.Context().Digest(d.String()).String(),
		Digest:   d.String(),
		Run:      m.Annotations[AnnotationRun],
		Image:    m.Annotations[AnnotationImage],
		Revision: m.Annotations[AnnotationRevision],
		Format:   m.Annotations[AnnotationFormat],
	}
	if t, ok := r.(name.Tag); ok {
		md.Tag = t.TagStr()
	}
	for _, l := range m.Layers {
		md.Size += l.Size
	}
	if s := m.Annotations[AnnotationMetrics]; s != "" {
		_ = json.Unmarshal([]byte(s), &md.Metrics)
	}
	md.Created, _ = time.Parse(time.RFC3339, m.Annotations[AnnotationCreated])
	return md, nil
}

// List reads every tagged model in registry's models/ repositories (one
// entry per tag other than latest), newest first. It needs the registry's
// catalog API, which most self-hosted registries serve; hosted ones that
// do not (Docker Hub, GHCR) need the model's name: see ListName.
func List(ctx context.Context, registry string, o artifact.Options) ([]Model, error) {
	reg, err := name.NewRegistry(strings.TrimSuffix(registry, "/"), nameOpts(o)...)
	if err != nil {
		return nil, fmt.Errorf("registry %q: %v", registry, err)
	}
	prefix := ""
	if _, path, ok := strings.Cut(strings.TrimSuffix(registry, "/"), "/"); ok {
		prefix = path + "/"
	}
	repos, err := remote.Catalog(ctx, reg, o.Remote...)
	if err != nil {
		return nil, fmt.Errorf("list the repositories of %s: %v", reg, err)
	}
	var out []Model
	for _, repo := range repos {
		n, ok := strings.CutPrefix(repo, prefix+"models/")
		if !ok || n == "" {
			continue
		}
		ms, err := ListName(ctx, registry, n, o)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	sortNewest(out)
	return out, nil
}

// ListName reads the tagged models of one name.
func ListName(ctx context.Context, registry, model string, o artifact.Options) ([]Model, error) {
	repo, err := name.NewRepository(Repo(registry, model), nameOpts(o)...)
	if err != nil {
		return nil, fmt.Errorf("model %q: %v", model, err)
	}
	tags, err := remote.List(repo, remoteOpts(ctx, o)...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %v", repo, err)
	}
	var out []Model
	for _, t := range tags {
		if t == "latest" {
			continue
		}
		m, err := Get(ctx, repo.Tag(t).String(), o)
		if err != nil {
			continue // deleted between the list and the read
		}
		out = append(out, m)
	}
	sortNewest(out)
	return out, nil
}

func sortNewest(ms []Model) {
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].Created.Equal(ms[j].Created) {
			return ms[i].Created.After(ms[j].Created)
		}
		return ms[i].Name+":"+ms[i].Tag < ms[j].Name+":"+ms[j].Tag
	})
}

// Delete removes the model ref. A registry deletes manifests by digest, so
// every tag of the same model goes with it (latest too, when it named it).
func Delete(ctx context.Context, ref string, o artifact.Options) (Model, error) {
	m, err := Get(ctx, ref, o)
	if err != nil {
		return Model{}, err
	}
	d, err := name.NewDigest(m.Ref, nameOpts(o)...)
	if err != nil {
		return Model{}, err
	}
	if err := remote.Delete(d, remoteOpts(ctx, o)...); err != nil {
		return Model{}, fmt.Errorf("delete %s: %v", ref, err)
	}
	return m, nil
}

// expandDigest turns REPO@sha256:PREFIX (at least 6 hex digits) into the
// full digest of the one tagged model whose digest starts so.
func expandDigest(ctx context.Context, ref string, o artifact.Options) (string, error) {
	repoStr, hex, ok := strings.Cut(ref, "@sha256:")
	if !ok || len(hex) >= 64 {
		return ref, nil
	}
	if len(hex) < 6 {
		return "", fmt.Errorf("model %s: give at least 6 digits of the digest", ref)
	}
	repo, err := name.NewRepository(repoStr, nameOpts(o)...)
	if err != nil {
		return "", fmt.Errorf("model reference %q: %v", ref, err)
	}
	tags, err := remote.List(repo, remoteOpts(ctx, o)...)
	if err != nil && !isNotFound(err) {
		return "", fmt.Errorf("list %s: %v", repo, err)
	}
	found := map[string]bool{}
	for _, t := range tags {
		d, err := remote.Head(repo.Tag(t), remoteOpts(ctx, o)...)
		if err == nil && strings.HasPrefix(d.Digest.Hex, hex) {
			found[d.Digest.String()] = true
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no model %s", ref)
	case 1:
		for d := range found {
			return repo.Digest(d).String(), nil
		}
	}
	return "", fmt.Errorf("model %s: %d models' digests start so; give more digits", ref, len(found))
}

func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == 404 {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// modelName is NAME in a repository path [PREFIX/]models/NAME.
func modelName(repo string) string {
	if i := strings.LastIndex("/"+repo, "/models/"); i >= 0 {
		return repo[i+len("models/"):]
	}
	return repo
}
