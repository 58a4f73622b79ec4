package main

import (
	"context"
	"flag"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestAuditAsyncReadsFlag: --audit-async-reads is off by default, and its
// help says what it trades.
func TestAuditAsyncReadsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--audit-async-reads"}, true},
		{[]string{"--audit-async-reads=false"}, false},
	} {
		fs := flag.NewFlagSet("dev", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		v := auditAsyncReadsFlag(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if *v != tc.want {
			t.Errorf("%v: %v, want %v", tc.args, *v, tc.want)
		}
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	auditAsyncReadsFlag(fs)
	usage := fs.Lookup("audit-async-reads").Usage
	for _, want := range []string{"before their audit records are durable", "a crash may lose the records", "last millisecond"} {
		if !strings.Contains(usage, want) {
			t.Errorf("help %q lacks %q", usage, want)
		}
	}
}

// TestAuditAsyncReadsFlagInBinary: both `rampart dev` and `rampart server`
// take --audit-async-reads, and `rampart dev --audit-async-reads` serves.
func TestAuditAsyncReadsFlagInBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	for _, cmd := range []string{"dev", "server"} {
		out, _ := exec.Command(bin, cmd, "-h").CombinedOutput()
		if !strings.Contains(string(out), "-audit-async-reads") {
			t.Errorf("rampart %s -h lacks --audit-async-reads:\n%s", cmd, out)
		}
	}
	ep := startDev(t, bin, "--audit-async-reads")
	out, err := sts.NewFromConfig(sdkConfig(ep, "test", "test", "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "000000000000" {
		t.Fatalf("GetCallerIdentity: account %s", *out.Account)
	}
}
