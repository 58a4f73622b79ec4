package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIAMScenarioCLI is issue 4's scenario driven by the AWS CLI v2 against
// `rampart dev`: a user with no policy is refused in AWS's words,
// ReadOnlyAccess lets it read and not write, a ${aws:username} policy lets
// each user manage its own access keys only, and simulate-principal-policy
// agrees with what really happened.
func TestIAMScenarioCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	t.Parallel() // its own rampart dev and CLI home: shares nothing with the other scenarios
	requireCLI(t)
	bin := buildRampart(t)
	ep := startDev(t, bin)

	type creds struct{ key, secret string }
	root := creds{"test", "test"}
	// ok runs the CLI and decodes its JSON output (nil when there is none).
	ok := func(t *testing.T, as creds, args ...string) map[string]any {
		t.Helper()
		out, errOut, err := runCLI(t, ep, as.key, as.secret, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		if strings.TrimSpace(out) == "" {
			return nil
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), out, err)
		}
		return v
	}
	// denied runs the CLI, expects AccessDenied and returns the message.
	denied := func(t *testing.T, as creds, op string, args ...string) string {
		t.Helper()
		_, errOut, err := runCLI(t, ep, as.key, as.secret, args...)
		if err == nil {
			t.Fatalf("aws %s succeeded, want AccessDenied", strings.Join(args, " "))
		}
		prefix := "An error occurred (AccessDenied) when calling the " + op + " operation: "
		i := strings.Index(errOut, prefix)
		if i < 0 {
			t.Fatalf("aws %s: stderr %q lacks %q", strings.Join(args, " "), errOut, prefix)
		}
		return strings.TrimSpace(errOut[i+len(prefix):])
	}
	newUser := func(t *testing.T, name string) creds {
		t.Helper()
		ok(t, root, "iam", "create-user", "--user-name", name)
		k := ok(t, root, "iam", "create-access-key", "--user-name", name)["AccessKey"].(map[string]any)
		return creds{k["AccessKeyId"].(string), k["SecretAccessKey"].(string)}
	}

	// What really happened, for the simulator to agree with.
	type outcome struct {
		user, action, resource string
		allowed                bool
	}
	var happened []outcome

	reader := newUser(t, "reader")
	msg := denied(t, reader, "ListUsers", "iam", "list-users")
	const want = "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ because no identity-based policy allows the iam:ListUsers action"
	if msg != want {
		t.Fatalf("list-users as reader:\n got %s\nwant %s", msg, want)
	}

	ok(t, root, "iam", "attach-user-policy", "--user-name", "reader", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	users := ok(t, reader, "iam", "list-users")["Users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["UserName"] != "reader" {
		t.Fatalf("list-users as reader: %v", users)
	}
	happened = append(happened, outcome{"reader", "iam:ListUsers", "arn:aws:iam::000000000000:user/", true})
	msg = denied(t, reader, "CreateUser", "iam", "create-user", "--user-name", "mallory")
	if !strings.Contains(msg, "iam:CreateUser on resource: arn:aws:iam::000000000000:user/mallory because no identity-based policy allows the iam:CreateUser action") {
		t.Fatalf("create-user as reader: %s", msg)
	}
	happened = append(happened, outcome{"reader", "iam:CreateUser", "arn:aws:iam::000000000000:user/mallory", false})

	// Each user manages its own access keys and nobody else's.
	const selfKeys = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey","iam:UpdateAccessKey"],"Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`
	pol := ok(t, root, "iam", "create-policy", "--policy-name", "ManageOwnKeys", "--policy-document", selfKeys)["Policy"].(map[string]any)
	ok(t, root, "iam", "create-group", "--group-name", "developers")
	ok(t, root, "iam", "attach-group-policy", "--group-name", "developers", "--policy-arn", pol["Arn"].(string))
	alice, bob := newUser(t, "alice"), newUser(t, "bob")
	for _, u := range []string{"alice", "bob"} {
		ok(t, root, "iam", "add-user-to-group", "--group-name", "developers", "--user-name", u)
	}
	keys := ok(t, alice, "iam", "list-access-keys")["AccessKeyMetadata"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["UserName"] != "alice" {
		t.Fatalf("alice's keys: %v", keys)
	}
	happened = append(happened, outcome{"alice", "iam:ListAccessKeys", "arn:aws:iam::000000000000:user/alice", true})
	second := ok(t, alice, "iam", "create-access-key")["AccessKey"].(map[string]any)
	happened = append(happened, outcome{"alice", "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/alice", true})
	msg = denied(t, alice, "ListAccessKeys", "iam", "list-access-keys", "--user-name", "bob")
	if !strings.HasPrefix(msg, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::000000000000:user/bob") {
		t.Fatalf("alice on bob's keys: %s", msg)
	}
	happened = append(happened, outcome{"alice", "iam:ListAccessKeys", "arn:aws:iam::000000000000:user/bob", false})
	denied(t, bob, "CreateAccessKey", "iam", "create-access-key", "--user-name", "alice")
	happened = append(happened, outcome{"bob", "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/alice", false})
	denied(t, bob, "DeleteAccessKey", "iam", "delete-access-key", "--user-name", "alice", "--access-key-id", second["AccessKeyId"].(string))
	happened = append(happened, outcome{"bob", "iam:DeleteAccessKey", "arn:aws:iam::000000000000:user/alice", false})
	ok(t, alice, "iam", "delete-access-key", "--access-key-id", second["AccessKeyId"].(string))
	happened = append(happened, outcome{"alice", "iam:DeleteAccessKey", "arn:aws:iam::000000000000:user/alice", true})
	denied(t, alice, "ListUsers", "iam", "list-users")
	happened = append(happened, outcome{"alice", "iam:ListUsers", "arn:aws:iam::000000000000:user/", false})

	// The simulator agrees with every outcome above.
	for _, h := range happened {
		res := ok(t, root, "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::000000000000:user/"+h.user,
			"--action-names", h.action, "--resource-arns", h.resource)["EvaluationResults"].([]any)
		if len(res) != 1 {
			t.Fatalf("simulate %+v: %v", h, res)
		}
		got := res[0].(map[string]any)["EvalDecision"]
		want := "implicitDeny"
		if h.allowed {
			want = "allowed"
		}
		if got != want {
			t.Errorf("simulate %s %s on %s = %v, but the request was allowed=%v", h.user, h.action, h.resource, got, h.allowed)
		}
	}
}
