package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/rampart/rampart/internal/policy/corpus"
)

// runPolicy serves `rampart policy eval [--explain]`: IAM evaluation cases
// (JSON Lines, the format of internal/policy/testdata) on stdin, one decision
// per line on stdout.
func runPolicy(args []string) error {
	if len(args) == 0 || args[0] != "eval" {
		return fmt.Errorf("usage: rampart policy eval [--explain] < cases.jsonl")
	}
	fs := flag.NewFlagSet("policy eval", flag.ContinueOnError)
	explain := fs.Bool("explain", false, "add the reasons for each decision")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	if err := corpus.Run(bufio.NewReader(os.Stdin), out, *explain); err != nil {
		out.Flush()
		return err
	}
	return out.Flush()
}
