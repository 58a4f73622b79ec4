package iam

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// maxGroupsPerUser is IAM's quota of groups a user can belong to.
const maxGroupsPerUser = 10

func (e *entity) apiGroup() iamapi.Group {
	return iamapi.Group{Path: ptr(e.Path), GroupName: ptr(e.Name), GroupId: ptr(e.ID), Arn: ptr(e.ARN), CreateDate: ptr(e.Created)}
}

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, in *iamapi.CreateGroupRequest) (*iamapi.CreateGroupResponse, error) {
	var e *entity
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		e, err = s.newEntity(ctx, tx, kindGroup, str(in.GroupName), pathOr(in.Path))
		return err
	})
	if err != nil {
		return nil, err
	}
	g := e.apiGroup()
	return &iamapi.CreateGroupResponse{Group: &g}, nil
}

// GetGroup returns a group and its users.
func (s *Service) GetGroup(ctx context.Context, in *iamapi.GetGroupRequest) (*iamapi.GetGroupResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var g *entity
	var users []*entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if g, err = getEntity(tx, kindGroup, acct, str(in.GroupName)); err != nil {
			return err
		}
		kvs, err := tx.Scan(tableMember, entityKey(acct, g.Name)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			u, err := getEntity(tx, kindUser, acct, string(kv.Value))
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(users, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	gr := g.apiGroup()
	out := &iamapi.GetGroupResponse{Group: &gr, Users: []iamapi.User{}, IsTruncated: trunc, Marker: next}
	for _, u := range pg {
		au := u.apiUser()
		au.Tags = nil
		out.Users = append(out.Users, *au)
	}
	return out, nil
}

// ListGroups lists the account's groups whose path starts with PathPrefix.
func (s *Service) ListGroups(ctx context.Context, in *iamapi.ListGroupsRequest) (*iamapi.ListGroupsResponse, error) {
	es, err := s.listEntities(ctx, kindGroup, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(es, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListGroupsResponse{Groups: []iamapi.Group{}, IsTruncated: trunc, Marker: next}
	for _, e := range pg {
		out.Groups = append(out.Groups, e.apiGroup())
	}
	return out, nil
}

// UpdateGroup renames a group or changes its path.
func (s *Service) UpdateGroup(ctx context.Context, in *iamapi.UpdateGroupRequest) (*awsEmpty, error) {
	return empty(s.renameEntity(ctx, kindGroup, str(in.GroupName), in.NewGroupName, in.NewPath))
}

// DeleteGroup deletes a group that has no members and no policies.
func (s *Service) DeleteGroup(ctx context.Context, in *iamapi.DeleteGroupRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		g, err := getEntity(tx, kindGroup, acct, str(in.GroupName))
		if err != nil {
			return err
		}
		if n, err := tx.Count(tableMember, entityKey(acct, g.Name)+"/"); err != nil {
			return err
		} else if n > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must remove users from group first.")
		}
		if len(g.Attached) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must detach all policies first.")
		}
		if len(g.Inline) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete policies first.")
		}
		return deleteEntity(tx, g)
	}))
}

// AddUserToGroup makes a user a member of a group.
func (s *Service) AddUserToGroup(ctx context.Context, in *iamapi.AddUserToGroupRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		g, err := getEntity(tx, kindGroup, acct, str(in.GroupName))
		if err != nil {
			return err
		}
		u, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		for _, name := range u.Groups {
			if strings.EqualFold(name, g.Name) {
				return nil // already a member: AWS succeeds
			}
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return iamapi.NewLimitExceededException("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		u.Groups = append(u.Groups, g.Name)
		if err := tx.Put(tableMember, memberKey(acct, g.Name, u.Name), []byte(u.Name)); err != nil {
			return err
		}
		return putEntity(tx, u)
	}))
}

// RemoveUserFromGroup ends a user's membership of a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *iamapi.RemoveUserFromGroupRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		g, err := getEntity(tx, kindGroup, acct, str(in.GroupName))
		if err != nil {
			return err
		}
		u, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		kept := u.Groups[:0]
		found := false
		for _, name := range u.Groups {
			if strings.EqualFold(name, g.Name) {
				found = true
				continue
			}
			kept = append(kept, name)
		}
		if !found {
			return iamapi.NewNoSuchEntityException("User %s is not in group %s.", u.Name, g.Name)
		}
		u.Groups = kept
		if _, err := tx.Delete(tableMember, memberKey(acct, g.Name, u.Name)); err != nil {
			return err
		}
		return putEntity(tx, u)
	}))
}

// ListGroupsForUser lists the groups a user belongs to.
func (s *Service) ListGroupsForUser(ctx context.Context, in *iamapi.ListGroupsForUserRequest) (*iamapi.ListGroupsForUserResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var groups []*entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		u, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		for _, name := range u.Groups {
			g, err := getEntity(tx, kindGroup, acct, name)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(groups, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListGroupsForUserResponse{Groups: []iamapi.Group{}, IsTruncated: trunc, Marker: next}
	for _, g := range pg {
		out.Groups = append(out.Groups, g.apiGroup())
	}
	return out, nil
}
