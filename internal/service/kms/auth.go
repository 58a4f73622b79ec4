package kms

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
	// predefined: a predefined AWS alias (alias/aws/ebs…) of the caller's
	// account names its AWS managed key, created on first use (DescribeKey).
	predefined bool
	keyID      func(*I) *string
	encCtx     func(*I) map[string]string // the request's encryption context, if any
	tokens     func(*I) []string          // the request's grant tokens, if any
	keys       func(c *service.Call, in *I, e *keyEntry, k map[string][]string)
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
			e, ref, err := s.resolve(ctx, c, deref(op.keyID(in)), op.alias)
			if err != nil && op.predefined && ref.alias != "" && isCode(err, "NotFoundException") {
				// The key is created before authorization, as AWS creates
				// it on first use: what it allows is fixed (managedPolicy),
				// and only in the caller's own account.
				if created, cerr := s.ensurePredefined(ctx, c, ref); cerr != nil {
					return nil, cerr
				} else if created {
					e, ref, err = s.resolve(ctx, c, deref(op.keyID(in)), op.alias)
				}
			}
			if err != nil {
				return nil, err
			}
			if err := sameAccount(c, e, op.action); err != nil {
				return nil, err
			}
			keepKey(c, in, e, ref)
			var ec map[string]string
			if op.encCtx != nil {
				ec = op.encCtx(in)
			}
			return s.resource(c, e, op.action, op.grantOp, ec), nil
		},
		Context: func(c *service.Call, in *I, k map[string][]string) {
			e, ref, ok := foundKey(c, in)
			if !ok {
				var err error
				if e, ref, err = s.resolve(context.Background(), c, deref(op.keyID(in)), op.alias); err != nil {
					return
				}
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

// keyFound is what a rule's Resource step keeps (service.Keep) when the
// request named its key through an alias, which kms:RequestAlias needs;
// otherwise it keeps the *keyEntry alone, which costs no allocation.
type keyFound struct {
	e   *keyEntry
	ref keyRef
}

// keepKey hands the key the rule resolved for in to the Context step and
// the handler. An entry is an immutable snapshot of the key (a change
// replaces it in the cache), so a read-only handler that uses it sees the
// key exactly as authorization did.
func keepKey[I any](c *service.Call, in *I, e *keyEntry, ref keyRef) {
	if ref.alias == "" {
		service.Keep(c, in, e)
		return
	}
	service.Keep(c, in, &keyFound{e: e, ref: ref})
}

// foundKey returns what keepKey kept for in; ok is false when the rule
// kept nothing for it (the caller then resolves the key itself).
func foundKey[I any](c *service.Call, in *I) (*keyEntry, keyRef, bool) {
	if e, ok := service.Found[*keyEntry](c, in); ok {
		return e, keyRef{account: e.rec.Account, region: e.rec.Region, id: e.rec.ID}, true
	}
	if f, ok := service.Found[*keyFound](c, in); ok {
		return f.e, f.ref, true
	}
	return nil, keyRef{}, false
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
	if op == "" || len(e.grants) == 0 || c.Principal == nil {
		return e.res // shared: the authorizer only reads it
	}
	if g := matchGrant(e.grants, c.Principal, op, ec); g != nil {
		if p, err := e.grantPolicy(g, c.Principal.ARN, action); err == nil {
			r := *e.res
			r.Policy = p
			return &r
		}
	}
	return e.res
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
// ("Using grant constraints" in the KMS Developer Guide). GrantConstraints
// in the API reference: "in a grant constraint, the key in each key-value
// pair is not case sensitive, but the value is case sensitive."
func constraintsHold(g *grantRecord, ec map[string]string) bool {
	if g.ContextEquals != nil {
		if len(ec) != len(g.ContextEquals) {
			return false
		}
		// As many pairs on each side, and each constraint pair in the
		// request; then each request pair is a constraint pair unless two
		// request keys differ only by case, which the second loop refuses.
		for k, v := range g.ContextEquals {
			if !hasPair(ec, k, v) {
				return false
			}
		}
		for k, v := range ec {
			if !hasPair(g.ContextEquals, k, v) {
				return false
			}
		}
	}
	for k, v := range g.ContextSubset {
		if !hasPair(ec, k, v) {
			return false
		}
	}
	return true
}

// hasPair reports whether ec holds the pair k: v, comparing the key
// without regard to case and the value exactly.
func hasPair(ec map[string]string, k, v string) bool {
	if w, ok := ec[k]; ok && w == v {
		return true
	}
	for n, w := range ec {
		if w == v && strings.EqualFold(n, k) {
			return true
		}
	}
	return false
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
// ("AWS KMS condition keys" in the KMS Developer Guide). Names are in
// lower case (see service.Rule.Context); the values that follow from the
// key alone are the entry's, shared read-only.
func keyContext(c *service.Call, e *keyEntry, ref keyRef, k map[string][]string) {
	if c.Principal != nil {
		if c.Principal.Account == e.rec.Account && e.ownAccount != nil {
			k["kms:calleraccount"] = e.ownAccount
		} else {
			k["kms:calleraccount"] = []string{c.Principal.Account}
		}
	}
	for _, ck := range e.staticKeys {
		k[ck.name] = ck.values
	}
	if ref.alias != "" {
		k["kms:requestalias"] = []string{ref.alias}
	}
}

// encryptionContextKeys fills kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys.
func encryptionContextKeys(ec map[string]string, k map[string][]string) {
	if len(ec) == 0 {
		return
	}
	// One array for the names and the values: names first, then one
	// single-valued slice per pair.
	all := make([]string, 2*len(ec))
	names, values := all[:0:len(ec)], all[len(ec):]
	for n := range ec {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		values[i] = ec[n]
		k[encryptionContextKey(n)] = values[i : i+1 : i+1]
	}
	k["kms:encryptioncontextkeys"] = names
}

// encryptionContextKey is the condition key kms:EncryptionContext:<name>
// in lower case, as the authorizer reads it. Applications use few
// context names, so the keys of up to maxContextKeyNames of them are
// kept rather than built for every request.
func encryptionContextKey(name string) string {
	if v, ok := contextKeyNames.Load(name); ok {
		return v.(string)
	}
	key := "kms:encryptioncontext:" + strings.ToLower(name)
	if contextKeyCount.Load() < maxContextKeyNames {
		if _, loaded := contextKeyNames.LoadOrStore(name, key); !loaded {
			contextKeyCount.Add(1)
		}
	}
	return key
}

const maxContextKeyNames = 1024

var (
	contextKeyNames sync.Map // context name → condition key
	contextKeyCount atomic.Int32
)

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

// symmetricDefault is kms:EncryptionAlgorithm's value for symmetric
// keys, shared read-only by every request.
var symmetricDefault = []string{string(kmsapi.EncryptionAlgorithmSpecSymmetricDefault)}

func symmetricAlgKey[I any](_ *service.Call, _ *I, _ *keyEntry, k map[string][]string) {
	k["kms:encryptionalgorithm"] = symmetricDefault
}

// encryptionAlgorithmKey sets kms:EncryptionAlgorithm to alg (SYMMETRIC_DEFAULT when empty).
func encryptionAlgorithmKey(alg kmsapi.EncryptionAlgorithmSpec, k map[string][]string) {
	if alg == "" || alg == kmsapi.EncryptionAlgorithmSpecSymmetricDefault {
		k["kms:encryptionalgorithm"] = symmetricDefault
		return
	}
	k["kms:encryptionalgorithm"] = []string{string(alg)}
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
			e, ref, err := s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm)
			if err != nil {
				return nil, err
			}
			keepKey(c, in, e, ref)
			return s.resource(c, e, "kms:Decrypt", kmsapi.GrantOperationDecrypt, in.EncryptionContext), nil
		},
		Context: func(c *service.Call, in *kmsapi.DecryptRequest, k map[string][]string) {
			e, ref, ok := foundKey(c, in)
			if !ok {
				var err error
				if e, ref, err = s.decryptKey(context.Background(), c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm); err != nil {
					return
				}
			}
			keyContext(c, e, ref, k)
			encryptionContextKeys(in.EncryptionContext, k)
			encryptionAlgorithmKey(in.EncryptionAlgorithm, k)
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
			e, ref, err := s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.SourceKeyId), in.SourceEncryptionAlgorithm)
			if err != nil {
				return nil, err
			}
			keepKey(c, in, e, ref)
			return s.resource(c, e, "kms:ReEncryptFrom", kmsapi.GrantOperationReencryptfrom, in.SourceEncryptionContext), nil
		},
		Context: func(c *service.Call, in *kmsapi.ReEncryptRequest, k map[string][]string) {
			e, ref, ok := foundKey(c, in)
			if !ok {
				var err error
				if e, ref, err = s.decryptKey(context.Background(), c, in.CiphertextBlob, deref(in.SourceKeyId), in.SourceEncryptionAlgorithm); err != nil {
					return
				}
			}
			keyContext(c, e, ref, k)
			encryptionContextKeys(in.SourceEncryptionContext, k)
			encryptionAlgorithmKey(in.SourceEncryptionAlgorithm, k)
			k["kms:reencryptonsamekey"] = []string{"false"}
			if dst, _, err := s.resolve(context.Background(), c, deref(in.DestinationKeyId), true); err == nil && dst.rec.ID == e.rec.ID {
				k["kms:reencryptonsamekey"] = []string{"true"}
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
	req.Keys = make(map[string][]string, 16)
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
	if err == nil {
		return nil
	}
	var d *authz.Denied
	if errors.As(err, &d) {
		return accessDenied(d.Message)
	}
	return err
}

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == code
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
