// Command readme rewrites the services table of README.md from the registry.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/rampart/rampart/internal/app"
)

func main() {
	path := flag.String("readme", "README.md", "the README to update")
	flag.Parse()
	data, err := os.ReadFile(*path)
	if err != nil {
		log.Fatal(err)
	}
	out, ok := app.ReplaceTable(string(data))
	if !ok {
		log.Fatalf("%s: no services table markers", *path)
	}
	if out != string(data) {
		if err := os.WriteFile(*path, []byte(out), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
