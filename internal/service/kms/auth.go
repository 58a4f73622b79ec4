package kms

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// keyOp describes an operation on one key for [keyRule].
type keyOp[I any] struct {
	action  string                // IAM action, "kms:Encrypt"
	grantOp kmsapi.GrantOperation // the grant operation that allows it; "" if grants cannot
	alias   bool                  // the KeyId parameter may name an alias
	keyID   func(*I) *string
	encCtx  func(*I) map[string]string // the request's encryption context, if any
	tokens  func(*I) []string          // the request's grant tokens, if any
	keys    func(c *service.Call, in *I, e *keyEntry, k map[string][]string)
}

// keyRule is the rule of an operation on one key: the Resource hook
// resolves the key and returns it with its key policy (extended by a
// matching grant, see the package doc); the Context hook fills KMS's
// condition keys.
func keyRule[I any](s *Service, op keyOp[I]) service.Rule[I] {
	return service.Rule[I]{
		Action: op.action,
		Resource: func(ctx context.Context, c *service.Call, in *I) (*authz.Resource, error) {
			if op.tokens != nil {
				if err := checkGrantTokens(op.tokens(in)); err != nil {
					return nil, err
				}
			}
			e, _, err := s.resolve(ctx, c, deref(op.keyID(in)), op.alias)
			if err != nil {
				return nil, err
			}
			if err := sameAccount(c, e, op.action); err != nil {
				return nil, err
			}
			var ec map[string]string
			if op.encCtx != nil {
				ec = op.encCtx(in)
			}
			return s.resource(c, e, op.action, op.grantOp, ec), nil
		},
		Context: func(c *service.Call, in *I, k map[string][]string) {
			e, ref, err := s.resolve(context.Background(), c, deref(op.keyID(in)), op.alias)
			if err != nil {
				return
			}
			keyContext(c, e, ref, k)
			if op.encCtx != nil {
				encryptionContextKeys(op.encCtx(in), k)
			}
			if op.keys != nil {
				op.keys(c, in, e, k)
			}
		},
	}
}

// crossAccount are the actions a principal of another account may perform
// on a key when the key policy (and its own policies) allow it; KMS
// ignores a cross-account permission for any other action ("Allowing
// users in other accounts to use a KMS key", and "Cross-account use" in
// each operation's API reference). Decrypt and ReEncrypt, whose rules
// find the key in the ciphertext, are cross-account too.
var crossAccount = map[string]bool{
	"kms:CreateGrant": true, "kms:Decrypt": true, "kms:DeriveSharedSecret": true, "kms:DescribeKey": true,
	"kms:Encrypt": true, "kms:GenerateDataKey": true, "kms:GenerateDataKeyPair": true,
	"kms:GenerateDataKeyPairWithoutPlaintext": true, "kms:GenerateDataKeyWithoutPlaintext": true,
	"kms:GenerateMac": true, "kms:GetKeyRotationStatus": true, "kms:GetPublicKey": true,
	"kms:ListGrants": true, "kms:ReEncryptFrom": true, "kms:ReEncryptTo": true, "kms:RetireGrant": true,
	"kms:RevokeGrant": true, "kms:Sign": true, "kms:Verify": true, "kms:VerifyMac": true,
	// Not documented either way yet; served across accounts as before.
	"kms:GetKeyLastUsage": true,
}

// sameAccount refuses an action that is not cross-account on a key of
// another account than the caller's: such a key does not exist for it,
// whatever the key policy says, so the answer is the NotFoundException of
// a key that is not there (and reveals nothing about the key).
func sameAccount(c *service.Call, e *keyEntry, action string) error {
	if crossAccount[action] || c.Principal == nil || c.Principal.Account == e.rec.Account {
		return nil
	}
	return kmsapi.NewNotFoundException("Key '%s' does not exist", e.arn)
}

// resource is the key as authorization sees it. When a grant on the key
// allows the caller this operation, the key policy handed to the
// authorizer carries one more statement allowing exactly that.
func (s *Service) resource(c *service.Call, e *keyEntry, action string, op kmsapi.GrantOperation, ec map[string]string) *authz.Resource {
	r := &authz.Resource{ARN: e.arn, Account: e.rec.Account, Policy: e.policy, PolicyKind: "key", Tags: e.tags}
	if op == "" || len(e.grants) == 0 || c.Principal == nil {
		return r
	}
	if g := matchGrant(e.grants, c.Principal, op, ec); g != nil {
		if p, err := e.grantPolicy(g, c.Principal.ARN, action); err == nil {
			r.Policy = p
		}
	}
	return r
}

// matchGrant returns a grant on the key that lets p perform op with the
// encryption context ec, or nil.
func matchGrant(grants []*grantRecord, p *authz.Principal, op kmsapi.GrantOperation, ec map[string]string) *grantRecord {
	for _, g := range grants {
		if !grantNames(g.Grantee, p) || !slices.Contains(g.Operations, op) || !constraintsHold(g, ec) {
			continue
		}
		return g
	}
	return nil
}

// grantNames reports whether a grantee principal names the caller: its
// own ARN, or for a role session the role.
func grantNames(grantee string, p *authz.Principal) bool {
	return grantee != "" && (grantee == p.ARN || (p.RoleARN != "" && grantee == p.RoleARN))
}

// constraintsHold checks a grant's encryption-context constraints
// ("Using grant constraints" in the KMS Developer Guide).
func constraintsHold(g *grantRecord, ec map[string]string) bool {
	if g.ContextEquals != nil {
		if len(ec) != len(g.ContextEquals) {
			return false
		}
		for k, v := range g.ContextEquals {
			if w, ok := ec[k]; !ok || w != v {
				return false
			}
		}
	}
	for k, v := range g.ContextSubset {
		if w, ok := ec[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// grantPolicy returns the key policy plus a statement allowing caller
// the action, built once per grant, caller and action.
func (e *keyEntry) grantPolicy(g *grantRecord, caller, action string) ([]byte, error) {
	ck := g.ID + "\x00" + caller + "\x00" + action
	if v, ok := e.grantPolicies.Load(ck); ok {
		return v.([]byte), nil
	}
	var doc map[string]any
	if err := json.Unmarshal(e.policy, &doc); err != nil {
		return nil, err
	}
	var stmts []any
	switch st := doc["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	default:
		return nil, errors.New("kms: key policy without statements")
	}
	stmts = append(stmts, map[string]any{
		"Sid":       "Grant" + g.ID,
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": caller},
		"Action":    action,
		"Resource":  "*",
	})
	doc["Statement"] = stmts
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	e.grantPolicies.Store(ck, b)
	return b, nil
}

// keyContext fills the condition keys every operation on a key has
// ("AWS KMS condition keys" in the KMS Developer Guide).
func keyContext(c *service.Call, e *keyEntry, ref keyRef, k map[string][]string) {
	if c.Principal != nil {
		k["kms:CallerAccount"] = []string{c.Principal.Account}
	}
	k["kms:KeySpec"] = []string{string(e.rec.Spec)}
	k["kms:CustomerMasterKeySpec"] = []string{string(e.rec.Spec)}
	k["kms:KeyUsage"] = []string{string(e.rec.Usage)}
	k["kms:KeyOrigin"] = []string{string(e.rec.Origin)}
	k["kms:MultiRegion"] = []string{"false"}
	if e.rec.MultiRegion {
		k["kms:MultiRegion"] = []string{"true"}
		if cfg := multiRegionConfiguration(e.rec); cfg != nil {
			k["kms:MultiRegionKeyType"] = []string{string(cfg.MultiRegionKeyType)}
		}
	}
	if ref.alias != "" {
		k["kms:RequestAlias"] = []string{ref.alias}
	}
	if len(e.aliases) > 0 {
		k["kms:ResourceAliases"] = e.aliases
	}
}

// encryptionContextKeys fills kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys.
func encryptionContextKeys(ec map[string]string, k map[string][]string) {
	if len(ec) == 0 {
		return
	}
	names := make([]string, 0, len(ec))
	for n, v := range ec {
		names = append(names, n)
		k["kms:EncryptionContext:"+n] = []string{v}
	}
	sort.Strings(names)
	k["kms:EncryptionContextKeys"] = names
}

func createKeyContext(c *service.Call, in *kmsapi.CreateKeyRequest, k map[string][]string) {
	k["kms:CallerAccount"] = []string{c.Principal.Account}
	spec := string(in.KeySpec)
	if spec == "" {
		spec = string(in.CustomerMasterKeySpec)
	}
	if spec == "" {
		spec = string(kmsapi.KeySpecSymmetricDefault)
	}
	k["kms:KeySpec"] = []string{spec}
	k["kms:CustomerMasterKeySpec"] = []string{spec}
	usage := string(in.KeyUsage)
	if usage == "" {
		usage = string(kmsapi.KeyUsageTypeEncryptDecrypt)
	}
	k["kms:KeyUsage"] = []string{usage}
	origin := string(in.Origin)
	if origin == "" {
		origin = string(kmsapi.OriginTypeAwsKms)
	}
	k["kms:KeyOrigin"] = []string{origin}
	k["kms:BypassPolicyLockoutSafetyCheck"] = []string{boolString(in.BypassPolicyLockoutSafetyCheck)}
	k["kms:MultiRegion"] = []string{boolString(in.MultiRegion)}
	if in.MultiRegion != nil && *in.MultiRegion {
		k["kms:MultiRegionKeyType"] = []string{string(kmsapi.MultiRegionKeyTypePrimary)}
	}
	requestTags(in.Tags, k)
}

// requestTags fills aws:RequestTag/<key> and aws:TagKeys.
func requestTags(tags []kmsapi.Tag, k map[string][]string) {
	if len(tags) == 0 {
		return
	}
	var names []string
	for _, t := range tags {
		names = append(names, deref(t.TagKey))
		k["aws:RequestTag/"+deref(t.TagKey)] = []string{deref(t.TagValue)}
	}
	k["aws:TagKeys"] = names
}

func symmetricAlgKey[I any](_ *service.Call, _ *I, _ *keyEntry, k map[string][]string) {
	k["kms:EncryptionAlgorithm"] = []string{string(kmsapi.EncryptionAlgorithmSpecSymmetricDefault)}
}

func createGrantKeys(_ *service.Call, in *kmsapi.CreateGrantRequest, _ *keyEntry, k map[string][]string) {
	ops := make([]string, 0, len(in.Operations))
	for _, o := range in.Operations {
		ops = append(ops, string(o))
	}
	k["kms:GrantOperations"] = ops
	if in.GranteePrincipal != nil {
		k["kms:GranteePrincipal"] = []string{*in.GranteePrincipal}
	}
	if in.RetiringPrincipal != nil {
		k["kms:RetiringPrincipal"] = []string{*in.RetiringPrincipal}
	}
	k["kms:GrantIsForAWSResource"] = []string{"false"}
	if in.Constraints != nil {
		switch {
		case in.Constraints.EncryptionContextEquals != nil:
			k["kms:GrantConstraintType"] = []string{"EncryptionContextEquals"}
		case in.Constraints.EncryptionContextSubset != nil:
			k["kms:GrantConstraintType"] = []string{"EncryptionContextSubset"}
		}
	}
}

func encAlg(a kmsapi.EncryptionAlgorithmSpec) kmsapi.EncryptionAlgorithmSpec {
	if a == "" {
		return kmsapi.EncryptionAlgorithmSpecSymmetricDefault
	}
	return a
}

func messageType(m kmsapi.MessageType) kmsapi.MessageType {
	if m == "" {
		return kmsapi.MessageTypeRaw
	}
	return m
}

// decryptRule: the key comes from the ciphertext (or, for asymmetric
// ciphertexts, from KeyId); a KeyId that names another key than the
// ciphertext's is IncorrectKeyException.
func decryptRule(s *Service) service.Rule[kmsapi.DecryptRequest] {
	return service.Rule[kmsapi.DecryptRequest]{
		Action: "kms:Decrypt",
		Resource: func(ctx context.Context, c *service.Call, in *kmsapi.DecryptRequest) (*authz.Resource, error) {
			if err := checkGrantTokens(in.GrantTokens); err != nil {
				return nil, err
			}
			e, _, err := s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm)
			if err != nil {
				return nil, err
			}
			return s.resource(c, e, "kms:Decrypt", kmsapi.GrantOperationDecrypt, in.EncryptionContext), nil
		},
		Context: func(c *service.Call, in *kmsapi.DecryptRequest, k map[string][]string) {
			e, ref, err := s.decryptKey(context.Background(), c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm)
			if err != nil {
				return
			}
			keyContext(c, e, ref, k)
			encryptionContextKeys(in.EncryptionContext, k)
			k["kms:EncryptionAlgorithm"] = []string{string(encAlg(in.EncryptionAlgorithm))}
		},
	}
}

// reEncryptRule authorizes kms:ReEncryptFrom on the source key here; the
// handler authorizes kms:ReEncryptTo on the destination key.
func reEncryptRule(s *Service) service.Rule[kmsapi.ReEncryptRequest] {
	return service.Rule[kmsapi.ReEncryptRequest]{
		Action: "kms:ReEncryptFrom",
		Resource: func(ctx context.Context, c *service.Call, in *kmsapi.ReEncryptRequest) (*authz.Resource, error) {
			if err := checkGrantTokens(in.GrantTokens); err != nil {
				return nil, err
			}
			e, _, err := s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.SourceKeyId), in.SourceEncryptionAlgorithm)
			if err != nil {
				return nil, err
			}
			return s.resource(c, e, "kms:ReEncryptFrom", kmsapi.GrantOperationReencryptfrom, in.SourceEncryptionContext), nil
		},
		Context: func(c *service.Call, in *kmsapi.ReEncryptRequest, k map[string][]string) {
			e, ref, err := s.decryptKey(context.Background(), c, in.CiphertextBlob, deref(in.SourceKeyId), in.SourceEncryptionAlgorithm)
			if err != nil {
				return
			}
			keyContext(c, e, ref, k)
			encryptionContextKeys(in.SourceEncryptionContext, k)
			k["kms:EncryptionAlgorithm"] = []string{string(encAlg(in.SourceEncryptionAlgorithm))}
			k["kms:ReEncryptOnSameKey"] = []string{"false"}
			if dst, _, err := s.resolve(context.Background(), c, deref(in.DestinationKeyId), true); err == nil && dst.rec.ID == e.rec.ID {
				k["kms:ReEncryptOnSameKey"] = []string{"true"}
			}
		},
	}
}

// authorize checks a second request beyond the operation's rule (the
// destination key of ReEncrypt, the alias of CreateAlias…), with the
// key's resource and condition keys.
func (s *Service) authorize(ctx context.Context, c *service.Call, action string, e *keyEntry, ref keyRef, op kmsapi.GrantOperation, ec map[string]string, extra func(map[string][]string)) error {
	req := c.Request(action)
	req.Resource = s.resource(c, e, action, op, ec)
	req.Keys = map[string][]string{}
	keyContext(c, e, ref, req.Keys)
	encryptionContextKeys(ec, req.Keys)
	if extra != nil {
		extra(req.Keys)
	}
	return denied(c.Authz.Authorize(ctx, req))
}

// denied turns an authorizer's refusal into KMS's AccessDeniedException
// (handlers' own checks; the server does this for rules).
func denied(err error) error {
	var d *authz.Denied
	if errors.As(err, &d) {
		return accessDenied(d.Message)
	}
	return err
}

func accessDenied(msg string) error {
	return &awsproto.Error{Code: "AccessDeniedException", Message: msg, Status: 400, Sender: true}
}

func pendingWindow(p *int32) int32 {
	if p == nil {
		return 30
	}
	return *p
}
