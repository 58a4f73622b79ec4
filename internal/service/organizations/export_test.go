package organizations

import "time"

// SetInterrupt makes CreateAccount stop, when f says so, between creating
// the account and recording it, as a crash would.
func SetInterrupt(s *Service, f func() bool) { s.interrupt = f }

// SetCreateAccountTimeout changes how long a CreateAccount request stays
// IN_PROGRESS before it is settled from what exists.
func SetCreateAccountTimeout(s *Service, d time.Duration) { s.createTimeout.Store(int64(d)) }

// CachedAccounts is how many accounts g holds guardrails for.
func CachedAccounts(g *Guardrails) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.cache)
}

// SetMaxCachedAccounts lowers the bound of that cache.
func SetMaxCachedAccounts(g *Guardrails, n int) { g.maxCached = n }
