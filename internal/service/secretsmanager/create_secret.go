package secretsmanager

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// CreateSecret creates a secret, with a first version (labelled AWSCURRENT)
// when a value is given.
//
// ClientRequestToken is the first version's id. Retrying with the same
// token and the same value succeeds and changes nothing; the same token with
// another value fails, since a version cannot change (API_CreateSecret).
func (s *Service) CreateSecret(ctx context.Context, in *smapi.CreateSecretRequest) (*smapi.CreateSecretResponse, error) {
	c := service.CallFrom(ctx)
	name := deref(in.Name)
	if err := checkName(name); err != nil {
		return nil, err
	}
	pv, hasValue, err := valueOf(in.SecretString, in.SecretBinary, false)
	if err != nil {
		return nil, err
	}
	if err := checkReplicaRegions(c.Region, nil, in.AddReplicaRegions); err != nil { // replication.go
		return nil, err
	}
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	versionID, err := requestToken(c, in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	key := secretKey(c.Principal.Account, c.Region, name)

	// A retry of a create that succeeded: answer as the first time did.
	existing, err := s.cachedSecret(ctx, key)
	if err != nil {
		return nil, err
	}
	if existing != nil && !existing.gone(c.Now) && !existing.scheduled() && in.ClientRequestToken != nil {
		if v := existing.version(versionID); v != nil {
			if err := s.sameValue(ctx, c, existing, versionID, pv, hasValue); err != nil {
				return nil, err
			}
			return &smapi.CreateSecretResponse{ARN: &existing.ARN, Name: &existing.Name, VersionId: &versionID}, nil
		}
	}

	suffix, err := randomString(c.Rand, alnum, 6)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	sc := &secret{
		ARN: secretARN(c.Region, c.Principal.Account, name+"-"+suffix), Name: name,
		Account: c.Principal.Account, Region: c.Region, Description: in.Description,
		KmsKeyID: deref(in.KmsKeyId), Type: deref(in.Type), Tags: tags,
		Created: c.Now, LastChanged: c.Now,
	}
	if len(in.AddReplicaRegions) > 0 {
		if err := s.authorizeCreateReplicas(ctx, c, sc, in); err != nil {
			return nil, err
		}
	}
	// KMS runs outside the transaction: it has its own (and creates the
	// AWS managed key on first use).
	var (
		sv     *sealedValue
		keyARN string
	)
	values := map[string]plainValue{}
	if hasValue {
		sv, keyARN, err = s.encrypt(ctx, c, sc, sc.KmsKeyID, versionID, pv)
		if err != nil {
			return nil, err
		}
		sc.Versions = []*version{{ID: versionID, Stages: []string{stageCurrent}, Created: c.Now, KeyARN: keyARN}}
		values[versionID] = pv
	}
	if sc.KmsKeyID, err = s.newKeyID(ctx, sc, sc.KmsKeyID, keyARN); err != nil {
		return nil, err
	}
	var rep *replication
	if len(in.AddReplicaRegions) > 0 {
		if rep, err = s.planReplication(ctx, c, sc, in.AddReplicaRegions, deref(in.ForceOverwriteReplicaSecret), values); err != nil {
			return nil, err
		}
	}
	var statuses []smapi.ReplicationStatusType
	err = s.store.Update(ctx, func(tx store.Tx) error {
		old, err := load(tx, key)
		if err != nil {
			return err
		}
		if old != nil {
			switch {
			case old.gone(c.Now):
				if err := purge(tx, old); err != nil {
					return err
				}
			case old.scheduled():
				return smapi.NewInvalidRequestException("You can't create this secret because a secret with this name is already scheduled for deletion.")
			default:
				return smapi.NewResourceExistsException("The operation failed because the secret %s already exists.", name)
			}
		}
		if err := save(tx, sc); err != nil {
			return err
		}
		if sv != nil {
			if err := putValue(tx, sc, versionID, sv); err != nil {
				return err
			}
		}
		statuses, err = rep.apply(tx, c, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &smapi.CreateSecretResponse{ARN: &sc.ARN, Name: &sc.Name, ReplicationStatus: statuses}
	if hasValue {
		out.VersionId = &versionID
	}
	return out, nil
}

// newKeyID is the KmsKeyId stored for the new secret sc (a secret
// CreateSecret makes, or a replica) that a request gave the KmsKeyId
// keyID, and whose value KMS sealed under keyARN ("" when it had no value
// to seal): "" when keyID names the AWS managed key aws/secretsmanager of
// sc's account and Region, by its alias, alias ARN, key ARN or key id;
// keyID otherwise. Such a secret is then exactly one created without
// KmsKeyId: DescribeSecret omits the field ("If the secret is encrypted
// with the AWS managed key aws/secretsmanager, this field is omitted",
// API_DescribeSecret), and a read from another account is refused as
// AWS refuses it under that key (checkCrossAccountKey, which recognises
// "" on the GetSecretValue hot path without asking KMS). UpdateSecret
// stores the managed key likewise (storedKeyID, crossaccount.go).
//
// Without a sealed value, a key id or key ARN of sc's account and Region
// is compared with the managed key's ARN, which KMS reads from its alias
// as it does for a sealed value (storedKeyID: without using the key or
// creating it, until its first use there is none to name); a key of
// another account or Region is not the managed key of sc's.
func (s *Service) newKeyID(ctx context.Context, sc *secret, keyID, keyARN string) (string, error) {
	own := "arn:aws:kms:" + sc.Region + ":" + sc.Account + ":"
	switch {
	case keyID == "" || keyID == defaultKeyAlias || keyID == own+defaultKeyAlias:
		return "", nil
	case keyARN != "": // sealed: KMS named the key
	case strings.HasPrefix(keyID, "alias/") || strings.Contains(keyID, ":alias/"):
		return keyID, nil // storedKeyID: no other alias names an AWS managed key
	case strings.HasPrefix(keyID, "arn:"):
		if !strings.HasPrefix(keyID, own+"key/") {
			return keyID, nil
		}
		keyARN = keyID
	default:
		keyARN = own + "key/" + keyID
	}
	return s.storedKeyID(ctx, sc, keyID, keyARN) // crossaccount.go
}

// sameValue answers a retried request whose token names an existing
// version: nil when the value is the same (compared in constant time), else
// ResourceExistsException, since versions never change.
func (s *Service) sameValue(ctx context.Context, c *service.Call, sc *secret, versionID string, pv plainValue, hasValue bool) error {
	sv, err := s.cachedValue(ctx, valueKey(sc.key(), versionID))
	if err != nil {
		return err
	}
	if sv == nil || !hasValue {
		if sv == nil && !hasValue {
			return nil
		}
		return errVersionExists()
	}
	old, err := s.decrypt(ctx, c, sc, versionID, sv)
	if err != nil {
		return err
	}
	defer clear(old.data)
	if old.binary != pv.binary || subtle.ConstantTimeCompare(old.data, pv.data) != 1 {
		return errVersionExists()
	}
	return nil
}

func errVersionExists() error {
	return smapi.NewResourceExistsException("You can't modify an existing version, you can only create new versions.")
}

// requestToken returns the version id a request asks for, or a new one.
func requestToken(c *service.Call, token *string) (string, error) {
	if token != nil {
		return *token, nil
	}
	id, err := newUUID(c.Rand)
	if err != nil {
		return "", awsproto.Internal(err)
	}
	return id, nil
}

// checkName applies AWS's rule for secret names: "The secret name can
// contain ASCII letters, numbers, and the following characters: /_+=.@-",
// and must not end with a hyphen followed by six characters, which would be
// taken for an ARN suffix ("Do not end your secret name with a hyphen
// followed by six characters").
func checkName(name string) error {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-!", r)) {
			return smapi.NewInvalidParameterException("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}
	}
	if strings.HasPrefix(name, "arn:") {
		return smapi.NewInvalidParameterException("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// checkTags merges add into tags (a key given again takes the new value)
// and applies AWS's tag rules.
func checkTags(tags []tag, add []smapi.Tag) ([]tag, error) {
	out := append([]tag(nil), tags...)
	for _, t := range add {
		k, v := deref(t.Key), deref(t.Value)
		if k == "" {
			return nil, smapi.NewInvalidParameterException("You can't use an empty tag key.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, smapi.NewInvalidParameterException("Invalid tag key. The prefix aws: is reserved for AWS use.")
		}
		replaced := false
		for i := range out {
			if out[i].Key == k {
				out[i].Value = v
				replaced = true
			}
		}
		if !replaced {
			out = append(out, tag{Key: k, Value: v})
		}
	}
	if len(out) > maxTags {
		return nil, smapi.NewInvalidParameterException("Number of tags exceeds Secrets Manager's limit of %d tags per secret.", maxTags)
	}
	return out, nil
}
