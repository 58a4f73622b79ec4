package json_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rampart/rampart/internal/awsproto"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchJSON(b *testing.B, target, body string, newIn func() any, out any) {
	svc := kmsService()
	p := awsjson.New()
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Amz-Target", target)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
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

var ciphertext = make([]byte, 184)

func BenchmarkKMSEncrypt(b *testing.B) {
	benchJSON(b, "TrentService.Encrypt",
		`{"KeyId":"arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab","Plaintext":"c2VjcmV0IGRhdGEgdG8gZW5jcnlwdA==","EncryptionContext":{"purpose":"test"}}`,
		func() any { return &EncryptInput{} },
		&EncryptOutput{CiphertextBlob: ciphertext, KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT"})
}

func BenchmarkKMSDecrypt(b *testing.B) {
	body := `{"CiphertextBlob":"` + base64.StdEncoding.EncodeToString(ciphertext) + `","EncryptionContext":{"purpose":"test"}}`
	benchJSON(b, "TrentService.Decrypt", body,
		func() any { return &DecryptInput{} },
		&DecryptOutput{KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"), Plaintext: []byte("secret data to encrypt"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT"})
}
