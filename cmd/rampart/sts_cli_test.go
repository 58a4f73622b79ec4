package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stsCLI is the AWS CLI these tests drive: $RAMPART_TEST_AWS_CLI, else the
// AWS CLI v2 of the other CLI tests. configuredEndpoints reports whether it
// reads AWS_ENDPOINT_URL and endpoint_url from the config (CLI v2.13+,
// v1.29+), which its assume-role provider needs to call rampart's STS
// rather than AWS's: --endpoint-url applies to the command's own service
// only.
func stsCLI(t *testing.T) (path string, configuredEndpoints bool) {
	t.Helper()
	path = os.Getenv("RAMPART_TEST_AWS_CLI")
	if path == "" {
		requireCLI(t)
		path = awsCLI
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v %s", path, err, out)
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(out), "aws-cli/%d.%d.", &major, &minor); err != nil {
		t.Fatalf("%s --version = %q", path, out)
	}
	return path, major == 2 && minor >= 13 || major == 1 && minor >= 29
}

// runCLIWith runs the AWS CLI cli against endpoint with exactly the given
// environment added to a clean one (no credentials unless env has them),
// the config and credentials files of home.
func runCLIWith(t *testing.T, cli, endpoint, home string, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(cli, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = append([]string{
		"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + endpoint,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestCLIAssumeRole: the AWS CLI's own assume-role credential provider — a
// profile with role_arn, source_profile and external_id — works unchanged
// against rampart dev, and the credentials `aws sts assume-role` prints
// sign a second call.
func TestCLIAssumeRole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	awsCmd, configuredEndpoints := stsCLI(t)
	bin := buildRampart(t)
	ep := startDev(t, bin)
	home := t.TempDir()
	root := []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}
	cli := func(env []string, args ...string) string {
		t.Helper()
		out, errOut, err := runCLIWith(t, awsCmd, ep, home, env, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		return out
	}

	// A user who may assume roles under /ci/, and a role that trusts the
	// user when the external id is given.
	cli(root, "iam", "create-user", "--user-name", "dev")
	cli(root, "iam", "put-user-policy", "--user-name", "dev", "--policy-name", "assume", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::000000000000:role/ci/*"}]}`)
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(cli(root, "iam", "create-access-key", "--user-name", "dev")), &key); err != nil {
		t.Fatal(err)
	}
	cli(root, "iam", "create-role", "--role-name", "deployer", "--path", "/ci/", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1234"}}}]}`)
	cli(root, "iam", "put-role-policy", "--role-name", "deployer", "--policy-name", "read", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}`)

	config := `[profile dev]
region = us-east-1

[profile deploy]
endpoint_url = ENDPOINT
role_arn = arn:aws:iam::000000000000:role/ci/deployer
source_profile = dev
external_id = ext-1234
role_session_name = cli-session
region = us-east-1

[profile wrong-external-id]
role_arn = arn:aws:iam::000000000000:role/ci/deployer
source_profile = dev
external_id = not-the-one
region = us-east-1
`
	config = strings.ReplaceAll(config, "ENDPOINT", ep)
	creds := "[dev]\naws_access_key_id = " + key.AccessKey.AccessKeyId + "\naws_secret_access_key = " + key.AccessKey.SecretAccessKey + "\n"
	if err := os.WriteFile(filepath.Join(home, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("profile with role_arn, source_profile and external_id", func(t *testing.T) {
		if !configuredEndpoints {
			t.Skipf("%s predates configured endpoints (AWS_ENDPOINT_URL): its assume-role provider would call AWS; set RAMPART_TEST_AWS_CLI to an AWS CLI v2.13+ or v1.29+", awsCmd)
		}
		var id map[string]string
		if err := json.Unmarshal([]byte(cli(nil, "--profile", "deploy", "sts", "get-caller-identity")), &id); err != nil {
			t.Fatal(err)
		}
		if id["Arn"] != "arn:aws:sts::000000000000:assumed-role/deployer/cli-session" || !strings.HasPrefix(id["UserId"], "AROA") || !strings.HasSuffix(id["UserId"], ":cli-session") {
			t.Errorf("get-caller-identity = %v", id)
		}
		// The session has the role's permissions, and only those.
		cli(nil, "--profile", "deploy", "iam", "list-users")
		_, errOut, err := runCLIWith(t, awsCmd, ep, home, nil, "--profile", "deploy", "iam", "create-user", "--user-name", "intruder")
		if err == nil || !strings.Contains(errOut, "An error occurred (AccessDenied) when calling the CreateUser operation: User: arn:aws:sts::000000000000:assumed-role/deployer/cli-session is not authorized to perform: iam:CreateUser") {
			t.Errorf("create-user as the session: err %v, stderr %q", err, errOut)
		}
	})

	t.Run("profile with the wrong external_id", func(t *testing.T) {
		if !configuredEndpoints {
			t.Skipf("%s predates configured endpoints", awsCmd)
		}
		_, errOut, err := runCLIWith(t, awsCmd, ep, home, nil, "--profile", "wrong-external-id", "sts", "get-caller-identity")
		if err == nil || !strings.Contains(errOut, "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::000000000000:user/dev is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/ci/deployer") {
			t.Errorf("err %v, stderr %q", err, errOut)
		}
	})

	t.Run("aws sts assume-role, then a call with its credentials", func(t *testing.T) {
		var out struct {
			Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
			AssumedRoleUser struct{ Arn string }
		}
		devEnv := []string{"AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey}
		if err := json.Unmarshal([]byte(cli(devEnv, "sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/ci/deployer",
			"--role-session-name", "manual", "--external-id", "ext-1234", "--duration-seconds", "900")), &out); err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		if !strings.HasPrefix(c.AccessKeyId, "ASIA") || c.SessionToken == "" || out.AssumedRoleUser.Arn != "arn:aws:sts::000000000000:assumed-role/deployer/manual" {
			t.Fatalf("assume-role = %+v", out)
		}
		sess := []string{"AWS_ACCESS_KEY_ID=" + c.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey, "AWS_SESSION_TOKEN=" + c.SessionToken}
		var id map[string]string
		if err := json.Unmarshal([]byte(cli(sess, "sts", "get-caller-identity")), &id); err != nil {
			t.Fatal(err)
		}
		if id["Arn"] != out.AssumedRoleUser.Arn {
			t.Errorf("get-caller-identity with the session = %v", id)
		}
		var users struct{ Users []struct{ UserName string } }
		if err := json.Unmarshal([]byte(cli(sess, "iam", "list-users")), &users); err != nil {
			t.Fatal(err)
		}
		if len(users.Users) != 1 || users.Users[0].UserName != "dev" {
			t.Errorf("list-users with the session = %+v", users)
		}
		// Without its token the session key is no key at all.
		_, errOut, err := runCLIWith(t, awsCmd, ep, home, sess[:2], "sts", "get-caller-identity")
		if err == nil || !strings.Contains(errOut, "InvalidClientTokenId") {
			t.Errorf("session key without token: err %v, stderr %q", err, errOut)
		}
	})
}
