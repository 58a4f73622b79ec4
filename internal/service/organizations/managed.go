package organizations

// The AWS managed policies of Organizations. AWS attaches FullAWSAccess to
// the root, every OU and every account when service control policies are
// enabled, and to every OU and account created or invited afterwards;
// RCPFullAWSAccess likewise for resource control policies, and it cannot be
// detached ("Service control policies", "Resource control policies",
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html,
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
const (
	FullAWSAccessID    = "p-FullAWSAccess"
	RCPFullAWSAccessID = "p-RCPFullAWSAccess"
)

// Policy types, as the API spells them.
const (
	typeSCP = "SERVICE_CONTROL_POLICY"
	typeRCP = "RESOURCE_CONTROL_POLICY"
	typeTag = "TAG_POLICY"
)

var managed = map[string]*storedPolicy{
	FullAWSAccessID: {
		ID: FullAWSAccessID, Name: "FullAWSAccess", Description: "Allows access to every operation", Type: typeSCP,
		Content: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}`,
	},
	RCPFullAWSAccessID: {
		ID: RCPFullAWSAccessID, Name: "RCPFullAWSAccess", Description: "Allows access to every operation", Type: typeRCP,
		Content: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": "*",
      "Action": "*",
      "Resource": "*"
    }
  ]
}`,
	},
}

// defaultPolicy is the AWS managed policy attached everywhere when a policy
// type is enabled.
var defaultPolicy = map[string]string{typeSCP: FullAWSAccessID, typeRCP: RCPFullAWSAccessID}

// nonDetachable policies cannot be detached (RCPFullAWSAccess).
var nonDetachable = map[string]bool{RCPFullAWSAccessID: true}

// policyTypes are the policy types rampart accepts, with the maximum size
// of a document of each type in characters ("Maximum and minimum values",
// Quotas for AWS Organizations). SCP and RCP content is validated by the
// IAM policy engine; the others must be JSON objects.
var policyTypes = map[string]int{
	typeSCP:                     5120,
	typeRCP:                     5120,
	typeTag:                     10000,
	"BACKUP_POLICY":             10000,
	"AISERVICES_OPT_OUT_POLICY": 2500,
	"CHATBOT_POLICY":            10000,
	"DECLARATIVE_POLICY_EC2":    10000,
	"SECURITYHUB_POLICY":        10000,
	"INSPECTOR_POLICY":          10000,
	"BEDROCK_POLICY":            10000,
	"S3_POLICY":                 10000,
}
