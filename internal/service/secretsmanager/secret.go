package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// Staging labels Secrets Manager gives meaning to.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
	stagePending  = "AWSPENDING"
)

// Quotas ("Secrets Manager quotas",
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
const (
	maxVersions        = 100 // versions per secret, labelled or not
	maxStagesPerVer    = 20  // staging labels per version
	maxTags            = 50
	deprecatedMinAge   = 24 * time.Hour // unlabelled versions younger than this are kept
	defaultRecoveryWin = 30
)

// secret is a secret's metadata as stored (JSON) and cached. A cached
// secret is shared and never modified: writers clone it first.
type secret struct {
	ARN         string     `json:"arn"`
	Name        string     `json:"name"`
	Account     string     `json:"account"`
	Region      string     `json:"region"`
	Description *string    `json:"description,omitempty"`
	KmsKeyID    string     `json:"kmsKeyId,omitempty"` // as the user gave it; "" is aws/secretsmanager
	Type        string     `json:"type,omitempty"`
	Tags        []tag      `json:"tags,omitempty"`
	Policy      string     `json:"policy,omitempty"`
	Created     time.Time  `json:"created"`
	LastChanged time.Time  `json:"lastChanged"`
	Accessed    time.Time  `json:"accessed,omitzero"` // day of the last GetSecretValue
	Deleted     time.Time  `json:"deleted,omitzero"`  // when DeleteSecret was called
	DeleteAt    time.Time  `json:"deleteAt,omitzero"` // end of the recovery window
	Versions    []*version `json:"versions,omitempty"`
	Rotation    *rotation  `json:"rotation,omitempty"`
	// Replication (replication.go): a replica's primary's Region ("" when
	// the secret is not a replica), a primary's replicas.
	PrimaryRegion string         `json:"primaryRegion,omitempty"`
	Replicas      []replicaState `json:"replicas,omitempty"`

	// az is what the hot path needs of a cached secret (prepared.go);
	// nil on a secret not read through the cache, and on a clone.
	az *secretAuthz
}

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type version struct {
	ID       string    `json:"id"`
	Stages   []string  `json:"stages"`
	Created  time.Time `json:"created"`
	Accessed time.Time `json:"accessed,omitzero"`
	KeyARN   string    `json:"keyArn,omitempty"`
}

// scheduled reports whether the secret is scheduled for deletion.
func (sc *secret) scheduled() bool { return !sc.Deleted.IsZero() }

// gone reports whether the recovery window has ended at now: the secret no
// longer exists, whether or not the background loop has removed it yet.
func (sc *secret) gone(now time.Time) bool { return !sc.DeleteAt.IsZero() && !now.Before(sc.DeleteAt) }

func (sc *secret) clone() *secret {
	c := *sc
	c.az = nil // made to be changed: what was prepared no longer holds
	c.Tags = slices.Clone(sc.Tags)
	c.Replicas = slices.Clone(sc.Replicas)
	c.Versions = make([]*version, len(sc.Versions))
	for i, v := range sc.Versions {
		vv := *v
		vv.Stages = slices.Clone(v.Stages)
		c.Versions[i] = &vv
	}
	if sc.Rotation != nil {
		r := *sc.Rotation
		c.Rotation = &r
	}
	return &c
}

func (sc *secret) version(id string) *version {
	for _, v := range sc.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (sc *secret) staged(stage string) *version {
	for _, v := range sc.Versions {
		if slices.Contains(v.Stages, stage) {
			return v
		}
	}
	return nil
}

func (sc *secret) tagMap() map[string]string {
	if len(sc.Tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(sc.Tags))
	for _, t := range sc.Tags {
		m[t.Key] = t.Value
	}
	return m
}

func (sc *secret) versionsToStages() map[string][]string {
	m := map[string][]string{}
	for _, v := range sc.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = slices.Clone(v.Stages)
		}
	}
	return m
}

// moveStage attaches stage to v, removing it from every other version. When
// AWSCURRENT moves, the version that had it gets AWSPREVIOUS, as AWS does
// ("Whenever you move AWSCURRENT, Secrets Manager automatically moves the
// label AWSPREVIOUS to the version that AWSCURRENT was removed from").
func (sc *secret) moveStage(stage string, to *version) {
	var from *version
	for _, v := range sc.Versions {
		if v != to && slices.Contains(v.Stages, stage) {
			v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == stage })
			from = v
		}
	}
	if !slices.Contains(to.Stages, stage) {
		to.Stages = append(to.Stages, stage)
	}
	if stage == stageCurrent && from != nil {
		sc.moveStage(stagePrevious, from)
	}
	if stage == stageCurrent {
		to.Stages = slices.DeleteFunc(to.Stages, func(s string) bool { return s == stagePrevious })
	}
}

// prune drops versions without staging labels, oldest first, while the
// secret has more than maxVersions of them and they are at least a day old
// ("Secrets Manager removes outdated versions when there are more than
// 100, but it does not remove versions created less than 24 hours ago").
// It returns the ids dropped, whose values the caller deletes.
func (sc *secret) prune(now time.Time) (dropped []string) {
	for len(sc.Versions) > maxVersions {
		idx := -1
		for i, v := range sc.Versions {
			if len(v.Stages) == 0 && now.Sub(v.Created) >= deprecatedMinAge && (idx < 0 || v.Created.Before(sc.Versions[idx].Created)) {
				idx = i
			}
		}
		if idx < 0 {
			return dropped
		}
		dropped = append(dropped, sc.Versions[idx].ID)
		sc.Versions = slices.Delete(sc.Versions, idx, idx+1)
	}
	return dropped
}

func secretKey(account, region, name string) string { return account + "/" + region + "/" + name }

func (sc *secret) key() string { return secretKey(sc.Account, sc.Region, sc.Name) }

// valueSep ends a secret's key within its values' keys. Secret names never
// hold control characters, so "<secret key>\x01" is a prefix of that
// secret's values only; it is not NUL, which PostgreSQL text cannot hold.
const valueSep = "\x01"

func valueKey(secretKey, versionID string) string { return secretKey + valueSep + versionID }

// ref is a SecretId resolved to where the secret would be stored.
type ref struct {
	account, region string
	// names to try, in order: for a full ARN the name without its
	// six-character suffix, then the whole resource as a partial ARN.
	names []string
	arn   string // the ARN given, "" for a name
	id    string // as given
}

// parseID resolves a SecretId (a name, a full ARN or a partial ARN without
// the random suffix) for the caller of c. AWS: "For an ARN, we recommend
// that you specify a complete ARN rather than a partial ARN"; a partial ARN
// is resolved as the name it ends with.
func parseID(c *service.Call, id string) ref {
	r := ref{account: c.Principal.Account, region: c.Region, id: id}
	if !strings.HasPrefix(id, "arn:") {
		r.names = []string{id}
		return r
	}
	parts := strings.SplitN(id, ":", 7)
	if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
		return r // matches nothing
	}
	r.arn, r.region, r.account = id, parts[3], parts[4]
	res := parts[6]
	if n := len(res); n > 7 && res[n-7] == '-' {
		r.names = append(r.names, res[:n-7])
	}
	r.names = append(r.names, res)
	return r
}

// loader reads the secret stored under a key (nil when absent): from a
// transaction, or through the cache.
type loader func(key string) (*secret, error)

func txLoader(tx store.Tx) loader { return func(key string) (*secret, error) { return load(tx, key) } }

// find returns the secret r names, or nil. A secret whose recovery window
// has ended at now is not found.
func find(ld loader, r ref, now time.Time) (*secret, error) {
	for _, name := range r.names {
		sc, err := ld(secretKey(r.account, r.region, name))
		if err != nil {
			return nil, err
		}
		if sc == nil || sc.gone(now) {
			continue
		}
		if r.arn != "" && name != r.names[len(r.names)-1] && sc.ARN != r.arn {
			continue // the suffix is not this secret's: try the partial form
		}
		return sc, nil
	}
	return nil, nil
}

func load(tx store.Tx, key string) (*secret, error) {
	v, err := tx.Get(TableSecret, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := new(secret)
	if err := json.Unmarshal(v, sc); err != nil {
		return nil, fmt.Errorf("secretsmanager: decode %s: %w", key, err)
	}
	return sc, nil
}

// decodeSecret decodes an entry of TableSecret returned by a scan.
func decodeSecret(kv store.KV) (*secret, error) {
	sc := new(secret)
	if err := json.Unmarshal(kv.Value, sc); err != nil {
		return nil, fmt.Errorf("secretsmanager: decode %s: %w", kv.Key, err)
	}
	return sc, nil
}

// save stores sc and, when it is a primary, copies it to its replicas.
func save(tx store.Tx, sc *secret) error {
	v, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	if err := tx.Put(TableSecret, sc.key(), v); err != nil {
		return err
	}
	return syncReplicas(tx, sc)
}

// purge removes a secret and all its values.
func purge(tx store.Tx, sc *secret) error {
	if _, err := tx.Delete(TableSecret, sc.key()); err != nil {
		return err
	}
	_, err := tx.DeletePrefix(TableValue, sc.key()+valueSep)
	return err
}

// cachedSecret returns the secret stored under key, from the cache or the store.
func (s *Service) cachedSecret(ctx context.Context, key string) (*secret, error) {
	s.mu.RLock()
	sc, ok := s.secrets[key]
	gen := s.gen
	s.mu.RUnlock()
	if ok {
		return sc, nil
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sc, err = load(tx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	prepare(sc) // before it is shared
	s.mu.Lock()
	// A change committed since the read began may have invalidated what
	// was read: cache it only if nothing changed meanwhile.
	if s.gen == gen {
		if len(s.secrets) > cacheMax {
			clear(s.secrets)
		}
		s.secrets[key] = sc // nil too: absent secrets are asked for as often
	}
	s.mu.Unlock()
	return sc, nil
}

// cacheMax bounds each cache; past it the cache starts over.
const cacheMax = 100_000

// lookup finds the secret id names for the call, through the cache.
func (s *Service) lookup(ctx context.Context, c *service.Call, id string) (*secret, error) {
	if s.seenAuthz.Load() == nil {
		s.seeChecker(c) // for scheduled work after a restart (runner.go)
	}
	if sc, ok := s.cachedByName(c, id); ok {
		return sc, nil
	}
	return find(func(key string) (*secret, error) { return s.cachedSecret(ctx, key) }, parseID(c, id), c.Now)
}

// errNotFound is AWS's answer for a secret that does not exist.
func errNotFound() error {
	return smapi.NewResourceNotFoundException("Secrets Manager can't find the specified secret.")
}

// errMarkedDeleted is AWS's answer for most operations on a secret
// scheduled for deletion.
func errMarkedDeleted() error {
	return smapi.NewInvalidRequestException("You can't perform this operation on the secret because it was marked for deletion.")
}

// mustFind finds the secret in tx, to change it, or answers
// ResourceNotFoundException; a replica cannot be changed (replication.go).
func mustFind(tx store.Tx, c *service.Call, id *string) (*secret, error) {
	sc, err := mustFindAny(tx, c, id)
	if err != nil {
		return nil, err
	}
	if sc.replica() {
		return nil, errReplica()
	}
	return sc, nil
}

// mustFindLive is mustFind refusing a secret scheduled for deletion.
func mustFindLive(tx store.Tx, c *service.Call, id *string) (*secret, error) {
	sc, err := mustFind(tx, c, id)
	if err != nil {
		return nil, err
	}
	if sc.scheduled() {
		return nil, errMarkedDeleted()
	}
	return sc, nil
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n characters of alphabet chosen uniformly from r.
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, 1)
	// Rejection sampling keeps the choice uniform.
	limit := 256 - 256%len(alphabet)
	for i := 0; i < n; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out), nil
}

// newUUID returns a random (version 4) UUID, the form of AWS version ids.
func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// timePtr returns nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// day truncates t to its UTC date: LastAccessedDate is "rounded to the date".
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
