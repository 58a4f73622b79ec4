package iam_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
	iamsvc "github.com/rampart/rampart/internal/service/iam"
)

// BenchmarkAuthorizedRequest measures whole requests through the SDK
// (SigV4 signing and verification, decoding, authorization, handler,
// encoding, audit): iam:GetUser by a user with ten attached managed
// policies, next to sts:GetCallerIdentity (no authorization), at
// concurrency 1 and 16. Report requests/s as 1e9 / ns/op.
func BenchmarkAuthorizedRequest(b *testing.B) {
	srv := rampartest.Start(b)
	ctx := context.Background()
	root := iam.NewFromConfig(srv.Config())
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		var stmts []string
		for j := range 5 {
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["svc%d:Get%d","svc%d:List*"],"Resource":"arn:aws:svc%d:*:*:thing/%d/*"}`, i, j, i, i, j))
		}
		if i == 9 {
			stmts = append(stmts, `{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}`)
		}
		p, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench"), PolicyArn: p.Policy.Arn}); err != nil {
			b.Fatal(err)
		}
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	cfg := srv.ConfigFor(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	ic, sc := iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	ops := map[string]func() error{
		"GetUser": func() error {
			_, err := ic.GetUser(ctx, &iam.GetUserInput{})
			return err
		},
		"GetCallerIdentity": func() error {
			_, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		},
	}
	for _, name := range []string{"GetUser", "GetCallerIdentity"} {
		op := ops[name]
		for _, conc := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/c%d", name, conc), func(b *testing.B) {
				if err := op(); err != nil {
					b.Fatal(err)
				}
				if conc == 1 {
					for b.Loop() {
						if err := op(); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism((conc + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := op(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkKeyUsed measures what recording an access key's use costs a
// request (the store write happens later, in a batch), from 16 goroutines
// over 1,000 keys.
func BenchmarkKeyUsed(b *testing.B) {
	srv := rampartest.Start(b)
	svc := iamsvc.New(srv.Store, srv.Barrier)
	defer svc.Close()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("AKIA%016d", i)
	}
	now := time.Now()
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			svc.KeyUsed(keys[i%len(keys)], "iam", "us-east-1", now)
			i++
		}
	})
}

// BenchmarkQRCode measures rendering an MFA device's QR code PNG.
func BenchmarkQRCode(b *testing.B) {
	srv := rampartest.Start(b)
	c := iam.NewFromConfig(srv.Config())
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("d%d", i)
		if _, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)}); err != nil {
			b.Fatal(err)
		}
	}
}
