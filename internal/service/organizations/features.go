package organizations

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// EnableAllFeatures turns an organization created with the consolidated
// billing feature set into one with all features (SCPs, RCPs, tag
// policies, trusted access).
//
// In AWS the change waits for every *invited* member account to approve an
// ENABLE_ALL_FEATURES handshake (accounts created by CreateAccount approve
// implicitly). rampart does not collect those approvals: it switches at
// once and answers with the handshake already ACCEPTED. An organization
// that already has all features gets HandshakeConstraintViolationException
// (ORGANIZATION_ALREADY_HAS_ALL_FEATURES), as in AWS.
func (s *Service) EnableAllFeatures(ctx context.Context, _ *orgapi.EnableAllFeaturesRequest) (*orgapi.EnableAllFeaturesResponse, error) {
	var out *orgapi.Handshake
	err := s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		if o.FeatureSet == string(orgapi.OrganizationFeatureSetAll) {
			return orgapi.NewHandshakeConstraintViolationException("The handshake request is invalid because the organization has already enabled all features.").With("Reason", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")
		}
		id, err := newID(c, "h-", 10)
		if err != nil {
			return err
		}
		o.FeatureSet = string(orgapi.OrganizationFeatureSetAll)
		out = &orgapi.Handshake{
			Id:  ptr(id),
			Arn: ptr("arn:aws:organizations::" + o.Management + ":handshake/" + o.ID + "/enable_all_features/" + id),
			Parties: []orgapi.HandshakeParty{
				{Id: ptr(strings.TrimPrefix(o.ID, "o-")), Type: orgapi.HandshakePartyTypeOrganization},
			},
			State:  orgapi.HandshakeStateAccepted,
			Action: orgapi.ActionTypeEnableAllFeatures, RequestedTimestamp: ptr(c.Now), ExpirationTimestamp: ptr(c.Now.Add(handshakeLifetime)),
			Resources: []orgapi.HandshakeResource{{Type: orgapi.HandshakeResourceTypeOrganization, Value: ptr(o.ID)}},
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.EnableAllFeaturesResponse{Handshake: out}, nil
}

// checkServicePrincipal accepts the service principals of AWS services
// ("config.amazonaws.com"); anything else is UNRECOGNIZED_SERVICE_PRINCIPAL.
func checkServicePrincipal(p string) error {
	name, ok := strings.CutSuffix(p, ".amazonaws.com")
	if !ok || name == "" || strings.HasPrefix(name, ".") {
		return orgapi.NewInvalidInputException("You specified a service principal that isn't recognized.").With("Reason", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	}
	return nil
}

// requireAllFeatures refuses what only organizations with all features may do.
func requireAllFeatures(o *org) error {
	if o.FeatureSet != string(orgapi.OrganizationFeatureSetAll) {
		return orgapi.NewConstraintViolationException("You can perform this operation only if the organization has all features enabled.").With("Reason", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
	}
	return nil
}

// EnableAWSServiceAccess gives an AWS service trusted access to the
// organization. Enabling it again keeps the first date.
func (s *Service) EnableAWSServiceAccess(ctx context.Context, in *orgapi.EnableAWSServiceAccessRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		p := str(in.ServicePrincipal)
		if err := checkServicePrincipal(p); err != nil {
			return err
		}
		if err := requireAllFeatures(o); err != nil {
			return err
		}
		if o.ServiceAccess == nil {
			o.ServiceAccess = map[string]time.Time{}
		}
		if _, ok := o.ServiceAccess[p]; !ok {
			o.ServiceAccess[p] = c.Now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DisableAWSServiceAccess withdraws a service's trusted access; a service
// without it is left as it is.
func (s *Service) DisableAWSServiceAccess(ctx context.Context, in *orgapi.DisableAWSServiceAccessRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		p := str(in.ServicePrincipal)
		if err := checkServicePrincipal(p); err != nil {
			return err
		}
		delete(o.ServiceAccess, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// ListAWSServiceAccessForOrganization lists the services with trusted
// access, by service principal.
func (s *Service) ListAWSServiceAccessForOrganization(ctx context.Context, in *orgapi.ListAWSServiceAccessForOrganizationRequest) (*orgapi.ListAWSServiceAccessForOrganizationResponse, error) {
	out := &orgapi.ListAWSServiceAccessForOrganizationResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		all := make([]orgapi.EnabledServicePrincipal, 0, len(o.ServiceAccess))
		for p, t := range o.ServiceAccess {
			all = append(all, orgapi.EnabledServicePrincipal{ServicePrincipal: ptr(p), DateEnabled: ptr(t)})
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].ServicePrincipal < *all[j].ServicePrincipal })
		items, next, err := page(all, func(e orgapi.EnabledServicePrincipal) string { return *e.ServicePrincipal }, in.NextToken, in.MaxResults, 20)
		out.EnabledServicePrincipals, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
