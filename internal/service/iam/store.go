package iam

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Tables this package owns. Keys start with the account id; IAM names are
// unique without regard to case, so keys hold the lower-cased name.
const (
	tableUser       = "iam.user"       // <acct>/<lower name> → entity
	tableGroup      = "iam.group"      // <acct>/<lower name> → entity
	tableRole       = "iam.role"       // <acct>/<lower name> → entity
	tablePolicy     = "iam.policy"     // <acct>/<lower name> → managedPolicy
	tableMember     = "iam.member"     // <acct>/<lower group>/<lower user> → user name
	tableAttachment = "iam.attachment" // <acct>|<policy arn>|<usage p or b>|<kind>|<lower name> → name
	tableAccessKey  = "iam.accesskey"  // <acct>/<lower user>/<akid> → accessKey
	tableAccount    = "iam.account"    // <acct> → accountSettings
	tableLogin      = "iam.login"      // <acct>/<lower user> → loginProfile
	tableMFA        = "iam.mfa"        // <acct>/<serial name> → mfaDevice
)

// kinds of principal entities.
const (
	kindUser  = "user"
	kindGroup = "group"
	kindRole  = "role"
)

func tableOf(kind string) string {
	switch kind {
	case kindGroup:
		return tableGroup
	case kindRole:
		return tableRole
	}
	return tableUser
}

// tag is one tag, kept in the order it was added.
type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// inline is an inline policy.
type inline struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

// entity is a user, group or role as stored.
type entity struct {
	Kind     string    `json:"kind"`
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	ID       string    `json:"id"`
	ARN      string    `json:"arn"`
	Account  string    `json:"account"`
	Created  time.Time `json:"created"`
	Inline   []inline  `json:"inline,omitempty"`
	Attached []string  `json:"attached,omitempty"` // managed policy ARNs, in attachment order
	Boundary string    `json:"boundary,omitempty"` // permissions boundary policy ARN
	Tags     []tag     `json:"tags,omitempty"`
	Groups   []string  `json:"groups,omitempty"` // a user's groups (names)

	// Roles.
	Trust              string `json:"trust,omitempty"`
	Description        string `json:"description,omitempty"`
	MaxSessionDuration int32  `json:"maxSession,omitempty"`
}

// policyVersion is one version of a managed policy.
type policyVersion struct {
	ID      string    `json:"id"`
	Doc     string    `json:"doc"`
	Created time.Time `json:"created"`
}

// managedPolicy is a customer managed policy as stored (AWS managed
// policies are built in; see managed.go).
type managedPolicy struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	ID          string          `json:"id"`
	ARN         string          `json:"arn"`
	Description string          `json:"description,omitempty"`
	Default     string          `json:"default"`
	Versions    []policyVersion `json:"versions"`
	NextVersion int             `json:"next"`
	Tags        []tag           `json:"tags,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
}

func (p *managedPolicy) version(id string) *policyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

func (p *managedPolicy) defaultDoc() string {
	if v := p.version(p.Default); v != nil {
		return v.Doc
	}
	return ""
}

// accessKey is an access key's metadata; its secret is sealed in authn's
// table.
type accessKey struct {
	ID       string    `json:"id"`
	UserName string    `json:"user"`
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
}

func entityKey(acct, name string) string { return acct + "/" + strings.ToLower(name) }

func memberKey(acct, group, user string) string {
	return acct + "/" + strings.ToLower(group) + "/" + strings.ToLower(user)
}

func attachmentPrefix(acct, policyARN string) string { return acct + "|" + policyARN + "|" }

// Attachment usages: as a permissions policy, or as a permissions boundary.
const (
	usePolicy   = "p"
	useBoundary = "b"
)

func attachmentKey(acct, policyARN, usage, kind, name string) string {
	return attachmentPrefix(acct, policyARN) + usage + "|" + kind + "|" + strings.ToLower(name)
}

func getJSON(tx store.Tx, table, key string, v any) (bool, error) {
	b, err := tx.Get(table, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func putJSON(tx store.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(table, key, b)
}

func insertJSON(tx store.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Insert(table, key, b)
}

// getEntity loads a user, group or role; NoSuchEntity in AWS's words when
// it does not exist.
func getEntity(tx store.Tx, kind, acct, name string) (*entity, error) {
	var e entity
	ok, err := getJSON(tx, tableOf(kind), entityKey(acct, name), &e)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchEntity(kind, name)
	}
	return &e, nil
}

func putEntity(tx store.Tx, e *entity) error {
	return putJSON(tx, tableOf(e.Kind), entityKey(e.Account, e.Name), e)
}

func noSuchEntity(kind, name string) error {
	return iamapi.NewNoSuchEntityException("The %s with name %s cannot be found.", kind, name)
}

func scanEntities(tx store.Tx, kind, acct string) ([]*entity, error) {
	kvs, err := tx.Scan(tableOf(kind), acct+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*entity, 0, len(kvs))
	for _, kv := range kvs {
		var e entity
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return nil, err
		}
		out = append(out, &e)
	}
	return out, nil
}

// ids: AWS unique ids are a four-letter prefix and 17 characters (access
// key ids: 16) from the base32 alphabet ("IAM identifiers", IAM User Guide).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func newID(rand io.Reader, prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b), nil
}

// Entity id prefixes.
const (
	prefixUser   = "AIDA"
	prefixRole   = "AROA"
	prefixGroup  = "AGPA"
	prefixPolicy = "ANPA"
	prefixKey    = "AKIA"
)

// pagination: Marker is opaque to clients; rampart's is the offset of the
// next item in the listing, encoded.
func page[T any](items []T, marker *string, maxItems *int32) ([]T, *bool, *string, error) {
	start := 0
	if marker != nil && *marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(*marker)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o:") || n < 0 || n > len(items) {
			return nil, nil, nil, &awsproto.Error{Code: awsproto.CodeValidation, Status: 400, Sender: true, Message: "Invalid Marker."}
		}
		start = n
	}
	limit := 100
	if maxItems != nil && *maxItems > 0 {
		limit = int(*maxItems)
	}
	end := start + limit
	truncated := false
	var next *string
	if end < len(items) {
		truncated = true
		m := base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(end)))
		next = &m
	} else {
		end = len(items)
	}
	return items[start:end], &truncated, next, nil
}

func sortByName(es []*entity) {
	sort.Slice(es, func(i, j int) bool { return strings.ToLower(es[i].Name) < strings.ToLower(es[j].Name) })
}

// encodeDoc renders a policy document as IAM returns it: URL-encoded
// (RFC 3986), as the IAM API Reference says of every PolicyDocument and
// AssumeRolePolicyDocument in responses.
func encodeDoc(doc string) *string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	s := b.String()
	return &s
}

func ptr[T any](v T) *T { return &v }

func apiTags(ts []tag) []iamapi.Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]iamapi.Tag, len(ts))
	for i, t := range ts {
		out[i] = iamapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)}
	}
	return out
}

func tagMap(ts []tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func pathOr(p *string) string {
	if p == nil || *p == "" {
		return "/"
	}
	return *p
}

func entityARN(acct, kind, path, name string) string {
	return "arn:aws:iam::" + acct + ":" + kind + path + name
}

// attachmentCounts counts, by policy ARN, the attachments of acct's users,
// groups and roles to managed policies: as permissions policies [0] and as
// permissions boundaries [1]. Policies attached nowhere are absent.
func attachmentCounts(tx store.Tx, acct string) (map[string][2]int32, error) {
	kvs, err := tx.Scan(tableAttachment, acct+"|", "", 0)
	if err != nil {
		return nil, err
	}
	out := map[string][2]int32{}
	for _, kv := range kvs {
		// <acct>|<policy ARN>|<usage>|<kind>|<name>
		parts := strings.Split(strings.TrimPrefix(kv.Key, acct+"|"), "|")
		if len(parts) != 4 {
			continue
		}
		c := out[parts[0]]
		switch parts[1] {
		case usePolicy:
			c[0]++
		case useBoundary:
			c[1]++
		}
		out[parts[0]] = c
	}
	return out, nil
}
