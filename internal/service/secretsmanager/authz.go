package secretsmanager

import (
	"context"
	"errors"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// onSecret is the rule of an operation on the one secret id names: it acts
// on the secret's ARN, with its resource policy and tags, and sets the
// condition keys every such operation carries, then extra's.
func onSecret[I any](s *Service, action string, id func(*I) *string, extra func(in *I, keys map[string][]string)) service.Rule[I] {
	return service.Rule[I]{
		Action: action,
		Resource: func(ctx context.Context, c *service.Call, in *I) (*authz.Resource, error) {
			sc, err := s.lookup(ctx, c, deref(id(in)))
			if err != nil {
				return nil, err
			}
			// The Context step and the handler reuse the secret (nil when
			// there is none): see keep.
			service.Keep(c, in, sc)
			return secretResource(c, sc, deref(id(in))), nil
		},
		Context: func(c *service.Call, in *I, keys map[string][]string) {
			if sc, ok := service.Found[*secret](c, in); ok {
				secretKeys(c, sc, deref(id(in)), keys)
			} else {
				s.secretContext(c, deref(id(in)), keys)
			}
			if extra != nil {
				extra(in, keys)
			}
		},
	}
}

// resource is the secret id names as authorization sees it. A secret that
// does not exist is authorized on the ARN it would have, so that a caller
// without permission learns nothing of which secrets exist; the handler
// then answers ResourceNotFoundException.
func (s *Service) resource(ctx context.Context, c *service.Call, id string) (*authz.Resource, error) {
	sc, err := s.lookup(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return secretResource(c, sc, id), nil
}

// secretResource is resource for the secret sc that id names (nil: none).
// A cached secret carries it ready (see prepared).
func secretResource(c *service.Call, sc *secret, id string) *authz.Resource {
	if sc == nil {
		r := parseID(c, id)
		arn := r.arn
		if arn == "" {
			arn = secretARN(r.region, r.account, id)
		}
		return &authz.Resource{ARN: arn, Account: r.account, PolicyKind: "resource"}
	}
	if sc.az != nil {
		return sc.az.res // shared: the authorizer only reads it
	}
	res := &authz.Resource{ARN: sc.ARN, Account: sc.Account, PolicyKind: "resource", Tags: sc.tagMap()}
	if sc.Policy != "" {
		res.Policy = []byte(sc.Policy)
	}
	return res
}

// secretContext sets secretsmanager:SecretId (the secret's ARN),
// secretsmanager:ResourceTag/<key> and secretsmanager:SecretPrimaryRegion.
func (s *Service) secretContext(c *service.Call, id string, keys map[string][]string) {
	sc, _ := s.lookup(context.Background(), c, id) // a cache hit: the rule's Resource just looked it up
	secretKeys(c, sc, id, keys)
}

// secretKeys is secretContext for the secret sc that id names (nil:
// none). A cached secret carries its keys ready (see prepared).
func secretKeys(c *service.Call, sc *secret, id string, keys map[string][]string) {
	if sc == nil {
		r := parseID(c, id)
		arn := r.arn
		if arn == "" {
			arn = secretARN(r.region, r.account, id)
		}
		keys["secretsmanager:SecretId"] = []string{arn}
		return
	}
	if sc.az != nil {
		for _, k := range sc.az.keys {
			keys[k.name] = k.values // shared: the authorizer only reads them
		}
		return
	}
	ownKeys(sc, keys)
}

// ownKeys sets the condition keys that follow from the secret sc alone.
func ownKeys(sc *secret, keys map[string][]string) {
	keys["secretsmanager:SecretId"] = []string{sc.ARN}
	keys["secretsmanager:SecretPrimaryRegion"] = []string{sc.homeRegion()}
	for _, t := range sc.Tags {
		keys["secretsmanager:ResourceTag/"+t.Key] = []string{t.Value}
	}
}

func secretARN(region, account, nameWithSuffix string) string {
	return "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + nameWithSuffix
}

// createResources: CreateSecret acts on the ARN the secret will have, which
// ends in a random suffix not yet chosen; AWS authorizes it on the name
// followed by "-??????", so "secret:name-*" and "secret:name-??????" match.
func createResources(c *service.Call, in *smapi.CreateSecretRequest) []string {
	return []string{secretARN(c.Region, c.Principal.Account, deref(in.Name)+"-??????")}
}

func createContext(c *service.Call, in *smapi.CreateSecretRequest, keys map[string][]string) {
	keys["secretsmanager:Name"] = []string{deref(in.Name)}
	if in.Description != nil {
		keys["secretsmanager:Description"] = []string{*in.Description}
	}
	if in.KmsKeyId != nil {
		keys["secretsmanager:KmsKeyId"] = []string{*in.KmsKeyId}
	}
	requestTagContext(in.Tags, keys)
	replicaContext(in.AddReplicaRegions, in.ForceOverwriteReplicaSecret, keys)
}

// requestTagContext sets aws:RequestTag/<key> and aws:TagKeys.
func requestTagContext(tags []smapi.Tag, keys map[string][]string) {
	if len(tags) == 0 {
		return
	}
	names := make([]string, 0, len(tags))
	for _, t := range tags {
		k := deref(t.Key)
		names = append(names, k)
		keys["aws:RequestTag/"+k] = []string{deref(t.Value)}
	}
	keys["aws:TagKeys"] = names
}

// validateRule: ValidateResourcePolicy may name no secret; then it acts on "*".
func validateRule(s *Service) service.Rule[smapi.ValidateResourcePolicyRequest] {
	return service.Rule[smapi.ValidateResourcePolicyRequest]{
		Action: "secretsmanager:ValidateResourcePolicy",
		Resource: func(ctx context.Context, c *service.Call, in *smapi.ValidateResourcePolicyRequest) (*authz.Resource, error) {
			if in.SecretId == nil {
				return nil, nil
			}
			return s.resource(ctx, c, *in.SecretId)
		},
	}
}

// authorizeAs authorizes action on the secret id names for c's principal,
// with the condition keys an API call on it carries (plus keys): for work
// done outside a request's rule, such as a built-in rotator's calls.
func (s *Service) authorizeAs(ctx context.Context, c *service.Call, action, id string, keys map[string][]string) error {
	if c.Authz == nil || c.Principal == nil {
		return accessDenied("Secrets Manager has no identity to act as for " + action)
	}
	res, err := s.resource(ctx, c, id)
	if err != nil {
		return err
	}
	if keys == nil {
		keys = map[string][]string{}
	}
	s.secretContext(c, id, keys)
	req := c.Request(action)
	req.Resource = res
	req.Keys = keys
	return c.Authz.Authorize(ctx, req)
}

// authorizeListSecrets is BatchGetSecretValue's second authorization when
// it names its secrets by Filters: secretsmanager:ListSecrets, which acts
// on "*" as the ListSecrets operation does, refused in AWS's words for
// that action.
func (s *Service) authorizeListSecrets(ctx context.Context, c *service.Call) error {
	if c.Authz == nil || c.Principal == nil {
		return accessDenied("Secrets Manager has no identity to authorize secretsmanager:ListSecrets")
	}
	err := c.Authz.Authorize(ctx, c.Request("secretsmanager:ListSecrets"))
	if d := (*authz.Denied)(nil); errors.As(err, &d) {
		return accessDenied(d.Message)
	}
	return err
}
