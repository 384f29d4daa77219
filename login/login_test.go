package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/internal/testregistry"
)

// Against a real registry with basic auth: wrong credentials store
// nothing; right ones land in config.json where the standard keychain
// finds them and a push succeeds with them; logout removes them.
func TestLoginLogoutConfigJSON(t *testing.T) {
	reg := testregistry.Start(t, testregistry.WithAuth("ada", "s3cret"))
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	ctx := context.Background()
	o := Options{Insecure: true}

	if _, err := Login(ctx, reg.Host, "ada", "wrong", o); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("wrong password: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused login wrote the config: %v", err)
	}
	where, err := Login(ctx, reg.Host, "ada", "s3cret", o)
	if err != nil {
		t.Fatal(err)
	}
	if where != filepath.Join(dir, "config.json") {
		t.Errorf("stored in %q", where)
	}
	var cf struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	if got := cf.Auths[reg.Host].Auth; got != base64.StdEncoding.EncodeToString([]byte("ada:s3cret")) {
		t.Errorf("config.json auths[%s] = %q", reg.Host, got)
	}
	ref, err := name.ParseReference(reg.Host+"/team/img:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		t.Fatalf("push with the stored credentials: %v", err)
	}
	if removed, err := Logout(reg.Host, o); err != nil || !removed {
		t.Fatalf("logout: %v %v", removed, err)
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err == nil {
		t.Error("push succeeded after logout")
	}
	if removed, err := Logout(reg.Host, o); err != nil || removed {
		t.Errorf("second logout: %v %v", removed, err)
	}
}

// A Docker config that names a credential store hands the credentials to
// its helper (docker-credential-NAME on PATH), not to config.json.
func TestLoginThroughCredentialHelper(t *testing.T) {
	reg := testregistry.Start(t, testregistry.WithAuth("ada", "s3cret"))
	dir, bin, store := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAIRTEST_STORE", store)
	// The helper protocol: store reads {ServerURL,Username,Secret}; get and
	// erase read the server URL; one file per server.
	helper := `#!/bin/sh
set -e
case $1 in
store) cat >"$FAIRTEST_STORE/creds.json" ;;
get) read -r url; [ -f "$FAIRTEST_STORE/creds.json" ] && cat "$FAIRTEST_STORE/creds.json" || { echo "credentials not found in native keychain"; exit 1; } ;;
erase) read -r url; rm -f "$FAIRTEST_STORE/creds.json" ;;
list) echo "{}" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-fairtest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credsStore": "fairtest"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	where, err := Login(context.Background(), reg.Host, "ada", "s3cret", Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if where != "docker-credential-fairtest" {
		t.Errorf("stored in %q", where)
	}
	b, err := os.ReadFile(filepath.Join(store, "creds.json"))
	if err != nil || !strings.Contains(string(b), `"Secret":"s3cret"`) || !strings.Contains(string(b), `"Username":"ada"`) {
		t.Errorf("helper got %s (%v)", b, err)
	}
	if cfg, _ := os.ReadFile(filepath.Join(dir, "config.json")); strings.Contains(string(cfg), "s3cret") || strings.Contains(string(cfg), base64.StdEncoding.EncodeToString([]byte("ada:s3cret"))) {
		t.Errorf("the password reached config.json: %s", cfg)
	}
}

func TestLoginRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ reg, user, pw, want string }{
		{"ghcr.io/team", "u", "p", "without a path"},
		{"", "u", "p", "want a host"},
		{"ghcr.io", "", "p", "user name and a password"},
		{"ghcr.io", "u", "", "user name and a password"},
	} {
		if _, err := Login(context.Background(), tc.reg, tc.user, tc.pw, Options{ConfigDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v", tc, err)
		}
	}
}
