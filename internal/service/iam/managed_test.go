package iam_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rampart/rampart/internal/rampartest"
)

// listAWSPolicies pages through ListPolicies Scope=AWS, maxItems at a time.
func listAWSPolicies(t *testing.T, c *iam.Client, maxItems int32) []types.Policy {
	t.Helper()
	var all []types.Policy
	var marker *string
	for pages := 0; ; pages++ {
		out := must(c.ListPolicies(context.Background(), &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, Marker: marker, MaxItems: aws.Int32(maxItems)}))(t)
		if len(out.Policies) > int(maxItems) {
			t.Fatalf("page of %d policies, MaxItems %d", len(out.Policies), maxItems)
		}
		all = append(all, out.Policies...)
		if !out.IsTruncated {
			if out.Marker != nil {
				t.Fatalf("last page has a marker")
			}
			return all
		}
		if out.Marker == nil || pages > 10000 {
			t.Fatalf("truncated page without a marker")
		}
		marker = out.Marker
	}
}

// TestAWSManagedListing: every AWS managed policy is listed once, by name,
// whatever the page size, and Scope=All lists them with the account's.
func TestAWSManagedListing(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(allowAll)}))(t)

	var first []types.Policy
	for _, size := range []int32{1000, 100, 7} {
		ps := listAWSPolicies(t, c, size)
		seen := map[string]bool{}
		for i, p := range ps {
			arn := aws.ToString(p.Arn)
			if seen[arn] {
				t.Fatalf("MaxItems %d: %s listed twice", size, arn)
			}
			seen[arn] = true
			if !strings.HasPrefix(arn, "arn:aws:iam::aws:policy"+aws.ToString(p.Path)) || !strings.HasSuffix(arn, "/"+aws.ToString(p.PolicyName)) {
				t.Fatalf("policy %s: path %s, ARN %s", aws.ToString(p.PolicyName), aws.ToString(p.Path), arn)
			}
			if i > 0 && aws.ToString(ps[i-1].PolicyName) >= aws.ToString(p.PolicyName) {
				t.Fatalf("MaxItems %d: %s listed after %s", size, aws.ToString(p.PolicyName), aws.ToString(ps[i-1].PolicyName))
			}
			if p.DefaultVersionId == nil || p.CreateDate == nil || p.UpdateDate == nil || p.UpdateDate.Before(*p.CreateDate) || aws.ToInt32(p.AttachmentCount) != 0 {
				t.Fatalf("policy %s: %+v", arn, p)
			}
		}
		if len(seen) != 1594 {
			t.Fatalf("MaxItems %d: %d distinct AWS managed policies, want 1594", size, len(seen))
		}
		if first == nil {
			first = ps
		}
	}
	all := 0
	local := false
	for pg := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{}); pg.HasMorePages(); {
		for _, p := range must(pg.NextPage(ctx))(t).Policies {
			all++
			local = local || aws.ToString(p.Arn) == "arn:aws:iam::000000000000:policy/mine"
		}
	}
	if all != len(first)+1 || !local {
		t.Fatalf("Scope=All: %d policies (customer policy listed: %v), want %d", all, local, len(first)+1)
	}
	// PathPrefix narrows the AWS list to one path.
	sr := 0
	for pg := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, PathPrefix: aws.String("/service-role/")}); pg.HasMorePages(); {
		for _, p := range must(pg.NextPage(ctx))(t).Policies {
			if aws.ToString(p.Path) != "/service-role/" {
				t.Fatalf("PathPrefix /service-role/: %s", aws.ToString(p.Arn))
			}
			sr++
		}
	}
	if sr == 0 || sr >= len(first) {
		t.Fatalf("PathPrefix /service-role/: %d of %d", sr, len(first))
	}
}

// statement is the part of a policy statement the sampling test reads.
type statement struct {
	Effect    string
	Action    any
	NotAction any
	Resource  any
	Condition map[string]any
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func statements(t *testing.T, doc string) []statement {
	t.Helper()
	var d struct{ Statement json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("document %s: %v", doc, err)
	}
	var ss []statement
	if err := json.Unmarshal(d.Statement, &ss); err != nil {
		var s statement
		if err := json.Unmarshal(d.Statement, &s); err != nil {
			t.Fatalf("statements %s: %v", d.Statement, err)
		}
		ss = []statement{s}
	}
	return ss
}

// probe picks, from a policy document, an action it allows on any resource
// without conditions (wildcards filled in), and whether an action of no
// service may be assumed denied. ok is false when the document has no
// such unconditional allow, or any Deny.
func probe(ss []statement) (action string, denyOthers, ok bool) {
	denyOthers = true
	for _, s := range ss {
		if s.Effect == "Deny" {
			return "", false, false
		}
		if s.NotAction != nil {
			denyOthers = false
		}
		for _, a := range strs(s.Action) {
			if strings.HasPrefix(a, "*") {
				denyOthers = false
			}
		}
	}
	for _, s := range ss {
		if s.Effect != "Allow" || s.Condition != nil || s.Action == nil {
			continue
		}
		if !contains(strs(s.Resource), "*") {
			continue
		}
		if acts := strs(s.Action); len(acts) > 0 && action == "" {
			action = strings.ReplaceAll(acts[0], "*", "Probe")
			action = strings.ReplaceAll(action, "?", "P")
			if !strings.Contains(action, ":") {
				action = "s3:GetObject" // "*"
			}
		}
	}
	return action, denyOthers, action != ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestAWSManagedSample: a random sample of AWS managed policies (the seed
// is logged) attach to a user, show in ListEntitiesForPolicy, GetPolicy,
// GetAccountAuthorizationDetails, and evaluate: the simulator allows an
// action each one allows unconditionally, naming the policy as the source.
func TestAWSManagedSample(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	ps := listAWSPolicies(t, c, 1000)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	sample := []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}
	for _, i := range r.Perm(len(ps)) {
		if len(sample) == 32 {
			break
		}
		if arn := aws.ToString(ps[i].Arn); !slices.Contains(sample, arn) {
			sample = append(sample, arn) // each once: the counts below expect one attachment
		}
	}
	evaluated := 0
	for i, arn := range sample {
		user := fmt.Sprintf("u%d", i)
		userARN := "arn:aws:iam::000000000000:user/" + user
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}))(t)
		must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}))(t)

		p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
		if aws.ToInt32(p.AttachmentCount) != 1 {
			t.Fatalf("%s: AttachmentCount %d, want 1", arn, aws.ToInt32(p.AttachmentCount))
		}
		ents := must(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}))(t)
		if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != user {
			t.Fatalf("%s: ListEntitiesForPolicy %+v", arn, ents.PolicyUsers)
		}
		v := must(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.DefaultVersionId}))(t).PolicyVersion
		doc, err := url.QueryUnescape(aws.ToString(v.Document))
		if err != nil || !v.IsDefaultVersion {
			t.Fatalf("%s: default version %+v: %v", arn, v, err)
		}
		action, denyOthers, ok := probe(statements(t, doc))
		if !ok {
			continue
		}
		evaluated++
		sim := must(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(userARN),
			ActionNames: []string{action, "rampartprobe:DoNothing"}}))(t)
		res := sim.EvaluationResults
		if len(res) != 2 {
			t.Fatalf("%s: %d results", arn, len(res))
		}
		if res[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed {
			t.Fatalf("%s allows %s unconditionally; simulator says %s", arn, action, res[0].EvalDecision)
		}
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		if len(res[0].MatchedStatements) == 0 || aws.ToString(res[0].MatchedStatements[0].SourcePolicyId) != name ||
			res[0].MatchedStatements[0].SourcePolicyType != types.PolicySourceTypeAwsManaged {
			t.Fatalf("%s: matched statements %+v", arn, res[0].MatchedStatements)
		}
		if denyOthers && res[1].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Fatalf("%s: rampartprobe:DoNothing %s", arn, res[1].EvalDecision)
		}
	}
	if evaluated < 5 {
		t.Fatalf("only %d of %d sampled policies evaluated", evaluated, len(sample))
	}
	t.Logf("%d policies attached, %d evaluated", len(sample), evaluated)

	// GetAccountAuthorizationDetails lists the AWS managed policies in use,
	// each with every version, and only with Filter AWSManagedPolicy.
	used := map[string]bool{}
	for _, arn := range sample {
		used[arn] = true
	}
	listed := map[string]bool{}
	for _, f := range [][]types.EntityType{{types.EntityTypeAWSManagedPolicy}, {types.EntityTypeLocalManagedPolicy}} {
		var marker *string
		for {
			out := must(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: f, Marker: marker, MaxItems: aws.Int32(10)}))(t)
			for _, p := range out.Policies {
				if f[0] == types.EntityTypeLocalManagedPolicy {
					t.Fatalf("Filter LocalManagedPolicy lists %s", aws.ToString(p.Arn))
				}
				listed[aws.ToString(p.Arn)] = true
				if len(p.PolicyVersionList) == 0 {
					t.Fatalf("%s: no versions", aws.ToString(p.Arn))
				}
				for _, v := range p.PolicyVersionList {
					if aws.ToString(v.Document) == "" {
						t.Fatalf("%s %s: no document", aws.ToString(p.Arn), aws.ToString(v.VersionId))
					}
				}
			}
			if !out.IsTruncated {
				break
			}
			marker = out.Marker
		}
	}
	if len(listed) != len(used) {
		t.Fatalf("GetAccountAuthorizationDetails lists %d AWS managed policies, want the %d in use", len(listed), len(used))
	}
	for arn := range used {
		if !listed[arn] {
			t.Fatalf("GetAccountAuthorizationDetails misses %s", arn)
		}
	}

	// Detaching leaves the policy unused.
	must(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u0"), PolicyArn: aws.String(sample[0])}))(t)
	if p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(sample[0])}))(t).Policy; aws.ToInt32(p.AttachmentCount) != 0 {
		t.Fatalf("after detach: AttachmentCount %d", aws.ToInt32(p.AttachmentCount))
	}
}

// TestAWSManagedS3ReadOnly: AmazonS3ReadOnlyAccess allows reading S3 and
// nothing else, attached to a user or as a permissions boundary.
func TestAWSManagedS3ReadOnly(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	const s3ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}))(t)
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(s3ro)}))(t)
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bounded"), PermissionsBoundary: aws.String(s3ro)}))(t)
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bounded"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}))(t)
	for _, user := range []string{"reader", "bounded"} {
		for _, tc := range []struct {
			action string
			want   types.PolicyEvaluationDecisionType
		}{
			{"s3:GetObject", types.PolicyEvaluationDecisionTypeAllowed},
			{"s3:ListBucket", types.PolicyEvaluationDecisionTypeAllowed},
			{"s3:PutObject", types.PolicyEvaluationDecisionTypeImplicitDeny},
			{"s3:DeleteBucket", types.PolicyEvaluationDecisionTypeImplicitDeny},
			{"iam:CreateUser", types.PolicyEvaluationDecisionTypeImplicitDeny},
		} {
			sim := must(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/" + user),
				ActionNames: []string{tc.action}, ResourceArns: []string{"arn:aws:s3:::bucket/key"}}))(t)
			if got := sim.EvaluationResults[0].EvalDecision; got != tc.want {
				t.Errorf("%s %s: %s, want %s", user, tc.action, got, tc.want)
			}
		}
	}
	p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ro)}))(t).Policy
	if aws.ToInt32(p.AttachmentCount) != 1 || aws.ToInt32(p.PermissionsBoundaryUsageCount) != 1 {
		t.Fatalf("AttachmentCount %d, PermissionsBoundaryUsageCount %d", aws.ToInt32(p.AttachmentCount), aws.ToInt32(p.PermissionsBoundaryUsageCount))
	}
	ents := must(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ro), PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))(t)
	if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "bounded" {
		t.Fatalf("boundary users: %+v", ents.PolicyUsers)
	}
}

// TestAWSManagedVersions: every version of an AWS managed policy is there,
// older ones with their own documents; bad versions and unknown policies
// answer NoSuchEntity.
func TestAWSManagedVersions(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	const s3ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ro)}))(t).Policy
	vs := must(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(s3ro)}))(t).Versions
	if len(vs) < 3 {
		t.Fatalf("%d versions of AmazonS3ReadOnlyAccess, want at least 3", len(vs))
	}
	docs := map[string]string{}
	for i, v := range vs {
		if v.IsDefaultVersion != (aws.ToString(v.VersionId) == aws.ToString(p.DefaultVersionId)) || v.Document != nil {
			t.Fatalf("version %+v (default %s)", v, aws.ToString(p.DefaultVersionId))
		}
		if i > 0 && vs[i-1].CreateDate.Before(*v.CreateDate) {
			t.Fatalf("versions not newest first: %s before %s", aws.ToString(vs[i-1].VersionId), aws.ToString(v.VersionId))
		}
		got := must(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(s3ro), VersionId: v.VersionId}))(t).PolicyVersion
		doc, _ := url.QueryUnescape(aws.ToString(got.Document))
		if !json.Valid([]byte(doc)) || !strings.Contains(doc, `"s3:Get*"`) || got.IsDefaultVersion != v.IsDefaultVersion || !got.CreateDate.Equal(*v.CreateDate) {
			t.Fatalf("%s: %+v %s", aws.ToString(v.VersionId), got, doc)
		}
		docs[aws.ToString(v.VersionId)] = doc
	}
	if docs["v1"] == "" || docs["v1"] == docs[aws.ToString(p.DefaultVersionId)] {
		t.Fatalf("v1 %q and default %q should differ", docs["v1"], docs[aws.ToString(p.DefaultVersionId)])
	}

	// Older versions of a random sample of multi-version policies read back.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	ps := listAWSPolicies(t, c, 1000)
	checked := 0
	for _, i := range r.Perm(len(ps)) {
		if checked == 10 {
			break
		}
		arn := ps[i].Arn
		if aws.ToString(ps[i].DefaultVersionId) == "v1" {
			continue
		}
		vs := must(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn, MaxItems: aws.Int32(1000)}))(t).Versions
		for _, v := range vs {
			got := must(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: v.VersionId}))(t).PolicyVersion
			if doc, _ := url.QueryUnescape(aws.ToString(got.Document)); !json.Valid([]byte(doc)) || !strings.Contains(doc, "Statement") {
				t.Fatalf("%s %s: %q", aws.ToString(arn), aws.ToString(v.VersionId), doc)
			}
		}
		checked++
	}

	for _, tc := range []struct{ arn, version, msg string }{
		{s3ro, "v999", "Policy " + s3ro + " version v999 does not exist or is not attachable."},
		{"arn:aws:iam::aws:policy/NoSuchRampartPolicy", "v1", "Policy arn:aws:iam::aws:policy/NoSuchRampartPolicy was not found."},
	} {
		_, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(tc.arn), VersionId: aws.String(tc.version)})
		if msg := wantCode(t, err, "NoSuchEntity"); msg != tc.msg || status(err) != 404 {
			t.Fatalf("%s %s: %d %q, want 404 %q", tc.arn, tc.version, status(err), msg, tc.msg)
		}
	}
	// AWS managed policies are AWS's: no new versions, no deletion.
	_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(s3ro), PolicyDocument: aws.String(allowAll)})
	if err == nil {
		t.Fatal("CreatePolicyVersion on an AWS managed policy succeeded")
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(s3ro)}); err == nil {
		t.Fatal("DeletePolicy on an AWS managed policy succeeded")
	}
}

// TestAWSManagedSessionPolicy: an AWS managed policy passed to
// AssumeRole as a session policy limits the session.
func TestAWSManagedSessionPolicy(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), AssumeRolePolicyDocument: aws.String(trustAccount)}))(t)
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	newUser(t, srv, c, "caller")
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("caller"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("caller")}))(t).AccessKey
	stsc := sts.NewFromConfig(srv.ConfigFor(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), ""))
	for _, tc := range []struct {
		policy string
		want   bool // CreateUser allowed
	}{
		{"arn:aws:iam::aws:policy/IAMReadOnlyAccess", false},
		{"arn:aws:iam::aws:policy/IAMFullAccess", true},
	} {
		out := must(stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/admin"),
			RoleSessionName: aws.String("sess"), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String(tc.policy)}}}))(t)
		cr := out.Credentials
		sc := iam.NewFromConfig(srv.ConfigFor(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)))
		must(sc.ListUsers(ctx, &iam.ListUsersInput{}))(t)
		name := "via-" + tc.policy[strings.LastIndexByte(tc.policy, '/')+1:]
		_, err := sc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		if tc.want && err != nil || !tc.want && err == nil {
			t.Fatalf("session policy %s: CreateUser: %v", tc.policy, err)
		}
		if !tc.want {
			wantCode(t, err, "AccessDenied")
		}
	}
	_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/admin"),
		RoleSessionName: aws.String("sess"), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/NoSuchRampartPolicy")}}})
	if err == nil {
		t.Fatal("AssumeRole with an unknown AWS managed session policy succeeded")
	}
}
