package policy

import (
	"strconv"
	"strings"
)

// Validation wording. IAM validates the policies it stores (customer
// managed and inline policies, permissions boundaries, session policies,
// role trust policies) in stages and reports only the first stage that
// fails, each with a fixed message:
//
//  1. syntax — the document's structure and the types of its elements:
//     "Syntax errors in policy.";
//  2. the legacy parser — an Effect that is Allow or Deny in another case,
//     a date that does not parse: "The policy failed legacy parsing";
//  3. unique statement ids;
//  4. then, statement by statement, what [parseStatement] checks (actions
//     present, resources present and well formed, action vendors,
//     principals, condition values).
//
// The messages and the stages are those IAM returns to CreatePolicy,
// PutUserPolicy, CreateRole and the like, as recorded by the IAM policy
// validation tests of moto (getmoto/moto tests/test_iam/test_iam_policies.py,
// each case a document and the message IAM answered) and confirmed by
// users' reports of real IAM answers: "Syntax errors in policy."
// (99designs/iamy#74, kubernetes/kops#13095), "The policy failed legacy
// parsing" for "Effect": "allow" (hashicorp/terraform#10057), "Policy
// statement must contain actions." (aws/aws-cdk#7615), "Policy statement
// must contain resources." (trussworks/terraform-aws-s3-anti-virus#28),
// "Actions/Condition can contain only one colon." (garnaat/kappa#111),
// "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2,
// etc." (moto; also seen in CloudFormation failure logs, "Service:
// AmazonIdentityManagement; Status Code: 400"),
// `Resource X must be in ARN format or "*".`
// (ministryofjustice/modernisation-platform-environments#590), "IAM
// resource … cannot contain region information."
// (cloud-gov/terraform-provision#1838), "Policy document should not specify
// a principal." (hashicorp/terraform#13449), "Has prohibited field
// Resource" for a trust policy (hashicorp/terraform#34231), `Invalid
// principal in policy: "AWS":"arn:…"`
// (aws-samples/aws-iam-access-key-auto-rotation#26), "Statement IDs (SID)
// must be alpha-numeric…" (aws-cloudformation/cfn-lint#1376) and "…in a
// single policy must be unique." (kubernetes/kops#4951), "This policy
// contains invalid Json" from CreateRole (AWSCookbook/Security#2), and
// "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
// (boogy/iam-policy-validator#172).
//
// Resource-based policies of other services keep the wording of Amazon S3's
// bucket-policy validator, which differs ("Invalid effect: allow",
// "Missing required field Statement", as S3-compatible servers reproduce
// it: versity/versitygw#647 and #1176; "Missing required field Principal",
// humanmade/S3-Uploads#191; "Invalid Condition type : StringEqual";
// "Unknown field Foo" is unconfirmed). SCPs and RCPs, which Organizations
// validates, keep the engine's wording too; Organizations itself answers
// "The provided policy document does not meet the requirements of the
// specified policy type." for many of them
// (org-formation/org-formation-cli#225).
const (
	errSyntax        = "Syntax errors in policy."
	errLegacy        = "The policy failed legacy parsing"
	errInvalidJSON   = "This policy contains invalid Json"
	errNoActions     = "Policy statement must contain actions."
	errNoResources   = "Policy statement must contain resources."
	errNoVendor      = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	errOneColon      = "Actions/Condition can contain only one colon."
	errVendorWild    = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
	errSidUnique     = "Statement IDs (SID) in a single policy must be unique."
	errSidChars      = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	errNoPrincipalID = "Policy document should not specify a principal."
)

// iamValidated reports whether IAM validates documents of kind k (see the
// stages above).
func (k Kind) iamValidated() bool {
	switch k {
	case KindManaged, KindAWSManaged, KindUserInline, KindGroupInline, KindRoleInline, KindBoundary, KindSession, KindTrust:
		return true
	}
	return false
}

// rawStatement is a statement whose structure and element types the syntax
// stage has checked.
type rawStatement struct {
	path   string
	sid    string
	effect string // as written

	actEl string // "Action", "NotAction", or "" when absent
	acts  []string
	resEl string // "Resource", "NotResource", or ""
	res   []string
	prEl  string // "Principal", "NotPrincipal", or ""
	pr    any
	conds []rawCond
}

// rawCond is one key of one operator block of a Condition element.
type rawCond struct {
	op, key string
	vals    []string
}

// checkSyntax is the syntax stage for one statement.
func checkSyntax(raw any, path string, kind Kind) (rawStatement, *Error) {
	rs := rawStatement{path: path}
	iam := kind.iamValidated()
	m, ok := raw.(map[string]any)
	if !ok {
		return rs, malformed(path, errSyntax)
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
		default:
			if iam {
				return rs, malformed(path+"."+k, errSyntax)
			}
			return rs, malformed(path+"."+k, "Unknown field %s", k)
		}
	}
	if v, ok := m["Sid"]; ok {
		sid, isStr := v.(string)
		if !isStr {
			return rs, malformed(path+".Sid", errSyntax)
		}
		rs.sid = sid
	}
	ev, ok := m["Effect"]
	switch {
	case !ok && iam:
		return rs, malformed(path, errSyntax)
	case !ok:
		return rs, malformed(path, "Missing required field Effect")
	}
	rs.effect, _ = ev.(string)
	if rs.effect != "Allow" && rs.effect != "Deny" {
		switch {
		case !iam:
			return rs, malformed(path+".Effect", "Invalid effect: %s", rs.effect)
		case !strings.EqualFold(rs.effect, "Allow") && !strings.EqualFold(rs.effect, "Deny"):
			return rs, malformed(path+".Effect", errSyntax)
		}
		// Allow or Deny in another case: the legacy stage's error.
	}
	var err *Error
	if rs.actEl, rs.acts, err = oneOf(m, path, "Action", "NotAction"); err != nil {
		return rs, err
	}
	if rs.resEl, rs.res, err = oneOf(m, path, "Resource", "NotResource"); err != nil {
		return rs, err
	}
	_, hasP := m["Principal"]
	_, hasNP := m["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return rs, malformed(path, errSyntax)
	case hasP:
		rs.prEl, rs.pr = "Principal", m["Principal"]
	case hasNP:
		rs.prEl, rs.pr = "NotPrincipal", m["NotPrincipal"]
	}
	if c, ok := m["Condition"]; ok {
		if rs.conds, err = conditionSyntax(c, path+".Condition", iam); err != nil {
			return rs, err
		}
	}
	return rs, nil
}

// oneOf reads the element a or its negation na (at most one of them) as a
// string or an array of strings.
func oneOf(m map[string]any, path, a, na string) (string, []string, *Error) {
	v, hasA := m[a]
	nv, hasNA := m[na]
	switch {
	case hasA && hasNA:
		return "", nil, malformed(path, errSyntax)
	case hasNA:
		a, v = na, nv
	case !hasA:
		return "", nil, nil
	}
	list, err := stringList(v, path+"."+a)
	return a, list, err
}

// conditionSyntax checks a Condition element's structure: operator blocks
// of keys whose values are strings, numbers or booleans, or arrays of them.
// IAM accepts an operator it does not know only with an empty block.
func conditionSyntax(v any, path string, iam bool) ([]rawCond, *Error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed(path, errSyntax)
	}
	var out []rawCond
	for _, op := range sortedKeys(m) {
		opPath := path + "." + op
		block, ok := m[op].(map[string]any)
		if !ok {
			return nil, malformed(opPath, errSyntax)
		}
		if _, known := lookupOperator(op); iam && !known {
			if len(block) > 0 {
				return nil, malformed(opPath, errSyntax)
			}
			continue
		}
		for _, key := range sortedKeys(block) {
			vals, err := conditionValues(block[key], opPath+"."+key)
			if err != nil {
				return nil, err
			}
			out = append(out, rawCond{op: op, key: key, vals: vals})
		}
	}
	return out, nil
}

// checkLegacy is the legacy-parser stage (IAM kinds only): Allow or Deny
// written in another case, and date condition values that do not parse.
func checkLegacy(rs *rawStatement) *Error {
	if rs.effect != "Allow" && rs.effect != "Deny" {
		return malformed(rs.path+".Effect", errLegacy)
	}
	for _, c := range rs.conds {
		op, _ := lookupOperator(c.op)
		if !op.date() {
			continue
		}
		for i, v := range c.vals {
			if _, ok := parseDate(v); !ok {
				return malformed(rs.path+".Condition."+c.op+"."+c.key+"["+strconv.Itoa(i)+"]", errLegacy)
			}
		}
	}
	return nil
}

// parsedOp is an operator name split into its parts.
type parsedOp struct {
	opInfo
	set      uint8
	ifExists bool
}

func (o parsedOp) date() bool {
	switch o.base {
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		return true
	}
	return false
}

// lookupOperator splits a condition operator ("ForAnyValue:StringLikeIfExists")
// into its set prefix, base operator and IfExists suffix; known is false for
// an operator that does not exist (Null takes neither a set prefix nor
// IfExists).
func lookupOperator(name string) (op parsedOp, known bool) {
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		op.set, name = setAny, name[len("ForAnyValue:"):]
	case strings.HasPrefix(name, "ForAllValues:"):
		op.set, name = setAll, name[len("ForAllValues:"):]
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok {
		op.ifExists, name = true, base
	}
	op.opInfo, known = operators[name]
	if known && op.base == opNull && (op.ifExists || op.set != setNone) {
		known = false
	}
	return op, known
}

// errOldVersion is IAM's answer to CreatePolicy and CreatePolicyVersion for
// a document without "Version": "2012-10-17" (moto's cases, and users'
// reports of CreatePolicy).
const errOldVersion = "Policy document must be version 2012-10-17 or greater."

// CheckCurrentVersion returns the MalformedPolicyDocument error IAM's
// CreatePolicy and CreatePolicyVersion answer when p's Version is not
// 2012-10-17, or nil. Parse does not apply it: documents without a Version
// (read as 2008-10-17) are still evaluated, as AWS evaluates the inline
// and resource-based policies that have none.
func (p *Policy) CheckCurrentVersion() error {
	if p.version != Version2012 {
		return malformed("Version", errOldVersion)
	}
	return nil
}
