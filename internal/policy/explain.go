package policy

import (
	"strconv"
	"strings"
)

// maxRefs bounds the statements a Decision names, so a Decision needs no
// allocation.
const maxRefs = 8

// Decision is the outcome of [Evaluate] with its explanation.
type Decision struct {
	Result Result
	// Type names the policy type that decided:
	//   - ExplicitDeny: the type holding the matching Deny;
	//   - ImplicitDeny: the type that lacked an allow (TypeIdentity when no
	//     identity-based policy allows, TypeSCP when an SCP level allows
	//     nothing, TypeResource when a required resource-based grant is
	//     missing, …);
	//   - Allow: TypeIdentity when the identity side granted, TypeResource
	//     when the resource-based policy did (alone or across accounts).
	Type PolicyType
	// Level is the SCP or RCP level (0 = organization root) when Type is
	// TypeSCP or TypeRCP.
	Level int

	refs  [maxRefs]StatementRef
	nrefs uint8
}

// StatementRef names one statement that decided.
type StatementRef struct {
	Type PolicyType
	// Level is the SCP/RCP level; Index the position of the policy in its
	// list (Input.Identity, Input.Session, one SCP level, …).
	Level, Index int
	Policy       *Policy
	// Statement is the index of the statement in the document.
	Statement int
}

// Sid returns the statement's Sid ("" when it has none).
func (r StatementRef) Sid() string {
	if r.Policy == nil || r.Statement < 0 || r.Statement >= len(r.Policy.stmts) {
		return ""
	}
	return r.Policy.stmts[r.Statement].Sid
}

// String renders the reference, e.g.
// `identity-based policy "ReadOnly" Statement[2] (Sid "AllowGet")` or
// `service control policy level 1 #0 Statement[0]`.
func (r StatementRef) String() string {
	var b strings.Builder
	b.WriteString(r.Type.String())
	if r.Type == TypeSCP || r.Type == TypeRCP {
		b.WriteString(" level ")
		b.WriteString(strconv.Itoa(r.Level))
	}
	if r.Policy != nil && r.Policy.Name() != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(r.Policy.Name()))
	} else if r.Type != TypeBoundary && r.Type != TypeResource {
		b.WriteString(" #")
		b.WriteString(strconv.Itoa(r.Index))
	}
	b.WriteString(" Statement[")
	b.WriteString(strconv.Itoa(r.Statement))
	b.WriteString("]")
	if sid := r.Sid(); sid != "" {
		b.WriteString(" (Sid ")
		b.WriteString(strconv.Quote(sid))
		b.WriteString(")")
	}
	return b.String()
}

// Statements returns the statements that decided: for ExplicitDeny the
// matching Deny; for Allow the granting Allow statements (identity policy,
// boundary, session policy, resource policy, and one per SCP level); empty
// for ImplicitDeny.
func (d *Decision) Statements() []StatementRef { return d.refs[:d.nrefs] }

// Allowed reports whether the result is Allow.
func (d *Decision) Allowed() bool { return d.Result == Allow }

func (d *Decision) addRef(t PolicyType, lvl, idx int, p *Policy, stmt int32) {
	if int(d.nrefs) < maxRefs && stmt >= 0 {
		d.refs[d.nrefs] = StatementRef{Type: t, Level: lvl, Index: idx, Policy: p, Statement: int(stmt)}
		d.nrefs++
	}
}

func (d *Decision) deny(t PolicyType, lvl, idx int, p *Policy, stmt int32) {
	d.Result, d.Type, d.Level = ExplicitDeny, t, lvl
	d.nrefs = 0
	d.addRef(t, lvl, idx, p, stmt)
}

// Reason says in one sentence why, e.g. "with an explicit deny in a service
// control policy" or "because no identity-based policy allows the
// s3:GetObject action" — the tail of AWS's AccessDenied message ("Troubleshoot
// access denied error messages" in the IAM User Guide). For Allow it names
// what granted.
func (d *Decision) Reason(action string) string {
	switch d.Result {
	case ExplicitDeny:
		return "with an explicit deny in " + d.Type.article() + " " + d.Type.String()
	case ImplicitDeny:
		return "because no " + d.Type.String() + " allows the " + action + " action"
	}
	return "allowed by " + d.Type.article() + " " + d.Type.String()
}

// Reasons returns the explanation as lines: the reason, then each deciding
// statement.
func (d *Decision) Reasons(action string) []string {
	out := make([]string, 0, 1+d.nrefs)
	r := d.Reason(action)
	if (d.Type == TypeSCP || d.Type == TypeRCP) && d.Result != Allow {
		r += " (level " + strconv.Itoa(d.Level) + ")"
	}
	out = append(out, r)
	for _, ref := range d.Statements() {
		out = append(out, ref.String())
	}
	return out
}

// Message renders AWS's AccessDenied message for a denied request, e.g.
//
//	User: arn:aws:iam::111111111111:user/dev is not authorized to perform:
//	s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based
//	policy allows the s3:GetObject action
//
// (on one line). The resource part is left out for "*" resources. For an
// allowed request it returns "".
func (d *Decision) Message(req *Request) string {
	if d.Result == Allow {
		return ""
	}
	who := req.Principal.ARN
	switch req.Principal.Type {
	case PrincipalAnonymous:
		who = "anonymous"
	case PrincipalService:
		who = req.Principal.Service
	case PrincipalWebIdentity, PrincipalSAML:
		who = req.Principal.Provider
	}
	var b strings.Builder
	b.WriteString("User: ")
	b.WriteString(who)
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(req.Action)
	if req.Resource != "" && req.Resource != "*" {
		b.WriteString(" on resource: ")
		b.WriteString(req.Resource)
	}
	b.WriteString(" ")
	b.WriteString(d.Reason(req.Action))
	return b.String()
}
