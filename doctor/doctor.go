// Package doctor checks what fair needs on this machine and cluster, and
// says how to fix what is missing: the Go toolchain, the registry
// (reachable, and writable with the credentials fair would use), the kube
// context (reachable, rights to create runs), the kinds the cluster
// serves, the BuildKit daemon, the Jupyter kernelspec, the notebook panel,
// gpgv.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/keychain"
	notebookext "github.com/fair-go/fair/notebook-ext"
	"github.com/fair-go/fair/podruntime"
	"github.com/fair-go/fair/sweep"
)

// Level says how much a failed check matters.
type Level string

const (
	OK   Level = "ok"
	Warn Level = "warn" // an optional part (BuildKit, Jupyter, gpgv)
	Fail Level = "FAIL" // fair cannot build or run
)

// Result is one check.
type Result struct {
	Name   string `json:"name"`
	Level  Level  `json:"level"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Options say how to reach the cluster.
type Options struct {
	Connect func(cfg *config.Config) (*deployer.Client, error)
	Timeout time.Duration // per network check; default 5 s
}

// Check runs every check with cfg.
func Check(ctx context.Context, cfg *config.Config, o Options) []Result {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	var out []Result
	out = append(out, goToolchain())
	out = append(out, registry(ctx, cfg, o.Timeout))
	out = append(out, cluster(ctx, cfg, o)...)
	out = append(out, buildkit(cfg, o.Timeout), kernelspec(), panel(), gpgv())
	return out
}

// Failed reports whether a check failed (warnings do not count).
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Level == Fail {
			return true
		}
	}
	return false
}

func goToolchain() Result {
	r := Result{Name: "Go toolchain"}
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		r.Level, r.Detail, r.Fix = Fail, "no go command on PATH: Go sources and notebooks cannot be built", "install Go (https://go.dev/dl) or put it on PATH"
		return r
	}
	r.Level, r.Detail = OK, strings.TrimSpace(string(out))
	return r
}

func registry(ctx context.Context, cfg *config.Config, timeout time.Duration) Result {
	r := Result{Name: "registry"}
	if cfg.Registry == "" && cfg.Repo == "" {
		r.Level, r.Detail, r.Fix = Fail, "none configured", "set registry: in fair.yaml (fair init), FAIR_REGISTRY or --registry"
		return r
	}
	target := cfg.Repo
	if target == "" {
		target = strings.TrimSuffix(cfg.Registry, "/") + "/fair-doctor"
	}
	var nopts []name.Option
	if podruntime.Insecure(cfg, target) {
		nopts = append(nopts, name.Insecure)
	}
	repo, err := name.NewRepository(target, nopts...)
	if err != nil {
		r.Level, r.Detail, r.Fix = Fail, fmt.Sprintf("%q is not a repository: %v", target, err), "registry: HOST[:PORT][/PATH]"
		return r
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: (&net.Dialer{Timeout: timeout}).DialContext, ResponseHeaderTimeout: timeout}
	if err := remote.CheckPushPermission(repo.Tag("fair-doctor"), keychain.Default, tr); err != nil {
		r.Level, r.Detail = Fail, fmt.Sprintf("%s: cannot push: %s", repo.RegistryStr(), firstLine(err.Error()))
		var ue *url.Error
		switch {
		case strings.Contains(err.Error(), "UNAUTHORIZED") || strings.Contains(err.Error(), "DENIED") || strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "403"):
			r.Fix = "log in: fair login " + repo.RegistryStr() + " -u USER --password-stdin (or docker login: fair reads the Docker config and its credential helpers)"
		case errorsAs(err, &ue):
			r.Fix = "start the registry or fix its address; a plain-HTTP registry not on loopback goes in insecureRegistries"
		default:
			r.Fix = "check the address and that the registry serves the OCI distribution API (/v2/)"
		}
		return r
	}
	r.Level, r.Detail = OK, repo.RegistryStr()+": reachable, push allowed to "+repo.RepositoryStr()
	return r
}

func cluster(ctx context.Context, cfg *config.Config, o Options) []Result {
	r := Result{Name: "cluster"}
	if o.Connect == nil {
		return nil
	}
	c, err := o.Connect(cfg)
	if err != nil {
		r.Level, r.Detail, r.Fix = Fail, firstLine(err.Error()), "set KUBECONFIG or kubeconfig: in fair.yaml, or pick a context with --context"
		return []Result{r}
	}
	done := make(chan struct{})
	var ver string
	var verr error
	go func() {
		defer close(done)
		v, err := c.Discovery.ServerVersion()
		if err == nil {
			ver = v.GitVersion
		}
		verr = err
	}()
	select {
	case <-done:
	case <-time.After(o.Timeout):
		verr = fmt.Errorf("no answer from %s in %s", c.Config.Host, o.Timeout)
	}
	if verr != nil {
		r.Level, r.Detail, r.Fix = Fail, fmt.Sprintf("context %s: %s", c.Context, firstLine(verr.Error())), "start the cluster or fix the kubeconfig's server address"
		return []Result{r}
	}
	r.Level, r.Detail = OK, fmt.Sprintf("context %s, %s, Kubernetes %s, namespace %s", c.Context, c.Config.Host, ver, c.Namespace)
	out := []Result{r}

	rights := Result{Name: "rights"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var missing []string
	for _, a := range []struct{ group, resource string }{{"batch", "jobs"}, {"apps", "deployments"}, {"", "pods/log"}} {
		res, sub, _ := strings.Cut(a.resource, "/")
		verb := "create"
		if sub != "" {
			verb = "get"
		}
		rv, err := c.Core.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.Namespace, Verb: verb, Group: a.group, Resource: res, Subresource: sub}},
		}, metav1.CreateOptions{})
		if err == nil && !rv.Status.Allowed {
			missing = append(missing, verb+" "+a.resource)
		}
	}
	if len(missing) > 0 {
		rights.Level, rights.Detail, rights.Fix = Fail, "in namespace "+c.Namespace+" you may not "+strings.Join(missing, ", "), "ask for a Role that allows them, or use another namespace (-n)"
	} else {
		rights.Level, rights.Detail = OK, "may create jobs and deployments and read logs in "+c.Namespace
	}
	out = append(out, rights)

	kinds := Result{Name: "kinds"}
	var have, lack []string
	for _, k := range deployer.Kinds {
		ok, err := c.Installed(k)
		if err != nil {
			continue
		}
		if ok {
			have = append(have, string(k))
		} else {
			lack = append(lack, string(k))
		}
	}
	kinds.Level, kinds.Detail = OK, "served: "+strings.Join(have, ", ")
	if len(lack) > 0 {
		kinds.Detail += "; not installed: " + strings.Join(lack, ", ")
		kinds.Fix = "install the Kubeflow Training Operator, Trainer v2 or KServe for those kinds (fair uses job and deployment without them)"
	}
	if rts, err := c.Runtimes(ctx); err == nil && len(rts) > 0 {
		kinds.Detail += "; TrainJob runtimes: " + strings.Join(rts, ", ")
	}
	out = append(out, kinds)

	// Sweeps need Katib; nothing else does, so its absence is a warning.
	sweeps := Result{Name: "sweeps"}
	if ok, err := c.Serves(sweep.ExperimentGVR); err == nil && ok {
		sweeps.Level, sweeps.Detail = OK, "Katib serves Experiments (fair sweep)"
	} else if err == nil {
		sweeps.Level, sweeps.Detail, sweeps.Fix = Warn, "no Katib: fair sweep cannot run", "install Katib: "+sweep.KatibInstall
	}
	if sweeps.Level != "" {
		out = append(out, sweeps)
	}
	return out
}

func buildkit(cfg *config.Config, timeout time.Duration) Result {
	r := Result{Name: "BuildKit"}
	if cfg.BuildKit == "" {
		r.Level, r.Detail = OK, "not configured: fair builds Go sources and folders itself; only --dockerfile needs it"
		return r
	}
	u, err := url.Parse(cfg.BuildKit)
	if err == nil {
		network, addr := u.Scheme, u.Host
		if network == "unix" {
			addr = u.Path
		}
		var conn net.Conn
		if conn, err = net.DialTimeout(network, addr, timeout); err == nil {
			conn.Close()
			r.Level, r.Detail = OK, cfg.BuildKit+" answers"
			return r
		}
	}
	r.Level, r.Detail, r.Fix = Warn, fmt.Sprintf("%s: %v", cfg.BuildKit, err), "start buildkitd at that address, or unset FAIR_BUILDKIT_ADDR"
	return r
}

func kernelspec() Result {
	r := Result{Name: "Jupyter kernel"}
	dir, err := kernel.SpecPlace{User: true}.Dir()
	if err == nil {
		if _, err = os.Stat(dir + "/kernel.json"); err == nil {
			r.Level, r.Detail = OK, "kernelspec fair in "+dir
			return r
		}
	}
	r.Level, r.Detail, r.Fix = Warn, "no fair kernelspec for this user", "fair kernel install --user (or --sys-prefix in a Python environment)"
	return r
}

func panel() Result {
	r := Result{Name: "notebook panel"}
	in, err := notebookext.Check(kernel.SpecPlace{User: true})
	if err != nil {
		r.Level, r.Detail, r.Fix = Warn, err.Error(), "fair notebook-ext install --user (or --sys-prefix in a Python environment)"
		return r
	}
	r.Level, r.Detail = OK, "classic Notebook and JupyterLab panel in "+filepath.Dir(filepath.Dir(in.Lab))
	return r
}

func gpgv() Result {
	r := Result{Name: "gpgv"}
	if _, err := exec.LookPath("gpgv"); err != nil {
		r.Level, r.Detail, r.Fix = Warn, "not found: fair base debian cannot check the archive's signatures", "apt-get install gpgv"
		return r
	}
	r.Level, r.Detail = OK, "for fair base debian"
	return r
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
