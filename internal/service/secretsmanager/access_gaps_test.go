package secretsmanager_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

// BatchGetSecretValue with Filters searches the account's secrets, so AWS
// asks for secretsmanager:ListSecrets as well ("If you use filters, you
// must also have secretsmanager:ListSecrets", API reference): without it
// the call fails whole and names no secret, not even in Errors. With it,
// each secret the filter finds is still authorized as GetSecretValue, and
// those the caller cannot read are reported in Errors (SecretId, ErrorCode
// AccessDeniedException, Message) without failing the call.
func TestBatchGetSecretValueFiltersNeedListSecrets(t *testing.T) {
	e := start(t)
	root := e.root()
	ctx := context.Background()
	open := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/open"), SecretString: aws.String("o")}))
	hidden := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/hidden"), SecretString: aws.String("h")}))

	getOpen := `{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + aws.ToString(open.ARN) + `"}`
	batchOnly, batchOnlyARN := e.user(account, "batchonly", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:BatchGetSecretValue","Resource":"*"},`+getOpen+`]}`)
	lister, _ := e.user(account, "lister", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["secretsmanager:BatchGetSecretValue","secretsmanager:ListSecrets"],"Resource":"*"},`+getOpen+`]}`)
	filters := []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"app/"}}}

	_, err := batchOnly.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{Filters: filters})
	wantErr(t, err, "AccessDeniedException", 400, "User: "+batchOnlyARN+" is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action")
	_, msg, _ := apiErr(t, err)
	if strings.Contains(msg, "app/") {
		t.Fatalf("the refusal names a secret: %q", msg)
	}
	// The refusal is recorded as the call's, with nothing of the secrets,
	// and no secret's GetSecretValue record follows it.
	if err := e.Audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, ev := range events(t, e) {
		if ev.UserIdentity.ARN != batchOnlyARN {
			continue
		}
		recorded++
		b, _ := json.Marshal(ev)
		if ev.EventName != "BatchGetSecretValue" || ev.ErrorCode != "AccessDeniedException" || strings.Contains(string(b), "app/open") || strings.Contains(string(b), "app/hidden") {
			t.Fatalf("audit record of the refused call: %s", b)
		}
	}
	if recorded != 1 {
		t.Fatalf("%d audit records of the refused call, want 1", recorded)
	}
	// Named by SecretIdList, the same caller needs no ListSecrets: it
	// already knows the names it asks for.
	out := must[*sm.BatchGetSecretValueOutput](t)(batchOnly.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"app/open", "app/hidden"}}))
	if len(out.SecretValues) != 1 || aws.ToString(out.SecretValues[0].SecretString) != "o" || len(out.Errors) != 1 {
		t.Fatalf("by list: %+v", out)
	}

	out = must[*sm.BatchGetSecretValueOutput](t)(lister.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{Filters: filters}))
	if len(out.SecretValues) != 1 || aws.ToString(out.SecretValues[0].ARN) != aws.ToString(open.ARN) || aws.ToString(out.SecretValues[0].SecretString) != "o" {
		t.Fatalf("SecretValues = %+v", out.SecretValues)
	}
	if len(out.Errors) != 1 {
		t.Fatalf("Errors = %+v", out.Errors)
	}
	if er := out.Errors[0]; aws.ToString(er.SecretId) != aws.ToString(hidden.ARN) || aws.ToString(er.ErrorCode) != "AccessDeniedException" ||
		!strings.Contains(aws.ToString(er.Message), "is not authorized to perform: secretsmanager:GetSecretValue on resource: "+aws.ToString(hidden.ARN)) {
		t.Fatalf("Errors[0] = %s %s %s", aws.ToString(er.SecretId), aws.ToString(er.ErrorCode), aws.ToString(er.Message))
	}
}

// events returns the audit records of the test account.
func events(t *testing.T, e *env) []*audit.Event {
	t.Helper()
	rows, err := e.Store.QueryAudit(context.Background(), store.AuditQuery{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Event
	for _, r := range rows {
		ev, err := audit.Parse(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// secretsmanager:Name is the name a CreateSecret request gives the new
// secret; the Service Authorization Reference lists it for CreateSecret
// only, so on other actions a condition on it finds no key and does not
// match.
func TestNameConditionKey(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c, arn := e.user(account, "namer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["secretsmanager:CreateSecret","secretsmanager:DescribeSecret"],"Resource":"*",
		"Condition":{"StringLike":{"secretsmanager:Name":"app/*"}}}]}`)
	create := func(name string) error {
		_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")})
		return err
	}
	if err := create("app/db"); err != nil {
		t.Fatalf("CreateSecret app/db: %v", err)
	}
	wantErr(t, create("ops/db"), "AccessDeniedException", 400,
		"User: "+arn+" is not authorized to perform: secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:ops/db-?????? because no identity-based policy allows the secretsmanager:CreateSecret action")
	wantErr(t, create("xapp/db"), "AccessDeniedException", 400, "secretsmanager:CreateSecret")
	// DescribeSecret carries no secretsmanager:Name: the same statement
	// does not allow it, even on a secret whose name matches.
	_, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("app/db")})
	wantErr(t, err, "AccessDeniedException", 400, "secretsmanager:DescribeSecret")

	// A deny on the name wins over an allow of every name.
	d, _ := e.user(account, "denier", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*"},
		{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringLike":{"secretsmanager:Name":"prod/*"}}}]}`)
	_, err = d.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String("v")})
	wantErr(t, err, "AccessDeniedException", 400, "with an explicit deny in an identity-based policy")
	if _, err := d.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("dev/db"), SecretString: aws.String("v")}); err != nil {
		t.Fatalf("CreateSecret dev/db: %v", err)
	}
}

// realAccount makes account id in srv with root credentials the test knows.
func realAccount(t *testing.T, srv *rampartest.Server, id string) aws.Config {
	t.Helper()
	akid, secret := "AKIAROOT"+id, "secret-"+id
	if _, err := authn.EnsureAccount(context.Background(), srv.Store, srv.Barrier, authn.Account{ID: id, Name: id}, akid, secret); err != nil {
		t.Fatal(err)
	}
	return srv.ConfigFor(akid, secret, "")
}

// assumer makes an IAM user allowed to assume roles, in the account of
// the root user cfg signs as (roots may not assume roles), and returns its
// configuration.
func assumer(t *testing.T, srv *rampartest.Server, cfg aws.Config, name string) aws.Config {
	t.Helper()
	ctx := context.Background()
	c := awsiam.NewFromConfig(cfg)
	must[*awsiam.CreateUserOutput](t)(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(name)}))
	must[*awsiam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	k := must[*awsiam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String(name)}))
	return srv.ConfigFor(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
}

// assume returns the configuration of a session of roleARN, assumed by the
// holder of cfg.
func assume(t *testing.T, srv *rampartest.Server, cfg aws.Config, roleARN, session string) aws.Config {
	t.Helper()
	out, err := awssts.NewFromConfig(cfg).AssumeRole(context.Background(), &awssts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session)})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	c := out.Credentials
	return srv.ConfigFor(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// createKey makes a customer managed key with policy and returns its ARN.
func createKey(t *testing.T, c *kms.Client, policy string) string {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Policy: aws.String(policy)})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// Cross-account access with the real KMS ("Access AWS Secrets Manager
// secrets from a different account", Secrets Manager User Guide): a role
// in account B reads a secret of account A when B's identity policy, the
// secret's resource policy and the key policy of the secret's customer
// managed key all allow it, the key policy only through Secrets Manager
// (kms:ViaService). Without the resource policy Secrets Manager refuses;
// without the key policy's grant KMS refuses ("Access to KMS is not
// allowed"); a secret under aws/secretsmanager cannot be read from another
// account at all.
func TestCrossAccountRoleWithRealKMS(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	const b = "111111111111"
	bRoot := realAccount(t, srv, b)
	a := sm.NewFromConfig(srv.Config())
	aKMS := kms.NewFromConfig(srv.Config())

	// Account B: the role, trusted by B's root, allowed by its own policy
	// to read A's secrets and use A's keys.
	bIAM := awsiam.NewFromConfig(bRoot)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + b + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*awsiam.CreateRoleOutput](t)(bIAM.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: &trust}))
	roleARN := aws.ToString(role.Role.Arn)
	must[*awsiam.PutRolePolicyOutput](t)(bIAM.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("read-a"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:*"},
			{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:000000000000:key/*"}]}`)}))
	bUser := assumer(t, srv, bRoot, "deployer")
	session := assume(t, srv, bUser, roleARN, "app")
	reader := sm.NewFromConfig(session)
	sessionARN := "arn:aws:sts::" + b + ":assumed-role/reader/app"

	// Account A: a key whose policy lets the role decrypt through Secrets
	// Manager, and one whose policy does not mention it.
	owner := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}`
	shared := createKey(t, aKMS, `{"Version":"2012-10-17","Statement":[`+owner+`,
		{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*",
		 "Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`)
	private := createKey(t, aKMS, `{"Version":"2012-10-17","Statement":[`+owner+`]}`)
	grant := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	secret := func(name, key string, policy *string) string {
		t.Helper()
		in := &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("value of " + name)}
		if key != "" {
			in.KmsKeyId = aws.String(key)
		}
		out := must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, in))
		if policy != nil {
			must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: policy}))
		}
		return aws.ToString(out.ARN)
	}
	both := secret("both", shared, grant)
	noResourcePolicy := secret("no-resource-policy", shared, nil)
	noKeyGrant := secret("no-key-grant", private, grant)
	defaultKey := secret("default-key", "", grant)

	get := func(arn string) (string, error) {
		out, err := reader.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	}
	if v, err := get(both); err != nil || v != "value of both" {
		t.Fatalf("GetSecretValue across accounts = %q, %v", v, err)
	}
	_, err := get(noResourcePolicy)
	wantErr(t, err, "AccessDeniedException", 400, "User: "+sessionARN+" is not authorized to perform: secretsmanager:GetSecretValue on resource: "+noResourcePolicy+" because no resource-based policy allows the secretsmanager:GetSecretValue action")
	_, err = get(noKeyGrant)
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")
	_, err = get(defaultKey)
	wantErr(t, err, "InvalidRequestException", 400, "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.")
	// The owner reads the same secret under aws/secretsmanager.
	if v := value(t, a, defaultKey); v != "value of default-key" {
		t.Fatalf("owner reads %q", v)
	}

	// The key policy allows the role only through Secrets Manager: the
	// same key refuses the role's own Decrypt.
	enc := must[*kms.EncryptOutput](t)(aKMS.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(shared), Plaintext: []byte("direct")}))
	_, err = kms.NewFromConfig(session).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: aws.String(shared)})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Decrypt")

	// B's identity policy must allow too, both actions: a session narrowed
	// to one of them reads nothing, whatever A's policies say.
	narrowed := func(action string) *sm.Client {
		t.Helper()
		out, err := awssts.NewFromConfig(bUser).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("narrow"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return sm.NewFromConfig(srv.ConfigFor(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	}
	_, err = narrowed("kms:Decrypt").GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(both)})
	wantErr(t, err, "AccessDeniedException", 400, "is not authorized to perform: secretsmanager:GetSecretValue on resource: "+both+" because no session policy allows")
	_, err = narrowed("secretsmanager:GetSecretValue").GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(both)})
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")
}

// A resource control policy (Organizations) limits what any principal may
// do with a member account's secrets: here GetSecretValue only for
// principals of the organization (aws:PrincipalOrgID). An outside account
// that the secret's resource policy and key policy both admit is refused
// while the RCP is attached, and reads again once it is detached; the
// member account's own principals read throughout.
func TestRCPGuardsGetSecretValue(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	org := organizations.NewFromConfig(srv.Config())
	created := must[*organizations.CreateOrganizationOutput](t)(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	orgID := aws.ToString(created.Organization.Id)
	roots := must[*organizations.ListRootsOutput](t)(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	must[*organizations.EnablePolicyTypeOutput](t)(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: orgtypes.PolicyTypeResourceControlPolicy}))
	ca := must[*organizations.CreateAccountOutput](t)(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("member@example.com")}))
	st := must[*organizations.DescribeCreateAccountStatusOutput](t)(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: ca.CreateAccountStatus.Id}))
	if st.CreateAccountStatus.State != orgtypes.CreateAccountStateSucceeded {
		t.Fatalf("CreateAccount: %s %s", st.CreateAccountStatus.State, st.CreateAccountStatus.FailureReason)
	}
	member := aws.ToString(st.CreateAccountStatus.AccountId)
	admin := assume(t, srv, assumer(t, srv, srv.Config(), "ops"), "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole", "admin")
	memberSM := sm.NewFromConfig(admin)

	const outside = "111111111111"
	outsider := sm.NewFromConfig(realAccount(t, srv, outside))
	outsideRoot := "arn:aws:iam::" + outside + ":root"
	key := createKey(t, kms.NewFromConfig(admin), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+member+`:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":"`+outsideRoot+`"},"Action":"kms:Decrypt","Resource":"*",
		 "Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`)
	s := must[*sm.CreateSecretOutput](t)(memberSM.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("perimeter"), SecretString: aws.String("inside"), KmsKeyId: aws.String(key)}))
	arn := aws.ToString(s.ARN)
	must[*sm.PutResourcePolicyOutput](t)(memberSM.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: s.ARN,
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + outsideRoot + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}))

	if v := value(t, outsider, arn); v != "inside" {
		t.Fatalf("outsider before the RCP reads %q", v)
	}
	rcp := must[*organizations.CreatePolicyOutput](t)(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("OrgOnlySecrets"), Description: aws.String("secrets for the organization only"),
		Type: orgtypes.PolicyTypeResourceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*",
			"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"` + orgID + `"}}}]}`)}))
	policyID := rcp.Policy.PolicySummary.Id
	must[*organizations.AttachPolicyOutput](t)(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: policyID, TargetId: aws.String(member)}))

	_, err := outsider.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	wantErr(t, err, "AccessDeniedException", 400, "User: "+outsideRoot+" is not authorized to perform: secretsmanager:GetSecretValue on resource: "+arn+" with an explicit deny in a resource control policy")
	// The condition holds for the organization's own principals.
	if v := value(t, memberSM, arn); v != "inside" {
		t.Fatalf("member under the RCP reads %q", v)
	}
	// The RCP names GetSecretValue only: the outsider's other rights stand
	// (here none: DescribeSecret is refused by the resource policy, not
	// the RCP).
	_, err = outsider.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	wantErr(t, err, "AccessDeniedException", 400, "because no resource-based policy allows the secretsmanager:DescribeSecret action")

	must[*organizations.DetachPolicyOutput](t)(org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: policyID, TargetId: aws.String(member)}))
	if v := value(t, outsider, arn); v != "inside" {
		t.Fatalf("outsider after the detach reads %q", v)
	}
}
