package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"
)

// ErrNoSuchRole is returned (wrapped) by [Service.Role] for a role that does
// not exist.
var ErrNoSuchRole = errors.New("iam: no such role")

// cached is the identity-based side of one user or role, ready for the
// authorizer.
type cached struct {
	id string // the entity's unique id: a recreated user with the same name is another principal
	pp *authz.PrincipalPolicies
}

// PrincipalPolicies implements authz.Identities: the inline, attached and
// group policies, the permissions boundary and the tags of an IAM user, of
// the role behind a role session, or of the user behind a federated-user
// session. Answers come from memory; any committed change to IAM's tables
// empties the cache, so a policy change counts from the very next request.
func (s *Service) PrincipalPolicies(ctx context.Context, p *authz.Principal) (*authz.PrincipalPolicies, error) {
	var kind, name, id string
	switch p.Type {
	case authz.IAMUser:
		kind, name, id = kindUser, p.Name, p.ID
	case authz.AssumedRole:
		kind, id = kindRole, p.RoleID
		name = p.RoleARN[strings.LastIndexByte(p.RoleARN, '/')+1:]
	case authz.FederatedUser:
		// GetFederationToken: the session has at most the permissions of
		// the user who asked for it.
		if p.Session == nil || p.Session.IssuerARN == "" {
			return &authz.PrincipalPolicies{}, nil
		}
		kind = kindUser
		name = p.Session.IssuerARN[strings.LastIndexByte(p.Session.IssuerARN, '/')+1:]
	default:
		return &authz.PrincipalPolicies{}, nil
	}
	key := p.Account + "/" + kind + "/" + strings.ToLower(name)
	s.mu.RLock()
	c, ok := s.cache[key]
	gen := s.gen
	s.mu.RUnlock()
	if ok && (id == "" || c.id == id) {
		return c.pp, nil
	}
	var e *entity
	var pp *authz.PrincipalPolicies
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kind, p.Account, name)
		if err != nil {
			return err
		}
		pp, err = s.gather(tx, e)
		return err
	})
	if err != nil {
		if isNoSuchEntity(err) {
			return &authz.PrincipalPolicies{}, nil // deleted: no policies, so nothing is allowed
		}
		return nil, err
	}
	if id != "" && e.ID != id {
		return &authz.PrincipalPolicies{}, nil
	}
	s.mu.Lock()
	if s.gen == gen { // no change committed while we read
		s.cache[key] = cached{id: e.ID, pp: pp}
	}
	s.mu.Unlock()
	return pp, nil
}

// gather collects the identity-based policies of e (and of its groups).
func (s *Service) gather(tx store.Tx, e *entity) (*authz.PrincipalPolicies, error) {
	pp := &authz.PrincipalPolicies{Tags: tagMap(e.Tags)}
	add := func(owner *entity) error {
		for _, in := range owner.Inline {
			p, err := s.parsed(in.Doc, inlineKind(owner.Kind))
			if err != nil {
				return err
			}
			pp.Identity = append(pp.Identity, p.Named(owner.Kind+"/"+owner.Name+"/"+in.Name))
		}
		for _, arn := range owner.Attached {
			p, err := s.managedParsed(tx, e.Account, arn, policy.KindManaged)
			if err != nil {
				return err
			}
			if p != nil {
				pp.Identity = append(pp.Identity, p)
			}
		}
		return nil
	}
	if err := add(e); err != nil {
		return nil, err
	}
	for _, g := range e.Groups {
		ge, err := getEntity(tx, kindGroup, e.Account, g)
		if err != nil {
			return nil, err
		}
		if err := add(ge); err != nil {
			return nil, err
		}
	}
	if e.Boundary != "" {
		p, err := s.managedParsed(tx, e.Account, e.Boundary, policy.KindBoundary)
		if err != nil {
			return nil, err
		}
		pp.Boundary = p
	}
	return pp, nil
}

// managedParsed returns the parsed default version of a managed policy,
// named by its ARN. A policy deleted meanwhile counts as none (nil).
func (s *Service) managedParsed(tx store.Tx, acct, arn string, kind policy.Kind) (*policy.Policy, error) {
	if m, ok := awsPolicy(arn); ok {
		return m.policy()
	}
	mp, err := getCustomerPolicy(tx, acct, arn)
	if err != nil {
		if isNoSuchEntity(err) {
			return nil, nil
		}
		return nil, err
	}
	p, err := s.parsed(mp.defaultDoc(), kind)
	if err != nil {
		return nil, err
	}
	return p.Named(arn), nil
}

// parsed parses a stored document once; documents were validated when
// they were stored.
func (s *Service) parsed(doc string, kind policy.Kind) (*policy.Policy, error) {
	k := parsedKey{kind, doc}
	s.mu.RLock()
	p, ok := s.docs[k]
	s.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		return nil, fmt.Errorf("iam: stored policy does not parse: %w", err)
	}
	s.mu.Lock()
	if len(s.docs) >= maxParsedDocs {
		s.docs = map[parsedKey]*policy.Policy{}
	}
	s.docs[k] = p
	s.mu.Unlock()
	return p, nil
}

type parsedKey struct {
	kind policy.Kind
	doc  string
}

const maxParsedDocs = 8192

func isNoSuchEntity(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == "NoSuchEntity"
}

// invalidate empties the identity cache after any committed change to
// IAM's tables (parsed documents stay: they are keyed by content). Records
// of use (access key last use, reports) change no identity and keep it.
func (s *Service) invalidate(changes []store.Change) {
	for _, c := range changes {
		if c.Table == "" || strings.HasPrefix(c.Table, "iam.") && !usageTables[c.Table] {
			s.mu.Lock()
			s.gen++
			clear(s.cache)
			s.mu.Unlock()
			return
		}
	}
}

// usageTables are IAM's tables that no identity-based policy depends on.
var usageTables = map[string]bool{tableKeyUse: true, tableCredReport: true, tableLastAccessed: true}

// RoleInfo is what STS needs of a role to issue a session for it.
type RoleInfo struct {
	ARN                string
	RoleID             string // AROA…
	Name               string
	Path               string
	Account            string
	TrustPolicy        []byte
	MaxSessionDuration int32 // seconds
	Tags               map[string]string
}

// Role returns the role whose ARN (with its path) is roleARN; an error
// wrapping [ErrNoSuchRole] when there is none.
func (s *Service) Role(ctx context.Context, roleARN string) (*RoleInfo, error) {
	const pre = "arn:aws:iam::"
	rest, ok := strings.CutPrefix(roleARN, pre)
	i := strings.IndexByte(rest, ':')
	if !ok || i < 0 || !strings.HasPrefix(rest[i+1:], "role/") {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchRole, roleARN)
	}
	acct := rest[:i]
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	var e *entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kindRole, acct, name)
		return err
	})
	if err != nil {
		if isNoSuchEntity(err) {
			return nil, fmt.Errorf("%w: %s", ErrNoSuchRole, roleARN)
		}
		return nil, err
	}
	if e.ARN != roleARN {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchRole, roleARN)
	}
	return &RoleInfo{ARN: e.ARN, RoleID: e.ID, Name: e.Name, Path: e.Path, Account: e.Account,
		TrustPolicy: []byte(e.Trust), MaxSessionDuration: e.maxSession(), Tags: tagMap(e.Tags)}, nil
}

// UserExists reports whether userARN (arn:aws:iam::ACCOUNT:user/PATH/NAME)
// names an IAM user, path included: for the services that check the
// principals a policy names (KMS key policies).
func (s *Service) UserExists(ctx context.Context, userARN string) (bool, error) {
	rest, ok := strings.CutPrefix(userARN, "arn:aws:iam::")
	i := strings.IndexByte(rest, ':')
	if !ok || i < 0 || !strings.HasPrefix(rest[i+1:], "user/") {
		return false, nil
	}
	acct, name := rest[:i], rest[strings.LastIndexByte(rest, '/')+1:]
	var e *entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kindUser, acct, name)
		return err
	})
	if isNoSuchEntity(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return e.ARN == userARN, nil
}

// OrganizationAccountAccessRole is the role Organizations creates in every
// account it creates, for the management account to administer it.
const OrganizationAccountAccessRole = "OrganizationAccountAccessRole"

// BootstrapAccount prepares an account created by Organizations: the role
// OrganizationAccountAccessRole, trusting the management account, with
// AdministratorAccess attached. It does nothing when the role exists.
func (s *Service) BootstrapAccount(ctx context.Context, accountID, managementAccountID string) error {
	now, rnd := time.Now(), io.Reader(rand.Reader)
	if c := service.CallFrom(ctx); c != nil {
		now, rnd = c.Now, c.Rand
	}
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + managementAccountID + `:root"},"Action":"sts:AssumeRole"}]}`
	return s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(tableRole, entityKey(accountID, OrganizationAccountAccessRole)); err == nil {
			return nil
		}
		e, err := createEntity(tx, accountID, now, rnd, kindRole, OrganizationAccountAccessRole, "/")
		if err != nil {
			return err
		}
		e.Trust = trust
		e.Attached = []string{admin}
		if err := tx.Put(tableAttachment, attachmentKey(accountID, admin, usePolicy, kindRole, e.Name), []byte(e.Name)); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}
