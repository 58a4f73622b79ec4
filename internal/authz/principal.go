// Package authz decides whether a caller may perform an operation: it finds
// the policies that apply to the request and asks the policy engine.
package authz

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
}
