// Package authz decides whether a caller may perform an operation: it finds
// the policies that apply to the request and asks the policy engine.
package authz

import (
	"time"

	"github.com/rampart/rampart/internal/policy"
)

// PrincipalType is the kind of caller, spelled as CloudTrail's
// userIdentity.type and aws:PrincipalType spell it.
type PrincipalType string

const (
	Root          PrincipalType = "Root"
	IAMUser       PrincipalType = "IAMUser"
	AssumedRole   PrincipalType = "AssumedRole"
	FederatedUser PrincipalType = "FederatedUser"
	Anonymous     PrincipalType = "Anonymous"
)

// Principal is an authenticated caller.
type Principal struct {
	Type    PrincipalType
	Account string // 12-digit account id
	ARN     string // arn:aws:iam::000000000000:root, …:user/path/name, arn:aws:sts::…:assumed-role/Role/session
	// ID is the unique id AWS shows as UserId: the account id for the root
	// user, AIDA… for users, AROA…:session for role sessions.
	ID          string
	Name        string // user name, role name or federated user name
	AccessKeyID string // the key that signed the request

	// For role sessions: the role (its ARN with path, and its AROA… id)
	// and the session name.
	RoleARN     string
	RoleID      string
	SessionName string
	// Session is set for temporary credentials (AssumedRole, FederatedUser,
	// and IAM users' GetSessionToken sessions).
	Session *Session
}

// Session is what temporary credentials carry into every authorization.
type Session struct {
	Policies          []*policy.Policy  // session policies (Policy + PolicyArns); none: not limited
	Tags              map[string]string // session tags (aws:PrincipalTag/… override the role's)
	TransitiveTagKeys []string
	SourceIdentity    string
	MFAAuthenticated  bool
	MFAAuthTime       time.Time // aws:MultiFactorAuthAge counts from here
	IssuedAt          time.Time // aws:TokenIssueTime
	Expiration        time.Time
	Chained           bool   // created by a role session (role chaining)
	IssuerARN         string // the user or role the session was issued for
}
