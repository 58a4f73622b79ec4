package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
)

// BenchmarkGetCallerIdentity drives the whole server (HTTP, SigV4, codec,
// audit record) through the AWS SDK, 16 requests in flight. The SDK's own
// CPU is in the figure too; the load tool (cmd/rampart-bench) measures the
// server's share alone.
func BenchmarkGetCallerIdentity(b *testing.B) {
	srv := rampartest.Start(b)
	client := sts.NewFromConfig(srv.Config())
	ctx := context.Background()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
