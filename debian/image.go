package debian

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fair-go/fair/internal/bytesize"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SBOMPath is where the image lists its packages (SPDX 2.3, JSON).
const SBOMPath = "usr/share/fair/sbom.spdx.json"

// NonrootUID is the user the image runs as, as in fair's static base.
const NonrootUID = 65532

// Options say what to build.
type Options struct {
	Packages []string
	// Suites limits the sources to these suites (e.g. bookworm,
	// bookworm-updates, bookworm-security); empty: every configured one.
	Suites  []string
	Arch    string   // Debian architecture; default amd64
	Sources []Source // default: SystemSources
	// Cache holds downloaded indexes and packages by SHA-256; default
	// $XDG_CACHE_HOME/fair/debian.
	Cache    string
	Progress io.Writer
	Client   *http.Client
}

// Result is a built base.
type Result struct {
	Image    v1.Image
	Packages []*Package // what it holds, sorted by name
	Bytes    int64      // the .deb files' size
	opts     Options
}

// SBOM returns the SPDX document the image holds.
func (r *Result) SBOM() ([]byte, error) { return spdx(r.Packages, r.opts) }

// Close releases what the result holds (nothing yet: its layer lives in
// the cache).
func (r *Result) Close() error { return nil }

// cachedLayer returns the layer of exactly these packages from the cache,
// or unpacks them into it (compressed once: a warm build of the same
// packages reads the file and hashes it, no more).
func cachedLayer(pkgs []*Package, files []string, o Options) (v1.Layer, error) {
	h := sha256.New()
	fmt.Fprintf(h, "fair debian layer v1 %s %s\n", o.Arch, strings.Join(o.Packages, ","))
	for _, p := range pkgs {
		fmt.Fprintf(h, "%s %s %s\n", p.Name, p.Version, p.SHA256)
	}
	path := filepath.Join(o.Cache, "layers", hex.EncodeToString(h.Sum(nil))+".tar.gz")
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(o.Progress, "unpacking %d packages into one layer\n", len(pkgs))
		if err := unpack(pkgs, files, o, path); err != nil {
			return nil, err
		}
	}
	return tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer))
}

// epoch is the time on every file and the image: fixed, so the digest
// depends on the package versions only.
var epoch = time.Unix(0, 0).UTC()

// Build resolves, downloads and unpacks the packages into an image.
func Build(ctx context.Context, o Options) (*Result, error) {
	if len(o.Packages) == 0 {
		return nil, fmt.Errorf("no packages given")
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	if o.Cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		o.Cache = filepath.Join(dir, "fair", "debian")
	}
	sources := o.Sources
	if sources == nil {
		var err error
		if sources, err = SystemSources(); err != nil {
			return nil, err
		}
	}
	if len(o.Suites) > 0 {
		var keep []Source
		for _, s := range sources {
			for _, want := range o.Suites {
				if s.Suite == want {
					keep = append(keep, s)
				}
			}
		}
		if len(keep) == 0 {
			return nil, fmt.Errorf("no apt source has suite %s", strings.Join(o.Suites, " or "))
		}
		sources = keep
	}
	f := &fetcher{client: o.Client, cache: o.Cache}
	var all []*Package
	for _, s := range sources {
		fmt.Fprintf(o.Progress, "reading the index of %s %s\n", s.URI, s.Suite)
		pkgs, err := f.index(ctx, s, o.Arch)
		if err != nil {
			return nil, err
		}
		all = append(all, pkgs...)
	}
	pkgs, err := newUniverse(all).resolve(o.Packages)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, p := range pkgs {
		total += p.Size
	}
	fmt.Fprintf(o.Progress, "%d packages (%s to download at most) for %s\n", len(pkgs), bytesize.Format(total), strings.Join(o.Packages, ", "))
	files, err := download(ctx, f, pkgs, total, o.Progress)
	if err != nil {
		return nil, err
	}
	layer, err := cachedLayer(pkgs, files, o)
	if err != nil {
		return nil, err
	}
	img, err := image(layer, o.Arch, o.Packages)
	if err != nil {
		return nil, err
	}
	return &Result{Image: img, Packages: pkgs, Bytes: total, opts: o}, nil
}

// download fetches the packages, four at a time, each checked against
// the signed index; cached ones are not fetched again.
func download(ctx context.Context, f *fetcher, pkgs []*Package, total int64, progress io.Writer) ([]string, error) {
	files := make([]string, len(pkgs))
	errs := make([]error, len(pkgs))
	sem := make(chan struct{}, 4)
	var mu sync.Mutex
	var done int64
	var wg sync.WaitGroup
	for i, p := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			files[i], errs[i] = f.getVerified(ctx, p.Source+"/"+p.Filename, p.SHA256)
			mu.Lock()
			done += p.Size
			if errs[i] == nil && total > 0 {
				fmt.Fprintf(progress, "  %s %s (%s of %s)\n", p.Name, p.Version, bytesize.Format(done), bytesize.Format(total))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %v", pkgs[i].Name, err)
		}
	}
	return files, nil
}

// unpack writes the one layer: the packages' files in name order, the
// users, /tmp, the nonroot home and the SBOM.
func unpack(pkgs []*Package, files []string, o Options, dest string) (err error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".part-*")
	if err != nil {
		return err
	}
	defer tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	zw := gzip.NewWriter(tmp)
	w := &layerWriter{tw: tar.NewWriter(zw), mtime: epoch, dirs: map[string]bool{}, alts: map[string]alternative{}}
	for i, p := range pkgs {
		if err := w.deb(files[i]); err != nil {
			return fmt.Errorf("unpack %s: %v", p.Name, err)
		}
	}
	if err := w.links(); err != nil {
		return err
	}
	sbom, err := spdx(pkgs, o)
	if err != nil {
		return err
	}
	for _, fl := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n")},
		{SBOMPath, 0o644, sbom},
	} {
		if err := w.bytes(fl.name, fl.mode, fl.data); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		name string
		mode int64
		uid  int
	}{{"tmp", 0o1777, 0}, {"root", 0o700, 0}, {"home/nonroot", 0o700, NonrootUID}} {
		if err := w.dir(d.name, d.mode, d.uid); err != nil {
			return err
		}
	}
	if err := w.tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func image(layer v1.Layer, arch string, asked []string) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair base debian: " + strings.Join(asked, " ")},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goArch(arch)
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = fmt.Sprint(NonrootUID)
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin", "LANG=C.UTF-8"}
	cf.Config.Labels = map[string]string{"dev.fair.sbom": "/" + SBOMPath}
	return mutate.ConfigFile(img, cf)
}

func goArch(deb string) string {
	switch deb {
	case "i386":
		return "386"
	case "armhf", "armel":
		return "arm"
	}
	return deb // amd64, arm64, ppc64el is ppc64le below
}

// spdx lists the packages as an SPDX 2.3 document, with package URLs.
func spdx(pkgs []*Package, o Options) ([]byte, error) {
	type pkg struct {
		SPDXID           string `json:"SPDXID"`
		Name             string `json:"name"`
		VersionInfo      string `json:"versionInfo"`
		DownloadLocation string `json:"downloadLocation"`
		ExternalRefs     []any  `json:"externalRefs"`
	}
	doc := map[string]any{
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              "fair base debian: " + strings.Join(o.Packages, " "),
		"documentNamespace": "https://github.com/fair-go/fair/spdx/debian/" + strings.Join(o.Packages, "+"),
		"creationInfo":      map[string]any{"created": epoch.Format(time.RFC3339), "creators": []string{"Tool: fair"}},
	}
	var list []pkg
	for _, p := range pkgs {
		list = append(list, pkg{
			SPDXID: "SPDXRef-Package-" + strings.NewReplacer("+", "-", ".", "-", "_", "-").Replace(p.Name), Name: p.Name, VersionInfo: p.Version,
			DownloadLocation: p.Source + "/" + p.Filename,
			ExternalRefs: []any{map[string]string{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
				"referenceLocator": fmt.Sprintf("pkg:deb/debian/%s@%s?arch=%s", p.Name, p.Version, p.Arch)}},
		})
	}
	doc["packages"] = list
	return json.MarshalIndent(doc, "", " ")
}
