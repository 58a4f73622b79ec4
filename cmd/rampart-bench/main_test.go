package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rampart/rampart/internal/rampartest"
)

// TestEveryOperation drives each operation of the load tool for a few
// requests against an in-process rampart, as a user would run it against
// `rampart dev`: every request must succeed, and the figures are printed,
// the server's CPU time included (the server is this process).
func TestEveryOperation(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	role, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("bench"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::` + srv.Account + `:root"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("bench"), PolicyName: aws.String("info"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo","Resource":"*"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	// Root may not assume a role (AWS's rule): the sts:AssumeRole operations
	// run as a user allowed to.
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String("bench"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + aws.ToString(role.Role.Arn) + `"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^op (\S+), concurrency 2, \S+: (\d+) requests, \d+ req/s, p50 \S+, p99 \S+, errors (\d+)\n`)
	for _, op := range opNames() {
		t.Run(op, func(t *testing.T) {
			var out bytes.Buffer
			args := []string{"--endpoint", srv.URL, "--op", op, "--concurrency", "2", "--requests", "20", "--pid", strconv.Itoa(os.Getpid())}
			if strings.HasPrefix(op, "sts:AssumeRole") || strings.HasSuffix(op, "@session") {
				args = append(args, "--role-arn", aws.ToString(role.Role.Arn),
					"--access-key", aws.ToString(key.AccessKey.AccessKeyId), "--secret-key", aws.ToString(key.AccessKey.SecretAccessKey))
			}
			err := run(args, &out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			m := line.FindStringSubmatch(out.String())
			if m == nil || m[1] != op || m[2] != "20" || m[3] != "0" {
				t.Fatalf("figures: %q", out.String())
			}
			if !regexp.MustCompile(`server cpu: \S+ total, [0-9.]+ µs/request`).MatchString(out.String()) {
				t.Fatalf("no server CPU figure: %q", out.String())
			}
		})
	}
	var out bytes.Buffer
	if err := run([]string{"--endpoint", srv.URL, "--op", "kms:Nothing"}, &out); err == nil {
		t.Fatal("an unknown --op was accepted")
	} else if want := fmt.Sprintf("unknown --op %q", "kms:Nothing"); !strings.Contains(err.Error(), want) {
		t.Fatalf("unknown --op: %v", err)
	}
}
