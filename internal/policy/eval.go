package policy

import (
	"strings"

	"github.com/rampart/rampart/internal/arn"
)

// Input is every policy that applies to one request, as the authorization
// layer gathers them.
type Input struct {
	// Identity holds the principal's identity-based policies: inline and
	// managed, and for a user its groups' policies. They combine as a union.
	Identity []*Policy
	// Boundary is the permissions boundary of the user or role, or nil.
	Boundary *Policy
	// Session holds the session policies of a role or federated-user
	// session (the inline policy and managed policy ARNs passed when the
	// session was created); nil or empty when none were passed. They combine
	// as a union.
	Session []*Policy
	// Resource is the resource-based policy of the target, or nil. Its kind
	// (see [Parse]) selects the rules: KindKeyPolicy and KindTrust are the
	// exception in which identity policies count only when the key or trust
	// policy allows the account.
	Resource *Policy
	// SCPs are the service control policies of the principal's account, by
	// level: SCPs[0] attached to the organization root, then each OU on the
	// path, the account's own last. Empty when the account is not governed by
	// SCPs. Every level must allow.
	SCPs [][]*Policy
	// RCPs are the resource control policies of the resource's account, with
	// the same shape. RCPFullAWSAccess is implicitly attached at every level,
	// so only their Deny statements matter.
	RCPs [][]*Policy
	// ManagementAccount: the principal belongs to the organization's
	// management account, which SCPs do not affect.
	ManagementAccount bool
	// ResourceInManagementAccount: the resource belongs to the management
	// account, which RCPs do not affect.
	ResourceInManagementAccount bool
	// Root: the caller is the account's root user (also implied by
	// PrincipalRoot). Identity policies, boundaries and session policies do
	// not limit it; SCPs, RCPs and resource-policy denies do.
	Root bool
}

// grant bits: which of the caller's identities a resource-policy statement
// names.
const (
	gSelf    uint8 = 1 << iota // the user, session or federated-user ARN (or the service)
	gRole                      // the role ARN of a session
	gAccount                   // the caller's account (id or :root ARN)
	gAny                       // "*", or a NotPrincipal that does not list the caller
)

type evaluator struct {
	req *Request
	ctx *Context
	// act is the action in lower case (ASCII), nil when it is too long for
	// the evaluator's buffer (every statement is then visited); colon is
	// the index of its first colon, or -1.
	act         []byte
	colon       int
	buf         []byte // scratch space for policy variables
	hasBoundary bool
}

// maxIndexedAction bounds the actions looked up in the action index; the
// longest IAM action names are under 100 characters.
const maxIndexedAction = 128

type scanResult struct {
	allow, deny bool
	grant       uint8
	allowStmt   int32
	denyStmt    int32
}

// Evaluate decides req under the policies of in, following "Policy
// evaluation logic" in the IAM User Guide
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// an explicit deny in any applicable policy wins; otherwise every SCP level
// must allow, and the identity side (identity policies, limited by the
// boundary and session policies) and the resource policy combine as the
// same-account and cross-account rules say. It does not allocate unless a
// policy variable expands beyond 512 bytes.
func Evaluate(req *Request, in *Input) Decision {
	var scratch [512]byte
	var lowered [maxIndexedAction]byte
	ev := evaluator{req: req, ctx: req.Context, buf: scratch[:0], colon: strings.IndexByte(req.Action, ':')}
	if act := req.Action; len(act) <= len(lowered) {
		for j := 0; j < len(act); j++ {
			lowered[j] = lower(act[j])
		}
		ev.act = lowered[:len(act)]
	}
	var d Decision
	pt := req.Principal.Type
	root := in.Root || pt == PrincipalRoot
	iamCaller := pt == PrincipalUser || pt == PrincipalAssumedRole || pt == PrincipalFederated || pt == PrincipalRoot
	ev.hasBoundary = in.Boundary != nil && iamCaller && !root

	// Explicit denies, in the order AWS names them, and which SCP level
	// lacks an allow.
	scpMissing := -1
	if iamCaller && !in.ManagementAccount {
		for lvl, ps := range in.SCPs {
			allowed := false
			for i, p := range ps {
				r := ev.scan(p, false)
				if r.deny {
					d.deny(TypeSCP, lvl, i, p, r.denyStmt)
					return d
				}
				if r.allow {
					if !allowed {
						d.addRef(TypeSCP, lvl, i, p, r.allowStmt)
					}
					allowed = true
				}
			}
			if !allowed && scpMissing < 0 {
				scpMissing = lvl
			}
		}
	}
	if !in.ResourceInManagementAccount {
		for lvl, ps := range in.RCPs {
			for i, p := range ps {
				if r := ev.scan(p, true); r.deny {
					d.deny(TypeRCP, lvl, i, p, r.denyStmt)
					return d
				}
			}
		}
	}
	boundaryOK := true
	var bRes scanResult
	if ev.hasBoundary {
		bRes = ev.scan(in.Boundary, false)
		if bRes.deny {
			d.deny(TypeBoundary, 0, 0, in.Boundary, bRes.denyStmt)
			return d
		}
		boundaryOK = bRes.allow
	}
	sessionOK := true
	sessIdx, sessStmt := -1, int32(-1)
	if len(in.Session) > 0 && iamCaller && !root {
		sessionOK = false
		for i, p := range in.Session {
			r := ev.scan(p, false)
			if r.deny {
				d.deny(TypeSession, 0, i, p, r.denyStmt)
				return d
			}
			if r.allow && !sessionOK {
				sessionOK, sessIdx, sessStmt = true, i, r.allowStmt
			}
		}
	}
	var rRes scanResult
	if in.Resource != nil {
		rRes = ev.scan(in.Resource, true)
		if rRes.deny {
			d.deny(TypeResource, 0, 0, in.Resource, rRes.denyStmt)
			return d
		}
	}
	identityOK := root
	idIdx, idStmt := -1, int32(-1)
	if iamCaller && !root {
		for i, p := range in.Identity {
			r := ev.scan(p, false)
			if r.deny {
				d.deny(TypeIdentity, 0, i, p, r.denyStmt)
				return d
			}
			if r.allow && !identityOK {
				identityOK, idIdx, idStmt = true, i, r.allowStmt
			}
		}
	}

	if scpMissing >= 0 {
		d.nrefs = 0
		d.Result, d.Type, d.Level = ImplicitDeny, TypeSCP, scpMissing
		return d
	}

	// The identity side: an identity policy allows, and the boundary and
	// session policies (when present) allow too.
	idSide := identityOK && boundaryOK && sessionOK
	addIdentity := func() {
		if idIdx >= 0 {
			d.addRef(TypeIdentity, 0, idIdx, in.Identity[idIdx], idStmt)
		}
		if ev.hasBoundary {
			d.addRef(TypeBoundary, 0, 0, in.Boundary, bRes.allowStmt)
		}
		if sessIdx >= 0 {
			d.addRef(TypeSession, 0, sessIdx, in.Session[sessIdx], sessStmt)
		}
	}
	addResource := func() {
		d.addRef(TypeResource, 0, 0, in.Resource, rRes.allowStmt)
	}
	// lacking names the first policy type on the identity side that does
	// not allow; it is called only when the identity side does not allow.
	lacking := func() PolicyType {
		switch {
		case !identityOK:
			return TypeIdentity
		case !boundaryOK:
			return TypeBoundary
		default:
			return TypeSession
		}
	}

	if !iamCaller {
		// Services, web identities, SAML subjects and anonymous callers
		// have no identity side: only the resource policy can grant
		// ("Principal": "*", or the service or "Federated" provider).
		if rRes.grant&(gAny|gSelf) != 0 {
			d.Result, d.Type = Allow, TypeResource
			addResource()
			return d
		}
		d.Result, d.Type = ImplicitDeny, TypeResource
		return d
	}

	cross := req.Principal.Account != req.resourceAccount()
	g := rRes.grant
	if cross {
		// "Cross-account policy evaluation logic": both sides must allow.
		if idSide && g != 0 {
			d.Result, d.Type = Allow, TypeResource
			addIdentity()
			addResource()
			return d
		}
		d.Result = ImplicitDeny
		if idSide {
			d.Type = TypeResource
		} else {
			d.Type = lacking()
		}
		return d
	}

	// Same account.
	special := in.Resource != nil && (in.Resource.kind == KindKeyPolicy || in.Resource.kind == KindTrust)
	// Grants by the resource policy alone: to the user or session ARN
	// itself (not limited by identity policies, the boundary, or the session
	// policy); to the role ARN or "*" (limited by the boundary and the
	// session policy).
	resAlone := g&gSelf != 0 && !root ||
		g&(gRole|gAny) != 0 && boundaryOK && sessionOK ||
		root && g != 0
	if resAlone {
		d.Result, d.Type = Allow, TypeResource
		addResource()
		return d
	}
	if idSide && (!special || g&gAccount != 0) {
		d.Result, d.Type = Allow, TypeIdentity
		addIdentity()
		if special {
			addResource()
		}
		return d
	}
	d.Result = ImplicitDeny
	if special && idSide {
		d.Type = TypeResource
	} else {
		d.Type = lacking()
	}
	return d
}

// scan evaluates the statements of p that can match the action: those the
// action index lists under the action's name and under the prefixes of its
// name, then those it cannot index (see [Policy.index]). With principals
// set, statements apply only to the callers their Principal or NotPrincipal
// names, and scan reports which identities Allow statements grant to.
func (ev *evaluator) scan(p *Policy, principals bool) scanResult {
	r := scanResult{allowStmt: -1, denyStmt: -1}
	if ev.act == nil {
		for i := range p.stmts {
			if ev.visit(p, stmtRef{stmt: int32(i)}, principals, &r) {
				return r
			}
		}
		return r
	}
	if ev.colon >= 0 && len(p.byService) > 0 {
		if ix := p.byService[string(ev.act[:ev.colon])]; ix != nil && ev.scanIndex(p, ix, principals, &r) {
			return r
		}
	}
	for _, i := range p.wild {
		if ev.visit(p, stmtRef{stmt: i}, principals, &r) {
			return r
		}
	}
	return r
}

// visit evaluates one statement; it returns true when a deny was found.
func (ev *evaluator) visit(p *Policy, ref stmtRef, principals bool, r *scanResult) bool {
	i := ref.stmt
	s := &p.stmts[i]
	if s.Effect == EffectAllow && r.allow && (!principals || r.grant == gSelf|gRole|gAccount|gAny) {
		return false // nothing more to learn from another Allow
	}
	var g uint8
	if principals {
		if g = ev.principalGrant(s); g == 0 {
			return false
		}
	}
	if !ev.matches(p, s, ref.sure) {
		return false
	}
	if s.Effect == EffectDeny {
		r.deny, r.denyStmt = true, i
		return true
	}
	if !r.allow {
		r.allowStmt = i
	}
	r.allow = true
	r.grant |= g
	return false
}

// matches reports whether s applies to the request (action, resource and
// conditions). actionSure: the action index found s under a key that
// guarantees its Action matches.
func (ev *evaluator) matches(p *Policy, s *Statement, actionSure bool) bool {
	// Action
	m := actionSure
	for i := 0; !m && i < len(s.actions); i++ {
		m = arn.MatchFold(s.actions[i], ev.req.Action)
	}
	if m == s.notAction {
		return false
	}
	// Resource. Parse requires one in every kind but trust policies, whose
	// statements apply to the role they belong to.
	if s.hasResource {
		m = false
		res := ev.req.Resource
		for k := range s.resources {
			t := &s.resources[k]
			if res == "*" {
				// Actions without resource-level permissions match only "*".
				if t.raw == "*" {
					m = true
					break
				}
				continue
			}
			if t.parts == nil {
				if arn.Match(t.raw, res) {
					m = true
					break
				}
				continue
			}
			buf, ok := t.expand(ev.buf[:0], ev.ctx, true)
			if !ok {
				return false
			}
			if matchEscaped(buf, res, false) {
				m = true
				break
			}
		}
		if m == s.notResource {
			return false
		}
	}
	// Condition: every operator and key must match.
	for k := range s.conds {
		m, ok := s.conds[k].eval(ev)
		if !ok || !m {
			return false
		}
	}
	return true
}

// principalGrant returns which of the caller's identities the statement's
// Principal names (0: the statement does not apply to the caller).
func (ev *evaluator) principalGrant(s *Statement) uint8 {
	if !s.hasPrincipal {
		return 0
	}
	ps := &s.principals
	pr := &ev.req.Principal
	var g uint8
	if !s.notPrincipal {
		if ps.any {
			g |= gAny
		}
		switch pr.Type {
		case PrincipalService:
			if contains(ps.services, pr.Service) {
				g |= gSelf
			}
		case PrincipalWebIdentity, PrincipalSAML:
			if contains(ps.federated, pr.Provider) {
				g |= gSelf
			}
		case PrincipalAnonymous:
		default:
			if pr.ARN != "" && contains(ps.arns, pr.ARN) {
				g |= gSelf
			}
			if pr.RoleARN != "" && contains(ps.arns, pr.RoleARN) {
				g |= gRole
			}
			if pr.Account != "" && contains(ps.accounts, pr.Account) {
				g |= gAccount
			}
		}
		return g
	}
	// NotPrincipal: the statement applies unless every identity of the
	// caller is listed. A Deny with NotPrincipal always applies to a caller
	// with a permissions boundary ("AWS JSON policy elements: NotPrincipal").
	if s.Effect == EffectDeny && ev.hasBoundary {
		return gAny
	}
	if ps.any {
		return 0
	}
	listed := false
	switch pr.Type {
	case PrincipalService:
		listed = contains(ps.services, pr.Service)
	case PrincipalWebIdentity, PrincipalSAML:
		listed = contains(ps.federated, pr.Provider)
	case PrincipalAnonymous:
	default:
		listed = (pr.ARN == "" || contains(ps.arns, pr.ARN) || pr.Type == PrincipalRoot) &&
			(pr.RoleARN == "" || contains(ps.arns, pr.RoleARN)) &&
			contains(ps.accounts, pr.Account)
	}
	if listed {
		return 0
	}
	return gAny
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
