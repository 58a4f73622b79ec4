package json_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
)

func newInput(op string) any {
	switch op {
	case "DescribeKey":
		return &DescribeKeyInput{}
	case "Encrypt":
		return &EncryptInput{}
	case "Decrypt":
		return &DecryptInput{}
	case "CreateKey":
		return &CreateKeyInput{}
	case "ListKeys":
		return &ListKeysInput{}
	}
	return &struct{}{}
}

// FuzzJSONDecode feeds arbitrary bodies to the KMS operations: failures must
// be 4xx *awsproto.Errors, and what decodes must encode.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range [][2]string{
		{"Encrypt", `{"KeyId":"alias/x","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"},"GrantTokens":["t"]}`},
		{"Decrypt", `{"CiphertextBlob":"AAEC","EncryptionContext":{"a":null}}`},
		{"CreateKey", `{"Tags":[{"TagKey":"a","TagValue":"b"}],"KeyUsage":"ENCRYPT_DECRYPT","MultiRegion":true}`},
		{"ListKeys", `{"Limit":1e3}`},
		{"ListKeys", `{"Limit":"5","x":[[[[{}]]]]}`},
		{"DescribeKey", `{"KeyId":"\ud83d\ude00\u0000"}`},
		{"DescribeKey", `{"KeyId":`},
		{"Encrypt", ``},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	svc := kmsService()
	p := awsjson.New()
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		r.Header.Set("X-Amz-Target", "TrentService."+op)
		req := &awsproto.Request{HTTP: r, Body: body}
		o, err := p.Operation(svc, req)
		if err != nil {
			check(t, err)
			return
		}
		in := newInput(o.Name)
		if err := p.Decode(o, req, in); err != nil {
			check(t, err)
			return
		}
		// Re-encode the input as if it were an output: exercises the writer.
		w := httptest.NewRecorder()
		_ = p.Encode(w, &awsproto.Operation{Name: o.Name, Service: svc, Output: o.Input}, in, "rid")
		var back = newInput(o.Name)
		r2 := &awsproto.Request{HTTP: r, Body: w.Body.Bytes()}
		if err := p.Decode(o, r2, back); err != nil {
			t.Fatalf("re-decode of %s: %v", w.Body.Bytes(), err)
		}
	})
}

func check(t *testing.T, err error) {
	var e *awsproto.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("not a 4xx *Error: %v", err)
	}
}
