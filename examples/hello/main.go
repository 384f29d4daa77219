// Command hello is the smallest program fair ships: it says where it runs.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	host, _ := os.Hostname()
	fmt.Printf("hello from fair on %s (%s/%s)\n", host, runtime.GOOS, runtime.GOARCH)
}
