package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/test/testbed"
)

// fair doctor on the test bed: all well, then each part made wrong in
// turn (a registry that is down, one that wants a password, a user
// without rights, a cluster that does not answer, a BuildKit address with
// nothing behind it): the line names the problem and its fix, and the
// exit status says whether fair can work.
func TestTestbedDoctor(t *testing.T) {
	bed := testbed.Env(t)
	ctx := ctxFor(t, 2*time.Minute)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	line := func(out, level, name string) string {
		return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(level) + `\s+` + regexp.QuoteMeta(name) + `\s+.*$`).FindString(out)
	}

	out, _, err := runFair(ctx, bedConfig(t, bed), "doctor")
	if err != nil {
		t.Fatalf("doctor on a healthy test bed: %v\n%s", err, out)
	}
	for _, n := range []string{"Go toolchain", "registry", "cluster", "rights"} {
		if line(out.String(), "ok", n) == "" {
			t.Errorf("no ok line for %s:\n%s", n, out)
		}
	}
	if l := line(out.String(), "ok", "kinds"); !strings.Contains(l, "trainjob") || !strings.Contains(l, "kserve") || !strings.Contains(l, "fair-go") {
		t.Errorf("kinds: %q", l)
	}
	if os.Getenv("FAIR_TESTBED_KATIB") != "0" && !strings.Contains(line(out.String(), "ok", "sweeps"), "Katib serves Experiments") {
		t.Errorf("sweeps:\n%s", out)
	}

	out, _, err = runFair(ctx, bedConfig(t, bed), "doctor", "--registry", "127.0.0.1:1/x")
	if ExitCode(err) != 1 || !strings.Contains(line(out.String(), "FAIL", "registry"), "connection refused") || !strings.Contains(out.String(), "fix: start the registry") {
		t.Errorf("registry down: %v\n%s", err, out)
	}
	locked := testregistry.Start(t, testregistry.WithAuth("u", "p"))
	out, _, err = runFair(ctx, bedConfig(t, bed), "doctor", "--registry", locked.Host+"/x")
	if ExitCode(err) != 1 || line(out.String(), "FAIL", "registry") == "" || !strings.Contains(out.String(), "fix: log in: fair login "+locked.Host) {
		t.Errorf("registry with a password: %v\n%s", err, out)
	}

	sa, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{})
	must(t, err)
	tok, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).CreateToken(ctx, sa.Name, &authv1.TokenRequest{}, metav1.CreateOptions{})
	must(t, err)
	out, _, err = runFair(ctx, tokenConfig(t, bed, "no-rights", bed.Config.Host, tok.Status.Token), "doctor")
	if ExitCode(err) != 1 || !strings.Contains(line(out.String(), "FAIL", "rights"), "may not create jobs") {
		t.Errorf("no rights: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, tokenConfig(t, bed, "nowhere", "https://127.0.0.1:1", "t"), "doctor")
	if ExitCode(err) != 1 || line(out.String(), "FAIL", "cluster") == "" {
		t.Errorf("cluster down: %v\n%s", err, out)
	}
	cfg := bedConfig(t, bed)
	must(t, cfg.Set("buildkit", "unix:///nonexistent/buildkitd.sock", "test"))
	out, _, err = runFair(ctx, cfg, "doctor")
	if err != nil || line(out.String(), "warn", "BuildKit") == "" {
		t.Errorf("BuildKit address with nothing behind it: a warning only: %v\n%s", err, out)
	}
}
