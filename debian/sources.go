// Package debian builds container base images from Debian packages, with
// no Docker, no chroot and no maintainer scripts: it reads the apt sources
// this machine is configured with, resolves the packages' dependencies
// from the archive's indexes (signed, checked with the system's gpgv as apt
// does), downloads the .deb files (checked against the index), and unpacks
// their data into one layer with normalised owners and times and sorted
// packages, so the same package versions always give the same digest. An
// SPDX document of the packages ships in the image.
package debian

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Source is one apt source: an archive URI, a suite, its components and
// the keyring that signs it.
type Source struct {
	URI        string
	Suite      string
	Components []string
	SignedBy   string // keyring file; empty: apt's trusted keyrings
}

// SystemSources reads /etc/apt/sources.list and sources.list.d (one-line
// and deb822 formats), binary ("deb") entries only.
func SystemSources() ([]Source, error) {
	return readSources("/etc/apt")
}

func readSources(root string) ([]Source, error) {
	var out []Source
	if b, err := os.ReadFile(filepath.Join(root, "sources.list")); err == nil {
		out = append(out, parseOneLine(string(b))...)
	}
	files, _ := filepath.Glob(filepath.Join(root, "sources.list.d", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(f, ".list"):
			out = append(out, parseOneLine(string(b))...)
		case strings.HasSuffix(f, ".sources"):
			out = append(out, parseDeb822(string(b))...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no apt sources in %s/sources.list or %s/sources.list.d", root, root)
	}
	return out, nil
}

func parseOneLine(s string) []Source {
	var out []Source
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		src := Source{}
		rest := f[1:]
		if strings.HasPrefix(rest[0], "[") { // options: [signed-by=... arch=...]
			for len(rest) > 0 {
				o := strings.Trim(rest[0], "[]")
				if k, v, ok := strings.Cut(o, "="); ok && k == "signed-by" {
					src.SignedBy = v
				}
				done := strings.HasSuffix(rest[0], "]")
				rest = rest[1:]
				if done {
					break
				}
			}
		}
		if len(rest) < 2 {
			continue
		}
		src.URI, src.Suite, src.Components = rest[0], rest[1], rest[2:]
		out = append(out, src)
	}
	return out
}

func parseDeb822(s string) []Source {
	var out []Source
	for _, stanza := range strings.Split(s, "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
				fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
		if !strings.Contains(" "+fields["types"]+" ", " deb ") || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			for _, suite := range strings.Fields(fields["suites"]) {
				out = append(out, Source{URI: uri, Suite: suite, Components: strings.Fields(fields["components"]), SignedBy: fields["signed-by"]})
			}
		}
	}
	return out
}

// fetcher downloads with a cache of files named by their SHA-256.
type fetcher struct {
	client *http.Client
	cache  string
}

func (f *fetcher) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the package source: %v", rootErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// getVerified returns the file of the given SHA-256, from the cache or url.
func (f *fetcher) getVerified(ctx context.Context, url, sum string) (string, error) {
	p := filepath.Join(f.cache, "by-sha256", sum)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the package source: %v", rootErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".part-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), resp.Body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download %s: %v", url, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return "", fmt.Errorf("download %s: SHA-256 %s, the signed index says %s", url, got, sum)
	}
	return p, os.Rename(tmp.Name(), p)
}

func rootErr(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// index reads a source's signed Release and its Packages index for arch.
func (f *fetcher) index(ctx context.Context, s Source, arch string) ([]*Package, error) {
	base := strings.TrimSuffix(s.URI, "/") + "/dists/" + s.Suite + "/"
	inrel, err := f.get(ctx, base+"InRelease")
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", s.URI, s.Suite, err)
	}
	release, err := verify(inrel, s.SignedBy)
	if err != nil {
		return nil, fmt.Errorf("%s %s: InRelease: %v", s.URI, s.Suite, err)
	}
	sums := releaseSums(release)
	var out []*Package
	for _, comp := range s.Components {
		name := comp + "/binary-" + arch + "/Packages.gz"
		sum, ok := sums[name]
		if !ok {
			continue
		}
		p, err := f.getVerified(ctx, base+name, sum)
		if err != nil {
			return nil, err
		}
		fh, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		pkgs, err := parsePackages(zr, strings.TrimSuffix(s.URI, "/"))
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		out = append(out, pkgs...)
	}
	return out, nil
}

// verify checks InRelease's signature with gpgv against keyring (apt's
// trusted keyrings when empty) and returns the signed text.
func verify(inrelease []byte, keyring string) ([]byte, error) {
	gpgv, err := exec.LookPath("gpgv")
	if err != nil {
		return nil, errors.New("gpgv is needed to check the archive's signature (Debian package gpgv, which apt uses too)")
	}
	var keyrings []string
	if keyring != "" {
		keyrings = []string{keyring}
	} else {
		keyrings, _ = filepath.Glob("/etc/apt/trusted.gpg.d/*.gpg")
		keyrings = append(keyrings, "/usr/share/keyrings/debian-archive-keyring.gpg")
	}
	args := []string{"--quiet"}
	for _, k := range keyrings {
		if _, err := os.Stat(k); err == nil {
			args = append(args, "--keyring", k)
		}
	}
	tmp, err := os.CreateTemp("", "fair-inrelease-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	tmp.Write(inrelease)
	tmp.Close()
	out, err := exec.Command(gpgv, append(args, "--output", "-", tmp.Name())...).Output()
	if err != nil {
		msg := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("bad signature: %s", firstLine(msg))
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// releaseSums reads the SHA256 section of a Release file: path to sum.
func releaseSums(release []byte) map[string]string {
	sums := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(release))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") {
			in = line == "SHA256:"
			continue
		}
		if f := strings.Fields(line); in && len(f) == 3 {
			sums[f[2]] = f[0]
		}
	}
	return sums
}
