package pushretry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func registryErr(code transport.ErrorCode) error {
	return fmt.Errorf("push: %w", &transport.Error{StatusCode: 400, Errors: []transport.Diagnostic{{Code: code}}})
}

func TestDoRetriesRacesOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		calls int
	}{
		{"race cured", registryErr(transport.ManifestBlobUnknownErrorCode), 2},
		{"denied is final", registryErr(transport.DeniedErrorCode), 1},
		{"plain error is final", errors.New("disk full"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Do(context.Background(), func() error {
				calls++
				if calls == 1 {
					return tc.err
				}
				return nil
			})
			if calls != tc.calls {
				t.Errorf("calls = %d, want %d", calls, tc.calls)
			}
			if (err == nil) != (tc.calls == 2) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestDoGivesUp(t *testing.T) {
	calls := 0
	err := Do(context.Background(), func() error { calls++; return registryErr(transport.DigestInvalidErrorCode) })
	if calls != Attempts || !Racy(err) {
		t.Fatalf("calls = %d, err = %v", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	if err := Do(ctx, func() error { calls++; return registryErr(transport.BlobUnknownErrorCode) }); err == nil || calls != 1 {
		t.Fatalf("cancelled: calls = %d, err = %v", calls, err)
	}
}
