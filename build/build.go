// Package build turns a path (or a ready builder.Source) and fair's
// configuration into a published image reference: it picks the kind of
// source, makes the builder and the publisher the configuration asks for,
// checks the registry while the compiler runs, and reports progress. The
// CLI, the notebook magics, the notebook panel and IDE run configurations
// all build through Image, so they build the same way.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/notebook/nbsource"
)

// Options are the build settings that are not configuration keys.
type Options struct {
	// Path is the source to build: a Go main package, a folder, a
	// Dockerfile project or a notebook. With Source set it only names the
	// build in progress lines.
	Path string
	// Source, when set, is built instead of Path (the notebook kernel
	// passes the notebook's cells).
	Source builder.Source
	// Verb picks a notebook's entry (train, serve; "" for build).
	Verb string
	// OCILayout or Tarball publish there instead of a registry.
	OCILayout string
	Tarball   string
	// Progress receives progress lines (nil: none); TTY redraws them in
	// place; Verbose adds detail, such as each excluded file.
	Progress io.Writer
	TTY      bool
	Verbose  bool
}

// Image builds o.Path (or o.Source) with cfg and publishes it, returning
// the image reference by digest.
func Image(ctx context.Context, cfg *config.Config, o Options) (string, error) {
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	src := o.Source
	if src == nil {
		var err error
		if src, err = SourceFor(o.Path, cfg, o.Verb); err != nil {
			return "", err
		}
	}
	b, platforms, err := NewBuilder(cfg, progress, o.Verbose)
	if err != nil {
		return "", err
	}

	repo := cfg.Repo
	var pub builder.Publisher
	switch {
	case o.OCILayout != "":
		pub = &builder.Layout{Dir: o.OCILayout, Tag: cfg.Tag}
	case o.Tarball != "":
		if len(platforms) > 1 {
			return "", errors.New("a tarball holds one platform: build one --platform, or use --oci-layout for several")
		}
		pub = &builder.Tarball{File: o.Tarball, Tag: cfg.Tag}
	default:
		if repo == "" && cfg.Registry == "" {
			return "", config.ErrNoRegistry
		}
		pub = &builder.Registry{Tag: cfg.Tag, Insecure: cfg.InsecureRegistries, Progress: progress, TTY: o.TTY}
	}
	if repo == "" {
		prefix := strings.TrimSuffix(cfg.Registry, "/")
		if prefix == "" {
			prefix = "fair.local"
		}
		repo = prefix + "/" + src.Name()
	}

	// Ask the registry while compiling, so a wrong address or missing
	// login fails in a second rather than after the build.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if r, ok := pub.(*builder.Registry); ok {
		go func() {
			if err := r.Check(ctx, repo); err != nil {
				cancel(err)
			}
		}()
	}
	name := o.Path
	if name == "" {
		name = src.Name()
	}
	fmt.Fprintf(progress, "building %s\n", name)
	art, err := b.Build(ctx, src)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return "", cause
		}
		return "", err
	}
	built := time.Now()
	if o.Verbose {
		fmt.Fprintf(progress, "built in %.2fs\n", built.Sub(start).Seconds())
	}
	res, err := pub.Publish(ctx, art, repo)
	if err != nil {
		return "", err
	}
	if o.Verbose {
		fmt.Fprintf(progress, "published in %.2fs\n", time.Since(built).Seconds())
	}
	if _, ok := pub.(*builder.Registry); ok {
		fmt.Fprintf(progress, "%s; done in %.1fs\n", res.Summary(), time.Since(start).Seconds())
	} else {
		fmt.Fprintf(progress, "done in %.1fs\n", time.Since(start).Seconds())
	}
	return res.Ref, nil
}

// NewBuilder makes a Builder from the configuration, as every build does;
// it also returns the parsed platforms.
func NewBuilder(cfg *config.Config, progress io.Writer, verbose bool) (*builder.Builder, []v1.Platform, error) {
	platforms, err := builder.ParsePlatforms(cfg.Platforms)
	if err != nil {
		return nil, nil, err
	}
	epoch, err := sourceDateEpoch()
	if err != nil {
		return nil, nil, err
	}
	opts := []builder.Option{
		builder.WithBase(cfg.Base),
		builder.WithEpoch(epoch),
		builder.WithProgress(progress, verbose),
		builder.WithInsecureRegistries(cfg.InsecureRegistries...),
		builder.WithEnv(cfg.ImageEnv...),
		builder.WithLabels(cfg.ImageLabels...),
		builder.WithUser(cfg.User),
	}
	if len(platforms) > 0 {
		opts = append(opts, builder.WithPlatforms(platforms...))
	}
	b, err := builder.New(opts...)
	return b, platforms, err
}

// SourceFor picks the kind of source from the path and the configuration.
func SourceFor(path string, cfg *config.Config, verb string) (builder.Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", path, errors.Unwrap(err))
	}
	if !st.IsDir() && strings.EqualFold(filepath.Ext(path), ".ipynb") {
		return nbsource.FromFile(path, verb, nbsource.WithInclude(cfg.Include...))
	}
	if len(cfg.Include) > 0 {
		return nil, errors.New("--include ships files with a notebook source; put them in the source folder instead")
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("source %s: want a directory (a Go main package, a folder of code, or a Dockerfile project) or a Go notebook (.ipynb)", path)
	}
	switch {
	case cfg.Dockerfile != "":
		return dockerfileSource(path, cfg.Dockerfile, cfg)
	case cfg.Cmd != "":
		cmd, err := SplitCommand(cfg.Cmd)
		if err != nil {
			return nil, fmt.Errorf("--cmd %v", err)
		}
		return builder.NewDir(path, cfg.Workdir, cmd)
	case builder.IsGoMain(path):
		return builder.NewGo(path)
	}
	if _, err := os.Stat(filepath.Join(path, "Dockerfile")); err == nil {
		return dockerfileSource(path, "Dockerfile", cfg)
	}
	return nil, fmt.Errorf("source %s is not a Go main package: pass --cmd to add it to a base image (e.g. --base my.registry/pytorch:2.5 --cmd \"python train.py\"), or --dockerfile", path)
}

func dockerfileSource(dir, dockerfile string, cfg *config.Config) (builder.Source, error) {
	if cfg.BuildKit == "" {
		return nil, errors.New("a Dockerfile build needs a BuildKit daemon: pass --buildkit unix:///run/buildkit/buildkitd.sock or set FAIR_BUILDKIT_ADDR")
	}
	return builder.NewDockerfile(dir, dockerfile, cfg.BuildKit)
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// SplitCommand splits a command line the way a POSIX shell splits words,
// with single and double quotes and backslash escapes, and nothing else.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("%q: unterminated quote or escape", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// JoinCommand quotes words so that SplitCommand gives them back.
func JoinCommand(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, " \t\n'\"\\$`") {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
