package organizations

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Invitations: the management account invites an existing account
// (InviteAccountToOrganization); the invited account accepts or declines
// (AcceptHandshake, DeclineHandshake); the management account may cancel.
// Handshakes stay listed after they close, and expire after 15 days.

func errHandshakeNotFound() error {
	return orgapi.NewHandshakeNotFoundException("We can't find a handshake with the HandshakeId that you specified.")
}

// state returns the handshake's state as of now (OPEN ones past their
// expiry are EXPIRED).
func (h *handshake) state(c *service.Call) string {
	if h.State == string(orgapi.HandshakeStateOpen) && !c.Now.Before(h.Expires) {
		return string(orgapi.HandshakeStateExpired)
	}
	return h.State
}

func (o *org) apiHandshake(c *service.Call, h *handshake) orgapi.Handshake {
	return orgapi.Handshake{
		Id: ptr(h.ID), Arn: ptr(o.handshakeARN(h.ID)),
		Parties: []orgapi.HandshakeParty{
			{Id: ptr(strings.TrimPrefix(o.ID, "o-")), Type: orgapi.HandshakePartyTypeOrganization},
			{Id: ptr(h.Target), Type: orgapi.HandshakePartyTypeAccount},
		},
		State: orgapi.HandshakeState(h.state(c)), RequestedTimestamp: ptr(h.Requested), ExpirationTimestamp: ptr(h.Expires),
		Action: orgapi.ActionTypeInvite,
		Resources: []orgapi.HandshakeResource{
			{Type: orgapi.HandshakeResourceTypeOrganization, Value: ptr(o.ID), Resources: []orgapi.HandshakeResource{
				{Type: orgapi.HandshakeResourceTypeMasterEmail, Value: ptr(o.MgmtEmail)},
				{Type: orgapi.HandshakeResourceTypeMasterName, Value: ptr(o.MgmtName)},
				{Type: orgapi.HandshakeResourceTypeOrganizationFeatureSet, Value: ptr(o.FeatureSet)},
			}},
			{Type: orgapi.HandshakeResourceTypeAccount, Value: ptr(h.Target)},
			{Type: orgapi.HandshakeResourceTypeNotes, Value: ptr(h.Notes)},
		},
	}
}

// findAccount resolves an invitation target (an account id or the email
// of an account) to an account rampart serves.
func findAccount(tx store.Tx, target *orgapi.HandshakeParty) (string, error) {
	id := str(target.Id)
	switch target.Type {
	case orgapi.HandshakePartyTypeAccount:
		if _, err := tx.Get(authn.TableAccount, id); errors.Is(err, store.ErrNotFound) {
			return "", errAccountNotFound()
		} else if err != nil {
			return "", err
		}
		return id, nil
	case orgapi.HandshakePartyTypeEmail:
		kvs, err := tx.Scan(authn.TableAccount, "", "", 0)
		if err != nil {
			return "", err
		}
		for _, kv := range kvs {
			var a authn.Account
			if json.Unmarshal(kv.Value, &a) == nil && a.Email != "" && strings.EqualFold(a.Email, id) {
				return a.ID, nil
			}
		}
		return "", errAccountNotFound()
	}
	return "", orgapi.NewInvalidInputException("You specified the wrong type of entity (account, organization, or email) as a party.").With("Reason", "INVALID_PARTY_TYPE_TARGET")
}

// InviteAccountToOrganization invites an existing account.
func (s *Service) InviteAccountToOrganization(ctx context.Context, in *orgapi.InviteAccountToOrganizationRequest) (*orgapi.InviteAccountToOrganizationResponse, error) {
	c := service.CallFrom(ctx)
	if err := checkTagAccess(ctx, c, in.Tags); err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	var out orgapi.Handshake
	err = s.update(ctx, managerOnly, func(tx store.Tx, c *service.Call, o *org) error {
		if in.Target == nil {
			return orgapi.NewInvalidInputException("You must include a value for all required parameters.").With("Reason", "INPUT_REQUIRED")
		}
		target, err := findAccount(tx, in.Target)
		if err != nil {
			return err
		}
		if other, err := orgOf(tx, target); err != nil {
			return err
		} else if other != nil {
			return orgapi.NewHandshakeConstraintViolationException("The handshake request is invalid because the invited account is already a member of an organization.").With("Reason", "ALREADY_IN_AN_ORGANIZATION")
		}
		for _, h := range o.Invites {
			if h.Target == target && h.state(c) == string(orgapi.HandshakeStateOpen) {
				return orgapi.NewDuplicateHandshakeException("A handshake with the same action and target already exists.")
			}
		}
		if len(o.Accounts) >= maxAccounts {
			return orgapi.NewHandshakeConstraintViolationException("You attempted to exceed the limit on the number of accounts in an organization.").With("Reason", "ACCOUNT_NUMBER_LIMIT_EXCEEDED")
		}
		id, err := newID(c, "h-", 10)
		if err != nil {
			return err
		}
		h := &handshake{ID: id, Target: target, Email: str(in.Target.Id), Notes: str(in.Notes), State: string(orgapi.HandshakeStateOpen),
			Requested: c.Now, Expires: c.Now.Add(handshakeLifetime), Tags: tags}
		o.Invites[id] = h
		out = o.apiHandshake(c, h)
		return tx.Put(TableInvite, target+"/"+id, []byte(o.ID))
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.InviteAccountToOrganizationResponse{Handshake: &out}, nil
}

// invitee runs fn, in one transaction, on a handshake sent to the calling
// account, and stores the organization it belongs to.
func (s *Service) invitee(ctx context.Context, id string, write bool, fn func(tx store.Tx, c *service.Call, o *org, h *handshake) error) error {
	c := service.CallFrom(ctx)
	run := func(tx store.Tx) error {
		orgID, err := tx.Get(TableInvite, c.Principal.Account+"/"+id)
		if errors.Is(err, store.ErrNotFound) {
			return errHandshakeNotFound()
		} else if err != nil {
			return err
		}
		o, err := getOrg(tx, string(orgID))
		if errors.Is(err, store.ErrNotFound) {
			return errHandshakeNotFound()
		} else if err != nil {
			return err
		}
		h := o.Invites[id]
		if h == nil {
			return errHandshakeNotFound()
		}
		if err := fn(tx, c, o, h); err != nil {
			return err
		}
		if write {
			return putOrg(tx, o)
		}
		return nil
	}
	if write {
		return s.st.Update(ctx, run)
	}
	return s.st.View(ctx, run)
}

// transition moves an OPEN handshake to state, or says why it cannot.
func transition(c *service.Call, h *handshake, state orgapi.HandshakeState) error {
	switch cur := h.state(c); {
	case cur == string(state):
		return orgapi.NewHandshakeAlreadyInStateException("The specified handshake is already in the requested state.")
	case cur != string(orgapi.HandshakeStateOpen):
		return orgapi.NewInvalidHandshakeTransitionException("You can't perform the operation on the handshake in its current state (%s).", cur)
	}
	h.State = string(state)
	return nil
}

// AcceptHandshake accepts an invitation: the calling account joins the
// organization under its root, with the policies AWS attaches by default.
func (s *Service) AcceptHandshake(ctx context.Context, in *orgapi.AcceptHandshakeRequest) (*orgapi.AcceptHandshakeResponse, error) {
	var out orgapi.Handshake
	err := s.invitee(ctx, str(in.HandshakeId), true, func(tx store.Tx, c *service.Call, o *org, h *handshake) error {
		if cur, err := orgOf(tx, c.Principal.Account); err != nil {
			return err
		} else if cur != nil && h.state(c) == string(orgapi.HandshakeStateOpen) {
			return orgapi.NewHandshakeConstraintViolationException("The handshake request is invalid because the invited account is already a member of an organization.").With("Reason", "ALREADY_IN_AN_ORGANIZATION")
		}
		if err := transition(c, h, orgapi.HandshakeStateAccepted); err != nil {
			return err
		}
		me := c.Principal.Account
		name, email := accountInfo(tx, me)
		o.Accounts[me] = &account{ID: me, Name: name, Email: email, Parent: o.RootID, State: "ACTIVE", JoinedMethod: "INVITED", Joined: c.Now}
		o.attachDefaults(me)
		out = o.apiHandshake(c, h)
		return tx.Insert(TableMember, me, []byte(o.ID))
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.AcceptHandshakeResponse{Handshake: &out}, nil
}

// DeclineHandshake declines an invitation.
func (s *Service) DeclineHandshake(ctx context.Context, in *orgapi.DeclineHandshakeRequest) (*orgapi.DeclineHandshakeResponse, error) {
	var out orgapi.Handshake
	err := s.invitee(ctx, str(in.HandshakeId), true, func(_ store.Tx, c *service.Call, o *org, h *handshake) error {
		if err := transition(c, h, orgapi.HandshakeStateDeclined); err != nil {
			return err
		}
		out = o.apiHandshake(c, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DeclineHandshakeResponse{Handshake: &out}, nil
}

// CancelHandshake withdraws an invitation the organization sent.
func (s *Service) CancelHandshake(ctx context.Context, in *orgapi.CancelHandshakeRequest) (*orgapi.CancelHandshakeResponse, error) {
	var out orgapi.Handshake
	err := s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		h := o.Invites[str(in.HandshakeId)]
		if h == nil {
			return errHandshakeNotFound()
		}
		if err := transition(c, h, orgapi.HandshakeStateCanceled); err != nil {
			return err
		}
		out = o.apiHandshake(c, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.CancelHandshakeResponse{Handshake: &out}, nil
}

// DescribeHandshake returns a handshake to either party.
func (s *Service) DescribeHandshake(ctx context.Context, in *orgapi.DescribeHandshakeRequest) (*orgapi.DescribeHandshakeResponse, error) {
	id := str(in.HandshakeId)
	var out orgapi.Handshake
	err := s.invitee(ctx, id, false, func(_ store.Tx, c *service.Call, o *org, h *handshake) error {
		out = o.apiHandshake(c, h)
		return nil
	})
	if err != nil {
		// Not the invited account: perhaps the management account.
		err2 := s.view(ctx, managerOnly, func(c *service.Call, o *org) error {
			h := o.Invites[id]
			if h == nil {
				return errHandshakeNotFound()
			}
			out = o.apiHandshake(c, h)
			return nil
		})
		if err2 != nil {
			return nil, err
		}
	}
	return &orgapi.DescribeHandshakeResponse{Handshake: &out}, nil
}

func handshakeFilter(f *orgapi.HandshakeFilter) bool {
	return f == nil || f.ActionType == "" || f.ActionType == orgapi.ActionTypeInvite
}

// ListHandshakesForAccount lists the invitations sent to the calling
// account, and for a management account those its organization sent.
func (s *Service) ListHandshakesForAccount(ctx context.Context, in *orgapi.ListHandshakesForAccountRequest) (*orgapi.ListHandshakesForAccountResponse, error) {
	c := service.CallFrom(ctx)
	var all []orgapi.Handshake
	err := s.st.View(ctx, func(tx store.Tx) error {
		if !handshakeFilter(in.Filter) {
			return nil
		}
		kvs, err := tx.Scan(TableInvite, c.Principal.Account+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			o, err := getOrg(tx, string(kv.Value))
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if h := o.Invites[strings.TrimPrefix(kv.Key, c.Principal.Account+"/")]; h != nil {
				all = append(all, o.apiHandshake(c, h))
			}
		}
		o, err := orgOf(tx, c.Principal.Account)
		if err != nil || o == nil || o.Management != c.Principal.Account {
			return err
		}
		for _, h := range o.Invites {
			all = append(all, o.apiHandshake(c, h))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
	items, next, err := page(all, func(h orgapi.Handshake) string { return *h.Id }, in.NextToken, in.MaxResults, 20)
	if err != nil {
		return nil, err
	}
	return &orgapi.ListHandshakesForAccountResponse{Handshakes: nonNil(items), NextToken: next}, nil
}

// ListHandshakesForOrganization lists the invitations the organization sent.
func (s *Service) ListHandshakesForOrganization(ctx context.Context, in *orgapi.ListHandshakesForOrganizationRequest) (*orgapi.ListHandshakesForOrganizationResponse, error) {
	out := &orgapi.ListHandshakesForOrganizationResponse{}
	err := s.view(ctx, readOnly, func(c *service.Call, o *org) error {
		var all []orgapi.Handshake
		if handshakeFilter(in.Filter) {
			for _, h := range o.Invites {
				all = append(all, o.apiHandshake(c, h))
			}
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
		items, next, err := page(all, func(h orgapi.Handshake) string { return *h.Id }, in.NextToken, in.MaxResults, 20)
		out.Handshakes, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
