package iam

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// The root user's access keys.
//
// AWS: "If you do not specify a user name, IAM determines the user name
// implicitly based on the AWS access key ID signing the request. This
// operation works for access keys under the AWS account. Consequently, you
// can use this operation to manage AWS account root user credentials."
// (CreateAccessKey, and likewise ListAccessKeys, UpdateAccessKey,
// DeleteAccessKey.) So a root caller that names no user acts on the root
// user's own keys.
//
// The root user's keys are of two origins: the one the account was created
// with (authn.Account.RootKeyID: rampart init, dev mode, Organizations'
// CreateAccount), which lives in authn only, and the ones created here,
// which IAM also records in tableAccessKey under <acct>// (the owner part of
// the key is empty: a user name never is). Both sign as
// authn.RootPrincipal. Like a user, the root user has at most
// maxAccessKeys keys.

// rootOwner is the owner part of the tableAccessKey keys of root's keys.
const rootOwner = ""

// rootKeyUserName is the UserName IAM answers for a key of the root user,
// where the model requires one (CreateAccessKey's AccessKey): the account
// id, which is also the root user's UserId in GetUser.
func rootKeyUserName(acct string) string { return acct }

// isRootSelf reports whether the caller is the root user acting on its own
// credentials (no user named).
func isRootSelf(c *service.Call, name *string) bool {
	return name == nil && c.Principal.Type == authz.Root
}

// rootAccount reads the authn record of an account; ok is false when there
// is none.
func rootAccount(tx store.Tx, acct string) (a authn.Account, ok bool, err error) {
	v, err := tx.Get(authn.TableAccount, acct)
	if errors.Is(err, store.ErrNotFound) {
		return a, false, nil
	}
	if err != nil {
		return a, false, err
	}
	return a, true, json.Unmarshal(v, &a)
}

// authnKeyStatus returns the status of an access key as authn keeps it,
// and whether authn has it for the root user of acct.
func authnRootKeyStatus(tx store.Tx, acct, id string) (string, bool, error) {
	v, err := tx.Get(authn.TableKey, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var rec struct {
		Status    string          `json:"status"`
		Principal authz.Principal `json:"principal"`
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return "", false, err
	}
	if rec.Principal.Type != authz.Root || rec.Principal.Account != acct {
		return "", false, nil
	}
	return rec.Status, true, nil
}

// rootKey is one of the root user's access keys; recorded is false for
// the account's original key, which only authn holds.
type rootKey struct {
	accessKey
	recorded bool
}

// rootKeys lists the root user's access keys: the account's original one
// (while it exists), then those created through IAM, by id.
func rootKeys(tx store.Tx, acct string) ([]rootKey, error) {
	var out []rootKey
	a, ok, err := rootAccount(tx, acct)
	if err != nil {
		return nil, err
	}
	if ok && a.RootKeyID != "" {
		status, exists, err := authnRootKeyStatus(tx, acct, a.RootKeyID)
		if err != nil {
			return nil, err
		}
		if exists {
			out = append(out, rootKey{accessKey: accessKey{ID: a.RootKeyID, Status: status, Created: a.Created}})
		}
	}
	kvs, err := tx.Scan(tableAccessKey, entityKey(acct, rootOwner)+"/", "", 0)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		var k accessKey
		if err := json.Unmarshal(kv.Value, &k); err != nil {
			return nil, err
		}
		if len(out) > 0 && out[0].ID == k.ID {
			continue
		}
		out = append(out, rootKey{accessKey: k, recorded: true})
	}
	return out, nil
}

// findRootKey returns the root user's key id; NoSuchEntity when it has none
// such.
func findRootKey(tx store.Tx, acct, id string) (rootKey, error) {
	keys, err := rootKeys(tx, acct)
	if err != nil {
		return rootKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return rootKey{}, iamapi.NewNoSuchEntityException("The Access Key with id %s cannot be found.", id)
}

// createRootKey creates an access key for the root user of the caller's
// account.
func (s *Service) createRootKey(tx store.Tx, c *service.Call) (accessKey, string, error) {
	acct := c.Principal.Account
	keys, err := rootKeys(tx, acct)
	if err != nil {
		return accessKey{}, "", err
	}
	if len(keys) >= maxAccessKeys {
		return accessKey{}, "", iamapi.NewLimitExceededException("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
	}
	id, err := authn.NewKeyID(prefixKey, acct, c.Rand)
	if err != nil {
		return accessKey{}, "", err
	}
	secret, err := authn.NewSecret(c.Rand)
	if err != nil {
		return accessKey{}, "", err
	}
	k := accessKey{ID: id, UserName: rootOwner, Status: "Active", Created: c.Now.UTC().Truncate(time.Second)}
	if err := insertJSON(tx, tableAccessKey, entityKey(acct, rootOwner)+"/"+id, &k); err != nil {
		return accessKey{}, "", err
	}
	p := authn.RootPrincipal(acct)
	p.AccessKeyID = id
	if err := authn.PutKey(tx, s.barrier, id, secret, p, true); err != nil {
		return accessKey{}, "", err
	}
	return k, secret, nil
}

// updateRootKey makes one of the root user's keys Active or Inactive.
func updateRootKey(tx store.Tx, acct, id, status string) error {
	k, err := findRootKey(tx, acct, id)
	if err != nil {
		return err
	}
	if k.recorded {
		k.Status = status
		if err := putJSON(tx, tableAccessKey, entityKey(acct, rootOwner)+"/"+k.ID, &k.accessKey); err != nil {
			return err
		}
	}
	return patchAuthnKey(tx, k.ID, map[string]any{"status": status})
}

// deleteRootKey deletes one of the root user's keys; it stops signing at
// once (in dev mode the original key comes back at the next start, which
// passes it again).
func deleteRootKey(tx store.Tx, acct, id string) error {
	k, err := findRootKey(tx, acct, id)
	if err != nil {
		return err
	}
	if k.recorded {
		if _, err := tx.Delete(tableAccessKey, entityKey(acct, rootOwner)+"/"+k.ID); err != nil {
			return err
		}
	}
	if _, err := tx.Delete(tableKeyUse, k.ID); err != nil {
		return err
	}
	_, err = tx.Delete(authn.TableKey, k.ID)
	return err
}
