package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/test/testbed"
)

// TestTestbedAccessErrors checks the one-line errors for a user without
// rights, for credentials the cluster rejects, and for a cluster that cannot
// be reached; in each case nothing is created.
func TestTestbedAccessErrors(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testImage(t, bed, linesDir)

	// A service account with no role: real RBAC denial.
	sa, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).CreateToken(ctx, sa.Name, &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := func(name, server, token string) *config.Config { return tokenConfig(t, bed, name, server, token) }

	cases := []struct {
		name string
		cfg  *config.Config
		want string
	}{
		{"rbac denied", kubeconfig("no-rights", bed.Config.Host, tok.Status.Token), "permission denied in context no-rights"},
		{"bad credentials", kubeconfig("bad-token", bed.Config.Host, "not-a-token"), "rejected the credentials of context bad-token"},
		{"unreachable", kubeconfig("gone", "https://127.0.0.1:1", "x"), "cannot reach the cluster at https://127.0.0.1:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runFair(ctx, c.cfg, "train", "--image", img, "--name", "denied", "--detach")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one line:\n%s", err)
			}
		})
	}
	jobs, err := bed.Client.BatchV1().Jobs(bed.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 {
		t.Fatalf("a refused submission left %d jobs behind", len(jobs.Items))
	}
}

// A user who may run jobs but not read pods gets the job submitted and one
// line saying why it cannot be followed, instead of a wait without end;
// one who may read pods but not their logs follows the status only.
func TestTestbedNarrowRBAC(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testImage(t, bed, linesDir)
	tokenFor := func(name string, rules []rbacv1.PolicyRule) *config.Config {
		t.Helper()
		if _, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := bed.Client.RbacV1().Roles(bed.Namespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := bed.Client.RbacV1().RoleBindings(bed.Namespace).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: bed.Namespace}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tok, err := bed.Client.CoreV1().ServiceAccounts(bed.Namespace).CreateToken(ctx, name, &authv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tokenConfig(t, bed, name, bed.Config.Host, tok.Status.Token)
	}
	jobs := rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}}
	pods := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"get", "list", "watch"}}

	start := time.Now()
	_, _, err := runFair(ctx, tokenFor("jobs-only", []rbacv1.PolicyRule{jobs}), "train", "--image", img, "--name", "blind", "-e", "LINES=1")
	if err == nil || !strings.Contains(err.Error(), "job/blind cannot be followed") || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "\n") {
		t.Errorf("jobs-only: %v", err)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("jobs-only took %s to say so", took)
	}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "blind", metav1.GetOptions{}); err != nil {
		t.Errorf("the job was not submitted: %v", err)
	}

	out, errOut, err := runFair(ctx, tokenFor("no-logs", []rbacv1.PolicyRule{jobs, pods}), "train", "--image", img, "--name", "quiet", "-e", "LINES=1")
	if err != nil || !strings.Contains(errOut.String(), "the logs cannot be read") || !strings.Contains(errOut.String(), "job/quiet succeeded") || out.String() != "" {
		t.Errorf("no-logs: %v\nstdout %q\nstderr:\n%s", err, out, errOut)
	}
}

// tokenConfig is the test bed's configuration with a kubeconfig whose
// context name reaches server with a bearer token.
func tokenConfig(t *testing.T, bed *testbed.Bed, name, server, token string) *config.Config {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bed"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: bed.Config.CAData, CertificateAuthority: bed.Config.CAFile}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "bed", AuthInfo: "user", Namespace: bed.Namespace}
	kc.CurrentContext = name
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	cfg := bedConfig(t, bed)
	if err := cfg.Set("kubeconfig", path, "test"); err != nil {
		t.Fatal(err)
	}
	return cfg
}
