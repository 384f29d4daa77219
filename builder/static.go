package builder

import (
	"encoding/pem"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// StaticBase names the built-in base image: enough of a file system for a
// static binary (users, /tmp, CA roots), made in-process with no network.
const StaticBase = "static"

// NonrootUID is the user the static base runs as.
const NonrootUID = 65532

const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"tty:x:5:\n" +
		"staff:x:50:\n" +
		"nonroot:x:65532:\n"
	nsswitch = "hosts: files dns\n"
	caPath   = "/etc/ssl/certs/ca-certificates.crt"
)

var caBundle = sync.OnceValue(func() []byte {
	var out []byte
	for r := range bundle.Roots() {
		// Roots with constraints (distrust dates) cannot be expressed in a
		// PEM file, so they are left out rather than trusted without them.
		if r.Constraint != nil {
			continue
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})...)
	}
	return out
})

// staticBase returns the built-in base for a platform. Its one layer is the
// same on every platform; only the config's platform differs.
func staticBase(cache *layerCache, tmpDir string, p v1.Platform, epoch time.Time) (v1.Image, error) {
	layer, err := buildLayer(cache, tmpDir, epoch, func(t *Tar) error {
		if err := t.Dir("etc", 0o755); err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			data string
		}{{"etc/group", group}, {"etc/nsswitch.conf", nsswitch}, {"etc/passwd", passwd}} {
			if err := t.Bytes(f.name, 0o644, []byte(f.data)); err != nil {
				return err
			}
		}
		if err := t.Bytes(caPath, 0o644, caBundle()); err != nil {
			return err
		}
		// The home directory belongs to nonroot so programs can write there.
		if err := t.DirAs("home/nonroot", 0o700, NonrootUID, NonrootUID); err != nil {
			return err
		}
		if err := t.Dir("root", 0o700); err != nil {
			return err
		}
		return t.Dir("tmp", 0o1777)
	})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair static base", Comment: "users, /tmp, CA certificates"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = "65532"
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Env = []string{
		"PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
		"SSL_CERT_FILE=" + caPath,
	}
	return mutate.ConfigFile(img, cf)
}
