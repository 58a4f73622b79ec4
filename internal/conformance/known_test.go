package conformance

// rejections are the operations whose minimal input (required members
// only, with fixtures) cannot succeed as the root user of a fresh account,
// with the error AWS answers instead; the harness checks exactly that code,
// for the raw request and the SDK call. Each says why.
var rejections = map[string]string{
	// The root user has no password of its own to change.
	"iam.ChangePassword": "InvalidUserType",
	// Without UserName these act on the caller's login profile; AWS allows
	// that for the root user only in an AssumeRoot session.
	"iam.CreateLoginProfile": "ValidationError",
	"iam.GetLoginProfile":    "ValidationError",
	"iam.DeleteLoginProfile": "ValidationError",
	// Without UserName they act on the caller's devices: the root user has
	// none (EnableMFADevice takes a user name).
	"iam.DeactivateMFADevice": "NoSuchEntity",
	"iam.GetMFADevice":        "NoSuchEntity",

	// The model leaves the ciphertext optional (for DryRun); KMS cannot
	// decrypt nothing.
	"kms.Decrypt":   "InvalidCiphertextException",
	"kms.ReEncrypt": "InvalidCiphertextException",
	// The model leaves GranteePrincipal optional (GranteeServicePrincipal
	// is the alternative); one of them is needed.
	"kms.CreateGrant": "ValidationException",
	// "Please specify either number of bytes or key spec."
	"kms.GenerateDataKey":                 "ValidationException",
	"kms.GenerateDataKeyWithoutPlaintext": "ValidationException",
	"kms.GenerateRandom":                  "ValidationException",
	// ExpirationModel defaults to KEY_MATERIAL_EXPIRES, which needs ValidTo.
	"kms.ImportKeyMaterial": "ValidationException",
	// No custom key store exists (rampart has no CloudHSM cluster and makes
	// no calls to external key store proxies), so none can be named; AWS
	// answers the same in an account without one. Creating one needs a
	// cluster id (the model leaves it optional: EXTERNAL_KEY_STORE does not
	// use it).
	"kms.ConnectCustomKeyStore":    "CustomKeyStoreNotFoundException",
	"kms.DeleteCustomKeyStore":     "CustomKeyStoreNotFoundException",
	"kms.DisconnectCustomKeyStore": "CustomKeyStoreNotFoundException",
	"kms.UpdateCustomKeyStore":     "CustomKeyStoreNotFoundException",
	"kms.CreateCustomKeyStore":     "ValidationException",
	// RetiringPrincipal is optional in the model, needed in practice.
	"kms.ListRetirableGrants": "ValidationException",
	// Either GrantToken or KeyId and GrantId.
	"kms.RetireGrant": "ValidationException",

	// Handshakes are accepted or declined by the invited account, not by
	// the management account that the fixtures run as.
	"organizations.AcceptHandshake":  "HandshakeNotFoundException",
	"organizations.DeclineHandshake": "HandshakeNotFoundException",
	// No tag policy applies to the account.
	"organizations.DescribeEffectivePolicy":             "EffectivePolicyNotFoundException",
	"organizations.ListEffectivePolicyValidationErrors": "EffectivePolicyNotFoundException",
	// "You attempted to create a GovCloud account but the management
	// account isn't enabled for AWS GovCloud (US)": GovCloud accounts come
	// in pairs with a commercial one, which only AWS can enable.
	"organizations.CreateGovCloudAccount": "ConstraintViolationException",
	// The management account cannot leave its organization.
	"organizations.LeaveOrganization": "MasterCannotLeaveOrganizationException",

	// Either SecretIdList or Filters.
	"secretsmanager.BatchGetSecretValue": "InvalidParameterException",
	// Rotation needs a Lambda function, which rampart does not host.
	"secretsmanager.CancelRotateSecret": "InvalidRequestException",
	"secretsmanager.RotateSecret":       "InvalidRequestException",
	// Either SecretString or SecretBinary.
	"secretsmanager.PutSecretValue": "InvalidRequestException",
	// RemoveFromVersionId, MoveToVersionId, or both.
	"secretsmanager.UpdateSecretVersionStage": "InvalidParameterException",
	// Only a replica is promoted, in its own Region; the fixture's secret
	// is the primary, in the Region the harness calls (us-east-1): "The
	// secret … is not a replica secret."
	"secretsmanager.StopReplicationToReplica": "InvalidParameterException",

	// "Roles may not be assumed by root accounts."
	"sts.AssumeRole": "AccessDenied",
	// The generated token is no JWT that an OpenID Connect provider signed:
	// "The ID Token provided is not a valid JWT. (You may see this error if
	// you sent an Access Token)".
	"sts.AssumeRoleWithWebIdentity": "InvalidIdentityToken",
	// The generated assertion is no base64 SAML response that the
	// provider's key signed.
	"sts.AssumeRoleWithSAML": "InvalidIdentityToken",
	// Needs a message that an authorization failure encoded.
	"sts.DecodeAuthorizationMessage": "InvalidAuthorizationMessageException",
}

// knownFailures are variants that fail because of a server bug, each with
// what happens; they are reported, not failed. Remove an entry when its bug
// is fixed (the test says so when one passes).
var knownFailures = map[string]string{}

// awsDeviations are the ways in which AWS's own responses stray from its
// models, which rampart reproduces; the harness does not count them as
// problems. Each names the operation and the problem exactly as the
// harness words it.
var awsDeviations = map[string][]string{
	// GetUser as the root user: AWS answers UserId (the account id), Arn,
	// CreateDate and Path, and no UserName (the root user has none), though
	// the model requires one.
	"iam.GetUser": {"GetUserResult.User: required member <UserName> missing"},
}
