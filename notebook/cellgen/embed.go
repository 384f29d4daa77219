package cellgen

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EmbedPatterns returns the patterns of the //go:embed directives in a
// generated cell.
func EmbedPatterns(src []byte) ([]string, error) {
	var out []string
	for _, line := range bytes.Split(src, []byte("\n")) {
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("//go:embed"))
		if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		pats, err := embedFields(string(rest))
		if err != nil {
			return nil, err
		}
		out = append(out, pats...)
	}
	return out, nil
}

// embedFields splits a directive's patterns as the go command does:
// spaces separate them; "..." and `...` quote one.
func embedFields(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		end := strings.IndexAny(s, " \t")
		if s[0] == '"' || s[0] == '`' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("//go:embed %s: %v", s, err)
			}
			p, _ := strconv.Unquote(q)
			out, s = append(out, p), s[len(q):]
			continue
		}
		if end < 0 {
			end = len(s)
		}
		out, s = append(out, s[:end]), s[end:]
	}
	return out, nil
}

// CopyEmbedded copies what a cell's //go:embed patterns match in from
// (the notebook's folder, where the user sees the files) into to (the
// cell's package folder, where the go command looks for them). A pattern
// that matches nothing is left for the go command to report.
func CopyEmbedded(from, to string, patterns []string) error {
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "all:")
		if filepath.IsAbs(p) || strings.HasPrefix(filepath.Clean(p), "..") {
			continue // the go command refuses it, in its own words
		}
		matches, err := filepath.Glob(filepath.Join(from, filepath.FromSlash(p)))
		if err != nil {
			return fmt.Errorf("//go:embed %s: %v", p, err)
		}
		for _, m := range matches {
			err := filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, err := filepath.Rel(from, path)
				if err != nil {
					return err
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				dst := filepath.Join(to, rel)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				return os.WriteFile(dst, b, 0o644)
			})
			if err != nil {
				return fmt.Errorf("//go:embed %s: %v", p, err)
			}
		}
	}
	return nil
}
