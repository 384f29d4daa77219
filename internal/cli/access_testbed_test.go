package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
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
	kubeconfig := func(name, server, token string) *config.Config {
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
