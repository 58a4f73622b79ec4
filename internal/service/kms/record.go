package kms

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// keyRecord is a KMS key as stored in TableKey.
type keyRecord struct {
	Account     string                `json:"account"`
	Region      string                `json:"region"`
	ID          string                `json:"id"`
	Description string                `json:"description"`
	Spec        kmsapi.KeySpec        `json:"spec"`
	Usage       kmsapi.KeyUsageType   `json:"usage"`
	Origin      kmsapi.OriginType     `json:"origin"`
	Manager     kmsapi.KeyManagerType `json:"manager"`
	State       kmsapi.KeyState       `json:"state"`
	Created     time.Time             `json:"created"`
	// DeletionDate is set while the key is PendingDeletion.
	DeletionDate  *time.Time `json:"deletionDate,omitempty"`
	PendingWindow int32      `json:"pendingWindow,omitempty"`
	Policy        string     `json:"policy"`
	Tags          []tag      `json:"tags,omitempty"`

	RotationEnabled bool       `json:"rotationEnabled,omitempty"`
	RotationPeriod  int32      `json:"rotationPeriod,omitempty"`
	NextRotation    *time.Time `json:"nextRotation,omitempty"`
	OnDemandStart   *time.Time `json:"onDemandStart,omitempty"`

	// Materials are every key material the key has had, oldest first; the
	// last one is current. Decrypt finds older ones by id.
	Materials []material `json:"materials,omitempty"`

	// Import: the wrapping key of the last GetParametersForImport (sealed
	// PKCS#8) and when its token expires; the expiry of imported material.
	ImportWrapping  []byte               `json:"importWrapping,omitempty"`
	ImportTokenID   string               `json:"importTokenId,omitempty"`
	ImportValidTo   *time.Time           `json:"importValidTo,omitempty"`
	ImportAlgorithm kmsapi.AlgorithmSpec `json:"importAlgorithm,omitempty"`
	ValidTo         *time.Time           `json:"validTo,omitempty"`
	// ImportFingerprint is the SHA-256 of the imported material: a
	// re-import must bring the same material.
	ImportFingerprint []byte                     `json:"importFingerprint,omitempty"`
	ImportMaterialID  string                     `json:"importMaterialId,omitempty"`
	ExpirationModel   kmsapi.ExpirationModelType `json:"expirationModel,omitempty"`

	// MultiRegion marks a multi-Region key ("mrk-…"): its materials and
	// rotation state live in the key set it shares with its related keys
	// (TableKeySet), which getKey reads into the record and putKey writes
	// back (see multi_region.go).
	MultiRegion bool `json:"multiRegion,omitempty"`
	// set is the key set of a multi-Region key, as read with the record.
	set *keySet
}

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// material is one key material; Sealed is the barrier-sealed secret (the
// AES key, the PKCS#8 private key, or the HMAC key).
type material struct {
	ID           string              `json:"id"` // 64 hex digits
	Sealed       []byte              `json:"sealed"`
	Created      time.Time           `json:"created"`
	RotationType kmsapi.RotationType `json:"rotationType,omitempty"` // "" for the first material
}

// aliasRecord is an alias as stored in TableAlias.
type aliasRecord struct {
	Name    string    `json:"name"`
	KeyID   string    `json:"keyId"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// grantRecord is a grant as stored in TableGrant.
type grantRecord struct {
	ID                string                  `json:"id"`
	KeyID             string                  `json:"keyId"`
	Name              string                  `json:"name,omitempty"`
	Created           time.Time               `json:"created"`
	Grantee           string                  `json:"grantee"`
	Retiring          string                  `json:"retiring,omitempty"`
	IssuingAccount    string                  `json:"issuingAccount"`
	Operations        []kmsapi.GrantOperation `json:"operations"`
	ContextSubset     map[string]string       `json:"contextSubset,omitempty"`
	ContextEquals     map[string]string       `json:"contextEquals,omitempty"`
	TokenHash         []byte                  `json:"tokenHash"` // SHA-256 of the grant token's secret part
	GranteeService    string                  `json:"granteeService,omitempty"`
	RetiringService   string                  `json:"retiringService,omitempty"`
	ConstraintSource  string                  `json:"constraintSource,omitempty"`
	CreatedByIdentity string                  `json:"createdBy,omitempty"`
}

func keyPath(account, region, id string) string { return account + "/" + region + "/" + id }

func (k *keyRecord) path() string { return keyPath(k.Account, k.Region, k.ID) }

func (k *keyRecord) arn() string { return keyARN(k.Region, k.Account, k.ID) }

func keyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

func aliasARN(region, account, name string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + name
}

func aliasPath(account, region, name string) string { return account + "/" + region + "/" + name }

func (k *keyRecord) current() *material {
	if len(k.Materials) == 0 {
		return nil
	}
	return &k.Materials[len(k.Materials)-1]
}

func (k *keyRecord) tagMap() map[string]string {
	if len(k.Tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(k.Tags))
	for _, t := range k.Tags {
		m[t.Key] = t.Value
	}
	return m
}

// materialAAD binds a sealed material to its key and id: for a
// multi-Region key, to the key set, since every related key opens it.
func (k *keyRecord) materialAAD(materialID string) []byte {
	if k.MultiRegion {
		return []byte(TableKeySet + "/" + keySetPath(k.Account, k.ID) + "/" + materialID)
	}
	return []byte(TableKey + "/" + k.path() + "/" + materialID)
}

// getKey reads the key at path; a multi-Region key comes with its key
// set's materials and rotation state.
func getKey(tx store.Tx, path string) (*keyRecord, error) {
	v, err := tx.Get(TableKey, path)
	if err != nil {
		return nil, err
	}
	var k keyRecord
	if err := json.Unmarshal(v, &k); err != nil {
		return nil, err
	}
	if k.MultiRegion {
		set, err := getKeySet(tx, k.Account, k.ID)
		if err != nil {
			return nil, fmt.Errorf("kms: key set of %s: %w", path, err)
		}
		k.join(set)
	}
	return &k, nil
}

// putKey stores a key; for a multi-Region key, the shared part goes to
// its key set (written only when it changed) and the rest to the record.
func putKey(tx store.Tx, k *keyRecord) error {
	v, err := marshalKey(tx, k)
	if err != nil {
		return err
	}
	return tx.Put(TableKey, k.path(), v)
}

// insertKey stores a new key (and, for a multi-Region key, its key set);
// it fails with store.ErrExists when the key exists.
func insertKey(tx store.Tx, k *keyRecord) error {
	v, err := marshalKey(tx, k)
	if err != nil {
		return err
	}
	return tx.Insert(TableKey, k.path(), v)
}

func marshalKey(tx store.Tx, k *keyRecord) ([]byte, error) {
	if !k.MultiRegion {
		return json.Marshal(k)
	}
	if k.set == nil {
		return nil, fmt.Errorf("kms: multi-Region key %s without its key set", k.path())
	}
	if err := putKeySet(tx, k.shared()); err != nil {
		return nil, err
	}
	own := *k
	own.Materials = nil
	own.RotationEnabled, own.RotationPeriod, own.NextRotation, own.OnDemandStart = false, 0, nil, nil
	own.set = nil
	return json.Marshal(&own)
}

func getAlias(tx store.Tx, path string) (*aliasRecord, error) {
	v, err := tx.Get(TableAlias, path)
	if err != nil {
		return nil, err
	}
	var a aliasRecord
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func putAlias(tx store.Tx, path string, a *aliasRecord) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Put(TableAlias, path, v)
}

func scanGrants(tx store.Tx, keyPath string) ([]*grantRecord, error) {
	kvs, err := tx.Scan(TableGrant, keyPath+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*grantRecord, 0, len(kvs))
	for _, kv := range kvs {
		var g grantRecord
		if err := json.Unmarshal(kv.Value, &g); err != nil {
			return nil, err
		}
		out = append(out, &g)
	}
	return out, nil
}

func putGrant(tx store.Tx, keyPath string, g *grantRecord) error {
	v, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return tx.Put(TableGrant, keyPath+"/"+g.ID, v)
}

// keyAliases returns the alias names pointing at key id in account/region.
func keyAliases(tx store.Tx, account, region, id string) ([]*aliasRecord, error) {
	kvs, err := tx.Scan(TableAlias, account+"/"+region+"/", "", 0)
	if err != nil {
		return nil, err
	}
	var out []*aliasRecord
	for _, kv := range kvs {
		var a aliasRecord
		if err := json.Unmarshal(kv.Value, &a); err != nil {
			return nil, err
		}
		if a.KeyID == id {
			out = append(out, &a)
		}
	}
	return out, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isClosed(err error) bool { return errors.Is(err, store.ErrClosed) }

// splitPath returns account, region and the rest of a "<account>/<region>/…" key.
func splitPath(p string) (account, region, rest string) {
	a, r, ok := strings.Cut(p, "/")
	if !ok {
		return p, "", ""
	}
	reg, rest, _ := strings.Cut(r, "/")
	return a, reg, rest
}
