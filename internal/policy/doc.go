// Package policy is the IAM policy language: it parses and validates policy
// documents, evaluates requests against every kind of policy AWS consults,
// and explains each decision in AWS's words. It has no storage and no I/O
// and imports only the standard library and internal/arn.
//
// # Parsing and validation
//
// [Parse] takes a document and its [Kind] (managed, user/group/role inline,
// boundary, session, resource, KMS key policy, trust, SCP, RCP, AWS
// managed) and returns an immutable [*Policy], safe for concurrent use.
// Errors are [*Error] values carrying the AWS code (MalformedPolicyDocument
// or LimitExceeded), AWS's message and the JSON path of the problem. Size
// quotas count characters other than white space, as IAM does
// ([Kind.SizeLimit]). [Lint] reports IAM Access Analyzer–style findings
// (unknown services or actions, iam:PassRole on "*", redundant statements)
// that are not errors.
//
// The kinds IAM stores (managed and inline policies, boundaries, session
// and trust policies) are validated as IAM validates them, in stages that
// each report the first failure with IAM's fixed wording: syntax ("Syntax
// errors in policy."), the legacy parser ("The policy failed legacy
// parsing": Effect "allow", a date that does not parse), unique Sids, then
// statement by statement ("Policy statement must contain actions.",
// "…resources.", `Resource x must be in ARN format or "*".`, "IAM resource
// … cannot contain region information.", "Actions/Conditions must be
// prefaced by a vendor, e.g., iam, sdb, ec2, etc.", "Action vendors (e.g.,
// aws, ec2, etc.) must not contain wildcards", "Policy document should not
// specify a principal.", "Has prohibited field Resource", `Invalid
// principal in policy: "AWS":"…"`); a trust policy that is not JSON is
// "This policy contains invalid Json". validate.go cites where each wording
// was observed. Other services' resource-based policies keep the wording
// of Amazon S3's bucket-policy validator ("Missing required field Effect",
// "Invalid effect: allow", "Invalid Condition type : StringEqual"), and
// also accept wildcards in action vendors. [Policy.CheckCurrentVersion]
// is IAM's CreatePolicy rule ("Policy document must be version 2012-10-17
// or greater."), which Parse does not apply because older documents are
// still evaluated.
//
// Statements are indexed by their actions when a policy is parsed (see
// index.go): by service prefix and literal action name, and by service
// prefix and the literal prefix of action patterns ("s3:Get*" under "s3"
// and "get"); statements with NotAction, the action "*" or a wildcard in a
// service prefix are always visited. Evaluation finds a request's
// candidates with two binary searches per service index, so its cost does
// not grow with statements whose Action cannot match.
//
// # Evaluation
//
// [Evaluate] decides a [Request] (principal, action, resource, resource
// account, condition [Context]) under an [Input] (identity policies,
// permissions boundary, session policies, resource policy, SCP and RCP
// levels, and the management-account and root flags), following "Policy
// evaluation logic" in the IAM User Guide
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//
//   - an explicit Deny in any applicable policy wins;
//   - every SCP level must allow (not for the management account, service
//     principals or anonymous callers); RCPs only deny (RCPFullAWSAccess is
//     implicit), except on resources of the management account;
//   - the identity side allows when an identity policy allows and the
//     boundary and session policies, when present, allow too; the root user's
//     identity side always allows;
//   - across accounts the identity side and the resource policy must both
//     allow; within an account either suffices, a grant to the user or
//     session ARN itself is not limited by the boundary or session policy, a
//     grant to the role ARN or "*" is, and a grant to the account only
//     delegates to the identity side;
//   - KMS key policies and role trust policies must allow the account before
//     identity policies count, even within the account;
//   - web identities and SAML subjects ([PrincipalWebIdentity],
//     [PrincipalSAML], named by their identity provider) have no identity
//     side: a trust policy statement whose Principal is {"Federated":
//     "<provider ARN or name>"} or "*" lets them in alone, and RCPs of the
//     role's account apply ("Policy evaluation logic"; "AWS JSON policy
//     elements: Principal", federated principals). A "Service" or "AWS"
//     entry spelling a provider's name does not match it.
//
// The [Decision] names the deciding statements and the policy type that
// denied or lacked an allow; [Decision.Message] renders AWS's AccessDenied
// message ("User: … is not authorized to perform: s3:GetObject on resource:
// … because no identity-based policy allows the s3:GetObject action").
//
// The conformance corpus (testdata/*.jsonl, format in iam-eval-cases.md) is
// run by package corpus, which `rampart policy eval` wraps. Besides users
// and role sessions, a case's principal may be an OIDC or SAML provider ARN
// or a provider name ("accounts.google.com"), for trust policies of web
// identities and SAML subjects (rampart's extension of the format). Eight sample
// cases expect Arn* condition values not to have policy variables
// substituted before the fifth colon; the IAM User Guide documents policy
// variables as supported in ARN condition operators without that limit, so
// the engine follows the documentation and the corpus test lists those cases.
//
// # Performance
//
// Evaluate does not allocate (policy variables are expanded into a stack
// buffer; condition values are parsed at Parse time). Measured with
// `go test -bench . -benchtime=0.3s` on a shared, busy 2-core Intel Xeon VM
// (linux/amd64, Go 1.26, load average 6–9), best of five runs interleaved
// with the previous engine (statements indexed by service prefix only)
// built with the same benchmarks; under such load single figures move by
// ±20%, the ratios less:
//
//	                                                                      before     now
//	BenchmarkTypical             10 policies × 5 statements, conditions    ~620 ns    ~550 ns   0 allocs/op
//	BenchmarkLargeRole           10 managed policies × 100 statements     ~6.4 µs    ~4.9 µs   0 allocs/op
//	BenchmarkLargeRoleOneService the same, all for S3, one can match      ~42 µs     ~1.4 µs   0 allocs/op
//	BenchmarkVariables           21 statements, 2–4 variables each        ~5.0 µs    ~4.8 µs   0 allocs/op
//	BenchmarkSCPChain            5 SCP levels with guardrails + 1 policy  ~1.0 µs    ~0.9 µs   0 allocs/op
//	BenchmarkParse               one 2-statement managed policy           ~11 µs     ~13 µs    117 allocs/op (was 107)
//	BenchmarkParseManyActions    one statement of 2,000 actions                      ~1.7–2.4 ms
//
// In BenchmarkLargeRole every policy's S3 statements say "s3:Get*" and so
// can match s3:GetObject; the gain there comes from not matching again an
// action the index already proves ("sure" keys: a literal name, or a prefix
// and a trailing "*").
//
// # Coverage
//
// The package's tests cover every statement (go test -cover: 100.0%).
// Code that cannot run was removed rather than tested (a fallback after a
// switch over every operator, a case of the resource check that Parse
// rules out), and the defensive paths are tested for what they do: an
// identity policy handed over as a resource policy grants nothing, actions
// longer than the index's buffer are matched against every statement.
package policy
