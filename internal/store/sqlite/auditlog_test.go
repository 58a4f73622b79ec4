package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
)

var ctx = context.Background()

func openLogStore(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func auditRows(from, n int, account string) []store.AuditRow {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := make([]store.AuditRow, n)
	for i := range rows {
		k := from + i
		rows[i] = store.AuditRow{
			Time:    base.Add(time.Duration(k) * time.Second),
			Account: account,
			Region:  "us-east-1",
			EventID: fmt.Sprintf("ev-%d", k),
			Body:    fmt.Appendf(nil, `{"n":%d,"pad":%q}`, k, strings.Repeat("x", k%300)),
		}
	}
	return rows
}

func eventIDs(rows []store.AuditRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.EventID)
	}
	return out
}

func queryAll(t *testing.T, s *Store, q store.AuditQuery) []store.AuditRow {
	t.Helper()
	rows, err := s.QueryAudit(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func wantIDs(t *testing.T, got []store.AuditRow, from, to int) {
	t.Helper()
	var want []string
	for k := from; k < to; k++ {
		want = append(want, fmt.Sprintf("ev-%d", k))
	}
	if g := eventIDs(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Fatalf("events %v\nwant %v", g, want)
	}
}

func segmentFiles(t *testing.T, dbPath string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dbPath+auditLogSuffix, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// bothIOModes runs test with O_DIRECT (where the file system has it) and
// with buffered writes.
func bothIOModes(t *testing.T, test func(t *testing.T)) {
	t.Run("direct", test)
	t.Run("buffered", func(t *testing.T) {
		bufferedAuditLog = true
		defer func() { bufferedAuditLog = false }()
		test(t)
	})
}

func TestAuditLogSegments(t *testing.T) { bothIOModes(t, testAuditLogSegments) }

func TestAuditLogTornTail(t *testing.T) { bothIOModes(t, testAuditLogTornTail) }

// testAuditLogSegments: many batches over small segments, read back in
// both orders with every filter, across a reopen.
func testAuditLogSegments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path, withSegmentSize(8<<10))
	var all []store.AuditRow
	for b := range 40 {
		acct := "111111111111"
		if b%2 == 1 {
			acct = "222222222222"
		}
		rows := auditRows(b*5, 5, acct)
		if err := s.AppendAudit(ctx, rows); err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
	}
	if s.audit.direct == bufferedAuditLog && !bufferedAuditLog {
		t.Log("the file system refuses O_DIRECT: buffered writes")
	}
	if n := len(segmentFiles(t, path)); n < 5 {
		t.Fatalf("%d segments: the test must cross segments", n)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("seq %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	check := func(s *Store) {
		t.Helper()
		got := queryAll(t, s, store.AuditQuery{})
		wantIDs(t, got, 0, 200)
		for i, r := range got {
			if r.Seq != all[i].Seq || !r.Time.Equal(all[i].Time) || r.Time.Location() != time.UTC ||
				r.Account != all[i].Account || r.Region != "us-east-1" || string(r.Body) != string(all[i].Body) {
				t.Fatalf("row %d = %+v, want %+v", i, r, all[i])
			}
		}
		wantIDs(t, queryAll(t, s, store.AuditQuery{AfterSeq: all[97].Seq, Limit: 3}), 98, 101)
		wantIDs(t, queryAll(t, s, store.AuditQuery{Start: all[50].Time, End: all[57].Time}), 50, 57)
		wantIDs(t, queryAll(t, s, store.AuditQuery{EventID: "ev-133"}), 133, 134)
		desc := queryAll(t, s, store.AuditQuery{Descending: true, Limit: 12})
		if g := eventIDs(desc); g[0] != "ev-199" || g[11] != "ev-188" || len(g) != 12 {
			t.Fatalf("descending: %v", g)
		}
		desc = queryAll(t, s, store.AuditQuery{Descending: true, BeforeSeq: all[13].Seq, Account: "222222222222"})
		if g := eventIDs(desc); !slices.Equal(g, []string{"ev-9", "ev-8", "ev-7", "ev-6", "ev-5"}) {
			t.Fatalf("descending before: %v", g)
		}
		if n := len(queryAll(t, s, store.AuditQuery{Account: "111111111111"})); n != 100 {
			t.Fatalf("%d rows of account 111111111111", n)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openLogStore(t, path, withSegmentSize(8<<10))
	check(s)
	more := auditRows(200, 3, "111111111111")
	if err := s.AppendAudit(ctx, more); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != all[len(all)-1].Seq+1 {
		t.Fatalf("seq %d after reopen, last was %d", more[0].Seq, all[len(all)-1].Seq)
	}
	wantIDs(t, queryAll(t, s, store.AuditQuery{AfterSeq: all[len(all)-1].Seq}), 200, 203)
}

// testAuditLogTornTail: what a crash can leave after the last synced
// batch (a record cut short, a record with a wrong checksum, a torn record
// followed by intact ones of the same unacknowledged batch) is dropped at
// open, the acknowledged rows all survive, and what is appended next is
// not confused with the remnants.
func testAuditLogTornTail(t *testing.T) {
	cases := map[string]func(rec []byte) []byte{
		"cut short":      func(rec []byte) []byte { return rec[:len(rec)/2] },
		"header only":    func(rec []byte) []byte { return rec[:recordHeaderSize] },
		"length only":    func(rec []byte) []byte { return rec[:3] },
		"wrong checksum": func(rec []byte) []byte { rec = slices.Clone(rec); rec[len(rec)-1] ^= 0x55; return rec },
		"torn, then intact records": func(rec []byte) []byte {
			bad := slices.Clone(rec)
			bad[recordHeaderSize+3] ^= 1
			return append(append(bad, rec...), rec...)
		},
		"huge length": func(rec []byte) []byte {
			rec = slices.Clone(rec)
			binary.LittleEndian.PutUint32(rec, 0xfffffff0)
			return rec
		},
	}
	for name, tear := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rampart.db")
			s := openLogStore(t, path)
			acked := auditRows(0, 7, "111111111111")
			if err := s.AppendAudit(ctx, acked[:4]); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendAudit(ctx, acked[4:]); err != nil {
				t.Fatal(err)
			}
			off := s.audit.off
			lastSeq := s.audit.lastSeq
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// The crash: part of a next batch reached the disk.
			next := auditRows(100, 1, "111111111111")[0]
			rec := appendRecord(nil, lastSeq+1, next.Time.UnixNano(), &next)
			segs := segmentFiles(t, path)
			f, err := os.OpenFile(segs[len(segs)-1], os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(tear(rec), off); err != nil {
				t.Fatal(err)
			}
			f.Close()

			s = openLogStore(t, path)
			got := queryAll(t, s, store.AuditQuery{})
			wantIDs(t, got, 0, 7)
			// A short append now, then a reopen: the remnants past it were zeroed.
			short := []store.AuditRow{{Time: time.Unix(5, 0), Account: "1", EventID: "ev-7", Body: []byte("{}")}}
			if err := s.AppendAudit(ctx, short); err != nil {
				t.Fatal(err)
			}
			if short[0].Seq != lastSeq+1 {
				t.Fatalf("seq %d after recovery, want %d", short[0].Seq, lastSeq+1)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openLogStore(t, path)
			wantIDs(t, queryAll(t, s, store.AuditQuery{}), 0, 8)
		})
	}
}

// TestAuditLogCorruptEarlierSegment: damage before the last records cannot
// be a torn write; Open refuses the log instead of dropping acknowledged
// events.
func TestAuditLogCorruptEarlierSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path, withSegmentSize(4<<10))
	for b := range 20 {
		if err := s.AppendAudit(ctx, auditRows(b*3, 3, "111111111111")); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	segs := segmentFiles(t, path)
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	f, err := os.OpenFile(segs[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xde, 0xad}, recordHeaderSize+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(path, withSegmentSize(4<<10))
	if !errors.Is(err, errLogCorrupt) {
		t.Fatalf("open of a corrupt log: %v", err)
	}
}

// TestAuditLogMigratesTable: rows an older rampart stored in the audit
// table move into the log at open with their sequence numbers; new rows
// come after them.
func TestAuditLogMigratesTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path)
	old := auditRows(0, 3, "111111111111")
	for i := range old {
		old[i].Seq = int64(10 + i*2)
		if _, err := s.writer.c.ExecContext(ctx, "INSERT INTO audit(seq, time, account, region, event_id, body) VALUES (?, ?, ?, ?, ?, ?)",
			old[i].Seq, old[i].Time.UnixNano(), old[i].Account, old[i].Region, old[i].EventID, old[i].Body); err != nil {
			t.Fatal(err)
		}
	}
	// Before a reopen, QueryAudit reads the table too.
	wantIDs(t, queryAll(t, s, store.AuditQuery{}), 0, 3)
	s.Close()
	s = openLogStore(t, path)
	var n int
	if err := s.writer.c.QueryRowContext(ctx, "SELECT count(*) FROM audit").Scan(&n); err != nil || n != 0 {
		t.Fatalf("audit table holds %d rows (%v)", n, err)
	}
	got := queryAll(t, s, store.AuditQuery{})
	wantIDs(t, got, 0, 3)
	for i := range got {
		if got[i].Seq != old[i].Seq || string(got[i].Body) != string(old[i].Body) {
			t.Fatalf("migrated row %+v, want %+v", got[i], old[i])
		}
	}
	more := auditRows(3, 1, "111111111111")
	if err := s.AppendAudit(ctx, more); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != 15 {
		t.Fatalf("seq %d after migrated rows up to 14", more[0].Seq)
	}
}

// TestAuditLogFailedWrite: after a failed write or sync the log accepts
// nothing more until reopened (an fsync error may have dropped pages that
// a later fsync would not report).
func TestAuditLogFailedWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path)
	if err := s.AppendAudit(ctx, auditRows(0, 2, "1")); err != nil {
		t.Fatal(err)
	}
	s.audit.f.Close() // every write now fails
	if err := s.AppendAudit(ctx, auditRows(2, 1, "1")); err == nil {
		t.Fatal("append after a failed write succeeded")
	}
	if err := s.AppendAudit(ctx, auditRows(3, 1, "1")); err == nil {
		t.Fatal("append after a failed write succeeded")
	}
	s.Close()
	s = openLogStore(t, path)
	wantIDs(t, queryAll(t, s, store.AuditQuery{}), 0, 2)
	if err := s.AppendAudit(ctx, auditRows(2, 1, "1")); err != nil {
		t.Fatal(err)
	}
}

// TestAuditLogKill: a process appending as fast as it can is killed with
// SIGKILL; every batch it reported as appended is there after reopen.
func TestAuditLogKill(t *testing.T) {
	if os.Getenv("RAMPART_AUDITLOG_CHILD") != "" {
		auditLogChild()
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "rampart.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAuditLogKill$")
		cmd.Env = append(os.Environ(), "RAMPART_AUDITLOG_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var acked []int64
		deadline := time.Now().Add(300 * time.Millisecond)
		for sc.Scan() {
			if seq, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
				acked = append(acked, seq)
			}
			if time.Now().After(deadline) && len(acked) > 20 {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() { // what it wrote before dying was acknowledged too
			if seq, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
				acked = append(acked, seq)
			}
		}
		cmd.Wait()
		s, err := Open(path, withSegmentSize(64<<10))
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		rows, err := s.QueryAudit(ctx, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]bool{}
		for i, r := range rows {
			have[r.Seq] = true
			if i > 0 && r.Seq <= rows[i-1].Seq {
				t.Fatalf("seq %d after %d", r.Seq, rows[i-1].Seq)
			}
		}
		for _, seq := range acked {
			if !have[seq] {
				t.Fatalf("round %d: acknowledged event %d lost (%d acknowledged, %d stored)", round, seq, len(acked), len(rows))
			}
		}
		t.Logf("round %d: %d acknowledged, %d stored", round, len(acked), len(rows))
		s.Close()
	}
}

func auditLogChild() {
	s, err := Open(os.Getenv("RAMPART_AUDITLOG_CHILD"), withSegmentSize(64<<10))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		rows := auditRows(i*4, 1+i%4, "111111111111")
		if err := s.AppendAudit(ctx, rows); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for _, r := range rows {
			fmt.Fprintln(w, r.Seq)
		}
		w.Flush()
	}
}

// TestAuditLogSecondProcess: a store opened while another holds the audit
// log (`rampart backup` of a serving installation; here a second Store in
// this process, which flock treats alike) reads the log as it grows, never
// touches its tail (a write may be in flight there), and appends nothing.
func TestAuditLogSecondProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	owner := openLogStore(t, path)
	if err := owner.AppendAudit(ctx, auditRows(0, 3, "111111111111")); err != nil {
		t.Fatal(err)
	}
	// A write in flight past the durable end.
	inFlight := auditRows(3, 1, "111111111111")[0]
	rec := appendRecord(nil, owner.audit.lastSeq+1, inFlight.Time.UnixNano(), &inFlight)
	segs := segmentFiles(t, path)
	f, err := os.OpenFile(segs[len(segs)-1], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(rec[:len(rec)-5], owner.audit.off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	second := openLogStore(t, path)
	if !second.audit.reader {
		t.Fatal("the second store owns the log")
	}
	wantIDs(t, queryAll(t, second, store.AuditQuery{}), 0, 3)
	b, err := os.ReadFile(segs[len(segs)-1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, rec[:len(rec)-5]) {
		t.Fatal("the second store zeroed the owner's tail")
	}
	if err := second.AppendAudit(ctx, auditRows(9, 1, "1")); !errors.Is(err, errAuditLogBusy) {
		t.Fatalf("append by the second store: %v", err)
	}
	// The owner goes on (over the bytes of its unfinished write); the
	// reader sees it.
	if err := owner.AppendAudit(ctx, auditRows(3, 2, "111111111111")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, queryAll(t, second, store.AuditQuery{}), 0, 5)
	// Once the owner is gone, the next store to open owns the log.
	owner.Close()
	second.Close()
	third := openLogStore(t, path)
	if third.audit.reader {
		t.Fatal("no owner after the others closed")
	}
	if err := third.AppendAudit(ctx, auditRows(5, 1, "1")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, queryAll(t, third, store.AuditQuery{}), 0, 6)
}

// TestAuditLogBigBatch: a batch larger than a segment goes whole into a
// new one, which grows past its zero fill.
func TestAuditLogBigBatch(t *testing.T) { bothIOModes(t, testAuditLogBigBatch) }

func testAuditLogBigBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path, withSegmentSize(4<<10))
	if err := s.AppendAudit(ctx, auditRows(0, 2, "1")); err != nil {
		t.Fatal(err)
	}
	big := auditRows(2, 60, "1") // ~12 KB
	if err := s.AppendAudit(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, auditRows(62, 3, "1")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, queryAll(t, s, store.AuditQuery{}), 0, 65)
	s.Close()
	s = openLogStore(t, path, withSegmentSize(4<<10))
	wantIDs(t, queryAll(t, s, store.AuditQuery{}), 0, 65)
	if err := s.AppendAudit(ctx, auditRows(65, 1, "1")); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, queryAll(t, s, store.AuditQuery{Descending: true, Limit: 1}), 65, 66)
}

// TestAuditLogPaging: paging through the whole trail with AfterSeq (what
// a backup does) and back with BeforeSeq reads every row once, in order,
// whatever the page size; pages start near their first row (the marks).
func TestAuditLogPaging(t *testing.T) { bothIOModes(t, testAuditLogPaging) }

func testAuditLogPaging(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := openLogStore(t, path, withSegmentSize(64<<10))
	const n = 1500
	for b := 0; b < n; b += 50 {
		if err := s.AppendAudit(ctx, auditRows(b, 50, "111111111111")); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		for _, page := range []int{1, 7, 128, 1000} {
			var got []store.AuditRow
			var after int64
			for {
				rows := queryAll(t, s, store.AuditQuery{AfterSeq: after, Limit: page})
				got = append(got, rows...)
				if len(rows) < page {
					break
				}
				after = rows[len(rows)-1].Seq
			}
			wantIDs(t, got, 0, n)
			got = got[:0]
			var before int64
			for {
				rows := queryAll(t, s, store.AuditQuery{BeforeSeq: before, Descending: true, Limit: page})
				got = append(got, rows...)
				if len(rows) < page {
					break
				}
				before = rows[len(rows)-1].Seq
			}
			slices.Reverse(got)
			wantIDs(t, got, 0, n)
		}
	}
	check(s)
	s.Close()
	check(openLogStore(t, path, withSegmentSize(64<<10)))
}
