package kms

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// checkAliasName applies KMS's rules for alias names beyond the model's
// pattern ("Creating an alias" in the KMS Developer Guide).
func checkAliasName(name string) error {
	if !strings.HasPrefix(name, "alias/") || len(name) == len("alias/") {
		return validation("Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return kmsapi.NewInvalidAliasNameException("Alias names that begin with alias/aws/ are reserved for AWS managed keys.")
	}
	return nil
}

// authorizeAlias checks the caller's permission on the alias itself.
func authorizeAlias(ctx context.Context, c *service.Call, action, name string) error {
	req := c.Request(action)
	req.Resources = []string{aliasARN(c.Region, c.Principal.Account, name)}
	return denied(c.Authz.Authorize(ctx, req))
}

// CreateAlias creates an alias for a customer managed key.
func (s *Service) CreateAlias(ctx context.Context, in *kmsapi.CreateAliasRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	name := deref(in.AliasName)
	if err := checkAliasName(name); err != nil {
		return nil, err
	}
	if err := authorizeAlias(ctx, c, "kms:CreateAlias", name); err != nil {
		return nil, err
	}
	e, _, err := s.resolve(ctx, c, deref(in.TargetKeyId), false)
	if err != nil {
		return nil, err
	}
	if err := pendingDeletion(e.rec); err != nil {
		return nil, err
	}
	if err := managed(e.rec, "CreateAlias"); err != nil {
		return nil, err
	}
	path := aliasPath(c.Principal.Account, c.Region, name)
	err = s.store.Update(ctx, func(tx store.Tx) error {
		v, err := json.Marshal(&aliasRecord{Name: name, KeyID: e.rec.ID, Created: c.Now, Updated: c.Now})
		if err != nil {
			return err
		}
		if err := tx.Insert(TableAlias, path, v); errors.Is(err, store.ErrExists) {
			return kmsapi.NewAlreadyExistsException("An alias with the name %s already exists", aliasARN(c.Region, c.Principal.Account, name))
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, awsproto.AsError(err)
	}
	return &awsproto.Empty{}, nil
}

// UpdateAlias points an alias at another key of the same type. The caller
// needs kms:UpdateAlias on the alias, the old key and the new key.
func (s *Service) UpdateAlias(ctx context.Context, in *kmsapi.UpdateAliasRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	name := deref(in.AliasName)
	if err := checkAliasName(name); err != nil {
		return nil, err
	}
	if err := authorizeAlias(ctx, c, "kms:UpdateAlias", name); err != nil {
		return nil, err
	}
	e, _, err := s.resolve(ctx, c, deref(in.TargetKeyId), false)
	if err != nil {
		return nil, err
	}
	if err := pendingDeletion(e.rec); err != nil {
		return nil, err
	}
	path := aliasPath(c.Principal.Account, c.Region, name)
	oldID, err := s.cache.alias(ctx, path)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	if oldID == "" {
		return nil, kmsapi.NewNotFoundException("Alias %s is not found.", aliasARN(c.Region, c.Principal.Account, name))
	}
	old, oldRef, err := s.resolve(ctx, c, oldID, false)
	if err == nil {
		if err := s.authorize(ctx, c, "kms:UpdateAlias", old, oldRef, "", nil, nil); err != nil {
			return nil, err
		}
		if old.rec.Spec != e.rec.Spec || old.rec.Usage != e.rec.Usage {
			return nil, validation("The new target key %s must have the same key spec and key usage as the current target key %s.", e.arn, old.arn)
		}
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		a, err := getAlias(tx, path)
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Alias %s is not found.", aliasARN(c.Region, c.Principal.Account, name))
		}
		if err != nil {
			return err
		}
		a.KeyID = e.rec.ID
		a.Updated = c.Now
		return putAlias(tx, path, a)
	})
	if err != nil {
		return nil, awsproto.AsError(err)
	}
	return &awsproto.Empty{}, nil
}

// DeleteAlias deletes an alias; the caller needs kms:DeleteAlias on the
// alias (the rule) and on its key.
func (s *Service) DeleteAlias(ctx context.Context, in *kmsapi.DeleteAliasRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	name := deref(in.AliasName)
	if err := checkAliasName(name); err != nil {
		return nil, err
	}
	path := aliasPath(c.Principal.Account, c.Region, name)
	kid, err := s.cache.alias(ctx, path)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	if kid == "" {
		return nil, kmsapi.NewNotFoundException("Alias %s is not found.", aliasARN(c.Region, c.Principal.Account, name))
	}
	if e, ref, err := s.resolve(ctx, c, kid, false); err == nil {
		if err := s.authorize(ctx, c, "kms:DeleteAlias", e, ref, "", nil, nil); err != nil {
			return nil, err
		}
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		existed, err := tx.Delete(TableAlias, path)
		if err != nil {
			return err
		}
		if !existed {
			return kmsapi.NewNotFoundException("Alias %s is not found.", aliasARN(c.Region, c.Principal.Account, name))
		}
		return nil
	})
	if err != nil {
		return nil, awsproto.AsError(err)
	}
	return &awsproto.Empty{}, nil
}

// ListAliases lists the aliases of the account in the region, in name
// order, optionally only those of one key.
func (s *Service) ListAliases(ctx context.Context, in *kmsapi.ListAliasesRequest) (*kmsapi.ListAliasesResponse, error) {
	c := service.CallFrom(ctx)
	limit := limitOf(in.Limit)
	after, err := marker(in.Marker)
	if err != nil {
		return nil, err
	}
	var filter string
	if in.KeyId != nil {
		e, _, err := s.resolve(ctx, c, *in.KeyId, false)
		if err != nil {
			return nil, err
		}
		if err := sameAccount(c, e, "kms:ListAliases"); err != nil {
			return nil, err // no probing whether another account's key exists
		}
		filter = e.rec.ID
	}
	prefix := c.Principal.Account + "/" + c.Region + "/"
	var out []kmsapi.AliasListEntry
	truncated := false
	var next string
	err = s.store.View(ctx, func(tx store.Tx) error {
		a := ""
		if after != "" {
			a = prefix + after
		}
		kvs, err := tx.Scan(TableAlias, prefix, a, 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var al aliasRecord
			if err := json.Unmarshal(kv.Value, &al); err != nil {
				return err
			}
			if filter != "" && al.KeyID != filter {
				continue
			}
			if len(out) == limit {
				truncated = true
				break
			}
			out = append(out, kmsapi.AliasListEntry{
				AliasName: ptr(al.Name), AliasArn: ptr(aliasARN(c.Region, c.Principal.Account, al.Name)),
				TargetKeyId: ptr(al.KeyID), CreationDate: ptr(al.Created), LastUpdatedDate: ptr(al.Updated),
			})
			next = al.Name
		}
		return nil
	})
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	resp := &kmsapi.ListAliasesResponse{Aliases: out, Truncated: ptr(truncated)}
	if resp.Aliases == nil {
		resp.Aliases = []kmsapi.AliasListEntry{}
	}
	if truncated {
		resp.NextMarker = ptr(next)
	}
	return resp, nil
}
