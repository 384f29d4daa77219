// Command sum adds inputs "left" and "right" and writes the total to the
// value output "sum" (step d of the diamond pipeline).
package main

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

func read(name string) int {
	b, err := os.ReadFile(os.Getenv("FAIR_IN_" + name))
	if err != nil {
		log.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		log.Fatal(err)
	}
	return n
}

func main() {
	total := read("left") + read("right")
	fmt.Println("sum:", total)
	if err := os.WriteFile(os.Getenv("FAIR_OUT_sum"), []byte(strconv.Itoa(total)), 0o644); err != nil {
		log.Fatal(err)
	}
}
