// Command kube is one binary holding the upstream Kubernetes components the
// local test bed runs: kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy and kubectl. One binary links the
// shared code once, which keeps the cold build and the disk use small.
//
// Usage: kube COMPONENT [flags], or a symlink named after the component.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	_ "time/tzdata"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":                 kubelet.NewKubeletCommand,
	"kube-proxy":              proxy.NewProxyCommand,
	"kubectl":                 kubectl.NewDefaultKubectlCommand,
}

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if components[name] == nil {
		if len(args) == 0 || components[args[0]] == nil {
			names := make([]string, 0, len(components))
			for n := range components {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(os.Stderr, "usage: kube {%s} [flags]\n", strings.Join(names, "|"))
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	cmd := components[name]()
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
}
