package kms

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"slices"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Symmetric ciphertext blob, version 1:
//
//	[0]      format (0x01; 0x02 for a multi-Region key)
//	[1:17]   key id (the UUID's 16 bytes; those after "mrk-")
//	[17:29]  owning account (12 ASCII digits)
//	[29:61]  key material id (32 bytes)
//	[61:73]  GCM nonce
//	[73:]    AES-256-GCM ciphertext and 16-byte tag
//
// The additional data is the header (bytes 0–60) followed by the canonical
// encryption context, so changing either fails authentication.
const (
	blobFormat  = 0x01
	blobFormatM = 0x02 // the same, for a multi-Region key ("mrk-" and the 16 bytes)
	blobHeader  = 61
	nonceSize   = 12
	blobMinSize = blobHeader + nonceSize + 16
)

// blob is a parsed symmetric ciphertext: views into the caller's bytes,
// so that parsing copies nothing.
type blob struct {
	format  byte
	id      []byte // the key id's 16 bytes
	account []byte // 12 ASCII digits
	mid     []byte // the key material id's 32 bytes
	header  []byte
	nonce   []byte
	sealed  []byte
}

func parseBlob(b []byte) (blob, bool) {
	if len(b) < blobMinSize || (b[0] != blobFormat && b[0] != blobFormatM) {
		return blob{}, false
	}
	for _, d := range b[17:29] {
		if d < '0' || d > '9' {
			return blob{}, false
		}
	}
	return blob{
		format:  b[0],
		id:      b[1:17],
		account: b[17:29],
		mid:     b[29:61],
		header:  b[:blobHeader],
		nonce:   b[blobHeader : blobHeader+nonceSize],
		sealed:  b[blobHeader+nonceSize:],
	}, true
}

// appendKeyID appends the id of the key the blob names: a UUID, or
// "mrk-" and 32 hex digits for a multi-Region key.
func (b blob) appendKeyID(dst []byte) []byte {
	if b.format == blobFormatM {
		return hex.AppendEncode(append(dst, "mrk-"...), b.id)
	}
	return appendUUID(dst, b.id)
}

// keyID is appendKeyID as a string.
func (b blob) keyID() string {
	var buf [40]byte
	return string(b.appendKeyID(buf[:0]))
}

// of reports whether the blob names key e: its id and owning account.
func (b blob) of(e *keyEntry) bool {
	var buf [40]byte
	return string(b.appendKeyID(buf[:0])) == e.rec.ID && string(b.account) == e.rec.Account
}

// fillHeader writes the blob header of rec's material mid; false when
// the key id or the material id cannot be encoded (a record rampart did
// not write).
func fillHeader(h *[blobHeader]byte, rec *keyRecord, mid string) bool {
	format, id, ok := byte(blobFormat), [16]byte{}, false
	if rec.MultiRegion {
		format = blobFormatM
		id, ok = parseMultiRegionID(rec.ID)
	} else {
		id, ok = parseUUID(rec.ID)
	}
	if !ok || len(rec.Account) != 12 || len(mid) != 64 {
		return false
	}
	if _, err := hex.Decode(h[29:61], []byte(mid)); err != nil {
		return false
	}
	h[0] = format
	copy(h[1:17], id[:])
	copy(h[17:29], rec.Account)
	return true
}

// encryptSymmetric seals plaintext under the key's current material.
func encryptSymmetric(e *keyEntry, rnd io.Reader, plaintext []byte, ec map[string]string) ([]byte, error) {
	m := e.aeads[e.current]
	if !e.headerOK || m == nil {
		return nil, awsproto.Internal(errInternalKey)
	}
	aead := m.aead
	// One allocation: the blob, then room for the additional data (the
	// header and the canonical context, both public), which Seal reads
	// while it writes the sealed plaintext before it.
	n := blobHeader + nonceSize + len(plaintext) + aead.Overhead()
	out := make([]byte, blobHeader+nonceSize, n+blobHeader+contextLen(ec))
	copy(out, e.header[:])
	if _, err := io.ReadFull(rnd, out[blobHeader:blobHeader+nonceSize]); err != nil {
		return nil, awsproto.Internal(err)
	}
	aad := appendContext(append(out[n:n], e.header[:]...), ec)
	ct := aead.Seal(out, out[blobHeader:blobHeader+nonceSize], plaintext, aad)
	return ct[:len(ct):len(ct)], nil
}

// decryptSymmetric opens a blob made by encryptSymmetric for key e; it
// returns the plaintext and the key material that opened it.
func decryptSymmetric(e *keyEntry, b blob, ec map[string]string) ([]byte, *keyMaterial, error) {
	var hexID [64]byte
	hex.Encode(hexID[:], b.mid)
	m := e.aeads[string(hexID[:])] // no copy of hexID for the lookup
	if m == nil {
		return nil, nil, kmsapi.NewInvalidCiphertextException("")
	}
	// The header has no spare capacity: the context is appended to a copy.
	aad := appendContext(b.header[:blobHeader:blobHeader], ec)
	pt, err := m.aead.Open(nil, b.nonce, b.sealed, aad)
	if err != nil {
		return nil, nil, kmsapi.NewInvalidCiphertextException("")
	}
	return pt, m, nil
}

// appendContext appends the canonical form of an encryption context: its
// pairs sorted by key, each length-prefixed.
func appendContext(dst []byte, ec map[string]string) []byte {
	if len(ec) == 0 {
		return dst
	}
	var small [8]string
	keys := small[:0]
	if len(ec) > len(small) {
		keys = make([]string, 0, len(ec))
	}
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = slices.Grow(dst, contextLen(ec))
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		v := ec[k]
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// contextLen is the length of the canonical form of ec.
func contextLen(ec map[string]string) int {
	n := 0
	for k, v := range ec {
		n += uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
	}
	return n
}

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

// decryptKey finds the key that can open a ciphertext: the one named in a
// symmetric blob, or the asymmetric key named by keyID.
func (s *Service) decryptKey(ctx context.Context, c *service.Call, ct []byte, keyID string, alg kmsapi.EncryptionAlgorithmSpec) (*keyEntry, keyRef, error) {
	if alg != "" && alg != kmsapi.EncryptionAlgorithmSpecSymmetricDefault {
		if keyID == "" {
			return nil, keyRef{}, validation("KeyId is required for asymmetric decryption.")
		}
		return s.resolve(ctx, c, keyID, true)
	}
	b, ok := parseBlob(ct)
	if !ok {
		if keyID != "" {
			e, ref, err := s.resolve(ctx, c, keyID, true)
			if err != nil {
				return nil, ref, err
			}
			if keyClass(e.rec.Spec) == classRSA {
				return e, ref, nil
			}
		}
		return nil, keyRef{}, kmsapi.NewInvalidCiphertextException("")
	}
	var buf [96]byte
	p := append(buf[:0], b.account...)
	p = append(p, '/')
	p = append(p, c.Region...)
	p = append(p, '/')
	p = b.appendKeyID(p)
	e, err := s.cache.keyAtPath(ctx, p)
	if err != nil {
		return nil, keyRef{account: string(b.account), region: c.Region, id: b.keyID()}, awsproto.Internal(err)
	}
	if e == nil {
		return nil, keyRef{account: string(b.account), region: c.Region, id: b.keyID()}, kmsapi.NewInvalidCiphertextException("")
	}
	ref := keyRef{account: e.rec.Account, region: c.Region, id: e.rec.ID}
	if keyID != "" {
		named, _, err := s.resolve(ctx, c, keyID, true)
		if err != nil {
			return nil, ref, err
		}
		if named.rec.ID != e.rec.ID || named.rec.Account != e.rec.Account {
			return nil, ref, kmsapi.NewIncorrectKeyException("The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	return e, ref, nil
}

// Grant tokens: base64 of 0x01, the length-prefixed key path, the 32-byte
// grant id and a 32-byte secret whose SHA-256 the grant keeps.
const tokenFormat = 0x01

type grantToken struct {
	keyPath string
	grantID string
	secret  []byte
}

// encode is the token given to the caller. It is not a String method, so
// that formatting a grantToken (%v in an error or a log) cannot print its
// secret.
func (t grantToken) encode() string {
	b := []byte{tokenFormat}
	b = binary.AppendUvarint(b, uint64(len(t.keyPath)))
	b = append(b, t.keyPath...)
	id, _ := hex.DecodeString(t.grantID)
	b = append(b, id...)
	b = append(b, t.secret...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseGrantToken(s string) (grantToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != tokenFormat {
		return grantToken{}, false
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > 512 || uint64(len(b)-1-k) != n+64 {
		return grantToken{}, false
	}
	p := string(b[1+k : 1+k+int(n)])
	if strings.Count(p, "/") != 2 {
		return grantToken{}, false
	}
	rest := b[1+k+int(n):]
	return grantToken{keyPath: p, grantID: hex.EncodeToString(rest[:32]), secret: rest[32:]}, true
}

func tokenHash(secret []byte) []byte {
	h := sha256.Sum256(secret)
	return h[:]
}

// checkGrantTokens refuses grant tokens rampart did not issue. Grants take
// effect as soon as CreateGrant returns, so a valid token adds nothing.
func checkGrantTokens(tokens []string) error {
	for _, t := range tokens {
		if _, ok := parseGrantToken(t); !ok {
			return kmsapi.NewInvalidGrantTokenException("Invalid grant token")
		}
	}
	return nil
}

func parseUUID(s string) ([16]byte, bool) {
	var out [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return out, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, false
	}
	return out, true
}

func formatUUID(b []byte) string {
	var out [36]byte
	return string(appendUUID(out[:0], b))
}

// appendUUID appends the 16 bytes b as a UUID, 8-4-4-4-12 hex digits.
func appendUUID(dst []byte, b []byte) []byte {
	dst = hex.AppendEncode(dst, b[0:4])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[4:6])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[6:8])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[8:10])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, b[10:16])
}

// newUUID returns a random (version 4) UUID from rnd.
func newUUID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b[:]), nil
}

// randomHex returns n random bytes from rnd in hex.
func randomHex(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
