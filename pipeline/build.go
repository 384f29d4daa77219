package pipeline

import (
	"context"
	"fmt"
)

// Built is a built step image and how to start the step's program in it.
type Built struct {
	Ref     string   // by digest
	Command []string // entrypoint plus command: what the step runtime runs
	Workdir string
}

// BuildFunc makes the image of a source: the CLI and the notebook kernel
// pass their build-and-push function, tests pass a fake.
type BuildFunc func(ctx context.Context, src Source) (Built, error)

// Build validates p, then builds each distinct source once, in step order,
// and returns the image of every step by step name.
func (p *Pipeline) Build(ctx context.Context, build BuildFunc) (map[string]Built, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	byKey := map[string]Built{}
	out := map[string]Built{}
	for _, s := range p.Order() {
		k := s.Source.Key()
		img, ok := byKey[k]
		if !ok {
			var err error
			if img, err = build(ctx, s.Source); err != nil {
				return nil, fmt.Errorf("step %s: %w", s.Name, err)
			}
			byKey[k] = img
		}
		if len(s.Source.Command) > 0 {
			img.Command = s.Source.Command
		}
		out[s.Name] = img
	}
	return out, nil
}

// Placeholders returns images that name each step's source, for printing a
// pipeline without building it (fair pipeline compile --no-build).
func (p *Pipeline) Placeholders() map[string]Built {
	out := map[string]Built{}
	for _, s := range p.Steps {
		ref := s.Source.Image
		if s.Source.Kind != SourceImage {
			ref = "fair://" + s.Source.String()
		}
		cmd := s.Source.Command
		if len(cmd) == 0 {
			cmd = []string{"ENTRYPOINT"} // the built image's, unknown until built
		}
		out[s.Name] = Built{Ref: ref, Command: cmd}
	}
	return out
}
