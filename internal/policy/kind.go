package policy

// Kind is the kind of a policy document. It decides what [Parse] accepts (a
// Principal is required in resource-based policies and forbidden in
// identity-based ones, a trust policy has no Resource) and the size quota.
type Kind uint8

const (
	KindManaged     Kind = iota // customer managed policy (identity-based)
	KindUserInline              // inline policy of an IAM user
	KindGroupInline             // inline policy of an IAM group
	KindRoleInline              // inline policy of an IAM role
	KindBoundary                // permissions boundary (a managed policy)
	KindSession                 // session policy passed to AssumeRole, GetFederationToken, …
	KindResource                // resource-based policy (bucket, secret, table, …)
	KindKeyPolicy               // KMS key policy
	KindTrust                   // role trust policy (AssumeRolePolicyDocument)
	KindSCP                     // service control policy
	KindRCP                     // resource control policy
	// KindAWSManaged is an AWS managed policy (arn:aws:iam::aws:policy/…):
	// validated as a customer managed policy, but exempt from the
	// managed-policy size quota, which AWS's own policies (ReadOnlyAccess,
	// SecurityAudit) far exceed.
	KindAWSManaged
	numKinds
)

var kindNames = [numKinds]string{
	"managed", "user-inline", "group-inline", "role-inline", "boundary",
	"session", "resource", "key-policy", "trust", "scp", "rcp", "aws-managed",
}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind returns the Kind named s (as printed by [Kind.String]).
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// SizeLimit returns the quota for a policy of kind k in characters, not
// counting white space, as IAM counts them; 0 means none (KindAWSManaged)
// ("IAM and AWS STS quotas",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html;
// "Quotas for AWS Organizations"; KMS "Key policy document size"; the S3
// bucket policy and Secrets Manager resource policy limits of 20 KB).
func (k Kind) SizeLimit() int {
	switch k {
	case KindUserInline:
		return 2048
	case KindGroupInline:
		return 5120
	case KindRoleInline:
		return 10240
	case KindManaged, KindBoundary:
		return 6144
	case KindSession:
		return 2048
	case KindTrust:
		return 2048
	case KindSCP, KindRCP:
		return 5120
	case KindKeyPolicy:
		return 32768
	case KindAWSManaged:
		return 0
	default:
		return 20480
	}
}

// identityBased reports whether k is attached to a principal (and so may
// not name one).
func (k Kind) identityBased() bool {
	switch k {
	case KindManaged, KindUserInline, KindGroupInline, KindRoleInline, KindBoundary, KindSession, KindSCP, KindAWSManaged:
		return true
	}
	return false
}

// resourceBased reports whether k requires a Principal.
func (k Kind) resourceBased() bool {
	switch k {
	case KindResource, KindKeyPolicy, KindTrust, KindRCP:
		return true
	}
	return false
}

// PolicyType is the role a policy plays in one evaluation; it names the
// policy in explanations and AccessDenied messages.
type PolicyType uint8

const (
	TypeNone     PolicyType = iota
	TypeIdentity            // identity-based policy
	TypeBoundary            // permissions boundary
	TypeSession             // session policy
	TypeResource            // resource-based policy (incl. key and trust policies)
	TypeSCP                 // service control policy
	TypeRCP                 // resource control policy
)

var typeNames = [...]string{"", "identity-based policy", "permissions boundary", "session policy",
	"resource-based policy", "service control policy", "resource control policy"}

// String returns the name AWS uses in AccessDenied messages, e.g.
// "identity-based policy".
func (t PolicyType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return ""
}

// article returns "a" or "an" for t.
func (t PolicyType) article() string {
	if t == TypeIdentity {
		return "an"
	}
	return "a"
}

// Result is the outcome of an evaluation.
type Result uint8

const (
	ImplicitDeny Result = iota // no explicit deny, but nothing (or not every required policy) allows
	Allow                      // allowed
	ExplicitDeny               // a matching Deny statement in some applicable policy
)

func (r Result) String() string {
	switch r {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}
