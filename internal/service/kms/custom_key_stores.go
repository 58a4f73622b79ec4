package kms

import (
	"context"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Custom key stores keep key material in an AWS CloudHSM cluster or behind
// an external key store proxy. rampart has neither (CloudHSM is a later
// issue, and it makes no outbound calls to addresses a caller names), so
// no custom key store ever exists: the operations answer as AWS does in
// an account and Region without one. The IAM actions have no resource
// (custom key stores are not resources in IAM policies).

// CreateCustomKeyStore fails: a CloudHSM cluster of that id does not exist,
// and rampart does not connect to external key store proxies.
func (s *Service) CreateCustomKeyStore(_ context.Context, in *kmsapi.CreateCustomKeyStoreRequest) (*kmsapi.CreateCustomKeyStoreResponse, error) {
	switch in.CustomKeyStoreType {
	case "", kmsapi.CustomKeyStoreTypeAwsCloudhsm:
		for _, p := range []struct {
			name string
			v    *string
		}{{"CloudHsmClusterId", in.CloudHsmClusterId}, {"TrustAnchorCertificate", in.TrustAnchorCertificate}, {"KeyStorePassword", in.KeyStorePassword}} {
			if p.v == nil {
				return nil, validation("%s is required for a custom key store of type AWS_CLOUDHSM.", p.name)
			}
		}
		return nil, kmsapi.NewCloudHsmClusterNotFoundException("AWS CloudHSM cluster %s is not found.", *in.CloudHsmClusterId)
	default: // EXTERNAL_KEY_STORE
		if in.XksProxyUriEndpoint == nil || in.XksProxyUriPath == nil || in.XksProxyAuthenticationCredential == nil {
			return nil, validation("XksProxyUriEndpoint, XksProxyUriPath and XksProxyAuthenticationCredential are required for a custom key store of type EXTERNAL_KEY_STORE.")
		}
		return nil, kmsapi.NewXksProxyUriUnreachableException("rampart does not connect to external key store proxies: %s is unreachable.", *in.XksProxyUriEndpoint)
	}
}

// DescribeCustomKeyStores lists no custom key store; naming one is
// CustomKeyStoreNotFoundException.
func (s *Service) DescribeCustomKeyStores(_ context.Context, in *kmsapi.DescribeCustomKeyStoresRequest) (*kmsapi.DescribeCustomKeyStoresResponse, error) {
	switch {
	case in.CustomKeyStoreId != nil && in.CustomKeyStoreName != nil:
		return nil, validation("You cannot specify both CustomKeyStoreId and CustomKeyStoreName.")
	case in.CustomKeyStoreId != nil:
		return nil, customKeyStoreNotFound(*in.CustomKeyStoreId)
	case in.CustomKeyStoreName != nil:
		return nil, kmsapi.NewCustomKeyStoreNotFoundException("Custom key store with name %s does not exist", *in.CustomKeyStoreName)
	case in.Marker != nil:
		return nil, kmsapi.NewInvalidMarkerException("Invalid marker")
	}
	return &kmsapi.DescribeCustomKeyStoresResponse{CustomKeyStores: []kmsapi.CustomKeyStoresListEntry{}, Truncated: ptr(false)}, nil
}

// ConnectCustomKeyStore: no such custom key store.
func (s *Service) ConnectCustomKeyStore(_ context.Context, in *kmsapi.ConnectCustomKeyStoreRequest) (*kmsapi.ConnectCustomKeyStoreResponse, error) {
	return nil, customKeyStoreNotFound(deref(in.CustomKeyStoreId))
}

// DisconnectCustomKeyStore: no such custom key store.
func (s *Service) DisconnectCustomKeyStore(_ context.Context, in *kmsapi.DisconnectCustomKeyStoreRequest) (*kmsapi.DisconnectCustomKeyStoreResponse, error) {
	return nil, customKeyStoreNotFound(deref(in.CustomKeyStoreId))
}

// DeleteCustomKeyStore: no such custom key store.
func (s *Service) DeleteCustomKeyStore(_ context.Context, in *kmsapi.DeleteCustomKeyStoreRequest) (*kmsapi.DeleteCustomKeyStoreResponse, error) {
	return nil, customKeyStoreNotFound(deref(in.CustomKeyStoreId))
}

// UpdateCustomKeyStore: no such custom key store.
func (s *Service) UpdateCustomKeyStore(_ context.Context, in *kmsapi.UpdateCustomKeyStoreRequest) (*kmsapi.UpdateCustomKeyStoreResponse, error) {
	return nil, customKeyStoreNotFound(deref(in.CustomKeyStoreId))
}

func customKeyStoreNotFound(id string) error {
	return kmsapi.NewCustomKeyStoreNotFoundException("Custom key store %s does not exist", id)
}
