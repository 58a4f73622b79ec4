package conformance

// rejection is the error AWS answers instead of a success, for the
// minimal input and (when it differs) for the full one.
type rejection struct{ minimal, full string }

// rejections are the operations that cannot succeed here, whatever the
// input and the state the fixtures make, with the error AWS answers
// instead; the harness checks exactly that code, for the raw request and
// the SDK call. Each says why. Every other served operation's minimal and
// full inputs must succeed.
var rejections = map[string]rejection{
	// No custom key store exists: rampart has no CloudHSM cluster and
	// makes no calls to external key store proxies, so none can be
	// created or named; AWS answers so in an account without one.
	"kms.ConnectCustomKeyStore":    {minimal: "CustomKeyStoreNotFoundException"},
	"kms.DeleteCustomKeyStore":     {minimal: "CustomKeyStoreNotFoundException"},
	"kms.DisconnectCustomKeyStore": {minimal: "CustomKeyStoreNotFoundException"},
	"kms.UpdateCustomKeyStore":     {minimal: "CustomKeyStoreNotFoundException"},
	// Creating one needs a CloudHSM cluster id (optional in the model, as
	// EXTERNAL_KEY_STORE does not use it), and the cluster must exist.
	"kms.CreateCustomKeyStore": {minimal: "ValidationException", full: "CloudHsmClusterNotFoundException"},
	// "You attempted to create a GovCloud account but the management
	// account isn't enabled for AWS GovCloud (US)": only AWS enables that.
	"organizations.CreateGovCloudAccount": {minimal: "ConstraintViolationException"},
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
