package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/arn"
)

// Finding is one result of [Lint], shaped like an IAM Access Analyzer
// policy-validation finding ("Access Analyzer policy check reference").
type Finding struct {
	Type      string // ERROR, SECURITY_WARNING, WARNING or SUGGESTION
	IssueCode string // e.g. INVALID_ACTION, REDUNDANT_STATEMENT
	Message   string
	Path      string // JSON path, e.g. Statement[0].Action[1]
}

// knownActions lists real actions of the services rampart serves, so Lint
// can tell a typo from an action. It is deliberately small; services outside
// it are only checked for a known prefix.
var knownActions = map[string][]string{
	"iam": {"AddUserToGroup", "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy", "ChangePassword",
		"CreateAccessKey", "CreateGroup", "CreateLoginProfile", "CreatePolicy", "CreatePolicyVersion", "CreateRole",
		"CreateServiceLinkedRole", "CreateUser", "CreateVirtualMFADevice", "DeactivateMFADevice", "DeleteAccessKey",
		"DeleteGroup", "DeleteGroupPolicy", "DeleteLoginProfile", "DeletePolicy", "DeletePolicyVersion", "DeleteRole",
		"DeleteRolePermissionsBoundary", "DeleteRolePolicy", "DeleteUser", "DeleteUserPermissionsBoundary",
		"DeleteUserPolicy", "DeleteVirtualMFADevice", "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy",
		"EnableMFADevice", "GenerateCredentialReport", "GetAccessKeyLastUsed", "GetAccountPasswordPolicy",
		"GetAccountSummary", "GetCredentialReport", "GetGroup", "GetGroupPolicy", "GetLoginProfile", "GetPolicy",
		"GetPolicyVersion", "GetRole", "GetRolePolicy", "GetUser", "GetUserPolicy", "ListAccessKeys",
		"ListAttachedGroupPolicies", "ListAttachedRolePolicies", "ListAttachedUserPolicies", "ListGroups",
		"ListGroupsForUser", "ListMFADevices", "ListPolicies", "ListPolicyVersions", "ListRolePolicies", "ListRoles",
		"ListRoleTags", "ListUserPolicies", "ListUsers", "ListUserTags", "ListVirtualMFADevices", "PassRole",
		"PutGroupPolicy", "PutRolePermissionsBoundary", "PutRolePolicy", "PutUserPermissionsBoundary", "PutUserPolicy",
		"RemoveUserFromGroup", "SetDefaultPolicyVersion", "SimulateCustomPolicy", "SimulatePrincipalPolicy", "TagRole",
		"TagUser", "UntagRole", "UntagUser", "UpdateAccessKey", "UpdateAccountPasswordPolicy", "UpdateAssumeRolePolicy",
		"UpdateLoginProfile", "UpdateRole", "UpdateUser"},
	"sts": {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "DecodeAuthorizationMessage",
		"GetAccessKeyInfo", "GetCallerIdentity", "GetFederationToken", "GetServiceBearerToken", "GetSessionToken",
		"SetSourceIdentity", "TagSession"},
	"kms": {"CancelKeyDeletion", "ConnectCustomKeyStore", "CreateAlias", "CreateCustomKeyStore", "CreateGrant",
		"CreateKey", "Decrypt", "DeleteAlias", "DeleteCustomKeyStore", "DeleteImportedKeyMaterial", "DescribeCustomKeyStores",
		"DescribeKey", "DisableKey", "DisableKeyRotation", "DisconnectCustomKeyStore", "EnableKey", "EnableKeyRotation",
		"Encrypt", "GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
		"GenerateDataKeyWithoutPlaintext", "GenerateMac", "GenerateRandom", "GetKeyPolicy", "GetKeyRotationStatus",
		"GetParametersForImport", "GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants", "ListKeyPolicies",
		"ListKeyRotations", "ListKeys", "ListResourceTags", "ListRetirableGrants", "PutKeyPolicy", "ReEncryptFrom",
		"ReEncryptTo", "ReplicateKey", "RetireGrant", "RevokeGrant", "RotateKeyOnDemand", "ScheduleKeyDeletion", "Sign",
		"TagResource", "UntagResource", "UpdateAlias", "UpdateCustomKeyStore", "UpdateKeyDescription",
		"UpdatePrimaryRegion", "Verify", "VerifyMac"},
	"secretsmanager": {"BatchGetSecretValue", "CancelRotateSecret", "CreateSecret", "DeleteResourcePolicy",
		"DeleteSecret", "DescribeSecret", "GetRandomPassword", "GetResourcePolicy", "GetSecretValue",
		"ListSecretVersionIds", "ListSecrets", "PutResourcePolicy", "PutSecretValue", "RemoveRegionsFromReplication",
		"ReplicateSecretToRegions", "RestoreSecret", "RotateSecret", "StopReplicationToReplica", "TagResource",
		"UntagResource", "UpdateSecret", "UpdateSecretVersionStage", "ValidateResourcePolicy"},
	"organizations": {"AttachPolicy", "CreateAccount", "CreateOrganization", "CreateOrganizationalUnit",
		"CreatePolicy", "DeletePolicy", "DescribeAccount", "DescribeOrganization", "DescribeOrganizationalUnit",
		"DescribePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "ListAccounts",
		"ListAccountsForParent", "ListChildren", "ListOrganizationalUnitsForParent", "ListParents", "ListPolicies",
		"ListPoliciesForTarget", "ListRoots", "ListTargetsForPolicy", "MoveAccount", "TagResource", "UntagResource",
		"UpdatePolicy"},
	"s3": {"AbortMultipartUpload", "CreateBucket", "DeleteBucket", "DeleteBucketPolicy", "DeleteObject",
		"DeleteObjectTagging", "DeleteObjectVersion", "GetBucketAcl", "GetBucketLocation", "GetBucketPolicy",
		"GetBucketPolicyStatus", "GetBucketTagging", "GetBucketVersioning", "GetEncryptionConfiguration", "GetObject",
		"GetObjectAcl", "GetObjectAttributes", "GetObjectTagging", "GetObjectVersion", "GetObjectVersionTagging",
		"ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions", "ListMultipartUploadParts",
		"PutBucketAcl", "PutBucketPolicy", "PutBucketTagging", "PutBucketVersioning", "PutEncryptionConfiguration",
		"PutObject", "PutObjectAcl", "PutObjectTagging", "PutObjectVersionTagging", "RestoreObject"},
}

// knownPrefixes are service prefixes of other AWS services, accepted without
// an action table.
var knownPrefixes = []string{
	"access-analyzer", "acm", "acm-pca", "apigateway", "athena", "autoscaling", "cloudformation", "cloudfront",
	"cloudhsm", "cloudtrail", "cloudwatch", "codebuild", "codecommit", "codepipeline", "cognito-identity",
	"cognito-idp", "config", "dynamodb", "ec2", "ecr", "ecs", "eks", "elasticloadbalancing", "events", "firehose",
	"fms", "glue", "guardduty", "inspector", "inspector2", "kinesis", "lambda", "logs", "rds", "route53", "s3-object-lambda",
	"securityhub", "ses", "shield", "sns", "sqs", "ssm", "sso", "states", "tag", "waf", "wafv2", "waf-regional", "xray",
	"artifact", "identitystore", "sso-directory",
}

// Lint checks a parsed policy the way IAM Access Analyzer's policy
// validation does, for the problems that are not syntax errors: actions of
// unknown services (INVALID_SERVICE_IN_ACTION), actions that match nothing
// known (INVALID_ACTION), iam:PassRole allowed on every role
// (PASS_ROLE_WITH_STAR_IN_RESOURCE), statements made redundant by another
// (REDUNDANT_STATEMENT) and a missing Version (MISSING_VERSION).
func Lint(p *Policy) []Finding {
	var out []Finding
	if p.version == "" {
		out = append(out, Finding{"SUGGESTION", "MISSING_VERSION",
			"We recommend that you specify the Version element to help you with debugging permission issues.", "Version"})
	} else if p.version == Version2008 {
		out = append(out, Finding{"WARNING", "OBSOLETE_VERSION",
			"The 2008-10-17 version of the policy language does not support policy variables; use 2012-10-17.", "Version"})
	}
	for i := range p.stmts {
		s := &p.stmts[i]
		sp := "Statement[" + strconv.Itoa(i) + "]"
		el := "Action"
		if s.notAction {
			el = "NotAction"
		}
		for j, a := range s.actions {
			path := sp + "." + el + "[" + strconv.Itoa(j) + "]"
			if a == "*" {
				continue
			}
			svc, name, _ := strings.Cut(a, ":")
			if arn.HasWildcard(svc) {
				continue
			}
			table, served := lookupService(svc)
			if !served {
				if !slices.Contains(knownPrefixes, svc) {
					out = append(out, Finding{"ERROR", "INVALID_SERVICE_IN_ACTION",
						"The service " + svc + " specified in the action does not exist.", path})
				}
				continue
			}
			hit := false
			for _, known := range table {
				if arn.MatchFold(name, known) {
					hit = true
					break
				}
			}
			if !hit {
				out = append(out, Finding{"ERROR", "INVALID_ACTION",
					"The action " + a + " does not exist.", path})
			}
		}
		if s.Effect == EffectAllow && !s.notAction && !s.notResource {
			for _, a := range s.actions {
				if arn.MatchFold(a, "iam:PassRole") && slices.ContainsFunc(s.resources, func(t tmpl) bool { return t.raw == "*" }) {
					out = append(out, Finding{"SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE",
						"Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because it allows iam:PassRole permissions on multiple resources.", sp})
					break
				}
			}
		}
		for k := range p.stmts {
			if k != i && covers(&p.stmts[k], s) && (!covers(s, &p.stmts[k]) || k < i) {
				out = append(out, Finding{"SUGGESTION", "REDUNDANT_STATEMENT",
					"The statement includes only permissions that are also in Statement[" + strconv.Itoa(k) + "]; remove it.", sp})
				break
			}
		}
	}
	return out
}

func lookupService(svc string) ([]string, bool) {
	for k, v := range knownActions {
		if k == svc {
			return v, true
		}
	}
	return nil, false
}

// covers reports whether statement a grants (or denies) everything b does:
// same effect, principal, resources and conditions, and every action of b
// matched by an action pattern of a.
func covers(a, b *Statement) bool {
	if a.Effect != b.Effect || a.notAction || b.notAction || a.notResource != b.notResource ||
		a.hasPrincipal || b.hasPrincipal || len(a.conds) != 0 || len(b.conds) != 0 {
		return false
	}
	if !slices.EqualFunc(a.resources, b.resources, func(x, y tmpl) bool { return x.raw == y.raw }) {
		return false
	}
	for _, ba := range b.actions {
		hit := false
		for _, aa := range a.actions {
			if arn.MatchFold(aa, ba) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}
