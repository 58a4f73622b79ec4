package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// orgCLI runs the AWS CLI v2 as one identity of the organization scenario.
// Every run shares one HOME, so the CLI's cache of assumed-role credentials
// works as it does on a developer's machine.
type orgCLI struct {
	ep   string
	home string
}

// cliIdentity is how the CLI signs: static keys, temporary keys, or a profile
// of the scenario's config file.
type cliIdentity struct {
	name               string
	key, secret, token string
	profile            string
}

func (c *orgCLI) run(t *testing.T, as cliIdentity, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", c.ep, "--output", "json"}, args...)...)
	cmd.Env = []string{
		"HOME=" + c.home, "PATH=/usr/bin:/bin", "AWS_REGION=us-east-1", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(c.home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, "credentials"),
		// The CLI v2.9 of Debian 12 predates endpoint_url in profiles: the
		// STS call a role_arn profile makes goes to the endpoint that
		// botocore's rule set names, which this data path overrides.
		"AWS_DATA_PATH=" + filepath.Join(c.home, "models"),
	}
	if as.profile != "" {
		cmd.Env = append(cmd.Env, "AWS_PROFILE="+as.profile)
	} else {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+as.key, "AWS_SECRET_ACCESS_KEY="+as.secret)
		if as.token != "" {
			cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+as.token)
		}
	}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// ok runs the CLI, which must succeed, and decodes its JSON output.
func (c *orgCLI) ok(t *testing.T, as cliIdentity, args ...string) map[string]any {
	t.Helper()
	out, errOut, err := c.run(t, as, args...)
	if err != nil {
		t.Fatalf("as %s: aws %s: %v\n%s", as.name, strings.Join(args, " "), err, errOut)
	}
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("as %s: aws %s: output %q: %v", as.name, strings.Join(args, " "), out, err)
	}
	return v
}

// denied runs the CLI, which must fail with code when calling op, and
// returns the message.
func (c *orgCLI) denied(t *testing.T, as cliIdentity, code, op string, args ...string) string {
	t.Helper()
	_, errOut, err := c.run(t, as, args...)
	if err == nil {
		t.Fatalf("as %s: aws %s succeeded, want %s", as.name, strings.Join(args, " "), code)
	}
	prefix := "An error occurred (" + code + ") when calling the " + op + " operation: "
	i := strings.Index(errOut, prefix)
	if i < 0 {
		t.Fatalf("as %s: aws %s: stderr %q lacks %q", as.name, strings.Join(args, " "), errOut, prefix)
	}
	return strings.TrimSpace(errOut[i+len(prefix):])
}

// jsonStr walks decoded JSON: jsonStr(t, v, "CreateAccountStatus", "State").
func jsonStr(t *testing.T, v map[string]any, path ...string) string {
	t.Helper()
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: no %s in %v", path, p, cur)
		}
		cur = m[p]
	}
	s, ok := cur.(string)
	if !ok {
		t.Fatalf("%v: %v is not a string", path, cur)
	}
	return s
}

// writeSTSEndpoint makes the CLI's STS calls (those of role_arn profiles)
// go to ep: a copy of botocore's STS endpoint rule set whose only rule is
// ep, in the data path the CLI reads before its own.
func writeSTSEndpoint(t *testing.T, home, ep string) {
	t.Helper()
	src := "/usr/lib/python3/dist-packages/awscli/botocore/data/sts/2011-06-15/endpoint-rule-set-1.json"
	b, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("the CLI's STS endpoint rule set: %v", err)
	}
	var rs map[string]any
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	rs["rules"] = []any{map[string]any{"conditions": []any{}, "type": "endpoint",
		"endpoint": map[string]any{"url": ep, "properties": map[string]any{}, "headers": map[string]any{}}}}
	out, _ := json.Marshal(rs)
	dir := filepath.Join(home, "models", "sts", "2011-06-15")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoint-rule-set-1.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOrganizationsScenarioCLI is issue 6's scenario with the AWS CLI v2
// against `rampart dev`: an organization with two OUs and three created
// accounts, reached from the management account through
// OrganizationAccountAccessRole (aws sts assume-role, and a role_arn +
// source_profile profile). A Deny SCP on OU A blocks kms:CreateKey in A's
// accounts only; an allow-list SCP without secretsmanager:* blocks Secrets
// Manager under OU B; detaching FullAWSAccess from OU A denies everything
// below it; the management account is unaffected throughout.
func TestOrganizationsScenarioCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	t.Parallel() // its own rampart dev and CLI home: shares nothing with the other scenarios
	requireCLI(t)
	bin := buildRampart(t)
	ep := startDev(t, bin)
	c := &orgCLI{ep: ep, home: t.TempDir()}
	writeSTSEndpoint(t, c.home, ep)

	root := cliIdentity{name: "management root", key: "test", secret: "test"}
	mustBe := func(got, want, what string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %q, want %q", what, got, want)
		}
	}

	// The organization, SCPs enabled on its root, two OUs.
	org := c.ok(t, root, "organizations", "create-organization", "--feature-set", "ALL")
	mustBe(jsonStr(t, org, "Organization", "MasterAccountId"), "000000000000", "management account")
	rootID := jsonStr(t, c.ok(t, root, "organizations", "list-roots")["Roots"].([]any)[0].(map[string]any), "Id")
	c.ok(t, root, "organizations", "enable-policy-type", "--root-id", rootID, "--policy-type", "SERVICE_CONTROL_POLICY")
	ouA := jsonStr(t, c.ok(t, root, "organizations", "create-organizational-unit", "--parent-id", rootID, "--name", "A"), "OrganizationalUnit", "Id")
	ouB := jsonStr(t, c.ok(t, root, "organizations", "create-organizational-unit", "--parent-id", rootID, "--name", "B"), "OrganizationalUnit", "Id")

	// Three accounts, created as AWS creates them: IN_PROGRESS, then polled.
	newAccount := func(name, ou string) string {
		t.Helper()
		st := c.ok(t, root, "organizations", "create-account", "--account-name", name, "--email", name+"@example.com")
		mustBe(jsonStr(t, st, "CreateAccountStatus", "State"), "IN_PROGRESS", "create-account state")
		id := jsonStr(t, st, "CreateAccountStatus", "Id")
		deadline := time.Now().Add(30 * time.Second)
		for {
			st = c.ok(t, root, "organizations", "describe-create-account-status", "--create-account-request-id", id)
			if s := jsonStr(t, st, "CreateAccountStatus", "State"); s != "IN_PROGRESS" {
				mustBe(s, "SUCCEEDED", "create account "+name)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("account %s still IN_PROGRESS", name)
			}
			time.Sleep(200 * time.Millisecond)
		}
		acct := jsonStr(t, st, "CreateAccountStatus", "AccountId")
		c.ok(t, root, "organizations", "move-account", "--account-id", acct, "--source-parent-id", rootID, "--destination-parent-id", ou)
		return acct
	}
	a1, a2, b1 := newAccount("a1", ouA), newAccount("a2", ouA), newAccount("b1", ouB)
	accounts := c.ok(t, root, "organizations", "list-accounts-for-parent", "--parent-id", ouA)["Accounts"].([]any)
	if len(accounts) != 2 {
		t.Fatalf("OU A holds %d accounts, want 2", len(accounts))
	}

	// The root user may not assume roles (as in AWS): the management
	// account's administrator is an IAM user.
	c.denied(t, root, "AccessDenied", "AssumeRole", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+a1+":role/OrganizationAccountAccessRole", "--role-session-name", "root")
	c.ok(t, root, "iam", "create-user", "--user-name", "admin")
	c.ok(t, root, "iam", "attach-user-policy", "--user-name", "admin", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	key := c.ok(t, root, "iam", "create-access-key", "--user-name", "admin")
	admin := cliIdentity{name: "management admin", key: jsonStr(t, key, "AccessKey", "AccessKeyId"), secret: jsonStr(t, key, "AccessKey", "SecretAccessKey")}

	// a2 through `aws sts assume-role` and the temporary credentials it prints.
	roleARN := func(acct string) string { return "arn:aws:iam::" + acct + ":role/OrganizationAccountAccessRole" }
	assumed := c.ok(t, admin, "sts", "assume-role", "--role-arn", roleARN(a2), "--role-session-name", "ops")
	mustBe(jsonStr(t, assumed, "AssumedRoleUser", "Arn"), "arn:aws:sts::"+a2+":assumed-role/OrganizationAccountAccessRole/ops", "assumed role")
	inA2 := cliIdentity{name: "a2 session", key: jsonStr(t, assumed, "Credentials", "AccessKeyId"), secret: jsonStr(t, assumed, "Credentials", "SecretAccessKey"), token: jsonStr(t, assumed, "Credentials", "SessionToken")}

	// a1 and b1 through profiles: role_arn + source_profile.
	config := fmt.Sprintf(`[profile mgmt]
aws_access_key_id = %s
aws_secret_access_key = %s

[profile a1]
role_arn = %s
source_profile = mgmt
role_session_name = cli

[profile b1]
role_arn = %s
source_profile = mgmt
role_session_name = cli
`, admin.key, admin.secret, roleARN(a1), roleARN(b1))
	if err := os.WriteFile(filepath.Join(c.home, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	inA1, inB1 := cliIdentity{name: "a1 profile", profile: "a1"}, cliIdentity{name: "b1 profile", profile: "b1"}
	mustBe(jsonStr(t, c.ok(t, inA1, "sts", "get-caller-identity"), "Arn"), "arn:aws:sts::"+a1+":assumed-role/OrganizationAccountAccessRole/cli", "a1 profile identity")
	mustBe(jsonStr(t, c.ok(t, inB1, "sts", "get-caller-identity"), "Account"), b1, "b1 profile account")
	mustBe(jsonStr(t, c.ok(t, inA2, "sts", "get-caller-identity"), "Account"), a2, "a2 session account")

	management := []cliIdentity{root, admin}
	createKey := func(as cliIdentity) { t.Helper(); c.ok(t, as, "kms", "create-key", "--description", "by "+as.name) }
	secrets := 0
	createSecret := func(as cliIdentity) {
		t.Helper()
		secrets++
		c.ok(t, as, "secretsmanager", "create-secret", "--name", fmt.Sprintf("s%d", secrets), "--secret-string", "v")
	}
	// unaffected checks the management account after each change, in
	// turn as its root user and its administrator, on the service the
	// change is about.
	turn := 0
	unaffected := func(check func(cliIdentity)) {
		t.Helper()
		check(management[turn%len(management)])
		turn++
	}

	// FullAWSAccess everywhere: everything allowed.
	for _, as := range []cliIdentity{inA1, inA2, inB1} {
		createKey(as)
		createSecret(as)
	}

	createPolicy := func(name, content string) string {
		t.Helper()
		p := c.ok(t, root, "organizations", "create-policy", "--name", name, "--description", name, "--type", "SERVICE_CONTROL_POLICY", "--content", content)
		return jsonStr(t, p, "Policy", "PolicySummary", "Id")
	}

	// 1. A Deny SCP on OU A blocks kms:CreateKey in A's accounts only.
	deny := createPolicy("DenyCreateKey", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:CreateKey","Resource":"*"}]}`)
	c.ok(t, root, "organizations", "attach-policy", "--policy-id", deny, "--target-id", ouA)
	for _, as := range []cliIdentity{inA1, inA2} {
		msg := c.denied(t, as, "AccessDeniedException", "CreateKey", "kms", "create-key")
		if !strings.Contains(msg, "kms:CreateKey") || !strings.Contains(msg, "with an explicit deny in a service control policy") {
			t.Errorf("as %s: create-key denied with %q", as.name, msg)
		}
		c.ok(t, as, "kms", "list-keys") // the rest of KMS still works
	}
	createKey(inB1)
	unaffected(createKey)
	unaffected(createKey)

	// 2. An allow-list SCP without secretsmanager:* on OU B, in place of
	// FullAWSAccess, blocks Secrets Manager below B.
	allow := createPolicy("AllowListNoSecrets", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:*","iam:*","sts:*","organizations:Describe*"],"Resource":"*"}]}`)
	c.ok(t, root, "organizations", "attach-policy", "--policy-id", allow, "--target-id", ouB)
	c.ok(t, root, "organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", ouB)
	msg := c.denied(t, inB1, "AccessDeniedException", "CreateSecret", "secretsmanager", "create-secret", "--name", "blocked", "--secret-string", "v")
	if !strings.Contains(msg, "secretsmanager:CreateSecret") || !strings.Contains(msg, "because no service control policy allows") {
		t.Errorf("b1 create-secret denied with %q", msg)
	}
	c.denied(t, inB1, "AccessDeniedException", "ListSecrets", "secretsmanager", "list-secrets")
	createKey(inB1)
	createSecret(inA1)
	unaffected(createSecret)
	unaffected(createSecret)

	// 3. Detaching FullAWSAccess from OU A (the Deny SCP keeps it at one
	// SCP) denies everything below it.
	c.ok(t, root, "organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", ouA)
	for _, call := range []struct {
		as       cliIdentity
		code, op string
		args     []string
	}{
		{inA1, "AccessDeniedException", "ListKeys", []string{"kms", "list-keys"}},
		{inA1, "AccessDenied", "ListRoles", []string{"iam", "list-roles"}},
		{inA2, "AccessDeniedException", "ListSecrets", []string{"secretsmanager", "list-secrets"}},
		{inA2, "AccessDenied", "ListUsers", []string{"iam", "list-users"}},
	} {
		msg := c.denied(t, call.as, call.code, call.op, call.args...)
		if !strings.Contains(msg, "because no service control policy allows") {
			t.Errorf("as %s: %s denied with %q", call.as.name, call.op, msg)
		}
	}
	createKey(inB1)
	unaffected(func(as cliIdentity) { c.ok(t, as, "iam", "list-roles") })
	unaffected(func(as cliIdentity) { c.ok(t, as, "kms", "list-keys") })

	// Putting FullAWSAccess back restores A (but for the Deny).
	c.ok(t, root, "organizations", "attach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", ouA)
	c.ok(t, inA1, "kms", "list-keys")
	c.denied(t, inA2, "AccessDeniedException", "CreateKey", "kms", "create-key")
}
