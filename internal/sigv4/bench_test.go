package sigv4

import (
	"net/http"
	"testing"
	"time"
)

// Benchmarks of the per-request work with a warm key cache: Parse and Verify
// of requests signed by the Go SDK, as the server reads them off the wire.
// The body hash is the caller's and is left out.

func benchRequest(b *testing.B, name string) (*http.Request, string) {
	b.Helper()
	_, r := sdkSign(b, sdkCases[name], testSecret)
	return r, readBodyHash(b, r)
}

func benchParseVerify(b *testing.B, name string) {
	r, payload := benchRequest(b, name)
	v := NewVerifier()
	now := signTime.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		a, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Verify(r, a, testSecret, payload, now); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, name string) {
	r, payload := benchRequest(b, name)
	v := NewVerifier()
	now := signTime.Add(time.Minute)
	a, err := Parse(r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(r, a, testSecret, payload, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVerifySTSQuery(b *testing.B) { benchParseVerify(b, "sts query POST") }
func BenchmarkParseVerifyKMSJSON(b *testing.B)  { benchParseVerify(b, "kms json with session token") }
func BenchmarkVerifySTSQuery(b *testing.B)      { benchVerify(b, "sts query POST") }
func BenchmarkVerifyKMSJSON(b *testing.B)       { benchVerify(b, "kms json with session token") }
func BenchmarkParseKMSJSON(b *testing.B) {
	r, _ := benchRequest(b, "kms json with session token")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(r); err != nil {
			b.Fatal(err)
		}
	}
}

// A cold cache derives the key: four more HMACs.
func BenchmarkVerifyColdKey(b *testing.B) {
	r, payload := benchRequest(b, "sts query POST")
	a, _ := Parse(r)
	now := signTime.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if err := NewVerifierSize(1).Verify(r, a, testSecret, payload, now); err != nil {
			b.Fatal(err)
		}
	}
}
