package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEQuickStart runs the README's quick start as written: rampart
// dev, the exported AWS_ENDPOINT_URL and root key, and `aws sts
// get-caller-identity` with no --endpoint-url; then the three failures the
// README names. It needs an AWS CLI that reads AWS_ENDPOINT_URL (v2.13+,
// v1.29+: $RAMPART_TEST_AWS_CLI, which .ci/run sets to the image's CLI v1;
// Debian's CLI v2.9 predates it and is driven with --endpoint-url by the
// other CLI tests).
func TestREADMEQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	awsCmd, configuredEndpoints := stsCLI(t)
	if !configuredEndpoints {
		t.Skipf("%s predates AWS_ENDPOINT_URL; set RAMPART_TEST_AWS_CLI to an AWS CLI v2.13+ or v1.29+", awsCmd)
	}
	// The README's lines, as a reader pastes them.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var exports []string
	var command, wantJSON string
	lines := strings.Split(string(readme), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "export AWS_ENDPOINT_URL=") && i+2 < len(lines) {
			exports, command, wantJSON = strings.Fields(l)[1:], lines[i+1], strings.TrimPrefix(lines[i+2], "# ")
			break
		}
	}
	if command != "aws sts get-caller-identity" || len(exports) == 0 {
		t.Fatalf("README's quick start not found (export line, %q)", command)
	}
	ep := startDev(t, buildRampart(t))
	for i, kv := range exports {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			exports[i] = "AWS_ENDPOINT_URL=" + ep // the port rampart dev was given here
		}
	}
	home := t.TempDir()
	run := func(env []string, args ...string) (string, string, error) {
		cmd := exec.Command(awsCmd, args...)
		cmd.Env = append(append([]string{
			"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		}, exports...), env...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	out, errOut, err := run(nil, strings.Fields(command)[1:]...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", command, err, errOut)
	}
	var got, want map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatalf("README's expected output %q: %v", wantJSON, err)
	}
	if len(got) != len(want) || got["UserId"] != want["UserId"] || got["Account"] != want["Account"] || got["Arn"] != want["Arn"] {
		t.Fatalf("%s = %s, README says %s", command, out, wantJSON)
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code string
	}{
		{"wrong secret", []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=wrong"}, nil, "SignatureDoesNotMatch"},
		{"unknown key", []string{"AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN00", "AWS_SECRET_ACCESS_KEY=test"}, nil, "InvalidClientTokenId"},
		{"unsigned", nil, []string{"--no-sign-request"}, "MissingAuthenticationToken"},
	} {
		_, errOut, err := run(c.env, append(append([]string{}, c.args...), "sts", "get-caller-identity")...)
		if err == nil || !strings.Contains(errOut, "("+c.code+")") {
			t.Errorf("%s: err %v, stderr %q, want (%s)", c.name, err, errOut, c.code)
		}
	}
}
