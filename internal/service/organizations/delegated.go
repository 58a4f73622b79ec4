package organizations

import (
	"context"
	"sort"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// RegisterDelegatedAdministrator makes a member account the delegated
// administrator of an AWS service. Delegated administrators may call the
// read-only Organizations operations.
func (s *Service) RegisterDelegatedAdministrator(ctx context.Context, in *orgapi.RegisterDelegatedAdministratorRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		id, svc := str(in.AccountId), str(in.ServicePrincipal)
		if o.Accounts[id] == nil {
			return errAccountNotFound()
		}
		if id == o.Management {
			return orgapi.NewConstraintViolationException("You attempted to register the management account of the organization as a delegated administrator for an AWS service integrated with Organizations. You can designate only a member account as a delegated administrator.").With("Reason", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
		}
		if o.Accounts[id].State != string(orgapi.AccountStateActive) {
			return orgapi.NewConstraintViolationException("You attempted to register a suspended account as a delegated administrator.").With("Reason", "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR")
		}
		if _, ok := o.Delegated[id][svc]; ok {
			return orgapi.NewAccountAlreadyRegisteredException("The provided account is already a delegated administrator for your organization.")
		}
		n := 0
		for _, svcs := range o.Delegated {
			if _, ok := svcs[svc]; ok {
				n++
			}
		}
		if n >= maxDelegatedPerSvc {
			return orgapi.NewConstraintViolationException("You attempted to register more delegated administrators than allowed for the service principal %s.", svc).With("Reason", "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED")
		}
		if o.Delegated[id] == nil {
			o.Delegated[id] = map[string]time.Time{}
		}
		o.Delegated[id][svc] = c.Now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DeregisterDelegatedAdministrator removes a delegation.
func (s *Service) DeregisterDelegatedAdministrator(ctx context.Context, in *orgapi.DeregisterDelegatedAdministratorRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		id, svc := str(in.AccountId), str(in.ServicePrincipal)
		if o.Accounts[id] == nil {
			return errAccountNotFound()
		}
		if _, ok := o.Delegated[id][svc]; !ok {
			return orgapi.NewAccountNotRegisteredException("The provided account is not a registered delegated administrator for your organization.")
		}
		delete(o.Delegated[id], svc)
		if len(o.Delegated[id]) == 0 {
			delete(o.Delegated, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// ListDelegatedAdministrators lists the delegated administrators, of one
// service or of all.
func (s *Service) ListDelegatedAdministrators(ctx context.Context, in *orgapi.ListDelegatedAdministratorsRequest) (*orgapi.ListDelegatedAdministratorsResponse, error) {
	out := &orgapi.ListDelegatedAdministratorsResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		var all []orgapi.DelegatedAdministrator
		for id, svcs := range o.Delegated {
			var since time.Time
			found := false
			for svc, t := range svcs {
				if in.ServicePrincipal == nil || *in.ServicePrincipal == svc {
					if !found || t.Before(since) {
						since = t
					}
					found = true
				}
			}
			a := o.Accounts[id]
			if !found || a == nil {
				continue
			}
			api := o.apiAccount(a)
			all = append(all, orgapi.DelegatedAdministrator{
				Id: api.Id, Arn: api.Arn, Email: api.Email, Name: api.Name, Status: api.Status, State: api.State,
				JoinedMethod: api.JoinedMethod, JoinedTimestamp: api.JoinedTimestamp, DelegationEnabledDate: ptr(since),
			})
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
		items, next, err := page(all, func(d orgapi.DelegatedAdministrator) string { return *d.Id }, in.NextToken, in.MaxResults, 20)
		out.DelegatedAdministrators, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListDelegatedServicesForAccount lists the services an account is the
// delegated administrator of.
func (s *Service) ListDelegatedServicesForAccount(ctx context.Context, in *orgapi.ListDelegatedServicesForAccountRequest) (*orgapi.ListDelegatedServicesForAccountResponse, error) {
	out := &orgapi.ListDelegatedServicesForAccountResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		id := str(in.AccountId)
		if o.Accounts[id] == nil {
			return errAccountNotFound()
		}
		if len(o.Delegated[id]) == 0 {
			return orgapi.NewAccountNotRegisteredException("The provided account is not a registered delegated administrator for your organization.")
		}
		var all []orgapi.DelegatedService
		for svc, t := range o.Delegated[id] {
			all = append(all, orgapi.DelegatedService{ServicePrincipal: ptr(svc), DelegationEnabledDate: ptr(t)})
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].ServicePrincipal < *all[j].ServicePrincipal })
		items, next, err := page(all, func(d orgapi.DelegatedService) string { return *d.ServicePrincipal }, in.NextToken, in.MaxResults, 20)
		out.DelegatedServices, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
