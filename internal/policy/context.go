package policy

import (
	"slices"
	"strings"

	"github.com/rampart/rampart/internal/arn"
)

// Context holds the condition keys of a request. Keys are matched
// case-insensitively. The zero value is an empty context ready to use; a
// Context is cheap to build (one slice) and to look up (keys are lower-cased
// once, when set; a key given in lower case is not copied). Build it once
// per request, or [Context.Reset] a used one and fill it again; do not
// modify it while an evaluation reads it.
type Context struct {
	entries []ctxEntry
	// seen has the bit [keyBit] of every key set since the last Reset (a
	// one-word Bloom filter): a key whose bit is clear is absent, so Set
	// appends it without scanning for an earlier value and a lookup of an
	// absent key usually ends at once. Delete leaves bits set, which only
	// costs a scan.
	seen uint64
}

type ctxEntry struct {
	key    string // lower case
	single string
	multi  []string
	isMult bool
}

// NewContext returns a context with room for n keys.
func NewContext(n int) *Context {
	return &Context{entries: make([]ctxEntry, 0, n)}
}

// Set sets the single-valued key to value, replacing any earlier value.
func (c *Context) Set(key, value string) {
	c.put(ctxEntry{key: strings.ToLower(key), single: value})
}

// SetMulti sets the multivalued key (aws:TagKeys, aws:CalledVia, …) to
// values. A multivalued key is tested through ForAnyValue/ForAllValues (or
// Null) and cannot be used as a policy variable.
func (c *Context) SetMulti(key string, values ...string) {
	c.put(ctxEntry{key: strings.ToLower(key), multi: values, isMult: true})
}

// Delete removes key.
func (c *Context) Delete(key string) {
	k := strings.ToLower(key)
	for i := range c.entries {
		if c.entries[i].key == k {
			// slices.Delete clears the vacated last entry, which would
			// otherwise keep its strings past a Reset.
			c.entries = slices.Delete(c.entries, i, i+1)
			return
		}
	}
}

func (c *Context) put(e ctxEntry) {
	bit := keyBit(e.key)
	if c.seen&bit != 0 {
		for i := range c.entries {
			if c.entries[i].key == e.key {
				c.entries[i] = e
				return
			}
		}
	}
	c.seen |= bit
	c.entries = append(c.entries, e)
}

// keyBit is the bit of the lower-case key k in Context.seen: a hash of its
// length and three of its bytes (condition keys share their prefixes, "aws:",
// and differ in length and ending). Any function of the lower-case key is
// correct; this one spreads the global keys over distinct bits.
func keyBit(k string) uint64 {
	n := len(k)
	if n == 0 {
		return 1
	}
	h := uint32(n)*0x9E3779B1 ^ uint32(k[n-1])*0x85EBCA77 ^ uint32(k[n>>1])*0xC2B2AE3D ^ uint32(k[n*3>>2])*0x27D4EB2F
	return 1 << (h >> 26)
}

// Reset empties c for the next request and keeps its storage: only the
// entries that were set are cleared (they hold the last request's strings).
func (c *Context) Reset() {
	clear(c.entries)
	c.entries = c.entries[:0]
	c.seen = 0
}

// Len returns the number of keys.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Get returns the values of key. For a single-valued key values has one
// element; ok is false when the key is absent.
func (c *Context) Get(key string) (values []string, multi, ok bool) {
	e := c.lookup(strings.ToLower(key))
	if e == nil {
		return nil, false, false
	}
	if e.isMult {
		return e.multi, true, true
	}
	return []string{e.single}, false, true
}

// lookup finds a lower-case key.
func (c *Context) lookup(lkey string) *ctxEntry {
	if c == nil || c.seen&keyBit(lkey) == 0 {
		return nil
	}
	for i := range c.entries {
		if c.entries[i].key == lkey {
			return &c.entries[i]
		}
	}
	return nil
}

// single returns a single-valued key's value, for policy variables.
func (c *Context) single(lkey string) (string, bool) {
	e := c.lookup(lkey)
	if e == nil || e.isMult {
		return "", false
	}
	return e.single, true
}

func (e *ctxEntry) n() int {
	if e.isMult {
		return len(e.multi)
	}
	return 1
}

func (e *ctxEntry) at(i int) string {
	if e.isMult {
		return e.multi[i]
	}
	return e.single
}

// PrincipalType is the kind of caller.
type PrincipalType uint8

const (
	PrincipalUser        PrincipalType = iota // IAM user
	PrincipalAssumedRole                      // role session (sts:AssumeRole*)
	PrincipalFederated                        // federated user (sts:GetFederationToken)
	PrincipalRoot                             // the account's root user
	PrincipalService                          // an AWS service principal ("s3.amazonaws.com")
	PrincipalAnonymous                        // an unsigned request
	// PrincipalWebIdentity is a caller of sts:AssumeRoleWithWebIdentity
	// (an OIDC provider registered in IAM, Amazon Cognito, Login with
	// Amazon, Facebook, Google), and PrincipalSAML a caller of
	// sts:AssumeRoleWithSAML. Both are named by their identity provider
	// ([Principal.Provider]) and are matched by "Federated" entries of a
	// Principal element. Like services, they have no identity side: only a
	// resource-based policy — the role's trust policy — can let them in,
	// and the RCPs of the resource's account can keep them out ("Policy
	// evaluation logic"; "AWS JSON policy elements: Principal", Federated
	// web identity and SAML session principals).
	PrincipalWebIdentity
	PrincipalSAML
)

// Principal is the authenticated caller.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN: the user, the session
	// (arn:aws:sts::<acct>:assumed-role/<role>/<session>), the federated user,
	// or arn:aws:iam::<acct>:root. Empty for services and anonymous callers.
	ARN string
	// Account is the caller's account id.
	Account string
	// RoleARN is the role of a session (arn:aws:iam::<acct>:role/<path/><name>),
	// with its path. Empty for other callers.
	RoleARN string
	// Service is the service principal name ("lambda.amazonaws.com").
	Service string
	// Provider names the identity provider of a PrincipalWebIdentity or
	// PrincipalSAML caller as a trust policy's "Federated" entry names it:
	// the provider ARN (arn:aws:iam::<acct>:oidc-provider/<host/path>,
	// arn:aws:iam::<acct>:saml-provider/<name>) or a provider name
	// ("cognito-identity.amazonaws.com", "accounts.google.com",
	// "graph.facebook.com", "www.amazon.com"). Compared exactly.
	Provider string
}

// PrincipalFromARN derives a Principal from a caller ARN: an IAM user, a
// role session, a federated user or the root user, or the ARN of an OIDC
// or SAML identity provider for a web identity or SAML caller (named by
// its provider; it has no ARN or account of its own). The role ARN of a
// session is built without a path (the session ARN has none); set RoleARN
// from aws:PrincipalArn when the role has a path.
func PrincipalFromARN(s string) (Principal, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return Principal{}, err
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "oidc-provider/"):
		return Principal{Type: PrincipalWebIdentity, Provider: s}, nil
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "saml-provider/"):
		return Principal{Type: PrincipalSAML, Provider: s}, nil
	}
	p := Principal{ARN: s, Account: a.AccountID}
	switch {
	case a.Service == "iam" && a.Resource == "root":
		p.Type = PrincipalRoot
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		p.Type = PrincipalAssumedRole
		role := strings.TrimPrefix(a.Resource, "assumed-role/")
		if i := strings.LastIndexByte(role, '/'); i >= 0 {
			role = role[:i]
		}
		p.RoleARN = arn.Build(a.Partition, "iam", "", a.AccountID, "role/"+role)
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "federated-user/"):
		p.Type = PrincipalFederated
	default:
		p.Type = PrincipalUser
	}
	return p, nil
}

// Request is one authorization request.
type Request struct {
	Principal Principal
	// Action is "service:Action", e.g. "s3:GetObject".
	Action string
	// Resource is the ARN of the target, or "*" for actions without
	// resource-level permissions.
	Resource string
	// ResourceAccount owns the resource. When empty the account in Resource
	// is used, and for "*" or account-less ARNs the principal's account.
	ResourceAccount string
	// Context holds the condition keys; nil means none.
	Context *Context
}

func (r *Request) resourceAccount() string {
	if r.ResourceAccount != "" {
		return r.ResourceAccount
	}
	if a := arn.Account(r.Resource); a != "" {
		return a
	}
	return r.Principal.Account
}
