package secretsmanager

import (
	"context"
	"slices"
	"strings"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
)

// The hot path of GetSecretValue (and of every rule on one secret) reads
// the secret from the cache once, in the rule's Resource step, which
// hands it to the Context step and the handler (service.Keep). A cached
// secret carries what authorization and decryption need of it, built once
// when it enters the cache (prepare): the authorization resource, the
// condition keys, the kms:ViaService value and the encryption contexts
// of its labelled versions. A cached secret is never modified (a change
// replaces it), so all of it is shared read-only by the requests that
// read it; clone drops it, since a clone is made to be changed.

// secretAuthz is what a cached secret carries for the hot path.
type secretAuthz struct {
	key  string // the secret's store key
	res  *authz.Resource
	keys []condKey // the condition keys of ownKeys, names in lower case
	via  string    // kms:ViaService of the secret's Region
	// versions hold the encryption context and the additional data of
	// the labelled versions' values, by version id.
	versions map[string]versionCrypto
}

type versionCrypto struct {
	ec  map[string]string
	aad []byte
}

// currentStage is secretsmanager:VersionStage's value for AWSCURRENT,
// shared read-only by every request.
var currentStage = []string{stageCurrent}

// condKey is a condition key and its values.
type condKey struct {
	name   string
	values []string
}

// prepare fills sc.az; sc must not be shared yet.
func prepare(sc *secret) {
	if sc == nil {
		return
	}
	az := &secretAuthz{key: sc.key(), via: viaService(sc.Region)}
	az.res = secretResource(nil, sc, "")
	m := map[string][]string{}
	ownKeys(sc, m)
	for k, v := range m {
		// The authorizer lower-cases names (condition keys are
		// case-insensitive): done here once rather than per request.
		az.keys = append(az.keys, condKey{name: strings.ToLower(k), values: v})
	}
	slices.SortFunc(az.keys, func(a, b condKey) int { return strings.Compare(a.name, b.name) })
	for _, v := range sc.Versions {
		if len(v.Stages) == 0 {
			continue // read by VersionId only, rarely: built when read
		}
		if az.versions == nil {
			az.versions = map[string]versionCrypto{}
		}
		az.versions[v.ID] = versionCrypto{ec: encryptionContext(sc.ARN, v.ID), aad: aad(sc.ARN, v.ID)}
	}
	sc.az = az
}

// valueContext is the encryption context of the value of version
// versionID of sc (see encryptionContext). KMS only reads it.
func (sc *secret) valueContext(versionID string) map[string]string {
	if sc.az != nil {
		if vc, ok := sc.az.versions[versionID]; ok {
			return vc.ec
		}
	}
	return encryptionContext(sc.ARN, versionID)
}

// valueAAD is aad for the value of version versionID of sc. AES-GCM only
// reads it.
func (sc *secret) valueAAD(versionID string) []byte {
	if sc.az != nil {
		if vc, ok := sc.az.versions[versionID]; ok {
			return vc.aad
		}
	}
	return aad(sc.ARN, versionID)
}

// viaService is kms:ViaService for the secret's Region.
func (sc *secret) viaService() string {
	if sc.az != nil {
		return sc.az.via
	}
	return viaService(sc.Region)
}

// cachedValueOf is cachedValue for version versionID of sc: a cache hit
// builds no key string.
func (s *Service) cachedValueOf(ctx context.Context, sc *secret, versionID string) (*sealedValue, error) {
	if sc.az == nil {
		return s.cachedValue(ctx, valueKey(sc.key(), versionID))
	}
	var buf [160]byte
	p := append(buf[:0], sc.az.key...)
	p = append(p, valueSep...)
	p = append(p, versionID...)
	s.mu.RLock()
	sv, ok := s.values[string(p)] // no copy: the compiler looks the bytes up as they are
	s.mu.RUnlock()
	if ok {
		return sv, nil
	}
	return s.cachedValue(ctx, string(p))
}

// cachedByName is the cache's answer for a SecretId that is a name (not
// an ARN), without building its key string; ok is false when the cache
// does not know the name (the caller then asks find). It answers as find
// does: nil for a secret whose recovery window has ended at c.Now.
func (s *Service) cachedByName(c *service.Call, name string) (sc *secret, ok bool) {
	if strings.HasPrefix(name, "arn:") || c.Principal == nil {
		return nil, false
	}
	var buf [160]byte
	p := append(buf[:0], c.Principal.Account...)
	p = append(p, '/')
	p = append(p, c.Region...)
	p = append(p, '/')
	p = append(p, name...)
	s.mu.RLock()
	sc, ok = s.secrets[string(p)]
	s.mu.RUnlock()
	if !ok {
		return nil, false
	}
	if sc == nil || sc.gone(c.Now) {
		return nil, true
	}
	return sc, true
}
