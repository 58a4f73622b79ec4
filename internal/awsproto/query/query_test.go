package query_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/modeltest"
	"github.com/rampart/rampart/internal/awsproto/query"
)

// Hand-written stand-ins for the generated types: only the members the
// tests use (modeltest.Bind drops the others).
type (
	GetCallerIdentityOutput struct {
		UserId  *string
		Account *string
		Arn     *string
	}
	Tag struct {
		Key   *string
		Value *string
	}
	PermissionsBoundary struct {
		PermissionsBoundaryType string
		PermissionsBoundaryArn  *string
	}
	User struct {
		Path                *string
		UserName            *string
		UserId              *string
		Arn                 *string
		CreateDate          *time.Time
		PasswordLastUsed    *time.Time
		PermissionsBoundary *PermissionsBoundary
		Tags                []Tag
	}
	GetUserInput    struct{ UserName *string }
	GetUserOutput   struct{ User *User }
	CreateUserInput struct {
		Path                *string
		UserName            *string
		PermissionsBoundary *string
		Tags                []Tag
	}
	CreateUserOutput struct{ User *User }
	ListUsersInput   struct {
		PathPrefix *string
		Marker     *string
		MaxItems   *int32
	}
	ListUsersOutput struct {
		Users       []User
		IsTruncated *bool
		Marker      *string
	}
	AssumeRoleInput struct {
		RoleArn           *string
		RoleSessionName   *string
		PolicyArns        []struct{ Arn *string }
		Policy            *string
		DurationSeconds   *int32
		Tags              []Tag
		TransitiveTagKeys []string
	}
)

type handler struct {
	svc   *awsproto.Service
	proto awsproto.Protocol
	// ops maps an operation name to a function returning a new input and
	// the answer to it.
	ops map[string]func() (in any, answer func(in any) (any, error))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := &awsproto.Request{HTTP: r, Body: body}
	op, err := h.proto.Operation(h.svc, req)
	if err != nil {
		h.proto.EncodeError(w, h.svc, awsproto.AsError(err), "req-1")
		return
	}
	mk, ok := h.ops[op.Name]
	if !ok {
		h.proto.EncodeError(w, h.svc, &awsproto.Error{Code: awsproto.CodeNotImplemented, Status: 501}, "req-1")
		return
	}
	in, answer := mk()
	if err := h.proto.Decode(op, req, in); err != nil {
		h.proto.EncodeError(w, h.svc, awsproto.AsError(err), "req-1")
		return
	}
	out, err := answer(in)
	if err != nil {
		h.proto.EncodeError(w, h.svc, awsproto.AsError(err), "req-1")
		return
	}
	if err := h.proto.Encode(w, op, out, "req-1"); err != nil {
		panic(err)
	}
}

func sdkConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	}
}

func stsService(t testing.TB) *awsproto.Service {
	svc := modeltest.MustLoad("sts")
	modeltest.BindOp(svc.Operation("GetCallerIdentity"), nil, GetCallerIdentityOutput{})
	modeltest.BindOp(svc.Operation("AssumeRole"), AssumeRoleInput{}, nil)
	return svc
}

func iamService(t testing.TB) *awsproto.Service {
	svc := modeltest.MustLoad("iam")
	modeltest.BindOp(svc.Operation("GetUser"), GetUserInput{}, GetUserOutput{})
	modeltest.BindOp(svc.Operation("CreateUser"), CreateUserInput{}, CreateUserOutput{})
	modeltest.BindOp(svc.Operation("ListUsers"), ListUsersInput{}, ListUsersOutput{})
	return svc
}

func TestSTSGetCallerIdentity(t *testing.T) {
	svc := stsService(t)
	h := &handler{svc: svc, proto: query.New(), ops: map[string]func() (any, func(any) (any, error)){
		"GetCallerIdentity": func() (any, func(any) (any, error)) {
			return &struct{}{}, func(any) (any, error) {
				return &GetCallerIdentityOutput{UserId: aws.String("AIDA<&>"), Account: aws.String("000000000000"),
					Arn: aws.String("arn:aws:iam::000000000000:root")}, nil
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := sts.NewFromConfig(sdkConfig(), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	out, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "000000000000" || *out.UserId != "AIDA<&>" || *out.Arn != "arn:aws:iam::000000000000:root" {
		t.Fatalf("got %+v", out)
	}
}

func TestSTSTypedError(t *testing.T) {
	svc := stsService(t)
	h := &handler{svc: svc, proto: query.New(), ops: map[string]func() (any, func(any) (any, error)){
		"GetCallerIdentity": func() (any, func(any) (any, error)) {
			return &struct{}{}, func(any) (any, error) {
				return nil, awsproto.NewError(findShape(svc, "ExpiredTokenException"), "The security token included in the request is expired")
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := sts.NewFromConfig(sdkConfig(), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var exp *ststypes.ExpiredTokenException
	if !errors.As(err, &exp) {
		t.Fatalf("want ExpiredTokenException, got %T %v", err, err)
	}
	if exp.ErrorMessage() != "The security token included in the request is expired" {
		t.Fatalf("message %q", exp.ErrorMessage())
	}
}

func findShape(svc *awsproto.Service, name string) *awsproto.Shape {
	for _, op := range svc.Operations {
		for _, e := range op.Errors {
			if e.Name == name {
				return e
			}
		}
	}
	panic(name)
}

func TestIAMRoundTrip(t *testing.T) {
	svc := iamService(t)
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	used := time.Date(2024, 5, 7, 1, 2, 3, 456000000, time.UTC)
	var gotCreate *CreateUserInput
	h := &handler{svc: svc, proto: query.New(), ops: map[string]func() (any, func(any) (any, error)){
		"GetUser": func() (any, func(any) (any, error)) {
			return &GetUserInput{}, func(in any) (any, error) {
				name := *in.(*GetUserInput).UserName
				if name == "nobody" {
					return nil, awsproto.NewError(findShape(svc, "NoSuchEntityException"), "The user with name nobody cannot be found.")
				}
				return &GetUserOutput{User: &User{Path: aws.String("/"), UserName: aws.String(name), UserId: aws.String("AIDAEXAMPLE"),
					Arn: aws.String("arn:aws:iam::000000000000:user/" + name), CreateDate: &created, PasswordLastUsed: &used,
					PermissionsBoundary: &PermissionsBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: aws.String("arn:aws:iam::aws:policy/X")},
					Tags:                []Tag{{Key: aws.String("team"), Value: aws.String("a&b")}, {Key: aws.String("empty"), Value: aws.String("")}}}}, nil
			}
		},
		"CreateUser": func() (any, func(any) (any, error)) {
			return &CreateUserInput{}, func(in any) (any, error) {
				gotCreate = in.(*CreateUserInput)
				return &CreateUserOutput{User: &User{UserName: gotCreate.UserName, Path: aws.String("/"), UserId: aws.String("AIDA"),
					Arn: aws.String("arn"), CreateDate: &created}}, nil
			}
		},
		"ListUsers": func() (any, func(any) (any, error)) {
			return &ListUsersInput{}, func(in any) (any, error) {
				return &ListUsersOutput{Users: []User{}, IsTruncated: aws.Bool(false)}, nil
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := iam.NewFromConfig(sdkConfig(), func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if *u.UserName != "alice" || !u.CreateDate.Equal(created) || !u.PasswordLastUsed.Equal(used) || len(u.Tags) != 2 ||
		*u.Tags[0].Value != "a&b" || *u.Tags[1].Value != "" || u.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("got %+v", u)
	}

	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The user with name nobody cannot be found." {
		t.Fatalf("want NoSuchEntityException, got %T %v", err, err)
	}

	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/eng/"),
		Tags: []iamtypes.Tag{{Key: aws.String("k1"), Value: aws.String("v 1")}, {Key: aws.String("k2"), Value: aws.String("v=2+")}}})
	if err != nil {
		t.Fatal(err)
	}
	want := &CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/eng/"),
		Tags: []Tag{{Key: aws.String("k1"), Value: aws.String("v 1")}, {Key: aws.String("k2"), Value: aws.String("v=2+")}}}
	if !reflect.DeepEqual(gotCreate, want) {
		t.Fatalf("decoded %+v", gotCreate)
	}

	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name!"), Path: aws.String("no-slash")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" {
		t.Fatalf("want ValidationError, got %v", err)
	}
	wantMsg := `2 validation errors detected: Value 'no-slash' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F); Value 'bad name!' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`
	if api.ErrorMessage() != wantMsg {
		t.Fatalf("message\n got %s\nwant %s", api.ErrorMessage(), wantMsg)
	}

	lu, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(10)})
	if err != nil || len(lu.Users) != 0 || lu.IsTruncated {
		t.Fatalf("ListUsers %+v %v", lu, err)
	}
}

func call(t *testing.T, svc *awsproto.Service, method, target, body string, in any) (*awsproto.Operation, error) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	req := &awsproto.Request{HTTP: r, Body: []byte(body)}
	p := query.New()
	op, err := p.Operation(svc, req)
	if err != nil {
		return nil, err
	}
	return op, p.Decode(op, req, in)
}

func TestDecode(t *testing.T) {
	iamSvc := iamService(t)
	stsSvc := stsService(t)
	long := strings.Repeat("a", 65)
	cases := map[string]struct {
		svc     *awsproto.Service
		method  string
		target  string
		body    string
		in      any
		want    any
		code    string
		message string
		status  int
	}{
		"no version": {svc: iamSvc, body: "Action=ListUsers", code: "InvalidAction", status: 400,
			message: "Could not find operation ListUsers for version NO_VERSION_SPECIFIED"},
		"wrong version": {svc: iamSvc, body: "Action=ListUsers&Version=2099-01-01", code: "InvalidAction", status: 400,
			message: "Could not find operation ListUsers for version 2099-01-01"},
		"another service's version": {svc: iamSvc, body: "Action=ListUsers&Version=2011-06-15", code: "InvalidAction", status: 400,
			message: "Could not find operation ListUsers for version 2011-06-15"},
		"empty version": {svc: stsSvc, body: "Action=GetCallerIdentity&Version=", code: "InvalidAction", status: 400,
			message: "Could not find operation GetCallerIdentity for version "},
		"version in the URL": {svc: iamSvc, target: "/?Version=2099-01-01", body: "Action=ListUsers&Version=2010-05-08", code: "InvalidAction", status: 400,
			message: "Could not find operation ListUsers for version 2099-01-01"},
		"first version counts": {svc: iamSvc, body: "Action=ListUsers&Version=2010-05-08&Version=2099-01-01", in: &ListUsersInput{}, want: &ListUsersInput{}},
		"unknown action, wrong version": {svc: stsSvc, body: "Action=Foo&Version=2099-01-01", code: "InvalidAction", status: 400,
			message: "Could not find operation Foo for version 2099-01-01"},
		"empty action": {svc: stsSvc, body: "Action=&Version=2011-06-15", code: "InvalidAction", status: 400,
			message: "Could not find operation  for version 2011-06-15"},
		"malformed, no version": {svc: stsSvc, body: "Action=GetCallerIdentity&x=%zz", code: "MalformedQueryString", status: 400},
		"missing action":        {svc: iamSvc, body: "Version=2010-05-08", code: "MissingAction", message: "Missing Action", status: 400},
		"unknown action":        {svc: stsSvc, body: "Action=Foo&Version=2011-06-15", code: "InvalidAction", message: "Could not find operation Foo for version 2011-06-15", status: 400},
		"bad escape":            {svc: stsSvc, body: "Version=2011-06-15&Action=GetCallerIdentity&x=%zz", code: "MalformedQueryString", status: 400},
		"GET query":             {svc: iamSvc, method: "GET", target: "/?Version=2010-05-08&Action=GetUser&UserName=alice", in: &GetUserInput{}, want: &GetUserInput{UserName: aws.String("alice")}},
		"missing required": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser", in: &CreateUserInput{}, code: "ValidationError",
			message: "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		"too long": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser&UserName=" + long, in: &CreateUserInput{}, code: "ValidationError",
			message: "1 validation error detected: Value '" + long + "' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		"empty name": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser&UserName=", in: &CreateUserInput{}, code: "ValidationError",
			message: "2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"},
		"nested tag": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser&UserName=a&Tags.member.1.Key=k&Tags.member.2.Value=v", in: &CreateUserInput{}, code: "ValidationError",
			message: "2 validation errors detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null; Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null"},
		"int range": {svc: iamSvc, body: "Version=2010-05-08&Action=ListUsers&MaxItems=0", in: &ListUsersInput{}, code: "ValidationError",
			message: "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		"not a number":   {svc: iamSvc, body: "Version=2010-05-08&Action=ListUsers&MaxItems=abc", in: &ListUsersInput{}, code: "InvalidParameterValue", status: 400},
		"int32 overflow": {svc: iamSvc, body: "Version=2010-05-08&Action=ListUsers&MaxItems=99999999999", in: &ListUsersInput{}, code: "InvalidParameterValue", status: 400},
		"huge index ignored": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser&UserName=a&Tags.member.99999999.Key=k", in: &CreateUserInput{},
			want: &CreateUserInput{UserName: aws.String("a")}},
		"empty list": {svc: iamSvc, body: "Version=2010-05-08&Action=CreateUser&UserName=a&Tags=", in: &CreateUserInput{},
			want: &CreateUserInput{UserName: aws.String("a"), Tags: []Tag{}}},
		"unknown params ignored": {svc: iamSvc, body: "Action=GetUser&Version=2010-05-08&Foo=1&UserName.x=1&UserName=u", in: &GetUserInput{},
			want: &GetUserInput{UserName: aws.String("u")}},
		"list of strings and nested": {svc: stsSvc, body: "Version=2011-06-15&Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=ss&TransitiveTagKeys.member.1=a&TransitiveTagKeys.member.2=b&PolicyArns.member.1.arn=x&DurationSeconds=900",
			in: &AssumeRoleInput{}, code: "ValidationError",
			message: "1 validation error detected: Value 'x' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			target := tc.target
			if target == "" {
				target = "/"
			}
			in := tc.in
			if in == nil {
				in = &struct{}{}
			}
			_, err := call(t, tc.svc, method, target, tc.body, in)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(in, tc.want) {
					t.Fatalf("got %+v want %+v", in, tc.want)
				}
				return
			}
			var e *awsproto.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Code != tc.code || tc.message != "" && e.Message != tc.message || tc.status != 0 && e.Status != tc.status {
				t.Fatalf("got %s %d %q", e.Code, e.Status, e.Message)
			}
		})
	}
}

func TestEncodeXML(t *testing.T) {
	svc := iamService(t)
	op := svc.Operation("GetUser")
	created := time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.UTC)
	w := httptest.NewRecorder()
	err := query.New().Encode(w, op, &GetUserOutput{User: &User{UserName: aws.String("a<b"), CreateDate: &created,
		Tags: []Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}, "rid")
	if err != nil {
		t.Fatal(err)
	}
	want := `<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><UserName>a&lt;b</UserName><CreateDate>2024-05-06T07:08:09.12Z</CreateDate><Tags><member><Key>k</Key><Value>v</Value></member></Tags></User></GetUserResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetUserResponse>`
	if got := w.Body.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if w.Header().Get("Content-Type") != "text/xml" {
		t.Fatal(w.Header())
	}

	w = httptest.NewRecorder()
	query.New().EncodeError(w, svc, &awsproto.Error{Code: "NoSuchEntity", Message: "x & y", Status: 404, Sender: true}, "rid")
	want = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>x &amp; y</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if w.Code != 404 || w.Body.String() != want {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}

	// InvalidAction comes in AWS's fault namespace; a request placed in no
	// service gets no namespace attribute at all (not xmlns="").
	w = httptest.NewRecorder()
	query.New().EncodeError(w, svc, &awsproto.Error{Code: "InvalidAction", Message: "Could not find operation X for version 1", Status: 400, Sender: true}, "rid")
	want = `<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation X for version 1</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
	if w.Code != 400 || w.Body.String() != want {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
	for _, none := range []*awsproto.Service{nil, {Name: "unknown", Protocol: "query"}} {
		w = httptest.NewRecorder()
		query.New().EncodeError(w, none, &awsproto.Error{Code: "UnknownService", Message: "m", Status: 400, Sender: true}, "rid")
		want = `<ErrorResponse><Error><Type>Sender</Type><Code>UnknownService</Code><Message>m</Message></Error><RequestId>rid</RequestId></ErrorResponse>`
		if w.Body.String() != want {
			t.Fatalf("no namespace: got %s", w.Body.String())
		}
	}
	_ = url.Values{}
}

// The query protocol carries timestamps as ISO 8601 text (with or without
// fractional seconds); a member's timestampFormat overrides that. Text
// that is no timestamp is refused with a 400 naming the parameter.
func TestDecodeTimestamps(t *testing.T) {
	type Window struct {
		From  *time.Time
		Until *time.Time
	}
	type In struct {
		Start   *time.Time
		Epoch   *time.Time
		Windows []Window
	}
	ts := &awsproto.Shape{Name: "Timestamp", Kind: awsproto.KindTimestamp}
	window := &awsproto.Shape{Name: "Window", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(Window{}), Members: []*awsproto.Member{
		{Name: "From", Shape: ts, Field: 0}, {Name: "Until", Shape: ts, Field: 1},
	}}
	in := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
		{Name: "Start", Shape: ts, Field: 0},
		{Name: "Epoch", Shape: &awsproto.Shape{Name: "EpochTimestamp", Kind: awsproto.KindTimestamp, TimestampFormat: "unixTimestamp"}, Field: 1},
		{Name: "Windows", Shape: &awsproto.Shape{Name: "Windows", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: window}}, Field: 2},
	}}
	op := &awsproto.Operation{Name: "Look", Method: "POST", RequestURI: "/", Input: in}
	svc := (&awsproto.Service{Name: "x", Protocol: "query", APIVersion: "2020-01-01", Operations: []*awsproto.Operation{op}}).Init()

	form := url.Values{"Action": {"Look"}, "Version": {"2020-01-01"},
		"Start": {"2023-11-14T22:13:20Z"}, "Epoch": {"1700000000.5"},
		"Windows.member.1.From": {"2023-11-14T22:13:20.123Z"}, "Windows.member.1.Until": {"2023-11-14T23:13:20+01:00"}}
	var got In
	if _, err := call(t, svc, "POST", "/", form.Encode(), &got); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0).UTC()
	if !got.Start.Equal(at) || !got.Epoch.Equal(at.Add(500*time.Millisecond)) || len(got.Windows) != 1 ||
		!got.Windows[0].From.Equal(at.Add(123*time.Millisecond)) || !got.Windows[0].Until.Equal(at) || got.Start.Location() != time.UTC {
		t.Fatalf("decoded %+v", got)
	}

	form.Set("Windows.member.1.From", "yesterday")
	_, err := call(t, svc, "POST", "/", form.Encode(), &In{})
	var e *awsproto.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "InvalidParameterValue" ||
		e.Message != `Invalid value for parameter Windows.member.1.From: "yesterday" (expected a timestamp)` {
		t.Fatalf("got %v", err)
	}
}
