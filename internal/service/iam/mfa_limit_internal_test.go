package iam

import (
	"fmt"
	"testing"
	"time"
)

func TestMFALimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		at     time.Duration
		fail   bool // record a failure (after checking)
		ok     bool // record a success
		wantOK bool // allowed before recording
	}
	f := func(d time.Duration, allowed bool) step { return step{at: d, fail: true, wantOK: allowed} }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"four failures do not lock", []step{f(0, true), f(time.Second, true), f(2*time.Second, true), f(3*time.Second, true), {at: 4 * time.Second, wantOK: true}}},
		{"five failures lock for five minutes", []step{f(0, true), f(1, true), f(2, true), f(3, true), f(4, true),
			{at: 5, wantOK: false}, {at: 4*time.Minute + 59*time.Second, wantOK: false}, {at: 5*time.Minute + 4, wantOK: true}}},
		{"failures while locked do not count", []step{f(0, true), f(1, true), f(2, true), f(3, true), f(4, true),
			{at: time.Minute, wantOK: false}, {at: 5*time.Minute + 4, wantOK: true}, f(5*time.Minute+5, true), {at: 5*time.Minute + 6, wantOK: true}}},
		{"failures spread beyond the window do not lock", []step{f(0, true), f(time.Minute, true), f(2*time.Minute, true), f(3*time.Minute, true),
			f(5*time.Minute+time.Second, true), f(6*time.Minute, true), {at: 6*time.Minute + 1, wantOK: true}}},
		{"success resets the count", []step{f(0, true), f(1, true), f(2, true), f(3, true), {at: 4, ok: true, wantOK: true},
			f(5, true), f(6, true), {at: 7, wantOK: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l mfaLimiter
			key := mfaLimitKey("000000000000", "arn:aws:iam::000000000000:mfa/d")
			other := mfaLimitKey("000000000000", "arn:aws:iam::000000000000:mfa/other")
			for i, s := range tc.steps {
				if got := l.allowed(key, at(s.at)); got != s.wantOK {
					t.Fatalf("step %d at %v: allowed = %v, want %v", i, s.at, got, s.wantOK)
				}
				if !l.allowed(other, at(s.at)) {
					t.Fatalf("step %d: another device is locked", i)
				}
				if s.fail && s.wantOK {
					l.failed(key, at(s.at))
				}
				if s.ok {
					l.succeeded(key)
				}
			}
		})
	}
}

func TestMFALimiterBounded(t *testing.T) {
	var l mfaLimiter
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range mfaLimiterCap + 500 {
		l.failed(mfaLimitKey("000000000000", fmt.Sprint(i)), now)
	}
	if n := len(l.m); n > mfaLimiterCap {
		t.Fatalf("limiter holds %d devices, cap %d", n, mfaLimiterCap)
	}
}
