package podruntime

import (
	"testing"

	"github.com/fair-go/fair/config"
)

// Plain HTTP is chosen per registry: the runtime's registry on loopback
// does not make a ready image on another registry read over HTTP.
func TestInsecurePerRegistry(t *testing.T) {
	cfg := config.Default()
	cfg.InsecureRegistries = []string{"10.0.0.5:5000"}
	r := &Runtime{insec: func(ref string) bool { return Insecure(cfg, ref) }}
	for ref, want := range map[string]bool{
		"127.0.0.1:5055/fair-step@sha256:" + "0123456789012345678901234567890123456789012345678901234567890123": true,
		"localhost:5000/x:v1":            true,
		"10.0.0.5:5000/team/x:v1":        true,
		"registry.example.com/x:v1":      false,
		"nonexistent.invalid/foo/bar:v1": false,
		"ghcr.io/org/tool":               false,
	} {
		if got := len(r.nameOpts(ref)) > 0; got != want {
			t.Errorf("%s: plain HTTP %v, want %v", ref, got, want)
		}
	}
}
