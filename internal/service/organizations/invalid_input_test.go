package organizations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go/middleware"
)

// noClientValidation lets a request the SDK would refuse (a required member
// missing) reach the server, as another client's could.
func noClientValidation(o *organizations.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// Organizations answers input that breaks the model's constraints with
// InvalidInputException and a Reason, not ValidationException, and the
// request changes nothing.
func TestInvalidInputReasons(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	cases := []struct {
		name   string
		call   func() error
		reason types.InvalidInputExceptionReason
		msg    string // the reason's sentence
		member string // the member the message names
	}{
		{"account id pattern", func() error {
			_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
			return err
		}, types.InvalidInputExceptionReasonInvalidPattern, "You provided a value that doesn't match the required pattern.", "'accountId'"},
		{"parent id pattern", func() error {
			_, err := e.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("not-a-parent"), Name: aws.String("x")})
			return err
		}, types.InvalidInputExceptionReasonInvalidPattern, "You provided a value that doesn't match the required pattern.", "'parentId'"},
		{"name too long", func() error {
			_, err := e.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(strings.Repeat("n", 129))})
			return err
		}, types.InvalidInputExceptionReasonMaxLengthExceeded, "longer than allowed", "'name'"},
		{"max results too small", func() error {
			_, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(0)})
			return err
		}, types.InvalidInputExceptionReasonMinValueExceeded, "smaller value than allowed", "'maxResults'"},
		{"policy type", func() error {
			_, err := e.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("p"), Description: aws.String("d"), Content: aws.String(denyKMS), Type: "NOT_A_TYPE"})
			return err
		}, types.InvalidInputExceptionReasonInvalidEnumPolicyType, "You specified an invalid policy type string.", "'type'"},
		{"required member missing", func() error {
			_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{}, noClientValidation)
			return err
		}, types.InvalidInputExceptionReasonInputRequired, "You must include a value for all required parameters.", "'accountId'"},
		{"list member", func() error {
			_, err := e.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{"NOPE"}})
			return err
		}, types.InvalidInputExceptionReasonInvalidListMember, "at least one invalid value", "'states'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ii *types.InvalidInputException
			if !errors.As(err, &ii) {
				t.Fatalf("got %v, want InvalidInputException", err)
			}
			if ii.Reason != tc.reason {
				t.Errorf("reason %q, want %q", ii.Reason, tc.reason)
			}
			if msg := ii.ErrorMessage(); !strings.Contains(msg, tc.msg) || !strings.Contains(msg, tc.member) {
				t.Errorf("message %q, want %q about %s", msg, tc.msg, tc.member)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
				t.Errorf("status: %v", err)
			}
		})
	}
	// Nothing changed: no OU, no policy.
	ous, err := e.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	mustOK(t, err, "ListOrganizationalUnitsForParent")
	pols, err := e.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	mustOK(t, err, "ListPolicies")
	if len(ous.OrganizationalUnits) != 0 || len(pols.Policies) != 1 { // FullAWSAccess only
		t.Errorf("bad input changed state: %d OUs, %d policies", len(ous.OrganizationalUnits), len(pols.Policies))
	}
}
