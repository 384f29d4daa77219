// Command pause is the sandbox ("pause") container of the local test bed.
// It holds a pod's namespaces open and does nothing else: it sleeps until
// SIGINT or SIGTERM and reaps orphans in case it runs as PID 1 of a pod
// that shares its process namespace.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
