package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// validText reports whether s can be stored in a PostgreSQL text column:
// valid UTF-8 without NUL. Tables and keys that are not cannot exist in the
// store, so reads of them answer "absent" without asking the server (a
// server-side encoding error would abort the whole transaction).
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// prefixEnd returns the smallest valid UTF-8 string greater than every
// string with the given prefix, and false when there is none. It differs
// from [store.PrefixEnd], which increments the last byte and may produce
// invalid UTF-8 ("a\x7f" → "a\x80") that PostgreSQL text rejects: here the
// last rune is replaced by the next code point. UTF-8 is prefix-free and
// orders like its code points, so for valid UTF-8 keys the bound is exact:
// k >= prefix AND k < prefixEnd(prefix) holds exactly when k has the prefix.
func prefixEnd(prefix string) (string, bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.MaxRune:
			continue // no next code point: carry into the previous rune
		case r == 0xD7FF:
			r = 0xE000 // skip the surrogates, which UTF-8 cannot encode
		default:
			r++
		}
		return prefix + string(r), true
	}
	return "", false
}

// lockKey derives the 64-bit advisory lock key for a purpose ("migrate",
// "audit", "lead/<name>") within a schema, so that rampart deployments (or
// tests) sharing a database in different schemas do not contend.
func lockKey(schema, purpose string) int64 {
	h := sha256.Sum256([]byte("rampart\x00" + schema + "\x00" + purpose))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// channelName is the LISTEN/NOTIFY channel of a schema. Channel names are
// identifiers (at most 63 bytes); long schema names are hashed.
func channelName(schema string) string {
	name := "rampart:" + schema
	if len(name) > 63 {
		h := sha256.Sum256([]byte(schema))
		name = "rampart:" + hexString(h[:16])
	}
	return name
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0xf]
	}
	return string(out)
}
