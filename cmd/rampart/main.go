// Command rampart serves the AWS security, identity and compliance APIs.
//
//	rampart dev       serve on 127.0.0.1:4566 for development (root key test/test)
//	rampart init      create an installation (production mode)
//	rampart server    serve an installation (production mode)
//	rampart version   print the version
//	rampart policy eval [--explain] < cases.jsonl
package main

import (
	"fmt"
	"os"
)

// version is set by the linker (-X main.version=…) for releases.
var version = "dev"

const usage = `rampart serves the AWS security, identity and compliance APIs, and means it.

Usage:
  rampart dev [--addr 127.0.0.1:4566] [--data ./rampart-data | --ephemeral] [--log-level info]
  rampart version
  rampart policy eval [--explain] < cases.jsonl
  rampart init --data DIR [--store postgres://…] [--seal keyfile|passphrase] [--output json]
  rampart server --data DIR [--store postgres://…] [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE]

Load tool: go run ./cmd/rampart-bench --help
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "dev":
		err = runDev(args)
	case "version", "--version":
		fmt.Println("rampart", version)
	case "policy":
		err = runPolicy(args)
	case "init":
		err = runInit(args)
	case "server":
		err = runServer(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "rampart: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rampart:", err)
		os.Exit(1)
	}
}
