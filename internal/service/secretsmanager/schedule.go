package secretsmanager

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// schedule is a rotation schedule: a parsed ScheduleExpression ("Schedule
// expressions in Secrets Manager rotation"), rate(N hours|days), N hours
// from 4 to 23 or days from 1 to 999, or cron(Minutes Hours Day-of-month
// Month Day-of-week Year) in UTC, where one of day-of-month and day-of-week
// is "?"; or AutomaticallyAfterDays, which is a schedule in days.
// parseSchedule reads the syntax; checkLimits applies the limits AWS
// documents for a new rule (RotateSecret), so that a schedule stored before
// a limit was enforced keeps running.
//
// Secrets Manager rotates in rotation windows (rotate-secrets_schedule.html):
// "For a rate in hours, the default rotation window starts at midnight and
// closes after one hour"; "for a rate in days, the default rotation window
// starts at midnight and closes at the end of the day"; a cron() window opens
// at the time the expression gives and closes after one hour for a schedule
// in hours, at the end of the UTC day for one in days. Duration sets the
// window's length instead. rate(N hours) therefore opens a window at midnight
// and every N hours after it, each UTC day, as cron(0 0/N * * ? *) does
// ("a cron expression that includes increments of hours resets each day");
// rate(N days) and AutomaticallyAfterDays open one at midnight N days after
// the last rotation ("Secrets Manager calculates the next rotation date based
// on the previous rotation").
type schedule struct {
	days  int // rate(N days) or AutomaticallyAfterDays: N; 0 otherwise
	hours int // rate(N hours): N, also expressed in the cron fields below
	// cron fields as sets; dow uses 1 = Sunday … 7 = Saturday.
	min, hour, dom, month, dow [64]bool
	years                      map[int]bool // nil: every year
	anyDOM, anyDOW             bool
	lastDOM                    bool       // L in day-of-month: the month's last day
	nthDOW                     [8][6]bool // "d#n" in day-of-week: the n-th weekday d of the month
}

func parseSchedule(expr string) (*schedule, error) {
	bad := func(why string) error {
		return smapi.NewInvalidParameterException("The ScheduleExpression %s is not valid: %s.", expr, why)
	}
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[5 : len(expr)-1])
		if len(f) != 2 {
			return nil, bad("use rate(N hours) or rate(N days)")
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, bad("the rate is not a number")
		}
		switch strings.TrimSuffix(f[1], "s") {
		case "hour":
			if n < 4 || n > 23 {
				return nil, bad("a rate in hours must be between 4 and 23")
			}
			sch := &schedule{hours: n, anyDOW: true}
			sch.min[0] = true
			for h := 0; h < 24; h += n {
				sch.hour[h] = true
			}
			for d := 1; d <= 31; d++ {
				sch.dom[d] = true
			}
			for m := 1; m <= 12; m++ {
				sch.month[m] = true
			}
			return sch, nil
		case "day":
			// 1000 is AutomaticallyAfterDays' maximum; checkLimits
			// applies rate()'s, 999.
			if n < 1 || n > 1000 {
				return nil, bad("a rate in days must be between 1 and 999")
			}
			return &schedule{days: n}, nil
		}
		return nil, bad("the unit must be hours or days")
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[5 : len(expr)-1])
		if len(f) != 6 {
			return nil, bad("a cron expression has six fields")
		}
		s := &schedule{}
		months := []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
		days := []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
		specs := []struct {
			set      *[64]bool
			lo, hi   int
			names    []string
			question *bool
		}{{&s.min, 0, 59, nil, nil}, {&s.hour, 0, 23, nil, nil}, {&s.dom, 1, 31, nil, &s.anyDOM}, {&s.month, 1, 12, months, nil}, {&s.dow, 1, 7, days, &s.anyDOW}}
		for i, sp := range specs {
			if f[i] == "?" {
				if sp.question == nil {
					return nil, bad("only day-of-month and day-of-week may be ?")
				}
				*sp.question = true
				continue
			}
			switch {
			case i == 2 && f[i] == "L":
				s.lastDOM = true
				continue
			case i == 2 && strings.Contains(f[i], "W"):
				return nil, bad("Secrets Manager does not support the W wildcard")
			case i == 4 && f[i] == "L":
				f[i] = "7" // the last day of the week: Saturday
			case i == 4 && strings.Contains(f[i], "#"):
				if err := nthField(f[i], days, &s.nthDOW); err != nil {
					return nil, bad(err.Error())
				}
				continue
			}
			if err := cronField(f[i], sp.lo, sp.hi, sp.names, sp.set); err != nil {
				return nil, bad(err.Error())
			}
		}
		if s.anyDOM == s.anyDOW {
			return nil, bad("exactly one of day-of-month and day-of-week must be ?")
		}
		if f[5] != "*" {
			s.years = map[int]bool{}
			for _, part := range strings.Split(f[5], ",") {
				lo, hi, step, err := cronRange(part, 1970, 2199, nil)
				if err != nil {
					return nil, bad(err.Error())
				}
				for y := lo; y <= hi; y += step {
					s.years[y] = true
				}
			}
		}
		return s, nil
	}
	return nil, bad("use rate(…) or cron(…)")
}

// nthField parses a day-of-week list of "d#n" items (the n-th weekday d
// of the month, n from 1 to 5; "MON#1" is the first Monday).
func nthField(f string, names []string, set *[8][6]bool) error {
	for _, part := range strings.Split(f, ",") {
		d, n, ok := strings.Cut(part, "#")
		if !ok {
			return fmt.Errorf("%q: use # in every item of the list or in none", f)
		}
		day, err := cronValue(d, 1, 7, names)
		if err != nil {
			return err
		}
		nth, err := strconv.Atoi(n)
		if err != nil || nth < 1 || nth > 5 {
			return fmt.Errorf("%q: the week of the month after # must be between 1 and 5", part)
		}
		set[day][nth] = true
	}
	return nil
}

// checkLimits applies the limits of "Schedule expressions in Secrets
// Manager rotation" (rotate-secrets_schedule.html) to a schedule parsed
// from expr: "You can rotate a secret as often as every four hours"; "The
// maximum rotation period is 999 days"; in a cron expression, minutes
// "Must be 0" ("because Secrets Manager rotation windows open on the
// hour") and year "Must be *" ("because Secrets Manager does not support
// rotation schedules that are more than a year apart"). AWS answers a bad
// ScheduleExpression with InvalidParameterException; it does not document
// the messages.
func (s *schedule) checkLimits(expr string) error {
	bad := func(why string) error {
		return smapi.NewInvalidParameterException("The ScheduleExpression %s is not valid: %s.", expr, why)
	}
	switch {
	case s.days > 999:
		return bad("a rate in days must be between 1 and 999")
	case s.days > 0 || s.hours > 0:
		return nil // rate(N hours): 4 to 23, checked by parseSchedule
	}
	if !s.min[0] || slices.Contains(s.min[1:60], true) {
		return bad("the minutes field must be 0: rotation windows open on the hour")
	}
	if s.years != nil {
		return bad("the year field must be *")
	}
	// Within a day. Like rate(N hours), whose windows open at midnight and
	// every N hours after it, a schedule in hours restarts each day, so
	// the last window of a day and the first of the next may be closer.
	fires := s.firesInDay()
	for i := 1; i < len(fires); i++ {
		if fires[i]-fires[i-1] < 4*time.Hour {
			return bad("Secrets Manager rotates a secret at most every four hours")
		}
	}
	return nil
}

// cronField parses a comma-separated list of values, ranges and steps into
// set (nil: only validate).
func cronField(f string, lo, hi int, names []string, set *[64]bool) error {
	for _, part := range strings.Split(f, ",") {
		a, b, step, err := cronRange(part, lo, hi, names)
		if err != nil {
			return err
		}
		if set != nil {
			for v := a; v <= b; v += step {
				set[v] = true
			}
		}
	}
	return nil
}

func cronRange(part string, lo, hi int, names []string) (a, b, step int, err error) {
	step = 1
	if r, st, ok := strings.Cut(part, "/"); ok {
		if step, err = strconv.Atoi(st); err != nil || step < 1 {
			return 0, 0, 0, fmt.Errorf("bad step in %q", part)
		}
		part = r
		if part != "*" && !strings.Contains(part, "-") {
			v, err := cronValue(part, lo, hi, names)
			if err != nil {
				return 0, 0, 0, err
			}
			return v, hi, step, nil
		}
	}
	if part == "*" {
		return lo, hi, step, nil
	}
	if x, y, ok := strings.Cut(part, "-"); ok {
		if a, err = cronValue(x, lo, hi, names); err != nil {
			return
		}
		if b, err = cronValue(y, lo, hi, names); err != nil {
			return
		}
		if a > b {
			return 0, 0, 0, fmt.Errorf("range %q is backwards", part)
		}
		return a, b, step, nil
	}
	a, err = cronValue(part, lo, hi, names)
	return a, a, step, err
}

func cronValue(v string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(v, n) {
			return lo + i, nil
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a value between %d and %d", v, lo, hi)
	}
	return n, nil
}

// next returns the first time strictly after t a cron schedule (or a
// rate in hours) fires (UTC, to the minute), or the zero time when it never
// does within five years.
func (s *schedule) next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		if (s.years != nil && !s.years[t.Year()]) || !s.month[int(t.Month())] || !s.dayMatches(t) {
			t = midnight(t).AddDate(0, 0, 1)
			continue
		}
		if !s.hour[t.Hour()] {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if !s.min[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// hourly reports whether s is "a rotation schedule in hours": a rate in
// hours, or a cron expression that fires more than once a day.
func (s *schedule) hourly() bool {
	if s.hours > 0 {
		return true
	}
	if s.days > 0 {
		return false
	}
	return len(s.firesInDay()) > 1
}

// firesInDay returns the offsets from midnight at which a cron schedule
// fires on a day it fires, in order.
func (s *schedule) firesInDay() []time.Duration {
	var out []time.Duration
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if s.hour[h] && s.min[m] {
				out = append(out, time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)
			}
		}
	}
	return out
}

// window returns the first rotation window that opens after t: rotation
// may run from start until (not including) end. dur is the Duration rule
// (0: the default window). Both are zero when the schedule never fires.
func (s *schedule) window(t time.Time, dur time.Duration) (start, end time.Time) {
	if s.days > 0 {
		start = midnight(t).AddDate(0, 0, s.days)
	} else if start = s.next(t); start.IsZero() {
		return start, start
	}
	switch {
	case dur > 0:
		end = start.Add(dur)
	case s.hourly():
		end = start.Add(time.Hour)
	default:
		end = midnight(start).AddDate(0, 0, 1)
	}
	return start, end
}

// windowAt returns the pending window at now of a schedule whose last
// pending window opened at start: the first window that opens after start
// and has not closed by now (it may not have opened yet). It is what
// stepping window() from start until a window ends after now gives, but
// computed directly, whatever the gap: windows of a schedule in days
// repeat every N days; any other window lasts at most a day, so every one
// that opens more than 25 hours before now has closed, and the search
// starts there. Both are zero when the schedule never fires again.
func (s *schedule) windowAt(start, now time.Time, dur time.Duration) (time.Time, time.Time) {
	ws, we := s.window(start, dur)
	if ws.IsZero() || now.Before(we) {
		return ws, we
	}
	if s.days > 0 {
		// UTC days are 24 hours: the windows are ws, we plus k periods.
		period := time.Duration(s.days) * 24 * time.Hour
		k := now.Sub(we)/period + 1
		return ws.Add(k * period), we.Add(k * period)
	}
	t := ws
	if skip := now.Add(-25 * time.Hour); skip.After(t) {
		t = skip
	}
	for {
		if ws, we = s.window(t, dur); ws.IsZero() || now.Before(we) {
			return ws, we
		}
		t = ws
	}
}

// windowOf returns the window a rotation due at next falls in, for a
// configuration stored before rotation windows, which kept only that
// time: the window opening at next's UTC midnight for a schedule in days
// (next was the last rotation plus N days), else the one opening when
// the schedule fires at next (next was such a time).
func (s *schedule) windowOf(next time.Time, dur time.Duration) (time.Time, time.Time) {
	if s.days > 0 {
		return s.window(next.AddDate(0, 0, -s.days), dur)
	}
	return s.window(next.Add(-time.Minute), dur)
}

// checkWindow applies RotationRulesType.Duration's rule to a window of dur
// (0: the default one): "The window must not extend into the next rotation
// window or the next UTC day"; for a schedule in hours, "confirm that the
// rotation window is less than or equal to the number of hours between
// rotations", and for one in days "that the start hour plus the window
// duration is less than or equal to 24 hours" (rotate-secrets_schedule.html).
// AWS does not document the messages of these errors.
func (s *schedule) checkWindow(dur time.Duration) error {
	if dur == 0 || s.days > 0 {
		return nil // midnight plus at most 24 hours
	}
	fires := s.firesInDay()
	for i, at := range fires {
		if at+dur > 24*time.Hour {
			return smapi.NewInvalidParameterException("The rotation window (Duration %dh) that opens at %02d:%02d UTC extends into the next UTC day.", dur/time.Hour, at/time.Hour, at%time.Hour/time.Minute)
		}
		if i+1 < len(fires) && at+dur > fires[i+1] {
			return smapi.NewInvalidParameterException("The rotation window (Duration %dh) is longer than the interval between rotations: it extends into the next rotation window.", dur/time.Hour)
		}
	}
	return nil
}

// midnight returns the start of t's UTC day.
func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *schedule) dayMatches(t time.Time) bool {
	if s.anyDOM {
		wd := int(t.Weekday()) + 1
		return s.dow[wd] || s.nthDOW[wd][(t.Day()-1)/7+1]
	}
	if s.lastDOM {
		return t.AddDate(0, 0, 1).Day() == 1
	}
	return s.dom[t.Day()]
}
