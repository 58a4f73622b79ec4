package iam

import (
	"sync"
	"time"
)

// Failed MFA codes are rate-limited per device: a six-digit code has a
// million values, so unlimited guesses would find one. After
// mfaMaxFailures consecutive wrong codes within mfaFailureWindow, the
// device refuses every code — right or wrong — for mfaLockout, with the
// same error a wrong code gets, so the limit reveals nothing about the
// codes tried. A code that checks out resets the count.
//
// The counter is kept in memory per node (not in the store): it survives
// neither restarts nor spans nodes, which bounds an attacker to
// mfaMaxFailures guesses per mfaLockout per node.
const (
	mfaMaxFailures   = 5
	mfaFailureWindow = 5 * time.Minute
	mfaLockout       = 5 * time.Minute
	// mfaLimiterCap bounds the number of devices tracked.
	mfaLimiterCap = 10_000
)

// mfaLimiter counts consecutive failed codes per device, keyed by
// account and serial number. Its zero value is ready to use.
type mfaLimiter struct {
	mu sync.Mutex
	m  map[string]*mfaFailures
}

type mfaFailures struct {
	first  time.Time // first failure of the current window
	n      int       // consecutive failures since first
	locked time.Time // refuse every code until then
}

func mfaLimitKey(acct, serial string) string { return acct + "|" + serial }

// allowed tells whether the device key may be tried at now.
func (l *mfaLimiter) allowed(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[key]
	return f == nil || !now.Before(f.locked)
}

// failed records a wrong code for key at now.
func (l *mfaLimiter) failed(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[key]
	if f == nil {
		if l.m == nil {
			l.m = map[string]*mfaFailures{}
		}
		if len(l.m) >= mfaLimiterCap {
			l.evict(now)
		}
		f = &mfaFailures{}
		l.m[key] = f
	}
	if f.n == 0 || now.Sub(f.first) > mfaFailureWindow || now.Before(f.first) {
		f.first, f.n = now, 0
	}
	f.n++
	if f.n >= mfaMaxFailures {
		f.locked = now.Add(mfaLockout)
		f.first, f.n = now, 0
	}
}

// succeeded resets the count of key.
func (l *mfaLimiter) succeeded(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

// evict drops the entries that no longer matter at now (window passed,
// not locked); when every entry still matters it drops the unlocked ones
// first, then an arbitrary one, so the map stays bounded. Called with
// l.mu held.
func (l *mfaLimiter) evict(now time.Time) {
	for k, f := range l.m {
		if !now.Before(f.locked) && now.Sub(f.first) > mfaFailureWindow {
			delete(l.m, k)
		}
	}
	if len(l.m) < mfaLimiterCap {
		return
	}
	for k, f := range l.m {
		if !now.Before(f.locked) {
			delete(l.m, k)
			if len(l.m) < mfaLimiterCap {
				return
			}
		}
	}
	for k := range l.m {
		delete(l.m, k)
		if len(l.m) < mfaLimiterCap {
			return
		}
	}
}
