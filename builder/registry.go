package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fair-go/fair/internal/bytesize"
	"github.com/fair-go/fair/internal/pushretry"
	"github.com/fair-go/fair/keychain"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry publishes to an OCI registry. Blobs the registry already has are
// not sent; base layers from another repository of the same registry are
// mounted. The tag (if any) is written last, so a failed push leaves no
// tag pointing at a partial image.
type Registry struct {
	Tag       string
	Keychain  authn.Keychain
	Transport http.RoundTripper
	Insecure  []string
	// Progress receives progress lines; TTY asks for an updating bar.
	Progress io.Writer
	TTY      bool
}

// Publish implements Publisher.
func (r *Registry) Publish(ctx context.Context, a Artifact, repo string) (*Published, error) {
	nopts := nameOptions(repo, r.Insecure)
	rp, err := name.NewRepository(repo, nopts...)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %v", repo, err)
	}
	d, err := a.Digest()
	if err != nil {
		return nil, err
	}
	var ref name.Reference = rp.Digest(d.String())
	if r.Tag != "" {
		if ref, err = name.NewTag(repo+":"+r.Tag, nopts...); err != nil {
			return nil, fmt.Errorf("tag %q: %v", r.Tag, err)
		}
	}
	base := r.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	ct := &countingTransport{next: base, log: r.blobLog()}
	kc := r.Keychain
	if kc == nil {
		kc = keychain.Default
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(ct)}
	err = pushretry.Do(ctx, func() error {
		opts := opts
		var bar *progressBar
		if r.TTY && r.Progress != nil {
			ch := make(chan v1.Update, 16)
			bar = newProgressBar(r.Progress, ch)
			opts = append(opts, remote.WithProgress(ch))
		}
		var err error
		switch t := a.(type) {
		case v1.Image:
			err = remote.Write(ref, t, opts...)
		case v1.ImageIndex:
			err = remote.WriteIndex(ref, t, opts...)
		default:
			return fmt.Errorf("cannot publish %T", a)
		}
		if bar != nil {
			bar.wait()
		}
		return err
	})
	if err != nil {
		return nil, registryError("push "+rp.String(), rp.RegistryStr(), err)
	}
	return &Published{
		Ref:           rp.Name() + "@" + d.String(),
		Uploaded:      ct.uploaded.Load(),
		BlobsUploaded: int(ct.blobsUploaded.Load()),
		BlobsExisting: int(ct.blobsExisting.Load()),
		BlobsMounted:  int(ct.blobsMounted.Load()),
	}, nil
}

func (r *Registry) blobLog() func(string) {
	if r.Progress == nil || r.TTY {
		return nil
	}
	var mu sync.Mutex
	return func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(r.Progress, s)
	}
}

// countingTransport watches the blob traffic of a push to report what was
// really sent: bytes in upload bodies, blobs found by HEAD, blobs mounted.
type countingTransport struct {
	next                                       http.RoundTripper
	log                                        func(string)
	uploaded                                   atomic.Int64
	blobsUploaded, blobsExisting, blobsMounted atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	upload := strings.Contains(p, "/blobs/uploads/")
	if upload && req.Body != nil && (req.Method == http.MethodPatch || req.Method == http.MethodPut || req.Method == http.MethodPost) {
		req.Body = &countingBody{ReadCloser: req.Body, n: &c.uploaded}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case req.Method == http.MethodHead && strings.Contains(p, "/blobs/sha256:") && ok:
		c.blobsExisting.Add(1)
	case upload && req.Method == http.MethodPost && req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		c.blobsMounted.Add(1)
		if c.log != nil {
			c.log(fmt.Sprintf("mounted %s from %s", short(req.URL.Query().Get("mount")), req.URL.Query().Get("from")))
		}
	case upload && req.Method == http.MethodPut && ok:
		c.blobsUploaded.Add(1)
		if c.log != nil {
			c.log(fmt.Sprintf("pushed blob %s", short(req.URL.Query().Get("digest"))))
		}
	}
	return resp, nil
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// progressBar renders go-containerregistry's push updates on one line.
type progressBar struct {
	done chan struct{}
}

func newProgressBar(w io.Writer, ch <-chan v1.Update) *progressBar {
	pb := &progressBar{done: make(chan struct{})}
	go func() {
		defer close(pb.done)
		var last time.Time
		var u v1.Update
		for u = range ch {
			if time.Since(last) < 100*time.Millisecond && u.Complete != u.Total {
				continue
			}
			last = time.Now()
			const width = 30
			filled := 0
			if u.Total > 0 {
				filled = int(float64(width) * float64(u.Complete) / float64(u.Total))
			}
			fmt.Fprintf(w, "\rpushing [%s%s] %s / %s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), bytesize.Format(u.Complete), bytesize.Format(u.Total))
		}
		fmt.Fprintln(w)
	}()
	return pb
}

func (pb *progressBar) wait() { <-pb.done }

// Check asks the registry about repo before a build spends time, so an
// unreachable registry or missing credentials fail fast. A missing
// repository is fine; it is created by the push.
func (r *Registry) Check(ctx context.Context, repo string) error {
	rp, err := name.NewRepository(repo, nameOptions(repo, r.Insecure)...)
	if err != nil {
		return fmt.Errorf("repository %q: %v", repo, err)
	}
	kc := r.Keychain
	if kc == nil {
		kc = keychain.Default
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	tag := r.Tag
	if tag == "" {
		tag = "latest"
	}
	_, err = remote.Head(rp.Tag(tag), opts...)
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return nil
	}
	return registryError("push "+rp.String(), rp.RegistryStr(), err)
}
