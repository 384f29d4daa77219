package keychain

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// The Docker config answers for the registries it knows; any other
// registry that is not Google's is anonymous, at once (no cloud lookup).
func TestDefault(t *testing.T) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("ann:secret"))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"reg.example:5000":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	reg, _ := name.NewRegistry("reg.example:5000")
	a, err := Default.Resolve(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil || cfg.Username != "ann" || cfg.Password != "secret" {
		t.Fatalf("reg.example: %+v, %v", cfg, err)
	}
	start := time.Now()
	other, _ := name.NewRegistry("other.example")
	if a, err := Default.Resolve(other); err != nil || a != authn.Anonymous {
		t.Fatalf("other.example: %v, %v", a, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("an unknown registry took %v to resolve", d)
	}
}
