// Package pushretry retries a registry push that lost a race with another
// push of the same blobs. Steps of one pipeline run and ranks of one job
// push at the same moment and often write identical bytes; a registry
// (CNCF Distribution among them) can then answer one of the writers that
// a blob it just saw is unknown, or that an upload's digest did not match,
// while the other writer's commit is half done. A second attempt finds the
// blobs in place and only writes the manifest.
package pushretry

import (
	"context"
	"errors"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Attempts is how many times Do calls push before it gives up.
const Attempts = 4

// racy are the registry error codes a concurrent writer of the same blob
// can cause.
var racy = map[transport.ErrorCode]bool{
	transport.DigestInvalidErrorCode:       true,
	transport.BlobUnknownErrorCode:         true,
	transport.ManifestBlobUnknownErrorCode: true,
	transport.BlobUploadUnknownErrorCode:   true,
	transport.BlobUploadInvalidErrorCode:   true,
}

// Racy says whether err is a registry answer that a retry can cure.
func Racy(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	for _, d := range te.Errors {
		if racy[d.Code] {
			return true
		}
	}
	return false
}

// Do calls push until it succeeds, fails with an error a retry cannot
// cure, or has been tried Attempts times.
func Do(ctx context.Context, push func() error) error {
	var err error
	for i := 0; i < Attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(50<<i) * time.Millisecond):
			}
		}
		if err = push(); err == nil || !Racy(err) {
			return err
		}
	}
	return err
}
