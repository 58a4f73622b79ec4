package sigv4

import "time"

// ShortDate formats t (in UTC) as the yyyymmdd of a credential scope.
func ShortDate(t time.Time) string {
	var b [8]byte
	return string(appendShortDate(b[:0], t.UTC()))
}

// AmzDate formats t (in UTC) as X-Amz-Date does: ISO-8601 basic format,
// "20150830T123600Z".
func AmzDate(t time.Time) string {
	var b [16]byte
	return string(appendAmzDate(b[:0], t.UTC()))
}

func appendShortDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = append4(b, y)
	b = append2(b, int(m))
	return append2(b, d)
}

func appendAmzDate(b []byte, t time.Time) []byte {
	b = appendShortDate(b, t)
	b = append(b, 'T')
	h, mi, s := t.Clock()
	b = append2(b, h)
	b = append2(b, mi)
	b = append2(b, s)
	return append(b, 'Z')
}

func append4(b []byte, n int) []byte {
	if n < 0 || n > 9999 {
		n = 0
	}
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// parseAmzDate parses "yyyymmddThhmmssZ", strictly: sixteen characters, a
// real calendar date and time, UTC.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	var f [6]int
	widths := [6]int{4, 2, 2, 2, 2, 2}
	pos := 0
	for i, w := range widths {
		if i == 3 {
			pos++ // the 'T'
		}
		n := 0
		for j := 0; j < w; j++ {
			c := s[pos+j]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			n = n*10 + int(c-'0')
		}
		f[i] = n
		pos += w
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC)
	// time.Date normalises 20150231 to March; AWS would not.
	if y, m, d := t.Date(); y != f[0] || int(m) != f[1] || d != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, false
	}
	return t, true
}
