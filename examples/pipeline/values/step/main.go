// Command step is every step of the values pipeline, chosen by its first
// argument:
//
//	gen     writes the numbers 1..5 to the artifact "data" and their count
//	        to the value "n"
//	square  squares each number of "data" into the artifact "squares"
//	report  checks "squares" has "n" numbers and writes their sum to the
//	        value "total"
//	fail    exits with status 7, to see how a failing step is reported
package main

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

func in(name string) string {
	b, err := os.ReadFile(os.Getenv("FAIR_IN_" + name))
	if err != nil {
		log.Fatalf("input %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

func out(name, value string) {
	if err := os.WriteFile(os.Getenv("FAIR_OUT_"+name), []byte(value), 0o644); err != nil {
		log.Fatalf("output %s: %v", name, err)
	}
}

func numbers(s string) []int {
	var ns []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			log.Fatalf("not a number: %q", f)
		}
		ns = append(ns, n)
	}
	return ns
}

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: step gen|square|report|fail|toobig")
	}
	switch os.Args[1] {
	case "gen":
		out("data", "1 2 3 4 5")
		out("n", "5")
		fmt.Println("gen: 5 numbers")
	case "square":
		var sq []string
		for _, n := range numbers(in("data")) {
			sq = append(sq, strconv.Itoa(n*n))
		}
		out("squares", strings.Join(sq, " "))
		fmt.Println("squares:", strings.Join(sq, " "))
	case "report":
		n, err := strconv.Atoi(in("n"))
		if err != nil {
			log.Fatalf("n: %v", err)
		}
		sq := numbers(in("squares"))
		if len(sq) != n {
			log.Fatalf("got %d squares, want n=%d", len(sq), n)
		}
		total := 0
		for _, s := range sq {
			total += s
		}
		out("total", strconv.Itoa(total))
		fmt.Printf("n=%d total=%d\n", n, total)
	case "fail":
		fmt.Println("failing on purpose")
		os.Exit(7)
	case "toobig":
		// Ends well, but its value is over fair's limit for values: fair's
		// step runtime fails the step, not the program.
		out("n", strings.Repeat("9", 100<<10))
		fmt.Println("wrote a 100 KiB value")
	default:
		log.Fatalf("unknown role %q", os.Args[1])
	}
}
