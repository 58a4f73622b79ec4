package policy

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/arn"
)

// Condition operators ("IAM JSON policy elements: Condition operators",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
type opBase uint8

const (
	opStringEquals opBase = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnEquals
	opArnLike
	opNull
)

type opInfo struct {
	base opBase
	neg  bool
}

// operators maps each base operator name (without IfExists or a set
// prefix) to its meaning. A negated operator is the negation of its
// positive form for a present key.
var operators = map[string]opInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opArnEquals, false},
	"ArnNotEquals":              {opArnEquals, true},
	"ArnLike":                   {opArnLike, false},
	"ArnNotLike":                {opArnLike, true},
	"Null":                      {opNull, false},
}

const (
	setNone uint8 = iota
	setAny
	setAll
)

type condition struct {
	op       string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	base     opBase
	neg      bool
	ifExists bool
	set      uint8
	key      string // lower case
	rawKey   string
	vals     []cval
}

type cval struct {
	s    tmpl
	num  float64
	t    time.Time
	pfx  netip.Prefix
	okay bool // num/t/pfx parsed
}

// parseConditions compiles the conditions the syntax stage read.
func parseConditions(raws []rawCond, path string, vars bool) ([]condition, *Error) {
	var out []condition
	for _, r := range raws {
		opPath := path + "." + r.op
		op, known := lookupOperator(r.op)
		if !known {
			return nil, malformed(opPath, "Invalid Condition type : %s", r.op)
		}
		kp := opPath + "." + r.key
		if i := strings.IndexByte(r.key, ':'); i <= 0 || i == len(r.key)-1 {
			return nil, malformed(kp, errNoVendor)
		}
		c := condition{op: r.op, base: op.base, neg: op.neg, ifExists: op.ifExists, set: op.set,
			key: strings.ToLower(r.key), rawKey: r.key}
		for i, v := range r.vals {
			cv, err := compileValue(op.base, v, vars, kp+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, cv)
		}
		out = append(out, c)
	}
	return out, nil
}

// conditionValues accepts a string, number or boolean, or an array of them.
func conditionValues(v any, path string) ([]string, *Error) {
	scalar := func(v any, path string) (string, *Error) {
		switch v := v.(type) {
		case string:
			return v, nil
		case bool:
			return strconv.FormatBool(v), nil
		case json.Number:
			return v.String(), nil
		}
		return "", malformed(path, errSyntax)
	}
	if a, ok := v.([]any); ok {
		out := make([]string, 0, len(a))
		for i, e := range a {
			s, err := scalar(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(v, path)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func compileValue(op opBase, s string, vars bool, path string) (cval, *Error) {
	cv := cval{s: tmpl{raw: s}}
	switch op {
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnEquals, opArnLike:
		// "Policy variables – Supported" for string and ARN operators, in
		// the whole value (the fifth-colon limit is the Resource element's).
		cv.s = compileTmpl(s, vars, false)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cv, malformed(path, "Invalid numeric value %s", s)
		}
		cv.num, cv.okay = f, true
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(s)
		if !ok {
			return cv, malformed(path, "Invalid date value %s", s)
		}
		cv.t, cv.okay = t, true
	case opIPAddress:
		pfx, ok := parseCIDR(s)
		if !ok {
			return cv, malformed(path, "Invalid IP address or CIDR %s", s)
		}
		cv.pfx, cv.okay = pfx, true
	case opBool, opNull:
		if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			return cv, malformed(path, "Invalid boolean value %s", s)
		}
	}
	return cv, nil
}

func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), p.Bits() >= 0
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseDate accepts epoch seconds ("1737046634", optionally with a
// fraction) and ISO 8601 dates and date-times ("2025-01-16",
// "2025-01-16T16:57:14Z", "2025-01-16T16:57:14.123+01:00",
// "2025-01-16T16:57Z"). It never allocates.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if allDigits(s, true) {
		sec, frac, _ := strings.Cut(s, ".")
		n, err := strconv.ParseInt(sec, 10, 64)
		if err != nil || n > 1<<40 {
			return time.Time{}, false
		}
		ns := 0
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
		return time.Unix(n, int64(ns)).UTC(), true
	}
	num := func(s string) (int, bool) {
		if len(s) == 0 || !allDigits(s, false) {
			return 0, false
		}
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	rest := s[10:]
	var h, mi, sec, ns, off int
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' || len(rest) < 6 || rest[3] != ':' {
			return time.Time{}, false
		}
		var ok bool
		if h, ok = num(rest[1:3]); !ok || h > 23 {
			return time.Time{}, false
		}
		if mi, ok = num(rest[4:6]); !ok || mi > 59 {
			return time.Time{}, false
		}
		rest = rest[6:]
		if len(rest) >= 3 && rest[0] == ':' {
			if sec, ok = num(rest[1:3]); !ok || sec > 60 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if len(rest) > 1 && rest[0] == '.' {
				i := 1
				for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
					if i <= 9 {
						ns = ns*10 + int(rest[i]-'0')
					}
					i++
				}
				for j := i; j <= 9; j++ {
					ns *= 10
				}
				rest = rest[i:]
			}
		}
		switch {
		case rest == "" || rest == "Z" || rest == "z":
		case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
			oh, ok1 := num(rest[1:3])
			om, ok2 := num(rest[4:6])
			if !ok1 || !ok2 {
				return time.Time{}, false
			}
			off = oh*3600 + om*60
			if rest[0] == '-' {
				off = -off
			}
		default:
			return time.Time{}, false
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), true
}

func allDigits(s string, allowDot bool) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && allowDot && !dot && i > 0 {
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// eval evaluates the condition against the request context. ok is false
// when a policy variable in a value cannot be resolved: the statement then
// does not match.
func (cd *condition) eval(ev *evaluator) (match, ok bool) {
	e := ev.ctx.lookup(cd.key)
	if cd.base == opNull {
		for i := range cd.vals {
			isTrue := strings.EqualFold(cd.vals[i].s.raw, "true")
			if isTrue == (e == nil) {
				return true, true
			}
		}
		return false, true
	}
	if e == nil {
		switch {
		case cd.ifExists:
			return true, true
		case cd.set == setAll:
			return true, true
		case cd.set == setAny:
			return false, true
		}
		return cd.neg, true
	}
	switch cd.set {
	case setAny:
		for i, n := 0, e.n(); i < n; i++ {
			m, ok := cd.anyValue(ev, e.at(i))
			if !ok {
				return false, false
			}
			if m != cd.neg {
				return true, true
			}
		}
		return false, true
	case setAll:
		for i, n := 0, e.n(); i < n; i++ {
			m, ok := cd.anyValue(ev, e.at(i))
			if !ok {
				return false, false
			}
			if m == cd.neg {
				return false, true
			}
		}
		return true, true
	}
	// A plain operator: for a multivalued key (which AWS expects to be
	// tested through a set operator) any request value may match.
	for i, n := 0, e.n(); i < n; i++ {
		m, ok := cd.anyValue(ev, e.at(i))
		if !ok {
			return false, false
		}
		if m {
			return !cd.neg, true
		}
	}
	return cd.neg, true
}

// anyValue reports whether the positive base operator matches v against
// any of the policy values. It is not called for Null, which tests the
// key's presence (see eval).
func (cd *condition) anyValue(ev *evaluator, v string) (bool, bool) {
	switch cd.base {
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnEquals, opArnLike:
		for i := range cd.vals {
			m, ok := cd.stringMatch(ev, &cd.vals[i].s, v)
			if !ok {
				return false, false
			}
			if m {
				return true, true
			}
		}
		return false, true
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false, true
		}
		for i := range cd.vals {
			p := cd.vals[i].num
			var m bool
			switch cd.base {
			case opNumericEquals:
				m = f == p
			case opNumericLessThan:
				m = f < p
			case opNumericLessThanEquals:
				m = f <= p
			case opNumericGreaterThan:
				m = f > p
			default:
				m = f >= p
			}
			if m {
				return true, true
			}
		}
		return false, true
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false, true
		}
		for i := range cd.vals {
			c := t.Compare(cd.vals[i].t)
			var m bool
			switch cd.base {
			case opDateEquals:
				m = c == 0
			case opDateLessThan:
				m = c < 0
			case opDateLessThanEquals:
				m = c <= 0
			case opDateGreaterThan:
				m = c > 0
			default:
				m = c >= 0
			}
			if m {
				return true, true
			}
		}
		return false, true
	case opBool:
		for i := range cd.vals {
			if strings.EqualFold(cd.vals[i].s.raw, v) {
				return true, true
			}
		}
		return false, true
	case opBinaryEquals:
		for i := range cd.vals {
			if cd.vals[i].s.raw == v {
				return true, true
			}
		}
		return false, true
	default: // opIPAddress
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false, true
		}
		a = a.Unmap().WithZone("")
		for i := range cd.vals {
			if cd.vals[i].pfx.Contains(a) {
				return true, true
			}
		}
		return false, true
	}
}

func (cd *condition) stringMatch(ev *evaluator, t *tmpl, v string) (bool, bool) {
	if t.parts == nil {
		switch cd.base {
		case opStringEquals:
			return t.raw == v, true
		case opStringEqualsIgnoreCase:
			return strings.EqualFold(t.raw, v), true
		case opStringLike:
			return arn.Match(t.raw, v), true
		default: // ArnEquals, ArnLike
			return arn.Like(t.raw, v), true
		}
	}
	glob := cd.base == opStringLike || cd.base == opArnEquals || cd.base == opArnLike
	buf, ok := t.expand(ev.buf[:0], ev.ctx, glob)
	if !ok {
		return false, false
	}
	switch cd.base {
	case opStringEquals:
		return string(buf) == v, true
	case opStringEqualsIgnoreCase:
		return equalFoldBytes(buf, v), true
	case opStringLike:
		return matchEscaped(buf, v, false), true
	default:
		return likeEscaped(buf, v), true
	}
}

// equalFoldBytes is strings.EqualFold without converting b to a string.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) == len(s) {
		i := 0
		for ; i < len(b); i++ {
			if b[i] >= 0x80 || s[i] >= 0x80 {
				break
			}
			if lower(b[i]) != lower(s[i]) {
				return false
			}
		}
		if i == len(b) {
			return true
		}
	}
	// Non-ASCII text: fall back to Unicode folding (rare; may allocate).
	return strings.EqualFold(string(b), s)
}
