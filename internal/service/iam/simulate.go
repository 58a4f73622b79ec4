package iam

import (
	"context"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// The policy simulator evaluates with the same engine and the same
// condition context as the authorizer (authz.Context), so that what it
// answers is what a real request gets. It does not consult SCPs or RCPs
// unless they are given (OrderedOrganizationPolicyInputList is not
// supported yet).

type simInput struct {
	principal *authz.Principal
	pp        *authz.PrincipalPolicies
	extra     []string // PolicyInputList
	boundary  []string // PermissionsBoundaryPolicyInputList
	resPolicy *string
	resOwner  *string
	callerARN *string
	entries   []iamapi.ContextEntry
	actions   []string
	resources []string
	marker    *string
	maxItems  *int32
}

// SimulatePrincipalPolicy simulates requests by a user, group or role with
// the policies it has (plus any given).
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *iamapi.SimulatePrincipalPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	src := str(in.PolicySourceArn)
	var kind, name string
	for _, k := range []string{kindUser, kindGroup, kindRole} {
		pre := "arn:aws:iam::" + acct + ":" + k + "/"
		if strings.HasPrefix(src, pre) {
			kind, name = k, src[strings.LastIndexByte(src, '/')+1:]
		}
	}
	if kind == "" {
		return nil, iamapi.NewInvalidInputException("Invalid Entity Arn: %s", src)
	}
	var e *entity
	var pp *authz.PrincipalPolicies
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if e, err = getEntity(tx, kind, acct, name); err != nil {
			return err
		}
		if e.ARN != src {
			return noSuchEntity(kind, name)
		}
		pp, err = s.gather(tx, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	p := &authz.Principal{Account: acct, ARN: e.ARN, ID: e.ID, Name: e.Name}
	switch kind {
	case kindUser:
		p.Type = authz.IAMUser
	case kindRole:
		p.Type, p.RoleARN, p.RoleID = authz.AssumedRole, e.ARN, e.ID
	default:
		p.Type = authz.IAMUser // a group's policies, as any of its users would have them
	}
	return s.simulate(ctx, &simInput{principal: p, pp: pp, extra: in.PolicyInputList, boundary: in.PermissionsBoundaryPolicyInputList,
		resPolicy: in.ResourcePolicy, resOwner: in.ResourceOwner, callerARN: in.CallerArn, entries: in.ContextEntries,
		actions: in.ActionNames, resources: in.ResourceArns, marker: in.Marker, maxItems: in.MaxItems})
}

// SimulateCustomPolicy simulates requests under the given policies only.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *iamapi.SimulateCustomPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	c := service.CallFrom(ctx)
	p := &authz.Principal{Type: authz.IAMUser, Account: c.Principal.Account}
	return s.simulate(ctx, &simInput{principal: p, pp: &authz.PrincipalPolicies{}, extra: in.PolicyInputList, boundary: in.PermissionsBoundaryPolicyInputList,
		resPolicy: in.ResourcePolicy, resOwner: in.ResourceOwner, callerARN: in.CallerArn, entries: in.ContextEntries,
		actions: in.ActionNames, resources: in.ResourceArns, marker: in.Marker, maxItems: in.MaxItems})
}

func (s *Service) simulate(ctx context.Context, si *simInput) (*iamapi.SimulatePolicyResponse, error) {
	c := service.CallFrom(ctx)
	in := &policy.Input{Identity: append([]*policy.Policy(nil), si.pp.Identity...), Boundary: si.pp.Boundary}
	for i, doc := range si.extra {
		p, err := validateDoc(doc, policy.KindManaged)
		if err != nil {
			return nil, err
		}
		in.Identity = append(in.Identity, p.Named("PolicyInputList."+strconv.Itoa(i+1)))
	}
	for i, doc := range si.boundary {
		p, err := validateDoc(doc, policy.KindBoundary)
		if err != nil {
			return nil, err
		}
		in.Boundary = p.Named("PermissionsBoundaryPolicyInputList." + strconv.Itoa(i+1))
	}
	if si.resPolicy != nil {
		p, err := validateDoc(*si.resPolicy, policy.KindResource)
		if err != nil {
			return nil, err
		}
		in.Resource = p.Named("ResourcePolicy")
	}
	if si.callerARN != nil {
		si.principal.ARN = *si.callerARN
		if si.principal.Type == authz.IAMUser {
			si.principal.Name = si.callerARN2Name()
		}
	}
	resources := si.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var results []iamapi.EvaluationResult
	for _, action := range si.actions {
		for _, res := range resources {
			r := &authz.Request{Principal: si.principal, Action: action, Resources: []string{res},
				SourceIP: c.SourceIP, UserAgent: c.UserAgent, Secure: c.Secure, Region: c.Region, Time: c.Now}
			pctx := authz.Context(r, si.pp)
			for _, ce := range si.entries {
				k := str(ce.ContextKeyName)
				if strings.HasSuffix(string(ce.ContextKeyType), "List") || len(ce.ContextKeyValues) != 1 {
					pctx.SetMulti(k, ce.ContextKeyValues...)
				} else {
					pctx.Set(k, ce.ContextKeyValues[0])
				}
			}
			preq := &policy.Request{Principal: authz.EnginePrincipal(si.principal), Action: action, Resource: res, Context: pctx,
				ResourceAccount: authz.OwnerOf(res, si.principal.Account)}
			if si.resOwner != nil {
				preq.ResourceAccount = strings.TrimSuffix(strings.TrimPrefix(*si.resOwner, "arn:aws:iam::"), ":root")
			}
			d := policy.Evaluate(preq, in)
			er := iamapi.EvaluationResult{EvalActionName: ptr(action), EvalResourceName: ptr(res), EvalDecision: decisionType(d), MatchedStatements: []iamapi.Statement{}, MissingContextValues: []string{}}
			er.MissingContextValues = missingKeys(action, pctx, in)
			for _, ref := range d.Statements() {
				id, typ := sourceOf(ref)
				er.MatchedStatements = append(er.MatchedStatements, iamapi.Statement{SourcePolicyId: ptr(id), SourcePolicyType: typ})
			}
			if in.Boundary != nil {
				allowed := d.Result == policy.Allow || d.Type != policy.TypeBoundary
				er.PermissionsBoundaryDecisionDetail = &iamapi.PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: ptr(allowed)}
			}
			results = append(results, er)
		}
	}
	pg, trunc, next, err := page(results, si.marker, si.maxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.EvaluationResult{}
	}
	return &iamapi.SimulatePolicyResponse{EvaluationResults: pg, IsTruncated: trunc, Marker: next}, nil
}

func (si *simInput) callerARN2Name() string {
	a := *si.callerARN
	return a[strings.LastIndexByte(a, '/')+1:]
}

func decisionType(d policy.Decision) iamapi.PolicyEvaluationDecisionType {
	switch d.Result {
	case policy.Allow:
		return iamapi.PolicyEvaluationDecisionTypeAllowed
	case policy.ExplicitDeny:
		return iamapi.PolicyEvaluationDecisionTypeExplicitdeny
	}
	return iamapi.PolicyEvaluationDecisionTypeImplicitdeny
}

// sourceOf names a deciding statement's policy as the simulator does.
func sourceOf(ref policy.StatementRef) (string, iamapi.PolicySourceType) {
	name := ""
	if ref.Policy != nil {
		name = ref.Policy.Name()
	}
	switch {
	case strings.HasPrefix(name, "arn:aws:iam::aws:policy/"):
		return name[strings.LastIndexByte(name, '/')+1:], iamapi.PolicySourceTypeAwsManaged
	case strings.HasPrefix(name, "arn:aws:iam::"):
		return name[strings.LastIndexByte(name, '/')+1:], iamapi.PolicySourceTypeUserManaged
	case strings.HasPrefix(name, "user/"):
		return name[strings.LastIndexByte(name, '/')+1:], iamapi.PolicySourceTypeUser
	case strings.HasPrefix(name, "group/"):
		return name[strings.LastIndexByte(name, '/')+1:], iamapi.PolicySourceTypeGroup
	case strings.HasPrefix(name, "role/"):
		return name[strings.LastIndexByte(name, '/')+1:], iamapi.PolicySourceTypeRole
	case name == "ResourcePolicy":
		return name, iamapi.PolicySourceTypeResource
	}
	return name, iamapi.PolicySourceTypeNone
}

// missingKeys lists the context keys that statements applying to action
// (in any of the policies) refer to and the context lacks: the simulator's
// MissingContextValues.
func missingKeys(action string, pctx *policy.Context, in *policy.Input) []string {
	out := []string{}
	seen := map[string]bool{}
	ps := append([]*policy.Policy(nil), in.Identity...)
	ps = append(ps, in.Boundary, in.Resource)
	for _, p := range ps {
		if p == nil {
			continue
		}
		stmts := p.Statements()
		for i := range stmts {
			if !stmts[i].AppliesTo(action) {
				continue
			}
			for _, k := range append(stmts[i].ConditionKeys(), stmts[i].VariableKeys()...) {
				lk := lowerASCII(k)
				if seen[lk] {
					continue
				}
				seen[lk] = true
				if _, _, ok := pctx.Get(k); !ok {
					out = append(out, k)
				}
			}
		}
	}
	return out
}
