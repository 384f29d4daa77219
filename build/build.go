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
	"regexp"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"mvdan.cc/sh/v3/syntax"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/buildkitd"
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
	if ds, ok := src.(*builder.DockerfileSource); ok && buildkitd.IsPod(ds.Address()) {
		// A daemon in the cluster: reached over a port-forward for this
		// build only.
		local, stop, err := buildkitd.Forward(ctx, cfg, ds.Address())
		if err != nil {
			return "", err
		}
		defer stop()
		fmt.Fprintf(progress, "building through BuildKit at %s (port-forward %s)\n", ds.Address(), local)
		defer ds.SetAddress(ds.Address()) // a source built again forwards again
		ds.SetAddress(local)
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
		if st.IsDir() && cfg.Cmd == "" && cfg.Dockerfile == "" && builder.IsGoMain(path) {
			return nil, errors.New("--include ships files with a notebook source; a Go program's image holds its binary only: embed the files with //go:embed, or build the folder as a directory source (--cmd) to ship it")
		}
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
		return nil, errors.New("a Dockerfile build needs a BuildKit daemon: pass --buildkit unix:///run/buildkit/buildkitd.sock or set BUILDKIT_HOST (or FAIR_BUILDKIT_ADDR)")
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

// SplitCommand splits a command line into words as a POSIX shell does
// (mvdan.cc/sh parses it): single and double quotes and backslash escapes,
// with POSIX's rules for backslashes inside double quotes. Anything a
// shell would run or expand ($VAR, $(...), backquotes, pipes, ;, redirects,
// globs are kept literally: no shell runs) is refused unless quoted, so a
// command never means something else in the image than on the line.
func SplitCommand(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	// A leading word of our own, so that KEY=value words stay words and
	// are not taken as variable assignments.
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader("_ "+s), "")
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "without closing") {
			msg = "unterminated quote or escape"
		} else if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest // drop the line:column of our own prefixed line
		}
		return nil, fmt.Errorf("%q: %s", s, msg)
	}
	if len(f.Stmts) != 1 {
		return nil, fmt.Errorf("%q: one command only (quote ; & | if they belong to an argument)", s)
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(st.Redirs) > 0 || st.Background || st.Negated || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return nil, fmt.Errorf("%q: a plain command line only (quote < > & | ! if they belong to an argument)", s)
	}
	var words []string
	for _, w := range call.Args[1:] {
		var b strings.Builder
		for _, part := range w.Parts {
			switch p := part.(type) {
			case *syntax.Lit:
				b.WriteString(unescape(p.Value, ""))
			case *syntax.SglQuoted:
				if p.Dollar {
					return nil, fmt.Errorf("%q: $'...' is not supported; use '...'", s)
				}
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				for _, q := range p.Parts {
					lit, ok := q.(*syntax.Lit)
					if !ok {
						return nil, fmt.Errorf("%q: no expansions ($, backquotes) inside double quotes; use single quotes", s)
					}
					b.WriteString(unescape(lit.Value, "$`\"\\\n"))
				}
			default:
				return nil, fmt.Errorf("%q: no expansions ($VAR, $(...), backquotes, ~, globs); quote them with '...'", s)
			}
		}
		words = append(words, b.String())
	}
	return words, nil
}

// unescape removes the backslashes that escape a character: any character
// outside quotes (only), the characters of only within double quotes. A
// backslash before a newline joins the lines.
func unescape(s, only string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			next := s[i+1]
			if next == '\n' {
				i++
				continue
			}
			if only == "" || strings.IndexByte(only, next) >= 0 {
				b.WriteByte(next)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// plainWord needs no quotes in a POSIX shell.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,-][A-Za-z0-9_./:@%+,=-]*$`)

// JoinCommand quotes words so that SplitCommand gives them back.
func JoinCommand(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && plainWord.MatchString(w) {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
