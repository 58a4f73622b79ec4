package kms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/rampartest"
)

var ctx = context.Background()

func start(t *testing.T) (*rampartest.Server, *kms.Client) {
	t.Helper()
	srv := rampartest.Start(t)
	return srv, kms.NewFromConfig(srv.Config())
}

func startB(b *testing.B) (*rampartest.Server, *kms.Client) {
	srv := rampartest.Start(b)
	return srv, kms.NewFromConfig(srv.Config())
}

func createKey(t *testing.T, c *kms.Client, in *kms.CreateKeyInput) *types.KeyMetadata {
	t.Helper()
	if in == nil {
		in = &kms.CreateKeyInput{}
	}
	out, err := c.CreateKey(ctx, in)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return out.KeyMetadata
}

// wantErr checks an AWS error's code, HTTP status and (a part of) its message.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code %q (%v); want %q", ae.ErrorCode(), err, code)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("status %d; want %d", re.HTTPStatusCode(), status)
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("message %q lacks %q", ae.ErrorMessage(), msg)
	}
}

func keyState(t *testing.T, c *kms.Client, id string) types.KeyState {
	t.Helper()
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	return out.KeyMetadata.KeyState
}
