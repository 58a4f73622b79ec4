package sts_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// signedCall sends one request signed by the SDK's SigV4 signer at the
// server's (test) clock — the SDK clients sign at the real time, which a
// server clock moved hours ahead would reject as skewed. It calls STS
// GetCallerIdentity (query protocol) or KMS ListKeys (json protocol) and
// returns the HTTP status and the error code and message, if any.
func (e *env) signedCall(t *testing.T, c *ststypes.Credentials, jsonService bool) (status int, code, msg string) {
	t.Helper()
	body, svc := "Action=GetCallerIdentity&Version=2011-06-15", "sts"
	if jsonService {
		body, svc = "{}", "kms"
	}
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if jsonService {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), svc, "us-east-1", e.clock()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		return 200, "", ""
	}
	if jsonService {
		var v struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			Message2 string `json:"Message"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("json error body %q: %v", raw, err)
		}
		if i := strings.LastIndexByte(v.Type, '#'); i >= 0 {
			v.Type = v.Type[i+1:]
		}
		if v.Message == "" {
			v.Message = v.Message2
		}
		return resp.StatusCode, v.Type, v.Message
	}
	var x struct {
		Error struct {
			Code    string
			Message string
		}
	}
	if err := xml.Unmarshal(raw, &x); err != nil {
		t.Fatalf("xml error body %q: %v", raw, err)
	}
	return resp.StatusCode, x.Error.Code, x.Error.Message
}
