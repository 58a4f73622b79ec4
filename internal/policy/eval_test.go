package policy

import (
	"reflect"
	"strings"
	"testing"
)

const acct = "111111111111"

func user(name string) Principal {
	return Principal{Type: PrincipalUser, ARN: "arn:aws:iam::" + acct + ":user/" + name, Account: acct}
}

func idp(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc), KindManaged)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rp(t *testing.T, doc string, k Kind) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc), k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}`

func TestServiceAndAnonymous(t *testing.T) {
	bucket := rp(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::logs/public/*"}]}`, KindResource)
	svc := Principal{Type: PrincipalService, Service: "cloudtrail.amazonaws.com"}
	anon := Principal{Type: PrincipalAnonymous}
	tests := []struct {
		p    Principal
		act  string
		res  string
		want Result
	}{
		{svc, "s3:PutObject", "arn:aws:s3:::logs/a", Allow},
		{svc, "s3:DeleteObject", "arn:aws:s3:::logs/a", ImplicitDeny},
		{anon, "s3:GetObject", "arn:aws:s3:::logs/public/a", Allow},
		{anon, "s3:GetObject", "arn:aws:s3:::logs/private/a", ImplicitDeny},
		{Principal{Type: PrincipalService, Service: "lambda.amazonaws.com"}, "s3:PutObject", "arn:aws:s3:::logs/a", ImplicitDeny},
	}
	for _, tc := range tests {
		req := &Request{Principal: tc.p, Action: tc.act, Resource: tc.res, ResourceAccount: acct}
		// SCPs do not apply to service principals or anonymous callers.
		in := &Input{Resource: bucket, SCPs: [][]*Policy{{idp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)}}}
		if d := Evaluate(req, in); d.Result != tc.want {
			t.Errorf("%+v %s %s: %v", tc.p, tc.act, tc.res, d.Result)
		}
	}
	d := Evaluate(&Request{Principal: anon, Action: "s3:GetObject", Resource: "arn:aws:s3:::x/y"}, &Input{})
	if m := d.Message(&Request{Principal: anon, Action: "s3:GetObject", Resource: "arn:aws:s3:::x/y"}); !strings.HasPrefix(m, "User: anonymous is not authorized") {
		t.Error(m)
	}
	if m := d.Message(&Request{Principal: svc, Action: "s3:GetObject"}); !strings.HasPrefix(m, "User: cloudtrail.amazonaws.com is not authorized to perform: s3:GetObject because") {
		t.Error(m)
	}
	// NotPrincipal naming the service excludes it.
	np := rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:*","Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindResource)
	if d := Evaluate(&Request{Principal: svc, Action: "s3:PutObject", Resource: "arn:aws:s3:::l/a"}, &Input{Resource: np}); d.Result != Allow {
		t.Error("service excluded by NotPrincipal", d.Result)
	}
	if d := Evaluate(&Request{Principal: anon, Action: "s3:PutObject", Resource: "arn:aws:s3:::l/a"}, &Input{Resource: np}); d.Result != ExplicitDeny {
		t.Error("anonymous denied by NotPrincipal", d.Result)
	}
}

func TestFlags(t *testing.T) {
	req := &Request{Principal: user("dev"), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: acct}
	deny := idp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)
	rcpDeny := rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindRCP)
	in := &Input{Identity: []*Policy{idp(t, allowAll)}, SCPs: [][]*Policy{{deny}}, RCPs: [][]*Policy{{rcpDeny}}}
	d := Evaluate(req, in)
	if d.Result != ExplicitDeny || d.Type != TypeSCP {
		t.Fatal(d.Result, d.Type)
	}
	in.ManagementAccount = true
	if d = Evaluate(req, in); d.Result != ExplicitDeny || d.Type != TypeRCP {
		t.Fatal(d.Result, d.Type)
	}
	in.ResourceInManagementAccount = true
	if d = Evaluate(req, in); d.Result != Allow {
		t.Fatal(d.Result, d.Type)
	}
	// Root flag: identity policies and boundaries do not limit the root user.
	in = &Input{Root: true, Identity: []*Policy{deny}, Boundary: idp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)}
	if d = Evaluate(req, in); d.Result != Allow {
		t.Fatal("root", d.Result, d.Type)
	}
	// Session policies for a federated user.
	fed := Principal{Type: PrincipalFederated, ARN: "arn:aws:sts::" + acct + ":federated-user/bob", Account: acct}
	in = &Input{Identity: []*Policy{idp(t, allowAll)}, Session: []*Policy{rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`, KindSession),
		rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`, KindSession)}}
	if d = Evaluate(&Request{Principal: fed, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, in); d.Result != Allow {
		t.Fatal("federated", d.Result, d.Type)
	}
	if d = Evaluate(&Request{Principal: fed, Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"}, in); d.Result != ImplicitDeny || d.Type != TypeSession {
		t.Fatal("federated put", d.Result, d.Type)
	}
}

func TestExplain(t *testing.T) {
	u := user("dev")
	req := &Request{Principal: u, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: acct}
	s3only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	kmsOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`
	denyS3 := `{"Version":"2012-10-17","Statement":[{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	pre := "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k "
	crossReq := &Request{Principal: u, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: "222222222222"}
	tests := map[string]struct {
		req  *Request
		in   *Input
		want string
	}{
		"no identity": {req, &Input{}, "because no identity-based policy allows the s3:GetObject action"},
		"identity deny": {req, &Input{Identity: []*Policy{idp(t, allowAll), idp(t, denyS3).Named("Guard")}},
			"with an explicit deny in an identity-based policy"},
		"scp deny": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, SCPs: [][]*Policy{{idp(t, allowAll), idp(t, denyS3)}}},
			"with an explicit deny in a service control policy"},
		"scp missing": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, SCPs: [][]*Policy{{idp(t, allowAll)}, {idp(t, kmsOnly)}}},
			"because no service control policy allows the s3:GetObject action"},
		"rcp deny": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, RCPs: [][]*Policy{{rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindRCP)}}},
			"with an explicit deny in a resource control policy"},
		"boundary": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, Boundary: idp(t, kmsOnly)},
			"because no permissions boundary allows the s3:GetObject action"},
		"boundary deny": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, Boundary: idp(t, denyS3)},
			"with an explicit deny in a permissions boundary"},
		"session": {req, &Input{Identity: []*Policy{idp(t, s3only)}, Session: []*Policy{idp(t, kmsOnly)}},
			"because no session policy allows the s3:GetObject action"},
		"session deny": {req, &Input{Identity: []*Policy{idp(t, s3only)}, Session: []*Policy{idp(t, denyS3)}},
			"with an explicit deny in a session policy"},
		"resource cross": {crossReq, &Input{Identity: []*Policy{idp(t, allowAll)}},
			"because no resource-based policy allows the s3:GetObject action"},
		"resource deny": {req, &Input{Identity: []*Policy{idp(t, allowAll)}, Resource: rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindResource)},
			"with an explicit deny in a resource-based policy"},
		"cross no identity": {crossReq, &Input{Resource: rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindResource)},
			"because no identity-based policy allows the s3:GetObject action"},
		"kms needs key policy": {&Request{Principal: u, Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111111111111:key/k"},
			&Input{Identity: []*Policy{idp(t, allowAll)}, Resource: rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/other"},"Action":"kms:*","Resource":"*"}]}`, KindKeyPolicy)},
			"because no resource-based policy allows the kms:Decrypt action"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := Evaluate(tc.req, tc.in)
			msg := d.Message(tc.req)
			if !strings.HasSuffix(msg, tc.want) {
				t.Fatalf("message %q\nwant suffix %q", msg, tc.want)
			}
			if tc.req == req && !strings.HasPrefix(msg, pre) {
				t.Fatalf("message %q", msg)
			}
			if len(d.Reasons(tc.req.Action)) == 0 {
				t.Fatal("no reasons")
			}
		})
	}
	// The deciding statements of a denial and of an allow.
	d := Evaluate(req, &Input{Identity: []*Policy{idp(t, allowAll), idp(t, denyS3).Named("Guard")}})
	refs := d.Statements()
	if len(refs) != 1 || refs[0].Sid() != "NoS3" || refs[0].Index != 1 || refs[0].String() != `identity-based policy "Guard" Statement[0] (Sid "NoS3")` {
		t.Fatalf("%+v %s", refs, refs[0])
	}
	d = Evaluate(req, &Input{Identity: []*Policy{idp(t, allowAll)}, SCPs: [][]*Policy{{idp(t, allowAll)}}})
	if !d.Allowed() || d.Message(req) != "" || d.Reason("s3:GetObject") != "allowed by an identity-based policy" {
		t.Fatal(d.Result)
	}
	want := []string{"allowed by an identity-based policy", "service control policy level 0 #0 Statement[0] (Sid \"All\")", "identity-based policy #0 Statement[0] (Sid \"All\")"}
	if got := d.Reasons("s3:GetObject"); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q", got)
	}
	d = Evaluate(req, &Input{SCPs: [][]*Policy{{idp(t, kmsOnly)}}})
	if got := d.Reasons("s3:GetObject"); got[0] != "because no service control policy allows the s3:GetObject action (level 0)" {
		t.Fatalf("%q", got)
	}
	if (StatementRef{}).Sid() != "" {
		t.Fatal("empty ref")
	}
	if s := (StatementRef{Type: TypeResource, Policy: idp(t, allowAll)}).String(); s != `resource-based policy Statement[0] (Sid "All")` {
		t.Fatal(s)
	}
}

func TestContext(t *testing.T) {
	c := NewContext(4)
	c.Set("AWS:UserName", "alice")
	c.SetMulti("aws:TagKeys", "a", "b")
	c.Set("aws:username", "bob") // replaces
	if c.Len() != 2 {
		t.Fatal(c.Len())
	}
	if v, multi, ok := c.Get("aws:USERNAME"); !ok || multi || v[0] != "bob" {
		t.Fatal(v, multi, ok)
	}
	if v, multi, ok := c.Get("aws:tagkeys"); !ok || !multi || len(v) != 2 {
		t.Fatal(v)
	}
	if _, ok := c.single("aws:tagkeys"); ok {
		t.Fatal("multivalued as variable")
	}
	c.Delete("aws:TagKeys")
	c.Delete("aws:nothing")
	if _, _, ok := c.Get("aws:TagKeys"); ok || c.Len() != 1 {
		t.Fatal("delete")
	}
	var nilc *Context
	if nilc.Len() != 0 || nilc.lookup("x") != nil {
		t.Fatal("nil context")
	}
}

func TestPrincipalFromARN(t *testing.T) {
	tests := map[string]Principal{
		"arn:aws:iam::111111111111:user/dev/alice":           {Type: PrincipalUser, ARN: "arn:aws:iam::111111111111:user/dev/alice", Account: acct},
		"arn:aws:iam::111111111111:root":                     {Type: PrincipalRoot, ARN: "arn:aws:iam::111111111111:root", Account: acct},
		"arn:aws:sts::111111111111:assumed-role/App/s1":      {Type: PrincipalAssumedRole, ARN: "arn:aws:sts::111111111111:assumed-role/App/s1", Account: acct, RoleARN: "arn:aws:iam::111111111111:role/App"},
		"arn:aws:sts::111111111111:federated-user/bob":       {Type: PrincipalFederated, ARN: "arn:aws:sts::111111111111:federated-user/bob", Account: acct},
		"arn:aws-cn:sts::111111111111:assumed-role/App/s1/x": {Type: PrincipalAssumedRole, ARN: "arn:aws-cn:sts::111111111111:assumed-role/App/s1/x", Account: acct, RoleARN: "arn:aws-cn:iam::111111111111:role/App/s1"},
		// Identity providers stand for their web identity and SAML callers.
		"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com": {Type: PrincipalWebIdentity, Provider: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
		"arn:aws:iam::111111111111:saml-provider/Okta":                                {Type: PrincipalSAML, Provider: "arn:aws:iam::111111111111:saml-provider/Okta"},
	}
	for s, want := range tests {
		got, err := PrincipalFromARN(s)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", s, got, err)
		}
	}
	if _, err := PrincipalFromARN("alice"); err == nil {
		t.Error("want error")
	}
	r := Request{Principal: user("a"), Resource: "arn:aws:kms:us-east-1:222222222222:key/k"}
	if r.resourceAccount() != "222222222222" {
		t.Error("resource account from ARN")
	}
	r.Resource = "*"
	if r.resourceAccount() != acct {
		t.Error("resource account default")
	}
}

func TestConditionEdges(t *testing.T) {
	ctx := NewContext(8)
	ctx.Set("aws:SourceIp", "::ffff:10.1.2.3")
	ctx.Set("aws:CurrentTime", "2025-01-16T16:57:14Z")
	ctx.Set("aws:EpochTime", "1737046634")
	ctx.Set("aws:MultiFactorAuthAge", "abc")
	ctx.Set("aws:PrincipalTag/x", "é")
	ctx.SetMulti("aws:TagKeys", "a", "b")
	ctx.Set("aws:bad", "2025-13-01")
	req := &Request{Principal: user("u"), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}
	tests := []struct {
		cond string
		want bool
	}{
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, true},
		{`{"IpAddress":{"aws:SourceIp":"10.1.2.3"}}`, true},
		{`{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, false},
		{`{"IpAddress":{"aws:CurrentTime":"10.0.0.0/8"}}`, false},
		{`{"DateEquals":{"aws:CurrentTime":"2025-01-16T17:57:14+01:00"}}`, true},
		{`{"DateLessThanEquals":{"aws:CurrentTime":"2025-01-16T16:57:14.000Z"}}`, true},
		{`{"DateGreaterThanEquals":{"aws:EpochTime":"1737046634"}}`, true},
		{`{"DateNotEquals":{"aws:EpochTime":"1737046634"}}`, false},
		{`{"DateLessThan":{"aws:bad":"2025-01-01"}}`, false},
		{`{"NumericEquals":{"aws:MultiFactorAuthAge":"1"}}`, false},
		{`{"NumericNotEquals":{"aws:MultiFactorAuthAge":"1"}}`, true},
		{`{"NumericGreaterThanEquals":{"aws:EpochTime":"1737046634"}}`, true},
		{`{"NumericLessThanEquals":{"aws:EpochTime":"1"}}`, false},
		{`{"StringEqualsIgnoreCase":{"aws:PrincipalTag/x":"É"}}`, true},
		{`{"StringLike":{"aws:TagKeys":"b"}}`, true},
		{`{"StringNotLike":{"aws:TagKeys":"b"}}`, false},
		{`{"ForAllValues:StringLike":{"aws:TagKeys":["a","b"]}}`, true},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":"c"}}`, false},
		{`{"ForAnyValue:StringEqualsIfExists":{"aws:nope":"c"}}`, true},
		{`{"ArnEquals":{"aws:nope":"arn:aws:s3:::b"}}`, false},
		{`{"ArnNotEquals":{"aws:nope":"arn:aws:s3:::b"}}`, true},
		{`{"BinaryEquals":{"aws:PrincipalTag/x":"QQ=="}}`, false},
		{`{"Bool":{"aws:PrincipalTag/x":"true"}}`, false},
		{`{"StringEquals":{"aws:PrincipalTag/x":"${aws:nope}"}}`, false},
		{`{"StringNotEquals":{"aws:PrincipalTag/x":"${aws:nope}"}}`, false},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":"${aws:nope}"}}`, false},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":"${aws:nope}"}}`, false},
		{`{"StringEqualsIgnoreCase":{"aws:PrincipalTag/x":"${aws:PrincipalTag/x}"}}`, true},
		{`{"ArnLike":{"aws:SourceIp":"${aws:nope, 'x'}"}}`, false},
		{`{"StringEquals":{"aws:PrincipalTag/x":"${aws:nope, x}"}}`, false},
		{`{"StringEquals":{"aws:PrincipalTag/x":"${ }é"}}`, false},
		{`{"StringLike":{"aws:PrincipalTag/x":"${aws:PrincipalTag/x"}}`, false},
	}
	for _, tc := range tests {
		p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tc.cond+`}]}`), KindManaged)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		if got := Evaluate(req, &Input{Identity: []*Policy{p}}).Result == Allow; got != tc.want {
			t.Errorf("%s: got %v", tc.cond, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	bad := []string{"", "2025-01-0", "2025-01-01X", "2025-01-01T1:00", "2025-01-01T25:00", "2025-01-01T10:61",
		"2025-01-01T10:00:61", "2025-01-01T10:00+0100", "2025-01-01T10:00+aa:00", "2025-aa-01", "2025-01-01T10:00:aa",
		"99999999999999999999", "2025/01/01"}
	for _, s := range bad {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
	a, _ := parseDate("2025-01-16T16:57:14Z")
	b, _ := parseDate("1737046634")
	c, _ := parseDate("2025-01-16t08:57:14-08:00")
	d, _ := parseDate("2025-01-16 16:57:14.000000000001Z")
	if !a.Equal(b) || !a.Equal(c) || !a.Equal(d) {
		t.Fatal(a, b, c, d)
	}
}

func TestTemplateEscapes(t *testing.T) {
	ctx := NewContext(1)
	ctx.Set("aws:username", "a*\x00?")
	tm := compileTmpl("x${aws:username}\x00${*}*", true, false)
	buf, ok := tm.expand(nil, ctx, true)
	if !ok || !matchEscaped(buf, "xa*\x00?\x00*anything", false) || matchEscaped(buf, "xaZ\x00?\x00*", false) {
		t.Fatalf("%q", buf)
	}
	if !matchEscaped([]byte("A?c"), "aéC", true) || matchEscaped([]byte("a"), "ab", false) {
		t.Fatal("matchEscaped")
	}
	if likeEscaped([]byte("arn:aws"), "arn:aws:s3:::b") || likeEscaped([]byte("arn:aws:s3:::b"), "arn:aws") ||
		likeEscaped([]byte("arn:aws:s4:::b"), "arn:aws:s3:::b") || !likeEscaped([]byte("arn:aws:s3:::\x00*"), "arn:aws:s3:::*") {
		t.Fatal("likeEscaped")
	}
	if runeLen("\xe3\x81") != 1 || runeLen("\xc3x") != 1 || runeLen("\xf0\x9f\x98\x80") != 4 {
		t.Fatal("runeLen")
	}
	if equalFoldBytes([]byte("ab"), "abc") || !equalFoldBytes([]byte("ÉA"), "éa") || equalFoldBytes([]byte("ab"), "ac") {
		t.Fatal("equalFoldBytes")
	}
}
