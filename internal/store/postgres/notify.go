package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

// maxPayload bounds a notification payload: PostgreSQL refuses payloads of
// 8000 bytes or more.
const maxPayload = 7900

// notice is the JSON payload of a change notification. Exactly one of C, T,
// All is set: the changed (table, key) pairs; when those do not fit, the
// tables changed; when even those do not fit, "everything".
type notice struct {
	N   string      `json:"n"` // sending node
	C   [][2]string `json:"c,omitempty"`
	T   []string    `json:"t,omitempty"`
	All bool        `json:"all,omitempty"`
}

// payload encodes changes for NOTIFY, degrading to table-wide and then to
// store-wide invalidation when they do not fit.
func (s *Store) payload(changes []store.Change) string {
	n := notice{N: s.node, C: make([][2]string, len(changes))}
	for i, c := range changes {
		n.C[i] = [2]string{c.Table, c.Key}
	}
	if b, err := json.Marshal(n); err == nil && len(b) <= maxPayload {
		return string(b)
	}
	n.C = nil
	seen := map[string]bool{}
	for _, c := range changes {
		if !seen[c.Table] {
			seen[c.Table] = true
			n.T = append(n.T, c.Table)
		}
	}
	if b, err := json.Marshal(n); err == nil && len(b) <= maxPayload {
		return string(b)
	}
	n.T, n.All = nil, true
	b, _ := json.Marshal(n)
	return string(b)
}

// decode turns a payload into changes; own reports a notification this
// Store sent (already delivered locally at commit).
func (s *Store) decode(payload string) (changes []store.Change, own bool) {
	var n notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		// Not ours to understand (another tool on the channel, or a newer
		// format): the safe reading is "anything may have changed".
		return []store.Change{{}}, false
	}
	if n.N == s.node {
		return nil, true
	}
	switch {
	case n.All:
		return []store.Change{{}}, false
	case len(n.T) > 0:
		for _, t := range n.T {
			changes = append(changes, store.Change{Table: t})
		}
		return changes, false
	}
	for _, c := range n.C {
		changes = append(changes, store.Change{Table: c[0], Key: c[1]})
	}
	return changes, false
}

func (s *Store) deliver(changes []store.Change) {
	s.subMu.Lock()
	fns := make([]func([]store.Change), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.subMu.Unlock()
	for _, fn := range fns {
		fn(changes)
	}
}

// deliverRemote delivers changes heard from another node.
func (s *Store) deliverRemote(changes []store.Change) {
	if len(changes) == 0 || !s.hasSubs.Load() {
		return
	}
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	s.deliver(changes)
}

// Subscribe implements [store.Store]. Besides this Store's own commits
// (delivered after commit, before Update returns), fn hears other nodes'
// commits shortly after they happen, in their commit order, from the
// listener goroutine. Those may be coarser than (table, key):
//
//   - Change{Table: t, Key: ""}: anything in table t may have changed (the
//     keys did not fit in one notification);
//   - Change{} (empty table and key): anything at all may have changed
//     (the tables did not fit, or the listener lost its connection and
//     notifications may have been missed while it reconnected).
//
// A cache that treats an empty Key as "every key of Table" and an empty
// Table as "every table" is correct; it only over-invalidates when a
// service really writes the key "".
func (s *Store) Subscribe(fn func(changes []store.Change)) (cancel func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = fn
	s.hasSubs.Store(true)
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		delete(s.subs, id)
		s.hasSubs.Store(len(s.subs) > 0)
	}
}

// listenConn opens a dedicated connection listening on the channel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.cfg.Copy()
	cfg.RuntimeParams["application_name"] = "rampart listen " + s.node
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// startListener connects the listener before Open returns, so that every
// commit made after Open is heard, then keeps it running in the background.
func (s *Store) startListener(ctx context.Context) error {
	c, err := s.listenConn(ctx)
	if err != nil {
		return err
	}
	s.bg.Add(1)
	go s.listen(c)
	return nil
}

// listen waits for notifications; when the connection breaks it reconnects
// with backoff and then delivers a store-wide invalidation, since whatever
// was committed in between went unheard.
func (s *Store) listen(c *pgx.Conn) {
	defer s.bg.Done()
	backoff := 50 * time.Millisecond
	for {
		for c != nil {
			n, err := c.WaitForNotification(s.ctx)
			if err != nil {
				c.Close(context.Background())
				c = nil
				if s.ctx.Err() != nil {
					return
				}
				slog.Warn("postgres: change listener lost its connection; reconnecting", "err", err)
				break
			}
			backoff = 50 * time.Millisecond
			if changes, own := s.decode(n.Payload); !own {
				s.deliverRemote(changes)
			}
		}
		for c == nil {
			timer := time.NewTimer(backoff)
			select {
			case <-s.ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			backoff = min(2*backoff, 5*time.Second)
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			var err error
			c, err = s.listenConn(ctx)
			cancel()
			if err != nil {
				if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
					return
				}
				slog.Warn("postgres: change listener cannot reconnect", "err", err)
				continue
			}
			s.deliverRemote([]store.Change{{}})
		}
	}
}
