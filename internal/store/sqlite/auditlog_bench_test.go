//go:build unix

package sqlite

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuditAppend: one durable AppendAudit of n rows of ~1.2 KB, to
// the audit log (O_DIRECT where available, and buffered) and to the SQLite
// audit table it replaces. Besides the wall time it reports the process's
// CPU time per row (cpu-µs/row): what a commit costs the server, shared by
// the events of one group commit.
func BenchmarkAuditAppend(b *testing.B) {
	body := make([]byte, 1200)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	for _, target := range []string{"log", "log-buffered", "table"} {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/rows=%d", target, n), func(b *testing.B) {
				bufferedAuditLog = target == "log-buffered"
				defer func() { bufferedAuditLog = false }()
				s, err := Open(filepath.Join(b.TempDir(), "rampart.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				rows := make([]store.AuditRow, n)
				for i := range rows {
					rows[i] = store.AuditRow{Time: time.Now(), Account: "000000000000", Region: "us-east-1", EventID: fmt.Sprintf("%036d", i), Body: body}
				}
				cpu0 := processCPU()
				for b.Loop() {
					if target == "table" {
						err = s.appendAuditTable(ctx, rows)
					} else {
						err = s.AppendAudit(ctx, rows)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N*n), "cpu-µs/row")
			})
		}
	}
}
