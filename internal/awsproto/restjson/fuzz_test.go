package restjson_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/modeltest"
	"github.com/rampart/rampart/internal/awsproto/restjson"
)

// FuzzRestJSONDecode routes and decodes arbitrary method/URL/header/body
// combinations against SSO, SSO OIDC and a synthetic service with every
// binding: failures must be 4xx *awsproto.Errors, never panics.
func FuzzRestJSONDecode(f *testing.F) {
	for _, s := range []struct{ method, target, header, body string }{
		{"GET", "/federation/credentials?role_name=r&account_id=000000000000", "tok", ""},
		{"GET", "/assignment/accounts?max_result=abc", "tok", ""},
		{"POST", "/token", "", `{"clientId":"c","clientSecret":"s","grantType":"g","scope":["a",1]}`},
		{"POST", "/token?aws_iam=t", "", `{"clientId":`},
		{"PUT", "/b/k%2F%zz/x?tag=a&tag=b&z=1", "7", "raw"},
		{"PUT", "/b/policy", "", ""},
		{"DELETE", "//", "", "{}"},
	} {
		f.Add(s.method, s.target, s.header, []byte(s.body))
	}
	sso := ssoService()
	oidc := modeltest.MustLoad("sso-oidc")
	modeltest.BindOp(oidc.Operation("CreateToken"), CreateTokenInput{}, CreateTokenOutput{})
	syn, _, _ := synthetic()
	p := restjson.New()
	f.Fuzz(func(t *testing.T, method, target, header string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" {
			return
		}
		for _, svc := range []*awsproto.Service{sso, oidc, syn} {
			r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody}
			r.Header.Set("X-Amz-Sso_bearer_token", header)
			r.Header.Set("X-Count", header)
			r.Header.Set("X-Meta-A", header)
			r.Header.Set("If-Modified-Since", header)
			req := &awsproto.Request{HTTP: r, Body: body}
			op, err := p.Operation(svc, req)
			if err != nil {
				check(t, err)
				continue
			}
			var in any = &struct{}{}
			switch op.Name {
			case "GetRoleCredentials":
				in = &GetRoleCredentialsInput{}
			case "ListAccounts":
				in = &ListAccountsInput{}
			case "CreateToken":
				in = &CreateTokenInput{}
			case "PutObject":
				in = &PutInput{}
			}
			if err := p.Decode(op, req, in); err != nil {
				check(t, err)
				continue
			}
			w := httptest.NewRecorder()
			p.EncodeError(w, svc, &awsproto.Error{Code: "X", Message: string(body), Status: 400}, header)
			if !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"__type":"X"`)) {
				t.Fatal(w.Body.String())
			}
		}
	})
}

func check(t *testing.T, err error) {
	var e *awsproto.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("not a 4xx *Error: %v", err)
	}
}
