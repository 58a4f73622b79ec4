package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// GetResourcePolicy returns a secret's resource policy, if it has one.
func (s *Service) GetResourcePolicy(ctx context.Context, in *smapi.GetResourcePolicyRequest) (*smapi.GetResourcePolicyResponse, error) {
	c := service.CallFrom(ctx)
	sc, err := s.lookup(ctx, c, deref(in.SecretId))
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	out := &smapi.GetResourcePolicyResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
	if sc.Policy != "" {
		out.ResourcePolicy = ptr(sc.Policy)
	}
	return out, nil
}

// PutResourcePolicy attaches a resource policy to a secret, replacing any
// other. With BlockPublicPolicy, a policy that grants broad access (to any
// principal, unless a condition narrows it to known accounts, organizations
// or networks) is refused with PublicPolicyException.
func (s *Service) PutResourcePolicy(ctx context.Context, in *smapi.PutResourcePolicyRequest) (*smapi.PutResourcePolicyResponse, error) {
	c := service.CallFrom(ctx)
	doc := deref(in.ResourcePolicy)
	if err := checkPolicy(doc); err != nil {
		return nil, err
	}
	if deref(in.BlockPublicPolicy) && isPublic(doc) {
		return nil, smapi.NewPublicPolicyException("The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.")
	}
	var out *smapi.PutResourcePolicyResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		sc.Policy = doc
		sc.LastChanged = c.Now
		out = &smapi.PutResourcePolicyResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteResourcePolicy removes a secret's resource policy.
func (s *Service) DeleteResourcePolicy(ctx context.Context, in *smapi.DeleteResourcePolicyRequest) (*smapi.DeleteResourcePolicyResponse, error) {
	c := service.CallFrom(ctx)
	var out *smapi.DeleteResourcePolicyResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		out = &smapi.DeleteResourcePolicyResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
		if sc.Policy == "" {
			return nil
		}
		sc.Policy = ""
		sc.LastChanged = c.Now
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateResourcePolicy checks a policy's syntax (a malformed one is
// MalformedPolicyDocumentException, as for PutResourcePolicy) and whether it
// grants broad access, which it reports as a failed check.
func (s *Service) ValidateResourcePolicy(ctx context.Context, in *smapi.ValidateResourcePolicyRequest) (*smapi.ValidateResourcePolicyResponse, error) {
	c := service.CallFrom(ctx)
	if in.SecretId != nil {
		sc, err := s.lookup(ctx, c, *in.SecretId)
		if err != nil {
			return nil, err
		}
		if sc == nil {
			return nil, errNotFound()
		}
	}
	doc := deref(in.ResourcePolicy)
	if err := checkPolicy(doc); err != nil {
		return nil, err
	}
	out := &smapi.ValidateResourcePolicyResponse{PolicyValidationPassed: ptr(true), ValidationErrors: []smapi.ValidationErrorsEntry{}}
	if isPublic(doc) {
		out.PolicyValidationPassed = ptr(false)
		out.ValidationErrors = append(out.ValidationErrors, smapi.ValidationErrorsEntry{
			CheckName:    ptr("BROAD_ACCESS_CHECK"),
			ErrorMessage: ptr("The resource policy grants access to a wide range of principals: every principal, not restricted by a condition to specific accounts, organizations or networks."),
		})
	}
	return out, nil
}

// checkPolicy parses doc as a resource-based policy, answering AWS's
// MalformedPolicyDocumentException or LimitExceededException.
func checkPolicy(doc string) error {
	_, err := policy.Parse([]byte(doc), policy.KindResource)
	if err == nil {
		return nil
	}
	var pe *policy.Error
	if errors.As(err, &pe) {
		if pe.Code == policy.CodeLimitExceeded {
			return smapi.NewLimitExceededException("%s", pe.Message)
		}
		return smapi.NewMalformedPolicyDocumentException("%s", pe.Message)
	}
	return smapi.NewMalformedPolicyDocumentException("This resource policy contains a syntax error.")
}

// narrowingKeys are condition keys that, compared with fixed values,
// confine a grant to known principals, organizations or networks, as IAM
// Access Analyzer and Block Public Access count them.
var narrowingKeys = map[string]bool{
	"aws:principalaccount": true, "aws:principalarn": true, "aws:principalorgid": true,
	"aws:principalorgpaths": true, "aws:sourceaccount": true, "aws:sourcearn": true,
	"aws:sourceowner": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceip": true, "aws:userid": true, "aws:username": true, "aws:sourceorgid": true,
	"aws:sourceorgpaths": true, "aws:principalservicename": true, "kms:calleraccount": true,
}

// isPublic reports whether doc has an Allow statement for any principal
// (Principal "*", {"AWS": "*"}, or a NotPrincipal) that no condition narrows.
func isPublic(doc string) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	for _, st := range stmts {
		if eff, _ := st["Effect"].(string); eff != "Allow" {
			continue
		}
		_, notPrincipal := st["NotPrincipal"]
		if !notPrincipal && !anyPrincipal(st["Principal"]) {
			continue
		}
		if !narrowed(st["Condition"]) {
			return true
		}
	}
	return false
}

func anyPrincipal(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "*"
	case []any:
		for _, e := range x {
			if anyPrincipal(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if k == "AWS" || k == "Federated" || k == "CanonicalUser" {
				if anyPrincipal(e) {
					return true
				}
			}
		}
	}
	return false
}

// narrowed reports whether a Condition block pins a narrowing key to
// values without wildcards, with a positive operator.
func narrowed(v any) bool {
	block, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for op, keys := range block {
		lop := strings.ToLower(op)
		if strings.Contains(lop, "not") || strings.HasSuffix(lop, "ifexists") || strings.HasPrefix(lop, "null") {
			continue
		}
		km, ok := keys.(map[string]any)
		if !ok {
			continue
		}
		for k, vals := range km {
			if !narrowingKeys[strings.ToLower(k)] {
				continue
			}
			if fixedValues(vals) {
				return true
			}
		}
	}
	return false
}

func fixedValues(v any) bool {
	switch x := v.(type) {
	case string:
		return x != "" && x != "*" && !strings.HasPrefix(x, "*")
	case []any:
		if len(x) == 0 {
			return false
		}
		for _, e := range x {
			if !fixedValues(e) {
				return false
			}
		}
		return true
	}
	return false
}
