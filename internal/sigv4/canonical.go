package sigv4

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
)

// Payload hash values with a meaning of their own.
const (
	// EmptyPayloadHash is the hex SHA-256 of an empty body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// UnsignedPayload in x-amz-content-sha256 leaves the body out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// CanonicalRequest returns the canonical request Verify computes first for r,
// as the SigV4 specification defines it
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
// payloadHash is the hex SHA-256 of the body; an x-amz-content-sha256 header
// takes its place as in Verify. It is for tests and debugging: it contains the
// signed header values, session token included, so it must not be logged.
func CanonicalRequest(r *http.Request, a *Auth, payloadHash string) string {
	b := getBuilder()
	defer putBuilder(b)
	payload, err := payloadLine(a, payloadHash)
	if err != nil {
		payload = payloadHash
	}
	b.writeCanonical(r, a, payload, true)
	return string(b.buf)
}

// StringToSign returns the string to sign for a canonical request:
// algorithm, request time, credential scope and the hex SHA-256 of the
// canonical request, one a line.
func StringToSign(a *Auth, canonicalRequest string) string {
	b := getBuilder()
	defer putBuilder(b)
	b.buf = append(b.buf[:0], canonicalRequest...)
	b.writeStringToSign(a)
	return string(b.sts)
}

// builder holds the scratch space of one verification, pooled so that a
// verification allocates nothing.
type builder struct {
	buf   []byte // canonical request
	sts   []byte // string to sign
	tmp   []byte // encoded query pairs
	pairs []qpair
	segs  []int
	h     hash.Hash
	pad   [64]byte
	sum   [sha256.Size]byte
	mac   [sha256.Size]byte
	want  [sha256.Size]byte
}

// qpair locates one encoded query parameter in builder.tmp: the name is
// tmp[k:v], the value tmp[v:e].
type qpair struct{ k, v, e int }

var builders = sync.Pool{New: func() any {
	return &builder{
		buf:   make([]byte, 0, 1024),
		sts:   make([]byte, 0, 256),
		tmp:   make([]byte, 0, 256),
		pairs: make([]qpair, 0, 16),
		segs:  make([]int, 0, 16),
		h:     sha256.New(),
	}
}}

func getBuilder() *builder { return builders.Get().(*builder) }

func putBuilder(b *builder) {
	// Do not keep what a pathological request grew.
	if cap(b.buf) > 64<<10 || cap(b.tmp) > 64<<10 || cap(b.pairs) > 1024 || cap(b.segs) > 1024 {
		return
	}
	b.buf, b.sts, b.tmp = b.buf[:0], b.sts[:0], b.tmp[:0]
	clear(b.want[:])
	builders.Put(b)
}

// writeCanonical writes the canonical request into b.buf. normalize removes
// dot segments and empty segments from the path, as the SigV4 test suite and
// most SDKs do for every service but S3.
func (b *builder) writeCanonical(r *http.Request, a *Auth, payload string, normalize bool) {
	buf := b.buf[:0]
	if r.Method == "" {
		buf = append(buf, "GET"...)
	} else {
		buf = append(buf, r.Method...)
	}
	buf = append(buf, '\n')
	buf = b.appendCanonicalURI(buf, wirePath(r), normalize && a.Service != "s3")
	buf = append(buf, '\n')
	if r.URL != nil {
		buf = b.appendCanonicalQuery(buf, r.URL.RawQuery, a.Presigned)
	}
	buf = append(buf, '\n')
	for _, name := range a.SignedHeaders {
		buf = append(buf, name...)
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	for i, name := range a.SignedHeaders {
		if i > 0 {
			buf = append(buf, ';')
		}
		buf = append(buf, name...)
	}
	buf = append(buf, '\n')
	buf = append(buf, payload...)
	b.buf = buf
}

// writeStringToSign hashes b.buf into the string to sign in b.sts.
func (b *builder) writeStringToSign(a *Auth) {
	b.h.Reset()
	b.h.Write(b.buf)
	sum := b.h.Sum(b.sum[:0])
	s := append(b.sts[:0], Algorithm...)
	s = append(s, '\n')
	s = append(s, a.AmzDate...)
	s = append(s, '\n')
	if a.Scope != "" {
		s = append(s, a.Scope...)
	} else {
		s = append(s, a.Date...)
		s = append(s, '/')
		s = append(s, a.Region...)
		s = append(s, '/')
		s = append(s, a.Service...)
		s = append(s, '/')
		s = append(s, Terminator...)
	}
	s = append(s, '\n')
	b.sts = appendHex(s, sum)
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, src []byte) []byte {
	for _, c := range src {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// wirePath is the path exactly as the client sent it, still percent-encoded:
// the bytes the client's signer escaped once more. A server request carries
// them in RequestURI (URL.Path is decoded, and a handler behind StripPrefix
// sees a shortened URL); a client-side request has only URL.
func wirePath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if r.URL == nil {
		return "/"
	}
	if o := r.URL.Opaque; o != "" {
		// The SDKs' way to pin a path: "//host/path" or "/path".
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// appendCanonicalURI URI-encodes the wire path: every byte but the unreserved
// ones and '/' becomes %XX, so an escape the client sent ("%20") is encoded
// again ("%2520"), which is what "URI-encode each path segment twice" means for
// every service but S3. With normalize, empty, "." and ".." segments go first
// (RFC 3986 section 5.2.4, plus AWS's collapsing of repeated slashes), keeping
// a trailing slash.
func (b *builder) appendCanonicalURI(dst []byte, path string, normalize bool) []byte {
	if !normalize {
		return appendEscaped(dst, path, true)
	}
	start := len(dst)
	segs := b.segs[:0]
	trailing := strings.HasSuffix(path, "/")
	for p := path; p != ""; {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		switch seg {
		case "", ".":
		case "..":
			if n := len(segs); n > 0 {
				dst = dst[:segs[n-1]]
				segs = segs[:n-1]
			}
		default:
			segs = append(segs, len(dst))
			dst = append(dst, '/')
			dst = appendEscaped(dst, seg, false)
		}
	}
	if len(dst) == start || trailing {
		dst = append(dst, '/')
	}
	b.segs = segs
	return dst
}

// unreserved marks RFC 3986's unreserved characters, the only ones SigV4
// leaves unencoded.
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

const upperHex = "0123456789ABCDEF"

func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] || (c == '/' && keepSlash) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return dst
}

// appendCanonicalQuery decodes each name and value of the raw query, encodes
// them again the SigV4 way, and sorts by encoded name, then encoded value.
// A presigned request leaves X-Amz-Signature out.
func (b *builder) appendCanonicalQuery(dst []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return dst
	}
	tmp, pairs := b.tmp[:0], b.pairs[:0]
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		p := qpair{k: len(tmp)}
		tmp = appendQueryComponent(tmp, k)
		p.v = len(tmp)
		tmp = appendQueryComponent(tmp, v)
		p.e = len(tmp)
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y qpair) int {
		if c := bytes.Compare(tmp[x.k:x.v], tmp[y.k:y.v]); c != 0 {
			return c
		}
		return bytes.Compare(tmp[x.v:x.e], tmp[y.v:y.e])
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, tmp[p.k:p.v]...)
		dst = append(dst, '=')
		dst = append(dst, tmp[p.v:p.e]...)
	}
	b.tmp, b.pairs = tmp, pairs
	return dst
}

// appendQueryComponent decodes a raw query name or value ('+' is a space, a
// malformed escape stands for itself) and encodes it again, in one pass.
func appendQueryComponent(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		if unreserved[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// appendHeaderValue writes the canonical value of a signed header: its values
// joined by commas, each trimmed and with runs of spaces folded into one.
func appendHeaderValue(dst []byte, r *http.Request, name string) []byte {
	switch name {
	case "host", ":authority":
		h := r.Host
		if h == "" && r.URL != nil {
			h = r.URL.Host
		}
		return appendTrimmed(dst, h)
	}
	vals := headerValues(r.Header, name)
	if len(vals) == 0 {
		// net/http moves these out of Header.
		switch name {
		case "content-length":
			if r.ContentLength > 0 {
				return appendInt(dst, r.ContentLength)
			}
		case "transfer-encoding":
			for i, v := range r.TransferEncoding {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendTrimmed(dst, v)
			}
		}
		return dst
	}
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

func appendInt(dst []byte, n int64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

func appendTrimmed(dst []byte, v string) []byte {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	space := false
	for ; i < j; i++ {
		c := v[i]
		if isSpace(c) {
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		}
		space = false
		dst = append(dst, c)
	}
	return dst
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// headerValues looks a lower-case name up in h without allocating: it
// canonicalises into a stack buffer, and the map index by string(bytes) does
// not copy.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) > len(buf) {
		return h[textproto.CanonicalMIMEHeaderKey(name)]
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
		upper = c == '-'
	}
	return h[string(buf[:len(name)])]
}
