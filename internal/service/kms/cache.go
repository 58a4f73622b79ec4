package kms

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// keyEntry is a key as the hot path needs it: the record, its unsealed
// material ready to use, its policy bytes (stable, so the authorizer's
// parsed-policy cache hits) and its grants. Entries are immutable once
// built; a change to the key replaces the entry.
type keyEntry struct {
	rec    *keyRecord
	arn    string
	path   string
	policy []byte
	tags   map[string]string
	grants []*grantRecord
	// aliases are the names of the aliases that point at the key
	// (kms:ResourceAliases).
	aliases []string

	aeads   map[string]*keyMaterial // symmetric: by material id
	current string                  // current material id
	signer  crypto.Signer           // asymmetric: the private key
	pubDER  []byte                  // asymmetric: SubjectPublicKeyInfo
	hmacKey []byte                  // HMAC keys

	// header is the ciphertext blob header of the current material
	// (format, key id, account, material id), ready to copy; headerOK
	// when the key is symmetric and has material. See ciphertext.go.
	header   [blobHeader]byte
	headerOK bool

	// grantPolicies caches, per grant, caller and action, the key policy
	// extended with the grant's allow statement.
	grantPolicies sync.Map

	// What authorization needs of the key, built once with the entry and
	// shared read-only by every request (see auth.go): the resource when
	// no grant extends the key policy, the condition keys that follow
	// from the key alone, and kms:CallerAccount for callers of the key's
	// own account.
	res        *authz.Resource
	staticKeys []condKey
	ownAccount []string
}

// keyMaterial is one symmetric key material, ready to use.
type keyMaterial struct {
	id   string
	aead cipher.AEAD
}

// condKey is a condition key and its values.
type condKey struct {
	name   string
	values []string
}

// cache holds key entries and alias targets, invalidated on every
// committed change to the kms tables.
type cache struct {
	s       *Service
	mu      sync.RWMutex
	keys    map[string]*keyEntry // by key path
	aliases map[string]string    // alias path → key id
	gen     uint64               // bumped by every invalidation
	cancel  func()
}

func newCache(s *Service) *cache {
	c := &cache{s: s, keys: map[string]*keyEntry{}, aliases: map[string]string{}}
	c.cancel = s.store.Subscribe(c.invalidate)
	return c
}

func (c *cache) close() { c.cancel() }

func (c *cache) invalidate(changes []store.Change) {
	var mine bool
	for _, ch := range changes {
		if strings.HasPrefix(ch.Table, "kms.") && ch.Table != TableUsage {
			mine = true
			break
		}
	}
	if !mine {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, ch := range changes {
		switch ch.Table {
		case TableKey:
			delete(c.keys, ch.Key)
		case TableGrant:
			if i := strings.LastIndexByte(ch.Key, '/'); i > 0 {
				delete(c.keys, ch.Key[:i])
			}
		case TableKeySet:
			// Every related key of a multi-Region key shares its key set.
			acct, id, _ := strings.Cut(ch.Key, "/")
			for p := range c.keys {
				if a, _, kid := splitPath(p); a == acct && kid == id {
					delete(c.keys, p)
				}
			}
		case TableAlias:
			delete(c.aliases, ch.Key)
			// kms:ResourceAliases of the old and new targets change; both
			// are keys of the alias's account and region, whose paths
			// share the alias path's "<account>/<region>/".
			if acct, region, _ := splitPath(ch.Key); region != "" {
				prefix := acct + "/" + region + "/"
				for p := range c.keys {
					if strings.HasPrefix(p, prefix) {
						delete(c.keys, p)
					}
				}
			} else {
				clear(c.keys)
			}
		}
	}
}

// key returns the entry of the key at path, loading it on a miss; nil
// (and no error) when the key does not exist.
func (c *cache) key(ctx context.Context, path string) (*keyEntry, error) {
	c.mu.RLock()
	e, ok := c.keys[path]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return e, nil
	}
	var (
		rec     *keyRecord
		grants  []*grantRecord
		aliases []*aliasRecord
	)
	err := c.s.store.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = getKey(tx, path)
		if err != nil {
			return err
		}
		if grants, err = scanGrants(tx, path); err != nil {
			return err
		}
		aliases, err = keyAliases(tx, rec.Account, rec.Region, rec.ID)
		return err
	})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, err = c.s.newEntry(rec, grants, aliases)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.keys[path] = e
	}
	c.mu.Unlock()
	return e, nil
}

// keyAt is key for the key account/region/id: a cache hit builds no
// path string.
func (c *cache) keyAt(ctx context.Context, account, region, id string) (*keyEntry, error) {
	var buf [96]byte
	p := append(buf[:0], account...)
	p = append(p, '/')
	p = append(p, region...)
	p = append(p, '/')
	p = append(p, id...)
	return c.keyAtPath(ctx, p)
}

// keyAtPath is key for a path given as bytes (built on the caller's
// stack): a cache hit copies nothing.
func (c *cache) keyAtPath(ctx context.Context, p []byte) (*keyEntry, error) {
	c.mu.RLock()
	e, ok := c.keys[string(p)] // no copy: the compiler looks the bytes up as they are
	c.mu.RUnlock()
	if ok {
		return e, nil
	}
	return c.key(ctx, string(p))
}

// alias returns the key id an alias points at; "" when there is no such alias.
func (c *cache) alias(ctx context.Context, path string) (string, error) {
	c.mu.RLock()
	id, ok := c.aliases[path]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	var a *aliasRecord
	err := c.s.store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = getAlias(tx, path)
		return err
	})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.aliases[path] = a.KeyID
	}
	c.mu.Unlock()
	return a.KeyID, nil
}

// aliasAtPath is alias for a path given as bytes (built on the caller's
// stack): a cache hit copies nothing.
func (c *cache) aliasAtPath(ctx context.Context, p []byte) (string, error) {
	c.mu.RLock()
	id, ok := c.aliases[string(p)]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	return c.alias(ctx, string(p))
}

// newEntry unseals the key's material and prepares it for use.
func (s *Service) newEntry(rec *keyRecord, grants []*grantRecord, aliases []*aliasRecord) (*keyEntry, error) {
	e := &keyEntry{rec: rec, arn: rec.arn(), path: rec.path(), policy: []byte(rec.Policy), tags: rec.tagMap(), grants: grants}
	for _, a := range aliases {
		e.aliases = append(e.aliases, a.Name)
	}
	for i := range rec.Materials {
		m := &rec.Materials[i]
		secret, err := s.barrier.Open(m.Sealed, rec.materialAAD(m.ID))
		if err != nil {
			return nil, fmt.Errorf("kms: unseal material of %s: %w", e.arn, err)
		}
		switch keyClass(rec.Spec) {
		case classSymmetric:
			block, err := aes.NewCipher(secret) // keeps the expanded key, not secret
			clear(secret)
			if err != nil {
				return nil, err
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				return nil, err
			}
			if e.aeads == nil {
				e.aeads = map[string]*keyMaterial{}
			}
			e.aeads[m.ID] = &keyMaterial{id: m.ID, aead: aead}
		case classHMAC:
			e.hmacKey = secret
		case classRSA, classECC:
			if rec.Spec == kmsapi.KeySpecEccSecgP256k1 {
				k, err := parseSecp256k1PKCS8(secret)
				clear(secret)
				if err != nil {
					return nil, fmt.Errorf("kms: parse private key of %s: %w", e.arn, err)
				}
				e.signer = k
				if e.pubDER, err = marshalSecp256k1SPKI(k.pub); err != nil {
					return nil, err
				}
				break
			}
			k, err := x509.ParsePKCS8PrivateKey(secret)
			if err != nil {
				return nil, fmt.Errorf("kms: parse private key of %s: %w", e.arn, err)
			}
			signer, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("kms: private key of %s is %T", e.arn, k)
			}
			e.signer = signer
			if e.pubDER, err = x509.MarshalPKIXPublicKey(signer.Public()); err != nil {
				return nil, err
			}
		}
		e.current = m.ID
	}
	e.prepare()
	return e, nil
}

// prepare builds what every request on the entry shares: the blob
// header of the current material, the authorization resource and the
// condition keys that depend on the key alone.
func (e *keyEntry) prepare() {
	rec := e.rec
	if keyClass(rec.Spec) == classSymmetric && e.aeads[e.current] != nil {
		e.headerOK = fillHeader(&e.header, rec, e.current)
	}
	e.res = &authz.Resource{ARN: e.arn, Account: rec.Account, Policy: e.policy, PolicyKind: "key", Tags: e.tags}
	e.ownAccount = []string{rec.Account}
	// Names in lower case: the authorizer lower-cases them otherwise
	// (condition keys are case-insensitive), a copy per key and request.
	spec := []string{string(rec.Spec)}
	e.staticKeys = []condKey{
		{"kms:keyspec", spec},
		{"kms:customermasterkeyspec", spec},
		{"kms:keyusage", []string{string(rec.Usage)}},
		{"kms:keyorigin", []string{string(rec.Origin)}},
	}
	if rec.MultiRegion {
		e.staticKeys = append(e.staticKeys, condKey{"kms:multiregion", []string{"true"}})
		if cfg := multiRegionConfiguration(rec); cfg != nil {
			e.staticKeys = append(e.staticKeys, condKey{"kms:multiregionkeytype", []string{string(cfg.MultiRegionKeyType)}})
		}
	} else {
		e.staticKeys = append(e.staticKeys, condKey{"kms:multiregion", []string{"false"}})
	}
	if len(e.aliases) > 0 {
		e.staticKeys = append(e.staticKeys, condKey{"kms:resourcealiases", e.aliases})
	}
}

type class int

const (
	classSymmetric class = iota
	classRSA
	classECC
	classHMAC
)

func keyClass(spec kmsapi.KeySpec) class {
	switch {
	case strings.HasPrefix(string(spec), "RSA_"):
		return classRSA
	case strings.HasPrefix(string(spec), "ECC_"):
		return classECC
	case strings.HasPrefix(string(spec), "HMAC_"):
		return classHMAC
	}
	return classSymmetric
}
