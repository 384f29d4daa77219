// Command coredns is CoreDNS v1.12.1 with only the plugins the test bed's
// Corefile uses (bind, errors, kubernetes, forward, cache), so a cold build
// compiles a fraction of what `go install github.com/coredns/coredns` does
// (that links every plugin, with their cloud SDKs).
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

func main() {
	coremain.Run()
}
