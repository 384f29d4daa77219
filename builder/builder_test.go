package builder_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/internal/testregistry"
)

// writeModule writes a Go main package with its own go.mod into a new
// folder and returns it.
func writeModule(t *testing.T, mainGo string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.mod"), "module example.com/hello\n\ngo 1.22\n")
	write(t, filepath.Join(dir, "main.go"), mainGo)
	return dir
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

const helloGo = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from fair\") }\n"

func build(t *testing.T, src builder.Source, opts ...builder.Option) builder.Artifact {
	t.Helper()
	b, err := builder.New(append([]builder.Option{builder.WithCacheDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.Build(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func publish(t *testing.T, a builder.Artifact, repo, tag string) *builder.Published {
	t.Helper()
	res, err := (&builder.Registry{Tag: tag}).Publish(context.Background(), a, repo)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// walkLayers calls fn for every entry of every layer of img, in order.
func walkLayers(t *testing.T, img v1.Image, fn func(h *tar.Header, r io.Reader)) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			fn(h, tr)
		}
		rc.Close()
	}
}

// files lists every path in every layer of img, with its header.
func files(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	walkLayers(t, img, func(h *tar.Header, _ io.Reader) { out[strings.TrimSuffix(h.Name, "/")] = h })
	return out
}

func TestGoPackageImage(t *testing.T) {
	reg := testregistry.Start(t)
	dir := writeModule(t, helloGo)
	src, err := builder.NewGo(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := build(t, src, builder.WithPlatforms(v1.Platform{OS: "linux", Architecture: "amd64"}))
	res := publish(t, a, reg.Host+"/hello", "v1")
	if !strings.HasPrefix(res.Ref, reg.Host+"/hello@sha256:") {
		t.Fatalf("ref %q is not by digest", res.Ref)
	}

	img, err := remote.Image(mustRef(t, reg.Host+"/hello:v1"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/usr/local/bin/hello" {
		t.Errorf("entrypoint = %q", got)
	}
	if cf.Architecture != "amd64" || cf.OS != "linux" {
		t.Errorf("platform = %s/%s", cf.OS, cf.Architecture)
	}
	if cf.Config.User != "65532" {
		t.Errorf("user = %q, want nonroot 65532", cf.Config.User)
	}
	if !cf.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("created = %v, want the epoch", cf.Created.Time)
	}
	fs := files(t, img)
	for _, p := range []string{"usr/local/bin/hello", "etc/passwd", "etc/group", "etc/nsswitch.conf", "etc/ssl/certs/ca-certificates.crt", "tmp"} {
		if fs[p] == nil {
			t.Errorf("image lacks %s", p)
		}
	}
	if h := fs["tmp"]; h != nil && h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp mode = %o, want 1777", h.Mode)
	}
	if h := fs["usr/local/bin/hello"]; h != nil && (h.Mode&0o111 == 0 || h.Uid != 0 || !h.ModTime.Equal(time.Unix(0, 0))) {
		t.Errorf("binary header: mode %o uid %d mtime %v", h.Mode, h.Uid, h.ModTime)
	}
	if h := fs["home/nonroot"]; h == nil || h.Uid != builder.NonrootUID {
		t.Errorf("home/nonroot missing or not owned by nonroot: %+v", h)
	}
}

func TestRebuildSameDigestUploadsNothing(t *testing.T) {
	reg := testregistry.Start(t)
	dir := writeModule(t, helloGo)
	src, err := builder.NewGo(dir)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	first := publish(t, build(t, src, builder.WithCacheDir(cache)), reg.Host+"/hello", "latest")
	before := reg.BlobUploads()
	if before == 0 {
		t.Fatal("the registry's log shows no blob upload for the first push; the counter is broken")
	}
	// A second build, with a fresh cache as on another machine, must give
	// the same digest, and pushing it must send no blob.
	second := publish(t, build(t, src), reg.Host+"/hello", "latest")
	if first.Ref != second.Ref {
		t.Fatalf("rebuild changed the digest: %s then %s", first.Ref, second.Ref)
	}
	if got := reg.BlobUploads(); got != before {
		t.Fatalf("the registry received %d blob uploads on a rebuild with no change", got-before)
	}
	if second.Uploaded != 0 || second.BlobsUploaded != 0 {
		t.Fatalf("rebuild reported %d bytes in %d blobs", second.Uploaded, second.BlobsUploaded)
	}

	// A one-line change makes a new binary layer only.
	write(t, filepath.Join(dir, "main.go"), strings.Replace(helloGo, "hello from fair", "hello again", 1))
	third := publish(t, build(t, src, builder.WithCacheDir(cache)), reg.Host+"/hello", "latest")
	if third.Ref == first.Ref {
		t.Fatal("a changed program gave the same digest")
	}
	if third.BlobsUploaded != 2 { // the binary layer and the config
		t.Fatalf("a one-line change uploaded %d blobs, want 2 (layer and config)", third.BlobsUploaded)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	src, err := builder.NewGo(writeModule(t, helloGo))
	if err != nil {
		t.Fatal(err)
	}
	a0 := build(t, src)
	a1 := build(t, src, builder.WithEpoch(time.Unix(1700000000, 0)))
	d0, _ := a0.Digest()
	d1, _ := a1.Digest()
	if d0 == d1 {
		t.Fatal("SOURCE_DATE_EPOCH did not change the digest")
	}
	img := a1.(v1.Image)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Annotations["org.opencontainers.image.created"]; got != "2023-11-14T22:13:20Z" {
		t.Fatalf("created annotation = %q", got)
	}
	for p, h := range files(t, img) {
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Fatalf("%s mtime %v", p, h.ModTime)
		}
	}
}

func TestMultiPlatformIndex(t *testing.T) {
	reg := testregistry.Start(t)
	src, err := builder.NewGo(writeModule(t, helloGo))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := builder.ParsePlatforms([]string{"linux/amd64,linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	a := build(t, src, builder.WithPlatforms(ps...))
	publish(t, a, reg.Host+"/multi", "latest")
	idx, err := remote.Index(mustRef(t, reg.Host+"/multi:latest"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d manifests", len(im.Manifests))
	}
	for i, want := range []string{"amd64", "arm64"} {
		d := im.Manifests[i]
		if d.Platform == nil || d.Platform.Architecture != want {
			t.Fatalf("manifest %d platform %+v, want %s", i, d.Platform, want)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != want {
			t.Fatalf("config arch %s, want %s", cf.Architecture, want)
		}
		// The binary really is for that architecture (ELF machine field).
		rc, _ := mustLayerFile(t, img, "usr/local/bin/hello")
		machine := map[string]uint16{"amd64": 62, "arm64": 183}[want]
		if got := uint16(rc[18]) | uint16(rc[19])<<8; got != machine {
			t.Fatalf("%s binary has ELF machine %d", want, got)
		}
	}
}

// mustLayerFile returns the content of path in the image (the last layer
// that has it wins, as in a container's file system).
func mustLayerFile(t *testing.T, img v1.Image, path string) ([]byte, error) {
	t.Helper()
	var data []byte
	found := false
	var rerr error
	walkLayers(t, img, func(h *tar.Header, r io.Reader) {
		if h.Name == path {
			data, rerr = io.ReadAll(r)
			found = true
		}
	})
	if !found {
		t.Fatalf("no %s in image", path)
	}
	return data, rerr
}

func TestCompileErrorPushesNothing(t *testing.T) {
	reg := testregistry.Start(t)
	src, err := builder.NewGo(writeModule(t, "package main\n\nfunc main() { undefinedThing() }\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New(builder.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Build(context.Background(), src)
	var ce *builder.CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "undefined: undefinedThing") || !strings.Contains(err.Error(), "main.go:3") {
		t.Fatalf("want a compile error quoting the compiler, got %v", err)
	}
	if n := reg.BlobUploads(); n != 0 {
		t.Fatalf("%d blobs uploaded for a failed build", n)
	}
}

func TestDirectorySourceShipsNoSecrets(t *testing.T) {
	reg := testregistry.Start(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "train.py"), "print('training')\n")
	write(t, filepath.Join(dir, "data", "x.csv"), "1,2\n")
	write(t, filepath.Join(dir, ".env"), "API_KEY=secret\n")
	write(t, filepath.Join(dir, "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\n")
	write(t, filepath.Join(dir, "kubeconfig"), "apiVersion: v1\n")
	write(t, filepath.Join(dir, "conf", ".kube", "config"), "apiVersion: v1\n")
	write(t, filepath.Join(dir, "tls.key"), "key\n")
	write(t, filepath.Join(dir, ".git", "config"), "[core]\n")
	write(t, filepath.Join(dir, "ignored.log"), "log\n")
	write(t, filepath.Join(dir, ".fairignore"), "*.log\n")
	write(t, filepath.Join(dir, "notes.tmp"), "scratch\n")
	write(t, filepath.Join(dir, ".dockerignore"), "*.tmp\n")
	for _, f := range []string{".ssh/id_ed25519", "id_ecdsa", ".aws/credentials", ".git-credentials", ".npmrc", ".pypirc", "cert.p12", "infra/terraform.tfstate", ".config/gcloud/credentials.db"} {
		write(t, filepath.Join(dir, f), "secret\n")
	}

	// The base comes from the registry, as a framework image would.
	base := publish(t, build(t, mustGo(t)), reg.Host+"/framework", "1.0")
	src, err := builder.NewDir(dir, "/workspace", []string{"python", "train.py"})
	if err != nil {
		t.Fatal(err)
	}
	res := publish(t, build(t, src, builder.WithBase(reg.Host+"/framework:1.0")), reg.Host+"/train-py", "latest")
	if res.BlobsMounted == 0 {
		t.Errorf("base layers were not mounted across repositories: %+v", res)
	}
	img, err := remote.Image(mustRef(t, res.Ref))
	if err != nil {
		t.Fatal(err)
	}
	fs := files(t, img)
	for _, want := range []string{"workspace/train.py", "workspace/data/x.csv", "workspace/.fairignore", "usr/local/bin/hello"} {
		if fs[want] == nil {
			t.Errorf("image lacks %s", want)
		}
	}
	for p := range fs {
		for _, secret := range []string{".env", "id_rsa", "kubeconfig", ".kube", "tls.key", ".git", "ignored.log", "notes.tmp",
			".ssh", "id_ed25519", "id_ecdsa", ".aws", ".git-credentials", ".npmrc", ".pypirc", "cert.p12", "terraform.tfstate", "gcloud"} {
			if filepath.Base(p) == secret || strings.Contains(p, "/"+secret+"/") {
				t.Errorf("secret or ignored file %s shipped in the image", p)
			}
		}
	}
	cf, _ := img.ConfigFile()
	if cf.Config.WorkingDir != "/workspace" || strings.Join(cf.Config.Cmd, " ") != "python train.py" {
		t.Errorf("workdir %q cmd %q", cf.Config.WorkingDir, cf.Config.Cmd)
	}
	m, _ := img.Manifest()
	if m.Annotations["org.opencontainers.image.base.name"] != reg.Host+"/framework:1.0" {
		t.Errorf("annotations %v", m.Annotations)
	}
	_ = base

	// A file its owner keeps private stays private in the image.
	private := t.TempDir()
	write(t, filepath.Join(private, "run.py"), "print(1)\n")
	write(t, filepath.Join(private, "notes.txt"), "mine\n")
	if err := os.Chmod(filepath.Join(private, "notes.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err = builder.NewDir(private, "/workspace", []string{"python", "run.py"})
	if err != nil {
		t.Fatal(err)
	}
	res = publish(t, build(t, src, builder.WithBase(reg.Host+"/framework:1.0")), reg.Host+"/private", "x")
	if img, err = remote.Image(mustRef(t, res.Ref)); err != nil {
		t.Fatal(err)
	}
	if h := files(t, img)["workspace/notes.txt"]; h == nil || h.Mode&0o077 != 0 {
		t.Errorf("a 0600 file shipped as %v", h)
	}
	if h := files(t, img)["workspace/run.py"]; h == nil || h.Mode&0o777 != 0o644 {
		t.Errorf("a 0644 file shipped as %v", h)
	}

	// A source that is a link to a folder ships the folder.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	src, err = builder.NewDir(link, "/workspace", []string{"python", "train.py"})
	if err != nil {
		t.Fatal(err)
	}
	res = publish(t, build(t, src, builder.WithBase(reg.Host+"/framework:1.0")), reg.Host+"/train-py", "link")
	if img, err = remote.Image(mustRef(t, res.Ref)); err != nil {
		t.Fatal(err)
	}
	if files(t, img)["workspace/train.py"] == nil {
		t.Error("a linked source folder built an image without its files")
	}

	// A source that is a folder where credentials live is refused whole.
	kube := filepath.Join(t.TempDir(), ".kube")
	write(t, filepath.Join(kube, "config"), "apiVersion: v1\n")
	src, err = builder.NewDir(kube, "/workspace", []string{"cat", "config"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New(builder.WithBase(reg.Host+"/framework:1.0"), builder.WithInsecureRegistries(reg.Host))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), src); err == nil || !strings.Contains(err.Error(), "where credentials live") {
		t.Errorf("building ~/.kube: %v", err)
	}
}

func mustGo(t *testing.T) builder.Source {
	t.Helper()
	src, err := builder.NewGo(writeModule(t, helloGo))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestBasePinnedByDigestNeedsNoRequest(t *testing.T) {
	reg := testregistry.Start(t)
	base := publish(t, build(t, mustGo(t)), reg.Host+"/base", "1")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "run.sh"), "echo hi\n")
	src, err := builder.NewDir(dir, "/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	a1 := build(t, src, builder.WithBase(base.Ref), builder.WithCacheDir(cache))
	// Second build, same cache: the registry must see no request for the base.
	before := len(reg.Log())
	a2 := build(t, src, builder.WithBase(base.Ref), builder.WithCacheDir(cache))
	for _, l := range reg.Log()[before:] {
		if strings.Contains(l, "/v2/base/") {
			t.Fatalf("a base pinned by digest was requested again: %s", l)
		}
	}
	d1, _ := a1.Digest()
	d2, _ := a2.Digest()
	if d1 != d2 {
		t.Fatalf("cached base gave another digest: %s vs %s", d1, d2)
	}
	// And the image made from the cached base publishes completely.
	publish(t, a2, reg.Host+"/app", "latest")
	if _, err := remote.Image(mustRef(t, reg.Host+"/app:latest")); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBase(t *testing.T) {
	reg := testregistry.Start(t)
	src, err := builder.NewDir(t.TempDir(), "/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := builder.New(builder.WithCacheDir(t.TempDir()), builder.WithBase(reg.Host+"/nope:1"))
	_, err = b.Build(context.Background(), src)
	if err == nil || !strings.Contains(err.Error(), "pull base "+reg.Host+"/nope:1") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("want a clear missing-base error, got %v", err)
	}
}

func TestAuthRegistry(t *testing.T) {
	reg := testregistry.Start(t, testregistry.WithAuth("alice", "s3cret"))
	a := build(t, mustGo(t))
	repo := reg.Host + "/private"

	_, err := (&builder.Registry{Keychain: authn.NewMultiKeychain()}).Publish(context.Background(), a, repo)
	var re *builder.RegistryError
	if !errors.As(err, &re) || re.Status != 401 || !strings.Contains(err.Error(), "fair login "+reg.Host) {
		t.Fatalf("want a 401 with login advice, got %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatal("error shows the password")
	}
	if err := (&builder.Registry{}).Check(context.Background(), repo); err == nil {
		t.Fatal("Check passed without credentials")
	}

	// Credentials from a docker config file, as `docker login` writes it.
	cfgDir := t.TempDir()
	write(t, filepath.Join(cfgDir, "config.json"), `{"auths":{"`+reg.Host+`":{"auth":"YWxpY2U6czNjcmV0"}}}`)
	t.Setenv("DOCKER_CONFIG", cfgDir)
	if err := (&builder.Registry{}).Check(context.Background(), repo); err != nil {
		t.Fatalf("Check with credentials: %v", err)
	}
	res, err := (&builder.Registry{}).Publish(context.Background(), a, repo)
	if err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	if !strings.HasPrefix(res.Ref, repo+"@sha256:") {
		t.Fatal(res.Ref)
	}
}

func TestUnreachableRegistry(t *testing.T) {
	a := build(t, mustGo(t))
	_, err := (&builder.Registry{}).Publish(context.Background(), a, "127.0.0.1:1/x")
	if err == nil || !strings.Contains(err.Error(), "cannot reach registry 127.0.0.1:1") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want a clear unreachable error, got %v", err)
	}
}

func TestLayoutAndTarball(t *testing.T) {
	a := build(t, mustGo(t))
	dir := filepath.Join(t.TempDir(), "layout")
	res, err := (&builder.Layout{Dir: dir}).Publish(context.Background(), a, "fair.local/hello")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := a.Digest()
	if !strings.HasSuffix(res.Ref, "@"+d.String()) || !strings.HasPrefix(res.Ref, "oci:") {
		t.Fatalf("layout ref %q", res.Ref)
	}
	// The layout serves as a base.
	src, _ := builder.NewDir(t.TempDir(), "/app", []string{"hello"})
	b2 := build(t, src, builder.WithBase(res.Ref))
	img2 := b2.(v1.Image)
	if files(t, img2)["usr/local/bin/hello"] == nil {
		t.Fatal("image built on an OCI layout base lacks the base's files")
	}

	tb := filepath.Join(t.TempDir(), "img.tar")
	if _, err := (&builder.Tarball{File: tb}).Publish(context.Background(), a, "fair.local/hello"); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("fair.local/hello:latest")
	img, err := tarball.ImageFromPath(tb, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if cf.Config.Entrypoint[0] != "/usr/local/bin/hello" {
		t.Fatalf("tarball image entrypoint %v", cf.Config.Entrypoint)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGitAnnotationsAndImageConfig(t *testing.T) {
	dir := writeModule(t, helloGo)
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=a@b", "-c", "user.name=a"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "init")
	git("remote", "add", "origin", "https://user:token@git.example/team/hello.git")
	head := git("rev-parse", "HEAD")
	src, err := builder.NewGo(dir)
	if err != nil {
		t.Fatal(err)
	}
	img := build(t, src, builder.WithEnv("MODEL=linear"), builder.WithLabels("team=ml"), builder.WithUser("1000")).(v1.Image)
	m, _ := img.Manifest()
	if m.Annotations["org.opencontainers.image.revision"] != head {
		t.Errorf("revision = %q, want %q", m.Annotations["org.opencontainers.image.revision"], head)
	}
	if got := m.Annotations["org.opencontainers.image.source"]; got != "https://git.example/team/hello.git" {
		t.Errorf("source = %q (credentials must be stripped)", got)
	}
	cf, _ := img.ConfigFile()
	if cf.Config.User != "1000" || cf.Config.Labels["team"] != "ml" || !contains(cf.Config.Env, "MODEL=linear") || !contains(cf.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("config: user %q labels %v env %v", cf.Config.User, cf.Config.Labels, cf.Config.Env)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// With FAIR_SCAN_SECRETS=1 (as make test runs every test), a build whose
// own layers hold a file the secret defaults exclude fails: here one a
// .fairignore brought back with "!".
func TestSecretScan(t *testing.T) {
	t.Setenv(builder.ScanEnv, "1")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "run.sh"), "echo hi\n")
	write(t, filepath.Join(dir, "deploy.pem"), "-----BEGIN PRIVATE KEY-----\n")
	write(t, filepath.Join(dir, ".fairignore"), "!deploy.pem\n")
	src, err := builder.NewDir(dir, "/app", []string{"sh", "run.sh"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New(builder.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), src); err == nil || !strings.Contains(err.Error(), "deploy.pem") {
		t.Errorf("scan: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, ".fairignore")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), src); err != nil {
		t.Errorf("without the secret: %v", err)
	}
}
