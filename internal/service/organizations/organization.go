package organizations

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// CreateOrganization makes the calling account the management account of
// a new organization with a root and no OUs. No policy type is enabled on
// the root until EnablePolicyType, as in AWS.
func (s *Service) CreateOrganization(ctx context.Context, in *orgapi.CreateOrganizationRequest) (*orgapi.CreateOrganizationResponse, error) {
	c := service.CallFrom(ctx)
	fs := in.FeatureSet
	if fs == "" {
		fs = orgapi.OrganizationFeatureSetAll
	}
	var o *org
	err := s.st.Update(ctx, func(tx store.Tx) error {
		me := c.Principal.Account
		switch _, err := tx.Get(TableMember, me); {
		case err == nil:
			return orgapi.NewAlreadyInOrganizationException("The AWS account is already a member of an organization.")
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		var id, root string
		for {
			var err error
			if id, err = newID(c, "o-", 10); err != nil {
				return err
			}
			if _, err := tx.Get(TableOrg, id); errors.Is(err, store.ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
		}
		root, err := newID(c, "r-", 4)
		if err != nil {
			return err
		}
		o = &org{ID: id, Management: me, FeatureSet: string(fs), RootID: root, Created: c.Now,
			OUs: map[string]*ou{}, Accounts: map[string]*account{}, Attached: map[string][]string{}}
		name, email := accountInfo(tx, me)
		o.MgmtEmail, o.MgmtName = email, name
		o.Accounts[me] = &account{ID: me, Name: name, Email: email, Parent: root, State: "ACTIVE", JoinedMethod: "CREATED", Joined: c.Now}
		if err := tx.Insert(TableMember, me, []byte(id)); err != nil {
			return err
		}
		return putOrg(tx, o)
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.CreateOrganizationResponse{Organization: o.apiOrganization()}, nil
}

// accountInfo returns the name and email authn knows for an account.
func accountInfo(tx store.Tx, id string) (name, email string) {
	v, err := tx.Get(authn.TableAccount, id)
	if err != nil {
		return id, ""
	}
	var a authn.Account
	if json.Unmarshal(v, &a) != nil {
		return id, ""
	}
	if a.Name == "" {
		a.Name = id
	}
	return a.Name, a.Email
}

// DescribeOrganization returns the caller's organization; any member
// account may call it.
func (s *Service) DescribeOrganization(ctx context.Context, _ *awsproto.Empty) (*orgapi.DescribeOrganizationResponse, error) {
	var out *orgapi.Organization
	err := s.view(ctx, anyMember, func(_ *service.Call, o *org) error {
		out = o.apiOrganization()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeOrganizationResponse{Organization: out}, nil
}

// DeleteOrganization deletes the organization once the management account
// is its only account; its OUs and policies go with it.
func (s *Service) DeleteOrganization(ctx context.Context, _ *awsproto.Empty) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgOf(tx, c.Principal.Account)
		if err != nil {
			return err
		}
		if o == nil {
			return errNoOrg()
		}
		if err := o.allow(c.Principal.Account, managerOnly); err != nil {
			return err
		}
		if len(o.Accounts) > 1 || o.creating() {
			return orgapi.NewOrganizationNotEmptyException("To delete an organization you must first remove all member accounts (except the management account).")
		}
		for _, h := range o.Invites {
			if _, err := tx.Delete(TableInvite, h.Target+"/"+h.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(TableMember, o.Management); err != nil {
			return err
		}
		_, err = tx.Delete(TableOrg, o.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// creating reports whether a CreateAccount request is in progress: its
// account may exist already, so the organization is not empty.
func (o *org) creating() bool {
	for _, st := range o.Statuses {
		if st.State == string(orgapi.CreateAccountStateInProgress) {
			return true
		}
	}
	return false
}

// ListRoots returns the organization's one root.
func (s *Service) ListRoots(ctx context.Context, in *orgapi.ListRootsRequest) (*orgapi.ListRootsResponse, error) {
	out := &orgapi.ListRootsResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		roots, next, err := page([]orgapi.Root{o.apiRoot()}, func(r orgapi.Root) string { return *r.Id }, in.NextToken, in.MaxResults, 20)
		out.Roots, out.NextToken = roots, next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
