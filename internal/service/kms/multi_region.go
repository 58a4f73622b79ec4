package kms

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Multi-Region keys ("Multi-Region keys in AWS KMS" in the KMS Developer
// Guide): a primary key and its replicas, one per region of the account,
// share a key id ("mrk-" and 32 hex digits), key material, key spec, key
// usage, origin and automatic rotation; each has its own key policy,
// grants, aliases, tags, description and key state.
//
// What they share is one record, the key set, in TableKeySet under
// "<account>/<key id>": the primary's region, the replicas' regions, and
// every key material (sealed with the key set's path as associated data,
// so that every related key opens them) with the rotation state. Each
// related key keeps its own record in TableKey under its region's path,
// marked MultiRegion; getKey joins the key set into it and putKey splits
// it out again, so the rest of the package (rotation, sweeping, the
// cache) works on one record as for any key. A rotation of the primary is
// thereby a rotation of every replica, in the same transaction.
//
// A symmetric ciphertext names the key id, not the region, so any related
// key opens what another encrypted.

// TableKeySet holds the key sets of multi-Region keys.
const TableKeySet = "kms.keyset"

// keySet is what a multi-Region primary key and its replicas share.
type keySet struct {
	Account  string   `json:"account"`
	ID       string   `json:"id"`
	Primary  string   `json:"primary"`            // the primary key's region
	Replicas []string `json:"replicas,omitempty"` // the replicas' regions, in order of replication

	Spec   kmsapi.KeySpec      `json:"spec"`
	Usage  kmsapi.KeyUsageType `json:"usage"`
	Origin kmsapi.OriginType   `json:"origin"`

	RotationEnabled bool       `json:"rotationEnabled,omitempty"`
	RotationPeriod  int32      `json:"rotationPeriod,omitempty"`
	NextRotation    *time.Time `json:"nextRotation,omitempty"`
	OnDemandStart   *time.Time `json:"onDemandStart,omitempty"`

	Materials []material `json:"materials,omitempty"`
}

func keySetPath(account, id string) string { return account + "/" + id }

func getKeySet(tx store.Tx, account, id string) (*keySet, error) {
	v, err := tx.Get(TableKeySet, keySetPath(account, id))
	if err != nil {
		return nil, err
	}
	var set keySet
	if err := json.Unmarshal(v, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

// putKeySet stores set unless it is unchanged: a change to one related
// key that leaves the shared part alone does not disturb the others.
func putKeySet(tx store.Tx, set *keySet) error {
	v, err := json.Marshal(set)
	if err != nil {
		return err
	}
	p := keySetPath(set.Account, set.ID)
	old, err := tx.Get(TableKeySet, p)
	switch {
	case err == nil && bytes.Equal(old, v):
		return nil
	case err != nil && !isNotFound(err):
		return err
	}
	return tx.Put(TableKeySet, p, v)
}

// join fills the shared part of a multi-Region key from its key set.
func (k *keyRecord) join(set *keySet) {
	k.set = set
	k.Spec, k.Usage, k.Origin = set.Spec, set.Usage, set.Origin
	k.RotationEnabled, k.RotationPeriod, k.NextRotation, k.OnDemandStart = set.RotationEnabled, set.RotationPeriod, set.NextRotation, set.OnDemandStart
	k.Materials = set.Materials
}

// shared returns the key set with the shared part of k.
func (k *keyRecord) shared() *keySet {
	set := *k.set
	set.Spec, set.Usage, set.Origin = k.Spec, k.Usage, k.Origin
	set.RotationEnabled, set.RotationPeriod, set.NextRotation, set.OnDemandStart = k.RotationEnabled, k.RotationPeriod, k.NextRotation, k.OnDemandStart
	set.Materials = k.Materials
	return &set
}

// replica reports whether k is a multi-Region replica key.
func (k *keyRecord) replica() bool {
	return k.MultiRegion && k.set != nil && k.set.Primary != k.Region
}

// primaryOnly refuses an operation that only the primary key of a
// multi-Region key supports.
func primaryOnly(rec *keyRecord, op string) error {
	if rec.replica() {
		return kmsapi.NewUnsupportedOperationException("%s is a multi-Region replica key; %s is supported only on its primary key in %s.", rec.arn(), op, rec.set.Primary)
	}
	return nil
}

// multiRegionConfiguration describes a key's key set for KeyMetadata.
func multiRegionConfiguration(k *keyRecord) *kmsapi.MultiRegionConfiguration {
	if !k.MultiRegion || k.set == nil {
		return nil
	}
	set := k.set
	cfg := &kmsapi.MultiRegionConfiguration{
		MultiRegionKeyType: kmsapi.MultiRegionKeyTypePrimary,
		PrimaryKey:         &kmsapi.MultiRegionKey{Arn: ptr(keyARN(set.Primary, set.Account, set.ID)), Region: ptr(set.Primary)},
		ReplicaKeys:        []kmsapi.MultiRegionKey{},
	}
	if k.replica() {
		cfg.MultiRegionKeyType = kmsapi.MultiRegionKeyTypeReplica
	}
	for _, r := range set.Replicas {
		cfg.ReplicaKeys = append(cfg.ReplicaKeys, kmsapi.MultiRegionKey{Arn: ptr(keyARN(r, set.Account, set.ID)), Region: ptr(r)})
	}
	return cfg
}

// newMultiRegionID returns a random multi-Region key id: "mrk-" and 32
// hex digits.
func newMultiRegionID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	return "mrk-" + hex.EncodeToString(b[:]), nil
}

// parseMultiRegionID returns the 16 bytes of an "mrk-…" id.
func parseMultiRegionID(id string) ([16]byte, bool) {
	var out [16]byte
	if len(id) != 36 || id[:4] != "mrk-" {
		return out, false
	}
	if _, err := hex.Decode(out[:], []byte(id[4:])); err != nil {
		return out, false
	}
	return out, true
}

// ReplicateKey creates a replica of a multi-Region primary key in another
// region of the account: the same key id and key material, its own key
// policy, description and tags. The rule authorizes kms:ReplicateKey on
// the primary key; this handler kms:CreateKey (and, with tags,
// kms:TagResource) in the replica's region, as AWS requires.
func (s *Service) ReplicateKey(ctx context.Context, in *kmsapi.ReplicateKeyRequest) (*kmsapi.ReplicateKeyResponse, error) {
	c := service.CallFrom(ctx)
	region := deref(in.ReplicaRegion)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	if err := replicable(e.rec, region); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeIn(ctx, c, region, "kms:CreateKey", func(k map[string][]string) {
		k["kms:CallerAccount"] = []string{c.Principal.Account}
		k["kms:KeySpec"] = []string{string(e.rec.Spec)}
		k["kms:CustomerMasterKeySpec"] = []string{string(e.rec.Spec)}
		k["kms:KeyUsage"] = []string{string(e.rec.Usage)}
		k["kms:KeyOrigin"] = []string{string(e.rec.Origin)}
		k["kms:MultiRegion"] = []string{"true"}
		k["kms:MultiRegionKeyType"] = []string{string(kmsapi.MultiRegionKeyTypeReplica)}
		k["kms:BypassPolicyLockoutSafetyCheck"] = []string{boolString(in.BypassPolicyLockoutSafetyCheck)}
		requestTags(in.Tags, k)
	}); err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		if err := s.authorizeIn(ctx, c, region, "kms:TagResource", func(k map[string][]string) { requestTags(in.Tags, k) }); err != nil {
			return nil, err
		}
	}
	replica := &keyRecord{
		Account: e.rec.Account, Region: region, ID: e.rec.ID, MultiRegion: true,
		Description: deref(in.Description), Manager: kmsapi.KeyManagerTypeCustomer,
		State: kmsapi.KeyStateEnabled, Created: c.Now, Tags: tags,
	}
	if in.Policy != nil {
		if err := s.checkKeyPolicy(ctx, c, replica, *in.Policy, in.BypassPolicyLockoutSafetyCheck); err != nil {
			return nil, err
		}
		replica.Policy = *in.Policy
	} else {
		replica.Policy = defaultPolicy(replica.Account)
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		primary, err := getKey(tx, e.path)
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Key '%s' does not exist", e.arn)
		}
		if err != nil {
			return err
		}
		if err := replicable(primary, region); err != nil {
			return err
		}
		set := primary.set
		set.Replicas = append(set.Replicas, region)
		replica.join(set)
		if err := insertKey(tx, replica); errors.Is(err, store.ErrExists) {
			return alreadyReplicated(primary, region)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, awsproto.Internal(err)
	}
	out := &kmsapi.ReplicateKeyResponse{ReplicaKeyMetadata: metadata(replica), ReplicaPolicy: ptr(replica.Policy), ReplicaTags: []kmsapi.Tag{}}
	for _, t := range replica.Tags {
		out.ReplicaTags = append(out.ReplicaTags, kmsapi.Tag{TagKey: ptr(t.Key), TagValue: ptr(t.Value)})
	}
	return out, nil
}

// replicable checks that rec is a multi-Region primary key that can get a
// replica in region.
func replicable(rec *keyRecord, region string) error {
	if !rec.MultiRegion {
		return kmsapi.NewUnsupportedOperationException("%s is not a multi-Region key. You can replicate only multi-Region primary keys.", rec.arn())
	}
	if rec.replica() {
		return kmsapi.NewUnsupportedOperationException("%s is a multi-Region replica key. You can replicate only multi-Region primary keys; its primary key is in %s.", rec.arn(), rec.set.Primary)
	}
	if err := enabled(rec); err != nil {
		return err
	}
	if region == rec.Region || slices.Contains(rec.set.Replicas, region) {
		return alreadyReplicated(rec, region)
	}
	return nil
}

// enabled checks that a key is Enabled, as ReplicateKey and
// UpdatePrimaryRegion require ("Change the primary key in a set of
// multi-Region keys" in the KMS Developer Guide).
func enabled(rec *keyRecord) error {
	switch rec.State {
	case kmsapi.KeyStateEnabled:
		return nil
	case kmsapi.KeyStateDisabled:
		return kmsapi.NewDisabledException("%s is disabled.", rec.arn())
	}
	return kmsapi.NewKMSInvalidStateException("%s is %s.", rec.arn(), stateWords(rec.State))
}

func alreadyReplicated(rec *keyRecord, region string) error {
	return kmsapi.NewAlreadyExistsException("%s already exists", keyARN(region, rec.Account, rec.ID))
}

// UpdatePrimaryRegion makes the replica in PrimaryRegion the primary key
// and the current primary a replica. The rule authorizes
// kms:UpdatePrimaryRegion on the primary key; this handler on the replica
// key too, as AWS requires.
func (s *Service) UpdatePrimaryRegion(ctx context.Context, in *kmsapi.UpdatePrimaryRegionRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	region := deref(in.PrimaryRegion)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	if err := promotable(e.rec, region); err != nil {
		return nil, err
	}
	if region == e.rec.Region {
		return &awsproto.Empty{}, nil // already the primary
	}
	next, err := s.cache.key(ctx, keyPath(e.rec.Account, region, e.rec.ID))
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	if next == nil {
		return nil, kmsapi.NewNotFoundException("Key '%s' does not exist", keyARN(region, e.rec.Account, e.rec.ID))
	}
	if err := s.authorizeKeyIn(ctx, c, region, "kms:UpdatePrimaryRegion", next, func(k map[string][]string) {
		k["kms:PrimaryRegion"] = []string{region}
	}); err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		old, err := getKey(tx, e.path)
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Key '%s' does not exist", e.arn)
		}
		if err != nil {
			return err
		}
		if err := promotable(old, region); err != nil {
			return err
		}
		nr, err := getKey(tx, keyPath(old.Account, region, old.ID))
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Key '%s' does not exist", keyARN(region, old.Account, old.ID))
		}
		if err != nil {
			return err
		}
		if err := enabled(nr); err != nil {
			return err
		}
		set := old.set
		set.Replicas = append(slices.DeleteFunc(set.Replicas, func(r string) bool { return r == region }), old.Region)
		set.Primary = region
		return putKeySet(tx, set)
	})
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, awsproto.Internal(err)
	}
	return &awsproto.Empty{}, nil
}

// promotable checks that rec is a multi-Region primary key with a replica
// in region (or is itself in region).
func promotable(rec *keyRecord, region string) error {
	if !rec.MultiRegion {
		return kmsapi.NewUnsupportedOperationException("%s is not a multi-Region key.", rec.arn())
	}
	if rec.replica() {
		return kmsapi.NewUnsupportedOperationException("%s is a multi-Region replica key; UpdatePrimaryRegion is supported only on its primary key in %s.", rec.arn(), rec.set.Primary)
	}
	if err := enabled(rec); err != nil {
		return err
	}
	if region != rec.Region && !slices.Contains(rec.set.Replicas, region) {
		return kmsapi.NewNotFoundException("Key '%s' does not exist", keyARN(region, rec.Account, rec.ID))
	}
	return nil
}

// authorizeIn checks an action without a resource (kms:CreateKey) as a
// request to region would be checked.
func (s *Service) authorizeIn(ctx context.Context, c *service.Call, region, action string, keys func(map[string][]string)) error {
	req := c.Request(action)
	req.Region = region
	req.Keys = map[string][]string{}
	keys(req.Keys)
	return denied(c.Authz.Authorize(ctx, req))
}

// authorizeKeyIn checks an action on key e of another region, with its
// key policy and condition keys.
func (s *Service) authorizeKeyIn(ctx context.Context, c *service.Call, region, action string, e *keyEntry, extra func(map[string][]string)) error {
	req := c.Request(action)
	req.Region = region
	req.Resource = s.resource(c, e, action, "", nil)
	req.Keys = map[string][]string{}
	keyContext(c, e, keyRef{account: e.rec.Account, region: region, id: e.rec.ID}, req.Keys)
	if extra != nil {
		extra(req.Keys)
	}
	return denied(c.Authz.Authorize(ctx, req))
}

// dropFromKeySet updates the key set when the related key k is deleted:
// a replica leaves it, and when the last replica of a primary pending
// replica deletion goes, the primary's waiting period begins; the last
// key takes the key set with it.
func dropFromKeySet(tx store.Tx, k *keyRecord, now time.Time) error {
	set := k.set
	if !k.replica() {
		_, err := tx.Delete(TableKeySet, keySetPath(k.Account, k.ID))
		return err
	}
	set.Replicas = slices.DeleteFunc(set.Replicas, func(r string) bool { return r == k.Region })
	if err := putKeySet(tx, set); err != nil {
		return err
	}
	if len(set.Replicas) > 0 {
		return nil
	}
	p, err := getKey(tx, keyPath(k.Account, set.Primary, k.ID))
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.State != kmsapi.KeyStatePendingreplicadeletion {
		return nil
	}
	when := now.Add(time.Duration(p.PendingWindow) * 24 * time.Hour)
	p.State, p.DeletionDate = kmsapi.KeyStatePendingdeletion, &when
	return putKey(tx, p)
}
