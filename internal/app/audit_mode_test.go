package app

import (
	"context"
	"testing"
)

// TestAuditAsyncReadsWiring: Config.AuditAsyncReads reaches the server;
// without it (the default) every call's audit record is durable before its
// answer.
func TestAuditAsyncReadsWiring(t *testing.T) {
	for _, async := range []bool{false, true} {
		rp, err := Open(context.Background(), Config{DataDir: t.TempDir(), Dev: true, RootAccessKey: DevAccessKey, RootSecretKey: DevSecretKey,
			AuditAsyncReads: async})
		if err != nil {
			t.Fatal(err)
		}
		got := rp.Handler.AuditAsyncReads()
		if err := rp.Close(); err != nil {
			t.Fatal(err)
		}
		if got != async {
			t.Errorf("Config.AuditAsyncReads %v: the server's is %v", async, got)
		}
	}
}
