package kms

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"sort"
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

type blob struct {
	keyID      string
	account    string
	materialID string
	header     []byte
	nonce      []byte
	sealed     []byte
}

func parseBlob(b []byte) (blob, bool) {
	if len(b) < blobMinSize || (b[0] != blobFormat && b[0] != blobFormatM) {
		return blob{}, false
	}
	acct := string(b[17:29])
	for i := 0; i < len(acct); i++ {
		if acct[i] < '0' || acct[i] > '9' {
			return blob{}, false
		}
	}
	keyID := formatUUID(b[1:17])
	if b[0] == blobFormatM {
		keyID = "mrk-" + hex.EncodeToString(b[1:17])
	}
	return blob{
		keyID:      keyID,
		account:    acct,
		materialID: hex.EncodeToString(b[29:61]),
		header:     b[:blobHeader],
		nonce:      b[blobHeader : blobHeader+nonceSize],
		sealed:     b[blobHeader+nonceSize:],
	}, true
}

// encryptSymmetric seals plaintext under the key's current material.
func encryptSymmetric(e *keyEntry, rnd io.Reader, plaintext []byte, ec map[string]string) ([]byte, error) {
	aead := e.aeads[e.current]
	format, id, ok := byte(blobFormat), [16]byte{}, false
	if e.rec.MultiRegion {
		format = blobFormatM
		id, ok = parseMultiRegionID(e.rec.ID)
	} else {
		id, ok = parseUUID(e.rec.ID)
	}
	mid, err := hex.DecodeString(e.current)
	if !ok || err != nil || len(mid) != 32 || aead == nil {
		return nil, awsproto.Internal(errInternalKey)
	}
	out := make([]byte, blobHeader+nonceSize, blobHeader+nonceSize+len(plaintext)+aead.Overhead())
	out[0] = format
	copy(out[1:17], id[:])
	copy(out[17:29], e.rec.Account)
	copy(out[29:61], mid)
	if _, err := io.ReadFull(rnd, out[blobHeader:blobHeader+nonceSize]); err != nil {
		return nil, awsproto.Internal(err)
	}
	aad := appendContext(out[:blobHeader:blobHeader], ec)
	return aead.Seal(out, out[blobHeader:blobHeader+nonceSize], plaintext, aad), nil
}

// decryptSymmetric opens a blob made by encryptSymmetric for key e.
func decryptSymmetric(e *keyEntry, b blob, ec map[string]string) ([]byte, error) {
	aead := e.aeads[b.materialID]
	if aead == nil {
		return nil, kmsapi.NewInvalidCiphertextException("")
	}
	aad := appendContext(append(make([]byte, 0, blobHeader+64), b.header...), ec)
	pt, err := aead.Open(nil, b.nonce, b.sealed, aad)
	if err != nil {
		return nil, kmsapi.NewInvalidCiphertextException("")
	}
	return pt, nil
}

// appendContext appends the canonical form of an encryption context: its
// pairs sorted by key, each length-prefixed.
func appendContext(dst []byte, ec map[string]string) []byte {
	if len(ec) == 0 {
		return dst
	}
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		v := ec[k]
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
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
	ref := keyRef{account: b.account, region: c.Region, id: b.keyID}
	e, err := s.cache.key(ctx, keyPath(b.account, c.Region, b.keyID))
	if err != nil {
		return nil, ref, awsproto.Internal(err)
	}
	if e == nil {
		return nil, ref, kmsapi.NewInvalidCiphertextException("")
	}
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
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
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
