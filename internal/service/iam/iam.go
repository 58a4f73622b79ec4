// Package iam serves AWS Identity and Access Management: users, groups,
// roles, managed and inline policies, access keys, permissions boundaries
// and tags, login profiles and virtual MFA devices (with their QR code),
// instance profiles, OIDC and SAML identity providers (read by STS through
// [Service.OIDCProvider] and [Service.SAMLProvider]), signing certificates,
// SSH public keys, server certificates (private keys sealed), the
// credential report, service last accessed data (from the audit trail) and
// the policy simulator, kept in the store; and it is the [authz.Identities]
// source the authorizer asks, on every request of every service, for the
// policies of the caller (answered from memory, invalidated by the store on
// every committed IAM change). [Service.KeyUsed] records access key use off
// the request path.
//
// IAM is global: resources are arn:aws:iam::<account>:user/<path><name>
// and alike, and each caller acts on its own account.
package iam

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Service is the IAM service.
type Service struct {
	store   store.Store
	barrier *barrier.Barrier
	cancel  func()

	mu    sync.RWMutex
	gen   uint64            // bumped on every committed IAM change
	cache map[string]cached // "<acct>/<kind>/<lower name>" → policies
	docs  map[parsedKey]*policy.Policy

	uses keyUses    // access key uses not yet written (see KeyUsed)
	mfa  mfaLimiter // failed MFA codes per device (see mfa_limit.go)

	// flushAudit, when set, makes the calls answered so far readable in the
	// audit trail (audit.Writer.Flush) before last-accessed data is read.
	flushAudit func(context.Context) error
}

// ReadsAuditTrail tells the service how to make the calls answered so far
// readable in the audit trail before it reads it (the records of reads are
// queued; see internal/audit).
func (s *Service) ReadsAuditTrail(flush func(context.Context) error) { s.flushAudit = flush }

// New returns the IAM service over st, sealing secrets with b. With a nil
// store (listing the served operations) it serves nothing.
func New(st store.Store, b *barrier.Barrier) *Service {
	s := &Service{store: st, barrier: b, cache: map[string]cached{}, docs: map[parsedKey]*policy.Policy{}}
	if st != nil {
		s.cancel = st.Subscribe(s.invalidate)
	}
	return s
}

// Close writes the access key uses not yet written and stops listening
// to the store.
func (s *Service) Close() {
	if s == nil {
		return
	}
	s.stopUses()
	if s.cancel != nil {
		s.cancel()
	}
}

var _ authz.Identities = (*Service)(nil)

type awsEmpty = awsproto.Empty

func empty(err error) (*awsEmpty, error) {
	if err != nil {
		return nil, err
	}
	return &awsEmpty{}, nil
}

func validation(msg string) error {
	return &awsproto.Error{Code: awsproto.CodeValidation, Status: 400, Sender: true, Message: msg}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Rules. IAM's resource for an operation on an entity is the entity's ARN
// with its path ("Actions, resources, and condition keys for AWS Identity
// and Access Management"); list operations act on the path prefix
// (arn:aws:iam::<acct>:user/ for ListUsers), and account-level operations
// on "*".

// entityResource returns a rule's Resource func for the user, group or
// role the input names: its ARN with its path and its tags (for
// aws:ResourceTag/… and iam:ResourceTag/…). An entity that does not exist
// still gets its path-less ARN, so that an unauthorized caller learns
// nothing of what exists.
func entityResource[I any](s *Service, kind string, name func(c *service.Call, in *I) string) func(context.Context, *service.Call, *I) (*authz.Resource, error) {
	return func(ctx context.Context, c *service.Call, in *I) (*authz.Resource, error) {
		acct := c.Principal.Account
		n := name(c, in)
		res := &authz.Resource{ARN: entityARN(acct, kind, "/", n), Account: acct}
		err := s.store.View(ctx, func(tx store.Tx) error {
			var e entity
			ok, err := getJSON(tx, tableOf(kind), entityKey(acct, n), &e)
			if err != nil || !ok {
				return err
			}
			res.ARN = e.ARN
			res.Tags = tagMap(e.Tags)
			return nil
		})
		return res, err
	}
}

// callerUser is the user an access-key or self-service operation acts on:
// the one named, else the calling user.
func callerUser(c *service.Call, name *string) string {
	if name != nil {
		return *name
	}
	if c.Principal.Type == authz.IAMUser {
		return c.Principal.Name
	}
	return ""
}

func listARN(c *service.Call, kind string, prefix *string) []string {
	return []string{"arn:aws:iam::" + c.Principal.Account + ":" + kind + pathOr(prefix)}
}

func newARN(c *service.Call, kind string, path, name *string) []string {
	return []string{entityARN(c.Principal.Account, kind, pathOr(path), str(name))}
}

func policyARN(arn *string) []string { return []string{str(arn)} }

// Register lists the operations IAM serves, each with its authorization rule.
func (s *Service) Register(r *service.Registry) {
	type R = service.Call

	// Users.
	service.Handle(r, iamapi.OpCreateUser, s.CreateUser, service.Rule[iamapi.CreateUserRequest]{Action: "iam:CreateUser",
		Resources: func(c *R, in *iamapi.CreateUserRequest) []string { return newARN(c, kindUser, in.Path, in.UserName) },
		Context: func(c *R, in *iamapi.CreateUserRequest, k map[string][]string) {
			requestTags(in.Tags, k)
			if in.PermissionsBoundary != nil {
				k["iam:PermissionsBoundary"] = []string{*in.PermissionsBoundary}
			}
		}})
	service.Handle(r, iamapi.OpGetUser, s.GetUser, service.Rule[iamapi.GetUserRequest]{Action: "iam:GetUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.GetUserRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpListUsers, s.ListUsers, service.Rule[iamapi.ListUsersRequest]{Action: "iam:ListUsers",
		Resources: func(c *R, in *iamapi.ListUsersRequest) []string { return listARN(c, kindUser, in.PathPrefix) }})
	service.Handle(r, iamapi.OpUpdateUser, s.UpdateUser, service.Rule[iamapi.UpdateUserRequest]{Action: "iam:UpdateUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UpdateUserRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpDeleteUser, s.DeleteUser, service.Rule[iamapi.DeleteUserRequest]{Action: "iam:DeleteUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteUserRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpTagUser, s.TagUser, service.Rule[iamapi.TagUserRequest]{Action: "iam:TagUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.TagUserRequest) string { return str(in.UserName) }),
		Context:  func(c *R, in *iamapi.TagUserRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagUser, s.UntagUser, service.Rule[iamapi.UntagUserRequest]{Action: "iam:UntagUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UntagUserRequest) string { return str(in.UserName) }),
		Context:  func(c *R, in *iamapi.UntagUserRequest, k map[string][]string) { k["aws:TagKeys"] = in.TagKeys }})
	service.Handle(r, iamapi.OpListUserTags, s.ListUserTags, service.Rule[iamapi.ListUserTagsRequest]{Action: "iam:ListUserTags",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListUserTagsRequest) string { return str(in.UserName) })})

	// Access keys.
	service.Handle(r, iamapi.OpCreateAccessKey, s.CreateAccessKey, service.Rule[iamapi.CreateAccessKeyRequest]{Action: "iam:CreateAccessKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.CreateAccessKeyRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpListAccessKeys, s.ListAccessKeys, service.Rule[iamapi.ListAccessKeysRequest]{Action: "iam:ListAccessKeys",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListAccessKeysRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpUpdateAccessKey, s.UpdateAccessKey, service.Rule[iamapi.UpdateAccessKeyRequest]{Action: "iam:UpdateAccessKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UpdateAccessKeyRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpDeleteAccessKey, s.DeleteAccessKey, service.Rule[iamapi.DeleteAccessKeyRequest]{Action: "iam:DeleteAccessKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteAccessKeyRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpGetAccessKeyLastUsed, s.GetAccessKeyLastUsed, service.Rule[iamapi.GetAccessKeyLastUsedRequest]{Action: "iam:GetAccessKeyLastUsed"})

	// Groups.
	service.Handle(r, iamapi.OpCreateGroup, s.CreateGroup, service.Rule[iamapi.CreateGroupRequest]{Action: "iam:CreateGroup",
		Resources: func(c *R, in *iamapi.CreateGroupRequest) []string { return newARN(c, kindGroup, in.Path, in.GroupName) }})
	service.Handle(r, iamapi.OpGetGroup, s.GetGroup, service.Rule[iamapi.GetGroupRequest]{Action: "iam:GetGroup",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.GetGroupRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpListGroups, s.ListGroups, service.Rule[iamapi.ListGroupsRequest]{Action: "iam:ListGroups",
		Resources: func(c *R, in *iamapi.ListGroupsRequest) []string { return listARN(c, kindGroup, in.PathPrefix) }})
	service.Handle(r, iamapi.OpUpdateGroup, s.UpdateGroup, service.Rule[iamapi.UpdateGroupRequest]{Action: "iam:UpdateGroup",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.UpdateGroupRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpDeleteGroup, s.DeleteGroup, service.Rule[iamapi.DeleteGroupRequest]{Action: "iam:DeleteGroup",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.DeleteGroupRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpAddUserToGroup, s.AddUserToGroup, service.Rule[iamapi.AddUserToGroupRequest]{Action: "iam:AddUserToGroup",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.AddUserToGroupRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpRemoveUserFromGroup, s.RemoveUserFromGroup, service.Rule[iamapi.RemoveUserFromGroupRequest]{Action: "iam:RemoveUserFromGroup",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.RemoveUserFromGroupRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpListGroupsForUser, s.ListGroupsForUser, service.Rule[iamapi.ListGroupsForUserRequest]{Action: "iam:ListGroupsForUser",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListGroupsForUserRequest) string { return str(in.UserName) })})

	// Roles.
	service.Handle(r, iamapi.OpCreateRole, s.CreateRole, service.Rule[iamapi.CreateRoleRequest]{Action: "iam:CreateRole",
		Resources: func(c *R, in *iamapi.CreateRoleRequest) []string { return newARN(c, kindRole, in.Path, in.RoleName) },
		Context: func(c *R, in *iamapi.CreateRoleRequest, k map[string][]string) {
			requestTags(in.Tags, k)
			if in.PermissionsBoundary != nil {
				k["iam:PermissionsBoundary"] = []string{*in.PermissionsBoundary}
			}
		}})
	service.Handle(r, iamapi.OpGetRole, s.GetRole, service.Rule[iamapi.GetRoleRequest]{Action: "iam:GetRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.GetRoleRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpListRoles, s.ListRoles, service.Rule[iamapi.ListRolesRequest]{Action: "iam:ListRoles",
		Resources: func(c *R, in *iamapi.ListRolesRequest) []string { return listARN(c, kindRole, in.PathPrefix) }})
	service.Handle(r, iamapi.OpUpdateRole, s.UpdateRole, service.Rule[iamapi.UpdateRoleRequest]{Action: "iam:UpdateRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.UpdateRoleRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpUpdateRoleDescription, s.UpdateRoleDescription, service.Rule[iamapi.UpdateRoleDescriptionRequest]{Action: "iam:UpdateRoleDescription",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.UpdateRoleDescriptionRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpUpdateAssumeRolePolicy, s.UpdateAssumeRolePolicy, service.Rule[iamapi.UpdateAssumeRolePolicyRequest]{Action: "iam:UpdateAssumeRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.UpdateAssumeRolePolicyRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpDeleteRole, s.DeleteRole, service.Rule[iamapi.DeleteRoleRequest]{Action: "iam:DeleteRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.DeleteRoleRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpTagRole, s.TagRole, service.Rule[iamapi.TagRoleRequest]{Action: "iam:TagRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.TagRoleRequest) string { return str(in.RoleName) }),
		Context:  func(c *R, in *iamapi.TagRoleRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagRole, s.UntagRole, service.Rule[iamapi.UntagRoleRequest]{Action: "iam:UntagRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.UntagRoleRequest) string { return str(in.RoleName) }),
		Context:  func(c *R, in *iamapi.UntagRoleRequest, k map[string][]string) { k["aws:TagKeys"] = in.TagKeys }})
	service.Handle(r, iamapi.OpListRoleTags, s.ListRoleTags, service.Rule[iamapi.ListRoleTagsRequest]{Action: "iam:ListRoleTags",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.ListRoleTagsRequest) string { return str(in.RoleName) })})

	// Managed policies.
	service.Handle(r, iamapi.OpCreatePolicy, s.CreatePolicy, service.Rule[iamapi.CreatePolicyRequest]{Action: "iam:CreatePolicy",
		Resources: func(c *R, in *iamapi.CreatePolicyRequest) []string {
			return []string{"arn:aws:iam::" + c.Principal.Account + ":policy" + pathOr(in.Path) + str(in.PolicyName)}
		},
		Context: func(c *R, in *iamapi.CreatePolicyRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpGetPolicy, s.GetPolicy, service.Rule[iamapi.GetPolicyRequest]{Action: "iam:GetPolicy",
		Resources: func(c *R, in *iamapi.GetPolicyRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpListPolicies, s.ListPolicies, service.Rule[iamapi.ListPoliciesRequest]{Action: "iam:ListPolicies"})
	service.Handle(r, iamapi.OpDeletePolicy, s.DeletePolicy, service.Rule[iamapi.DeletePolicyRequest]{Action: "iam:DeletePolicy",
		Resources: func(c *R, in *iamapi.DeletePolicyRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpCreatePolicyVersion, s.CreatePolicyVersion, service.Rule[iamapi.CreatePolicyVersionRequest]{Action: "iam:CreatePolicyVersion",
		Resources: func(c *R, in *iamapi.CreatePolicyVersionRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpGetPolicyVersion, s.GetPolicyVersion, service.Rule[iamapi.GetPolicyVersionRequest]{Action: "iam:GetPolicyVersion",
		Resources: func(c *R, in *iamapi.GetPolicyVersionRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpListPolicyVersions, s.ListPolicyVersions, service.Rule[iamapi.ListPolicyVersionsRequest]{Action: "iam:ListPolicyVersions",
		Resources: func(c *R, in *iamapi.ListPolicyVersionsRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpDeletePolicyVersion, s.DeletePolicyVersion, service.Rule[iamapi.DeletePolicyVersionRequest]{Action: "iam:DeletePolicyVersion",
		Resources: func(c *R, in *iamapi.DeletePolicyVersionRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpSetDefaultPolicyVersion, s.SetDefaultPolicyVersion, service.Rule[iamapi.SetDefaultPolicyVersionRequest]{Action: "iam:SetDefaultPolicyVersion",
		Resources: func(c *R, in *iamapi.SetDefaultPolicyVersionRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpTagPolicy, s.TagPolicy, service.Rule[iamapi.TagPolicyRequest]{Action: "iam:TagPolicy",
		Resources: func(c *R, in *iamapi.TagPolicyRequest) []string { return policyARN(in.PolicyArn) },
		Context:   func(c *R, in *iamapi.TagPolicyRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagPolicy, s.UntagPolicy, service.Rule[iamapi.UntagPolicyRequest]{Action: "iam:UntagPolicy",
		Resources: func(c *R, in *iamapi.UntagPolicyRequest) []string { return policyARN(in.PolicyArn) },
		Context:   func(c *R, in *iamapi.UntagPolicyRequest, k map[string][]string) { k["aws:TagKeys"] = in.TagKeys }})
	service.Handle(r, iamapi.OpListPolicyTags, s.ListPolicyTags, service.Rule[iamapi.ListPolicyTagsRequest]{Action: "iam:ListPolicyTags",
		Resources: func(c *R, in *iamapi.ListPolicyTagsRequest) []string { return policyARN(in.PolicyArn) }})
	service.Handle(r, iamapi.OpListEntitiesForPolicy, s.ListEntitiesForPolicy, service.Rule[iamapi.ListEntitiesForPolicyRequest]{Action: "iam:ListEntitiesForPolicy",
		Resources: func(c *R, in *iamapi.ListEntitiesForPolicyRequest) []string { return policyARN(in.PolicyArn) }})

	// Attachments (iam:PolicyARN names the policy).
	service.Handle(r, iamapi.OpAttachUserPolicy, s.AttachUserPolicy, service.Rule[iamapi.AttachUserPolicyRequest]{Action: "iam:AttachUserPolicy",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.AttachUserPolicyRequest) string { return str(in.UserName) }),
		Context: func(c *R, in *iamapi.AttachUserPolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpDetachUserPolicy, s.DetachUserPolicy, service.Rule[iamapi.DetachUserPolicyRequest]{Action: "iam:DetachUserPolicy",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DetachUserPolicyRequest) string { return str(in.UserName) }),
		Context: func(c *R, in *iamapi.DetachUserPolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpListAttachedUserPolicies, s.ListAttachedUserPolicies, service.Rule[iamapi.ListAttachedUserPoliciesRequest]{Action: "iam:ListAttachedUserPolicies",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListAttachedUserPoliciesRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpAttachGroupPolicy, s.AttachGroupPolicy, service.Rule[iamapi.AttachGroupPolicyRequest]{Action: "iam:AttachGroupPolicy",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.AttachGroupPolicyRequest) string { return str(in.GroupName) }),
		Context: func(c *R, in *iamapi.AttachGroupPolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpDetachGroupPolicy, s.DetachGroupPolicy, service.Rule[iamapi.DetachGroupPolicyRequest]{Action: "iam:DetachGroupPolicy",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.DetachGroupPolicyRequest) string { return str(in.GroupName) }),
		Context: func(c *R, in *iamapi.DetachGroupPolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpListAttachedGroupPolicies, s.ListAttachedGroupPolicies, service.Rule[iamapi.ListAttachedGroupPoliciesRequest]{Action: "iam:ListAttachedGroupPolicies",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.ListAttachedGroupPoliciesRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpAttachRolePolicy, s.AttachRolePolicy, service.Rule[iamapi.AttachRolePolicyRequest]{Action: "iam:AttachRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.AttachRolePolicyRequest) string { return str(in.RoleName) }),
		Context: func(c *R, in *iamapi.AttachRolePolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpDetachRolePolicy, s.DetachRolePolicy, service.Rule[iamapi.DetachRolePolicyRequest]{Action: "iam:DetachRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.DetachRolePolicyRequest) string { return str(in.RoleName) }),
		Context: func(c *R, in *iamapi.DetachRolePolicyRequest, k map[string][]string) {
			k["iam:PolicyARN"] = policyARN(in.PolicyArn)
		}})
	service.Handle(r, iamapi.OpListAttachedRolePolicies, s.ListAttachedRolePolicies, service.Rule[iamapi.ListAttachedRolePoliciesRequest]{Action: "iam:ListAttachedRolePolicies",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.ListAttachedRolePoliciesRequest) string { return str(in.RoleName) })})

	// Inline policies.
	service.Handle(r, iamapi.OpPutUserPolicy, s.PutUserPolicy, service.Rule[iamapi.PutUserPolicyRequest]{Action: "iam:PutUserPolicy",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.PutUserPolicyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpGetUserPolicy, s.GetUserPolicy, service.Rule[iamapi.GetUserPolicyRequest]{Action: "iam:GetUserPolicy",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.GetUserPolicyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpDeleteUserPolicy, s.DeleteUserPolicy, service.Rule[iamapi.DeleteUserPolicyRequest]{Action: "iam:DeleteUserPolicy",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteUserPolicyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpListUserPolicies, s.ListUserPolicies, service.Rule[iamapi.ListUserPoliciesRequest]{Action: "iam:ListUserPolicies",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListUserPoliciesRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpPutGroupPolicy, s.PutGroupPolicy, service.Rule[iamapi.PutGroupPolicyRequest]{Action: "iam:PutGroupPolicy",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.PutGroupPolicyRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpGetGroupPolicy, s.GetGroupPolicy, service.Rule[iamapi.GetGroupPolicyRequest]{Action: "iam:GetGroupPolicy",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.GetGroupPolicyRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpDeleteGroupPolicy, s.DeleteGroupPolicy, service.Rule[iamapi.DeleteGroupPolicyRequest]{Action: "iam:DeleteGroupPolicy",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.DeleteGroupPolicyRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpListGroupPolicies, s.ListGroupPolicies, service.Rule[iamapi.ListGroupPoliciesRequest]{Action: "iam:ListGroupPolicies",
		Resource: entityResource(s, kindGroup, func(c *R, in *iamapi.ListGroupPoliciesRequest) string { return str(in.GroupName) })})
	service.Handle(r, iamapi.OpPutRolePolicy, s.PutRolePolicy, service.Rule[iamapi.PutRolePolicyRequest]{Action: "iam:PutRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.PutRolePolicyRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpGetRolePolicy, s.GetRolePolicy, service.Rule[iamapi.GetRolePolicyRequest]{Action: "iam:GetRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.GetRolePolicyRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpDeleteRolePolicy, s.DeleteRolePolicy, service.Rule[iamapi.DeleteRolePolicyRequest]{Action: "iam:DeleteRolePolicy",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.DeleteRolePolicyRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpListRolePolicies, s.ListRolePolicies, service.Rule[iamapi.ListRolePoliciesRequest]{Action: "iam:ListRolePolicies",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.ListRolePoliciesRequest) string { return str(in.RoleName) })})

	// Permissions boundaries (iam:PermissionsBoundary names the policy).
	service.Handle(r, iamapi.OpPutUserPermissionsBoundary, s.PutUserPermissionsBoundary, service.Rule[iamapi.PutUserPermissionsBoundaryRequest]{Action: "iam:PutUserPermissionsBoundary",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.PutUserPermissionsBoundaryRequest) string { return str(in.UserName) }),
		Context: func(c *R, in *iamapi.PutUserPermissionsBoundaryRequest, k map[string][]string) {
			k["iam:PermissionsBoundary"] = []string{str(in.PermissionsBoundary)}
		}})
	service.Handle(r, iamapi.OpDeleteUserPermissionsBoundary, s.DeleteUserPermissionsBoundary, service.Rule[iamapi.DeleteUserPermissionsBoundaryRequest]{Action: "iam:DeleteUserPermissionsBoundary",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteUserPermissionsBoundaryRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpPutRolePermissionsBoundary, s.PutRolePermissionsBoundary, service.Rule[iamapi.PutRolePermissionsBoundaryRequest]{Action: "iam:PutRolePermissionsBoundary",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.PutRolePermissionsBoundaryRequest) string { return str(in.RoleName) }),
		Context: func(c *R, in *iamapi.PutRolePermissionsBoundaryRequest, k map[string][]string) {
			k["iam:PermissionsBoundary"] = []string{str(in.PermissionsBoundary)}
		}})
	service.Handle(r, iamapi.OpDeleteRolePermissionsBoundary, s.DeleteRolePermissionsBoundary, service.Rule[iamapi.DeleteRolePermissionsBoundaryRequest]{Action: "iam:DeleteRolePermissionsBoundary",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.DeleteRolePermissionsBoundaryRequest) string { return str(in.RoleName) })})

	s.registerAccount(r)
	s.registerOIDC(r)
	s.registerSAML(r)
	s.registerReports(r)
	s.registerUserKeys(r)
	s.registerAccessAdvisor(r)
	s.registerInstanceProfiles(r)
	s.registerServerCerts(r)
	s.registerMFAExtras(r)
}
