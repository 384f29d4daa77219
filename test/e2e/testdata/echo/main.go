// Command echo is a tiny HTTP endpoint for the deployer's serving tests:
// it listens on $PORT (default 8080) and answers every request with
// "ok PATH", but 404 for the paths in $ECHO_NOT_FOUND (comma-separated):
// a server without the health paths the probes expect.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	missing := map[string]bool{}
	for _, p := range strings.Split(os.Getenv("ECHO_NOT_FOUND"), ",") {
		missing[p] = p != ""
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if missing[r.URL.Path] {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "ok %s\n", r.URL.Path)
	})
	log.Printf("listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
