package authz

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart/rampart/internal/arn"
	"github.com/rampart/rampart/internal/policy"
)

// Authorizer is the Checker that enforces IAM: for every request it gathers
// the principal's identity-based policies and permissions boundary (from
// [Identities]), its session policies, the resource's own policy, and the
// SCPs and RCPs of the accounts involved (from [Guardrails]), fills the
// global condition keys, and asks the policy engine. It is safe for
// concurrent use.
//
// The hot path reads no storage: the sources keep their own caches, and the
// parsed resource policies are cached here by document. Nor does it
// allocate the engine's input or condition context: Authorize reuses them
// from request to request (see scratch).
type Authorizer struct {
	ids   Identities
	guard Guardrails

	mu sync.RWMutex
	// resource holds parsed resource policies by kind and document. Two
	// levels rather than a struct key: a lookup m[kind][string(doc)] does
	// not copy the document into a new string.
	resource map[policy.Kind]map[string]*policy.Policy
	cached   int
}

// maxCachedResourcePolicies bounds the parsed resource-policy cache; when it
// is full the cache starts over (documents are re-parsed on demand).
const maxCachedResourcePolicies = 4096

// New returns an Authorizer over the given sources. guard may be nil: no
// account then belongs to an organization.
func New(ids Identities, guard Guardrails) *Authorizer {
	return &Authorizer{ids: ids, guard: guard, resource: map[policy.Kind]map[string]*policy.Policy{}}
}

// Authorize implements Checker. Every resource of r must be allowed; the
// first refusal is returned in AWS's words.
func (a *Authorizer) Authorize(ctx context.Context, r *Request) error {
	s := scratchPool.Get().(*scratch)
	err := a.authorize(ctx, r, s)
	s.reset()
	scratchPool.Put(s)
	return err
}

func (a *Authorizer) authorize(ctx context.Context, r *Request, s *scratch) error {
	in, preq := &s.in, &s.req
	if err := a.prepare(ctx, r, in, preq, &s.ctx); err != nil {
		return err
	}
	if r.Resource != nil {
		preq.Resource = r.Resource.ARN
		return check(preq, in)
	}
	if len(r.Resources) == 0 {
		preq.Resource = "*"
		return check(preq, in)
	}
	for _, res := range r.Resources {
		preq.Resource = res
		preq.ResourceAccount = OwnerOf(res, preq.Principal.Account)
		if err := check(preq, in); err != nil {
			return err
		}
	}
	return nil
}

// scratch is what one authorization builds for the engine. Authorize takes
// one from scratchPool and gives it back reset, so that the condition
// context's storage serves request after request: nothing the engine
// returns (a decision, an AccessDenied message) refers to it.
type scratch struct {
	in  policy.Input
	req policy.Request
	ctx policy.Context
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// reset clears s of the request it served, keeping the context's storage.
func (s *scratch) reset() {
	s.in = policy.Input{}
	s.req = policy.Request{}
	s.ctx.Reset()
}

// Decide evaluates r for one resource and returns the engine's decision and
// the engine request it was made for (for explanations and the simulator).
// The resource is r.Resource's ARN, else the first of r.Resources, else "*".
func (a *Authorizer) Decide(ctx context.Context, r *Request) (policy.Decision, *policy.Request, error) {
	in, preq := &policy.Input{}, &policy.Request{}
	if err := a.prepare(ctx, r, in, preq, policy.NewContext(contextSize(r))); err != nil {
		return policy.Decision{}, nil, err
	}
	switch {
	case r.Resource != nil:
		preq.Resource = r.Resource.ARN
	case len(r.Resources) > 0:
		preq.Resource = r.Resources[0]
		preq.ResourceAccount = OwnerOf(preq.Resource, preq.Principal.Account)
	default:
		preq.Resource = "*"
	}
	return policy.Evaluate(preq, in), preq, nil
}

// OwnerOf returns the account that owns the resource arn for evaluation:
// the account in the ARN, except for AWS-owned resources (AWS managed
// policies, arn:aws:iam::aws:policy/…), which every account reads as its
// own; "" when the ARN names no account (the engine then uses the
// principal's).
func OwnerOf(arnStr, principalAccount string) string {
	a := arn.Account(arnStr)
	if a == "aws" {
		return principalAccount
	}
	return a
}

func check(preq *policy.Request, in *policy.Input) error {
	d := policy.Evaluate(preq, in)
	if d.Allowed() {
		return nil
	}
	return &Denied{Message: d.Message(preq)}
}

// prepare gathers the policies of r into the empty in and the engine
// request into the empty preq, with c, empty, filled as its condition
// context.
func (a *Authorizer) prepare(ctx context.Context, r *Request, in *policy.Input, preq *policy.Request, c *policy.Context) error {
	p := r.Principal
	preq.Action = r.Action
	if p == nil || p.Type == Anonymous {
		preq.Principal = policy.Principal{Type: policy.PrincipalAnonymous}
	} else {
		preq.Principal = policy.Principal{Type: enginePrincipalType(p.Type), ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}
	}
	var pp *PrincipalPolicies
	if p != nil {
		switch p.Type {
		case Root:
			in.Root = true
		case IAMUser, AssumedRole, FederatedUser:
			if a.ids != nil {
				var err error
				if pp, err = a.ids.PrincipalPolicies(ctx, p); err != nil {
					return fmt.Errorf("authz: policies of %s: %w", p.ARN, err)
				}
			}
			if pp != nil {
				in.Identity = pp.Identity
				in.Boundary = pp.Boundary
			}
			if p.Session != nil {
				in.Session = p.Session.Policies
			}
		}
	}
	var res *Resource
	if r.Resource != nil {
		res = r.Resource
		preq.ResourceAccount = res.Account
		if len(res.Policy) > 0 {
			rp, err := a.resourcePolicy(res)
			if err != nil {
				return err
			}
			in.Resource = rp
		}
	}

	// Organization guardrails: SCPs of the principal's account, RCPs of
	// the resource's.
	var org *OrgPolicies
	if a.guard != nil && p != nil && p.Account != "" {
		var err error
		if org, err = a.guard.OrgPolicies(ctx, p.Account); err != nil {
			return fmt.Errorf("authz: organization policies of %s: %w", p.Account, err)
		}
		if org != nil {
			in.SCPs = org.SCPs
			in.ManagementAccount = org.Management
		}
		resAcct := resourceAccount(r, p)
		resOrg := org
		if resAcct != p.Account {
			if resOrg, err = a.guard.OrgPolicies(ctx, resAcct); err != nil {
				return fmt.Errorf("authz: organization policies of %s: %w", resAcct, err)
			}
		}
		if resOrg != nil {
			in.RCPs = resOrg.RCPs
			in.ResourceInManagementAccount = resOrg.Management
		}
	}
	fillContext(c, r, p, pp, res, org)
	preq.Context = c
	return nil
}

func resourceAccount(r *Request, p *Principal) string {
	if r.Resource != nil && r.Resource.Account != "" {
		return r.Resource.Account
	}
	var first string
	if r.Resource != nil {
		first = r.Resource.ARN
	} else if len(r.Resources) > 0 {
		first = r.Resources[0]
	}
	if a := arn.Account(first); a != "" && a != "aws" {
		return a
	}
	return p.Account
}

// resourcePolicy parses a resource's policy once; later requests with the
// same document reuse it.
func (a *Authorizer) resourcePolicy(res *Resource) (*policy.Policy, error) {
	kind := policy.KindResource
	switch res.PolicyKind {
	case "key":
		kind = policy.KindKeyPolicy
	case "trust":
		kind = policy.KindTrust
	}
	a.mu.RLock()
	pol, ok := a.resource[kind][string(res.Policy)]
	a.mu.RUnlock()
	if ok {
		return pol, nil
	}
	pol, err := policy.Parse(res.Policy, kind)
	if err != nil {
		// A stored policy was validated when it was set; failing now means
		// the store holds something it should not.
		return nil, fmt.Errorf("authz: policy of %s: %w", res.ARN, err)
	}
	a.mu.Lock()
	if a.cached >= maxCachedResourcePolicies {
		a.resource = map[policy.Kind]map[string]*policy.Policy{}
		a.cached = 0
	}
	m := a.resource[kind]
	if m == nil {
		m = map[string]*policy.Policy{}
		a.resource[kind] = m
	}
	if _, ok := m[string(res.Policy)]; !ok {
		a.cached++
	}
	m[string(res.Policy)] = pol
	a.mu.Unlock()
	return pol, nil
}

func enginePrincipalType(t PrincipalType) policy.PrincipalType {
	switch t {
	case Root:
		return policy.PrincipalRoot
	case AssumedRole:
		return policy.PrincipalAssumedRole
	case FederatedUser:
		return policy.PrincipalFederated
	case IAMUser:
		return policy.PrincipalUser
	}
	return policy.PrincipalAnonymous
}

// principalTypeValue is aws:PrincipalType as AWS spells it ("AWS global
// condition context keys": Account, User, FederatedUser, AssumedRole,
// Anonymous).
func principalTypeValue(t PrincipalType) string {
	switch t {
	case Root:
		return "Account"
	case IAMUser:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	case FederatedUser:
		return "FederatedUser"
	}
	return "Anonymous"
}

// Condition keys, lower-cased once here: policy.Context lower-cases what it
// is given, and a lower-case key costs nothing.
const (
	kUsername        = "aws:username"
	kUserID          = "aws:userid"
	kPrincipalARN    = "aws:principalarn"
	kPrincipalAcct   = "aws:principalaccount"
	kPrincipalType   = "aws:principaltype"
	kPrincipalTag    = "aws:principaltag/"
	kResourceTag     = "aws:resourcetag/"
	kSourceIP        = "aws:sourceip"
	kSecureTransport = "aws:securetransport"
	kCurrentTime     = "aws:currenttime"
	kEpochTime       = "aws:epochtime"
	kMFAPresent      = "aws:multifactorauthpresent"
	kMFAAge          = "aws:multifactorauthage"
	kTokenIssueTime  = "aws:tokenissuetime"
	kRequestedRegion = "aws:requestedregion"
	kUserAgent       = "aws:useragent"
	kPrincipalOrgID  = "aws:principalorgid"
	kPrincipalOrgPth = "aws:principalorgpaths"
	kResourceAccount = "aws:resourceaccount"
	kResourceOrgID   = "aws:resourceorgid"
	kSourceIdentity  = "aws:sourceidentity"
	kViaAWSService   = "aws:viaawsservice"
)

// contextSize is room for the keys fillContext sets for r, most of the time.
func contextSize(r *Request) int { return 24 + len(r.Keys) }

// fillContext sets in c the global condition keys ("AWS global condition
// context keys", IAM User Guide,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
// and then the operation's own keys.
func fillContext(c *policy.Context, r *Request, p *Principal, pp *PrincipalPolicies, res *Resource, org *OrgPolicies) {
	if p != nil && p.Type != Anonymous {
		c.Set(kPrincipalAcct, p.Account)
		c.Set(kPrincipalType, principalTypeValue(p.Type))
		c.Set(kUserID, p.ID)
		switch p.Type {
		case IAMUser:
			c.Set(kUsername, p.Name)
			c.Set(kPrincipalARN, p.ARN)
		case AssumedRole:
			if p.RoleARN != "" {
				c.Set(kPrincipalARN, p.RoleARN)
			} else {
				c.Set(kPrincipalARN, p.ARN)
			}
		default:
			c.Set(kPrincipalARN, p.ARN)
		}
		// Principal tags: the user's or role's, overridden by session tags.
		if pp != nil {
			for k, v := range pp.Tags {
				c.Set(kPrincipalTag+k, v)
			}
		}
		if s := p.Session; s != nil {
			for k, v := range s.Tags {
				c.Set(kPrincipalTag+k, v)
			}
			// aws:MultiFactorAuthPresent is present only for temporary
			// credentials; long-term access keys carry no MFA context.
			if s.MFAAuthenticated {
				c.Set(kMFAPresent, "true")
				if !s.MFAAuthTime.IsZero() && !r.Time.IsZero() {
					c.Set(kMFAAge, strconv.FormatInt(int64(r.Time.Sub(s.MFAAuthTime)/time.Second), 10))
				}
			} else {
				c.Set(kMFAPresent, "false")
			}
			if !s.IssuedAt.IsZero() {
				c.Set(kTokenIssueTime, s.IssuedAt.UTC().Format(time.RFC3339))
			}
			if s.SourceIdentity != "" {
				c.Set(kSourceIdentity, s.SourceIdentity)
			}
		}
		if org != nil && org.OrgID != "" {
			c.Set(kPrincipalOrgID, org.OrgID)
			if len(org.Paths) > 0 {
				c.SetMulti(kPrincipalOrgPth, org.Paths...)
			}
		}
	}
	if r.SourceIP != "" {
		c.Set(kSourceIP, r.SourceIP)
	}
	if r.Secure {
		c.Set(kSecureTransport, "true")
	} else {
		c.Set(kSecureTransport, "false")
	}
	if !r.Time.IsZero() {
		current, epoch := timeKeys(r.Time)
		c.Set(kCurrentTime, current)
		c.Set(kEpochTime, epoch)
	}
	if r.Region != "" {
		c.Set(kRequestedRegion, r.Region)
	}
	if r.UserAgent != "" {
		c.Set(kUserAgent, r.UserAgent)
	}
	c.Set(kViaAWSService, "false")
	if res != nil {
		if res.Account != "" {
			c.Set(kResourceAccount, res.Account)
		}
		for k, v := range res.Tags {
			c.Set(kResourceTag+k, v)
		}
	} else if p != nil {
		if acct := resourceAccount(r, p); acct != "" {
			c.Set(kResourceAccount, acct)
		}
	}
	for k, vs := range r.Keys {
		if multiValued(k) || len(vs) != 1 {
			c.SetMulti(k, vs...)
		} else {
			c.Set(k, vs[0])
		}
	}
}

// multiValued reports whether a condition key is one AWS defines as
// multivalued (tested with ForAnyValue/ForAllValues), whatever the number of
// values a request carries: aws:TagKeys, aws:CalledVia,
// kms:EncryptionContextKeys, kms:GrantOperations, …
func multiValued(key string) bool {
	// Case-insensitive without lowering a copy of the key: this runs for
	// every key of every request.
	return hasSuffixFold(key, "keys") || hasSuffixFold(key, "operations") ||
		strings.EqualFold(key, "aws:calledvia") || strings.EqualFold(key, "aws:principalorgpaths") ||
		strings.EqualFold(key, "aws:principalservicenameslist")
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// timeKeys returns aws:CurrentTime and aws:EpochTime for t. Both have whole
// seconds, and requests arrive many per second, so the last second's
// strings are kept rather than formatted again.
func timeKeys(t time.Time) (current, epoch string) {
	sec := t.Unix()
	if c := lastTimeKeys.Load(); c != nil && c.sec == sec {
		return c.current, c.epoch
	}
	c := &timeKeyStrings{sec: sec, current: t.UTC().Format(time.RFC3339), epoch: strconv.FormatInt(sec, 10)}
	lastTimeKeys.Store(c)
	return c.current, c.epoch
}

type timeKeyStrings struct {
	sec            int64
	current, epoch string
}

var lastTimeKeys atomic.Pointer[timeKeyStrings]

// Context returns the condition context the authorizer builds for r when
// the principal's identity side is pp (nil: none) and it belongs to no
// organization. The IAM policy simulator uses it so that its answers are
// the authorizer's.
func Context(r *Request, pp *PrincipalPolicies) *policy.Context {
	c := policy.NewContext(contextSize(r))
	fillContext(c, r, r.Principal, pp, r.Resource, nil)
	return c
}

// EnginePrincipal returns p as the policy engine sees it.
func EnginePrincipal(p *Principal) policy.Principal {
	if p == nil || p.Type == Anonymous {
		return policy.Principal{Type: policy.PrincipalAnonymous}
	}
	return policy.Principal{Type: enginePrincipalType(p.Type), ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}
}
