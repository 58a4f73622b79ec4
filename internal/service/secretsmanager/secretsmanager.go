// Package secretsmanager serves AWS Secrets Manager: versioned secrets whose
// values are encrypted under KMS data keys, with staging labels, resource
// policies, scheduled deletion and rotation.
//
// Every secret value is encrypted with AES-256-GCM under a fresh data key
// that KMS generates for the secret's KmsKeyId (by default the AWS managed
// key alias/aws/secretsmanager) with the encryption context
// {"SecretARN": arn, "SecretVersionId": id}, as AWS does
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
// The store holds only the ciphertext and the data key's KMS ciphertext;
// reading a value asks KMS to decrypt the data key, which authorizes
// kms:Decrypt for the caller with kms:ViaService =
// secretsmanager.<region>.amazonaws.com, so a disabled key or a key policy
// that does not allow the caller stops GetSecretValue.
//
// Tables: "secretsmanager.secret" holds each secret's metadata under
// "<account>/<region>/<name>"; "secretsmanager.value" holds each version's
// encrypted value under "<account>/<region>/<name>\x01<versionId>".
// GetSecretValue reads both from an in-memory cache that the store
// invalidates on every committed change.
//
// Rotation is asynchronous, as in AWS (runner.go): RotateSecret returns the
// new version's id at once and the four steps run in the background; the
// scheduled work (purging secrets whose recovery window ended, scheduled
// rotations) runs on the one node holding [BackgroundLease]. Rotation
// outcomes are recorded as CloudTrail's RotationStarted, RotationSucceeded
// and RotationFailed events, and BatchGetSecretValue records a
// GetSecretValue event per secret, through [Options.Audit].
//
// A secret may be replicated to other Regions of its account
// (replication.go): each replica is a read-only secret of its Region, kept
// in step with its primary in the primary's transactions, its values
// sealed under a KMS key of its own Region.
package secretsmanager

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// Keys is the part of KMS that Secrets Manager uses (implemented by *kms.Service).
type Keys interface {
	// GenerateDataKey returns a fresh 256-bit data key and its ciphertext under keyID (key id, key ARN, alias name or alias ARN; "" means the AWS managed key alias/aws/secretsmanager, created on first use), after authorizing kms:GenerateDataKey for c.Principal with kms:ViaService = viaService and the given encryption context.
	GenerateDataKey(ctx context.Context, c *service.Call, keyID string, encryptionContext map[string]string, viaService string) (plaintext, ciphertext []byte, keyARN string, err error)
	// Decrypt decrypts a ciphertext made by GenerateDataKey, authorizing kms:Decrypt likewise.
	// Neither method modifies encryptionContext: Secrets Manager shares it between requests.
	Decrypt(ctx context.Context, c *service.Call, ciphertext []byte, encryptionContext map[string]string, viaService string) (plaintext []byte, keyARN string, err error)
	// ManagedKeyARN returns the ARN of the AWS managed key alias/aws/<svc> of account in region ("" when it does not exist yet), reading the alias only: the key is neither created nor used (no usage recorded), and no principal is authorized.
	ManagedKeyARN(ctx context.Context, account, region, svc string) (keyARN string, err error)
}

// Tables this package owns.
const (
	TableSecret = "secretsmanager.secret"
	TableValue  = "secretsmanager.value"
)

// Service is the Secrets Manager service. It is safe for concurrent use.
type Service struct {
	store store.Store
	keys  Keys
	opts  Options

	mu      sync.RWMutex
	gen     uint64                  // counts invalidations
	secrets map[string]*secret      // by store key; entries are never modified
	values  map[string]*sealedValue // by value key; immutable
	cancel  func()

	rotMu sync.Mutex

	// Background work (runner.go): bg ends at Close; bgWG counts the loop
	// and the rotations in flight.
	bg        context.Context
	bgStop    context.CancelFunc
	bgWG      sync.WaitGroup
	closeOnce sync.Once
	leaseMu   sync.Mutex
	lease     store.Lease  // BackgroundLease while this instance holds it
	seenAuthz atomic.Value // checkerBox: the server's checker, from requests

	fnMu      sync.RWMutex
	functions map[string]RotationFunction // by Lambda function ARN
}

// Options tune a Service.
type Options struct {
	// Now is the clock of background work (scheduled deletion, scheduled
	// rotation); nil means time.Now. Requests use their call's time.
	Now func() time.Time
	// Background starts the loop that deletes secrets whose recovery window
	// has ended and rotates secrets on schedule, every Interval (default 1
	// minute). It stops when the store closes.
	Background bool
	Interval   time.Duration
	// Functions are the rotation functions rampart can call, by Lambda
	// function ARN (see rotation.go). Functions registered at run time with
	// RegisterFunction join them.
	Functions map[string]RotationFunction
	// Authz authorizes what built-in rotators do on schedule, outside any
	// request; nil: the checker the server gives requests, once one came.
	Authz authz.Checker
	// Audit records the events Secrets Manager emits itself (rotation
	// started, succeeded, failed) and BatchGetSecretValue's per-secret
	// GetSecretValue events; nil: none.
	Audit Recorder
}

// New returns the Secrets Manager service over st, encrypting with keys.
// st may be nil only to list the served operations (app.Registry(Deps{})).
func New(st store.Store, keys Keys, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	s := &Service{store: st, keys: keys, opts: opts,
		secrets: map[string]*secret{}, values: map[string]*sealedValue{},
		functions: map[string]RotationFunction{}}
	s.bg, s.bgStop = context.WithCancel(context.Background())
	for arn, fn := range opts.Functions {
		s.functions[arn] = fn
	}
	if st == nil {
		return s
	}
	s.cancel = st.Subscribe(func(changes []store.Change) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.gen++
		for _, c := range changes {
			switch c.Table {
			case TableSecret:
				delete(s.secrets, c.Key)
			case TableValue:
				delete(s.values, c.Key)
			}
		}
	})
	if opts.Background {
		s.bgWG.Add(1)
		go s.loop()
	}
	return s
}

// Register lists the operations Secrets Manager serves, each with its
// authorization rule. Actions and condition keys follow "Actions, resources,
// and condition keys for AWS Secrets Manager" (Service Authorization
// Reference): operations on one secret act on its ARN, carry its resource
// policy and tags, and set secretsmanager:SecretId (the secret's ARN) and
// secretsmanager:ResourceTag/<key>.
func (s *Service) Register(r *service.Registry) {
	service.Handle(r, smapi.OpCreateSecret, s.CreateSecret, service.Rule[smapi.CreateSecretRequest]{
		Action: "secretsmanager:CreateSecret", Resources: createResources, Context: createContext})
	service.Handle(r, smapi.OpGetSecretValue, s.GetSecretValue, onSecret(s, "secretsmanager:GetSecretValue",
		func(in *smapi.GetSecretValueRequest) *string { return in.SecretId },
		func(in *smapi.GetSecretValueRequest, keys map[string][]string) {
			// AWS evaluates secretsmanager:VersionStage as AWSCURRENT when the
			// request names neither a stage nor a version.
			// (Names in lower case, values shared: see prepared.go.)
			switch {
			case in.VersionStage != nil:
				keys["secretsmanager:versionstage"] = []string{*in.VersionStage}
			case in.VersionId == nil:
				keys["secretsmanager:versionstage"] = currentStage
			}
			if in.VersionId != nil {
				keys["secretsmanager:versionid"] = []string{*in.VersionId}
			}
		}))
	// BatchGetSecretValue needs secretsmanager:BatchGetSecretValue on "*";
	// each secret is then authorized as secretsmanager:GetSecretValue
	// ("you must have secretsmanager:GetSecretValue for each secret"), and
	// a call with Filters as secretsmanager:ListSecrets too ("If you use
	// filters, you must also have secretsmanager:ListSecrets"): the
	// handler makes both (get_secret_value.go).
	service.Handle(r, smapi.OpBatchGetSecretValue, s.BatchGetSecretValue, service.Rule[smapi.BatchGetSecretValueRequest]{
		Action: "secretsmanager:BatchGetSecretValue"})
	service.Handle(r, smapi.OpPutSecretValue, s.PutSecretValue, onSecret(s, "secretsmanager:PutSecretValue",
		func(in *smapi.PutSecretValueRequest) *string { return in.SecretId },
		func(in *smapi.PutSecretValueRequest, keys map[string][]string) {
			if len(in.VersionStages) > 0 {
				keys["secretsmanager:VersionStage"] = in.VersionStages
			}
		}))
	service.Handle(r, smapi.OpUpdateSecret, s.UpdateSecret, onSecret(s, "secretsmanager:UpdateSecret",
		func(in *smapi.UpdateSecretRequest) *string { return in.SecretId },
		func(in *smapi.UpdateSecretRequest, keys map[string][]string) {
			if in.Description != nil {
				keys["secretsmanager:Description"] = []string{*in.Description}
			}
			if in.KmsKeyId != nil {
				keys["secretsmanager:KmsKeyId"] = []string{*in.KmsKeyId}
			}
		}))
	service.Handle(r, smapi.OpUpdateSecretVersionStage, s.UpdateSecretVersionStage, onSecret(s, "secretsmanager:UpdateSecretVersionStage",
		func(in *smapi.UpdateSecretVersionStageRequest) *string { return in.SecretId },
		func(in *smapi.UpdateSecretVersionStageRequest, keys map[string][]string) {
			keys["secretsmanager:VersionStage"] = []string{deref(in.VersionStage)}
		}))
	service.Handle(r, smapi.OpDescribeSecret, s.DescribeSecret, onSecret(s, "secretsmanager:DescribeSecret",
		func(in *smapi.DescribeSecretRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpListSecrets, s.ListSecrets, service.Rule[smapi.ListSecretsRequest]{
		Action: "secretsmanager:ListSecrets"})
	service.Handle(r, smapi.OpListSecretVersionIds, s.ListSecretVersionIds, onSecret(s, "secretsmanager:ListSecretVersionIds",
		func(in *smapi.ListSecretVersionIdsRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpDeleteSecret, s.DeleteSecret, onSecret(s, "secretsmanager:DeleteSecret",
		func(in *smapi.DeleteSecretRequest) *string { return in.SecretId },
		func(in *smapi.DeleteSecretRequest, keys map[string][]string) {
			if in.RecoveryWindowInDays != nil {
				keys["secretsmanager:RecoveryWindowInDays"] = []string{strconv.FormatInt(*in.RecoveryWindowInDays, 10)}
			}
			if in.ForceDeleteWithoutRecovery != nil {
				keys["secretsmanager:ForceDeleteWithoutRecovery"] = []string{strconv.FormatBool(*in.ForceDeleteWithoutRecovery)}
			}
		}))
	service.Handle(r, smapi.OpRestoreSecret, s.RestoreSecret, onSecret(s, "secretsmanager:RestoreSecret",
		func(in *smapi.RestoreSecretRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpTagResource, s.TagResource, onSecret(s, "secretsmanager:TagResource",
		func(in *smapi.TagResourceRequest) *string { return in.SecretId },
		func(in *smapi.TagResourceRequest, keys map[string][]string) { requestTagContext(in.Tags, keys) }))
	service.Handle(r, smapi.OpUntagResource, s.UntagResource, onSecret(s, "secretsmanager:UntagResource",
		func(in *smapi.UntagResourceRequest) *string { return in.SecretId },
		func(in *smapi.UntagResourceRequest, keys map[string][]string) {
			if len(in.TagKeys) > 0 {
				keys["aws:TagKeys"] = in.TagKeys
			}
		}))
	service.Handle(r, smapi.OpGetRandomPassword, s.GetRandomPassword, service.Rule[smapi.GetRandomPasswordRequest]{
		Action: "secretsmanager:GetRandomPassword"})
	service.Handle(r, smapi.OpGetResourcePolicy, s.GetResourcePolicy, onSecret(s, "secretsmanager:GetResourcePolicy",
		func(in *smapi.GetResourcePolicyRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpPutResourcePolicy, s.PutResourcePolicy, onSecret(s, "secretsmanager:PutResourcePolicy",
		func(in *smapi.PutResourcePolicyRequest) *string { return in.SecretId },
		func(in *smapi.PutResourcePolicyRequest, keys map[string][]string) {
			keys["secretsmanager:BlockPublicPolicy"] = []string{strconv.FormatBool(in.BlockPublicPolicy != nil && *in.BlockPublicPolicy)}
		}))
	service.Handle(r, smapi.OpDeleteResourcePolicy, s.DeleteResourcePolicy, onSecret(s, "secretsmanager:DeleteResourcePolicy",
		func(in *smapi.DeleteResourcePolicyRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpValidateResourcePolicy, s.ValidateResourcePolicy, validateRule(s))
	service.Handle(r, smapi.OpRotateSecret, s.RotateSecret, onSecret(s, "secretsmanager:RotateSecret",
		func(in *smapi.RotateSecretRequest) *string { return in.SecretId },
		func(in *smapi.RotateSecretRequest, keys map[string][]string) {
			if in.RotationLambdaARN != nil {
				keys["secretsmanager:RotationLambdaARN"] = []string{*in.RotationLambdaARN}
			}
		}))
	service.Handle(r, smapi.OpCancelRotateSecret, s.CancelRotateSecret, onSecret(s, "secretsmanager:CancelRotateSecret",
		func(in *smapi.CancelRotateSecretRequest) *string { return in.SecretId }, nil))
	s.registerReplication(r) // replication.go
}
