package kms

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Principals tells KMS whether the AWS principals a key policy names
// exist (implemented in internal/app by the accounts of authn and the
// users and roles of IAM). Each method reports false, nil for a principal
// that does not exist.
type Principals interface {
	// AccountExists reports whether account is one of rampart's accounts.
	AccountExists(ctx context.Context, account string) (bool, error)
	// UserExists reports whether userARN (arn:aws:iam::ACCOUNT:user/PATH/NAME)
	// names an IAM user, path included.
	UserExists(ctx context.Context, userARN string) (bool, error)
	// RoleExists reports whether roleARN names an IAM role, path included.
	RoleExists(ctx context.Context, roleARN string) (bool, error)
}

// CheckPrincipals makes CreateKey, PutKeyPolicy and ReplicateKey refuse a
// key policy that names a principal p says does not exist. Without it,
// KMS checks only the principals' syntax. Call it before serving.
func (s *Service) CheckPrincipals(p Principals) { s.principals = p }

// invalidPrincipals is AWS's answer to a key policy naming a principal that
// does not exist (an IAM user or role, or an account): the KMS API
// reference lists MalformedPolicyDocumentException for CreateKey,
// PutKeyPolicy and ReplicateKey, and AWS words it so.
func invalidPrincipals() error {
	return kmsapi.NewMalformedPolicyDocumentException("Policy contains a statement with one or more invalid principals.")
}

// checkPrincipals checks that every AWS principal that doc (a policy that
// parsed) names exists: an account id or account root ARN names one of
// rampart's accounts, a user or role ARN a user or role of such an
// account, a role session or federated user ARN a session of such an
// account. "*" and service, federated and canonical-user principals are
// not checked. An IAM ARN of anything else (a group: "You cannot identify
// a user group as a principal", IAM User Guide, "AWS JSON policy elements:
// Principal") and a wildcard within an ARN ("You cannot use a wildcard to
// match part of a principal name or ARN", same page) are invalid too.
func (s *Service) checkPrincipals(ctx context.Context, doc string) error {
	if s.principals == nil {
		return nil
	}
	names, err := awsPrincipals(doc)
	if err != nil {
		return kmsapi.NewMalformedPolicyDocumentException("The policy is not valid JSON.")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "*" || seen[n] {
			continue
		}
		seen[n] = true
		ok, err := s.principalExists(ctx, n)
		if err != nil {
			return awsproto.Internal(err)
		}
		if !ok {
			return invalidPrincipals()
		}
	}
	return nil
}

func (s *Service) principalExists(ctx context.Context, name string) (bool, error) {
	if isAccountID(name) {
		return s.principals.AccountExists(ctx, name)
	}
	if strings.ContainsAny(name, "*?") {
		return false, nil
	}
	parts := strings.SplitN(name, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !isAccountID(parts[4]) {
		return false, nil
	}
	svc, account, res := parts[2], parts[4], parts[5]
	var check func(context.Context, string) (bool, error)
	switch {
	case svc == "iam" && res == "root":
	case svc == "iam" && strings.HasPrefix(res, "user/"):
		check = s.principals.UserExists
	case svc == "iam" && strings.HasPrefix(res, "role/"):
		check = s.principals.RoleExists
	case svc == "sts" && (strings.HasPrefix(res, "assumed-role/") || strings.HasPrefix(res, "federated-user/")):
		// A session is not kept after it ends; its account must exist.
	default:
		return false, nil
	}
	ok, err := s.principals.AccountExists(ctx, account)
	if err != nil || !ok || check == nil {
		return ok, err
	}
	return check(ctx, name)
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// awsPrincipals returns the values of the "AWS" members of the Principal
// and NotPrincipal elements of doc.
func awsPrincipals(doc string) ([]string, error) {
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	type statement struct {
		Principal, NotPrincipal json.RawMessage
	}
	var stmts []statement
	if len(d.Statement) > 0 && d.Statement[0] == '{' {
		var st statement
		if err := json.Unmarshal(d.Statement, &st); err != nil {
			return nil, err
		}
		stmts = []statement{st}
	} else if len(d.Statement) > 0 {
		if err := json.Unmarshal(d.Statement, &stmts); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, st := range stmts {
		for _, el := range []json.RawMessage{st.Principal, st.NotPrincipal} {
			if len(el) == 0 || el[0] != '{' {
				continue // absent, or "*"
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(el, &m); err != nil {
				return nil, err
			}
			v, ok := m["AWS"]
			if !ok {
				continue
			}
			var one string
			if err := json.Unmarshal(v, &one); err == nil {
				out = append(out, one)
				continue
			}
			var many []string
			if err := json.Unmarshal(v, &many); err != nil {
				return nil, err
			}
			out = append(out, many...)
		}
	}
	return out, nil
}
