package builder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/fair-go/fair/internal/bytesize"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Publisher puts a built artifact somewhere and returns its reference by
// digest.
type Publisher interface {
	Publish(ctx context.Context, a Artifact, repo string) (*Published, error)
}

// Published says where an artifact went and what it cost.
type Published struct {
	// Ref is the reference by digest, e.g. registry/repo@sha256:...
	Ref string
	// Uploaded is the number of blob bytes sent.
	Uploaded int64
	// BlobsUploaded, BlobsExisting and BlobsMounted count blobs by fate.
	BlobsUploaded, BlobsExisting, BlobsMounted int
}

// Summary is a one-line account of the push.
func (p *Published) Summary() string {
	if p.BlobsUploaded == 0 && p.BlobsMounted == 0 {
		if p.BlobsExisting == 0 {
			return "uploaded 0 bytes: the image is already in the registry"
		}
		return fmt.Sprintf("uploaded 0 bytes: all %d blobs already present", p.BlobsExisting)
	}
	return fmt.Sprintf("uploaded %s in %d blobs, %d already present, %d mounted",
		bytesize.Format(p.Uploaded), p.BlobsUploaded, p.BlobsExisting, p.BlobsMounted)
}

// RegistryError is a registry that could not be reached or refused us,
// with advice on what to do.
type RegistryError struct {
	Op, Registry string
	Status       int
	Err          error
}

func (e *RegistryError) Error() string {
	switch {
	case e.Status == 401 || e.Status == 403:
		return fmt.Sprintf("%s: registry %s refused the credentials (%d): log in with `fair login %s -u USER --password-stdin` (or docker login: fair reads the Docker config and its credential helpers)", e.Op, e.Registry, e.Status, e.Registry)
	case e.Status == 404:
		return fmt.Sprintf("%s: not found in registry %s: %v", e.Op, e.Registry, shortErr(e.Err))
	case e.Status != 0:
		return fmt.Sprintf("%s: registry %s answered %d: %v", e.Op, e.Registry, e.Status, shortErr(e.Err))
	case strings.Contains(e.Err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s: registry %s speaks plain HTTP: add it to insecureRegistries in fair.yaml (or FAIR_INSECURE_REGISTRIES)", e.Op, e.Registry)
	}
	return fmt.Sprintf("%s: cannot reach registry %s: %v", e.Op, e.Registry, shortErr(e.Err))
}

func (e *RegistryError) Unwrap() error { return e.Err }

// registryError wraps err with what was being done and where, if it came
// from talking to a registry.
func registryError(op, registry string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return &RegistryError{Op: op, Registry: registry, Status: te.StatusCode, Err: err}
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return &RegistryError{Op: op, Registry: registry, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// shortErr drops the long URL that net/http errors carry.
func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var te *transport.Error
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors[0].Message
	}
	return err.Error()
}
