package query_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/query"
)

// nopWriter is a ResponseWriter that keeps nothing, so that benchmarks
// measure the codec and not httptest.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchQuery(b *testing.B, svc *awsproto.Service, body string, newIn func() any, out any) {
	p := query.New()
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := &nopWriter{h: http.Header{}}
	raw := []byte(body)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := &awsproto.Request{HTTP: r, Body: raw}
		op, err := p.Operation(svc, req)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Decode(op, req, newIn()); err != nil {
			b.Fatal(err)
		}
		if err := p.Encode(w, op, out, "0123456789abcdef"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSTSGetCallerIdentity(b *testing.B) {
	benchQuery(b, stsService(b), "Action=GetCallerIdentity&Version=2011-06-15", func() any { return &struct{}{} },
		&GetCallerIdentityOutput{UserId: aws.String("AIDAEXAMPLEEXAMPLE"), Account: aws.String("000000000000"), Arn: aws.String("arn:aws:iam::000000000000:user/alice")})
}

func BenchmarkIAMCreateUser(b *testing.B) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	benchQuery(b, iamService(b), "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Feng%2F&Tags.member.1.Key=team&Tags.member.1.Value=platform",
		func() any { return &CreateUserInput{} },
		&CreateUserOutput{User: &User{Path: aws.String("/eng/"), UserName: aws.String("alice"), UserId: aws.String("AIDAEXAMPLEEXAMPLE"),
			Arn: aws.String("arn:aws:iam::000000000000:user/eng/alice"), CreateDate: &now,
			Tags: []Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}})
}
