// Package testregistry starts a real OCI registry (Debian's docker-registry,
// the CNCF Distribution server) on a free loopback port for tests, with
// filesystem storage in a temporary folder and, if asked, htpasswd auth.
package testregistry

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Binary is the registry program.
var Binary = "docker-registry"

// Registry is a running registry.
type Registry struct {
	// Host is host:port (127.0.0.1 unless WithIP).
	Host string

	mu  sync.Mutex
	log []string
}

type options struct {
	user, password string
	ip             string
}

// WithIP listens on ip instead of 127.0.0.1 (e.g. the test bed's pod
// network gateway, which pods reach too).
func WithIP(ip string) Option { return func(o *options) { o.ip = ip } }

// Option configures a registry.
type Option func(*options)

// WithAuth requires basic auth with this user and password.
func WithAuth(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// Start runs a registry until the test ends. It fails the test when the
// registry program is missing: the suite needs real parts.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := exec.LookPath(Binary)
	if err != nil {
		t.Fatalf("%s not found (apt-get install docker-registry): %v", Binary, err)
	}
	dir := t.TempDir()
	ip := o.ip
	if ip == "" {
		ip = "127.0.0.1"
	}
	port := freePort(t, ip)
	host := net.JoinHostPort(ip, fmt.Sprint(port))
	auth := ""
	if o.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		pw := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pw, []byte(o.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: fair-test\n    path: %s\n", pw)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  debug:
    addr: ""
%s`, filepath.Join(dir, "data"), host, auth)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Registry{Host: host}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			r.log = append(r.log, sc.Text())
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		<-logDone
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s did not start: %v\n%s", host, err, strings.Join(r.Log(), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// Log returns the registry's log lines so far.
func (r *Registry) Log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

var uploadRE = regexp.MustCompile(`"PUT /v2/[^ ]*/blobs/uploads/[^ ]* HTTP/[0-9.]+" 201`)

// BlobUploads counts the blob uploads the registry completed, read from
// its own access log.
func (r *Registry) BlobUploads() int {
	n := 0
	for _, l := range r.Log() {
		if uploadRE.MatchString(l) {
			n++
		}
	}
	return n
}

func freePort(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
