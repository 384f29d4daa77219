// Command schemagen writes config/fair.schema.json (go generate ./config).
package main

import (
	"fmt"
	"os"

	"github.com/fair-go/fair/config"
)

func main() {
	b, err := config.Schema()
	if err == nil {
		err = os.WriteFile("fair.schema.json", b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
