package organizations

import (
	"context"

	"github.com/rampart/rampart/internal/service"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// CreateGovCloudAccount creates a pair of accounts, one in the commercial
// partition and one in AWS GovCloud (US), for a management account that
// AWS has enabled for GovCloud. rampart serves the commercial partition
// only and no management account of it is GovCloud-enabled, so after the
// checks CreateAccount makes (an organization with all features, called
// by its management account) the answer is AWS's for such an account:
// ConstraintViolationException MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED.
func (s *Service) CreateGovCloudAccount(ctx context.Context, in *orgapi.CreateGovCloudAccountRequest) (*orgapi.CreateGovCloudAccountResponse, error) {
	err := s.view(ctx, managerOnly, func(_ *service.Call, o *org) error {
		if err := requireAllFeatures(o); err != nil {
			return err
		}
		return orgapi.NewConstraintViolationException("You attempted to create a GovCloud account but the management account isn't enabled for AWS GovCloud (US).").With("Reason", "MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED")
	})
	return nil, err
}
