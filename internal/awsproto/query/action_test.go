package query

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

// scanAction must agree with Request.Form wherever it answers.
func checkScanAction(t *testing.T, rawQuery, body string) {
	t.Helper()
	r := &http.Request{URL: &url.URL{RawQuery: rawQuery}}
	got, ok := scanAction(&awsproto.Request{HTTP: r, Body: []byte(body)})
	form, err := (&awsproto.Request{HTTP: r, Body: []byte(body)}).Form()
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("query %q body %q: scanned %q, but Form fails: %v", rawQuery, body, got, err)
	}
	if want := form.Get("Action"); got != want {
		t.Fatalf("query %q body %q: scanned %q, Form says %q", rawQuery, body, got, want)
	}
}

func TestScanActionMatchesForm(t *testing.T) {
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
	}
	for _, c := range cases {
		checkScanAction(t, c[0], c[1])
	}
}

func FuzzScanAction(f *testing.F) {
	f.Add("", "Action=GetCallerIdentity&Version=2011-06-15")
	f.Add("Action=%41", "Action=B;")
	f.Fuzz(func(t *testing.T, q, body string) { checkScanAction(t, q, body) })
}
