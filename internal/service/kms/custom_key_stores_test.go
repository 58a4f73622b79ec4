package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestCustomKeyStores: no custom key store exists, and the operations say
// so as AWS does; IAM still decides who may ask.
func TestCustomKeyStores(t *testing.T) {
	srv, c := start(t)
	out, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{})
	if err != nil || len(out.CustomKeyStores) != 0 || out.Truncated {
		t.Fatalf("DescribeCustomKeyStores: %+v %v", out, err)
	}
	const id = "cks-1234567890abcdef0"
	for name, tc := range map[string]struct {
		call       func() error
		code, text string
	}{
		"describe by id": {func() error {
			_, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreNotFoundException", "Custom key store " + id + " does not exist"},
		"describe by name": {func() error {
			_, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreName: aws.String("hsm")})
			return err
		}, "CustomKeyStoreNotFoundException", "hsm"},
		"describe with a marker": {func() error {
			_, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{Marker: aws.String("abc")})
			return err
		}, "InvalidMarkerException", ""},
		"connect": {func() error {
			_, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreNotFoundException", id},
		"disconnect": {func() error {
			_, err := c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreNotFoundException", id},
		"delete": {func() error {
			_, err := c.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreNotFoundException", id},
		"update": {func() error {
			_, err := c.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(id), NewCustomKeyStoreName: aws.String("x")})
			return err
		}, "CustomKeyStoreNotFoundException", id},
		"create on a CloudHSM cluster": {func() error {
			_, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("hsm"), CloudHsmClusterId: aws.String("cluster-234567abcdefg"), TrustAnchorCertificate: aws.String("cert"), KeyStorePassword: aws.String("password1")})
			return err
		}, "CloudHsmClusterNotFoundException", "cluster-234567abcdefg"},
		"create on a CloudHSM cluster without its id": {func() error {
			_, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("hsm")})
			return err
		}, "ValidationException", "CloudHsmClusterId is required"},
		"create on an external proxy": {func() error {
			_, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("xks"), CustomKeyStoreType: types.CustomKeyStoreTypeExternalKeyStore,
				XksProxyConnectivity: types.XksProxyConnectivityTypePublicEndpoint, XksProxyUriEndpoint: aws.String("https://xks.example.com"), XksProxyUriPath: aws.String("/kms/xks/v1"),
				XksProxyAuthenticationCredential: &types.XksProxyAuthenticationCredentialType{AccessKeyId: aws.String("ABCDEFGHIJKLMNOPQRST"), RawSecretAccessKey: aws.String("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")}})
			return err
		}, "XksProxyUriUnreachableException", "https://xks.example.com"},
		"create a key in one": {func() error {
			_, err := c.CreateKey(ctx, &kms.CreateKeyInput{CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreNotFoundException", id},
	} {
		t.Run(name, func(t *testing.T) {
			wantErr(t, tc.call(), tc.code, 400, tc.text)
		})
	}
	// Nothing was created.
	if out, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{}); err != nil || len(out.CustomKeyStores) != 0 {
		t.Fatalf("DescribeCustomKeyStores after the failures: %+v %v", out, err)
	}
	keys, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 0 {
		t.Fatalf("ListKeys: %+v %v", keys, err)
	}

	t.Run("IAM decides", func(t *testing.T) {
		nobody, _ := user(t, srv, "nobody", "")
		_, err := nobody.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{})
		wantErr(t, err, "AccessDeniedException", 400, "kms:DescribeCustomKeyStores")
		_, err = nobody.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
		wantErr(t, err, "AccessDeniedException", 400, "kms:ConnectCustomKeyStore")
		reader, _ := user(t, srv, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:DescribeCustomKeyStores","Resource":"*"}]}`)
		if _, err := reader.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{}); err != nil {
			t.Fatal(err)
		}
	})
}
