package authz

import (
	"context"
	"fmt"
	"time"
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

	// The request's context, for the global condition keys.
	SourceIP  string
	UserAgent string
	Secure    bool
	Region    string
	Time      time.Time
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

// Checker decides requests. The server hands one to every call
// (service.Call.Authz); handlers use it for checks beyond their rule
// (iam:PassRole, a second resource).
type Checker interface {
	// Authorize returns nil when the request is allowed, a *Denied in AWS's
	// words when it is not, or another error when deciding failed.
	Authorize(ctx context.Context, r *Request) error
}

// Denied is a refusal, in AWS's words.
type Denied struct {
	Message string
}

func (d *Denied) Error() string { return d.Message }

// RootOnly allows the root user of an account and denies everyone else: the
// safe answer while no identity has policies to evaluate.
type RootOnly struct{}

// Authorize implements Checker.
func (RootOnly) Authorize(_ context.Context, r *Request) error {
	if r.Principal != nil && r.Principal.Type == Root {
		return nil
	}
	return &Denied{Message: DeniedMessage(r, "no identity-based policy allows the "+r.Action+" action")}
}

// DeniedMessage renders AWS's AccessDenied wording:
// "User: ARN is not authorized to perform: ACTION on resource: RES because REASON".
func DeniedMessage(r *Request, because string) string {
	who := "anonymous"
	if r.Principal != nil {
		who = r.Principal.ARN
	}
	res := "*"
	if r.Resource != nil {
		res = r.Resource.ARN
	} else if len(r.Resources) > 0 {
		res = r.Resources[0]
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because %s", who, r.Action, res, because)
}
