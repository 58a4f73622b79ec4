package query

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

// scanParams must agree with Request.Form wherever it answers.
func checkScanParams(t *testing.T, rawQuery, body string) {
	t.Helper()
	r := &http.Request{URL: &url.URL{RawQuery: rawQuery}}
	got, ok := scanParams(&awsproto.Request{HTTP: r, Body: []byte(body)})
	form, err := (&awsproto.Request{HTTP: r, Body: []byte(body)}).Form()
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("query %q body %q: scanned %+v, but Form fails: %v", rawQuery, body, got, err)
	}
	if want := paramsOf(form); got != want {
		t.Fatalf("query %q body %q: scanned %+v, Form says %+v", rawQuery, body, got, want)
	}
}

func TestScanParamsMatchesForm(t *testing.T) {
	cases := [][2]string{
		{"", "Action=GetCallerIdentity&Version=2011-06-15"},
		{"Action=ListUsers", "Action=GetUser"},
		{"Action", "Action=GetUser"},
		{"", "Action=Get%55ser"},
		{"", "Action=Get+User"},
		{"", "Action=Get%zzUser"},
		{"", "Action=Get%2"},
		{"", "Act%69on=GetUser"},
		{"", "Action=A;Version=1"},
		{"", "&&Action=&Action=GetUser"},
		{"", "=x&Action==y"},
		{"", "Version=1"},
		{"", "Action=GetUser"},
		{"", "Action=GetUser&Version="},
		{"", "Action=GetUser&Version"},
		{"Version=2099-01-01", "Action=GetUser&Version=2010-05-08"},
		{"", "Action=GetUser&Version=2010-05-08&Version=2099-01-01"},
		{"", "Action=GetUser&Vers%69on=2010-05-08"},
		{"", "Action=GetUser&Version=2010%2D05%2D08"},
	}
	for _, c := range cases {
		checkScanParams(t, c[0], c[1])
	}
}

func FuzzScanParams(f *testing.F) {
	f.Add("", "Action=GetCallerIdentity&Version=2011-06-15")
	f.Add("Action=%41", "Action=B;")
	f.Add("Version=1", "Action=B&Version=2")
	f.Fuzz(func(t *testing.T, q, body string) { checkScanParams(t, q, body) })
}
