package kms

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

var errInternalKey = errors.New("kms: key material unavailable")

// CreateKey creates a key with fresh material (or, with Origin EXTERNAL, a
// key waiting for imported material).
func (s *Service) CreateKey(ctx context.Context, in *kmsapi.CreateKeyRequest) (*kmsapi.CreateKeyResponse, error) {
	c := service.CallFrom(ctx)
	if in.KeySpec != "" && in.CustomerMasterKeySpec != "" {
		return nil, validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.")
	}
	spec := in.KeySpec
	if spec == "" {
		spec = kmsapi.KeySpec(in.CustomerMasterKeySpec)
	}
	if spec == "" {
		spec = kmsapi.KeySpecSymmetricDefault
	}
	usage, err := keyUsage(spec, in.KeyUsage)
	if err != nil {
		return nil, err
	}
	origin := in.Origin
	if origin == "" {
		origin = kmsapi.OriginTypeAwsKms
	}
	multiRegion := in.MultiRegion != nil && *in.MultiRegion
	switch {
	case in.CustomKeyStoreId != nil:
		return nil, kmsapi.NewCustomKeyStoreNotFoundException("Custom key store %s does not exist", *in.CustomKeyStoreId)
	case origin == kmsapi.OriginTypeAwsCloudhsm || origin == kmsapi.OriginTypeExternalKeyStore:
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support custom key stores (Origin %s)", origin)
	case multiRegion && origin == kmsapi.OriginTypeExternal:
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support multi-Region keys with imported key material yet")
	case origin == kmsapi.OriginTypeExternal && keyClass(spec) == classRSA:
		// An RSA private key needs the RSA_AES_KEY_WRAP wrapping algorithms.
		return nil, kmsapi.NewUnsupportedOperationException("rampart imports key material for SYMMETRIC_DEFAULT, HMAC and ECC keys only")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	var id string
	if multiRegion {
		id, err = newMultiRegionID(c.Rand)
	} else {
		id, err = newUUID(c.Rand)
	}
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	rec := &keyRecord{
		Account: c.Principal.Account, Region: c.Region, ID: id,
		Description: deref(in.Description), Spec: spec, Usage: usage, Origin: origin,
		Manager: kmsapi.KeyManagerTypeCustomer, State: kmsapi.KeyStateEnabled, Created: c.Now,
		Tags: tags, MultiRegion: multiRegion,
	}
	if multiRegion {
		rec.join(&keySet{Account: rec.Account, ID: id, Primary: rec.Region, Spec: spec, Usage: usage, Origin: origin})
	}
	if in.Policy != nil {
		if err := s.checkKeyPolicy(ctx, c, rec, *in.Policy, in.BypassPolicyLockoutSafetyCheck); err != nil {
			return nil, err
		}
		rec.Policy = *in.Policy
	} else {
		rec.Policy = defaultPolicy(rec.Account)
	}
	if origin == kmsapi.OriginTypeExternal {
		rec.State = kmsapi.KeyStatePendingimport
	} else if err := s.addMaterial(rec, c.Rand, c.Now, ""); err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error { return insertKey(tx, rec) })
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	return &kmsapi.CreateKeyResponse{KeyMetadata: metadata(rec)}, nil
}

// keyUsage checks the KeyUsage of a key spec, defaulting it as AWS does.
func keyUsage(spec kmsapi.KeySpec, u kmsapi.KeyUsageType) (kmsapi.KeyUsageType, error) {
	var allowed []kmsapi.KeyUsageType
	switch spec {
	case kmsapi.KeySpecSymmetricDefault:
		allowed = []kmsapi.KeyUsageType{kmsapi.KeyUsageTypeEncryptDecrypt}
	case kmsapi.KeySpecRsa2048, kmsapi.KeySpecRsa3072, kmsapi.KeySpecRsa4096:
		allowed = []kmsapi.KeyUsageType{kmsapi.KeyUsageTypeEncryptDecrypt, kmsapi.KeyUsageTypeSignVerify}
	case kmsapi.KeySpecEccNistP256, kmsapi.KeySpecEccNistP384, kmsapi.KeySpecEccNistP521:
		allowed = []kmsapi.KeyUsageType{kmsapi.KeyUsageTypeSignVerify, kmsapi.KeyUsageTypeKeyAgreement}
	case kmsapi.KeySpecEccSecgP256k1:
		allowed = []kmsapi.KeyUsageType{kmsapi.KeyUsageTypeSignVerify}
	case kmsapi.KeySpecHmac224, kmsapi.KeySpecHmac256, kmsapi.KeySpecHmac384, kmsapi.KeySpecHmac512:
		allowed = []kmsapi.KeyUsageType{kmsapi.KeyUsageTypeGenerateVerifyMac}
	default:
		// SM2, ML-DSA and Ed25519 keys are not served yet.
		return "", kmsapi.NewUnsupportedOperationException("rampart does not support KeySpec %s yet", spec)
	}
	if u == "" {
		if spec == kmsapi.KeySpecSymmetricDefault {
			return kmsapi.KeyUsageTypeEncryptDecrypt, nil
		}
		return "", validation("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
	}
	for _, a := range allowed {
		if a == u {
			return u, nil
		}
	}
	return "", validation("KeyUsage %s is not compatible with KeySpec %s", u, spec)
}

// addMaterial generates a new key material for rec and makes it current.
func (s *Service) addMaterial(rec *keyRecord, rnd io.Reader, now time.Time, rot kmsapi.RotationType) error {
	secret, err := generateMaterial(rec.Spec, rnd)
	if err != nil {
		return awsproto.Internal(err)
	}
	return s.appendMaterial(rec, rnd, now, rot, secret)
}

func (s *Service) appendMaterial(rec *keyRecord, rnd io.Reader, now time.Time, rot kmsapi.RotationType, secret []byte) error {
	mid, err := randomHex(rnd, 32)
	if err != nil {
		return awsproto.Internal(err)
	}
	return s.appendMaterialID(rec, mid, now, rot, secret)
}

// appendMaterialID seals secret as material mid of rec and makes it current.
func (s *Service) appendMaterialID(rec *keyRecord, mid string, now time.Time, rot kmsapi.RotationType, secret []byte) error {
	sealed, err := s.barrier.Seal(secret, rec.materialAAD(mid))
	clear(secret)
	if err != nil {
		return awsproto.Internal(err)
	}
	rec.Materials = append(rec.Materials, material{ID: mid, Sealed: sealed, Created: now, RotationType: rot})
	return nil
}

func generateMaterial(spec kmsapi.KeySpec, rnd io.Reader) ([]byte, error) {
	switch spec {
	case kmsapi.KeySpecSymmetricDefault:
		return readRandom(rnd, 32)
	case kmsapi.KeySpecHmac224:
		return readRandom(rnd, 28)
	case kmsapi.KeySpecHmac256:
		return readRandom(rnd, 32)
	case kmsapi.KeySpecHmac384:
		return readRandom(rnd, 48)
	case kmsapi.KeySpecHmac512:
		return readRandom(rnd, 64)
	case kmsapi.KeySpecRsa2048, kmsapi.KeySpecRsa3072, kmsapi.KeySpecRsa4096:
		bits := map[kmsapi.KeySpec]int{kmsapi.KeySpecRsa2048: 2048, kmsapi.KeySpecRsa3072: 3072, kmsapi.KeySpecRsa4096: 4096}[spec]
		k, err := rsa.GenerateKey(rnd, bits)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(k)
	case kmsapi.KeySpecEccNistP256, kmsapi.KeySpecEccNistP384, kmsapi.KeySpecEccNistP521:
		k, err := ecdsa.GenerateKey(curve(spec), rnd)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(k)
	case kmsapi.KeySpecEccSecgP256k1:
		return generateSecp256k1(rnd)
	}
	return nil, fmt.Errorf("kms: no material for %s", spec)
}

func curve(spec kmsapi.KeySpec) elliptic.Curve {
	switch spec {
	case kmsapi.KeySpecEccNistP384:
		return elliptic.P384()
	case kmsapi.KeySpecEccNistP521:
		return elliptic.P521()
	}
	return elliptic.P256()
}

func readRandom(rnd io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(rnd, b)
	return b, err
}

// defaultPolicy is the default key policy: it gives the account (its root
// user, and through IAM policies its principals) full access ("Default key
// policy" in the KMS Developer Guide).
func defaultPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

var allowAll = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.KindManaged)

// checkKeyPolicy validates a key policy for rec: its syntax; unless
// bypassed, the lockout safety check (the caller must remain able to
// PutKeyPolicy, given the IAM permission to where the policy delegates to
// the account); then that the principals it names exist (see
// checkPrincipals). It reads IAM and the accounts: call it outside any
// store transaction.
func (s *Service) checkKeyPolicy(ctx context.Context, c *service.Call, rec *keyRecord, doc string, bypass *bool) error {
	if err := checkLockout(c, rec, doc, bypass); err != nil {
		return err
	}
	return s.checkPrincipals(ctx, doc)
}

// checkLockout validates a key policy's syntax and, unless bypassed, runs
// the lockout safety check.
func checkLockout(c *service.Call, rec *keyRecord, doc string, bypass *bool) error {
	pol, err := policy.Parse([]byte(doc), policy.KindKeyPolicy)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			if pe.Code == policy.CodeLimitExceeded {
				return kmsapi.NewLimitExceededException("%s", pe.Message)
			}
			return kmsapi.NewMalformedPolicyDocumentException("%s", pe.Message)
		}
		return kmsapi.NewMalformedPolicyDocumentException("The policy is not valid JSON.")
	}
	if bypass != nil && *bypass {
		return nil
	}
	p := c.Principal
	req := &policy.Request{Principal: enginePrincipal(p), Action: "kms:PutKeyPolicy", Resource: rec.arn(), ResourceAccount: rec.Account}
	d := policy.Evaluate(req, &policy.Input{Identity: []*policy.Policy{allowAll}, Resource: pol, Root: p.Type == authz.Root})
	if !d.Allowed() {
		return kmsapi.NewMalformedPolicyDocumentException("The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

func enginePrincipal(p *authz.Principal) policy.Principal {
	pp := policy.Principal{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}
	switch p.Type {
	case authz.Root:
		pp.Type = policy.PrincipalRoot
	case authz.AssumedRole:
		pp.Type = policy.PrincipalAssumedRole
	case authz.FederatedUser:
		pp.Type = policy.PrincipalFederated
	default:
		pp.Type = policy.PrincipalUser
	}
	return pp
}

// checkTags validates tags as TagResource and CreateKey do.
func checkTags(in []kmsapi.Tag) ([]tag, error) {
	out := make([]tag, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		k := deref(t.TagKey)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, kmsapi.NewTagException("Tags beginning with aws: are reserved")
		}
		if seen[k] {
			return nil, kmsapi.NewTagException("Duplicate tag keys")
		}
		seen[k] = true
		out = append(out, tag{Key: k, Value: deref(t.TagValue)})
	}
	if len(out) > 50 {
		return nil, kmsapi.NewTagException("Too many tags")
	}
	return out, nil
}
