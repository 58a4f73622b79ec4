package iam

import (
	"context"
	"encoding/json"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// maxAccessKeys is IAM's quota of access keys per user.
const maxAccessKeys = 2

func (e *entity) principal() authz.Principal {
	return authz.Principal{Type: authz.IAMUser, Account: e.Account, ARN: e.ARN, ID: e.ID, Name: e.Name}
}

// CreateAccessKey creates an access key for a user (the caller when no
// user is named). The secret is returned once and kept sealed; the key signs
// requests as soon as this call returns.
func (s *Service) CreateAccessKey(ctx context.Context, in *iamapi.CreateAccessKeyRequest) (*iamapi.CreateAccessKeyResponse, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		var k accessKey
		var secret string
		err := s.store.Update(ctx, func(tx store.Tx) (err error) {
			k, secret, err = s.createRootKey(tx, c)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{
			UserName: ptr(rootKeyUserName(c.Principal.Account)), AccessKeyId: ptr(k.ID), Status: iamapi.StatusTypeActive,
			SecretAccessKey: ptr(secret), CreateDate: ptr(k.Created),
		}}, nil
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	var k accessKey
	var secret string
	err = s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, name)
		if err != nil {
			return err
		}
		n, err := tx.Count(tableAccessKey, entityKey(acct, e.Name)+"/")
		if err != nil {
			return err
		}
		if n >= maxAccessKeys {
			return iamapi.NewLimitExceededException("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
		}
		id, err := authn.NewKeyID(prefixKey, acct, c.Rand)
		if err != nil {
			return err
		}
		if secret, err = authn.NewSecret(c.Rand); err != nil { // 40 characters, as AWS's
			return err
		}
		k = accessKey{ID: id, UserName: e.Name, Status: "Active", Created: c.Now.UTC().Truncate(1e9)}
		if err := insertJSON(tx, tableAccessKey, entityKey(acct, e.Name)+"/"+id, &k); err != nil {
			return err
		}
		p := e.principal()
		p.AccessKeyID = id
		return authn.PutKey(tx, s.barrier, id, secret, p, true)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{
		UserName: ptr(k.UserName), AccessKeyId: ptr(k.ID), Status: iamapi.StatusTypeActive,
		SecretAccessKey: ptr(secret), CreateDate: ptr(k.Created),
	}}, nil
}

// ListAccessKeys lists a user's access keys (never their secrets).
func (s *Service) ListAccessKeys(ctx context.Context, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	var keys []accessKey
	if isRootSelf(c, in.UserName) {
		err := s.store.View(ctx, func(tx store.Tx) error {
			rks, err := rootKeys(tx, acct)
			for _, k := range rks {
				k.UserName = rootKeyUserName(acct)
				keys = append(keys, k.accessKey)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return listedKeys(keys, in)
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, name)
		if err != nil {
			return err
		}
		kvs, err := tx.Scan(tableAccessKey, entityKey(acct, e.Name)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var k accessKey
			if err := json.Unmarshal(kv.Value, &k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return listedKeys(keys, in)
}

func listedKeys(keys []accessKey, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	pg, trunc, next, err := page(keys, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListAccessKeysResponse{AccessKeyMetadata: []iamapi.AccessKeyMetadata{}, IsTruncated: trunc, Marker: next}
	for _, k := range pg {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, iamapi.AccessKeyMetadata{
			UserName: ptr(k.UserName), AccessKeyId: ptr(k.ID), Status: iamapi.StatusType(k.Status), CreateDate: ptr(k.Created),
		})
	}
	return out, nil
}

// getKey loads a user's access key; NoSuchEntity when the user has no such key.
func getKey(tx store.Tx, acct, user, id string) (*accessKey, error) {
	var k accessKey
	ok, err := getJSON(tx, tableAccessKey, entityKey(acct, user)+"/"+id, &k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, iamapi.NewNoSuchEntityException("The Access Key with id %s cannot be found.", id)
	}
	return &k, nil
}

// UpdateAccessKey makes a key Active or Inactive; an inactive key signs nothing.
func (s *Service) UpdateAccessKey(ctx context.Context, in *iamapi.UpdateAccessKeyRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		return empty(s.store.Update(ctx, func(tx store.Tx) error {
			return updateRootKey(tx, c.Principal.Account, str(in.AccessKeyId), string(in.Status))
		}))
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, name)
		if err != nil {
			return err
		}
		k, err := getKey(tx, acct, e.Name, str(in.AccessKeyId))
		if err != nil {
			return err
		}
		k.Status = string(in.Status)
		if err := putJSON(tx, tableAccessKey, entityKey(acct, e.Name)+"/"+k.ID, k); err != nil {
			return err
		}
		return patchAuthnKey(tx, k.ID, map[string]any{"status": k.Status})
	}))
}

// DeleteAccessKey deletes a key; it stops signing at once.
func (s *Service) DeleteAccessKey(ctx context.Context, in *iamapi.DeleteAccessKeyRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		return empty(s.store.Update(ctx, func(tx store.Tx) error {
			return deleteRootKey(tx, c.Principal.Account, str(in.AccessKeyId))
		}))
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, name)
		if err != nil {
			return err
		}
		k, err := getKey(tx, acct, e.Name, str(in.AccessKeyId))
		if err != nil {
			return err
		}
		if _, err := tx.Delete(tableAccessKey, entityKey(acct, e.Name)+"/"+k.ID); err != nil {
			return err
		}
		if _, err := tx.Delete(tableKeyUse, k.ID); err != nil {
			return err
		}
		_, err = tx.Delete(authn.TableKey, k.ID)
		return err
	}))
}

// patchAuthnKey changes fields of the authn record of an access key
// (status, principal) without touching its sealed secret.
func patchAuthnKey(tx store.Tx, id string, fields map[string]any) error {
	v, err := tx.Get(authn.TableKey, id)
	if err != nil {
		return err
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	for k, f := range fields {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		rec[k] = b
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Put(authn.TableKey, id, b)
}

// rewriteKeyPrincipal points an access key at a renamed user.
func (s *Service) rewriteKeyPrincipal(tx store.Tx, id string, e *entity) error {
	p := e.principal()
	p.AccessKeyID = id
	return patchAuthnKey(tx, id, map[string]any{"principal": p})
}
