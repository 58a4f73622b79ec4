package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// smFunctionARN is the Lambda ARN of the test's HTTP rotation function,
// registered with the dev server through RAMPART_ROTATION_FUNCTIONS.
const smFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:cli-rotate"

// smCLI drives the AWS CLI v2 against one `rampart dev`.
type smCLI struct {
	t  *testing.T
	ep string
}

// ok runs the CLI, which must succeed, and decodes its JSON output (nil
// when it printed nothing).
func (c smCLI) ok(args ...string) map[string]any {
	c.t.Helper()
	out, errOut, err := runCLI(c.t, c.ep, "test", "test", args...)
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), out, err)
	}
	return m
}

// fails runs the CLI, which must fail with AWS's code for operation op,
// and returns the error message.
func (c smCLI) fails(code, op string, args ...string) string {
	c.t.Helper()
	_, errOut, err := runCLI(c.t, c.ep, "test", "test", args...)
	if err == nil {
		c.t.Fatalf("aws %s succeeded, want %s", strings.Join(args, " "), code)
	}
	prefix := "An error occurred (" + code + ") when calling the " + op + " operation: "
	i := strings.Index(errOut, prefix)
	if i < 0 {
		c.t.Fatalf("aws %s: stderr %q, want %q", strings.Join(args, " "), errOut, prefix)
	}
	return strings.TrimSpace(errOut[i+len(prefix):])
}

// stages returns the staging labels of each version, from list-secret-version-ids.
func (c smCLI) stages(id string) map[string][]string {
	c.t.Helper()
	out := c.ok("secretsmanager", "list-secret-version-ids", "--secret-id", id)
	m := map[string][]string{}
	for _, v := range out["Versions"].([]any) {
		v := v.(map[string]any)
		var st []string
		for _, s := range v["VersionStages"].([]any) {
			st = append(st, s.(string))
		}
		m[v["VersionId"].(string)] = st
	}
	return m
}

// waitRotated polls list-secret-version-ids until the rotation with token
// has finished: its version is AWSCURRENT and no longer AWSPENDING.
func (c smCLI) waitRotated(id, token string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !slices.Equal(c.stages(id)[token], []string{"AWSCURRENT"}) {
		if time.Now().After(deadline) {
			c.t.Fatalf("rotation %s of %s did not finish: %v", token, id, c.stages(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c smCLI) value(id string, extra ...string) map[string]any {
	c.t.Helper()
	return c.ok(append([]string{"secretsmanager", "get-secret-value", "--secret-id", id}, extra...)...)
}

// cliRotator is an HTTP rotation function, as a Lambda function built from
// AWS's template would be: it manages a password kept in memory and calls
// rampart back with its own credentials (the SDK, signing as the root key).
type cliRotator struct {
	mu       sync.Mutex
	endpoint string
	password string
	failStep string
}

func (f *cliRotator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev secretsmanager.RotationEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	ep, fail := f.endpoint, f.failStep == ev.Step
	f.mu.Unlock()
	if fail {
		http.Error(w, "the service refused the new password", http.StatusInternalServerError)
		return
	}
	c := sm.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ep), Retryer: rampartest.Retryer,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err := f.step(r.Context(), c, ev); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (f *cliRotator) step(ctx context.Context, c *sm.Client, ev secretsmanager.RotationEvent) error {
	id, tok := aws.String(ev.SecretId), aws.String(ev.ClientRequestToken)
	pending := func() (string, error) {
		v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: id, VersionId: tok, VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return "", err
		}
		return aws.ToString(v.SecretString), nil
	}
	switch ev.Step {
	case "createSecret":
		if _, err := pending(); err == nil {
			return nil
		}
		pw, err := c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{ExcludePunctuation: aws.Bool(true)})
		if err != nil {
			return err
		}
		_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: id, ClientRequestToken: tok, SecretString: pw.RandomPassword, VersionStages: []string{"AWSPENDING"}})
		return err
	case "setSecret":
		pw, err := pending()
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.password = pw
		f.mu.Unlock()
	case "testSecret":
		pw, err := pending()
		if err != nil {
			return err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if pw != f.password {
			return errors.New("login with the pending password failed")
		}
	case "finishSecret":
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: id})
		if err != nil {
			return err
		}
		for v, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") && v != ev.ClientRequestToken {
				_, err = c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: tok, RemoveFromVersionId: aws.String(v)})
				return err
			}
		}
	default:
		return fmt.Errorf("unknown step %q", ev.Step)
	}
	return nil
}

func TestSecretsManagerCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	requireCLI(t)
	bin := buildRampart(t)
	fn := &cliRotator{}
	fnSrv := httptest.NewServer(fn)
	defer fnSrv.Close()
	t.Setenv(secretsmanager.EnvFunctions, smFunctionARN+"="+fnSrv.URL)
	ep := startDev(t, bin)
	fn.mu.Lock()
	fn.endpoint = ep
	fn.mu.Unlock()

	t.Run("versions", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		cr := c.ok("secretsmanager", "create-secret", "--name", "cli/str", "--secret-string", "first", "--description", "the first one",
			"--tags", "Key=env,Value=dev", "Key=team,Value=core")
		arn, v1 := cr["ARN"].(string), cr["VersionId"].(string)
		if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:000000000000:secret:cli/str-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:000000000000:secret:cli/str-")+6 {
			t.Fatalf("ARN %q", arn)
		}
		if got := c.value("cli/str"); got["SecretString"] != "first" || got["VersionId"] != v1 || got["ARN"] != arn {
			t.Fatalf("get-secret-value = %v", got)
		}
		v2 := c.ok("secretsmanager", "put-secret-value", "--secret-id", arn, "--secret-string", "second")["VersionId"].(string)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{nil, "second"},
			{[]string{"--version-stage", "AWSCURRENT"}, "second"},
			{[]string{"--version-stage", "AWSPREVIOUS"}, "first"},
			{[]string{"--version-id", v1}, "first"},
			{[]string{"--version-id", v2, "--version-stage", "AWSCURRENT"}, "second"},
		} {
			if got := c.value("cli/str", tc.args...); got["SecretString"] != tc.want {
				t.Errorf("get-secret-value %v = %v, want %q", tc.args, got["SecretString"], tc.want)
			}
		}
		if st := c.stages("cli/str"); !slices.Equal(st[v1], []string{"AWSPREVIOUS"}) || !slices.Equal(st[v2], []string{"AWSCURRENT"}) {
			t.Fatalf("list-secret-version-ids after put: %v", st)
		}
		// Moving AWSCURRENT back moves AWSPREVIOUS to the version it left.
		c.ok("secretsmanager", "update-secret-version-stage", "--secret-id", "cli/str", "--version-stage", "AWSCURRENT",
			"--move-to-version-id", v1, "--remove-from-version-id", v2)
		if st := c.stages("cli/str"); !slices.Equal(st[v1], []string{"AWSCURRENT"}) || !slices.Equal(st[v2], []string{"AWSPREVIOUS"}) {
			t.Fatalf("after update-secret-version-stage: %v", st)
		}
		msg := c.fails("InvalidParameterException", "UpdateSecretVersionStage", "secretsmanager", "update-secret-version-stage", "--secret-id", "cli/str",
			"--version-stage", "AWSCURRENT", "--move-to-version-id", v2)
		if !strings.Contains(msg, "AWSCURRENT") {
			t.Errorf("moving AWSCURRENT without removing it: %q", msg)
		}
		d := c.ok("secretsmanager", "describe-secret", "--secret-id", "cli/str")
		if d["Name"] != "cli/str" || d["Description"] != "the first one" || len(d["Tags"].([]any)) != 2 || len(d["VersionIdsToStages"].(map[string]any)) != 2 {
			t.Fatalf("describe-secret = %v", d)
		}
		if _, ok := d["LastAccessedDate"]; !ok {
			t.Errorf("describe-secret lacks LastAccessedDate after reads: %v", d)
		}
	})

	t.Run("binary", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		blob := make([]byte, 300)
		rand.Read(blob)
		path := filepath.Join(t.TempDir(), "blob.bin")
		if err := os.WriteFile(path, blob, 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok("secretsmanager", "create-secret", "--name", "cli/bin", "--secret-binary", "fileb://"+path)
		got := c.value("cli/bin")
		b, err := base64.StdEncoding.DecodeString(got["SecretBinary"].(string))
		if err != nil || !bytes.Equal(b, blob) {
			t.Fatalf("SecretBinary round trip: %v (%d bytes)", err, len(b))
		}
		if _, ok := got["SecretString"]; ok {
			t.Fatalf("a binary secret has a SecretString: %v", got)
		}
	})

	t.Run("list-secrets and tags", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		c.ok("secretsmanager", "create-secret", "--name", "list/alpha", "--secret-string", "a", "--description", "payments db", "--tags", "Key=owner,Value=pay")
		c.ok("secretsmanager", "create-secret", "--name", "list/beta", "--secret-string", "b", "--description", "search index")
		names := func(args ...string) []string {
			out := c.ok(append([]string{"secretsmanager", "list-secrets"}, args...)...)
			var n []string
			for _, s := range out["SecretList"].([]any) {
				n = append(n, s.(map[string]any)["Name"].(string))
			}
			slices.Sort(n)
			return n
		}
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--filters", "Key=name,Values=list/"}, []string{"list/alpha", "list/beta"}},
			{[]string{"--filters", "Key=description,Values=payments"}, []string{"list/alpha"}},
			{[]string{"--filters", "Key=tag-key,Values=owner"}, []string{"list/alpha"}},
			{[]string{"--filters", "Key=tag-value,Values=pay"}, []string{"list/alpha"}},
			{[]string{"--filters", "Key=name,Values=list/", "Key=description,Values=search"}, []string{"list/beta"}},
			{[]string{"--filters", "Key=name,Values=list/", "Key=name,Values=!list/a"}, []string{"list/beta"}},
			{[]string{"--filters", "Key=name,Values=nothing/"}, nil},
		} {
			if got := names(tc.args...); !slices.Equal(got, tc.want) {
				t.Errorf("list-secrets %v = %v, want %v", tc.args, got, tc.want)
			}
		}
		c.ok("secretsmanager", "tag-resource", "--secret-id", "list/beta", "--tags", "Key=owner,Value=search")
		if got := names("--filters", "Key=tag-key,Values=owner"); !slices.Equal(got, []string{"list/alpha", "list/beta"}) {
			t.Errorf("after tag-resource: %v", got)
		}
		c.ok("secretsmanager", "untag-resource", "--secret-id", "list/alpha", "--tag-keys", "owner")
		if got := names("--filters", "Key=tag-key,Values=owner"); !slices.Equal(got, []string{"list/beta"}) {
			t.Errorf("after untag-resource: %v", got)
		}
		if d := c.ok("secretsmanager", "describe-secret", "--secret-id", "list/alpha"); d["Tags"] != nil && len(d["Tags"].([]any)) != 0 {
			t.Errorf("tags after untag-resource: %v", d["Tags"])
		}
	})

	t.Run("resource policy", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		c.ok("secretsmanager", "create-secret", "--name", "cli/policy", "--secret-string", "p")
		public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
		account := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
		msg := c.fails("PublicPolicyException", "PutResourcePolicy", "secretsmanager", "put-resource-policy", "--secret-id", "cli/policy",
			"--resource-policy", public, "--block-public-policy")
		if !strings.Contains(msg, "BlockPublicPolicy") {
			t.Errorf("PublicPolicyException message %q", msg)
		}
		if p := c.ok("secretsmanager", "get-resource-policy", "--secret-id", "cli/policy"); p["ResourcePolicy"] != nil {
			t.Fatalf("a refused policy was stored: %v", p)
		}
		v := c.ok("secretsmanager", "validate-resource-policy", "--secret-id", "cli/policy", "--resource-policy", public)
		if v["PolicyValidationPassed"] != false || len(v["ValidationErrors"].([]any)) == 0 {
			t.Errorf("validate-resource-policy of a public policy = %v", v)
		}
		if v := c.ok("secretsmanager", "validate-resource-policy", "--resource-policy", account); v["PolicyValidationPassed"] != true {
			t.Errorf("validate-resource-policy of an account policy = %v", v)
		}
		c.fails("MalformedPolicyDocumentException", "PutResourcePolicy", "secretsmanager", "put-resource-policy", "--secret-id", "cli/policy", "--resource-policy", `{"Statement":`)
		c.ok("secretsmanager", "put-resource-policy", "--secret-id", "cli/policy", "--resource-policy", account, "--block-public-policy")
		got := c.ok("secretsmanager", "get-resource-policy", "--secret-id", "cli/policy")
		var doc map[string]any
		if err := json.Unmarshal([]byte(got["ResourcePolicy"].(string)), &doc); err != nil || !strings.Contains(got["ResourcePolicy"].(string), "111111111111") {
			t.Fatalf("get-resource-policy = %v (%v)", got, err)
		}
		c.ok("secretsmanager", "delete-resource-policy", "--secret-id", "cli/policy")
		if p := c.ok("secretsmanager", "get-resource-policy", "--secret-id", "cli/policy"); p["ResourcePolicy"] != nil {
			t.Fatalf("after delete-resource-policy: %v", p)
		}
	})

	t.Run("delete and restore", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		c.ok("secretsmanager", "create-secret", "--name", "cli/del", "--secret-string", "d")
		c.fails("InvalidParameterException", "DeleteSecret", "secretsmanager", "delete-secret", "--secret-id", "cli/del", "--recovery-window-in-days", "7", "--force-delete-without-recovery")
		c.fails("InvalidParameterException", "DeleteSecret", "secretsmanager", "delete-secret", "--secret-id", "cli/del", "--recovery-window-in-days", "3")
		del := c.ok("secretsmanager", "delete-secret", "--secret-id", "cli/del", "--recovery-window-in-days", "7")
		if del["DeletionDate"] == nil {
			t.Fatalf("delete-secret = %v", del)
		}
		msg := c.fails("InvalidRequestException", "GetSecretValue", "secretsmanager", "get-secret-value", "--secret-id", "cli/del")
		if !strings.Contains(msg, "marked for deletion") {
			t.Errorf("get-secret-value of a deleted secret: %q", msg)
		}
		c.fails("InvalidRequestException", "PutSecretValue", "secretsmanager", "put-secret-value", "--secret-id", "cli/del", "--secret-string", "x")
		c.fails("InvalidRequestException", "CreateSecret", "secretsmanager", "create-secret", "--name", "cli/del", "--secret-string", "x")
		if d := c.ok("secretsmanager", "describe-secret", "--secret-id", "cli/del"); d["DeletedDate"] == nil {
			t.Errorf("describe-secret of a deleted secret lacks DeletedDate: %v", d)
		}
		c.ok("secretsmanager", "restore-secret", "--secret-id", "cli/del")
		if got := c.value("cli/del"); got["SecretString"] != "d" {
			t.Fatalf("after restore-secret: %v", got)
		}
		c.ok("secretsmanager", "delete-secret", "--secret-id", "cli/del", "--force-delete-without-recovery")
		c.fails("ResourceNotFoundException", "DescribeSecret", "secretsmanager", "describe-secret", "--secret-id", "cli/del")
		// The name is free again at once.
		c.ok("secretsmanager", "create-secret", "--name", "cli/del", "--secret-string", "again")
	})

	t.Run("bad input", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		c.ok("secretsmanager", "create-secret", "--name", "cli/dup", "--secret-string", "x")
		for _, tc := range []struct {
			code, op, msg string
			args          []string
		}{
			{"ResourceNotFoundException", "GetSecretValue", "Secrets Manager can't find the specified secret.", []string{"get-secret-value", "--secret-id", "cli/none"}},
			{"ResourceNotFoundException", "DescribeSecret", "Secrets Manager can't find the specified secret.", []string{"describe-secret", "--secret-id", "arn:aws:secretsmanager:us-east-1:000000000000:secret:cli/none-abcdef"}},
			{"ResourceExistsException", "CreateSecret", "already exists", []string{"create-secret", "--name", "cli/dup", "--secret-string", "y"}},
			{"InvalidParameterException", "CreateSecret", "", []string{"create-secret", "--name", "cli/both", "--secret-string", "y", "--secret-binary", "eQ=="}},
			{"ResourceNotFoundException", "GetSecretValue", "VersionId", []string{"get-secret-value", "--secret-id", "cli/dup", "--version-id", "00000000-0000-4000-8000-000000000000"}},
			{"ResourceNotFoundException", "GetSecretValue", "staging label", []string{"get-secret-value", "--secret-id", "cli/dup", "--version-stage", "AWSPREVIOUS"}},
			{"InvalidParameterException", "CreateSecret", "aws:", []string{"create-secret", "--name", "cli/tags", "--secret-string", "y", "--tags", "Key=aws:x,Value=y"}},
		} {
			msg := c.fails(tc.code, tc.op, append([]string{"secretsmanager"}, tc.args...)...)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("%v: message %q lacks %q", tc.args, msg, tc.msg)
			}
		}
		// Nothing was created by the refused requests.
		for _, name := range []string{"cli/both", "cli/tags"} {
			c.fails("ResourceNotFoundException", "DescribeSecret", "secretsmanager", "describe-secret", "--secret-id", name)
		}
		if got := c.value("cli/dup"); got["SecretString"] != "x" {
			t.Errorf("cli/dup changed: %v", got)
		}
	})

	t.Run("get-random-password", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		pw := c.ok("secretsmanager", "get-random-password", "--password-length", "24", "--exclude-punctuation", "--require-each-included-type")["RandomPassword"].(string)
		if len(pw) != 24 || strings.ContainsFunc(pw, func(r rune) bool { return !strings.ContainsRune(alnumChars, r) }) ||
			!strings.ContainsAny(pw, "0123456789") || !strings.ContainsAny(pw, "abcdefghijklmnopqrstuvwxyz") || !strings.ContainsAny(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("get-random-password = %q", pw)
		}
		c.fails("InvalidParameterException", "GetRandomPassword", "secretsmanager", "get-random-password", "--exclude-numbers", "--exclude-lowercase",
			"--exclude-uppercase", "--exclude-punctuation")
	})

	t.Run("disabled KMS key", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		key := c.ok("kms", "create-key", "--description", "secrets")["KeyMetadata"].(map[string]any)["KeyId"].(string)
		c.ok("secretsmanager", "create-secret", "--name", "cli/kms", "--secret-string", "under a customer key", "--kms-key-id", key)
		if d := c.ok("secretsmanager", "describe-secret", "--secret-id", "cli/kms"); d["KmsKeyId"] != key {
			t.Errorf("describe-secret KmsKeyId = %v, want %s", d["KmsKeyId"], key)
		}
		c.ok("kms", "disable-key", "--key-id", key)
		msg := c.fails("DecryptionFailure", "GetSecretValue", "secretsmanager", "get-secret-value", "--secret-id", "cli/kms")
		if !strings.Contains(msg, "can't decrypt the protected secret text using the provided KMS key") || strings.Contains(msg, "under a customer key") {
			t.Errorf("DecryptionFailure message %q", msg)
		}
		c.fails("EncryptionFailure", "PutSecretValue", "secretsmanager", "put-secret-value", "--secret-id", "cli/kms", "--secret-string", "new")
		c.ok("kms", "enable-key", "--key-id", key)
		if got := c.value("cli/kms"); got["SecretString"] != "under a customer key" {
			t.Fatalf("after enable-key: %v", got)
		}
		if st := c.stages("cli/kms"); len(st) != 1 {
			t.Fatalf("the refused put-secret-value left a version: %v", st)
		}
	})

	t.Run("rotation through an HTTP function", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		v1 := c.ok("secretsmanager", "create-secret", "--name", "cli/rot", "--secret-string", "initial")["VersionId"].(string)
		c.fails("ResourceNotFoundException", "RotateSecret", "secretsmanager", "rotate-secret", "--secret-id", "cli/rot",
			"--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:unregistered")
		c.fails("InvalidParameterException", "RotateSecret", "secretsmanager", "rotate-secret", "--secret-id", "cli/rot",
			"--rotation-lambda-arn", smFunctionARN, "--rotation-rules", "ScheduleExpression=rate(2 hours)")

		r := c.ok("secretsmanager", "rotate-secret", "--secret-id", "cli/rot", "--rotation-lambda-arn", smFunctionARN, "--rotation-rules", "AutomaticallyAfterDays=30")
		v2, _ := r["VersionId"].(string)
		if v2 == "" || v2 == v1 {
			t.Fatalf("rotate-secret = %v", r)
		}
		c.waitRotated("cli/rot", v2)
		fn.mu.Lock()
		pw := fn.password
		fn.mu.Unlock()
		if cur, prev := c.value("cli/rot"), c.value("cli/rot", "--version-stage", "AWSPREVIOUS"); cur["SecretString"] != pw || pw == "" || prev["SecretString"] != "initial" || prev["VersionId"] != v1 {
			t.Fatalf("after rotation: current %v, previous %v (function's password %q)", cur["SecretString"], prev["SecretString"], pw)
		}
		d := c.ok("secretsmanager", "describe-secret", "--secret-id", "cli/rot")
		if d["RotationEnabled"] != true || d["RotationLambdaARN"] != smFunctionARN || d["LastRotatedDate"] == nil || d["NextRotationDate"] == nil {
			t.Fatalf("describe-secret after rotation: %v", d)
		}

		// A failing step leaves AWSCURRENT where it was; the next
		// rotate-secret reports the unfinished one, and why it failed.
		fn.mu.Lock()
		fn.failStep = "testSecret"
		fn.mu.Unlock()
		v3 := c.ok("secretsmanager", "rotate-secret", "--secret-id", "cli/rot")["VersionId"].(string)
		deadline := time.Now().Add(60 * time.Second)
		var msg string
		for !strings.Contains(msg, "The last attempt failed") {
			if time.Now().After(deadline) {
				t.Fatalf("the failed rotation was not reported: %q", msg)
			}
			msg = c.fails("InvalidRequestException", "RotateSecret", "secretsmanager", "rotate-secret", "--secret-id", "cli/rot")
		}
		if !strings.HasPrefix(msg, "A previous rotation isn't complete. That rotation will be reattempted.") || !strings.Contains(msg, "testSecret") {
			t.Errorf("rotate-secret after a failure: %q", msg)
		}
		if st := c.stages("cli/rot"); !slices.Equal(st[v2], []string{"AWSCURRENT"}) || !slices.Equal(st[v3], []string{"AWSPENDING"}) {
			t.Fatalf("after a failed rotation: %v", st)
		}
		// Retried with its own token, it finishes.
		fn.mu.Lock()
		fn.failStep = ""
		fn.mu.Unlock()
		if r := c.ok("secretsmanager", "rotate-secret", "--secret-id", "cli/rot", "--client-request-token", v3); r["VersionId"] != v3 {
			t.Fatalf("retry = %v", r)
		}
		c.waitRotated("cli/rot", v3)
		if prev := c.value("cli/rot", "--version-stage", "AWSPREVIOUS"); prev["VersionId"] != v2 {
			t.Fatalf("AWSPREVIOUS after the retry: %v", prev["VersionId"])
		}
		c.ok("secretsmanager", "cancel-rotate-secret", "--secret-id", "cli/rot")
		if d := c.ok("secretsmanager", "describe-secret", "--secret-id", "cli/rot"); d["RotationEnabled"] != false {
			t.Errorf("after cancel-rotate-secret: RotationEnabled %v", d["RotationEnabled"])
		}
	})

	t.Run("PostgreSQL built-in rotation", func(t *testing.T) {
		c := smCLI{t: t, ep: ep}
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("PostgreSQL: %v", err)
			}
			t.Skipf("no PostgreSQL at 127.0.0.1:5432: %v", err)
		}
		defer admin.Close(ctx)
		b := make([]byte, 4)
		rand.Read(b)
		role := "rampart_cli_" + hex.EncodeToString(b)
		const old = "Old-Passw0rd-cli-rotation"
		if _, err := admin.Exec(ctx, "SET password_encryption = 'scram-sha-256'"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" WITH LOGIN PASSWORD '"+old+"'"); err != nil {
			t.Fatal(err)
		}
		defer admin.Exec(ctx, "DROP ROLE IF EXISTS "+role)
		secret, _ := json.Marshal(map[string]any{"engine": "postgres", "host": "127.0.0.1", "port": 5432, "dbname": "test", "username": role, "password": old})
		c.ok("secretsmanager", "create-secret", "--name", "cli/pg", "--secret-string", string(secret))
		r := c.ok("secretsmanager", "rotate-secret", "--secret-id", "cli/pg",
			"--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationSingleUser")
		c.waitRotated("cli/pg", r["VersionId"].(string))
		creds := func(stage string) map[string]any {
			var m map[string]any
			if err := json.Unmarshal([]byte(c.value("cli/pg", "--version-stage", stage)["SecretString"].(string)), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		cur, prev := creds("AWSCURRENT"), creds("AWSPREVIOUS")
		newPW, _ := cur["password"].(string)
		if prev["password"] != old || newPW == old || len(newPW) != 32 || cur["username"] != role {
			t.Fatalf("after rotation: previous password kept %v, new one %d characters", prev["password"] == old, len(newPW))
		}
		// Trust authentication lets any password in: check what the server stores.
		var verifier string
		if err := admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&verifier); err != nil {
			t.Fatal(err)
		}
		if !scramVerifierMatches(t, verifier, newPW) || scramVerifierMatches(t, verifier, old) {
			t.Fatal("the role's password is not the new one")
		}
	})
}

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// scramVerifierMatches reports whether PostgreSQL's SCRAM-SHA-256 verifier
// (pg_authid.rolpassword) is that of password.
func scramVerifierMatches(t *testing.T, verifier, password string) bool {
	t.Helper()
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		t.Fatalf("not a SCRAM verifier: %.20q…", verifier)
	}
	iterSalt, keys, _ := strings.Cut(rest, "$")
	iterS, saltS, _ := strings.Cut(iterSalt, ":")
	storedS, _, _ := strings.Cut(keys, ":")
	iter, _ := strconv.Atoi(iterS)
	salt, _ := base64.StdEncoding.DecodeString(saltS)
	stored, _ := base64.StdEncoding.DecodeString(storedS)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, salted)
	h.Write([]byte("Client Key"))
	sum := sha256.Sum256(h.Sum(nil))
	return hmac.Equal(sum[:], stored)
}
