package organizations

import (
	"context"
	"fmt"
	"sync"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/store"
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
	parsed map[parsedKey]*policy.Policy  // documents, by content
}

type parsedKey struct {
	kind    policy.Kind
	content string
}

// maxParsed bounds the parsed-document cache; when full it starts over.
const maxParsed = 4096

// NewGuardrails returns the Guardrails of the organizations kept in st.
// Call Close to stop listening to the store.
func NewGuardrails(st store.Store) *Guardrails {
	g := &Guardrails{st: st, cache: map[string]*authz.OrgPolicies{}, parsed: map[parsedKey]*policy.Policy{}}
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
	g.mu.Unlock()
}

// OrgPolicies implements [authz.Guardrails]: the organization context of
// account, its SCPs and RCPs by level (the root first, the account last;
// absent when the policy type is disabled on the root), or nil when the
// account belongs to no organization. The management account is marked;
// the policy engine exempts it.
func (g *Guardrails) OrgPolicies(ctx context.Context, account string) (*authz.OrgPolicies, error) {
	g.mu.RLock()
	op, ok := g.cache[account]
	gen := g.gen
	g.mu.RUnlock()
	if ok {
		return op, nil
	}
	var o *org
	err := g.st.View(ctx, func(tx store.Tx) error {
		var err error
		o, err = orgOf(tx, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	if o != nil && o.Accounts[account] != nil {
		if op, err = g.compute(o, account); err != nil {
			return nil, err
		}
	} else {
		op = nil
	}
	g.mu.Lock()
	// A commit between our read and now invalidated what we read: answer
	// with it (it was true when read), but do not cache it.
	if g.gen == gen {
		g.cache[account] = op
	}
	g.mu.Unlock()
	return op, nil
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
