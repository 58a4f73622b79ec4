package restjson_test

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
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/modeltest"
	"github.com/rampart/rampart/internal/awsproto/restjson"
)

type (
	GetRoleCredentialsInput struct {
		RoleName    *string
		AccountId   *string
		AccessToken *string
	}
	RoleCredentials struct {
		AccessKeyId     *string
		SecretAccessKey *string
		SessionToken    *string
		Expiration      *int64
	}
	GetRoleCredentialsOutput struct{ RoleCredentials *RoleCredentials }
	ListAccountsInput        struct {
		NextToken   *string
		MaxResults  *int32
		AccessToken *string
	}
	AccountInfo struct {
		AccountId    *string
		AccountName  *string
		EmailAddress *string
	}
	ListAccountsOutput struct {
		NextToken   *string
		AccountList []AccountInfo
	}
	CreateTokenInput struct {
		ClientId     *string
		ClientSecret *string
		GrantType    *string
		DeviceCode   *string
		Code         *string
		RefreshToken *string
		Scope        []string
	}
	CreateTokenOutput struct {
		AccessToken *string
		TokenType   *string
		ExpiresIn   *int32
	}
)

type handler struct {
	svc *awsproto.Service
	ops map[string]func() (any, func(any) (any, error))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := restjson.New()
	body, _ := io.ReadAll(r.Body)
	req := &awsproto.Request{HTTP: r, Body: body}
	op, err := p.Operation(h.svc, req)
	if err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	mk, ok := h.ops[op.Name]
	if !ok {
		p.EncodeError(w, h.svc, &awsproto.Error{Code: "NotImplemented", Status: 501, Message: op.Name}, "rid")
		return
	}
	in, answer := mk()
	if err := p.Decode(op, req, in); err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	out, err := answer(in)
	if err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	_ = p.Encode(w, op, out, "rid")
}

func errShape(svc *awsproto.Service, name string) *awsproto.Shape {
	for _, op := range svc.Operations {
		for _, e := range op.Errors {
			if e.Name == name {
				return e
			}
		}
	}
	panic(name)
}

func ssoService() *awsproto.Service {
	svc := modeltest.MustLoad("sso")
	modeltest.BindOp(svc.Operation("GetRoleCredentials"), GetRoleCredentialsInput{}, GetRoleCredentialsOutput{})
	modeltest.BindOp(svc.Operation("ListAccounts"), ListAccountsInput{}, ListAccountsOutput{})
	return svc
}

func TestSSORoundTrip(t *testing.T) {
	svc := ssoService()
	var got *GetRoleCredentialsInput
	var gotList *ListAccountsInput
	h := &handler{svc: svc, ops: map[string]func() (any, func(any) (any, error)){
		"GetRoleCredentials": func() (any, func(any) (any, error)) {
			return &GetRoleCredentialsInput{}, func(in any) (any, error) {
				got = in.(*GetRoleCredentialsInput)
				if *got.AccessToken == "bad" {
					return nil, awsproto.NewError(errShape(svc, "UnauthorizedException"), "Session token not found or invalid")
				}
				return &GetRoleCredentialsOutput{RoleCredentials: &RoleCredentials{AccessKeyId: aws.String("ASIA"), SecretAccessKey: aws.String("s"),
					SessionToken: aws.String("t"), Expiration: aws.Int64(1700000000000)}}, nil
			}
		},
		"ListAccounts": func() (any, func(any) (any, error)) {
			return &ListAccountsInput{}, func(in any) (any, error) {
				gotList = in.(*ListAccountsInput)
				return &ListAccountsOutput{AccountList: []AccountInfo{{AccountId: aws.String("000000000000"), AccountName: aws.String("dev")}}}, nil
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := sso.NewFromConfig(aws.Config{Region: "us-east-1", RetryMaxAttempts: 1}, func(o *sso.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	out, err := c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String("tok"), AccountId: aws.String("000000000000"), RoleName: aws.String("Admin Role")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.RoleCredentials.AccessKeyId != "ASIA" || out.RoleCredentials.Expiration != 1700000000000 {
		t.Fatalf("got %+v", out.RoleCredentials)
	}
	if *got.RoleName != "Admin Role" || *got.AccountId != "000000000000" || *got.AccessToken != "tok" {
		t.Fatalf("decoded %+v", got)
	}
	_, err = c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String("bad"), AccountId: aws.String("000000000000"), RoleName: aws.String("r")})
	var ue *ssotypes.UnauthorizedException
	if !errors.As(err, &ue) || ue.ErrorMessage() != "Session token not found or invalid" {
		t.Fatalf("want UnauthorizedException, got %T %v", err, err)
	}
	la, err := c.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String("tok"), MaxResults: aws.Int32(5), NextToken: aws.String("n/x")})
	if err != nil {
		t.Fatal(err)
	}
	if len(la.AccountList) != 1 || *la.AccountList[0].AccountName != "dev" || *gotList.MaxResults != 5 || *gotList.NextToken != "n/x" {
		t.Fatalf("got %+v %+v", la, gotList)
	}
	_, err = c.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String("tok"), MaxResults: aws.Int32(500)})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") ||
		!strings.Contains(err.Error(), "Value '500' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100") {
		t.Fatalf("got %v", err)
	}
}

func TestOIDCRouting(t *testing.T) {
	svc := modeltest.MustLoad("sso-oidc")
	modeltest.BindOp(svc.Operation("CreateToken"), CreateTokenInput{}, CreateTokenOutput{})
	var got *CreateTokenInput
	h := &handler{svc: svc, ops: map[string]func() (any, func(any) (any, error)){
		"CreateToken": func() (any, func(any) (any, error)) {
			return &CreateTokenInput{}, func(in any) (any, error) {
				got = in.(*CreateTokenInput)
				return &CreateTokenOutput{AccessToken: aws.String("at"), TokenType: aws.String("Bearer"), ExpiresIn: aws.Int32(3600)}, nil
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := ssooidc.NewFromConfig(aws.Config{Region: "us-east-1", RetryMaxAttempts: 1}, func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	out, err := c.CreateToken(context.Background(), &ssooidc.CreateTokenInput{ClientId: aws.String("c"), ClientSecret: aws.String("s"),
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: aws.String("d"), Scope: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if *out.AccessToken != "at" || out.ExpiresIn != 3600 || !reflect.DeepEqual(got.Scope, []string{"a", "b"}) || *got.DeviceCode != "d" {
		t.Fatalf("got %+v %+v", out, got)
	}
	// The static query part routes to CreateTokenWithIAM, not CreateToken.
	for target, want := range map[string]string{"/token?aws_iam=t": "CreateTokenWithIAM", "/token": "CreateToken", "/token/": "CreateToken",
		"/client/register": "RegisterClient"} {
		req := &awsproto.Request{HTTP: httptest.NewRequest("POST", target, nil)}
		op, err := restjson.New().Operation(svc, req)
		if err != nil || op.Name != want {
			t.Errorf("%s: got %v %v, want %s", target, op, err, want)
		}
	}
	req := &awsproto.Request{HTTP: httptest.NewRequest("GET", "/token", nil)}
	_, err = restjson.New().Operation(svc, req)
	var e *awsproto.Error
	if !errors.As(err, &e) || e.Code != "UnknownOperationException" || e.Status != 404 {
		t.Fatalf("got %v", err)
	}
}

// A synthetic service exercises labels, greedy labels, query lists and
// maps, headers, header maps, payloads and status codes.
func synthetic() (*awsproto.Service, *awsproto.Operation, *awsproto.Operation) {
	str := &awsproto.Shape{Name: "String", Kind: awsproto.KindString}
	strList := &awsproto.Shape{Name: "StringList", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: str}}
	strMap := &awsproto.Shape{Name: "StringMap", Kind: awsproto.KindMap, Key: &awsproto.Member{Shape: str}, Value: &awsproto.Member{Shape: str}}
	integer := &awsproto.Shape{Name: "Integer", Kind: awsproto.KindInteger}
	ts := &awsproto.Shape{Name: "Timestamp", Kind: awsproto.KindTimestamp}
	blob := &awsproto.Shape{Name: "Blob", Kind: awsproto.KindBlob}
	in := &awsproto.Shape{Name: "PutObjectInput", Kind: awsproto.KindStructure, Payload: "Body", GoType: reflect.TypeOf(PutInput{}), Members: []*awsproto.Member{
		{Name: "Bucket", Shape: str, Field: 0, Location: "uri", LocationName: "Bucket", Required: true},
		{Name: "Key", Shape: str, Field: 1, Location: "uri", LocationName: "Key", Required: true},
		{Name: "Tags", Shape: strList, Field: 2, Location: "querystring", LocationName: "tag"},
		{Name: "Extra", Shape: strMap, Field: 3, Location: "querystring"},
		{Name: "Count", Shape: integer, Field: 4, Location: "header", LocationName: "x-count"},
		{Name: "Meta", Shape: strMap, Field: 5, Location: "headers", LocationName: "x-meta-"},
		{Name: "Since", Shape: ts, Field: 6, Location: "header", LocationName: "If-Modified-Since"},
		{Name: "Body", Shape: blob, Field: 7},
	}}
	out := &awsproto.Shape{Name: "PutObjectOutput", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(PutOutput{}), Members: []*awsproto.Member{
		{Name: "Status", Shape: integer, Field: 0, Location: "statusCode"},
		{Name: "ETag", Shape: str, Field: 1, Location: "header", LocationName: "ETag"},
		{Name: "Names", Shape: strList, Field: 2},
	}}
	put := &awsproto.Operation{Name: "PutObject", Method: "PUT", RequestURI: "/{Bucket}/{Key+}", Input: in, Output: out, ResponseCode: 201}
	get := &awsproto.Operation{Name: "GetBucketPolicy", Method: "PUT", RequestURI: "/{Bucket}/policy", Input: nil}
	svc := (&awsproto.Service{Name: "x", Protocol: "rest-json", Operations: []*awsproto.Operation{put, get}}).Init()
	return svc, put, get
}

type PutInput struct {
	Bucket *string
	Key    *string
	Tags   []string
	Extra  map[string]string
	Count  *int32
	Meta   map[string]string
	Since  *awsTime
	Body   []byte
}

type PutOutput struct {
	Status *int32
	ETag   *string
	Names  []string
}

func TestSyntheticBindings(t *testing.T) {
	svc, put, _ := synthetic()
	p := restjson.New()
	r := httptest.NewRequest("PUT", "/b1/dir/sub%2Fx/file.txt?tag=a&tag=b&other=1", strings.NewReader("raw"))
	r.Header.Set("X-Count", "7")
	r.Header.Set("X-Meta-Color", "blue")
	r.Header.Set("If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT")
	req := &awsproto.Request{HTTP: r, Body: []byte("raw")}
	op, err := p.Operation(svc, req)
	if err != nil || op != put {
		t.Fatalf("route: %v %v", op, err)
	}
	var in PutInput
	if err := p.Decode(op, req, &in); err != nil {
		t.Fatal(err)
	}
	if *in.Bucket != "b1" || *in.Key != "dir/sub/x/file.txt" || !reflect.DeepEqual(in.Tags, []string{"a", "b"}) ||
		in.Extra["other"] != "1" || len(in.Extra) != 1 || *in.Count != 7 || in.Meta["color"] != "blue" ||
		in.Since.Unix() != 1136214245 || string(in.Body) != "raw" {
		t.Fatalf("decoded %+v", in)
	}
	r = httptest.NewRequest("PUT", "/b1/policy", nil)
	op, err = p.Operation(svc, &awsproto.Request{HTTP: r})
	if err != nil || op.Name != "GetBucketPolicy" {
		t.Fatalf("literal must beat greedy: %v %v", op, err)
	}

	w := httptest.NewRecorder()
	if err := p.Encode(w, put, &PutOutput{ETag: aws.String(`"abc"`), Names: []string{}}, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Header().Get("ETag") != `"abc"` || w.Body.String() != `{"Names":[]}` {
		t.Fatalf("got %d %v %s", w.Code, w.Header(), w.Body.String())
	}
	w = httptest.NewRecorder()
	_ = p.Encode(w, put, &PutOutput{Status: aws.Int32(202)}, "rid")
	if w.Code != 202 || w.Body.String() != `{}` {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}

	r = httptest.NewRequest("PUT", "/b1/k", nil)
	r.Header.Set("X-Count", "seven")
	req = &awsproto.Request{HTTP: r}
	op, _ = p.Operation(svc, req)
	var e *awsproto.Error
	if err := p.Decode(op, req, &PutInput{}); !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("got %v", err)
	}
}

type awsTime = time.Time

// rest-json puts a timestamp where its binding says: an HTTP date in a
// header, ISO 8601 in the query string and the URI, epoch seconds in the
// body; a member's timestampFormat overrides each. A malformed one is a
// SerializationException that names the parameter.
func TestTimestampBindings(t *testing.T) {
	type In struct {
		At      *awsTime
		Since   *awsTime
		IsoHdr  *awsTime
		After   *awsTime
		Body    *awsTime
		BodyISO *awsTime
	}
	ts := &awsproto.Shape{Name: "Timestamp", Kind: awsproto.KindTimestamp}
	iso := &awsproto.Shape{Name: "IsoTimestamp", Kind: awsproto.KindTimestamp, TimestampFormat: "iso8601"}
	in := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
		{Name: "At", Shape: ts, Field: 0, Location: "uri", LocationName: "at"},
		{Name: "Since", Shape: ts, Field: 1, Location: "header", LocationName: "If-Modified-Since"},
		{Name: "IsoHdr", Shape: iso, Field: 2, Location: "header", LocationName: "x-iso"},
		{Name: "After", Shape: ts, Field: 3, Location: "querystring", LocationName: "after"},
		{Name: "Body", Shape: ts, Field: 4},
		{Name: "BodyISO", Shape: iso, Field: 5},
	}}
	op := &awsproto.Operation{Name: "Look", Method: "POST", RequestURI: "/look/{at}", Input: in}
	svc := (&awsproto.Service{Name: "x", Protocol: "rest-json", Operations: []*awsproto.Operation{op}}).Init()
	p := restjson.New()
	send := func(after, since string) (*In, error) {
		body := `{"Body":1700000000.25,"BodyISO":"2023-11-14T22:13:20.5Z"}`
		r := httptest.NewRequest("POST", "/look/2023-11-14T22%3A13%3A20Z?after="+url.QueryEscape(after), strings.NewReader(body))
		r.Header.Set("If-Modified-Since", since)
		r.Header.Set("X-Iso", "2023-11-14T22:13:20Z")
		req := &awsproto.Request{HTTP: r, Body: []byte(body)}
		o, err := p.Operation(svc, req)
		if err != nil {
			return nil, err
		}
		var v In
		return &v, p.Decode(o, req, &v)
	}
	got, err := send("2023-11-14T22:13:20.123Z", "Tue, 14 Nov 2023 22:13:20 GMT")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0).UTC()
	if !got.At.Equal(at) || !got.Since.Equal(at) || !got.IsoHdr.Equal(at) || !got.After.Equal(at.Add(123*time.Millisecond)) ||
		!got.Body.Equal(at.Add(250*time.Millisecond)) || !got.BodyISO.Equal(at.Add(500*time.Millisecond)) {
		t.Fatalf("decoded %+v", got)
	}
	for _, tc := range []struct{ after, since, message string }{
		{"soon", "Tue, 14 Nov 2023 22:13:20 GMT", `Invalid value for query parameter "after": expected a timestamp`},
		{"2023-11-14T22:13:20Z", "last tuesday", `Invalid value for header "If-Modified-Since": expected a timestamp`},
	} {
		_, err := send(tc.after, tc.since)
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Code != "SerializationException" || e.Status != 400 || e.Message != tc.message {
			t.Errorf("%+v: got %v", tc, err)
		}
	}
}
