// Package kms serves the AWS Key Management Service: symmetric, asymmetric
// and HMAC keys whose material is generated here, sealed by the barrier at
// rest and never leaves rampart in the clear; aliases, tags, key policies,
// grants, rotation and scheduled deletion.
//
// # Storage
//
// Keys live in table "kms.key" under "<account>/<region>/<key id>" (one
// JSON record with the policy, tags, rotation state and every key material,
// each sealed by the barrier with the key's path and material id as
// associated data); aliases in "kms.alias" under
// "<account>/<region>/alias/<name>"; grants in "kms.grant" under
// "<account>/<region>/<key id>/<grant id>". The hot path (Encrypt, Decrypt,
// GenerateDataKey) reads keys from an in-memory cache of unsealed material
// and prebuilt authorization resources, invalidated by store.Subscribe.
//
// # Multi-Region keys
//
// A multi-Region key ("mrk-" id) and its replicas in other regions of the
// account share one key set in "kms.keyset" under "<account>/<key id>":
// the primary's region, the replicas' regions, every key material (sealed
// with the key set's path as associated data) and the rotation state. Each
// related key keeps its own record (policy, tags, description, state) in
// "kms.key", which getKey joins with the key set and putKey splits again,
// so a rotation of the primary reaches every replica in one transaction
// and a ciphertext made in one region opens in any other that has a
// related key. ReplicateKey needs kms:ReplicateKey on the primary and
// kms:CreateKey in the replica's region; UpdatePrimaryRegion needs
// kms:UpdatePrimaryRegion on both keys; a primary with replicas waits in
// PendingReplicaDeletion until the last replica is deleted (see
// multi_region.go). Multi-Region keys with imported material are not
// served yet (UnsupportedOperationException).
//
// # Key specs
//
// SYMMETRIC_DEFAULT (AES-256-GCM), RSA_2048/3072/4096, ECC_NIST_P256/384/521,
// ECC_SECG_P256K1 (secp256k1 through github.com/decred/dcrd/dcrec/secp256k1,
// constant-time in the private key; RFC 6979 deterministic ECDSA_SHA_256
// signatures; see secp256k1.go) and HMAC_224/256/384/512. Key material can
// be imported into SYMMETRIC_DEFAULT, HMAC and ECC keys (a PKCS#8 private
// key for ECC) with RSAES_OAEP_SHA_1/SHA_256 wrapping.
//
// # Ciphertexts
//
// A symmetric ciphertext blob is self-describing: a format byte, the key id,
// the owning account, the key-material id, a random nonce and the AES-256-GCM
// sealed plaintext and tag. The header and the canonical encryption context
// are the GCM additional data, so a changed context or header fails with
// InvalidCiphertextException. It holds no key material.
//
// # Authorization
//
// Every operation on a key looks the key up in its rule's Resource hook and
// hands the authorizer the key's ARN, account, key policy (PolicyKind "key")
// and tags, with KMS's condition keys in the request context. The hook
// keeps the cache entry it found (service.Keep) for the Context hook and,
// in the operations that only read the key (Encrypt, Decrypt, ReEncrypt's
// source, GenerateDataKey…), for the handler: one lookup per request, and
// the handler uses the key exactly as authorization saw it. The resource
// and the condition keys that follow from the key alone are built once
// per cache entry and shared read-only. Grants are
// KMS's own: when a grant on the key names the caller (its ARN, or for a
// role session its role), lists the operation and its constraints hold for
// the request's encryption context, the resource's policy becomes the key
// policy plus one statement allowing the caller that action. The
// authorizer then allows the request as the key policy would, while an
// explicit Deny in the key policy, an SCP or an IAM policy still wins.
// A grant allows only operations its key supports, and encryption-context
// constraints (whose keys compare without regard to case, their values
// exactly) only on symmetric encryption keys. A key policy may name only
// principals that exist (see principals.go): rampart's accounts and their
// IAM users and roles.
//
// # AWS managed keys
//
// alias/aws/<service> names an AWS managed key, created on first use: by
// the service (Secrets Manager's data keys), or by DescribeKey on one of
// the predefined AWS aliases (managed_keys.go).
//
// # Background work
//
// [Service.Sweep] deletes keys whose deletion date has passed (with their
// aliases and grants), rotates keys whose automatic rotation is due
// (customer keys every RotationPeriodInDays, AWS managed keys yearly) and
// drops imported material past its ValidTo. A goroutine started by [New]
// calls it every minute through [Service.SweepIfLeader], which runs it
// only while this instance holds the lease [SweepLease] (store.Leaser: a
// PostgreSQL advisory lock, so that exactly one node sweeps; an
// in-process lock on SQLite). Sweep is safe to repeat: each key is
// re-read and re-checked in its own transaction. Tests call Sweep with
// the time they need.
//
// # Key agreement and last usage
//
// ECC_NIST_* keys with KeyUsage KEY_AGREEMENT serve DeriveSharedSecret
// (ECDH; the raw shared x coordinate, as AWS returns it). GetKeyLastUsage
// reports the last successful cryptographic operation with a key: the
// handlers record it in memory and a flush writes it to table
// "kms.usage" about a second later (see usage.go).
//
// # Custom key stores
//
// None ever exists (no CloudHSM yet; no outbound calls to external key
// store proxies): DescribeCustomKeyStores lists nothing, operations on a
// custom key store id answer CustomKeyStoreNotFoundException,
// CreateCustomKeyStore answers CloudHsmClusterNotFoundException (CloudHSM)
// or XksProxyUriUnreachableException (external).
//
// # Not served
//
// Multi-Region keys with imported key material; the transient Creating
// and Updating key states (ReplicateKey and UpdatePrimaryRegion complete
// at once). Nitro Enclaves recipients, grants to service principals and
// the SourceArn grant constraint; key specs SM2, ML-DSA and Ed25519;
// importing RSA private keys (RSA_AES_KEY_WRAP wrapping) and
// RSAES_PKCS1_V1_5 import wrapping.
// kms:ViaService is set only on the calls other rampart services make
// through [Service.GenerateDataKey] and [Service.Decrypt]; direct API calls
// never carry it, as in AWS. kms:GrantIsForAWSResource is "false" on every
// CreateGrant, since no rampart service creates grants yet.
//
// # Performance
//
// Measured with cmd/rampart-bench against `rampart dev` on a shared 2-core
// Xeon VM (load average 5 from other builds; client and server on the same
// machine), concurrency 16, 5 s each, server CPU per request:
//
//	sts:GetCallerIdentity (baseline)  130 µs   3,795 req/s
//	kms:Encrypt                       175 µs   3,267 req/s
//	kms:Decrypt                       159 µs   3,609 req/s
//	kms:GenerateDataKey               164 µs   3,575 req/s
//
// p50 at concurrency 1: Encrypt 826 µs, Decrypt 735 µs, GenerateDataKey
// 784 µs (GetCallerIdentity 737 µs). A CPU profile of BenchmarkEncrypt puts
// KMS's own share (key lookup, grants, condition keys, the authorizer's
// evaluation of the key policy, AES-GCM) near 22 µs per request; the rest
// is the shared path (SigV4, codec, audit record).
package kms

import (
	"context"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Tables this package owns.
const (
	TableKey   = "kms.key"
	TableAlias = "kms.alias"
	TableGrant = "kms.grant"
)

// Service is the KMS service.
type Service struct {
	store   store.Store
	barrier *barrier.Barrier
	cache   *cache

	// usage is the last use of each key, not yet in the store.
	usage usageLog

	// managedMu serialises the first-use creation of AWS managed keys.
	managedMu sync.Mutex

	// principals, when set (CheckPrincipals), tells which principals a key
	// policy may name.
	principals Principals

	stopOnce sync.Once
	stop     chan struct{}

	// leaseMu guards lease, the sweep lease while this instance holds it.
	leaseMu sync.Mutex
	lease   store.Lease
}

// New returns the KMS service over st, sealing key material with b. With
// a nil store (listing operations only) it serves nothing. Otherwise it
// starts the background worker (scheduled deletion, automatic rotation),
// which stops with Close or when the store closes.
func New(st store.Store, b *barrier.Barrier) *Service {
	s := &Service{store: st, barrier: b, stop: make(chan struct{})}
	if st != nil {
		s.cache = newCache(s)
		s.startUsageTracking(time.Now())
		go s.work(time.Minute)
	}
	return s
}

// Close stops the background worker and the cache's subscription.
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.releaseLease()
		if s.store != nil {
			// Best effort: a closed store loses the last minute of usage.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.flushUsage(ctx)
			cancel()
		}
		if s.cache != nil {
			s.cache.close()
		}
	})
}

// Register lists the operations KMS serves, each with its authorization rule.
// Rules on a key resolve it (key id, key ARN, alias name or alias ARN where
// AWS accepts one) in the caller's account and region.
func (s *Service) Register(r *service.Registry) {
	// Keys.
	service.Handle(r, kmsapi.OpCreateKey, s.CreateKey, service.Rule[kmsapi.CreateKeyRequest]{Action: "kms:CreateKey", Context: createKeyContext})
	service.Handle(r, kmsapi.OpDescribeKey, s.DescribeKey, keyRule(s, keyOp[kmsapi.DescribeKeyRequest]{action: "kms:DescribeKey", grantOp: kmsapi.GrantOperationDescribekey, alias: true, predefined: true,
		keyID: func(in *kmsapi.DescribeKeyRequest) *string { return in.KeyId }, tokens: func(in *kmsapi.DescribeKeyRequest) []string { return in.GrantTokens }}))
	service.Handle(r, kmsapi.OpListKeys, s.ListKeys, service.Rule[kmsapi.ListKeysRequest]{Action: "kms:ListKeys"})
	service.Handle(r, kmsapi.OpEnableKey, s.EnableKey, keyRule(s, keyOp[kmsapi.EnableKeyRequest]{action: "kms:EnableKey", keyID: func(in *kmsapi.EnableKeyRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpDisableKey, s.DisableKey, keyRule(s, keyOp[kmsapi.DisableKeyRequest]{action: "kms:DisableKey", keyID: func(in *kmsapi.DisableKeyRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpUpdateKeyDescription, s.UpdateKeyDescription, keyRule(s, keyOp[kmsapi.UpdateKeyDescriptionRequest]{action: "kms:UpdateKeyDescription", keyID: func(in *kmsapi.UpdateKeyDescriptionRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpScheduleKeyDeletion, s.ScheduleKeyDeletion, keyRule(s, keyOp[kmsapi.ScheduleKeyDeletionRequest]{action: "kms:ScheduleKeyDeletion", keyID: func(in *kmsapi.ScheduleKeyDeletionRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.ScheduleKeyDeletionRequest, _ *keyEntry, k map[string][]string) {
			k["kms:ScheduleKeyDeletionPendingWindowInDays"] = []string{itoa(int(pendingWindow(in.PendingWindowInDays)))}
		}}))
	service.Handle(r, kmsapi.OpCancelKeyDeletion, s.CancelKeyDeletion, keyRule(s, keyOp[kmsapi.CancelKeyDeletionRequest]{action: "kms:CancelKeyDeletion", keyID: func(in *kmsapi.CancelKeyDeletionRequest) *string { return in.KeyId }}))

	// Multi-Region keys (see multi_region.go). Each rule checks the
	// primary key; the handler checks what AWS requires in the other
	// region (kms:CreateKey there; kms:UpdatePrimaryRegion on the replica).
	service.Handle(r, kmsapi.OpReplicateKey, s.ReplicateKey, keyRule(s, keyOp[kmsapi.ReplicateKeyRequest]{action: "kms:ReplicateKey", keyID: func(in *kmsapi.ReplicateKeyRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.ReplicateKeyRequest, _ *keyEntry, k map[string][]string) {
			k["kms:ReplicaRegion"] = []string{deref(in.ReplicaRegion)}
		}}))
	service.Handle(r, kmsapi.OpUpdatePrimaryRegion, s.UpdatePrimaryRegion, keyRule(s, keyOp[kmsapi.UpdatePrimaryRegionRequest]{action: "kms:UpdatePrimaryRegion", keyID: func(in *kmsapi.UpdatePrimaryRegionRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.UpdatePrimaryRegionRequest, _ *keyEntry, k map[string][]string) {
			k["kms:PrimaryRegion"] = []string{deref(in.PrimaryRegion)}
		}}))

	// Aliases. CreateAlias, UpdateAlias and DeleteAlias need permission on
	// the alias and on the key(s); the rule checks the key, the handler the
	// alias (and for UpdateAlias the old key), as AWS documents in
	// "Controlling access to aliases".
	service.Handle(r, kmsapi.OpCreateAlias, s.CreateAlias, keyRule(s, keyOp[kmsapi.CreateAliasRequest]{action: "kms:CreateAlias", keyID: func(in *kmsapi.CreateAliasRequest) *string { return in.TargetKeyId }}))
	service.Handle(r, kmsapi.OpUpdateAlias, s.UpdateAlias, keyRule(s, keyOp[kmsapi.UpdateAliasRequest]{action: "kms:UpdateAlias", keyID: func(in *kmsapi.UpdateAliasRequest) *string { return in.TargetKeyId }}))
	service.Handle(r, kmsapi.OpDeleteAlias, s.DeleteAlias, service.Rule[kmsapi.DeleteAliasRequest]{Action: "kms:DeleteAlias", Resources: func(c *service.Call, in *kmsapi.DeleteAliasRequest) []string {
		return []string{aliasARN(c.Region, c.Principal.Account, deref(in.AliasName))}
	}})
	service.Handle(r, kmsapi.OpListAliases, s.ListAliases, service.Rule[kmsapi.ListAliasesRequest]{Action: "kms:ListAliases"})

	// Tags.
	service.Handle(r, kmsapi.OpTagResource, s.TagResource, keyRule(s, keyOp[kmsapi.TagResourceRequest]{action: "kms:TagResource", keyID: func(in *kmsapi.TagResourceRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.TagResourceRequest, _ *keyEntry, k map[string][]string) {
			requestTags(in.Tags, k)
		}}))
	service.Handle(r, kmsapi.OpUntagResource, s.UntagResource, keyRule(s, keyOp[kmsapi.UntagResourceRequest]{action: "kms:UntagResource", keyID: func(in *kmsapi.UntagResourceRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.UntagResourceRequest, _ *keyEntry, k map[string][]string) {
			if len(in.TagKeys) > 0 {
				k["aws:TagKeys"] = append([]string(nil), in.TagKeys...)
			}
		}}))
	service.Handle(r, kmsapi.OpListResourceTags, s.ListResourceTags, keyRule(s, keyOp[kmsapi.ListResourceTagsRequest]{action: "kms:ListResourceTags", keyID: func(in *kmsapi.ListResourceTagsRequest) *string { return in.KeyId }}))

	// Cryptography.
	service.Handle(r, kmsapi.OpEncrypt, s.Encrypt, keyRule(s, keyOp[kmsapi.EncryptRequest]{action: "kms:Encrypt", grantOp: kmsapi.GrantOperationEncrypt, alias: true,
		keyID:  func(in *kmsapi.EncryptRequest) *string { return in.KeyId },
		encCtx: func(in *kmsapi.EncryptRequest) map[string]string { return in.EncryptionContext },
		tokens: func(in *kmsapi.EncryptRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.EncryptRequest, _ *keyEntry, k map[string][]string) {
			encryptionAlgorithmKey(in.EncryptionAlgorithm, k)
		}}))
	service.Handle(r, kmsapi.OpDecrypt, s.decrypt, decryptRule(s))
	service.Handle(r, kmsapi.OpReEncrypt, s.ReEncrypt, reEncryptRule(s))
	service.Handle(r, kmsapi.OpGenerateDataKey, s.generateDataKey, keyRule(s, keyOp[kmsapi.GenerateDataKeyRequest]{action: "kms:GenerateDataKey", grantOp: kmsapi.GrantOperationGeneratedatakey, alias: true,
		keyID:  func(in *kmsapi.GenerateDataKeyRequest) *string { return in.KeyId },
		encCtx: func(in *kmsapi.GenerateDataKeyRequest) map[string]string { return in.EncryptionContext },
		tokens: func(in *kmsapi.GenerateDataKeyRequest) []string { return in.GrantTokens },
		keys:   symmetricAlgKey[kmsapi.GenerateDataKeyRequest]}))
	service.Handle(r, kmsapi.OpGenerateDataKeyWithoutPlaintext, s.GenerateDataKeyWithoutPlaintext, keyRule(s, keyOp[kmsapi.GenerateDataKeyWithoutPlaintextRequest]{action: "kms:GenerateDataKeyWithoutPlaintext", grantOp: kmsapi.GrantOperationGeneratedatakeywithoutplaintext, alias: true,
		keyID:  func(in *kmsapi.GenerateDataKeyWithoutPlaintextRequest) *string { return in.KeyId },
		encCtx: func(in *kmsapi.GenerateDataKeyWithoutPlaintextRequest) map[string]string { return in.EncryptionContext },
		tokens: func(in *kmsapi.GenerateDataKeyWithoutPlaintextRequest) []string { return in.GrantTokens },
		keys:   symmetricAlgKey[kmsapi.GenerateDataKeyWithoutPlaintextRequest]}))
	service.Handle(r, kmsapi.OpGenerateRandom, s.GenerateRandom, service.Rule[kmsapi.GenerateRandomRequest]{Action: "kms:GenerateRandom"})
	service.Handle(r, kmsapi.OpGenerateDataKeyPair, s.GenerateDataKeyPair, keyRule(s, keyOp[kmsapi.GenerateDataKeyPairRequest]{action: "kms:GenerateDataKeyPair", grantOp: kmsapi.GrantOperationGeneratedatakeypair, alias: true,
		keyID:  func(in *kmsapi.GenerateDataKeyPairRequest) *string { return in.KeyId },
		encCtx: func(in *kmsapi.GenerateDataKeyPairRequest) map[string]string { return in.EncryptionContext },
		tokens: func(in *kmsapi.GenerateDataKeyPairRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.GenerateDataKeyPairRequest, _ *keyEntry, k map[string][]string) {
			k["kms:DataKeyPairSpec"] = []string{string(in.KeyPairSpec)}
			k["kms:EncryptionAlgorithm"] = []string{string(kmsapi.EncryptionAlgorithmSpecSymmetricDefault)}
		}}))
	service.Handle(r, kmsapi.OpGenerateDataKeyPairWithoutPlaintext, s.GenerateDataKeyPairWithoutPlaintext, keyRule(s, keyOp[kmsapi.GenerateDataKeyPairWithoutPlaintextRequest]{action: "kms:GenerateDataKeyPairWithoutPlaintext", grantOp: kmsapi.GrantOperationGeneratedatakeypairwithoutplaintext, alias: true,
		keyID: func(in *kmsapi.GenerateDataKeyPairWithoutPlaintextRequest) *string { return in.KeyId },
		encCtx: func(in *kmsapi.GenerateDataKeyPairWithoutPlaintextRequest) map[string]string {
			return in.EncryptionContext
		},
		tokens: func(in *kmsapi.GenerateDataKeyPairWithoutPlaintextRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.GenerateDataKeyPairWithoutPlaintextRequest, _ *keyEntry, k map[string][]string) {
			k["kms:DataKeyPairSpec"] = []string{string(in.KeyPairSpec)}
			k["kms:EncryptionAlgorithm"] = []string{string(kmsapi.EncryptionAlgorithmSpecSymmetricDefault)}
		}}))
	service.Handle(r, kmsapi.OpSign, s.Sign, keyRule(s, keyOp[kmsapi.SignRequest]{action: "kms:Sign", grantOp: kmsapi.GrantOperationSign, alias: true,
		keyID:  func(in *kmsapi.SignRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.SignRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.SignRequest, _ *keyEntry, k map[string][]string) {
			k["kms:SigningAlgorithm"] = []string{string(in.SigningAlgorithm)}
			k["kms:MessageType"] = []string{string(messageType(in.MessageType))}
		}}))
	service.Handle(r, kmsapi.OpVerify, s.Verify, keyRule(s, keyOp[kmsapi.VerifyRequest]{action: "kms:Verify", grantOp: kmsapi.GrantOperationVerify, alias: true,
		keyID:  func(in *kmsapi.VerifyRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.VerifyRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.VerifyRequest, _ *keyEntry, k map[string][]string) {
			k["kms:SigningAlgorithm"] = []string{string(in.SigningAlgorithm)}
			k["kms:MessageType"] = []string{string(messageType(in.MessageType))}
		}}))
	service.Handle(r, kmsapi.OpGetPublicKey, s.GetPublicKey, keyRule(s, keyOp[kmsapi.GetPublicKeyRequest]{action: "kms:GetPublicKey", grantOp: kmsapi.GrantOperationGetpublickey, alias: true,
		keyID:  func(in *kmsapi.GetPublicKeyRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.GetPublicKeyRequest) []string { return in.GrantTokens }}))
	service.Handle(r, kmsapi.OpGenerateMac, s.GenerateMac, keyRule(s, keyOp[kmsapi.GenerateMacRequest]{action: "kms:GenerateMac", grantOp: kmsapi.GrantOperationGeneratemac, alias: true,
		keyID:  func(in *kmsapi.GenerateMacRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.GenerateMacRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.GenerateMacRequest, _ *keyEntry, k map[string][]string) {
			k["kms:MacAlgorithm"] = []string{string(in.MacAlgorithm)}
		}}))
	service.Handle(r, kmsapi.OpVerifyMac, s.VerifyMac, keyRule(s, keyOp[kmsapi.VerifyMacRequest]{action: "kms:VerifyMac", grantOp: kmsapi.GrantOperationVerifymac, alias: true,
		keyID:  func(in *kmsapi.VerifyMacRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.VerifyMacRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.VerifyMacRequest, _ *keyEntry, k map[string][]string) {
			k["kms:MacAlgorithm"] = []string{string(in.MacAlgorithm)}
		}}))

	service.Handle(r, kmsapi.OpDeriveSharedSecret, s.DeriveSharedSecret, keyRule(s, keyOp[kmsapi.DeriveSharedSecretRequest]{action: "kms:DeriveSharedSecret", grantOp: kmsapi.GrantOperationDerivesharedsecret, alias: true,
		keyID:  func(in *kmsapi.DeriveSharedSecretRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.DeriveSharedSecretRequest) []string { return in.GrantTokens },
		keys: func(_ *service.Call, in *kmsapi.DeriveSharedSecretRequest, _ *keyEntry, k map[string][]string) {
			k["kms:KeyAgreementAlgorithm"] = []string{string(in.KeyAgreementAlgorithm)}
		}}))

	service.Handle(r, kmsapi.OpGetKeyLastUsage, s.GetKeyLastUsage, keyRule(s, keyOp[kmsapi.GetKeyLastUsageRequest]{action: "kms:GetKeyLastUsage", keyID: func(in *kmsapi.GetKeyLastUsageRequest) *string { return in.KeyId }}))

	// Key policies.
	service.Handle(r, kmsapi.OpGetKeyPolicy, s.GetKeyPolicy, keyRule(s, keyOp[kmsapi.GetKeyPolicyRequest]{action: "kms:GetKeyPolicy", keyID: func(in *kmsapi.GetKeyPolicyRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpPutKeyPolicy, s.PutKeyPolicy, keyRule(s, keyOp[kmsapi.PutKeyPolicyRequest]{action: "kms:PutKeyPolicy", keyID: func(in *kmsapi.PutKeyPolicyRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.PutKeyPolicyRequest, _ *keyEntry, k map[string][]string) {
			k["kms:BypassPolicyLockoutSafetyCheck"] = []string{boolString(in.BypassPolicyLockoutSafetyCheck)}
		}}))
	service.Handle(r, kmsapi.OpListKeyPolicies, s.ListKeyPolicies, keyRule(s, keyOp[kmsapi.ListKeyPoliciesRequest]{action: "kms:ListKeyPolicies", keyID: func(in *kmsapi.ListKeyPoliciesRequest) *string { return in.KeyId }}))

	// Grants.
	service.Handle(r, kmsapi.OpCreateGrant, s.CreateGrant, keyRule(s, keyOp[kmsapi.CreateGrantRequest]{action: "kms:CreateGrant", grantOp: kmsapi.GrantOperationCreategrant,
		keyID:  func(in *kmsapi.CreateGrantRequest) *string { return in.KeyId },
		tokens: func(in *kmsapi.CreateGrantRequest) []string { return in.GrantTokens },
		keys:   createGrantKeys}))
	service.Handle(r, kmsapi.OpListGrants, s.ListGrants, keyRule(s, keyOp[kmsapi.ListGrantsRequest]{action: "kms:ListGrants", keyID: func(in *kmsapi.ListGrantsRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.ListGrantsRequest, _ *keyEntry, k map[string][]string) {
			if in.GranteePrincipal != nil {
				k["kms:GranteePrincipal"] = []string{*in.GranteePrincipal}
			}
		}}))
	service.Handle(r, kmsapi.OpListRetirableGrants, s.ListRetirableGrants, service.Rule[kmsapi.ListRetirableGrantsRequest]{Action: "kms:ListRetirableGrants"})
	service.Handle(r, kmsapi.OpRevokeGrant, s.RevokeGrant, keyRule(s, keyOp[kmsapi.RevokeGrantRequest]{action: "kms:RevokeGrant", keyID: func(in *kmsapi.RevokeGrantRequest) *string { return in.KeyId }}))
	// RetireGrant: the retiring principal (or grantee) may retire without
	// any policy; others need kms:RetireGrant. The handler decides, since
	// the grant may be named by its token alone.
	service.Handle(r, kmsapi.OpRetireGrant, s.RetireGrant, service.Rule[kmsapi.RetireGrantRequest]{Action: "kms:RetireGrant", NoPermission: true})

	// Import.
	service.Handle(r, kmsapi.OpGetParametersForImport, s.GetParametersForImport, keyRule(s, keyOp[kmsapi.GetParametersForImportRequest]{action: "kms:GetParametersForImport", keyID: func(in *kmsapi.GetParametersForImportRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.GetParametersForImportRequest, _ *keyEntry, k map[string][]string) {
			k["kms:WrappingAlgorithm"] = []string{string(in.WrappingAlgorithm)}
			k["kms:WrappingKeySpec"] = []string{string(in.WrappingKeySpec)}
		}}))
	service.Handle(r, kmsapi.OpImportKeyMaterial, s.ImportKeyMaterial, keyRule(s, keyOp[kmsapi.ImportKeyMaterialRequest]{action: "kms:ImportKeyMaterial", keyID: func(in *kmsapi.ImportKeyMaterialRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.ImportKeyMaterialRequest, _ *keyEntry, k map[string][]string) {
			model := in.ExpirationModel
			if model == "" {
				model = kmsapi.ExpirationModelTypeKeyMaterialExpires
			}
			k["kms:ExpirationModel"] = []string{string(model)}
			if in.ValidTo != nil {
				k["kms:ValidTo"] = []string{itoa(int(in.ValidTo.Unix()))}
			}
		}}))
	service.Handle(r, kmsapi.OpDeleteImportedKeyMaterial, s.DeleteImportedKeyMaterial, keyRule(s, keyOp[kmsapi.DeleteImportedKeyMaterialRequest]{action: "kms:DeleteImportedKeyMaterial", keyID: func(in *kmsapi.DeleteImportedKeyMaterialRequest) *string { return in.KeyId }}))

	// Rotation.
	service.Handle(r, kmsapi.OpEnableKeyRotation, s.EnableKeyRotation, keyRule(s, keyOp[kmsapi.EnableKeyRotationRequest]{action: "kms:EnableKeyRotation", keyID: func(in *kmsapi.EnableKeyRotationRequest) *string { return in.KeyId },
		keys: func(_ *service.Call, in *kmsapi.EnableKeyRotationRequest, _ *keyEntry, k map[string][]string) {
			if in.RotationPeriodInDays != nil {
				k["kms:RotationPeriodInDays"] = []string{itoa(int(*in.RotationPeriodInDays))}
			}
		}}))
	service.Handle(r, kmsapi.OpDisableKeyRotation, s.DisableKeyRotation, keyRule(s, keyOp[kmsapi.DisableKeyRotationRequest]{action: "kms:DisableKeyRotation", keyID: func(in *kmsapi.DisableKeyRotationRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpGetKeyRotationStatus, s.GetKeyRotationStatus, keyRule(s, keyOp[kmsapi.GetKeyRotationStatusRequest]{action: "kms:GetKeyRotationStatus", keyID: func(in *kmsapi.GetKeyRotationStatusRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpRotateKeyOnDemand, s.RotateKeyOnDemand, keyRule(s, keyOp[kmsapi.RotateKeyOnDemandRequest]{action: "kms:RotateKeyOnDemand", keyID: func(in *kmsapi.RotateKeyOnDemandRequest) *string { return in.KeyId }}))
	service.Handle(r, kmsapi.OpListKeyRotations, s.ListKeyRotations, keyRule(s, keyOp[kmsapi.ListKeyRotationsRequest]{action: "kms:ListKeyRotations", keyID: func(in *kmsapi.ListKeyRotationsRequest) *string { return in.KeyId }}))

	// Custom key stores (none exists; see custom_key_stores.go).
	service.Handle(r, kmsapi.OpCreateCustomKeyStore, s.CreateCustomKeyStore, service.Rule[kmsapi.CreateCustomKeyStoreRequest]{Action: "kms:CreateCustomKeyStore"})
	service.Handle(r, kmsapi.OpDescribeCustomKeyStores, s.DescribeCustomKeyStores, service.Rule[kmsapi.DescribeCustomKeyStoresRequest]{Action: "kms:DescribeCustomKeyStores"})
	service.Handle(r, kmsapi.OpConnectCustomKeyStore, s.ConnectCustomKeyStore, service.Rule[kmsapi.ConnectCustomKeyStoreRequest]{Action: "kms:ConnectCustomKeyStore"})
	service.Handle(r, kmsapi.OpDisconnectCustomKeyStore, s.DisconnectCustomKeyStore, service.Rule[kmsapi.DisconnectCustomKeyStoreRequest]{Action: "kms:DisconnectCustomKeyStore"})
	service.Handle(r, kmsapi.OpDeleteCustomKeyStore, s.DeleteCustomKeyStore, service.Rule[kmsapi.DeleteCustomKeyStoreRequest]{Action: "kms:DeleteCustomKeyStore"})
	service.Handle(r, kmsapi.OpUpdateCustomKeyStore, s.UpdateCustomKeyStore, service.Rule[kmsapi.UpdateCustomKeyStoreRequest]{Action: "kms:UpdateCustomKeyStore"})
}

// SweepLease is the name of the lease ([store.Leaser]) that the node
// running the background work holds: on PostgreSQL exactly one node
// sweeps at a time.
const SweepLease = "kms.sweep"

// work runs the background jobs every period until Close or until the store
// closes, on the node that holds [SweepLease].
func (s *Service) work(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	defer s.releaseLease()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if err := s.flushUsage(context.Background()); err != nil && isClosed(err) {
				return
			}
			if _, err := s.SweepIfLeader(context.Background(), now); err != nil && isClosed(err) {
				return
			}
		}
	}
}

// SweepIfLeader runs [Service.Sweep] when this instance holds the sweep
// lease, taking it first when it is free; led reports whether it did. The
// lease, once won, is kept until it is lost, Close, or the store closes.
// A store without leases (no [store.Leaser]) has one node: it always leads.
func (s *Service) SweepIfLeader(ctx context.Context, now time.Time) (led bool, err error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.lease != nil {
		select {
		case <-s.lease.Lost():
			s.lease = nil
		default:
		}
	}
	if s.lease == nil {
		if l, ok := s.store.(store.Leaser); ok {
			select {
			case <-s.stop:
				return false, nil
			default:
			}
			lease, won, err := l.TryLead(ctx, SweepLease)
			if err != nil || !won {
				return false, err
			}
			s.lease = lease
		}
	}
	return true, s.Sweep(ctx, now)
}

func (s *Service) releaseLease() {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.lease != nil {
		s.lease.Release()
		s.lease = nil
	}
}
