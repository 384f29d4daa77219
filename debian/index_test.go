package debian

import (
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1:0.1", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0+b1", -1},
		{"3.11.2-6", "3.11.2-6+deb12u8", -1},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.0a", "1.0", 1},
		{"1.0-1", "1.0-1~bpo", 1},
	} {
		if got := compareVersions(c.a, c.b); sign(got) != c.want {
			t.Errorf("compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestParseSources(t *testing.T) {
	one := parseOneLine("# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://a/debian bookworm main contrib\ndeb-src http://a/debian bookworm main\n")
	if len(one) != 1 || one[0].URI != "http://a/debian" || one[0].SignedBy != "/k.gpg" || strings.Join(one[0].Components, ",") != "main,contrib" {
		t.Errorf("one-line: %+v", one)
	}
	d := parseDeb822("Types: deb deb-src\nURIs: http://b/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /k2.gpg\n\nTypes: deb-src\nURIs: http://c\nSuites: x\nComponents: main\n\nTypes: deb\nEnabled: no\nURIs: http://d\nSuites: y\nComponents: main\n")
	if len(d) != 2 || d[1].Suite != "bookworm-updates" || d[0].SignedBy != "/k2.gpg" {
		t.Errorf("deb822: %+v", d)
	}
}

func TestResolve(t *testing.T) {
	idx := `Package: app
Version: 1.0
Depends: libc6 (>= 2.34), python3:any, mail-transport-agent | postfix
Pre-Depends: dpkg

Package: libc6
Version: 2.36-9

Package: libc6
Version: 2.36-9+deb12u10

Package: python3
Version: 3.11.2-1
Depends: libc6

Package: exim4
Version: 4.96
Provides: mail-transport-agent

Package: dpkg
Version: 1.21
`
	pkgs, err := parsePackages(strings.NewReader(idx), "http://a")
	if err != nil {
		t.Fatal(err)
	}
	u := newUniverse(pkgs)
	got, err := u.resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name+"="+p.Version)
	}
	if s := strings.Join(names, " "); s != "app=1.0 dpkg=1.21 exim4=4.96 libc6=2.36-9+deb12u10 python3=3.11.2-1" {
		t.Errorf("resolved %s", s)
	}
	if _, err := u.resolve([]string{"app", "nope", "nada"}); err == nil || err.Error() != "no package nope, nada in the apt sources" {
		t.Errorf("missing: %v", err)
	}
}

func TestSkipped(t *testing.T) {
	for p, want := range map[string]bool{
		"usr/share/man/man1/x.1.gz":       true,
		"usr/share/man":                   true,
		"usr/share/doc/libc6/changelog":   true,
		"usr/share/doc/libc6/copyright":   false,
		"usr/share/doc/libc6":             false,
		"usr/lib/python3/dist-packages/x": false,
	} {
		if skipped(p) != want {
			t.Errorf("skipped(%s) = %v", p, !want)
		}
	}
}

func TestAlternatives(t *testing.T) {
	w := &layerWriter{alts: map[string]alternative{}}
	w.alternatives("#!/bin/sh\nupdate-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\\n    libblas.so.3-x86_64-linux-gnu \\\n    /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10\n")
	w.alternatives("update-alternatives --quiet --install /usr/lib/x86_64-linux-gnu/libblas.so.3 libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 100 --slave x y z\nupdate-alternatives --install /usr/bin/$x x /usr/bin/y 50\n")
	if len(w.alts) != 1 || w.alts["libblas.so.3-x86_64-linux-gnu"].path != "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" {
		t.Errorf("alternatives: %+v", w.alts)
	}
}
