package iam

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

func (e *entity) apiUser() *iamapi.User {
	u := &iamapi.User{Path: ptr(e.Path), UserName: ptr(e.Name), UserId: ptr(e.ID), Arn: ptr(e.ARN), CreateDate: ptr(e.Created), Tags: apiTags(e.Tags)}
	if e.Boundary != "" {
		u.PermissionsBoundary = &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryType: iamapi.PermissionsBoundaryAttachmentTypePermissionsboundarypolicy, PermissionsBoundaryArn: ptr(e.Boundary)}
	}
	return u
}

// newEntity builds a user, group or role named by the caller, with a fresh
// unique id, and inserts it; EntityAlreadyExists when the name is taken
// (names are unique without regard to case).
func (s *Service) newEntity(ctx context.Context, tx store.Tx, kind, name, path string) (*entity, error) {
	c := service.CallFrom(ctx)
	return createEntity(tx, c.Principal.Account, c.Now, c.Rand, kind, name, path)
}

func createEntity(tx store.Tx, acct string, now time.Time, rand io.Reader, kind, name, path string) (*entity, error) {
	prefix := map[string]string{kindUser: prefixUser, kindGroup: prefixGroup, kindRole: prefixRole}[kind]
	id, err := newID(rand, prefix, 17)
	if err != nil {
		return nil, err
	}
	e := &entity{Kind: kind, Name: name, Path: path, ID: id, ARN: entityARN(acct, kind, path, name), Account: acct, Created: now.UTC().Truncate(time.Second)}
	if err := insertJSON(tx, tableOf(kind), entityKey(acct, name), e); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, iamapi.NewEntityAlreadyExistsException("%s with name %s already exists.", titleKind(kind), name)
		}
		return nil, err
	}
	return e, nil
}

func titleKind(kind string) string { return strings.ToUpper(kind[:1]) + kind[1:] }

// CreateUser creates an IAM user.
func (s *Service) CreateUser(ctx context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var e *entity
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if e, err = s.newEntity(ctx, tx, kindUser, str(in.UserName), pathOr(in.Path)); err != nil {
			return err
		}
		e.Tags, _ = mergeTags(nil, in.Tags)
		if in.PermissionsBoundary != nil {
			if err := s.checkBoundary(tx, e.Account, *in.PermissionsBoundary); err != nil {
				return err
			}
			e.Boundary = *in.PermissionsBoundary
			if err := tx.Put(tableAttachment, attachmentKey(e.Account, e.Boundary, useBoundary, kindUser, e.Name), []byte(e.Name)); err != nil {
				return err
			}
		}
		return putEntity(tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateUserResponse{User: e.apiUser()}, nil
}

// GetUser returns a user; without UserName, the caller.
func (s *Service) GetUser(ctx context.Context, in *iamapi.GetUserRequest) (*iamapi.GetUserResponse, error) {
	c := service.CallFrom(ctx)
	if in.UserName == nil && c.Principal.Type == authz.Root {
		// The root user: AWS answers with the account id as UserId and
		// the account's creation date as CreateDate.
		u := &iamapi.User{UserId: ptr(c.Principal.Account), Arn: ptr(c.Principal.ARN), Path: ptr("/")}
		err := s.store.View(ctx, func(tx store.Tx) error {
			a, ok, err := rootAccount(tx, c.Principal.Account)
			if ok && !a.Created.IsZero() {
				u.CreateDate = ptr(a.Created)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return &iamapi.GetUserResponse{User: u}, nil
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	var e *entity
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err = getEntity(tx, kindUser, c.Principal.Account, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserResponse{User: e.apiUser()}, nil
}

// selfName is the user an operation acts on: the one named, else the
// calling IAM user.
func selfName(c *service.Call, name *string) (string, error) {
	if name != nil {
		return *name, nil
	}
	if c.Principal.Type == authz.IAMUser {
		return c.Principal.Name, nil
	}
	return "", validation("Must specify userName when calling with non-User credentials")
}

// ListUsers lists the account's users whose path starts with PathPrefix.
func (s *Service) ListUsers(ctx context.Context, in *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	es, err := s.listEntities(ctx, kindUser, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(es, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListUsersResponse{Users: []iamapi.User{}, IsTruncated: trunc, Marker: next}
	for _, e := range pg {
		u := e.apiUser()
		u.Tags = nil // ListUsers leaves tags out
		out.Users = append(out.Users, *u)
	}
	return out, nil
}

func (s *Service) listEntities(ctx context.Context, kind string, pathPrefix *string) ([]*entity, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var es []*entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		es, err = scanEntities(tx, kind, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	prefix := pathOr(pathPrefix)
	kept := es[:0]
	for _, e := range es {
		if strings.HasPrefix(e.Path, prefix) {
			kept = append(kept, e)
		}
	}
	sortByName(kept)
	return kept, nil
}

// UpdateUser renames a user or changes its path.
func (s *Service) UpdateUser(ctx context.Context, in *iamapi.UpdateUserRequest) (*awsEmpty, error) {
	return empty(s.renameEntity(ctx, kindUser, str(in.UserName), in.NewUserName, in.NewPath))
}

// renameEntity changes an entity's name or path, moving what refers to it
// by name (group memberships, attachments, access keys).
func (s *Service) renameEntity(ctx context.Context, kind, name string, newName, newPath *string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		oldName := e.Name
		if newPath != nil {
			e.Path = *newPath
		}
		if newName != nil && *newName != oldName {
			if !strings.EqualFold(*newName, oldName) {
				if _, err := tx.Get(tableOf(kind), entityKey(acct, *newName)); err == nil {
					return iamapi.NewEntityAlreadyExistsException("%s with name %s already exists.", titleKind(kind), *newName)
				}
			}
			if _, err := tx.Delete(tableOf(kind), entityKey(acct, oldName)); err != nil {
				return err
			}
			e.Name = *newName
			if err := s.moveReferences(tx, e, oldName); err != nil {
				return err
			}
		}
		e.ARN = entityARN(acct, kind, e.Path, e.Name)
		return putEntity(tx, e)
	})
}

func (s *Service) moveReferences(tx store.Tx, e *entity, oldName string) error {
	acct := e.Account
	type ref struct{ arn, usage string }
	refs := make([]ref, 0, len(e.Attached)+1)
	for _, a := range e.Attached {
		refs = append(refs, ref{a, usePolicy})
	}
	if e.Boundary != "" {
		refs = append(refs, ref{e.Boundary, useBoundary})
	}
	for _, r := range refs {
		if _, err := tx.Delete(tableAttachment, attachmentKey(acct, r.arn, r.usage, e.Kind, oldName)); err != nil {
			return err
		}
		if err := tx.Put(tableAttachment, attachmentKey(acct, r.arn, r.usage, e.Kind, e.Name), []byte(e.Name)); err != nil {
			return err
		}
	}
	switch e.Kind {
	case kindUser:
		for _, g := range e.Groups {
			if _, err := tx.Delete(tableMember, memberKey(acct, g, oldName)); err != nil {
				return err
			}
			if err := tx.Put(tableMember, memberKey(acct, g, e.Name), []byte(e.Name)); err != nil {
				return err
			}
		}
		kvs, err := tx.Scan(tableAccessKey, entityKey(acct, oldName)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var k accessKey
			if err := jsonUnmarshal(kv.Value, &k); err != nil {
				return err
			}
			if _, err := tx.Delete(tableAccessKey, kv.Key); err != nil {
				return err
			}
			k.UserName = e.Name
			if err := putJSON(tx, tableAccessKey, entityKey(acct, e.Name)+"/"+k.ID, &k); err != nil {
				return err
			}
			if err := s.rewriteKeyPrincipal(tx, k.ID, e); err != nil {
				return err
			}
		}
		if err := moveUserRecords(tx, acct, oldName, e.Name); err != nil {
			return err
		}
		if v, err := tx.Get(tableLogin, entityKey(acct, oldName)); err == nil {
			if _, err := tx.Delete(tableLogin, entityKey(acct, oldName)); err != nil {
				return err
			}
			if err := tx.Put(tableLogin, entityKey(acct, e.Name), v); err != nil {
				return err
			}
		}
	case kindGroup:
		kvs, err := tx.Scan(tableMember, entityKey(acct, oldName)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			user := string(kv.Value)
			if _, err := tx.Delete(tableMember, kv.Key); err != nil {
				return err
			}
			if err := tx.Put(tableMember, memberKey(acct, e.Name, user), kv.Value); err != nil {
				return err
			}
			u, err := getEntity(tx, kindUser, acct, user)
			if err != nil {
				return err
			}
			for i, g := range u.Groups {
				if strings.EqualFold(g, oldName) {
					u.Groups[i] = e.Name
				}
			}
			if err := putEntity(tx, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteUser deletes a user that has nothing left attached.
func (s *Service) DeleteUser(ctx context.Context, in *iamapi.DeleteUserRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		if _, err := tx.Get(tableLogin, entityKey(acct, e.Name)); err == nil {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete login profile first.")
		}
		if n, err := tx.Count(tableAccessKey, entityKey(acct, e.Name)+"/"); err != nil {
			return err
		} else if n > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete access keys first.")
		}
		if len(e.Groups) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must remove users from group first.")
		}
		if len(e.Attached) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must detach all policies first.")
		}
		if len(e.Inline) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete policies first.")
		}
		if err := userRecordConflict(tx, acct, e.Name); err != nil {
			return err
		}
		if n, err := s.userMFACount(tx, acct, e.Name); err != nil {
			return err
		} else if n > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete MFA device first.")
		}
		return deleteEntity(tx, e)
	}))
}

func deleteEntity(tx store.Tx, e *entity) error {
	if e.Boundary != "" {
		if _, err := tx.Delete(tableAttachment, attachmentKey(e.Account, e.Boundary, useBoundary, e.Kind, e.Name)); err != nil {
			return err
		}
	}
	_, err := tx.Delete(tableOf(e.Kind), entityKey(e.Account, e.Name))
	return err
}
