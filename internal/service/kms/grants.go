package kms

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// contextOps are the grant operations that take an encryption context, the
// only ones a grant with encryption-context constraints may list ("Grant
// constraints" in the KMS Developer Guide).
var contextOps = []kmsapi.GrantOperation{
	kmsapi.GrantOperationDecrypt, kmsapi.GrantOperationEncrypt, kmsapi.GrantOperationGeneratedatakey,
	kmsapi.GrantOperationGeneratedatakeywithoutplaintext, kmsapi.GrantOperationReencryptfrom, kmsapi.GrantOperationReencryptto,
	kmsapi.GrantOperationGeneratedatakeypair, kmsapi.GrantOperationGeneratedatakeypairwithoutplaintext,
	kmsapi.GrantOperationCreategrant, kmsapi.GrantOperationRetiregrant,
}

// keyGrantOps returns the grant operations a key supports besides
// commonOps. "Grant operations" in the KMS Developer Guide: "The grant
// operations that you allow must be supported by the KMS key in the
// grant. If you specify an unsupported operation, the CreateGrant request
// fails with a ValidationError exception": grants for symmetric
// encryption keys cannot allow Sign, Verify, GenerateMac or VerifyMac
// (nor GetPublicKey, the CreateGrant API reference adds), grants for
// asymmetric keys cannot allow any operation that generates data keys or
// data key pairs, and an asymmetric key allows only the operations of its
// key usage.
func keyGrantOps(rec *keyRecord) []kmsapi.GrantOperation {
	switch keyClass(rec.Spec) {
	case classSymmetric:
		return symmetricOps
	case classHMAC:
		return macOps
	}
	switch rec.Usage {
	case kmsapi.KeyUsageTypeEncryptDecrypt:
		return asymmetricEncryptOps
	case kmsapi.KeyUsageTypeSignVerify:
		return signOps
	case kmsapi.KeyUsageTypeKeyAgreement:
		return agreementOps
	}
	return nil
}

var (
	symmetricOps = []kmsapi.GrantOperation{kmsapi.GrantOperationDecrypt, kmsapi.GrantOperationEncrypt, kmsapi.GrantOperationGeneratedatakey,
		kmsapi.GrantOperationGeneratedatakeywithoutplaintext, kmsapi.GrantOperationReencryptfrom, kmsapi.GrantOperationReencryptto,
		kmsapi.GrantOperationGeneratedatakeypair, kmsapi.GrantOperationGeneratedatakeypairwithoutplaintext}
	asymmetricEncryptOps = []kmsapi.GrantOperation{kmsapi.GrantOperationDecrypt, kmsapi.GrantOperationEncrypt,
		kmsapi.GrantOperationReencryptfrom, kmsapi.GrantOperationReencryptto, kmsapi.GrantOperationGetpublickey}
	signOps      = []kmsapi.GrantOperation{kmsapi.GrantOperationSign, kmsapi.GrantOperationVerify, kmsapi.GrantOperationGetpublickey}
	macOps       = []kmsapi.GrantOperation{kmsapi.GrantOperationGeneratemac, kmsapi.GrantOperationVerifymac}
	agreementOps = []kmsapi.GrantOperation{kmsapi.GrantOperationDerivesharedsecret, kmsapi.GrantOperationGetpublickey}
)

var commonOps = []kmsapi.GrantOperation{kmsapi.GrantOperationCreategrant, kmsapi.GrantOperationRetiregrant, kmsapi.GrantOperationDescribekey}

// CreateGrant gives a principal permission to use a key for some
// operations, optionally only with some encryption context. The grant is
// effective as soon as CreateGrant returns.
func (s *Service) CreateGrant(ctx context.Context, in *kmsapi.CreateGrantRequest) (*kmsapi.CreateGrantResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	if err := usable(e); err != nil {
		return nil, err
	}
	if in.GranteeServicePrincipal != nil || in.RetiringServicePrincipal != nil {
		return nil, validation("rampart does not support service principals in grants yet (GranteeServicePrincipal, RetiringServicePrincipal).")
	}
	grantee := deref(in.GranteePrincipal)
	if !strings.HasPrefix(grantee, "arn:") {
		return nil, validation("Invalid GranteePrincipal %s: it must be the ARN of an AWS principal.", grantee)
	}
	if in.RetiringPrincipal != nil && !strings.HasPrefix(*in.RetiringPrincipal, "arn:") {
		return nil, validation("Invalid RetiringPrincipal %s: it must be the ARN of an AWS principal.", *in.RetiringPrincipal)
	}
	// AWS documents the ValidationException, not its wording.
	for _, op := range in.Operations {
		if !slices.Contains(keyGrantOps(e.rec), op) && !slices.Contains(commonOps, op) {
			return nil, validation("Grant operation %s is not valid for a key whose key spec is %s and key usage is %s.", op, e.rec.Spec, e.rec.Usage)
		}
	}
	g := &grantRecord{
		KeyID: e.rec.ID, Name: deref(in.Name), Created: c.Now, Grantee: grantee, Retiring: deref(in.RetiringPrincipal),
		IssuingAccount: keyARNAccountRoot(c.Principal.Account), Operations: slices.Clone(in.Operations),
		CreatedByIdentity: c.Principal.ARN,
	}
	if k := in.Constraints; k != nil {
		if k.EncryptionContextEquals != nil && k.EncryptionContextSubset != nil {
			return nil, validation("A grant constraint may specify EncryptionContextEquals or EncryptionContextSubset, not both.")
		}
		if k.SourceArn != nil {
			return nil, validation("rampart does not support the SourceArn grant constraint yet.")
		}
		if k.EncryptionContextEquals != nil || k.EncryptionContextSubset != nil {
			// "You cannot use an encryption context grant constraint for
			// cryptographic operations with asymmetric KMS keys or HMAC
			// KMS keys. Operations with these keys don't support an
			// encryption context." (CreateGrant, Constraints); AWS
			// documents no wording for the refusal.
			if keyClass(e.rec.Spec) != classSymmetric {
				return nil, validation("Encryption context grant constraints are not supported on a key whose key spec is %s: operations with asymmetric and HMAC keys do not take an encryption context.", e.rec.Spec)
			}
			for _, op := range in.Operations {
				if !slices.Contains(contextOps, op) {
					return nil, validation("Grant operation %s does not support encryption context grant constraints.", op)
				}
			}
		}
		g.ContextEquals, g.ContextSubset = k.EncryptionContextEquals, k.EncryptionContextSubset
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if g.ID, err = randomHex(c.Rand, 32); err != nil {
		return nil, awsproto.Internal(err)
	}
	secret, err := readRandom(c.Rand, 32)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	g.TokenHash = tokenHash(secret)
	tok := grantToken{keyPath: e.path, grantID: g.ID, secret: secret}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		rec, err := getKey(tx, e.path)
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Key '%s' does not exist", e.arn)
		}
		if err != nil {
			return err
		}
		if err := pendingDeletion(rec); err != nil {
			return err
		}
		return putGrant(tx, e.path, g)
	})
	if err != nil {
		return nil, awsproto.AsError(err)
	}
	return &kmsapi.CreateGrantResponse{GrantToken: ptr(tok.encode()), GrantId: ptr(g.ID)}, nil
}

func keyARNAccountRoot(account string) string { return "arn:aws:iam::" + account + ":root" }

func grantEntry(e *keyEntry, g *grantRecord) kmsapi.GrantListEntry {
	out := kmsapi.GrantListEntry{
		KeyId: ptr(e.arn), GrantId: ptr(g.ID), CreationDate: ptr(g.Created), GranteePrincipal: ptr(g.Grantee),
		IssuingAccount: ptr(g.IssuingAccount), Operations: g.Operations,
	}
	if g.Name != "" {
		out.Name = ptr(g.Name)
	}
	if g.Retiring != "" {
		out.RetiringPrincipal = ptr(g.Retiring)
	}
	if g.ContextEquals != nil || g.ContextSubset != nil {
		out.Constraints = &kmsapi.GrantConstraints{EncryptionContextEquals: g.ContextEquals, EncryptionContextSubset: g.ContextSubset}
	}
	return out
}

// ListGrants lists a key's grants in grant id order.
func (s *Service) ListGrants(ctx context.Context, in *kmsapi.ListGrantsRequest) (*kmsapi.ListGrantsResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	after, err := marker(in.Marker)
	if err != nil {
		return nil, err
	}
	limit := limitOf(in.Limit)
	out := &kmsapi.ListGrantsResponse{Grants: []kmsapi.GrantListEntry{}, Truncated: ptr(false)}
	for _, g := range e.grants { // scanned in id order
		if after != "" && g.ID <= after {
			continue
		}
		if in.GrantId != nil && g.ID != *in.GrantId || in.GranteePrincipal != nil && g.Grantee != *in.GranteePrincipal {
			continue
		}
		if len(out.Grants) == limit {
			out.Truncated = ptr(true)
			out.NextMarker = out.Grants[len(out.Grants)-1].GrantId
			break
		}
		out.Grants = append(out.Grants, grantEntry(e, g))
	}
	return out, nil
}

// ListRetirableGrants lists the grants, on keys of any account in the
// region, that a principal may retire.
func (s *Service) ListRetirableGrants(ctx context.Context, in *kmsapi.ListRetirableGrantsRequest) (*kmsapi.ListGrantsResponse, error) {
	c := service.CallFrom(ctx)
	retiring := deref(in.RetiringPrincipal)
	if retiring == "" {
		return nil, validation("RetiringPrincipal is required.")
	}
	after, err := marker(in.Marker)
	if err != nil {
		return nil, err
	}
	limit := limitOf(in.Limit)
	out := &kmsapi.ListGrantsResponse{Grants: []kmsapi.GrantListEntry{}, Truncated: ptr(false)}
	err = s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(TableGrant, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			_, region, rest := splitPath(kv.Key)
			if region != c.Region || after != "" && kv.Key <= after {
				continue
			}
			var g grantRecord
			if err := json.Unmarshal(kv.Value, &g); err != nil {
				return err
			}
			if g.Retiring != retiring {
				continue
			}
			if len(out.Grants) == limit {
				out.Truncated = ptr(true)
				break
			}
			acct, _, _ := splitPath(kv.Key)
			kid, _, _ := strings.Cut(rest, "/")
			e := &keyEntry{arn: keyARN(region, acct, kid)}
			out.Grants = append(out.Grants, grantEntry(e, &g))
			out.NextMarker = ptr(kv.Key)
		}
		return nil
	})
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	if !*out.Truncated {
		out.NextMarker = nil
	}
	return out, nil
}

// RevokeGrant deletes a grant; the rule requires kms:RevokeGrant on the key.
func (s *Service) RevokeGrant(ctx context.Context, in *kmsapi.RevokeGrantRequest) (*awsproto.Empty, error) {
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	id := deref(in.GrantId)
	if !validGrantID(id) {
		return nil, kmsapi.NewInvalidGrantIdException("Invalid grant id %s", id)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := s.deleteGrant(ctx, e.path, id); err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

func (s *Service) deleteGrant(ctx context.Context, keyPath, id string) error {
	err := s.store.Update(ctx, func(tx store.Tx) error {
		existed, err := tx.Delete(TableGrant, keyPath+"/"+id)
		if err != nil {
			return err
		}
		if !existed {
			return kmsapi.NewNotFoundException("Grant %s does not exist", id)
		}
		return nil
	})
	if err != nil {
		return awsproto.AsError(err)
	}
	return nil
}

func validGrantID(id string) bool {
	if len(id) != 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// RetireGrant deletes a grant named by its token, or by key and grant id.
// The retiring principal, the grantee of a grant that lists RetireGrant,
// and the account that issued the grant may retire it; anyone else needs
// kms:RetireGrant on the key.
func (s *Service) RetireGrant(ctx context.Context, in *kmsapi.RetireGrantRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	var path, id string
	var secret []byte
	switch {
	case in.GrantToken != nil:
		t, ok := parseGrantToken(*in.GrantToken)
		if !ok {
			return nil, kmsapi.NewInvalidGrantTokenException("Invalid grant token")
		}
		path, id, secret = t.keyPath, t.grantID, t.secret
	case in.KeyId != nil && in.GrantId != nil:
		e, _, err := s.resolve(ctx, c, *in.KeyId, false)
		if err != nil {
			return nil, err
		}
		if !validGrantID(*in.GrantId) {
			return nil, kmsapi.NewInvalidGrantIdException("Invalid grant id %s", *in.GrantId)
		}
		path, id = e.path, *in.GrantId
	default:
		return nil, validation("Either GrantToken or both KeyId and GrantId must be specified.")
	}
	e, err := s.cache.key(ctx, path)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	if e == nil {
		return nil, kmsapi.NewNotFoundException("Grant %s does not exist", id)
	}
	i := slices.IndexFunc(e.grants, func(g *grantRecord) bool { return g.ID == id })
	if i < 0 {
		if secret != nil {
			return nil, kmsapi.NewInvalidGrantTokenException("Invalid grant token")
		}
		return nil, kmsapi.NewNotFoundException("Grant %s does not exist", id)
	}
	g := e.grants[i]
	if secret != nil && subtle.ConstantTimeCompare(tokenHash(secret), g.TokenHash) != 1 {
		return nil, kmsapi.NewInvalidGrantTokenException("Invalid grant token")
	}
	if !mayRetire(c.Principal, g) {
		ref := keyRef{account: e.rec.Account, region: e.rec.Region, id: e.rec.ID}
		if err := s.authorize(ctx, c, "kms:RetireGrant", e, ref, kmsapi.GrantOperationRetiregrant, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := s.deleteGrant(ctx, path, id); err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

func mayRetire(p *authz.Principal, g *grantRecord) bool {
	if g.Retiring != "" && grantNames(g.Retiring, p) {
		return true
	}
	if slices.Contains(g.Operations, kmsapi.GrantOperationRetiregrant) && grantNames(g.Grantee, p) {
		return true
	}
	return p.Type == authz.Root && keyARNAccountRoot(p.Account) == g.IssuingAccount
}
