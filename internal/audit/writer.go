package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart/rampart/internal/store"
)

// ErrClosed is returned by [Writer.Record] after [Writer.Close].
var ErrClosed = errors.New("audit: writer closed")

// Options configure a [Writer]. The zero value is usable.
type Options struct {
	// MaxBatch caps the events written in one AppendAudit call (default 1024).
	MaxBatch int
	// Sensitive is applied to every event's requestParameters,
	// responseElements and additionalEventData, in addition to [Baseline].
	Sensitive Sensitive
	// Now and Rand fill eventTime and eventID when the event lacks them
	// (default time.Now and crypto/rand), so tests need not sleep or guess.
	Now  func() time.Time
	Rand io.Reader
	// CommitDelay is how long a write may wait for events that are on their
	// way (see [Writer.Expect]) so that they share its commit, as
	// PostgreSQL's commit_delay does with commit_siblings. The write never
	// waits when no event is expected, so a lone request is not delayed.
	// 0: never wait.
	CommitDelay time.Duration
	// LagLimit bounds how long an event given to [Writer.Enqueue] may wait
	// in memory for companions before its commit starts, when nobody waits
	// on that commit (default 1 ms). It trades a little of the window in
	// which a crash loses the records of answered reads for fewer fsyncs.
	LagLimit time.Duration
}

// Writer stores events durably with group commit: one goroutine takes
// everything queued, writes it in one [store.Store.AppendAudit] call (one
// transaction, one fsync) and wakes every waiter. An idle writer flushes a
// lone recorded event at once; under load, events queue while a write is in
// flight and go out together in the next one. Only a batch that nobody
// waits on (Enqueue) waits, up to Options.LagLimit, for more.
type Writer struct {
	st        store.Store
	opts      Options
	sensitive Sensitive

	mu      sync.Mutex
	queue   []*pending
	closed  bool
	wake    chan struct{} // capacity 1
	done    chan struct{} // closed when the loop has drained and exited
	closing sync.Once

	// expected counts events announced by Expect and not yet queued.
	expected atomic.Int64

	events, commits atomic.Uint64 // written, for Stats

	// failed holds the first error of a commit that carried enqueued
	// events (nobody was waiting to hear it) or the record of a change
	// (RecordChange: the call took effect): the trail has a gap, and every
	// later Enqueue and Record fails with it.
	failed atomic.Pointer[error]
}

// Stats reports how many events the Writer has stored and in how many
// commits (AppendAudit calls): their ratio is the group commit's batch size.
func (w *Writer) Stats() (events, commits uint64) {
	return w.events.Load(), w.commits.Load()
}

// Expect announces an event that will be recorded soon (the server calls it
// when a request arrives); Record retires it. With Options.CommitDelay, a
// write waits a little for expected events, so that under load each commit
// (and its fsync) carries more of them.
func (w *Writer) Expect() { w.expected.Add(1) }

// Unexpect retires an Expect whose event will not be recorded.
func (w *Writer) Unexpect() { w.expected.Add(-1) }

type pending struct {
	row    store.AuditRow
	err    chan error // capacity 1
	async  bool       // Enqueue: nobody waits on err
	change bool       // RecordChange: a failed commit leaves a gap
	flush  bool       // Flush: no row; told when the events queued before it are durable
}

var pendingPool = sync.Pool{New: func() any { return &pending{err: make(chan error, 1)} }}

// NewWriter starts a Writer on st. Call Close to stop it.
func NewWriter(st store.Store, opts Options) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LagLimit <= 0 {
		opts.LagLimit = time.Millisecond
	}
	w := &Writer{
		st:        st,
		opts:      opts,
		sensitive: Any(Baseline, opts.Sensitive),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	go w.loop()
	return w
}

// Record completes e's defaults, redacts it, and returns once it is durably
// stored (or storing it failed). Defaults: eventVersion [EventVersion],
// eventTime now, eventID a random UUID, eventType "AwsApiCall",
// eventCategory "Management", managementEvent true, userIdentity.type
// "Unknown". Record fills e's defaults and does not keep e; redaction
// happens while encoding, so e's parameters are left as they were.
//
// If ctx ends first Record returns ctx.Err(); the event may still be stored.
func (w *Writer) Record(ctx context.Context, e *Event) error {
	return w.record(ctx, e, false)
}

// RecordChange is Record for the event of a call that has taken effect (its
// transaction committed): if the commit of its record fails, the trail
// lacks a change, so the Writer keeps the error as it does for a failed
// commit of enqueued events (see Err) — even when ctx ended first and
// nobody hears of the failure.
func (w *Writer) RecordChange(ctx context.Context, e *Event) error {
	return w.record(ctx, e, true)
}

func (w *Writer) record(ctx context.Context, e *Event, change bool) error {
	p, err := w.queueEvent(e, false, change)
	if err != nil {
		return err
	}
	select {
	case err := <-p.err:
		p.row = store.AuditRow{}
		pendingPool.Put(p)
		return err
	case <-ctx.Done():
		// p stays with the loop, which will send into its buffered channel;
		// it is not returned to the pool.
		return ctx.Err()
	}
}

// Enqueue is Record without the wait: it returns once the event is encoded
// and queued, and the event is durable when the commit in flight or the
// next one (within Options.LagLimit) completes. The server uses it only
// when configured to (server.Config.AuditAsyncReads; by default it Records
// every call), for calls that changed nothing, as PostgreSQL lets a
// read-only transaction end without waiting for a WAL flush: the record of
// a change is always durable before the change is acknowledged (Record),
// the record of a read may be lost with the last millisecond of reads if
// rampart or its machine crashes. A commit that fails with enqueued events
// in it cannot be reported to their callers, who have their answers: the
// Writer keeps the error and fails every later Enqueue and Record with it,
// so the trail's gap is not followed by calls that go unrecorded.
func (w *Writer) Enqueue(e *Event) error {
	_, err := w.queueEvent(e, true, false)
	return err
}

// Flush returns once every event queued before it (by Record or Enqueue)
// is durable, or with the error that kept one from being stored. Readers
// of the trail call it first, to see the calls answered so far.
func (w *Writer) Flush(ctx context.Context) error {
	if err := w.Err(); err != nil {
		return err
	}
	p := pendingPool.Get().(*pending)
	p.row, p.async, p.flush, p.change = store.AuditRow{}, false, true, false
	if !w.push(p) {
		pendingPool.Put(p)
		// Close is draining the queue: its last commit decides.
		select {
		case <-w.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		return w.Err()
	}
	select {
	case err := <-p.err:
		pendingPool.Put(p)
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the error of a failed commit that carried enqueued events
// (see Enqueue) or the record of a change (RecordChange), or nil. Once set
// it stays: the trail has a gap, and the server refuses every call before
// its handler runs (internal/server) until rampart is restarted and the
// store has recovered its audit trail.
func (w *Writer) Err() error {
	if f := w.failed.Load(); f != nil {
		return *f
	}
	return nil
}

// queueEvent encodes e and queues it for the loop.
func (w *Writer) queueEvent(e *Event, async, change bool) (*pending, error) {
	// The event is no longer on its way, whether it is queued or refused.
	if w.expected.Load() > 0 {
		w.expected.Add(-1)
	}
	if err := w.Err(); err != nil {
		return nil, err
	}
	row, err := w.row(e)
	if err != nil {
		return nil, err
	}
	p := pendingPool.Get().(*pending)
	p.row, p.async, p.flush, p.change = row, async, false, change
	if !w.push(p) {
		p.row = store.AuditRow{}
		pendingPool.Put(p)
		return nil, ErrClosed
	}
	return p, nil
}

// push queues p for the loop and wakes it; false means the Writer is closed
// and p was not queued.
func (w *Writer) push(p *pending) bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, p)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // the loop is already awake or will look at the queue before sleeping
	}
	return true
}

// scratch is the reusable state of one encoding.
type scratch struct {
	buf  []byte
	path []string
}

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, 0, 4096), path: make([]string, 0, 8)} }}

// row fills defaults, redacts and encodes e. It leaves e's parameters as
// they were: redaction happens while encoding (see appendEvent).
func (w *Writer) row(e *Event) (store.AuditRow, error) {
	if e.EventVersion == "" {
		e.EventVersion = EventVersion
	}
	if e.EventTime.IsZero() {
		e.EventTime = Time{w.opts.Now()}
	}
	e.EventTime = Time{e.EventTime.UTC()}
	if e.EventID == "" {
		id, err := NewEventID(w.opts.Rand)
		if err != nil {
			return store.AuditRow{}, err
		}
		e.EventID = id
	}
	if e.EventType == "" {
		e.EventType = EventTypeAwsAPICall
	}
	if e.EventCategory == "" {
		e.EventCategory = CategoryManagement
		e.ManagementEvent = true
	}
	if e.UserIdentity.Type == "" {
		e.UserIdentity.Type = IdentityUnknown
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	buf, err := w.appendEvent(sc.buf[:0], e, &sc.path)
	if err != nil {
		return store.AuditRow{}, fmt.Errorf("audit: encode event: %w", err)
	}
	if cap(buf) <= 64<<10 {
		sc.buf = buf
	}
	body := slices.Clone(buf)
	account := e.RecipientAccountID
	if account == "" {
		account = e.UserIdentity.AccountID
	}
	return store.AuditRow{
		Time:    e.EventTime.Time,
		Account: account,
		Region:  e.AWSRegion,
		EventID: e.EventID,
		Body:    body,
	}, nil
}

// redact hides sensitive members of a requestParameters-like value. Its root
// must be an object (or null): CloudTrail writes nothing else there but
// [Hidden], and a string or list at the root has no member names to judge
// by (a JSON document passed as a Go string would be stored verbatim), so
// any other root is replaced by Hidden.
func (w *Writer) redact(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	r, err := Redact(v, w.sensitive)
	if err != nil {
		return nil, err
	}
	switch r.(type) {
	case nil, map[string]any:
		return r, nil
	}
	return Hidden, nil
}

func (w *Writer) loop() {
	defer close(w.done)
	var batch []*pending
	rows := make([]store.AuditRow, 0, 64)
	for {
		w.mu.Lock()
		n := min(len(w.queue), w.opts.MaxBatch)
		batch = append(batch[:0], w.queue[:n]...)
		// Shift the rest down rather than reslicing, so the queue's backing array is reused.
		rest := copy(w.queue, w.queue[n:])
		clear(w.queue[rest:])
		w.queue = w.queue[:rest]
		closed := w.closed
		w.mu.Unlock()

		if len(batch) == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		if w.opts.CommitDelay > 0 && !closed && w.expected.Load() > 0 && len(batch) < w.opts.MaxBatch {
			batch = w.gather(batch)
		}
		if !closed && allAsync(batch) && len(batch) < w.opts.MaxBatch {
			// Nobody waits on this commit: let it collect company for up
			// to LagLimit (or until someone does wait).
			batch = w.linger(batch)
		}
		rows = rows[:0]
		for _, p := range batch {
			if !p.flush {
				rows = append(rows, p.row)
			}
		}
		var err error
		if len(rows) > 0 {
			// Not the caller's context: a batch serves many callers, and a
			// cancelled one must not fail the others.
			err = w.st.AppendAudit(context.Background(), rows)
			if err == nil {
				w.events.Add(uint64(len(rows)))
				w.commits.Add(1)
			}
		} else {
			err = w.Err() // a Flush after a failed commit of enqueued events
		}
		for _, p := range batch {
			if err != nil && (p.async || p.change) {
				// Nobody may hear of it, or the call took effect: the
				// trail has a gap either way.
				w.failed.CompareAndSwap(nil, &err)
			}
			if p.async {
				p.row = store.AuditRow{}
				pendingPool.Put(p)
				continue
			}
			p.err <- err
		}
		clear(batch)
	}
}

// gather waits up to CommitDelay for expected events and adds them to batch.
func (w *Writer) gather(batch []*pending) []*pending {
	timer := time.NewTimer(w.opts.CommitDelay)
	defer timer.Stop()
	for w.expected.Load() > 0 && len(batch) < w.opts.MaxBatch {
		select {
		case <-timer.C:
			return w.take(batch)
		case <-w.wake:
			batch = w.take(batch)
		}
	}
	return w.take(batch)
}

func allAsync(batch []*pending) bool {
	for _, p := range batch {
		if !p.async {
			return false
		}
	}
	return true
}

// linger waits up to LagLimit for more events while every event in batch
// is an enqueued one; an event someone waits on ends the wait.
func (w *Writer) linger(batch []*pending) []*pending {
	timer := time.NewTimer(w.opts.LagLimit)
	defer timer.Stop()
	for len(batch) < w.opts.MaxBatch && allAsync(batch) {
		select {
		case <-timer.C:
			return w.take(batch)
		case <-w.wake:
			w.mu.Lock()
			closed := w.closed
			w.mu.Unlock()
			batch = w.take(batch)
			if closed {
				return batch
			}
		}
	}
	return batch
}

// take moves queued events into batch, up to MaxBatch.
func (w *Writer) take(batch []*pending) []*pending {
	w.mu.Lock()
	n := min(len(w.queue), w.opts.MaxBatch-len(batch))
	batch = append(batch, w.queue[:n]...)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	w.mu.Unlock()
	return batch
}

// Close stops accepting events, waits until every queued event is written,
// and returns. It does not close the store.
func (w *Writer) Close() error {
	w.closing.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	<-w.done
	return nil
}
