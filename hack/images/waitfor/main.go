// Command waitfor waits until a DNS name resolves, then exits 0. The test
// bed uses it as the PyTorchJob init container that holds workers back
// until the master's Service name exists; unlike busybox nslookup it does
// not fail when one search domain answers NXDOMAIN.
//
// Usage: waitfor [-tries N] [-interval D] NAME...
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	tries := flag.Int("tries", 100, "attempts per name before giving up")
	interval := flag.Duration("interval", 2*time.Second, "pause between attempts")
	timeout := flag.Duration("timeout", 5*time.Second, "time limit of one lookup")
	flag.Parse()
	if flag.NArg() == 0 || *tries < 1 {
		fmt.Fprintln(os.Stderr, "usage: waitfor [-tries N] [-interval D] NAME...")
		os.Exit(2)
	}
	for _, name := range flag.Args() {
		if err := wait(name, *tries, *interval, *timeout); err != nil {
			fmt.Fprintln(os.Stderr, "waitfor:", err)
			os.Exit(1)
		}
	}
}

// wait resolves name until it answers or tries run out.
func wait(name string, tries int, interval, timeout time.Duration) error {
	var err error
	for i := 1; i <= tries; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var addrs []string
		addrs, err = net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		if err == nil && len(addrs) > 0 {
			fmt.Printf("%s resolves to %v\n", name, addrs)
			return nil
		}
		fmt.Printf("waiting for %s (%d/%d): %v\n", name, i, tries, err)
		if i < tries {
			time.Sleep(interval)
		}
	}
	return fmt.Errorf("%s did not resolve after %d tries: %v", name, tries, err)
}
