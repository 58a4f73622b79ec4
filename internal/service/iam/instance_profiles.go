package iam

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Instance profiles: containers for one role, as EC2 passes it to an
// instance. Adding a role requires iam:PassRole on it, as in AWS.

const (
	tableInstanceProfile  = "iam.instanceprofile" // <acct>/<lower name> → instanceProfile
	prefixInstanceProfile = "AIPA"
	maxInstanceProfiles   = 1000
	maxRolesPerProfile    = 1
)

type instanceProfile struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Roles   []string  `json:"roles,omitempty"` // role names
	Tags    []tag     `json:"tags,omitempty"`
}

func (s *Service) registerInstanceProfiles(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpCreateInstanceProfile, s.CreateInstanceProfile, service.Rule[iamapi.CreateInstanceProfileRequest]{Action: "iam:CreateInstanceProfile",
		Resources: func(c *R, in *iamapi.CreateInstanceProfileRequest) []string {
			return []string{entityARN(c.Principal.Account, "instance-profile", pathOr(in.Path), str(in.InstanceProfileName))}
		},
		Context: func(c *R, in *iamapi.CreateInstanceProfileRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpGetInstanceProfile, s.GetInstanceProfile, service.Rule[iamapi.GetInstanceProfileRequest]{Action: "iam:GetInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.GetInstanceProfileRequest) string { return str(in.InstanceProfileName) })})
	service.Handle(r, iamapi.OpListInstanceProfiles, s.ListInstanceProfiles, service.Rule[iamapi.ListInstanceProfilesRequest]{Action: "iam:ListInstanceProfiles",
		Resources: func(c *R, in *iamapi.ListInstanceProfilesRequest) []string {
			return listARN(c, "instance-profile", in.PathPrefix)
		}})
	service.Handle(r, iamapi.OpDeleteInstanceProfile, s.DeleteInstanceProfile, service.Rule[iamapi.DeleteInstanceProfileRequest]{Action: "iam:DeleteInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.DeleteInstanceProfileRequest) string { return str(in.InstanceProfileName) })})
	service.Handle(r, iamapi.OpAddRoleToInstanceProfile, s.AddRoleToInstanceProfile, service.Rule[iamapi.AddRoleToInstanceProfileRequest]{Action: "iam:AddRoleToInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.AddRoleToInstanceProfileRequest) string { return str(in.InstanceProfileName) })})
	service.Handle(r, iamapi.OpRemoveRoleFromInstanceProfile, s.RemoveRoleFromInstanceProfile, service.Rule[iamapi.RemoveRoleFromInstanceProfileRequest]{Action: "iam:RemoveRoleFromInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.RemoveRoleFromInstanceProfileRequest) string { return str(in.InstanceProfileName) })})
	service.Handle(r, iamapi.OpListInstanceProfilesForRole, s.ListInstanceProfilesForRole, service.Rule[iamapi.ListInstanceProfilesForRoleRequest]{Action: "iam:ListInstanceProfilesForRole",
		Resource: entityResource(s, kindRole, func(c *R, in *iamapi.ListInstanceProfilesForRoleRequest) string { return str(in.RoleName) })})
	service.Handle(r, iamapi.OpTagInstanceProfile, s.TagInstanceProfile, service.Rule[iamapi.TagInstanceProfileRequest]{Action: "iam:TagInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.TagInstanceProfileRequest) string { return str(in.InstanceProfileName) }),
		Context:  func(c *R, in *iamapi.TagInstanceProfileRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagInstanceProfile, s.UntagInstanceProfile, service.Rule[iamapi.UntagInstanceProfileRequest]{Action: "iam:UntagInstanceProfile",
		Resource: profileResource(s, func(in *iamapi.UntagInstanceProfileRequest) string { return str(in.InstanceProfileName) }),
		Context: func(c *R, in *iamapi.UntagInstanceProfileRequest, k map[string][]string) {
			k["aws:TagKeys"] = in.TagKeys
		}})
	service.Handle(r, iamapi.OpListInstanceProfileTags, s.ListInstanceProfileTags, service.Rule[iamapi.ListInstanceProfileTagsRequest]{Action: "iam:ListInstanceProfileTags",
		Resource: profileResource(s, func(in *iamapi.ListInstanceProfileTagsRequest) string { return str(in.InstanceProfileName) })})
}

// profileResource returns a rule's Resource func for the instance profile
// the input names: its ARN with its path and its tags; the path-less ARN
// when it does not exist.
func profileResource[I any](s *Service, name func(in *I) string) func(context.Context, *service.Call, *I) (*authz.Resource, error) {
	return func(ctx context.Context, c *service.Call, in *I) (*authz.Resource, error) {
		acct := c.Principal.Account
		n := name(in)
		res := &authz.Resource{ARN: entityARN(acct, "instance-profile", "/", n), Account: acct}
		err := s.store.View(ctx, func(tx store.Tx) error {
			var p instanceProfile
			ok, err := getJSON(tx, tableInstanceProfile, entityKey(acct, n), &p)
			if err != nil || !ok {
				return err
			}
			res.ARN, res.Tags = p.ARN, tagMap(p.Tags)
			return nil
		})
		return res, err
	}
}

func noSuchProfile(name string) error {
	return iamapi.NewNoSuchEntityException("Instance Profile %s cannot be found.", name)
}

func getProfile(tx store.Tx, acct, name string) (*instanceProfile, error) {
	var p instanceProfile
	ok, err := getJSON(tx, tableInstanceProfile, entityKey(acct, name), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchProfile(name)
	}
	return &p, nil
}

func (s *Service) apiProfile(tx store.Tx, acct string, p *instanceProfile) (iamapi.InstanceProfile, error) {
	out := iamapi.InstanceProfile{Path: ptr(p.Path), InstanceProfileName: ptr(p.Name), InstanceProfileId: ptr(p.ID), Arn: ptr(p.ARN),
		CreateDate: ptr(p.Created), Roles: []iamapi.Role{}, Tags: apiTags(p.Tags)}
	for _, rn := range p.Roles {
		e, err := getEntity(tx, kindRole, acct, rn)
		if err != nil {
			if isNoSuchEntity(err) {
				continue
			}
			return out, err
		}
		r := e.apiRole()
		r.Tags, r.RoleLastUsed = nil, nil
		out.Roles = append(out.Roles, *r)
	}
	return out, nil
}

// CreateInstanceProfile creates an empty instance profile.
func (s *Service) CreateInstanceProfile(ctx context.Context, in *iamapi.CreateInstanceProfileRequest) (*iamapi.CreateInstanceProfileResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var out iamapi.InstanceProfile
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.Count(tableInstanceProfile, acct+"/"); err != nil {
			return err
		} else if n >= maxInstanceProfiles {
			return iamapi.NewLimitExceededException("Cannot exceed quota for InstanceProfilesPerAccount: %d", maxInstanceProfiles)
		}
		id, err := newID(c.Rand, prefixInstanceProfile, 17)
		if err != nil {
			return err
		}
		name, path := str(in.InstanceProfileName), pathOr(in.Path)
		p := &instanceProfile{Name: name, Path: path, ID: id, ARN: entityARN(acct, "instance-profile", path, name), Created: c.Now.UTC().Truncate(time.Second), Tags: tags}
		if err := insertJSON(tx, tableInstanceProfile, entityKey(acct, name), p); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("Instance Profile %s already exists.", name)
			}
			return err
		}
		out, err = s.apiProfile(tx, acct, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateInstanceProfileResponse{InstanceProfile: &out}, nil
}

// GetInstanceProfile returns an instance profile with its role.
func (s *Service) GetInstanceProfile(ctx context.Context, in *iamapi.GetInstanceProfileRequest) (*iamapi.GetInstanceProfileResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var out iamapi.InstanceProfile
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := getProfile(tx, acct, str(in.InstanceProfileName))
		if err != nil {
			return err
		}
		out, err = s.apiProfile(tx, acct, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetInstanceProfileResponse{InstanceProfile: &out}, nil
}

func scanProfiles(tx store.Tx, acct string) ([]*instanceProfile, error) {
	kvs, err := tx.Scan(tableInstanceProfile, acct+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*instanceProfile, 0, len(kvs))
	for _, kv := range kvs {
		var p instanceProfile
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, nil
}

func (s *Service) listProfiles(ctx context.Context, keep func(p *instanceProfile) bool, marker *string, maxItems *int32, check func(tx store.Tx) error) ([]iamapi.InstanceProfile, *bool, *string, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var all []iamapi.InstanceProfile
	err := s.store.View(ctx, func(tx store.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		ps, err := scanProfiles(tx, acct)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if !keep(p) {
				continue
			}
			ap, err := s.apiProfile(tx, acct, p)
			if err != nil {
				return err
			}
			all = append(all, ap)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	pg, trunc, next, err := page(all, marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	if pg == nil {
		pg = []iamapi.InstanceProfile{}
	}
	return pg, trunc, next, nil
}

// ListInstanceProfiles lists the instance profiles under a path prefix.
func (s *Service) ListInstanceProfiles(ctx context.Context, in *iamapi.ListInstanceProfilesRequest) (*iamapi.ListInstanceProfilesResponse, error) {
	prefix := pathOr(in.PathPrefix)
	pg, trunc, next, err := s.listProfiles(ctx, func(p *instanceProfile) bool { return strings.HasPrefix(p.Path, prefix) }, in.Marker, in.MaxItems, nil)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesResponse{InstanceProfiles: pg, IsTruncated: trunc, Marker: next}, nil
}

// ListInstanceProfilesForRole lists the instance profiles holding a role.
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *iamapi.ListInstanceProfilesForRoleRequest) (*iamapi.ListInstanceProfilesForRoleResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	role := str(in.RoleName)
	pg, trunc, next, err := s.listProfiles(ctx, func(p *instanceProfile) bool {
		for _, r := range p.Roles {
			if strings.EqualFold(r, role) {
				return true
			}
		}
		return false
	}, in.Marker, in.MaxItems, func(tx store.Tx) error {
		_, err := getEntity(tx, kindRole, acct, role)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesForRoleResponse{InstanceProfiles: pg, IsTruncated: trunc, Marker: next}, nil
}

// DeleteInstanceProfile deletes an instance profile that holds no role.
func (s *Service) DeleteInstanceProfile(ctx context.Context, in *iamapi.DeleteInstanceProfileRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getProfile(tx, acct, str(in.InstanceProfileName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must remove roles from instance profile first.")
		}
		_, err = tx.Delete(tableInstanceProfile, entityKey(acct, p.Name))
		return err
	}))
}

// AddRoleToInstanceProfile puts a role in an instance profile (one at
// most). The caller must also be allowed iam:PassRole on the role.
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *iamapi.AddRoleToInstanceProfileRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	var roleARN string
	err := s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindRole, acct, str(in.RoleName))
		if err != nil {
			return err
		}
		roleARN = e.ARN
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.Authz != nil {
		req := c.Request("iam:PassRole")
		req.Resources = []string{roleARN}
		if err := c.Authz.Authorize(ctx, req); err != nil {
			var d *authz.Denied
			if errors.As(err, &d) {
				return nil, &awsproto.Error{Code: awsproto.CodeAccessDenied, Status: 403, Sender: true, Message: d.Message}
			}
			return nil, err
		}
	}
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getProfile(tx, acct, str(in.InstanceProfileName))
		if err != nil {
			return err
		}
		e, err := getEntity(tx, kindRole, acct, str(in.RoleName))
		if err != nil {
			return err
		}
		for _, r := range p.Roles {
			if strings.EqualFold(r, e.Name) {
				return iamapi.NewLimitExceededException("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerProfile)
			}
		}
		if len(p.Roles) >= maxRolesPerProfile {
			return iamapi.NewLimitExceededException("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerProfile)
		}
		p.Roles = append(p.Roles, e.Name)
		return putJSON(tx, tableInstanceProfile, entityKey(acct, p.Name), p)
	}))
}

// RemoveRoleFromInstanceProfile takes a role out of an instance profile.
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *iamapi.RemoveRoleFromInstanceProfileRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getProfile(tx, acct, str(in.InstanceProfileName))
		if err != nil {
			return err
		}
		role := str(in.RoleName)
		for i, r := range p.Roles {
			if strings.EqualFold(r, role) {
				p.Roles = append(p.Roles[:i], p.Roles[i+1:]...)
				return putJSON(tx, tableInstanceProfile, entityKey(acct, p.Name), p)
			}
		}
		return noSuchEntity(kindRole, role)
	}))
}

func (s *Service) updateProfile(ctx context.Context, name string, fn func(p *instanceProfile) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getProfile(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return putJSON(tx, tableInstanceProfile, entityKey(acct, p.Name), p)
	})
}

// TagInstanceProfile adds tags to an instance profile.
func (s *Service) TagInstanceProfile(ctx context.Context, in *iamapi.TagInstanceProfileRequest) (*awsEmpty, error) {
	return empty(s.updateProfile(ctx, str(in.InstanceProfileName), func(p *instanceProfile) error {
		var err error
		p.Tags, err = mergeTags(p.Tags, in.Tags)
		return err
	}))
}

// UntagInstanceProfile removes tags from an instance profile.
func (s *Service) UntagInstanceProfile(ctx context.Context, in *iamapi.UntagInstanceProfileRequest) (*awsEmpty, error) {
	return empty(s.updateProfile(ctx, str(in.InstanceProfileName), func(p *instanceProfile) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	}))
}

// ListInstanceProfileTags lists an instance profile's tags.
func (s *Service) ListInstanceProfileTags(ctx context.Context, in *iamapi.ListInstanceProfileTagsRequest) (*iamapi.ListInstanceProfileTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *instanceProfile
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getProfile(tx, acct, str(in.InstanceProfileName))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := pageTags(p.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfileTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}

// roleProfiles returns the instance profiles holding role (for DeleteRole
// and GetAccountAuthorizationDetails).
func roleProfiles(tx store.Tx, acct, role string) ([]*instanceProfile, error) {
	ps, err := scanProfiles(tx, acct)
	if err != nil {
		return nil, err
	}
	var out []*instanceProfile
	for _, p := range ps {
		for _, r := range p.Roles {
			if strings.EqualFold(r, role) {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}
