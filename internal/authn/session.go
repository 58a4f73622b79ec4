package authn

// Temporary credentials.
//
// STS hands out an ASIA… access key id, a secret access key and a session
// token. The token IS the session: the barrier seals (AES-256-GCM) a small
// JSON document holding the principal, the secret, the expiry and what rides
// with the session into every authorization (session policies, tags,
// transitive tag keys, source identity, MFA). The sealed value's associated
// data is the access key id, so a token only opens together with the key id
// it was issued with, and any change to either fails authentication.
//
// Why the token carries the session rather than pointing at a stored one:
// authentication then needs no store read (one AES-GCM open and one JSON
// decode per request), sessions survive restarts and work on every node that
// shares the barrier keyring, and issuing credentials writes nothing. The
// price is the one AWS pays too: a session cannot be deleted before it
// expires; it is revoked by policy, denying on aws:TokenIssueTime
// ("Revoking IAM role temporary security credentials", IAM User Guide),
// which is why IssuedAt travels in the token.

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
)

// SessionKeyPrefix starts every temporary access key id, as in AWS.
const SessionKeyPrefix = "ASIA"

var (
	// ErrExpiredToken is returned by [Authenticator.Session] for a genuine
	// token whose session has expired.
	ErrExpiredToken = errors.New("authn: the security token is expired")
	// ErrInvalidToken is returned for a token that does not open with its
	// access key id: forged, tampered with, sealed by another rampart, or
	// presented with another key id.
	ErrInvalidToken = errors.New("authn: invalid security token")
)

// SessionSpec describes the session a new set of temporary credentials
// stands for.
type SessionSpec struct {
	// Principal is the caller the credentials act as: Type, Account, ARN,
	// ID, Name and, for role sessions, RoleARN, RoleID and SessionName.
	// Its AccessKeyID and Session are ignored.
	Principal authz.Principal
	// Policies are the session policy documents (the inline Policy and the
	// documents of PolicyArns), already validated by the caller.
	Policies          []string
	Tags              map[string]string
	TransitiveTagKeys []string
	SourceIdentity    string
	MFAAuthenticated  bool
	MFAAuthTime       time.Time
	IssuedAt          time.Time
	Expiration        time.Time
	Chained           bool
	IssuerARN         string
}

// SessionCredentials are temporary credentials as STS returns them.
type SessionCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// String describes c without its secret or token, so that credentials
// printed by mistake (%v, %+v, %#v) leak nothing.
func (c *SessionCredentials) String() string {
	if c == nil {
		return "<nil>"
	}
	return "authn.SessionCredentials{AccessKeyID: " + c.AccessKeyID + ", Expiration: " + c.Expiration.Format(time.RFC3339) + ", SecretAccessKey: <redacted>, SessionToken: <redacted>}"
}

// GoString is String, for %#v.
func (c *SessionCredentials) GoString() string { return c.String() }

// sessionToken is the sealed content of a session token. Field names are
// short: the token travels with every request.
type sessionToken struct {
	V   int               `json:"v"`
	Sec string            `json:"s"`
	T   string            `json:"t"`
	A   string            `json:"a"`
	ARN string            `json:"arn"`
	ID  string            `json:"id"`
	N   string            `json:"n,omitempty"`
	RA  string            `json:"ra,omitempty"`
	RI  string            `json:"ri,omitempty"`
	SN  string            `json:"sn,omitempty"`
	P   []string          `json:"p,omitempty"`
	Tg  map[string]string `json:"tg,omitempty"`
	TT  []string          `json:"tt,omitempty"`
	SI  string            `json:"si,omitempty"`
	MFA bool              `json:"mfa,omitempty"`
	MT  int64             `json:"mt,omitempty"`
	IA  int64             `json:"ia"`
	EX  int64             `json:"ex"`
	C   bool              `json:"c,omitempty"`
	IS  string            `json:"is,omitempty"`
}

const tokenVersion = 1

func sessionAAD(accessKeyID string) []byte { return []byte("authn.session/" + accessKeyID) }

// NewSession issues temporary credentials for spec: a fresh ASIA… key id
// (encoding spec.Principal.Account as AWS key ids do, see [KeyIDAccount]),
// a random 40-character secret, and the sealed session token.
func NewSession(b *barrier.Barrier, rnd io.Reader, spec *SessionSpec) (*SessionCredentials, error) {
	akid, err := NewKeyID(SessionKeyPrefix, spec.Principal.Account, rnd)
	if err != nil {
		return nil, err
	}
	secret, err := NewSecret(rnd)
	if err != nil {
		return nil, err
	}
	p := spec.Principal
	t := sessionToken{
		V: tokenVersion, Sec: secret,
		T: string(p.Type), A: p.Account, ARN: p.ARN, ID: p.ID, N: p.Name,
		RA: p.RoleARN, RI: p.RoleID, SN: p.SessionName,
		P: spec.Policies, Tg: spec.Tags, TT: spec.TransitiveTagKeys, SI: spec.SourceIdentity,
		MFA: spec.MFAAuthenticated, IA: spec.IssuedAt.Unix(), EX: spec.Expiration.Unix(),
		C: spec.Chained, IS: spec.IssuerARN,
	}
	if spec.MFAAuthenticated {
		t.MT = spec.MFAAuthTime.Unix()
	}
	plain, err := json.Marshal(&t)
	if err != nil {
		return nil, err
	}
	sealed, err := b.Seal(plain, sessionAAD(akid))
	clear(plain)
	if err != nil {
		return nil, err
	}
	return &SessionCredentials{
		AccessKeyID:     akid,
		SecretAccessKey: secret,
		SessionToken:    base64.StdEncoding.EncodeToString(sealed),
		Expiration:      time.Unix(t.EX, 0).UTC(),
	}, nil
}

// maxTokenLen bounds the tokens Session decodes (AWS documents no limit;
// the largest session rampart issues, ten 6,144-character managed policies
// plus an inline one and fifty tags, is well under it).
const maxTokenLen = 256 << 10

// Session authenticates temporary credentials: it opens token with
// accessKeyID and returns the session's credential (its secret, and its
// principal with Session filled), or ErrInvalidToken, or ErrExpiredToken
// when the session has expired at now. It reads no store.
func (a *Authenticator) Session(accessKeyID, token string, now time.Time) (*Credential, error) {
	return OpenSession(a.barrier, accessKeyID, token, now)
}

// OpenSession is [Authenticator.Session] over a barrier.
func OpenSession(b *barrier.Barrier, accessKeyID, token string, now time.Time) (*Credential, error) {
	if !strings.HasPrefix(accessKeyID, SessionKeyPrefix) || len(token) > maxTokenLen {
		return nil, ErrInvalidToken
	}
	sealed, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrInvalidToken
	}
	plain, err := b.Open(sealed, sessionAAD(accessKeyID))
	if err != nil {
		return nil, ErrInvalidToken
	}
	var t sessionToken
	err = json.Unmarshal(plain, &t)
	clear(plain)
	if err != nil || t.V != tokenVersion {
		return nil, ErrInvalidToken
	}
	exp := time.Unix(t.EX, 0).UTC()
	if !now.Before(exp) {
		return nil, ErrExpiredToken
	}
	s := &authz.Session{
		Tags: t.Tg, TransitiveTagKeys: t.TT, SourceIdentity: t.SI,
		MFAAuthenticated: t.MFA, IssuedAt: time.Unix(t.IA, 0).UTC(), Expiration: exp,
		Chained: t.C, IssuerARN: t.IS,
	}
	if t.MFA {
		s.MFAAuthTime = time.Unix(t.MT, 0).UTC()
	}
	for _, doc := range t.P {
		p, err := parseSessionPolicy(doc)
		if err != nil {
			// Validated when issued; only a policy-language change could
			// get here. Fail closed.
			return nil, fmt.Errorf("authn: session policy of %s no longer parses: %w", accessKeyID, err)
		}
		s.Policies = append(s.Policies, p)
	}
	return &Credential{
		Principal: authz.Principal{
			Type: authz.PrincipalType(t.T), Account: t.A, ARN: t.ARN, ID: t.ID, Name: t.N,
			AccessKeyID: accessKeyID, RoleARN: t.RA, RoleID: t.RI, SessionName: t.SN, Session: s,
		},
		Secret: t.Sec,
		Active: true,
	}, nil
}

// Session policies are parsed once per document: a session's policies are
// the same on every request it signs. Parsed policies are immutable and
// carry nothing secret, so one bounded cache serves every Authenticator.
var sessionPolicies = struct {
	sync.RWMutex
	m map[[sha256.Size]byte]*policy.Policy
}{m: map[[sha256.Size]byte]*policy.Policy{}}

const sessionPolicyCacheSize = 4096

func parseSessionPolicy(doc string) (*policy.Policy, error) {
	h := sha256.Sum256([]byte(doc))
	sessionPolicies.RLock()
	p, ok := sessionPolicies.m[h]
	sessionPolicies.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse([]byte(doc), policy.KindSession)
	if err != nil {
		return nil, err
	}
	sessionPolicies.Lock()
	if len(sessionPolicies.m) >= sessionPolicyCacheSize {
		clear(sessionPolicies.m)
	}
	sessionPolicies.m[h] = p
	sessionPolicies.Unlock()
	return p, nil
}

// keyIDEncoding is the base32 alphabet of AWS access key ids (A–Z, 2–7).
var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewKeyID returns a 20-character access key id: prefix (AKIA, ASIA) and 16
// base32 characters that encode account the way AWS key ids do (bits 46…7
// of the first six bytes; the rest random), so that [KeyIDAccount] — and
// sts:GetAccessKeyInfo — can tell a key's account from its id alone.
func NewKeyID(prefix, account string, rnd io.Reader) (string, error) {
	acct, err := strconv.ParseUint(account, 10, 64)
	if err != nil || acct >= 1<<40 {
		return "", fmt.Errorf("authn: account %q is not a 12-digit account id", account)
	}
	var raw [10]byte
	if _, err := io.ReadFull(rnd, raw[:]); err != nil {
		return "", err
	}
	var head [8]byte
	copy(head[2:], raw[:6])
	v := binary.BigEndian.Uint64(head[:])
	v = v&^0x7fffffffff80 | acct<<7
	binary.BigEndian.PutUint64(head[:], v)
	copy(raw[:6], head[2:])
	return prefix + keyIDEncoding.EncodeToString(raw[:]), nil
}

// KeyIDAccount returns the account encoded in an AWS-format access key id
// (20 characters: a 4-letter prefix and 16 base32 characters), as
// sts:GetAccessKeyInfo does; false when id has no such form.
func KeyIDAccount(id string) (string, bool) {
	if len(id) != 20 {
		return "", false
	}
	raw, err := keyIDEncoding.DecodeString(id[4:])
	if err != nil || len(raw) < 6 {
		return "", false
	}
	var head [8]byte
	copy(head[2:], raw[:6])
	acct := binary.BigEndian.Uint64(head[:]) & 0x7fffffffff80 >> 7
	if acct > 999999999999 {
		return "", false
	}
	return fmt.Sprintf("%012d", acct), true
}

// secretAlphabet is the alphabet of AWS secret access keys.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// NewSecret returns a random 40-character secret access key.
func NewSecret(rnd io.Reader) (string, error) {
	var raw [40]byte
	if _, err := io.ReadFull(rnd, raw[:]); err != nil {
		return "", err
	}
	for i, c := range raw {
		raw[i] = secretAlphabet[c&63] // 64 symbols: no modulo bias
	}
	return string(raw[:]), nil
}
