package secretsmanager

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/service"
)

// checkCrossAccountKey refuses a caller from another account than sc's
// when sc is encrypted with the AWS managed key aws/secretsmanager: "you
// can't use the AWS managed key (aws/secretsmanager) for cross-account
// access" ("Access AWS Secrets Manager secrets from a different account",
// Secrets Manager User Guide), whether the caller reads the value
// (GetSecretValue) or writes one (PutSecretValue, UpdateSecret with a
// value): the key's policy admits
// its own account only, and AWS answers errDefaultKeyCrossAccount rather
// than asking KMS. Callers check it once the secret's policies have
// allowed the call, as AWS does.
func checkCrossAccountKey(c *service.Call, account, kmsKeyID string) error {
	if c.Principal != nil && c.Principal.Account != account && defaultKey(kmsKeyID) {
		return errDefaultKeyCrossAccount()
	}
	return nil
}

// storedKeyID is the KmsKeyId UpdateSecret stores for the secret sc moved
// to the key keyID names, which KMS resolved to keyARN: "" when keyID
// names the AWS managed key aws/secretsmanager of sc's account and Region
// by its alias, alias ARN, key id or key ARN, keyID otherwise. AWS shows such a secret
// without a KmsKeyId ("If the secret is encrypted with the AWS managed key
// aws/secretsmanager, this field is omitted", DescribeSecret), and "" is
// what defaultKey, asked on the GetSecretValue hot path without KMS,
// recognises: the managed key is found once, when it is chosen, not at
// every read.
//
// KMS resolves the managed key's alias of sc's account and Region to its
// key ARN (ManagedKeyARN), a read of the alias that neither uses the key
// (KMS records no use of it, GetKeyLastUsage) nor creates it: when there
// is no such key yet, keyID, which named a key KMS found, is not it. A
// KmsKeyId that is an alias needs no question: defaultKey knows the
// managed key's alias, and no other alias names an AWS managed key (KMS
// CreateAlias: "You can associate the alias with any customer managed
// key").
func (s *Service) storedKeyID(ctx context.Context, sc *secret, keyID, keyARN string) (string, error) {
	if defaultKey(keyID) {
		return "", nil // the managed key by its alias or alias ARN: DescribeSecret omits it, as AWS does
	}
	if keyARN == "" || strings.HasPrefix(keyID, "alias/") || strings.Contains(keyID, ":alias/") {
		return keyID, nil
	}
	managed, err := s.keys.ManagedKeyARN(ctx, sc.Account, sc.Region, "secretsmanager")
	if err != nil {
		return "", err
	}
	if managed == "" || managed != keyARN {
		return keyID, nil
	}
	return "", nil
}
