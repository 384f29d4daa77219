// Command produce is step a of the diamond pipeline: it writes a number to
// its output "data".
package main

import (
	"log"
	"os"
)

func main() {
	if err := os.WriteFile(os.Getenv("FAIR_OUT_data"), []byte("21\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Print("wrote 21")
}
