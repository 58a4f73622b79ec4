package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is how many signing keys [NewVerifier] keeps.
const DefaultCacheSize = 4096

// Verifier checks signatures. It caches the signing key derived for each
// (access key id, secret, date, region, service), so that the four HMACs of
// the derivation run once a day per key and service, not once a request. The
// cache is bounded; a Verifier is safe for concurrent use.
type Verifier struct {
	mu      sync.RWMutex
	keys    map[keyID][sha256.Size]byte
	max     int
	derived atomic.Uint64 // derivations, for tests
}

// keyID names a signing key. The secret is part of it so that a rotated
// secret never meets a key derived from the old one.
type keyID struct{ accessKeyID, secret, date, region, service string }

// NewVerifier returns a Verifier caching up to [DefaultCacheSize] keys.
func NewVerifier() *Verifier { return NewVerifierSize(DefaultCacheSize) }

// NewVerifierSize returns a Verifier caching up to n signing keys (at least 1).
func NewVerifierSize(n int) *Verifier {
	if n < 1 {
		n = 1
	}
	return &Verifier{keys: make(map[keyID][sha256.Size]byte), max: n}
}

// String describes the Verifier without its keys.
func (v *Verifier) String() string { return "sigv4.Verifier" }

// Verify checks that a, parsed from r by [Parse], carries a valid signature
// made with secret, at a time now accepts.
//
// payloadHash is the hex SHA-256 of the body the server read ([EmptyPayloadHash]
// for none). When the request has x-amz-content-sha256, its value goes into
// the canonical request instead: UNSIGNED-PAYLOAD and STREAMING-… as they are
// (see [Auth.PayloadSigned]; chunk signatures are not checked), and a hash
// only if it equals payloadHash.
//
// The request time must be within 15 minutes of now; a presigned request with
// X-Amz-Expires may be used from 15 minutes before its time until it expires.
//
// Verify canonicalises the path the way the SigV4 test suite, botocore and
// the JavaScript SDK do (dot and empty segments removed); when that does not
// match and the path has such segments, it also tries the path as sent, which
// is how the Go SDK signs.
func (v *Verifier) Verify(r *http.Request, a *Auth, secret string, payloadHash string, now time.Time) error {
	if a == nil {
		return newError(KindMissingAuthentication, msgMissingAuth)
	}
	if err := checkTime(a, now); err != nil {
		return err
	}
	payload, err := payloadLine(a, payloadHash)
	if err != nil {
		return err
	}
	key := v.signingKey(a, secret)

	b := getBuilder()
	defer putBuilder(b)
	wantOK := decodeSignature(&b.want, a.Signature)
	b.writeCanonical(r, a, payload, true)
	if b.matches(a, &key) && wantOK {
		return nil
	}
	if wantOK && a.Service != "s3" && b.pathNormalizes(wirePath(r)) {
		b.writeCanonical(r, a, payload, false)
		if b.matches(a, &key) {
			return nil
		}
	}
	return newError(KindSignatureDoesNotMatch, msgSignatureMismatch)
}

// matches computes the signature of the canonical request in b.buf and
// compares it with b.want in constant time.
func (b *builder) matches(a *Auth, key *[sha256.Size]byte) bool {
	b.writeStringToSign(a)
	b.hmac(key[:], b.sts)
	return hmac.Equal(b.mac[:], b.want[:])
}

// pathNormalizes reports whether normalising changes the canonical URI.
func (b *builder) pathNormalizes(path string) bool {
	t := b.appendCanonicalURI(b.tmp[:0], path, true)
	n := len(t)
	t = appendEscaped(t, path, true)
	b.tmp = t
	return !bytes.Equal(t[:n], t[n:])
}

// hmac computes HMAC-SHA256(key, msg) into b.mac with the pooled hash, which
// crypto/hmac would allocate. key is at most 64 bytes (a signing key is 32).
func (b *builder) hmac(key, msg []byte) {
	for i := range b.pad {
		b.pad[i] = 0x36
	}
	for i, c := range key {
		b.pad[i] ^= c
	}
	b.h.Reset()
	b.h.Write(b.pad[:])
	b.h.Write(msg)
	inner := b.h.Sum(b.sum[:0])
	for i := range b.pad {
		b.pad[i] = 0x5c
	}
	for i, c := range key {
		b.pad[i] ^= c
	}
	b.h.Reset()
	b.h.Write(b.pad[:])
	b.h.Write(inner)
	b.h.Sum(b.mac[:0])
	clear(b.pad[:])
}

// decodeSignature decodes 64 hex digits into dst.
func decodeSignature(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := s[2*i], s[2*i+1]
		if !isHex(hi) || !isHex(lo) {
			return false
		}
		dst[i] = unhex(hi)<<4 | unhex(lo)
	}
	return true
}

func checkTime(a *Auth, now time.Time) error {
	t := a.RequestTime
	if now.Before(t.Add(-MaxSkew)) {
		return newError(KindRequestTimeTooSkewed, "Signature not yet current: "+a.AmzDate+" is still later than "+AmzDate(now.Add(MaxSkew))+" ("+AmzDate(now)+" + 15 min.)")
	}
	if a.Presigned && a.Expires > 0 {
		if now.After(t.Add(a.Expires)) {
			return newError(KindRequestExpired, msgRequestExpired)
		}
		return nil
	}
	if now.After(t.Add(MaxSkew)) {
		return newError(KindRequestTimeTooSkewed, "Signature expired: "+a.AmzDate+" is now earlier than "+AmzDate(now.Add(-MaxSkew))+" ("+AmzDate(now)+" - 15 min.)")
	}
	return nil
}

// payloadLine is the last line of the canonical request.
func payloadLine(a *Auth, payloadHash string) (string, error) {
	c := a.ContentSHA256
	switch {
	case c == "":
		if a.Presigned && a.Service == "s3" {
			return UnsignedPayload, nil // S3 presigned URLs never sign the body
		}
		return payloadHash, nil
	case c == UnsignedPayload || strings.HasPrefix(c, "STREAMING-"):
		return c, nil
	case isSHA256Hex(c):
		if !strings.EqualFold(c, payloadHash) {
			return "", newError(KindSignatureDoesNotMatch, msgContentSHA256)
		}
		return c, nil
	}
	return "", newError(KindIncompleteSignature, msgBadContentSHA256)
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// signingKey returns the cached key for a's scope, deriving it on a miss.
func (v *Verifier) signingKey(a *Auth, secret string) [sha256.Size]byte {
	id := keyID{a.AccessKeyID, secret, a.Date, a.Region, a.Service}
	v.mu.RLock()
	k, ok := v.keys[id]
	v.mu.RUnlock()
	if ok {
		return k
	}
	k = deriveKey(secret, a.Date, a.Region, a.Service)
	v.derived.Add(1)
	v.mu.Lock()
	if len(v.keys) >= v.max {
		// Drop an eighth, in map order: cheap, and yesterday's keys are
		// as likely to go as any.
		n := v.max/8 + 1
		for old := range v.keys {
			delete(v.keys, old)
			if n--; n == 0 {
				break
			}
		}
	}
	v.keys[id] = k
	v.mu.Unlock()
	return k
}

// deriveKey is the SigV4 key derivation:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(secret, date, region, service string) (k [sha256.Size]byte) {
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	kSecret := []byte("AWS4" + secret)
	kDate := mac(kSecret, date)
	clear(kSecret)
	kRegion := mac(kDate, region)
	kService := mac(kRegion, service)
	copy(k[:], mac(kService, Terminator))
	return k
}
