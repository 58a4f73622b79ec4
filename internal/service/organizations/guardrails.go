package organizations

import (
	"context"
	"fmt"
	"sync"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Guardrails gives the authorizer the SCPs and RCPs that apply to an
// account ([authz.Guardrails]). It answers from memory: what it computed
// for an account stays cached until a commit touches an organization or a
// membership, so a policy edit, an attachment or a move in the OU tree
// takes effect on the very next request. Parsed policy documents are cached
// by content across those invalidations, so a document is parsed once.
// It is safe for concurrent use.
type Guardrails struct {
	st     store.Store
	cancel func()

	mu     sync.RWMutex
	gen    uint64                        // bumped by every invalidation
	cache  map[string]*authz.OrgPolicies // account → its guardrails; nil: in no organization
	closed map[string]bool               // accounts closed by CloseAccount (SUSPENDED), among those cached
	parsed map[parsedKey]*policy.Policy  // documents, by content

	maxCached int // bound of cache (maxCachedAccounts; tests lower it)
}

type parsedKey struct {
	kind    policy.Kind
	content string
}

// maxParsed bounds the parsed-document cache; when full it starts over.
const maxParsed = 4096

// maxCachedAccounts bounds the per-account cache; when full it starts over. The
// authorizer asks about the account of every resource a request names,
// which the caller chooses (any twelve digits in an ARN), so without a
// bound each request could add an entry for good.
const maxCachedAccounts = 100_000

// NewGuardrails returns the Guardrails of the organizations kept in st.
// Call Close to stop listening to the store.
func NewGuardrails(st store.Store) *Guardrails {
	g := &Guardrails{st: st, cache: map[string]*authz.OrgPolicies{}, closed: map[string]bool{}, parsed: map[parsedKey]*policy.Policy{}, maxCached: maxCachedAccounts}
	g.cancel = st.Subscribe(func(changes []store.Change) {
		for _, c := range changes {
			if c.Table == TableOrg || c.Table == TableMember {
				g.Invalidate()
				return
			}
		}
	})
	return g
}

// Close stops listening to the store.
func (g *Guardrails) Close() { g.cancel() }

// Invalidate forgets every account's guardrails (the store's commits do it
// on their own; this is for benchmarks and administrative resets).
func (g *Guardrails) Invalidate() {
	g.mu.Lock()
	g.gen++
	clear(g.cache)
	clear(g.closed)
	g.mu.Unlock()
}

// OrgPolicies implements [authz.Guardrails]: the organization context of
// account, its SCPs and RCPs by level (the root first, the account last;
// absent when the policy type is disabled on the root), or nil when the
// account belongs to no organization. The management account is marked;
// the policy engine exempts it.
//
// A closed account (CloseAccount: SUSPENDED) gets an *[authz.Denied]
// instead: the authorizer asks about the account of every request's
// principal and of the resource it names, so a closed account's
// credentials, role sessions and resources stop working on the next
// request, in every service, with AccessDenied in the protocol's spelling.
func (g *Guardrails) OrgPolicies(ctx context.Context, account string) (*authz.OrgPolicies, error) {
	op, closed, err := g.lookup(ctx, account)
	if err != nil {
		return nil, err
	}
	if closed {
		return nil, errClosed(account)
	}
	return op, nil
}

// Suspended reports whether account was closed with CloseAccount and
// stays SUSPENDED in its organization. It answers from the same cache as
// OrgPolicies. The authenticator may ask it to refuse a closed account's
// credentials before authorization (OrgPolicies already denies them).
func (g *Guardrails) Suspended(ctx context.Context, account string) (bool, error) {
	_, closed, err := g.lookup(ctx, account)
	return closed, err
}

// AccountOpen returns the denial of every request by a closed account (an
// *authz.Denied), or nil for an account that is open or in no organization.
// The server asks it at authentication, so that even the operations that
// need no permission are refused.
func (g *Guardrails) AccountOpen(ctx context.Context, account string) error {
	closed, err := g.Suspended(ctx, account)
	if err != nil {
		return err
	}
	if closed {
		return errClosed(account)
	}
	return nil
}

// errClosed is the denial of a request by, or on a resource of, a closed
// account.
func errClosed(account string) error {
	return &authz.Denied{Message: "The AWS account " + account + " is closed (SUSPENDED): its principals and resources can no longer be used. To reinstate a closed account, contact your organization's administrator."}
}

func (g *Guardrails) lookup(ctx context.Context, account string) (*authz.OrgPolicies, bool, error) {
	g.mu.RLock()
	op, ok := g.cache[account]
	closed := g.closed[account]
	gen := g.gen
	g.mu.RUnlock()
	if ok {
		return op, closed, nil
	}
	var o *org
	err := g.st.View(ctx, func(tx store.Tx) error {
		var err error
		o, err = orgOf(tx, account)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if o != nil && o.Accounts[account] != nil {
		closed = o.Accounts[account].State == string(orgapi.AccountStateSuspended)
		if op, err = g.compute(o, account); err != nil {
			return nil, false, err
		}
	} else {
		op = nil
	}
	g.mu.Lock()
	// A commit between our read and now invalidated what we read: answer
	// with it (it was true when read), but do not cache it.
	if g.gen == gen {
		if len(g.cache) >= g.maxCached {
			clear(g.cache)
			clear(g.closed)
		}
		g.cache[account] = op
		g.closed[account] = closed
	}
	g.mu.Unlock()
	return op, closed, nil
}

func (g *Guardrails) compute(o *org, account string) (*authz.OrgPolicies, error) {
	a := o.Accounts[account]
	op := &authz.OrgPolicies{
		OrgID:      o.ID,
		Paths:      []string{o.path(a.Parent)},
		Management: account == o.Management,
	}
	levels := append(o.chain(a.Parent), account)
	for _, typ := range []string{typeSCP, typeRCP} {
		if !o.enabled(typ) {
			continue
		}
		kind, _ := kindOf(typ)
		out := make([][]*policy.Policy, 0, len(levels))
		for _, target := range levels {
			level := []*policy.Policy{}
			for _, id := range o.Attached[target] {
				p := o.policy(id)
				if p == nil || p.Type != typ {
					continue
				}
				parsed, err := g.parse(kind, p.Content)
				if err != nil {
					return nil, fmt.Errorf("organizations: policy %s of %s: %w", p.ID, o.ID, err)
				}
				level = append(level, parsed.Named(o.policyARN(p)))
			}
			out = append(out, level)
		}
		if typ == typeSCP {
			op.SCPs = out
		} else {
			op.RCPs = out
		}
	}
	return op, nil
}

func (g *Guardrails) parse(kind policy.Kind, content string) (*policy.Policy, error) {
	k := parsedKey{kind, content}
	g.mu.RLock()
	p := g.parsed[k]
	g.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	p, err := policy.Parse([]byte(content), kind)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if len(g.parsed) >= maxParsed {
		clear(g.parsed)
	}
	g.parsed[k] = p
	g.mu.Unlock()
	return p, nil
}

var _ authz.Guardrails = (*Guardrails)(nil)
