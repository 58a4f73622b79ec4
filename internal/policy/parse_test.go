package policy

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	tests := map[string]struct {
		doc  string
		kind Kind
		code string
		msg  string
		path string
	}{
		"syntax":             {`{`, KindManaged, CodeMalformed, "Syntax errors in policy.", ""},
		"trailing":           {`{"Statement":[]} x`, KindManaged, CodeMalformed, "Syntax errors in policy.", ""},
		"not object":         {`[]`, KindManaged, CodeMalformed, "Syntax errors in policy.", ""},
		"unknown top":        {`{` + v + `"Foo":1,"Statement":[]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Foo"},
		"unknown top S3":     {`{` + v + `"Foo":1,"Statement":[]}`, KindResource, CodeMalformed, "Unknown field Foo", "Foo"},
		"bad version":        {`{"Version":"2013-10-17","Statement":[]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Version"},
		"version type":       {`{"Version":1,"Statement":[]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Version"},
		"bad version S3":     {`{"Version":"2012-10-18","Statement":[]}`, KindResource, CodeMalformed, "The policy failed legacy parsing", "Version"},
		"id type":            {`{"Id":1,"Statement":[]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Id"},
		"no statement":       {`{` + v[:len(v)-1] + `}`, KindManaged, CodeMalformed, "Syntax errors in policy.", ""},
		"no statement S3":    {`{` + v[:len(v)-1] + `}`, KindResource, CodeMalformed, "Missing required field Statement", ""},
		"empty statement":    {`{` + v + `"Statement":[]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement"},
		"statement string":   {`{` + v + `"Statement":"x"}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement"},
		"statement elem":     {`{` + v + `"Statement":["x"]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0]"},
		"unknown stmt":       {`{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condtion":{}}}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement.Condtion"},
		"unknown stmt S3":    {`{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condtion":{}}}`, KindResource, CodeMalformed, "Unknown field Condtion", "Statement.Condtion"},
		"no effect":          {`{` + v + `"Statement":[{"Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0]"},
		"no effect S3":       {`{` + v + `"Statement":[{"Principal":"*","Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Missing required field Effect", "Statement[0]"},
		"bad effect":         {`{` + v + `"Statement":[{"Effect":"Alow","Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Effect"},
		"effect type":        {`{` + v + `"Statement":[{"Effect":true,"Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Effect"},
		"effect case":        {`{` + v + `"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "The policy failed legacy parsing", "Statement[0].Effect"},
		"effect case trust":  {`{` + v + `"Statement":[{"Effect":"DENY","Principal":"*","Action":"sts:AssumeRole"}]}`, KindTrust, CodeMalformed, "The policy failed legacy parsing", "Statement[0].Effect"},
		"bad effect S3":      {`{` + v + `"Statement":[{"Effect":"allow","Principal":"*","Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Invalid effect: allow", "Statement[0].Effect"},
		"no action":          {`{` + v + `"Statement":[{"Effect":"Allow","Resource":"*"}]}`, KindManaged, CodeMalformed, "Policy statement must contain actions.", "Statement[0]"},
		"empty action":       {`{` + v + `"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, KindManaged, CodeMalformed, "Policy statement must contain actions.", "Statement[0].Action"},
		"both actions":       {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0]"},
		"action type":        {`{` + v + `"Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Action[0]"},
		"action object":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":{},"Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Action"},
		"action prefix":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, KindManaged, CodeMalformed, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "Statement[0].Action[0]"},
		"empty notaction":    {`{` + v + `"Statement":[{"Effect":"Allow","NotAction":"","Resource":"*"}]}`, KindManaged, CodeMalformed, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "Statement[0].NotAction[0]"},
		"vendor wildcard":    {`{` + v + `"Statement":[{"Effect":"Allow","Action":["s3:GetObject","*:Untag*"],"Resource":"*"}]}`, KindManaged, CodeMalformed, "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards", "Statement[0].Action[1]"},
		"vendor wildcard2":   {`{` + v + `"Statement":[{"Effect":"Allow","Action":"s?:Get*","Resource":"*"}]}`, KindSession, CodeMalformed, "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards", "Statement[0].Action[0]"},
		"action colons":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:a:b","Resource":"*"}]}`, KindManaged, CodeMalformed, "Actions/Condition can contain only one colon.", "Statement[0].Action[0]"},
		"action vendor":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"s 3:Get","Resource":"*"}]}`, KindManaged, CodeMalformed, "Vendor s 3 is not valid", "Statement[0].Action[0]"},
		"no resource":        {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*"}]}`, KindManaged, CodeMalformed, "Policy statement must contain resources.", "Statement[0]"},
		"empty resource":     {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":[]}]}`, KindManaged, CodeMalformed, "Policy statement must contain resources.", "Statement[0].Resource"},
		"resource type":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":5}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Resource"},
		"both resources":     {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0]"},
		"bad resource":       {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"bucket"}]}`, KindManaged, CodeMalformed, `Resource bucket must be in ARN format or "*".`, "Statement[0].Resource[0]"},
		"short arn":          {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3"}]}`, KindManaged, CodeMalformed, `Resource arn:aws:s3 must be in ARN format or "*".`, "Statement[0].Resource[0]"},
		"principal in id":    {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, KindUserInline, CodeMalformed, "Policy document should not specify a principal.", "Statement[0]"},
		"principal in scp":   {`{` + v + `"Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}]}`, KindSCP, CodeMalformed, "Policy document should not specify a principal.", "Statement[0]"},
		"both principals":    {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Syntax errors in policy.", "Statement[0]"},
		"no principal":       {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Missing required field Principal", "Statement[0]"},
		"trust resource":     {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, KindTrust, CodeMalformed, "Has prohibited field Resource", "Statement[0].Resource"},
		"trust notresource":  {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}]}`, KindTrust, CodeMalformed, "Has prohibited field NotResource", "Statement[0].NotResource"},
		"bad principal str":  {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"bob","Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "bob"`, "Statement[0].Principal"},
		"bad principal aws":  {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "AWS":"bob"`, "Statement[0].Principal.AWS"},
		"bad principal arn":  {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::b"},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "AWS":"arn:aws:s3:::b"`, "Statement[0].Principal.AWS"},
		"bad principal key":  {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"Bob":"x"},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "Bob"`, "Statement[0].Principal.Bob"},
		"empty service":      {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"Service":""},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "Service":""`, "Statement[0].Principal.Service"},
		"empty federated":    {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"Federated":""},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "Federated":""`, "Statement[0].Principal.Federated"},
		"empty canonical":    {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"CanonicalUser":""},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, `Invalid principal in policy: "CanonicalUser":""`, "Statement[0].Principal.CanonicalUser"},
		"principal list":     {`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":[1]},"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Syntax errors in policy.", "Statement[0].Principal.AWS[0]"},
		"principal type":     {`{` + v + `"Statement":[{"Effect":"Allow","Principal":[],"Action":"*","Resource":"*"}]}`, KindResource, CodeMalformed, "Syntax errors in policy.", "Statement[0].Principal"},
		"sid type":           {`{` + v + `"Statement":[{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Sid"},
		"sid chars":          {`{` + v + `"Statement":[{"Sid":"a b","Effect":"Allow","Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*", "Statement[0].Sid"},
		"sid dup":            {`{` + v + `"Statement":[{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"*","Resource":"*"}]}`, KindManaged, CodeMalformed, "Statement IDs (SID) in a single policy must be unique.", "Statement[1].Sid"},
		"cond type":          {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition"},
		"cond op":            {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:x":"y"}}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.StringEqual"},
		"cond op S3":         {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:x":"y"}}}]}`, KindResource, CodeMalformed, "Invalid Condition type : StringEqual", "Statement[0].Condition.StringEqual"},
		"null ifexists":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.NullIfExists"},
		"null ifexists SCP":  {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}}]}`, KindSCP, CodeMalformed, "Invalid Condition type : NullIfExists", "Statement[0].Condition.NullIfExists"},
		"cond op set twice":  {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue::StringEqualsIfExists":{"aws:x":"y"}}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.ForAnyValue::StringEqualsIfExists"},
		"cond block":         {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.StringEquals"},
		"cond key":           {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"x":"y"}}}]}`, KindManaged, CodeMalformed, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "Statement[0].Condition.StringEquals.x"},
		"cond value":         {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":{}}}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.StringEquals.aws:x"},
		"cond value elem":    {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":[null]}}}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[0].Condition.StringEquals.aws:x[0]"},
		"numeric value":      {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"aws:x":"ten"}}}]}`, KindManaged, CodeMalformed, "Invalid numeric value ten", "Statement[0].Condition.NumericEquals.aws:x[0]"},
		"date value":         {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateEquals":{"aws:x":"yesterday"}}}]}`, KindManaged, CodeMalformed, "The policy failed legacy parsing", "Statement[0].Condition.DateEquals.aws:x[0]"},
		"date value S3":      {`{` + v + `"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAnyValue:DateEqualsIfExists":{"aws:x":"yesterday"}}}]}`, KindResource, CodeMalformed, "Invalid date value yesterday", "Statement[0].Condition.ForAnyValue:DateEqualsIfExists.aws:x[0]"},
		"trust not JSON":     {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":ec2.amazonaws.com},"Action":"sts:AssumeRole"}]}`, KindTrust, CodeMalformed, "This policy contains invalid Json", ""},
		"trust trailing":     {`{"Version":"2012-10-17","Statement":[]} {}`, KindTrust, CodeMalformed, "This policy contains invalid Json", ""},
		"not JSON":           {`assume-role-policy.json`, KindManaged, CodeMalformed, "Syntax errors in policy.", ""},
		"iam region":         {`{` + v + `"Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam:us-east-1:123456789012:role/x"}]}`, KindRoleInline, CodeMalformed, "IAM resource arn:aws:iam:us-east-1:123456789012:role/x cannot contain region information.", "Statement[0].Resource[0]"},
		"s3 region":          {`{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","NotResource":["*","arn:aws:s3:us-east-1::example_bucket"]}]}`, KindManaged, CodeMalformed, "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.", "Statement[0].NotResource[1]"},
		"empty resource str": {`{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":""}]}`, KindManaged, CodeMalformed, `Resource  must be in ARN format or "*".`, "Statement[0].Resource[0]"},
		// Stages: a syntax error anywhere comes first, then the legacy
		// parser's, then duplicate Sids, then each statement in turn, where
		// missing resources come before an action without a vendor.
		"stage syntax first": {`{` + v + `"Statement":[{"Effect":"allow","Action":"x","Resource":"*"},{"Effect":"Allow","Action":{},"Resource":"*"}]}`, KindManaged, CodeMalformed, "Syntax errors in policy.", "Statement[1].Action"},
		"stage legacy next":  {`{` + v + `"Statement":[{"Sid":"a","Action":"x","Effect":"Allow"},{"Sid":"a","Effect":"aLLow","Action":"s3:x","Resource":"*"}]}`, KindManaged, CodeMalformed, "The policy failed legacy parsing", "Statement[1].Effect"},
		"stage sids next":    {`{` + v + `"Statement":[{"Sid":"a","Effect":"Allow"},{"Sid":"a","Effect":"Allow","Action":"s3:x","Resource":"*"}]}`, KindManaged, CodeMalformed, "Statement IDs (SID) in a single policy must be unique.", "Statement[1].Sid"},
		"stage resources":    {`{` + v + `"Statement":[{"Effect":"Allow","Action":"invalid"}]}`, KindManaged, CodeMalformed, "Policy statement must contain resources.", "Statement[0]"},
		"ip value":           {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`, KindManaged, CodeMalformed, "Invalid IP address or CIDR 10.0.0.0/33", "Statement[0].Condition.IpAddress.aws:SourceIp[0]"},
		"ip value2":          {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"host"}}}]}`, KindManaged, CodeMalformed, "Invalid IP address or CIDR host", "Statement[0].Condition.IpAddress.aws:SourceIp[0]"},
		"bool value":         {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:x":"yes"}}}]}`, KindManaged, CodeMalformed, "Invalid boolean value yes", "Statement[0].Condition.Bool.aws:x[0]"},
		"size user inline":   {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::` + strings.Repeat("a", 2048) + `"}]}`, KindUserInline, CodeLimitExceeded, "Cannot exceed quota for PolicySize: 2048", ""},
		"size managed":       {`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::` + strings.Repeat("a", 6144) + `"}]}`, KindManaged, CodeLimitExceeded, "Cannot exceed quota for PolicySize: 6144", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.kind)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if pe.Code != tc.code || pe.Message != tc.msg || pe.Path != tc.path {
				t.Fatalf("got (%s, %q, %q), want (%s, %q, %q)", pe.Code, pe.Message, pe.Path, tc.code, tc.msg, tc.path)
			}
			want := ErrMalformed
			if tc.code == CodeLimitExceeded {
				want = ErrLimitExceeded
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("errors.Is(%v, %v) = false", err, want)
			}
		})
	}
}

// TestAWSManagedKind: AWS managed policies have no size quota and are
// otherwise validated as customer managed ones.
func TestAWSManagedKind(t *testing.T) {
	var acts []string
	for i := range 2000 {
		acts = append(acts, `"s3:GetObjectVersion`+strconv.Itoa(i)+`"`)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(acts, ",") + `],"Resource":"*"}]}`
	if _, err := Parse([]byte(big), KindManaged); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("managed: err = %v", err)
	}
	p, err := Parse([]byte(big), KindAWSManaged)
	if err != nil || p.Size() != CountSize([]byte(big)) || p.Kind() != KindAWSManaged {
		t.Fatalf("aws-managed: %v", err)
	}
	withPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`
	if _, err := Parse([]byte(withPrincipal), KindAWSManaged); !errors.Is(err, ErrMalformed) {
		t.Fatalf("principal in aws-managed: %v", err)
	}
}

// TestCheckCurrentVersion: what IAM's CreatePolicy answers for documents
// older than 2012-10-17, which Parse accepts.
func TestCheckCurrentVersion(t *testing.T) {
	for doc, want := range map[string]string{
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`:                        "Policy document must be version 2012-10-17 or greater.",
		`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`: "Policy document must be version 2012-10-17 or greater.",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`: "",
	} {
		err := MustParse(doc, KindManaged).CheckCurrentVersion()
		var pe *Error
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", doc, err)
		case want != "" && (!errors.As(err, &pe) || pe.Code != CodeMalformed || pe.Message != want || pe.Path != "Version"):
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestSizeCountsNonSpace(t *testing.T) {
	// 2,048 characters of content padded with white space still fits.
	body := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	fill := 2048 - len(body) - len(tail)
	doc := body + strings.Repeat("a", fill) + tail
	spaced := strings.ReplaceAll(doc, ",", " ,\n\t ")
	for _, d := range []string{doc, spaced} {
		p, err := Parse([]byte(d), KindUserInline)
		if err != nil {
			t.Fatal(err)
		}
		if p.Size() != 2048 {
			t.Fatalf("size %d", p.Size())
		}
	}
	if _, err := Parse([]byte(body+strings.Repeat("a", fill+1)+tail), KindUserInline); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("err = %v", err)
	}
	if CountSize([]byte("a \u00e9\u3000b")) != 3 {
		t.Fatal("CountSize")
	}
}

func TestKinds(t *testing.T) {
	limits := map[Kind]int{KindUserInline: 2048, KindGroupInline: 5120, KindRoleInline: 10240, KindManaged: 6144,
		KindBoundary: 6144, KindSession: 2048, KindTrust: 2048, KindSCP: 5120, KindRCP: 5120, KindKeyPolicy: 32768, KindResource: 20480, KindAWSManaged: 0}
	for k := Kind(0); k < numKinds; k++ {
		if k.SizeLimit() != limits[k] {
			t.Errorf("%v limit %d", k, k.SizeLimit())
		}
		got, ok := ParseKind(k.String())
		if !ok || got != k {
			t.Errorf("ParseKind(%q)", k.String())
		}
	}
	if Kind(99).String() != "unknown" {
		t.Error("unknown kind")
	}
	if _, ok := ParseKind("nope"); ok {
		t.Error("ParseKind(nope)")
	}
	for _, r := range []Result{Allow, ExplicitDeny, ImplicitDeny} {
		if r.String() == "" {
			t.Error(r)
		}
	}
	if PolicyType(99).String() != "" || EffectDeny.String() != "Deny" || EffectAllow.String() != "Allow" {
		t.Error("names")
	}
}

func TestPolicyAccessors(t *testing.T) {
	p := MustParse(`{"Version":"2012-10-17","Id":"doc1","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, KindManaged)
	if p.ID() != "doc1" || p.Name() != "doc1" || p.Version() != Version2012 || p.Kind() != KindManaged || len(p.Statements()) != 1 {
		t.Fatal("accessors")
	}
	n := p.Named("arn:aws:iam::111111111111:policy/P")
	if n.Name() != "arn:aws:iam::111111111111:policy/P" || p.Name() != "doc1" {
		t.Fatal("Named")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse did not panic")
		}
	}()
	MustParse(`{`, KindManaged)
}

func TestAcceptedForms(t *testing.T) {
	docs := []struct {
		doc  string
		kind Kind
	}{
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindManaged},
		{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindManaged},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*","111111111111","arn:aws:iam::111111111111:root","arn:aws:sts::111111111111:assumed-role/R/s"],"Service":"s3.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},"Action":"s3:*","Resource":"*"}]}`, KindResource},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, KindTrust},
		{`{"Version":"2012-10-17","Statement":[{"Sid":"any thing","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, KindRCP},
		// IAM accepts vendors with "." and "-", spaces in action names, an
		// unknown condition operator with an empty block, an empty list of
		// condition values, and regions in ARNs of services that have them.
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3.s:ListBucket","s3-s:ListBucket","iam: asdf safdsf af "],"Resource":["arn:aws:ec2:us-east-1::x","arn:aws:s3:us-east-1:123456789012:job/1","arn:aws:iam::123456789012:role/r"],
			"Condition":{"x":{},"DateGreaterThan":{"aws:CurrentTime":[]}}}]}`, KindManaged},
		// Other services' policies match wildcards in vendors.
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s*:Get*","Resource":"*"}]}`, KindResource},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::*","*:::::-old","arn:*"],"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true},"IpAddress":{"aws:SourceIp":["10.0.0.1","::ffff:10.0.0.0/104","2001:db8::/32"]},"DateGreaterThan":{"aws:CurrentTime":["2025-01-01","2025-01-01T10:00Z","2025-01-01T10:00:00.5+02:00","1700000000","1700000000.25"]}}}]}`, KindManaged},
	}
	for i, d := range docs {
		if _, err := Parse([]byte(d.doc), d.kind); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
}
