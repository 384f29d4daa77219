// Command double reads a number from input "data" and writes twice it to
// output "result" (steps b and c of the diamond pipeline).
package main

import (
	"log"
	"os"
	"strconv"
	"strings"
)

func main() {
	b, err := os.ReadFile(os.Getenv("FAIR_IN_data"))
	if err != nil {
		log.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("FAIR_OUT_result"), []byte(strconv.Itoa(2*n)), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d * 2 = %d", n, 2*n)
}
