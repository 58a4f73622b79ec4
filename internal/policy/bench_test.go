package policy

import (
	"fmt"
	"strings"
	"testing"
)

func benchContext() *Context {
	ctx := NewContext(16)
	ctx.Set("aws:PrincipalArn", "arn:aws:iam::111111111111:role/App")
	ctx.Set("aws:PrincipalAccount", "111111111111")
	ctx.Set("aws:userid", "AROAEXAMPLE:s1")
	ctx.Set("aws:username", "alice")
	ctx.Set("aws:PrincipalTag/team", "blue")
	ctx.Set("aws:PrincipalTag/project", "zeus")
	ctx.Set("aws:ResourceTag/team", "blue")
	ctx.Set("aws:SourceIp", "10.1.2.3")
	ctx.Set("aws:SecureTransport", "true")
	ctx.Set("aws:CurrentTime", "2025-01-16T16:57:14Z")
	ctx.Set("aws:RequestedRegion", "us-east-1")
	ctx.Set("aws:MultiFactorAuthAge", "300")
	ctx.SetMulti("aws:TagKeys", "team", "env")
	return ctx
}

func benchRequest() *Request {
	return &Request{
		Principal: Principal{Type: PrincipalAssumedRole, ARN: "arn:aws:sts::111111111111:assumed-role/App/s1",
			Account: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/App"},
		Action: "s3:GetObject", Resource: "arn:aws:s3:::corp-data/home/alice/report.csv",
		ResourceAccount: "111111111111", Context: benchContext(),
	}
}

var benchServices = []string{"s3", "kms", "secretsmanager", "iam", "sts", "dynamodb", "ec2", "sqs", "sns", "lambda"}

// policyOf builds a policy of n statements with conditions; statement i
// targets service i%len(benchServices), and the last one allows the
// benchmark request when allow is set.
func policyOf(b *testing.B, n int, seed int, allow bool) *Policy {
	var st []string
	for i := 0; i < n; i++ {
		svc := benchServices[(i+seed)%len(benchServices)]
		eff := "Allow"
		if i%4 == 3 {
			eff = "Deny"
		}
		st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":%q,"Action":["%s:Get*","%s:List*","%s:Describe%d"],"Resource":"arn:aws:%s:::corp-%d/*",
			"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"BoolIfExists":{"aws:SecureTransport":"true"}}}`,
			i, eff, svc, svc, svc, i, svc, i))
	}
	if allow {
		st = append(st, `{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-data/home/*",
			"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}`)
	}
	doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
	p, err := parse([]byte(doc), KindManaged, true)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func runBench(b *testing.B, req *Request, in *Input, want Result) {
	if d := Evaluate(req, in); d.Result != want {
		b.Fatalf("got %v (%v), want %v", d.Result, d.Type, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(req, in)
	}
}

// BenchmarkTypical: 10 attached policies of 5 statements with conditions.
func BenchmarkTypical(b *testing.B) {
	in := &Input{}
	for i := 0; i < 10; i++ {
		in.Identity = append(in.Identity, policyOf(b, 5, i, i == 9))
	}
	runBench(b, benchRequest(), in, Allow)
}

// BenchmarkLargeRole: a role with 10 managed policies of 100 statements.
func BenchmarkLargeRole(b *testing.B) {
	in := &Input{}
	for i := 0; i < 10; i++ {
		in.Identity = append(in.Identity, policyOf(b, 100, i, i == 9))
	}
	runBench(b, benchRequest(), in, Allow)
}

// BenchmarkLargeRoleOneService: a role with 10 managed policies of 100
// statements, all for the request's service (S3), each naming its own
// actions and action patterns; only the last statement can match the
// request's action. With statements indexed by action name and pattern
// prefix, the cost does not grow with the 1,000 that cannot match.
func BenchmarkLargeRoleOneService(b *testing.B) {
	in := &Input{}
	for p := 0; p < 10; p++ {
		var st []string
		for i := 0; i < 100; i++ {
			eff := "Allow"
			if i%4 == 3 {
				eff = "Deny"
			}
			n := p*100 + i
			st = append(st, fmt.Sprintf(`{"Effect":%q,"Action":["s3:Describe%d","s3:PutObject%dTagging","s3:List%d*","s3:Get%dObject?"],"Resource":"arn:aws:s3:::corp-%d/*",
				"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, eff, n, n, n, n, n))
		}
		if p == 9 {
			st = append(st, `{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-data/home/*",
				"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`)
		}
		pol, err := parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(st, ",")+`]}`), KindManaged, true)
		if err != nil {
			b.Fatal(err)
		}
		in.Identity = append(in.Identity, pol)
	}
	runBench(b, benchRequest(), in, Allow)
}

// BenchmarkVariables: many statements whose resources and conditions
// substitute policy variables.
func BenchmarkVariables(b *testing.B) {
	var st []string
	for i := 0; i < 20; i++ {
		st = append(st, fmt.Sprintf(`{"Effect":"Allow","Action":"s3:GetObject",
			"Resource":["arn:aws:s3:::corp-%d/${aws:PrincipalTag/project}/${aws:username}/*","arn:aws:s3:::corp-data/${aws:PrincipalTag/team}-%d/${aws:userid}/*"],
			"Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/${aws:PrincipalTag/project, 'none'}*"},
			"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`, i, i))
	}
	st = append(st, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-data/home/${aws:username}/*",
		"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}}`)
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(st, ",")+`]}`), KindRoleInline)
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, benchRequest(), &Input{Identity: []*Policy{p}}, Allow)
}

// BenchmarkSCPChain: five SCP levels (root, three OUs, account), each with
// FullAWSAccess or a narrower allow plus region and service guardrails.
func BenchmarkSCPChain(b *testing.B) {
	full := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, KindSCP)
	guard := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:*","kms:*","secretsmanager:*","sts:*"],"Resource":"*"},
		{"Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}},
		{"Effect":"Deny","Action":["s3:DeleteBucket","kms:ScheduleKeyDeletion"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}}]}`, KindSCP)
	in := &Input{
		Identity: []*Policy{policyOf(b, 5, 0, true)},
		SCPs:     [][]*Policy{{full}, {full, guard}, {guard}, {full}, {full, guard}},
	}
	runBench(b, benchRequest(), in, Allow)
}

// BenchmarkParse measures parsing one typical managed policy.
func BenchmarkParse(b *testing.B) {
	p := policyOf(b, 5, 0, true)
	_ = p
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::corp/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, KindManaged); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseManyActions measures parsing an AWS managed policy of the
// ReadOnlyAccess kind: one statement listing 2,000 actions and patterns of
// 50 services (no size quota: KindAWSManaged).
func BenchmarkParseManyActions(b *testing.B) {
	var acts []string
	for i := 0; i < 2000; i++ {
		svc := fmt.Sprintf("svc%d", i%50)
		switch i % 4 {
		case 0:
			acts = append(acts, fmt.Sprintf(`"%s:Get%d*"`, svc, i))
		case 1:
			acts = append(acts, fmt.Sprintf(`"%s:List*"`, svc))
		default:
			acts = append(acts, fmt.Sprintf(`"%s:Describe%dThing"`, svc, i))
		}
	}
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(acts, ",") + `],"Resource":"*"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, KindAWSManaged); err != nil {
			b.Fatal(err)
		}
	}
}
