package secretsmanager

// Multi-Region secrets ("Replicate AWS Secrets Manager secrets across
// Regions", Secrets Manager User Guide; API_ReplicateSecretToRegions,
// API_RemoveRegionsFromReplication, API_StopReplicationToReplica).
//
// A replica is a secret of the primary's account in another Region, with
// the primary's name and ARN but for the Region. It is stored as any secret
// of its Region is ("<account>/<region>/<name>"), so that every read there
// (GetSecretValue, DescribeSecret, ListSecrets, BatchGetSecretValue,
// ListSecretVersionIds, GetResourcePolicy) serves it unchanged, and marked
// with its primary's Region. The primary lists its replicas and their state.
//
// What follows the primary:
//   - metadata (description, tags, resource policy, versions and their
//     staging labels, rotation configuration): every save of a primary
//     copies it to its replicas in sync, in the same transaction (save →
//     syncReplicas);
//   - values: each version's value is sealed for each replica under a data
//     key of the replica's own KMS key in the replica's Region (its
//     KmsKeyId, by default that Region's aws/secretsmanager), with the
//     replica's ARN in the encryption context. A new version
//     (PutSecretValue, UpdateSecret, rotation) is sealed for every replica
//     in sync before the transaction that adds it, and written by it. A
//     disabled or missing key in a replica's Region thus stops reads there,
//     as in AWS, and a version that cannot be sealed for a replica leaves
//     that replica Failed without failing the write to the primary, as
//     AWS's asynchronous replication would; a Failed replica is purged
//     (it serves no stale value under a stale policy) until the Region is
//     replicated to again.
//
// Replication is done by the call itself, in one transaction, so a replica
// is InSync ("Replication succeeded") as soon as the call returns; rampart
// never reports InProgress. A replica cannot be changed on its own
// ("A replica secret can't be updated independently from its primary
// secret, except for its encryption key", standalone-secret.html): every
// write but UpdateSecret with only KmsKeyId answers InvalidParameterException
// "Operation not permitted on a replica secret. Call must be made in primary
// secret's region."; a primary with replicas cannot be deleted until they
// are removed.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/arn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// replicaState is one replica as its primary records it.
type replicaState struct {
	Region   string `json:"region"`
	KmsKeyID string `json:"kmsKeyId,omitempty"` // as the user gave it; "" is aws/secretsmanager of Region
	// Failed says why replication to Region failed; "" while in sync. A
	// failed Region has no replica of this secret (save purges it).
	Failed string `json:"failed,omitempty"`
}

// replica reports whether sc is a replica of a secret in another Region.
func (sc *secret) replica() bool { return sc.PrimaryRegion != "" }

// primaryRegion is PrimaryRegion as DescribeSecret and ListSecrets show it:
// a replica's primary's Region, a primary's own Region while it has
// replicas, else "" (a secret that is not replicated has none).
func (sc *secret) primaryRegion() string {
	switch {
	case sc.replica():
		return sc.PrimaryRegion
	case len(sc.Replicas) > 0:
		return sc.Region
	}
	return ""
}

// homeRegion is the Region the secret was created in: the value of the
// condition key secretsmanager:SecretPrimaryRegion.
func (sc *secret) homeRegion() string {
	if sc.replica() {
		return sc.PrimaryRegion
	}
	return sc.Region
}

func (sc *secret) replicaIndex(region string) int {
	return slices.IndexFunc(sc.Replicas, func(r replicaState) bool { return r.Region == region })
}

// replicaARN is arn with its Region replaced: "The ARN for a replicated
// secret is the same as the primary secret except for the Region".
func replicaARN(secretARN, region string) string {
	a, err := arn.Parse(secretARN)
	if err != nil {
		return secretARN
	}
	a.Region = region
	return a.String()
}

// ownReplica reports whether rec, stored in another Region under primary's
// name, is primary's replica (and not an unrelated secret of that name).
func ownReplica(primary, rec *secret) bool {
	return rec != nil && rec.replica() && rec.PrimaryRegion == primary.Region && rec.ARN == replicaARN(primary.ARN, rec.Region)
}

// errReplica is AWS's answer to a change made to a replica.
func errReplica() error {
	return smapi.NewInvalidParameterException("Operation not permitted on a replica secret. Call must be made in primary secret's region.")
}

// errReplicaRegion is AWS's answer to a Region a secret cannot be
// replicated to: its own, or one that does not exist.
func errReplicaRegion() error { return smapi.NewInvalidParameterException("Invalid replica region.") }

// checkDeletable refuses to delete a primary that still has replicas, in
// AWS's words.
func checkDeletable(sc *secret) error {
	if len(sc.Replicas) == 0 {
		return nil
	}
	regions := make([]string, len(sc.Replicas))
	for i, r := range sc.Replicas {
		regions[i] = r.Region
	}
	return smapi.NewInvalidParameterException("You can't delete secret %s that still has replica regions [%s].", sc.ARN, strings.Join(regions, ", "))
}

// mustFindAny is mustFind accepting a replica.
func mustFindAny(tx store.Tx, c *service.Call, id *string) (*secret, error) {
	sc, err := find(txLoader(tx), parseID(c, deref(id)), c.Now)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	return sc.clone(), nil
}

// partitionRegions are the Regions of the aws partition ("Name and code of
// Regions"): a secret replicates only within its partition, and rampart's
// ARNs are of the aws partition.
var partitionRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-1": true, "ap-south-2": true,
	"ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ap-southeast-3": true, "ap-southeast-4": true,
	"ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true,
	"ca-central-1": true, "ca-west-1": true,
	"eu-central-1": true, "eu-central-2": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true,
	"eu-south-1": true, "eu-south-2": true, "eu-north-1": true,
	"il-central-1": true, "me-south-1": true, "me-central-1": true, "mx-central-1": true, "sa-east-1": true,
}

// checkReplicaRegions validates the Regions that a secret of
// primaryRegion, whose replicas are have, is to be replicated to: each a
// Region of the partition, not the primary's, given once, not already in
// sync (a Region whose replication failed may be tried again).
func checkReplicaRegions(primaryRegion string, have []replicaState, add []smapi.ReplicaRegionType) error {
	seen := map[string]bool{}
	for _, r := range add {
		region := deref(r.Region)
		if region == "" || region == primaryRegion || !partitionRegions[region] || seen[region] {
			return errReplicaRegion()
		}
		seen[region] = true
		if i := slices.IndexFunc(have, func(h replicaState) bool { return h.Region == region }); i >= 0 && have[i].Failed == "" {
			return smapi.NewInvalidParameterException("The secret is already replicated to %s.", region)
		}
	}
	return nil
}

// replicaContext sets the condition keys of a request that adds replicas:
// secretsmanager:AddReplicaRegions (absent without replicas, so that
// "Null": {"secretsmanager:AddReplicaRegions": "true"} prevents
// replication, replicate-secrets-permissions.html) and
// secretsmanager:ForceOverwriteReplicaSecret.
func replicaContext(add []smapi.ReplicaRegionType, force *bool, keys map[string][]string) {
	if len(add) == 0 {
		return
	}
	names := make([]string, 0, len(add))
	for _, r := range add {
		names = append(names, deref(r.Region))
	}
	keys["secretsmanager:AddReplicaRegions"] = names
	if force != nil {
		keys["secretsmanager:ForceOverwriteReplicaSecret"] = []string{strconv.FormatBool(*force)}
	}
}

// registerReplication registers the three replication operations, each
// acting on the secret SecretId names (the primary for the first two, the
// replica for StopReplicationToReplica).
func (s *Service) registerReplication(r *service.Registry) {
	service.Handle(r, smapi.OpReplicateSecretToRegions, s.ReplicateSecretToRegions, onSecret(s, "secretsmanager:ReplicateSecretToRegions",
		func(in *smapi.ReplicateSecretToRegionsRequest) *string { return in.SecretId },
		func(in *smapi.ReplicateSecretToRegionsRequest, keys map[string][]string) {
			replicaContext(in.AddReplicaRegions, in.ForceOverwriteReplicaSecret, keys)
		}))
	service.Handle(r, smapi.OpRemoveRegionsFromReplication, s.RemoveRegionsFromReplication, onSecret(s, "secretsmanager:RemoveRegionsFromReplication",
		func(in *smapi.RemoveRegionsFromReplicationRequest) *string { return in.SecretId }, nil))
	service.Handle(r, smapi.OpStopReplicationToReplica, s.StopReplicationToReplica, onSecret(s, "secretsmanager:StopReplicationToReplica",
		func(in *smapi.StopReplicationToReplicaRequest) *string { return in.SecretId }, nil))
}

// replicaOf is what primary's replica in region holds: primary's metadata
// and versions with the replica's own ARN, Region, KMS key, creation and
// access dates and the KMS key of each version's sealed value (from old,
// the replica as stored, or nil for a new one).
func replicaOf(primary, old *secret, region, kmsKeyID string) *secret {
	cp := primary.clone()
	cp.ARN, cp.Region, cp.PrimaryRegion, cp.Replicas = replicaARN(primary.ARN, region), region, primary.Region, nil
	cp.KmsKeyID = kmsKeyID
	cp.Accessed = time.Time{}
	if cp.Rotation != nil {
		// Rotation runs in the primary's Region only: no identity to run
		// as, and no claim of a rotation running.
		cp.Rotation.RunAs, cp.Rotation.Running = nil, nil
	}
	if old != nil {
		cp.Created, cp.Accessed = old.Created, old.Accessed
	}
	for _, v := range cp.Versions {
		v.Accessed, v.KeyARN = time.Time{}, ""
		if old != nil {
			if ov := old.version(v.ID); ov != nil {
				v.Accessed, v.KeyARN = ov.Accessed, ov.KeyARN
			}
		}
	}
	return cp
}

// syncReplicas copies primary's metadata to its replicas in sync, and drops
// their values of versions primary no longer has. save calls it, so that
// no change to a primary leaves its replicas behind.
func syncReplicas(tx store.Tx, primary *secret) error {
	for _, r := range primary.Replicas {
		key := secretKey(primary.Account, r.Region, primary.Name)
		old, err := load(tx, key)
		if err != nil {
			return err
		}
		if !ownReplica(primary, old) {
			continue
		}
		if r.Failed != "" {
			// A replica that could not follow its primary serves nothing:
			// not a value the primary has replaced, nor under a resource
			// policy or tags the primary no longer has. Its status stays
			// Failed; replicating to the Region again rebuilds it.
			if err := purge(tx, old); err != nil {
				return err
			}
			continue
		}
		cp := replicaOf(primary, old, r.Region, r.KmsKeyID)
		for _, v := range old.Versions {
			if cp.version(v.ID) == nil {
				if _, err := tx.Delete(TableValue, valueKey(key, v.ID)); err != nil {
					return err
				}
			}
		}
		b, err := json.Marshal(cp)
		if err != nil {
			return err
		}
		if err := tx.Put(TableSecret, key, b); err != nil {
			return err
		}
	}
	return nil
}

// sealed is one version's value sealed for a replica.
type sealed struct {
	sv     *sealedValue
	keyARN string
}

// replicaPlan is what a call brings to one Region: the values sealed for
// the replica there, prepared outside the transaction (KMS has its own),
// or why it failed.
type replicaPlan struct {
	region, kmsKeyID string
	seals            map[string]sealed // by version id
	keyARN           string            // the KMS key the values were sealed under ("" without values)
	failed           string
}

// seal seals values (by version id) for primary's replica in region under
// kmsKeyID, as a request to that Region would: KMS authorizes the caller
// there (kms:GenerateDataKey with kms:ViaService secretsmanager.<region>).
// A refusal or failure of KMS (a missing, disabled or forbidden key) is
// the replica's failure, in plan.failed; other errors are returned.
func (s *Service) seal(ctx context.Context, c *service.Call, primary *secret, region, kmsKeyID string, values map[string]plainValue) (*replicaPlan, error) {
	p := &replicaPlan{region: region, kmsKeyID: kmsKeyID, seals: map[string]sealed{}}
	rc := *c
	rc.Region = region
	rs := &secret{ARN: replicaARN(primary.ARN, region), Name: primary.Name, Account: primary.Account, Region: region}
	for id, pv := range values {
		sv, keyARN, err := s.encrypt(ctx, &rc, rs, kmsKeyID, id, pv)
		if err != nil {
			ae := awsproto.AsError(err)
			if !ae.Sender {
				return nil, err
			}
			return &replicaPlan{region: region, kmsKeyID: kmsKeyID, failed: "Replication failed: " + ae.Message}, nil
		}
		p.seals[id] = sealed{sv, keyARN}
		p.keyARN = keyARN
	}
	return p, nil
}

// replicaKeyID is the KmsKeyId stored for primary's new replica in region
// that a request gave the KmsKeyId keyID, its values sealed under keyARN:
// "" when keyID names that Region's aws/secretsmanager, as for a secret
// created there (newKeyID): the managed key of the replica's account and
// Region.
func (s *Service) replicaKeyID(ctx context.Context, primary *secret, region, keyID, keyARN string) (string, error) {
	rs := &secret{ARN: replicaARN(primary.ARN, region), Name: primary.Name, Account: primary.Account, Region: region}
	return s.newKeyID(ctx, rs, keyID, keyARN) // create_secret.go
}

// sealForReplicas seals pv, about to become version versionID of sc, for
// each of sc's replicas in sync. addVersion calls it before its
// transaction, then prepareReplicas and putReplicaValues within it.
func (s *Service) sealForReplicas(ctx context.Context, c *service.Call, sc *secret, versionID string, pv plainValue) ([]*replicaPlan, error) {
	var plans []*replicaPlan
	for _, r := range sc.Replicas {
		if r.Failed != "" {
			continue
		}
		p, err := s.seal(ctx, c, sc, r.Region, r.KmsKeyID, map[string]plainValue{versionID: pv})
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// prepareReplicas, in the transaction that adds a version to cur, marks
// the replicas the version could not be sealed for as failed (they keep
// their last value), before cur is saved and synced. A replica added or
// re-keyed since the version was sealed makes the caller retry.
func prepareReplicas(cur *secret, plans []*replicaPlan) error {
	for i, r := range cur.Replicas {
		if r.Failed != "" {
			continue
		}
		j := slices.IndexFunc(plans, func(p *replicaPlan) bool { return p.region == r.Region && p.kmsKeyID == r.KmsKeyID })
		if j < 0 {
			return smapi.NewInvalidRequestException("The secret's replicas changed while the value was being encrypted; retry the request.")
		}
		if plans[j].failed != "" {
			cur.Replicas[i].Failed = plans[j].failed
		}
	}
	return nil
}

// putReplicaValues writes version versionID's sealed values to cur's
// replicas in sync, after cur (and so the replicas' metadata) is saved.
func putReplicaValues(tx store.Tx, cur *secret, versionID string, plans []*replicaPlan) error {
	for _, r := range cur.Replicas {
		if r.Failed != "" {
			continue
		}
		j := slices.IndexFunc(plans, func(p *replicaPlan) bool { return p.region == r.Region })
		if j < 0 {
			continue
		}
		sl, ok := plans[j].seals[versionID]
		if !ok {
			continue
		}
		rec, err := load(tx, secretKey(cur.Account, r.Region, cur.Name))
		if err != nil {
			return err
		}
		if !ownReplica(cur, rec) {
			continue
		}
		if v := rec.version(versionID); v != nil {
			v.KeyARN = sl.keyARN
		}
		if err := save(tx, rec); err != nil {
			return err
		}
		if err := putValue(tx, rec, versionID, sl.sv); err != nil {
			return err
		}
	}
	return nil
}

// replication is a request to replicate a secret to Regions.
type replication struct {
	force bool
	plans []*replicaPlan // in the request's order
}

// planReplication seals values (every version of sc, by id) for each
// Region of add. A Region holding a secret of that name already is
// planned as failed unless force ("Secret with this name already exists
// in this region"); apply decides again in its transaction.
func (s *Service) planReplication(ctx context.Context, c *service.Call, sc *secret, add []smapi.ReplicaRegionType, force bool, values map[string]plainValue) (*replication, error) {
	rep := &replication{force: force}
	for _, r := range add {
		region, keyID := deref(r.Region), deref(r.KmsKeyId)
		old, err := s.cachedSecret(ctx, secretKey(sc.Account, region, sc.Name))
		if err != nil {
			return nil, err
		}
		if why := replaceable(sc, old, force, c.Now); why != "" {
			rep.plans = append(rep.plans, &replicaPlan{region: region, kmsKeyID: keyID, failed: why})
			continue
		}
		p, err := s.seal(ctx, c, sc, region, keyID, values)
		if err != nil {
			return nil, err
		}
		if p.failed == "" {
			// The managed key named by ARN or key id is stored as the
			// default, so that the replica is one under that key. (Only
			// here, for a new replica: sealForReplicas seals with the
			// KmsKeyId stored, which prepareReplicas compares.)
			if p.kmsKeyID, err = s.replicaKeyID(ctx, sc, region, keyID, p.keyARN); err != nil {
				return nil, err
			}
		}
		rep.plans = append(rep.plans, p)
	}
	return rep, nil
}

// replaceable says why old, the secret stored under the name of primary
// in a Region it is being replicated to, stops the replication there ("" if
// nothing does). With ForceOverwriteReplicaSecret a standalone secret is
// overwritten; a secret that is itself replicated, or another secret's
// replica, never is.
func replaceable(primary, old *secret, force bool, now time.Time) string {
	if old == nil || old.gone(now) {
		return ""
	}
	if !force || old.replica() || len(old.Replicas) > 0 {
		return "Replication failed: Secret name " + primary.Name + " already exists in region " + old.Region + "."
	}
	return ""
}

// apply replicates primary, as loaded in tx (it is changed and saved), to
// the planned Regions, and returns their status.
func (rep *replication) apply(tx store.Tx, c *service.Call, primary *secret) ([]smapi.ReplicationStatusType, error) {
	if rep == nil || len(rep.plans) == 0 {
		return nil, nil
	}
	out := make([]smapi.ReplicationStatusType, 0, len(rep.plans))
	for _, p := range rep.plans {
		key := secretKey(primary.Account, p.region, primary.Name)
		old, err := load(tx, key)
		if err != nil {
			return nil, err
		}
		failed := p.failed
		if failed == "" {
			failed = replaceable(primary, old, rep.force, c.Now)
		}
		if failed == "" {
			if old != nil {
				if err := purge(tx, old); err != nil {
					return nil, err
				}
			}
			rec := replicaOf(primary, nil, p.region, p.kmsKeyID)
			rec.Created = c.Now
			for _, v := range rec.Versions {
				sl, ok := p.seals[v.ID]
				if !ok {
					return nil, smapi.NewInvalidRequestException("The secret changed while it was being replicated; retry the request.")
				}
				v.KeyARN = sl.keyARN
				if err := putValue(tx, rec, v.ID, sl.sv); err != nil {
					return nil, err
				}
			}
			if err := save(tx, rec); err != nil {
				return nil, err
			}
		}
		st := replicaState{Region: p.region, KmsKeyID: p.kmsKeyID, Failed: failed}
		if i := primary.replicaIndex(p.region); i >= 0 {
			primary.Replicas[i] = st
		} else {
			primary.Replicas = append(primary.Replicas, st)
		}
		out = append(out, statusOf(st, nil))
	}
	primary.LastChanged = c.Now
	return out, save(tx, primary)
}

// statusOf is a replica's ReplicationStatus entry; rec is the replica as
// stored (for its LastAccessedDate), or nil.
func statusOf(r replicaState, rec *secret) smapi.ReplicationStatusType {
	st := smapi.ReplicationStatusType{Region: ptr(r.Region), KmsKeyId: ptr(r.KmsKeyID),
		Status: smapi.StatusTypeInsync, StatusMessage: ptr("Replication succeeded")}
	if r.KmsKeyID == "" {
		st.KmsKeyId = ptr("alias/aws/secretsmanager")
	}
	if r.Failed != "" {
		st.Status, st.StatusMessage = smapi.StatusTypeFailed, ptr(r.Failed)
	}
	if rec != nil {
		st.LastAccessedDate = timePtr(rec.Accessed)
	}
	return st
}

// replicationStatus is DescribeSecret's ReplicationStatus of a primary
// (nil for a secret without replicas, and for a replica).
func (s *Service) replicationStatus(ctx context.Context, sc *secret) []smapi.ReplicationStatusType {
	if len(sc.Replicas) == 0 {
		return nil
	}
	out := make([]smapi.ReplicationStatusType, 0, len(sc.Replicas))
	for _, r := range sc.Replicas {
		rec, _ := s.cachedSecret(ctx, secretKey(sc.Account, r.Region, sc.Name)) // only for LastAccessedDate
		if !ownReplica(sc, rec) {
			rec = nil
		}
		out = append(out, statusOf(r, rec))
	}
	return out
}

// openAll decrypts every version of sc, as the caller (kms:Decrypt on the
// primary's key: "If the primary secret is encrypted with a KMS key other
// than aws/secretsmanager, you also need kms:Decrypt permission to the
// key"). The caller clears the values.
func (s *Service) openAll(ctx context.Context, c *service.Call, sc *secret) (map[string]plainValue, error) {
	out := map[string]plainValue{}
	for _, v := range sc.Versions {
		sv, err := s.cachedValue(ctx, valueKey(sc.key(), v.ID))
		if err != nil {
			clearValues(out)
			return nil, err
		}
		if sv == nil {
			continue
		}
		pv, err := s.decrypt(ctx, c, sc, v.ID, sv)
		if err != nil {
			clearValues(out)
			return nil, err
		}
		out[v.ID] = pv
	}
	return out, nil
}

func clearValues(m map[string]plainValue) {
	for _, pv := range m {
		clear(pv.data)
	}
}

// authorizeCreateReplicas: CreateSecret with AddReplicaRegions "must also
// have secretsmanager:ReplicateSecretToRegions" (API_CreateSecret), on the
// secret being created.
func (s *Service) authorizeCreateReplicas(ctx context.Context, c *service.Call, sc *secret, in *smapi.CreateSecretRequest) error {
	if c.Authz == nil || c.Principal == nil {
		return accessDenied("Secrets Manager has no identity to authorize secretsmanager:ReplicateSecretToRegions")
	}
	req := c.Request("secretsmanager:ReplicateSecretToRegions")
	req.Resource = &authz.Resource{ARN: sc.ARN, Account: sc.Account, PolicyKind: "resource", Tags: sc.tagMap()}
	req.Keys = map[string][]string{"secretsmanager:SecretId": {sc.ARN}, "secretsmanager:SecretPrimaryRegion": {sc.Region}}
	for _, t := range sc.Tags {
		req.Keys["secretsmanager:ResourceTag/"+t.Key] = []string{t.Value}
	}
	replicaContext(in.AddReplicaRegions, in.ForceOverwriteReplicaSecret, req.Keys)
	err := c.Authz.Authorize(ctx, req)
	if d := (*authz.Denied)(nil); errors.As(err, &d) {
		return accessDenied(d.Message)
	}
	return err
}

// ReplicateSecretToRegions replicates a secret to other Regions of its
// account, each replica encrypted under the KmsKeyId given for its Region
// (by default that Region's aws/secretsmanager). A Region where a secret
// of that name exists already, or whose KMS key cannot be used, is
// reported Failed with the reason; the others are InSync on return.
func (s *Service) ReplicateSecretToRegions(ctx context.Context, in *smapi.ReplicateSecretToRegionsRequest) (*smapi.ReplicateSecretToRegionsResponse, error) {
	c := service.CallFrom(ctx)
	sc, err := s.lookup(ctx, c, deref(in.SecretId))
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	if sc.replica() {
		return nil, errReplica()
	}
	if sc.scheduled() {
		return nil, errMarkedDeleted()
	}
	if err := checkReplicaRegions(sc.Region, sc.Replicas, in.AddReplicaRegions); err != nil {
		return nil, err
	}
	values, err := s.openAll(ctx, c, sc)
	if err != nil {
		return nil, err
	}
	defer clearValues(values)
	rep, err := s.planReplication(ctx, c, sc, in.AddReplicaRegions, deref(in.ForceOverwriteReplicaSecret), values)
	if err != nil {
		return nil, err
	}
	var statuses []smapi.ReplicationStatusType
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, &sc.ARN)
		if err != nil {
			return err
		}
		if err := checkReplicaRegions(cur.Region, cur.Replicas, in.AddReplicaRegions); err != nil {
			return err
		}
		statuses, err = rep.apply(tx, c, cur)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &smapi.ReplicateSecretToRegionsResponse{ARN: ptr(sc.ARN), ReplicationStatus: statuses}, nil
}

// RemoveRegionsFromReplication deletes the secret's replicas in the given
// Regions (at once: a replica has no recovery window) and returns the
// status of those that remain. A Region without a replica is ignored.
func (s *Service) RemoveRegionsFromReplication(ctx context.Context, in *smapi.RemoveRegionsFromReplicationRequest) (*smapi.RemoveRegionsFromReplicationResponse, error) {
	c := service.CallFrom(ctx)
	out := &smapi.RemoveRegionsFromReplicationResponse{}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		out.ReplicationStatus = []smapi.ReplicationStatusType{} // the store may run this again
		cur, err := mustFind(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		changed := false
		for _, region := range in.RemoveReplicaRegions {
			i := cur.replicaIndex(region)
			if i < 0 {
				continue
			}
			rec, err := load(tx, secretKey(cur.Account, region, cur.Name))
			if err != nil {
				return err
			}
			if ownReplica(cur, rec) {
				if err := purge(tx, rec); err != nil {
					return err
				}
			}
			cur.Replicas = slices.Delete(cur.Replicas, i, i+1)
			changed = true
		}
		out.ARN = ptr(cur.ARN)
		for _, r := range cur.Replicas {
			rec, err := load(tx, secretKey(cur.Account, r.Region, cur.Name))
			if err != nil {
				return err
			}
			if !ownReplica(cur, rec) {
				rec = nil
			}
			out.ReplicationStatus = append(out.ReplicationStatus, statusOf(r, rec))
		}
		if !changed {
			return nil
		}
		if len(cur.Replicas) == 0 {
			cur.Replicas = nil
		}
		cur.LastChanged = c.Now
		return save(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StopReplicationToReplica promotes a replica to a standalone secret of
// its Region: it keeps its ARN, metadata, versions and values, no longer
// follows the primary, and takes changes again. Rotation is left off
// ("promote a replica to a standalone secret if you want to turn on
// rotation for the replica"). SecretId names the replica, or the primary
// when called in the replica's Region ("You must call this operation from
// the Region in which you want to promote the replica").
func (s *Service) StopReplicationToReplica(ctx context.Context, in *smapi.StopReplicationToReplicaRequest) (*smapi.StopReplicationToReplicaResponse, error) {
	c := service.CallFrom(ctx)
	var out *smapi.StopReplicationToReplicaResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		rec, err := mustFindAny(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		if !rec.replica() && rec.Region != c.Region {
			other, err := load(tx, secretKey(rec.Account, c.Region, rec.Name))
			if err != nil {
				return err
			}
			if ownReplica(rec, other) && !other.gone(c.Now) {
				rec = other
			}
		}
		if !rec.replica() {
			return smapi.NewInvalidParameterException("The secret %s is not a replica secret.", rec.ARN)
		}
		if rec.Region != c.Region {
			return smapi.NewInvalidParameterException("You must call this operation from the Region of the replica to promote, %s.", rec.Region)
		}
		// The rule authorized the secret SecretId names; when that is the
		// primary, the replica promoted here is authorized too (its own
		// resource policy may deny what the primary's allows).
		if found, ok := service.Found[*secret](c, in); !ok || found == nil || found.ARN != rec.ARN {
			req := c.Request("secretsmanager:StopReplicationToReplica")
			req.Resource = secretResource(c, rec, rec.ARN)
			req.Keys = map[string][]string{}
			secretKeys(c, rec, rec.ARN, req.Keys)
			if err := c.Authz.Authorize(ctx, req); err != nil {
				var d *authz.Denied
				if errors.As(err, &d) {
					return accessDenied(d.Message)
				}
				return err
			}
		}
		primary, err := load(tx, secretKey(rec.Account, rec.PrimaryRegion, rec.Name))
		if err != nil {
			return err
		}
		if primary != nil && ownReplica(primary, rec) {
			if i := primary.replicaIndex(rec.Region); i >= 0 {
				primary.Replicas = slices.Delete(primary.Replicas, i, i+1)
				if len(primary.Replicas) == 0 {
					primary.Replicas = nil
				}
				primary.LastChanged = c.Now
				if err := save(tx, primary); err != nil {
					return err
				}
			}
		}
		rec.PrimaryRegion = ""
		if rec.Rotation != nil {
			rec.Rotation.Enabled, rec.Rotation.Next = false, time.Time{}
		}
		rec.LastChanged = c.Now
		out = &smapi.StopReplicationToReplicaResponse{ARN: ptr(rec.ARN)}
		return save(tx, rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateReplica is UpdateSecret on a replica: only its KMS key may change
// (standalone-secret.html). The replica's labelled versions are
// re-encrypted under the new key, as UpdateSecret does for any secret, and
// the primary records the key for the values it replicates from now on.
func (s *Service) updateReplica(ctx context.Context, c *service.Call, sc *secret, in *smapi.UpdateSecretRequest, hasValue bool) (*smapi.UpdateSecretResponse, error) {
	if hasValue || in.Description != nil || in.Type != nil || in.KmsKeyId == nil {
		return nil, errReplica()
	}
	out := &smapi.UpdateSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
	keyID := *in.KmsKeyId
	if keyID == sc.KmsKeyID {
		return out, nil
	}
	rc := *c
	rc.Region = sc.Region
	done := map[string]sealed{}
	var keyARN string // the new key's, once KMS named it
	for _, v := range sc.Versions {
		if !slices.ContainsFunc(v.Stages, func(st string) bool { return st == stageCurrent || st == stagePending || st == stagePrevious }) {
			continue
		}
		old, err := s.cachedValue(ctx, valueKey(sc.key(), v.ID))
		if err != nil {
			return nil, err
		}
		if old == nil {
			continue
		}
		pv, err := s.decrypt(ctx, &rc, sc, v.ID, old)
		if err != nil {
			return nil, err
		}
		sv, arn, err := s.encrypt(ctx, &rc, sc, keyID, v.ID, pv)
		clear(pv.data)
		if err != nil {
			return nil, err
		}
		done[v.ID] = sealed{sv, arn}
		keyARN = arn
	}
	if len(done) == 0 {
		// Check the key now, as UpdateSecret does for any secret.
		_, arn, err := s.encrypt(ctx, &rc, sc, keyID, "check", plainValue{})
		if err != nil {
			return nil, err
		}
		keyARN = arn
	}
	// The Region's managed key named by ARN or key id is stored as the
	// default, as UpdateSecret stores it for any secret.
	stored, err := s.newKeyID(ctx, sc, keyID, keyARN) // create_secret.go
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		rec, err := mustFindAny(tx, c, &sc.ARN)
		if err != nil {
			return err
		}
		if !rec.replica() {
			return smapi.NewInvalidRequestException("The secret was promoted while its versions were being re-encrypted; retry the request.")
		}
		if rec.KmsKeyID != sc.KmsKeyID {
			return smapi.NewInvalidRequestException("The secret's KMS key changed while its versions were being re-encrypted; retry the request.")
		}
		rec.KmsKeyID = stored
		for id, d := range done {
			v := rec.version(id)
			if v == nil {
				continue
			}
			v.KeyARN = d.keyARN
			if err := putValue(tx, rec, id, d.sv); err != nil {
				return err
			}
		}
		if err := save(tx, rec); err != nil {
			return err
		}
		primary, err := load(tx, secretKey(rec.Account, rec.PrimaryRegion, rec.Name))
		if err != nil || primary == nil || !ownReplica(primary, rec) {
			return err
		}
		if i := primary.replicaIndex(rec.Region); i >= 0 && primary.Replicas[i].KmsKeyID != stored {
			primary.Replicas[i].KmsKeyID = stored
			return save(tx, primary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
