package iam

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// tableAlias makes account aliases unique across accounts.
const tableAlias = "iam.alias" // <alias> → account id

// accountSettings is the account-wide IAM configuration.
type accountSettings struct {
	Alias          string          `json:"alias,omitempty"`
	PasswordPolicy *passwordPolicy `json:"passwordPolicy,omitempty"`
}

func getSettings(tx store.Tx, acct string) (*accountSettings, error) {
	var a accountSettings
	_, err := getJSON(tx, tableAccount, acct, &a)
	return &a, err
}

func (s *Service) registerAccount(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpGetAccountSummary, s.GetAccountSummary, service.Rule[awsEmpty]{Action: "iam:GetAccountSummary"})
	service.Handle(r, iamapi.OpCreateAccountAlias, s.CreateAccountAlias, service.Rule[iamapi.CreateAccountAliasRequest]{Action: "iam:CreateAccountAlias"})
	service.Handle(r, iamapi.OpDeleteAccountAlias, s.DeleteAccountAlias, service.Rule[iamapi.DeleteAccountAliasRequest]{Action: "iam:DeleteAccountAlias"})
	service.Handle(r, iamapi.OpListAccountAliases, s.ListAccountAliases, service.Rule[iamapi.ListAccountAliasesRequest]{Action: "iam:ListAccountAliases"})
	service.Handle(r, iamapi.OpGetAccountAuthorizationDetails, s.GetAccountAuthorizationDetails, service.Rule[iamapi.GetAccountAuthorizationDetailsRequest]{Action: "iam:GetAccountAuthorizationDetails"})
	service.Handle(r, iamapi.OpSimulatePrincipalPolicy, s.SimulatePrincipalPolicy, service.Rule[iamapi.SimulatePrincipalPolicyRequest]{Action: "iam:SimulatePrincipalPolicy",
		Resources: func(c *R, in *iamapi.SimulatePrincipalPolicyRequest) []string {
			return []string{str(in.PolicySourceArn)}
		}})
	service.Handle(r, iamapi.OpSimulateCustomPolicy, s.SimulateCustomPolicy, service.Rule[iamapi.SimulateCustomPolicyRequest]{Action: "iam:SimulateCustomPolicy"})
	s.registerCredentials(r)
}

// GetAccountSummary counts the account's IAM entities next to IAM's quotas.
func (s *Service) GetAccountSummary(ctx context.Context, _ *awsEmpty) (*iamapi.GetAccountSummaryResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	m := map[string]int32{
		"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
		"PolicyVersionsInUseQuota": 10000, "ServerCertificatesQuota": 20, "UserPolicySizeQuota": 2048,
		"GroupPolicySizeQuota": 5120, "GroupsPerUserQuota": maxGroupsPerUser, "SigningCertificatesPerUserQuota": 2,
		"AccessKeysPerUserQuota": maxAccessKeys, "AttachedPoliciesPerGroupQuota": maxAttached,
		"AttachedPoliciesPerRoleQuota": maxAttached, "AttachedPoliciesPerUserQuota": maxAttached,
		"PolicySizeQuota": 6144, "VersionsPerPolicyQuota": maxPolicyVersions, "AssumeRolePolicySizeQuota": 2048,
		"InstanceProfilesQuota": 1000, "GlobalEndpointTokenVersion": 1, "AccountSigningCertificatesPresent": 0,
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		for key, table := range map[string]string{"Users": tableUser, "Groups": tableGroup, "Roles": tableRole, "Policies": tablePolicy,
			"InstanceProfiles": tableInstanceProfile, "ServerCertificates": tableServerCert} {
			n, err := tx.Count(table, acct+"/")
			if err != nil {
				return err
			}
			m[key] = int32(n)
		}
		// Policy versions in use: every version of the account's policies
		// plus the attached AWS managed ones.
		kvs, err := tx.Scan(tablePolicy, acct+"/", "", 0)
		if err != nil {
			return err
		}
		n := 0
		for _, kv := range kvs {
			var p managedPolicy
			if err := json.Unmarshal(kv.Value, &p); err != nil {
				return err
			}
			n += len(p.Versions)
		}
		counts, err := attachmentCounts(tx, acct)
		if err != nil {
			return err
		}
		for arn := range counts {
			if _, ok := awsPolicy(arn); ok {
				n++
			}
		}
		m["PolicyVersionsInUse"] = int32(n)
		providers := 0
		for _, table := range []string{tableOIDC, tableSAML} {
			c, err := tx.Count(table, acct+"/")
			if err != nil {
				return err
			}
			providers += c
		}
		m["Providers"] = int32(providers)
		mfa, inUse, err := s.mfaCounts(tx, acct)
		if err != nil {
			return err
		}
		m["MFADevices"], m["MFADevicesInUse"] = int32(mfa), int32(inUse)
		m["AccountMFAEnabled"] = 0
		var a authn.Account
		if ok, err := getJSON(tx, authn.TableAccount, acct, &a); err != nil {
			return err
		} else if ok && a.RootKeyID != "" {
			m["AccountAccessKeysPresent"] = 1
		} else {
			m["AccountAccessKeysPresent"] = 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetAccountSummaryResponse{SummaryMap: m}, nil
}

// CreateAccountAlias sets the account's alias (one per account, unique
// across accounts).
func (s *Service) CreateAccountAlias(ctx context.Context, in *iamapi.CreateAccountAliasRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	alias := str(in.AccountAlias)
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Insert(tableAlias, alias, []byte(acct)); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("The account alias %s already exists.", alias)
			}
			return err
		}
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		if a.Alias != "" {
			if _, err := tx.Delete(tableAlias, a.Alias); err != nil {
				return err
			}
		}
		a.Alias = alias
		return putJSON(tx, tableAccount, acct, a)
	}))
}

// DeleteAccountAlias removes the account's alias.
func (s *Service) DeleteAccountAlias(ctx context.Context, in *iamapi.DeleteAccountAliasRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		if a.Alias != str(in.AccountAlias) {
			return iamapi.NewNoSuchEntityException("The account alias %s cannot be found.", str(in.AccountAlias))
		}
		if _, err := tx.Delete(tableAlias, a.Alias); err != nil {
			return err
		}
		a.Alias = ""
		return putJSON(tx, tableAccount, acct, a)
	}))
}

// ListAccountAliases lists the account's alias (none or one).
func (s *Service) ListAccountAliases(ctx context.Context, in *iamapi.ListAccountAliasesRequest) (*iamapi.ListAccountAliasesResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var a *accountSettings
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = getSettings(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListAccountAliasesResponse{AccountAliases: []string{}, IsTruncated: ptr(false)}
	if a.Alias != "" {
		out.AccountAliases = append(out.AccountAliases, a.Alias)
	}
	return out, nil
}

func inlineDetails(ps []inline) []iamapi.PolicyDetail {
	out := make([]iamapi.PolicyDetail, 0, len(ps))
	for _, p := range ps {
		out = append(out, iamapi.PolicyDetail{PolicyName: ptr(p.Name), PolicyDocument: encodeDoc(p.Doc)})
	}
	return out
}

func attachedList(arns []string) []iamapi.AttachedPolicy {
	out := make([]iamapi.AttachedPolicy, 0, len(arns))
	for _, a := range arns {
		_, _, name, _ := policyARNParts(a)
		out = append(out, iamapi.AttachedPolicy{PolicyName: ptr(name), PolicyArn: ptr(a)})
	}
	return out
}

// GetAccountAuthorizationDetails returns every user, group, role and
// managed policy in use, with their policies, in one listing.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *iamapi.GetAccountAuthorizationDetailsRequest) (*iamapi.GetAccountAuthorizationDetailsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	want := func(t iamapi.EntityType) bool { return len(in.Filter) == 0 || slices.Contains(in.Filter, t) }
	type item struct {
		user, group, role *entity
		pol               *managedPolicy
		profiles          []iamapi.InstanceProfile
	}
	var items []item
	counts := map[string][2]int32{}
	err := s.store.View(ctx, func(tx store.Tx) error {
		for _, k := range []struct {
			kind string
			t    iamapi.EntityType
		}{{kindUser, iamapi.EntityTypeUser}, {kindGroup, iamapi.EntityTypeGroup}, {kindRole, iamapi.EntityTypeRole}} {
			if !want(k.t) {
				continue
			}
			es, err := scanEntities(tx, k.kind, acct)
			if err != nil {
				return err
			}
			sortByName(es)
			for _, e := range es {
				switch k.kind {
				case kindUser:
					items = append(items, item{user: e})
				case kindGroup:
					items = append(items, item{group: e})
				default:
					ps, err := roleProfiles(tx, acct, e.Name)
					if err != nil {
						return err
					}
					profiles := []iamapi.InstanceProfile{}
					for _, p := range ps {
						ap, err := s.apiProfile(tx, acct, p)
						if err != nil {
							return err
						}
						profiles = append(profiles, ap)
					}
					items = append(items, item{role: e, profiles: profiles})
				}
			}
		}
		all, err := attachmentCounts(tx, acct)
		if err != nil {
			return err
		}
		var ps []*managedPolicy
		if want(iamapi.EntityTypeAwsmanagedpolicy) {
			// AWS managed policies are listed only when in use.
			var used []*awsManaged
			for arn := range all {
				if m, ok := awsPolicy(arn); ok {
					used = append(used, m)
				}
			}
			sort.Slice(used, func(i, j int) bool { return used[i].Name < used[j].Name })
			for _, m := range used {
				p, err := m.withDocs()
				if err != nil {
					return err
				}
				ps = append(ps, p)
			}
		}
		if want(iamapi.EntityTypeLocalmanagedpolicy) {
			kvs, err := tx.Scan(tablePolicy, acct+"/", "", 0)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				var p managedPolicy
				if err := json.Unmarshal(kv.Value, &p); err != nil {
					return err
				}
				ps = append(ps, &p)
			}
		}
		for _, p := range ps {
			counts[p.ARN] = all[p.ARN]
			items = append(items, item{pol: p})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(items, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetAccountAuthorizationDetailsResponse{UserDetailList: []iamapi.UserDetail{}, GroupDetailList: []iamapi.GroupDetail{},
		RoleDetailList: []iamapi.RoleDetail{}, Policies: []iamapi.ManagedPolicyDetail{}, IsTruncated: trunc, Marker: next}
	for _, it := range pg {
		switch {
		case it.user != nil:
			e := it.user
			u := e.apiUser()
			out.UserDetailList = append(out.UserDetailList, iamapi.UserDetail{Path: u.Path, UserName: u.UserName, UserId: u.UserId, Arn: u.Arn,
				CreateDate: u.CreateDate, UserPolicyList: inlineDetails(e.Inline), GroupList: append([]string{}, e.Groups...),
				AttachedManagedPolicies: attachedList(e.Attached), PermissionsBoundary: u.PermissionsBoundary, Tags: u.Tags})
		case it.group != nil:
			e := it.group
			out.GroupDetailList = append(out.GroupDetailList, iamapi.GroupDetail{Path: ptr(e.Path), GroupName: ptr(e.Name), GroupId: ptr(e.ID), Arn: ptr(e.ARN),
				CreateDate: ptr(e.Created), GroupPolicyList: inlineDetails(e.Inline), AttachedManagedPolicies: attachedList(e.Attached)})
		case it.role != nil:
			e := it.role
			r := e.apiRole()
			out.RoleDetailList = append(out.RoleDetailList, iamapi.RoleDetail{Path: r.Path, RoleName: r.RoleName, RoleId: r.RoleId, Arn: r.Arn,
				CreateDate: r.CreateDate, AssumeRolePolicyDocument: r.AssumeRolePolicyDocument, InstanceProfileList: it.profiles,
				RolePolicyList: inlineDetails(e.Inline), AttachedManagedPolicies: attachedList(e.Attached), PermissionsBoundary: r.PermissionsBoundary,
				Tags: r.Tags, RoleLastUsed: r.RoleLastUsed})
		default:
			p := it.pol
			c := counts[p.ARN]
			d := iamapi.ManagedPolicyDetail{PolicyName: ptr(p.Name), PolicyId: ptr(p.ID), Arn: ptr(p.ARN), Path: ptr(p.Path), DefaultVersionId: ptr(p.Default),
				AttachmentCount: ptr(c[0]), PermissionsBoundaryUsageCount: ptr(c[1]), IsAttachable: ptr(true), CreateDate: ptr(p.Created), UpdateDate: ptr(p.Updated)}
			if p.Description != "" {
				d.Description = ptr(p.Description)
			}
			for i := range p.Versions {
				d.PolicyVersionList = append(d.PolicyVersionList, apiVersion(p, &p.Versions[i], true))
			}
			out.Policies = append(out.Policies, d)
		}
	}
	return out, nil
}
