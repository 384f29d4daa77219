package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/test/testbed"
)

// --registry-secret against a registry that wants a password, on the pod
// network's gateway so that pods reach it: the model of a training run
// is saved only with the Secret, and a server pulls both its image (the
// kubelet, through imagePullSecrets) and the model (fair's runtime) with it.
func TestTestbedRegistrySecret(t *testing.T) {
	bed := testbed.Env(t)
	ctx := ctxFor(t, 5*time.Minute)
	reg := testregistry.Start(t, testregistry.WithAuth("fair", "s3cret-pw"), testregistry.WithIP("198.18.0.1"))
	// The node's containerd reaches it over plain HTTP, as the test bed's
	// own registry (certs.d is read at each pull).
	hosts := filepath.Join(os.Getenv("FAIR_TESTBED_DIR"), "config", "certs.d", reg.Host)
	if os.Getenv("FAIR_TESTBED_DIR") == "" {
		hosts = filepath.Join(filepath.Dir(testbed.Kubeconfig()), "config", "certs.d", reg.Host)
	}
	must(t, os.MkdirAll(hosts, 0o755))
	t.Cleanup(func() { os.RemoveAll(hosts) })
	must(t, os.WriteFile(filepath.Join(hosts, "hosts.toml"), []byte("server = \"http://"+reg.Host+"\"\n[host.\"http://"+reg.Host+"\"]\n  capabilities = [\"pull\", \"resolve\"]\n"), 0o644))

	auth := base64.StdEncoding.EncodeToString([]byte("fair:s3cret-pw"))
	dockerCfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"auth": auth}}})
	dc := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dc, "config.json"), dockerCfg, 0o600))
	t.Setenv("DOCKER_CONFIG", dc) // fair itself pushes with it
	if _, err := bed.Client.CoreV1().Secrets(bed.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: dockerCfg}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := func() []string {
		return []string{"--registry", reg.Host + "/team", "--insecure-registry", reg.Host}
	}
	img := testImage(t, bed, "test/e2e/testdata/savemodel")

	// Without the Secret the run cannot save its model: it fails, in one
	// line that says why.
	_, errOut, err := runFair(ctx, bedConfig(t, bed), append([]string{"train", "--image", img, "--model", "m", "--name", "nosecret", "-e", "SCORE=1"}, cfg()...)...)
	if err == nil || !strings.Contains(errOut.String(), "save the model") {
		t.Fatalf("train without the secret: %v\n%s", err, errOut)
	}
	_, errOut, err = runFair(ctx, bedConfig(t, bed), append([]string{"train", "--image", img, "--model", "m", "--name", "withsecret", "-e", "SCORE=0.5", "--registry-secret", "regcred"}, cfg()...)...)
	if err != nil || !strings.Contains(errOut.String(), "model m:withsecret saved") {
		t.Fatalf("train with the secret: %v\n%s", err, errOut)
	}
	// A server whose image is in that registry too: the kubelet pulls it
	// with the Secret, fair's init container pulls the model with it.
	echo := filepath.Join(repoRoot(t), echoDir)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), append([]string{"serve", echo, "--model", "m:withsecret", "--kind", "deployment", "--name", "echo", "--registry-secret", "regcred"}, cfg()...)...)
	if err != nil || !strings.Contains(out.String(), "http://") {
		t.Fatalf("serve with the secret: %v\n%s", err, errOut)
	}
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "fair.dev/run=echo"})
	if err != nil || len(pods.Items) == 0 || !strings.HasPrefix(pods.Items[0].Spec.Containers[0].Image, reg.Host+"/") {
		t.Fatalf("server pod: %v %+v", err, pods)
	}
	// No credential in the objects fair made: only the Secret's name.
	b, _ := json.Marshal(pods.Items[0].Spec)
	if strings.Contains(string(b), auth) || strings.Contains(string(b), "s3cret") {
		t.Error("a credential is in the pod spec")
	}
}
