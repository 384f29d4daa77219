package debian

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Package is one binary package of an index.
type Package struct {
	Name, Version, Arch string
	Depends             string // Pre-Depends and Depends
	Provides            []string
	Filename, SHA256    string
	Size                int64
	Source              string // the archive URI it comes from
}

// parsePackages reads a Packages index.
func parsePackages(r io.Reader, uri string) ([]*Package, error) {
	var out []*Package
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	p := &Package{Source: uri}
	var last string
	flush := func() {
		if p.Name != "" {
			out = append(out, p)
		}
		p = &Package{Source: uri}
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "depends" || last == "pre-depends" {
				p.Depends += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.ToLower(k)
		v = strings.TrimSpace(v)
		switch last {
		case "package":
			p.Name = v
		case "version":
			p.Version = v
		case "architecture":
			p.Arch = v
		case "depends", "pre-depends":
			if p.Depends != "" {
				p.Depends += ", "
			}
			p.Depends += v
		case "provides":
			for _, pr := range strings.Split(v, ",") {
				if n := strings.Fields(pr); len(n) > 0 {
					p.Provides = append(p.Provides, n[0])
				}
			}
		case "filename":
			p.Filename = v
		case "sha256":
			p.SHA256 = v
		case "size":
			fmt.Sscan(v, &p.Size)
		}
	}
	flush()
	return out, sc.Err()
}

// universe is what the sources offer: the newest version of each package,
// and who provides what.
type universe struct {
	pkgs      map[string]*Package
	providers map[string][]string
}

func newUniverse(all []*Package) *universe {
	u := &universe{pkgs: map[string]*Package{}, providers: map[string][]string{}}
	for _, p := range all {
		if q, ok := u.pkgs[p.Name]; !ok || compareVersions(p.Version, q.Version) > 0 {
			u.pkgs[p.Name] = p
		}
	}
	for _, p := range u.pkgs {
		for _, pr := range p.Provides {
			u.providers[pr] = append(u.providers[pr], p.Name)
		}
	}
	for _, l := range u.providers {
		sort.Strings(l)
	}
	return u
}

// find returns the package that satisfies name: itself, or its first
// provider by name.
func (u *universe) find(name string) *Package {
	name, _, _ = strings.Cut(name, ":") // python3:any
	if p, ok := u.pkgs[name]; ok {
		return p
	}
	if l := u.providers[name]; len(l) > 0 {
		return u.pkgs[l[0]]
	}
	return nil
}

// resolve returns the packages and everything they depend on, sorted by
// name. Of alternatives (a | b) the first that exists is taken; versions
// are the newest the sources hold (what apt would install on a new
// system from the same sources).
func (u *universe) resolve(names []string) ([]*Package, error) {
	seen := map[string]*Package{}
	var queue []*Package
	var missing []string
	for _, n := range names {
		p := u.find(n)
		if p == nil {
			missing = append(missing, n)
			continue
		}
		if _, ok := seen[p.Name]; !ok {
			seen[p.Name] = p
			queue = append(queue, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no package %s in the apt sources", strings.Join(missing, ", "))
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, group := range strings.Split(p.Depends, ",") {
			group = strings.TrimSpace(group)
			if group == "" {
				continue
			}
			var dep *Package
			for _, alt := range strings.Split(group, "|") {
				f := strings.Fields(alt)
				if len(f) == 0 {
					continue
				}
				if dep = u.find(f[0]); dep != nil {
					break
				}
			}
			if dep == nil {
				return nil, fmt.Errorf("%s depends on %s, which no apt source provides", p.Name, group)
			}
			if _, ok := seen[dep.Name]; !ok {
				seen[dep.Name] = dep
				queue = append(queue, dep)
			}
		}
	}
	out := make([]*Package, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// compareVersions orders Debian versions ([epoch:]upstream[-revision]) as
// dpkg does.
func compareVersions(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := compareFragment(ua, ub); c != 0 {
		return c
	}
	return compareFragment(ra, rb)
}

func splitVersion(v string) (epoch int, upstream, revision string) {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		fmt.Sscan(e, &epoch)
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// order is dpkg's character order: '~' before everything, even the end,
// letters before other characters.
func order(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c == 0:
		return 0
	}
	return int(c) + 256
}

func compareFragment(a, b string) int {
	for a != "" || b != "" {
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			var ca, cb byte
			if a != "" {
				ca = a[0]
			}
			if b != "" {
				cb = b[0]
			}
			if oa, ob := order(ca), order(cb); oa != ob {
				if oa < ob {
					return -1
				}
				return 1
			}
			if a != "" {
				a = a[1:]
			}
			if b != "" {
				b = b[1:]
			}
		}
		var na, nb int
		for a != "" && isDigit(a[0]) {
			na = na*10 + int(a[0]-'0')
			a = a[1:]
		}
		for b != "" && isDigit(b[0]) {
			nb = nb*10 + int(b[0]-'0')
			b = b[1:]
		}
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
