package builder_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/internal/testregistry"
)

// fault decides what the proxy does to the n-th request of a kind; it
// returns false to pass the request on.
type fault func(w http.ResponseWriter, r *http.Request, n int64) bool

// faultyRegistry is a proxy in front of a real registry that injects
// faults.
func faultyRegistry(t *testing.T, upstream string, f fault) string {
	t.Helper()
	target, _ := url.Parse("http://" + upstream)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f(w, r, n.Add(1)) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// A registry that fails now and then: a build through it either gives the
// digest it gives without faults, or fails in one line and leaves no tag.
func TestRegistryFaults(t *testing.T) {
	reg := testregistry.Start(t)
	art := build(t, mustGo(t))
	want := publish(t, art, reg.Host+"/baseline", "v1")
	digest := want.Ref[strings.LastIndex(want.Ref, "@")+1:]

	var put503, patchReset, manifest401 atomic.Bool
	for _, tc := range []struct {
		name  string
		fault fault
		fails bool
	}{
		{"5xx on a blob upload", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && !put503.Swap(true) {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			}
			return false
		}, false},
		{"connection reset", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			if (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/") && !patchReset.Swap(true) {
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						c.Close()
						return true
					}
				}
			}
			return false
		}, false},
		{"slow answers", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			time.Sleep(50 * time.Millisecond)
			return false
		}, false},
		{"401 on the manifest", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !manifest401.Swap(true) {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return true
			}
			return false
		}, true},
		{"registry gone mid-push", func(w http.ResponseWriter, r *http.Request, n int64) bool {
			if n > 3 {
				http.Error(w, "gone", http.StatusBadGateway)
				return true
			}
			return false
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := faultyRegistry(t, reg.Host, tc.fault)
			repo := strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := (&builder.Registry{Tag: "v1"}).Publish(ctx, art, host+"/"+repo)
			tag, _ := name.NewTag(reg.Host + "/" + repo + ":v1")
			_, herr := remote.Head(tag)
			switch {
			case err == nil && tc.fails:
				t.Errorf("published %s through a registry that should have failed it", res.Ref)
			case err == nil:
				if !strings.HasSuffix(res.Ref, "@"+digest) {
					t.Errorf("published %s, want digest %s", res.Ref, digest)
				}
				if herr != nil {
					t.Errorf("the tag is missing after a publish that succeeded: %v", herr)
				}
			default:
				if !tc.fails {
					t.Errorf("a fault the client should ride out failed the publish: %v", err)
				}
				t.Logf("failed in one line: %v", err)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if herr == nil {
					t.Errorf("a failed publish left the tag %s", tag)
				}
			}
		})
	}
}
