// Package organizations serves AWS Organizations: an organization with its
// management account, a root, OUs nested up to five levels, member accounts
// (created through [Accounts] or invited), and the policies attached to the
// root, OUs and accounts — service control policies and resource control
// policies, which [Guardrails] hands to the authorizer, and tag policies.
//
// Organizations is global: its state does not depend on the request's
// region. Most operations may be called only by the management account
// (member accounts get AccessDeniedException); the read-only ones also by
// delegated administrators, those the organization's resource policy
// delegates by the accounts it names (resource_policy.go), and a few
// (DescribeOrganization, LeaveOrganization, the handshake operations) by
// any member. Malformed input gets InvalidInputException with a Reason
// (invalid_input.go); a closed account is denied everywhere by
// [Guardrails].
package organizations

import (
	"context"
	"sync/atomic"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Accounts creates accounts and their bootstrap role (implemented by the lead's wiring over internal/authn and the IAM service).
type Accounts interface {
	// CreateAccount creates a new AWS account with its root user (random credentials nobody knows: AWS requires a password reset; rampart's root of a created account signs in only through OrganizationAccountAccessRole) and, in it, the role OrganizationAccountAccessRole trusting arn:aws:iam::<managementAccountID>:root with AdministratorAccess attached.
	CreateAccount(ctx context.Context, accountID, name, email, managementAccountID string) error
}

// Service is the Organizations service.
type Service struct {
	st       store.Store
	accounts Accounts
	// interrupt, when set and true, stops CreateAccount between creating
	// the account and recording it, as a crash would (tests only).
	interrupt func() bool
	// createTimeout is createAccountTimeout, in nanoseconds (tests shorten it).
	createTimeout atomic.Int64
}

// New returns the Organizations service over st. accounts creates the
// accounts CreateAccount asks for; when it is nil, CreateAccount requests
// end FAILED with INTERNAL_FAILURE.
func New(st store.Store, accounts Accounts) *Service {
	s := &Service{st: st, accounts: accounts}
	s.createTimeout.Store(int64(createAccountTimeout))
	return s
}

// Register lists the operations Organizations serves, each with its
// authorization rule. The IAM actions are the operation names
// ("Actions defined by AWS Organizations", Service Authorization Reference).
func (s *Service) Register(r *service.Registry) {
	// The organization.
	service.Handle(r, orgapi.OpCreateOrganization, s.CreateOrganization, service.Rule[orgapi.CreateOrganizationRequest]{Action: "organizations:CreateOrganization"})
	service.Handle(r, orgapi.OpDescribeOrganization, s.DescribeOrganization, service.Rule[awsproto.Empty]{Action: "organizations:DescribeOrganization"})
	service.Handle(r, orgapi.OpDeleteOrganization, s.DeleteOrganization, service.Rule[awsproto.Empty]{Action: "organizations:DeleteOrganization"})
	service.Handle(r, orgapi.OpListRoots, s.ListRoots, service.Rule[orgapi.ListRootsRequest]{Action: "organizations:ListRoots"})

	// Organizational units.
	service.Handle(r, orgapi.OpCreateOrganizationalUnit, s.CreateOrganizationalUnit, service.Rule[orgapi.CreateOrganizationalUnitRequest]{Action: "organizations:CreateOrganizationalUnit", Resources: on(s, func(in *orgapi.CreateOrganizationalUnitRequest) []*string { return ids(in.ParentId) }), Context: requestTags(func(in *orgapi.CreateOrganizationalUnitRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpUpdateOrganizationalUnit, s.UpdateOrganizationalUnit, service.Rule[orgapi.UpdateOrganizationalUnitRequest]{Action: "organizations:UpdateOrganizationalUnit", Resources: on(s, func(in *orgapi.UpdateOrganizationalUnitRequest) []*string { return ids(in.OrganizationalUnitId) })})
	service.Handle(r, orgapi.OpDeleteOrganizationalUnit, s.DeleteOrganizationalUnit, service.Rule[orgapi.DeleteOrganizationalUnitRequest]{Action: "organizations:DeleteOrganizationalUnit", Resources: on(s, func(in *orgapi.DeleteOrganizationalUnitRequest) []*string { return ids(in.OrganizationalUnitId) })})
	service.Handle(r, orgapi.OpDescribeOrganizationalUnit, s.DescribeOrganizationalUnit, service.Rule[orgapi.DescribeOrganizationalUnitRequest]{Action: "organizations:DescribeOrganizationalUnit", Resources: on(s, func(in *orgapi.DescribeOrganizationalUnitRequest) []*string { return ids(in.OrganizationalUnitId) })})
	service.Handle(r, orgapi.OpListOrganizationalUnitsForParent, s.ListOrganizationalUnitsForParent, service.Rule[orgapi.ListOrganizationalUnitsForParentRequest]{Action: "organizations:ListOrganizationalUnitsForParent", Resources: on(s, func(in *orgapi.ListOrganizationalUnitsForParentRequest) []*string { return ids(in.ParentId) })})
	service.Handle(r, orgapi.OpListChildren, s.ListChildren, service.Rule[orgapi.ListChildrenRequest]{Action: "organizations:ListChildren", Resources: on(s, func(in *orgapi.ListChildrenRequest) []*string { return ids(in.ParentId) })})
	service.Handle(r, orgapi.OpListParents, s.ListParents, service.Rule[orgapi.ListParentsRequest]{Action: "organizations:ListParents", Resources: on(s, func(in *orgapi.ListParentsRequest) []*string { return ids(in.ChildId) })})

	// Accounts.
	service.Handle(r, orgapi.OpCreateAccount, s.CreateAccount, service.Rule[orgapi.CreateAccountRequest]{Action: "organizations:CreateAccount", Context: requestTags(func(in *orgapi.CreateAccountRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpDescribeCreateAccountStatus, s.DescribeCreateAccountStatus, service.Rule[orgapi.DescribeCreateAccountStatusRequest]{Action: "organizations:DescribeCreateAccountStatus"})
	service.Handle(r, orgapi.OpListCreateAccountStatus, s.ListCreateAccountStatus, service.Rule[orgapi.ListCreateAccountStatusRequest]{Action: "organizations:ListCreateAccountStatus"})
	service.Handle(r, orgapi.OpListAccounts, s.ListAccounts, service.Rule[orgapi.ListAccountsRequest]{Action: "organizations:ListAccounts"})
	service.Handle(r, orgapi.OpListAccountsForParent, s.ListAccountsForParent, service.Rule[orgapi.ListAccountsForParentRequest]{Action: "organizations:ListAccountsForParent", Resources: on(s, func(in *orgapi.ListAccountsForParentRequest) []*string { return ids(in.ParentId) })})
	service.Handle(r, orgapi.OpDescribeAccount, s.DescribeAccount, service.Rule[orgapi.DescribeAccountRequest]{Action: "organizations:DescribeAccount", Resources: on(s, func(in *orgapi.DescribeAccountRequest) []*string { return ids(in.AccountId) })})
	service.Handle(r, orgapi.OpMoveAccount, s.MoveAccount, service.Rule[orgapi.MoveAccountRequest]{Action: "organizations:MoveAccount", Resources: on(s, func(in *orgapi.MoveAccountRequest) []*string {
		return ids(in.AccountId, in.SourceParentId, in.DestinationParentId)
	})})
	service.Handle(r, orgapi.OpRemoveAccountFromOrganization, s.RemoveAccountFromOrganization, service.Rule[orgapi.RemoveAccountFromOrganizationRequest]{Action: "organizations:RemoveAccountFromOrganization", Resources: on(s, func(in *orgapi.RemoveAccountFromOrganizationRequest) []*string { return ids(in.AccountId) })})
	service.Handle(r, orgapi.OpLeaveOrganization, s.LeaveOrganization, service.Rule[awsproto.Empty]{Action: "organizations:LeaveOrganization"})
	service.Handle(r, orgapi.OpCreateGovCloudAccount, s.CreateGovCloudAccount, service.Rule[orgapi.CreateGovCloudAccountRequest]{Action: "organizations:CreateGovCloudAccount", Context: requestTags(func(in *orgapi.CreateGovCloudAccountRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpCloseAccount, s.CloseAccount, service.Rule[orgapi.CloseAccountRequest]{Action: "organizations:CloseAccount", Resources: on(s, func(in *orgapi.CloseAccountRequest) []*string { return ids(in.AccountId) })})

	// Policies.
	service.Handle(r, orgapi.OpEnablePolicyType, s.EnablePolicyType, service.Rule[orgapi.EnablePolicyTypeRequest]{Action: "organizations:EnablePolicyType", Resources: on(s, func(in *orgapi.EnablePolicyTypeRequest) []*string { return ids(in.RootId) })})
	service.Handle(r, orgapi.OpDisablePolicyType, s.DisablePolicyType, service.Rule[orgapi.DisablePolicyTypeRequest]{Action: "organizations:DisablePolicyType", Resources: on(s, func(in *orgapi.DisablePolicyTypeRequest) []*string { return ids(in.RootId) })})
	service.Handle(r, orgapi.OpCreatePolicy, s.CreatePolicy, service.Rule[orgapi.CreatePolicyRequest]{Action: "organizations:CreatePolicy", Context: requestTags(func(in *orgapi.CreatePolicyRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpUpdatePolicy, s.UpdatePolicy, service.Rule[orgapi.UpdatePolicyRequest]{Action: "organizations:UpdatePolicy", Resources: on(s, func(in *orgapi.UpdatePolicyRequest) []*string { return ids(in.PolicyId) })})
	service.Handle(r, orgapi.OpDeletePolicy, s.DeletePolicy, service.Rule[orgapi.DeletePolicyRequest]{Action: "organizations:DeletePolicy", Resources: on(s, func(in *orgapi.DeletePolicyRequest) []*string { return ids(in.PolicyId) })})
	service.Handle(r, orgapi.OpDescribePolicy, s.DescribePolicy, service.Rule[orgapi.DescribePolicyRequest]{Action: "organizations:DescribePolicy", Resources: on(s, func(in *orgapi.DescribePolicyRequest) []*string { return ids(in.PolicyId) })})
	service.Handle(r, orgapi.OpListPolicies, s.ListPolicies, service.Rule[orgapi.ListPoliciesRequest]{Action: "organizations:ListPolicies"})
	service.Handle(r, orgapi.OpAttachPolicy, s.AttachPolicy, service.Rule[orgapi.AttachPolicyRequest]{Action: "organizations:AttachPolicy", Resources: on(s, func(in *orgapi.AttachPolicyRequest) []*string { return ids(in.PolicyId, in.TargetId) })})
	service.Handle(r, orgapi.OpDetachPolicy, s.DetachPolicy, service.Rule[orgapi.DetachPolicyRequest]{Action: "organizations:DetachPolicy", Resources: on(s, func(in *orgapi.DetachPolicyRequest) []*string { return ids(in.PolicyId, in.TargetId) })})
	service.Handle(r, orgapi.OpListPoliciesForTarget, s.ListPoliciesForTarget, service.Rule[orgapi.ListPoliciesForTargetRequest]{Action: "organizations:ListPoliciesForTarget", Resources: on(s, func(in *orgapi.ListPoliciesForTargetRequest) []*string { return ids(in.TargetId) })})
	service.Handle(r, orgapi.OpListTargetsForPolicy, s.ListTargetsForPolicy, service.Rule[orgapi.ListTargetsForPolicyRequest]{Action: "organizations:ListTargetsForPolicy", Resources: on(s, func(in *orgapi.ListTargetsForPolicyRequest) []*string { return ids(in.PolicyId) })})
	service.Handle(r, orgapi.OpDescribeEffectivePolicy, s.DescribeEffectivePolicy, service.Rule[orgapi.DescribeEffectivePolicyRequest]{Action: "organizations:DescribeEffectivePolicy", Resources: on(s, func(in *orgapi.DescribeEffectivePolicyRequest) []*string { return ids(in.TargetId) })})

	// Effective policy validation (always valid in rampart: see effective_validation.go).
	service.Handle(r, orgapi.OpListAccountsWithInvalidEffectivePolicy, s.ListAccountsWithInvalidEffectivePolicy, service.Rule[orgapi.ListAccountsWithInvalidEffectivePolicyRequest]{Action: "organizations:ListAccountsWithInvalidEffectivePolicy"})
	service.Handle(r, orgapi.OpListEffectivePolicyValidationErrors, s.ListEffectivePolicyValidationErrors, service.Rule[orgapi.ListEffectivePolicyValidationErrorsRequest]{Action: "organizations:ListEffectivePolicyValidationErrors", Resources: on(s, func(in *orgapi.ListEffectivePolicyValidationErrorsRequest) []*string { return ids(in.AccountId) })})

	// Feature set and trusted access for AWS services.
	service.Handle(r, orgapi.OpEnableAllFeatures, s.EnableAllFeatures, service.Rule[orgapi.EnableAllFeaturesRequest]{Action: "organizations:EnableAllFeatures"})
	service.Handle(r, orgapi.OpEnableAWSServiceAccess, s.EnableAWSServiceAccess, service.Rule[orgapi.EnableAWSServiceAccessRequest]{Action: "organizations:EnableAWSServiceAccess", Context: servicePrincipal(func(in *orgapi.EnableAWSServiceAccessRequest) *string { return in.ServicePrincipal })})
	service.Handle(r, orgapi.OpDisableAWSServiceAccess, s.DisableAWSServiceAccess, service.Rule[orgapi.DisableAWSServiceAccessRequest]{Action: "organizations:DisableAWSServiceAccess", Context: servicePrincipal(func(in *orgapi.DisableAWSServiceAccessRequest) *string { return in.ServicePrincipal })})
	service.Handle(r, orgapi.OpListAWSServiceAccessForOrganization, s.ListAWSServiceAccessForOrganization, service.Rule[orgapi.ListAWSServiceAccessForOrganizationRequest]{Action: "organizations:ListAWSServiceAccessForOrganization"})

	// The organization's resource policy.
	service.Handle(r, orgapi.OpPutResourcePolicy, s.PutResourcePolicy, service.Rule[orgapi.PutResourcePolicyRequest]{Action: "organizations:PutResourcePolicy", Context: requestTags(func(in *orgapi.PutResourcePolicyRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpDescribeResourcePolicy, s.DescribeResourcePolicy, service.Rule[awsproto.Empty]{Action: "organizations:DescribeResourcePolicy"})
	service.Handle(r, orgapi.OpDeleteResourcePolicy, s.DeleteResourcePolicy, service.Rule[awsproto.Empty]{Action: "organizations:DeleteResourcePolicy"})

	// Tags on accounts, OUs, the root and policies.
	service.Handle(r, orgapi.OpTagResource, s.TagResource, service.Rule[orgapi.TagResourceRequest]{Action: "organizations:TagResource", Resources: on(s, func(in *orgapi.TagResourceRequest) []*string { return ids(in.ResourceId) }), Context: requestTags(func(in *orgapi.TagResourceRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpUntagResource, s.UntagResource, service.Rule[orgapi.UntagResourceRequest]{Action: "organizations:UntagResource", Resources: on(s, func(in *orgapi.UntagResourceRequest) []*string { return ids(in.ResourceId) }), Context: func(_ *service.Call, in *orgapi.UntagResourceRequest, keys map[string][]string) {
		keys["aws:TagKeys"] = in.TagKeys
	}})
	service.Handle(r, orgapi.OpListTagsForResource, s.ListTagsForResource, service.Rule[orgapi.ListTagsForResourceRequest]{Action: "organizations:ListTagsForResource", Resources: on(s, func(in *orgapi.ListTagsForResourceRequest) []*string { return ids(in.ResourceId) })})

	// Delegated administrators.
	service.Handle(r, orgapi.OpRegisterDelegatedAdministrator, s.RegisterDelegatedAdministrator, service.Rule[orgapi.RegisterDelegatedAdministratorRequest]{Action: "organizations:RegisterDelegatedAdministrator", Resources: on(s, func(in *orgapi.RegisterDelegatedAdministratorRequest) []*string { return ids(in.AccountId) })})
	service.Handle(r, orgapi.OpDeregisterDelegatedAdministrator, s.DeregisterDelegatedAdministrator, service.Rule[orgapi.DeregisterDelegatedAdministratorRequest]{Action: "organizations:DeregisterDelegatedAdministrator", Resources: on(s, func(in *orgapi.DeregisterDelegatedAdministratorRequest) []*string { return ids(in.AccountId) })})
	service.Handle(r, orgapi.OpListDelegatedAdministrators, s.ListDelegatedAdministrators, service.Rule[orgapi.ListDelegatedAdministratorsRequest]{Action: "organizations:ListDelegatedAdministrators"})
	service.Handle(r, orgapi.OpListDelegatedServicesForAccount, s.ListDelegatedServicesForAccount, service.Rule[orgapi.ListDelegatedServicesForAccountRequest]{Action: "organizations:ListDelegatedServicesForAccount", Resources: on(s, func(in *orgapi.ListDelegatedServicesForAccountRequest) []*string { return ids(in.AccountId) })})

	// Invitations.
	service.Handle(r, orgapi.OpInviteAccountToOrganization, s.InviteAccountToOrganization, service.Rule[orgapi.InviteAccountToOrganizationRequest]{Action: "organizations:InviteAccountToOrganization", Context: requestTags(func(in *orgapi.InviteAccountToOrganizationRequest) []orgapi.Tag { return in.Tags })})
	service.Handle(r, orgapi.OpAcceptHandshake, s.AcceptHandshake, service.Rule[orgapi.AcceptHandshakeRequest]{Action: "organizations:AcceptHandshake"})
	service.Handle(r, orgapi.OpDeclineHandshake, s.DeclineHandshake, service.Rule[orgapi.DeclineHandshakeRequest]{Action: "organizations:DeclineHandshake"})
	service.Handle(r, orgapi.OpCancelHandshake, s.CancelHandshake, service.Rule[orgapi.CancelHandshakeRequest]{Action: "organizations:CancelHandshake"})
	service.Handle(r, orgapi.OpDescribeHandshake, s.DescribeHandshake, service.Rule[orgapi.DescribeHandshakeRequest]{Action: "organizations:DescribeHandshake"})
	service.Handle(r, orgapi.OpListHandshakesForAccount, s.ListHandshakesForAccount, service.Rule[orgapi.ListHandshakesForAccountRequest]{Action: "organizations:ListHandshakesForAccount"})
	service.Handle(r, orgapi.OpListHandshakesForOrganization, s.ListHandshakesForOrganization, service.Rule[orgapi.ListHandshakesForOrganizationRequest]{Action: "organizations:ListHandshakesForOrganization"})
}

// requestTags sets aws:RequestTag/… and aws:TagKeys from the tags a create
// call carries.
func requestTags[I any](tags func(*I) []orgapi.Tag) func(c *service.Call, in *I, keys map[string][]string) {
	return func(_ *service.Call, in *I, keys map[string][]string) {
		for _, t := range tags(in) {
			keys["aws:TagKeys"] = append(keys["aws:TagKeys"], str(t.Key))
			keys["aws:RequestTag/"+str(t.Key)] = []string{str(t.Value)}
		}
	}
}

// servicePrincipal sets organizations:ServicePrincipal, the condition key
// of the operations that name an AWS service.
func servicePrincipal[I any](p func(*I) *string) func(c *service.Call, in *I, keys map[string][]string) {
	return func(_ *service.Call, in *I, keys map[string][]string) {
		if v := p(in); v != nil {
			keys["organizations:ServicePrincipal"] = []string{*v}
		}
	}
}
