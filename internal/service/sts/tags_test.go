package sts_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rampart/rampart/internal/authn"
)

func tags(kv ...string) []ststypes.Tag {
	var out []ststypes.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, ststypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// TestSessionTagsAndSourceIdentity: session tags need sts:TagSession, a
// source identity sts:SetSourceIdentity; transitive tags and the source
// identity ride along a role chain and cannot be changed there.
func TestSessionTagsAndSourceIdentity(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	plain := e.role("/", "plain", trustUser(userARN("alice")), 0, allowSTS)
	// Tagging is allowed only with project=alpha.
	tagTrust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":%q},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]},
		{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/project":"alpha"}}}]}`,
		userARN("alice"), userARN("alice"))
	tagged := e.role("/", "tagged", tagTrust, 0, allowSTS)
	next := e.role("/", "next", trustUser("arn:aws:iam::000000000000:role/tagged", "sts:TagSession", "sts:SetSourceIdentity"), 0, allowSTS)

	cases := []struct {
		name       string
		role       string
		tags       []ststypes.Tag
		transitive []string
		source     *string
		code, msg  string
		status     int
	}{
		{name: "tags without sts:TagSession", role: plain.ARN, tags: tags("project", "alpha"), code: "AccessDenied", status: 403,
			msg: "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::000000000000:role/plain"},
		{name: "tags allowed by condition", role: tagged.ARN, tags: tags("project", "alpha", "cost", "42"), transitive: []string{"project"}},
		{name: "tag value the condition refuses", role: tagged.ARN, tags: tags("project", "beta"), code: "AccessDenied", status: 403, msg: "sts:TagSession"},
		{name: "transitive key not among the tags", role: tagged.ARN, tags: tags("project", "alpha"), transitive: []string{"cost"}, code: "InvalidParameterValue", status: 400, msg: "transitive tag key"},
		{name: "transitive keys without tags", role: plain.ARN, transitive: []string{"cost"}, code: "InvalidParameterValue", status: 400, msg: "transitive tag key"},
		{name: "duplicate keys differing in case", role: tagged.ARN, tags: tags("project", "alpha", "Project", "alpha"), code: "InvalidParameterValue", status: 400, msg: "Duplicate tag keys"},
		{name: "reserved prefix", role: tagged.ARN, tags: tags("project", "alpha", "aws:x", "y"), code: "InvalidParameterValue", status: 400, msg: "aws:"},
		{name: "51 tags (the model)", role: tagged.ARN, tags: func() []ststypes.Tag {
			var kv []string
			for i := 0; i < 51; i++ {
				kv = append(kv, fmt.Sprintf("k%d", i), "v")
			}
			return tags(kv...)
		}(), code: "ValidationError", status: 400, msg: "tags"},
		{name: "source identity without sts:SetSourceIdentity", role: plain.ARN, source: aws.String("alice@example.com"), code: "AccessDenied", status: 403, msg: "sts:SetSourceIdentity"},
		{name: "source identity allowed", role: tagged.ARN, source: aws.String("alice@example.com")},
		{name: "source identity with the reserved prefix", role: tagged.ARN, source: aws.String("aws:me"), code: "ValidationError", status: 400, msg: "aws:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &tc.role, RoleSessionName: aws.String("tags"),
				Tags: tc.tags, TransitiveTagKeys: tc.transitive, SourceIdentity: tc.source})
			if tc.code != "" {
				wantError(t, err, tc.code, tc.status, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.tags) > 0 && out.PackedPolicySize == nil {
				t.Error("no PackedPolicySize with session tags")
			}
			if aws.ToString(out.SourceIdentity) != aws.ToString(tc.source) {
				t.Errorf("SourceIdentity = %q", aws.ToString(out.SourceIdentity))
			}
		})
	}

	// The chain: alice → tagged (project=alpha transitive, cost=42 not;
	// source identity set) → next.
	first, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &tagged.ARN, RoleSessionName: aws.String("one"),
		Tags: tags("project", "alpha", "cost", "42"), TransitiveTagKeys: []string{"project"}, SourceIdentity: aws.String("alice@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	s1 := e.client(first.Credentials)
	second, err := s1.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &next.ARN, RoleSessionName: aws.String("two"), Tags: tags("step", "2")})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := authn.OpenSession(e.Barrier, *second.Credentials.AccessKeyId, *second.Credentials.SessionToken, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	s := cred.Principal.Session
	if want := map[string]string{"project": "alpha", "step": "2"}; !reflect.DeepEqual(s.Tags, want) {
		t.Errorf("chained session tags = %v, want %v (cost was not transitive)", s.Tags, want)
	}
	keys := append([]string(nil), s.TransitiveTagKeys...)
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"project"}) || s.SourceIdentity != "alice@example.com" || !s.Chained {
		t.Errorf("chained session: transitive %v, source identity %q, chained %v", keys, s.SourceIdentity, s.Chained)
	}
	if aws.ToString(second.SourceIdentity) != "alice@example.com" {
		t.Errorf("response SourceIdentity = %q", aws.ToString(second.SourceIdentity))
	}
	// A transitive tag cannot be overridden, nor the source identity changed.
	_, err = s1.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &next.ARN, RoleSessionName: aws.String("two"), Tags: tags("Project", "beta")})
	wantError(t, err, "InvalidParameterValue", 400, "transitive tag key")
	_, err = s1.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &next.ARN, RoleSessionName: aws.String("two"), SourceIdentity: aws.String("mallory")})
	wantError(t, err, "AccessDenied", 403, "source identity is already set")
}
