package query_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/query"
)

func newInput(op string) any {
	switch op {
	case "GetUser":
		return &GetUserInput{}
	case "CreateUser":
		return &CreateUserInput{}
	case "ListUsers":
		return &ListUsersInput{}
	case "AssumeRole":
		return &AssumeRoleInput{}
	}
	return &struct{}{}
}

// FuzzQueryDecode feeds arbitrary form bodies to the query codec: any
// failure must be a 4xx *awsproto.Error, never a panic, and a decoded input
// must encode back without error.
func FuzzQueryDecode(f *testing.F) {
	for _, s := range []string{
		"Action=GetCallerIdentity&Version=2011-06-15",
		"Action=CreateUser&Version=2010-05-08&UserName=bob&Path=/eng/&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.99999999.Key=k",
		"Action=ListUsers&Version=2010-05-08&MaxItems=99999999999",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s&PolicyArns.member.1.arn=x&TransitiveTagKeys.member.1=a",
		"Action=GetUser&Version=2010-05-08&UserName=%zz",
		"Action=Nope&Version=2010-05-08",
		"Action=ListUsers",
		"Action=ListUsers&Version=2099-01-01",
		"",
	} {
		f.Add(s)
	}
	iamSvc, stsSvc := iamService(f), stsService(f)
	p := query.New()
	f.Fuzz(func(t *testing.T, body string) {
		for _, svc := range []*awsproto.Service{iamSvc, stsSvc} {
			req := &awsproto.Request{HTTP: httptest.NewRequest("POST", "/", strings.NewReader(body)), Body: []byte(body)}
			op, err := p.Operation(svc, req)
			if err != nil {
				check(t, err)
				continue
			}
			in := newInput(op.Name)
			if err := p.Decode(op, req, in); err != nil {
				check(t, err)
				continue
			}
			w := httptest.NewRecorder()
			p.EncodeError(w, svc, &awsproto.Error{Code: "X", Message: body, Status: 400, Sender: true}, body)
			if w.Code != http.StatusBadRequest {
				t.Fatal(w.Code)
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
