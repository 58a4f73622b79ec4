package authz

import (
	"fmt"
)

// Request is what an operation asks permission for.
type Request struct {
	Principal *Principal
	Action    string   // "sts:AssumeRole"
	Resources []string // ARNs; none means "*" (actions without resource-level permissions)
	// Resource is the one resource the call acts on, when a rule looked it
	// up: its ARN, owner, policy and tags.
	Resource *Resource
	// Keys are the operation's own condition keys.
	Keys map[string][]string
}

// Resource is a resource as authorization sees it.
type Resource struct {
	ARN     string
	Account string
	// Policy is the resource's own policy document (a KMS key policy, a
	// secret's resource policy, a role's trust policy), or nil.
	Policy []byte
	// PolicyKind says which rules apply to Policy: "resource", "key" (KMS key
	// policies: identity policies count only where the key policy lets the
	// account delegate) or "trust".
	PolicyKind string
	Tags       map[string]string
}

// Denied is a refusal, in AWS's words.
type Denied struct {
	Message string
}

func (d *Denied) Error() string { return d.Message }

// Authorize decides a request.
//
// Until the policy engine is wired in (issue 3/4), only the root user of an
// account is allowed: it is the only principal that exists, and denying by
// default is the safe answer for any other.
func Authorize(r *Request) error {
	if r.Principal != nil && r.Principal.Type == Root {
		return nil
	}
	who := "Anonymous"
	if r.Principal != nil {
		who = r.Principal.ARN
	}
	res := "*"
	if r.Resource != nil {
		res = r.Resource.ARN
	} else if len(r.Resources) > 0 {
		res = r.Resources[0]
	}
	return &Denied{Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", who, r.Action, res, r.Action)}
}
