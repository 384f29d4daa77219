// Package ignore decides which files of a source directory go into an
// image. It reads .fairignore files (the .dockerignore syntax) and always
// excludes the usual places secrets live unless a pattern explicitly
// re-includes them.
package ignore

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/moby/patternmatcher"
)

// FileName is the ignore file read from the root of a source directory.
const FileName = ".fairignore"

// DockerFileName is read too, before FileName, so a project that already
// has one needs no second list.
const DockerFileName = ".dockerignore"

// Defaults are excluded at any depth, in any letter case, unless
// re-included with "!PATTERN": where credentials usually live.
var Defaults = []string{
	"**/.git",
	"**/.env*",
	"**/*.pem",
	"**/*.key",
	"**/*.p12",
	"**/*.pfx",
	"**/*.jks",
	"**/id_rsa*",
	"**/id_dsa*",
	"**/id_ecdsa*",
	"**/id_ed25519*",
	"**/.ssh",
	"**/.gnupg",
	"**/kubeconfig",
	"**/.kube",
	"**/.docker/config.json",
	"**/.netrc",
	"**/.git-credentials",
	"**/.npmrc",
	"**/.pypirc",
	"**/.pgpass",
	"**/.vault-token",
	"**/.aws",
	"**/.azure",
	"**/.config/gcloud",
	"**/*.tfstate",
	"**/*.tfstate.backup",
	"**/.terraform",
}

// defaults are Defaults in any letter case (SERVER.KEY, Cert.PEM, .ENV):
// names are case-sensitive here, but not on the machines many of these
// files come from, and a key is a key whatever its case.
var defaults = func() []string {
	out := make([]string, len(Defaults))
	for i, p := range Defaults {
		var b strings.Builder
		for _, r := range p {
			if lo, up := unicode.ToLower(r), unicode.ToUpper(r); lo != up && r < unicode.MaxASCII {
				b.WriteString("[" + string(lo) + string(up) + "]")
				continue
			}
			b.WriteRune(r)
		}
		out[i] = b.String()
	}
	return out
}()

// secretDirs are folders that hold credentials and nothing a program
// needs: a source or an include inside one is refused whole.
var secretDirs = []string{".ssh", ".gnupg", ".kube", ".docker", ".aws", ".azure", ".config/gcloud", ".git"}

// SecretPath says why the file or folder at path (any form) must not be
// shipped at all: it is, or lies in, a folder where credentials live, or it
// is itself a file the defaults exclude. It returns "" otherwise. The
// defaults only look below a source's root; this looks at the root.
func SecretPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	slash := filepath.ToSlash(abs)
	for _, d := range secretDirs {
		if strings.Contains(slash+"/", "/"+d+"/") {
			return fmt.Sprintf("%s is in %s, where credentials live", p, d)
		}
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		m, err := patternmatcher.New(defaults)
		if err == nil {
			if hit, _ := m.MatchesOrParentMatches(filepath.Base(abs)); hit {
				return fmt.Sprintf("%s looks like a credentials file", p)
			}
		}
	}
	return ""
}

// Parse reads ignore patterns, one a line: blank lines and lines starting
// with # are skipped, surrounding space is trimmed, a leading ! re-includes,
// and paths are cleaned and made relative. A pattern that cannot be
// compiled is an error that names its line.
func Parse(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		p, ok := clean(string(line))
		if !ok {
			continue
		}
		if err := check(p); err != nil {
			return nil, fmt.Errorf("line %d: %q: %v", n, string(line), err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// check compiles p and tries it once: some bad patterns (a trailing or
// stray escape) compile but fail on first use. A negation is tried behind
// "**", which matches everything: alone it would never be evaluated
// (nothing matched before it). Trying it as written, not as its positive
// form, matters for "!!name": the matcher reads it as the negation of
// "!name", and its positive form as the negation of "name".
func check(p string) error {
	ps := []string{p}
	if strings.HasPrefix(p, "!") {
		ps = []string{"**", p}
	}
	pm, err := patternmatcher.New(ps)
	if err == nil {
		_, err = pm.MatchesOrParentMatches("a/b")
	}
	return err
}

// clean normalises one line into a pattern; ok is false for lines that
// hold none.
func clean(line string) (string, bool) {
	if strings.HasPrefix(strings.TrimLeft(line, "\ufeff"), "#") {
		return "", false
	}
	p := trim(line)
	invert := strings.HasPrefix(p, "!")
	if invert {
		p = trim(p[1:])
	}
	if p == "" {
		return "", false
	}
	// Clean, drop leading slashes and space until nothing changes, so the
	// result is canonical: parsing it again gives itself.
	p = filepath.ToSlash(p)
	for {
		q := trim(strings.TrimLeft(path.Clean(p), "/"))
		if q == p {
			break
		}
		p = q
	}
	if p == "" || p == "." {
		// "/" or "." would exclude the whole context: keep it, as docker
		// does, but in a form the matcher understands.
		p = "*"
	}
	if invert {
		p = "!" + p
	} else if strings.HasPrefix(p, "!") {
		// A name that starts with "!" (written "/!name"): escaped, or the
		// matcher, like a re-read of the pattern, takes it as a negation.
		p = `\` + p
	}
	return p, true
}

// trim removes surrounding space and leading byte order marks (an editor
// may write one at the start of the file; no name starts with one).
func trim(s string) string {
	return strings.TrimRightFunc(strings.TrimLeftFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\ufeff'
	}), unicode.IsSpace)
}

// Matcher answers whether a path is excluded.
type Matcher struct {
	pm *patternmatcher.PatternMatcher
}

// New returns a matcher for the defaults followed by patterns; later
// patterns win, so "!.env.example" brings that file back.
func New(patterns []string) (*Matcher, error) {
	pm, err := patternmatcher.New(append(append([]string{}, defaults...), patterns...))
	if err != nil {
		return nil, err
	}
	return &Matcher{pm: pm}, nil
}

// Load reads dir/.dockerignore and dir/.fairignore, those present, in that
// order (so .fairignore has the last word), and returns their matcher.
func Load(dir string) (*Matcher, error) {
	var patterns []string
	for _, name := range []string{DockerFileName, FileName} {
		f, err := os.Open(filepath.Join(dir, name))
		switch {
		case err == nil:
			ps, err := Parse(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %v", filepath.Join(dir, name), err)
			}
			patterns = append(patterns, ps...)
		case !os.IsNotExist(err):
			return nil, err
		}
	}
	return New(patterns)
}

// Walk calls fn for every entry under root that is not excluded, in
// lexical order, with its slash-separated path relative to root. Excluded
// entries are passed to skipped, which may be nil.
func (m *Matcher) Walk(root string, fn func(rel string, d os.DirEntry) error, skipped func(rel string)) error {
	type frame struct {
		dir  string
		info patternmatcher.MatchInfo
	}
	// Parent match results, so a file inside an excluded directory is
	// excluded unless a later pattern re-includes it.
	stack := []frame{{dir: "."}}
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		parent := path.Dir(rel)
		for len(stack) > 1 && stack[len(stack)-1].dir != parent {
			stack = stack[:len(stack)-1]
		}
		excluded, info, err := m.pm.MatchesUsingParentResults(rel, stack[len(stack)-1].info)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if excluded && !m.pm.Exclusions() {
				if skipped != nil {
					skipped(rel + "/")
				}
				return filepath.SkipDir
			}
			stack = append(stack, frame{dir: rel, info: info})
		}
		if excluded {
			if skipped != nil && !d.IsDir() {
				skipped(rel)
			}
			return nil
		}
		return fn(rel, d)
	})
}

// Excluded reports whether the file at rel (slash-separated, relative to
// the root) is excluded, taking its parent directories into account.
func (m *Matcher) Excluded(rel string) (bool, error) {
	return m.pm.MatchesOrParentMatches(path.Clean(rel))
}
