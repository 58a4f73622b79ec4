package kms

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// The methods below serve other rampart services (Secrets Manager first)
// through the small interface they declare: envelope encryption under a
// KMS key, authorized as AWS authorizes a service acting for its caller
// (kms:ViaService names the service).

// GenerateDataKey returns a fresh 256-bit data key and its ciphertext under
// keyID (key id, key ARN, alias name or alias ARN; "" means the AWS managed
// key of the calling service, alias/aws/<service>, created on first use),
// after authorizing kms:GenerateDataKey for c.Principal with
// kms:ViaService = viaService and the given encryption context.
func (s *Service) GenerateDataKey(ctx context.Context, c *service.Call, keyID string, encryptionContext map[string]string, viaService string) (plaintext, ciphertext []byte, keyARN string, err error) {
	if keyID == "" {
		keyID = "alias/aws/" + serviceName(viaService)
		if err := s.ensureManagedKey(ctx, c, serviceName(viaService)); err != nil {
			return nil, nil, "", err
		}
	}
	e, ref, err := s.resolve(ctx, c, keyID, true)
	if err != nil {
		return nil, nil, "", err
	}
	if err := s.authorize(ctx, c, "kms:GenerateDataKey", e, ref, kmsapi.GrantOperationGeneratedatakey, encryptionContext, viaKeys(viaService)); err != nil {
		return nil, nil, "", err
	}
	pt, ct, err := newDataKey(e, c, 32, encryptionContext, "GenerateDataKey")
	if err != nil {
		return nil, nil, "", err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationGeneratedatakey)
	return pt, ct, e.arn, nil
}

// Decrypt decrypts a ciphertext made by GenerateDataKey (or Encrypt),
// authorizing kms:Decrypt for c.Principal with kms:ViaService = viaService.
func (s *Service) Decrypt(ctx context.Context, c *service.Call, ciphertext []byte, encryptionContext map[string]string, viaService string) (plaintext []byte, keyARN string, err error) {
	e, ref, err := s.decryptKey(ctx, c, ciphertext, "", "")
	if err != nil {
		return nil, "", err
	}
	if err := s.authorize(ctx, c, "kms:Decrypt", e, ref, kmsapi.GrantOperationDecrypt, encryptionContext, viaKeys(viaService)); err != nil {
		return nil, "", err
	}
	pt, _, err := decryptWith(e, ciphertext, "", encryptionContext, "Decrypt")
	if err != nil {
		return nil, "", err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationDecrypt)
	return pt, e.arn, nil
}

// ManagedKeyARN returns the ARN of the AWS managed key alias/aws/<svc> of
// account in region, "" when it does not exist yet (it is created on first
// use, by GenerateDataKey). It reads the alias only: the key is neither
// created nor used (GetKeyLastUsage records nothing), and no principal is
// authorized, since nothing is done with the key. Secrets Manager asks it
// whether a KmsKeyId it was given names that key.
func (s *Service) ManagedKeyARN(ctx context.Context, account, region, svc string) (string, error) {
	id, err := s.cache.alias(ctx, aliasPath(account, region, "alias/aws/"+svc))
	if err != nil {
		return "", awsproto.Internal(err)
	}
	if id == "" {
		return "", nil
	}
	return keyARN(region, account, id), nil
}

func viaKeys(via string) func(map[string][]string) {
	return func(k map[string][]string) {
		k["kms:encryptionalgorithm"] = symmetricDefault
		if via != "" {
			k["kms:viaservice"] = []string{via}
		}
	}
}

// serviceName is "secretsmanager" for "secretsmanager.us-east-1.amazonaws.com".
func serviceName(via string) string {
	name, _, _ := strings.Cut(via, ".")
	if name == "" {
		return "secretsmanager"
	}
	return name
}

// ensureManagedKey creates the AWS managed key alias/aws/<svc> of the
// caller's account and region unless it exists. AWS managed keys rotate
// every year and their policy lets the account use them only through
// the service.
func (s *Service) ensureManagedKey(ctx context.Context, c *service.Call, svc string) error {
	name := "alias/aws/" + svc
	apath := aliasPath(c.Principal.Account, c.Region, name)
	if id, err := s.cache.alias(ctx, apath); err != nil {
		return awsproto.Internal(err)
	} else if id != "" {
		return nil
	}
	s.managedMu.Lock()
	defer s.managedMu.Unlock()
	id, err := newUUID(c.Rand)
	if err != nil {
		return awsproto.Internal(err)
	}
	next := c.Now.Add(365 * 24 * time.Hour)
	rec := &keyRecord{
		Account: c.Principal.Account, Region: c.Region, ID: id,
		Description: "Default key that protects my " + svc + " data when no other key is defined",
		Spec:        kmsapi.KeySpecSymmetricDefault, Usage: kmsapi.KeyUsageTypeEncryptDecrypt, Origin: kmsapi.OriginTypeAwsKms,
		Manager: kmsapi.KeyManagerTypeAws, State: kmsapi.KeyStateEnabled, Created: c.Now,
		Policy:          managedPolicy(c.Principal.Account, c.Region, svc),
		RotationEnabled: true, RotationPeriod: 365, NextRotation: &next,
	}
	if err := s.addMaterial(rec, c.Rand, c.Now, ""); err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(TableAlias, apath); err == nil {
			return nil // created meanwhile (another node)
		} else if !isNotFound(err) {
			return err
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := tx.Insert(TableKey, rec.path(), v); err != nil {
			return err
		}
		return putAlias(tx, apath, &aliasRecord{Name: name, KeyID: id, Created: c.Now, Updated: c.Now})
	})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return awsproto.Internal(err)
	}
	return nil
}

// managedPolicy is the key policy AWS gives the managed key of a service:
// principals of the account may use it through that service, and read its
// metadata directly.
func managedPolicy(account, region, svc string) string {
	name := svc
	if v := predefinedAliases[svc]; v != "" {
		name = v
	}
	via := name + "." + region + ".amazonaws.com"
	return `{
  "Version" : "2012-10-17",
  "Id" : "auto-` + svc + `-2",
  "Statement" : [ {
    "Sid" : "Allow access through ` + svc + ` for all principals in the account that are authorized to use ` + svc + `",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "` + account + `",
        "kms:ViaService" : "` + via + `"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  } ]
}`
}

// predefinedAliases are the AWS aliases (alias/aws/<key>) of AWS managed
// keys that DescribeKey creates on first use, each with the service that
// uses the key (kms:ViaService: EBS volumes are encrypted through EC2).
// "If you call the DescribeKey operation on a predefined AWS alias, that
// is, an AWS alias with no key ID, AWS KMS creates an AWS managed key.
// Then, it associates the alias with the new KMS key, and returns the
// KeyId and Arn of the new KMS key in the response." (DescribeKey API
// reference). Any other alias/aws/ name is not found.
var predefinedAliases = map[string]string{
	"acm": "acm", "backup": "backup", "codecommit": "codecommit", "dynamodb": "dynamodb", "ebs": "ec2",
	"elasticfilesystem": "elasticfilesystem", "es": "es", "glue": "glue", "kinesis": "kinesis",
	"kinesisvideo": "kinesisvideo", "lambda": "lambda", "rds": "rds", "redshift": "redshift", "s3": "s3",
	"secretsmanager": "secretsmanager", "sns": "sns", "sqs": "sqs", "ssm": "ssm", "xray": "xray",
}

// ensurePredefined creates the AWS managed key of the predefined AWS alias
// that ref names, when ref names one of the caller's own account and
// region that does not exist yet; created reports whether ref names such
// an alias (then the caller resolves it again). The key and its alias are
// written in one transaction.
func (s *Service) ensurePredefined(ctx context.Context, c *service.Call, ref keyRef) (created bool, err error) {
	svc, ok := strings.CutPrefix(ref.alias, "alias/aws/")
	if !ok || predefinedAliases[svc] == "" || c.Principal == nil || ref.account != c.Principal.Account || ref.region != c.Region {
		return false, nil
	}
	if err := s.ensureManagedKey(ctx, c, svc); err != nil {
		return false, err
	}
	return true, nil
}
