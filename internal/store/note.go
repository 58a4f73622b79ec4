package store

import (
	"context"
	"sync/atomic"
)

type writeNoteKey struct{}

// WithWriteNote returns a context under which every [Store.Update] sets
// *wrote before it begins. The server runs each request's handler under
// one, to tell the calls that may have changed state (their audit record
// must be durable before the answer) from those that only read.
func WithWriteNote(ctx context.Context, wrote *atomic.Bool) context.Context {
	return context.WithValue(ctx, writeNoteKey{}, wrote)
}

// NoteWrite is called by every backend at the start of Update: it sets the
// flag of ctx's WithWriteNote, if any. An Update that fails or rolls back
// counts too: the flag means "may have written".
func NoteWrite(ctx context.Context) {
	if wrote, ok := ctx.Value(writeNoteKey{}).(*atomic.Bool); ok {
		wrote.Store(true)
	}
}
