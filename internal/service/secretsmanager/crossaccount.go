package secretsmanager

import "github.com/rampart/rampart/internal/service"

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
