package kms_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"hash"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// importParams calls GetParametersForImport and returns the import token
// and the wrapping public key, checked as a client would use them.
func importParams(t *testing.T, c *kms.Client, keyID *string, alg types.AlgorithmSpec, spec types.WrappingKeySpec) ([]byte, *rsa.PublicKey) {
	t.Helper()
	p, err := c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: keyID, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatalf("GetParametersForImport: %v", err)
	}
	pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatalf("wrapping key: %v", err)
	}
	rk, ok := pk.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("wrapping key is a %T", pk)
	}
	bits := map[types.WrappingKeySpec]int{types.WrappingKeySpecRsa2048: 2048, types.WrappingKeySpecRsa3072: 3072, types.WrappingKeySpecRsa4096: 4096}[spec]
	if rk.N.BitLen() != bits {
		t.Fatalf("wrapping key of %d bits; want %d", rk.N.BitLen(), bits)
	}
	if d := time.Until(*p.ParametersValidTo); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("ParametersValidTo in %s; want 24 hours", d)
	}
	return p.ImportToken, rk
}

// wrap encrypts key material under the wrapping key with RSAES-OAEP
// (SHA-1 or SHA-256), as `openssl pkeyutl -pkeyopt rsa_padding_mode:oaep`
// does in AWS's instructions.
func wrap(t *testing.T, pub *rsa.PublicKey, alg types.AlgorithmSpec, material []byte) []byte {
	t.Helper()
	var h hash.Hash = sha256.New()
	if alg == types.AlgorithmSpecRsaesOaepSha1 {
		h = sha1.New()
	}
	w, err := rsa.EncryptOAEP(h, rand.Reader, pub, material, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestImportedKeyMaterialLifecycle drives a SYMMETRIC_DEFAULT key with
// Origin EXTERNAL through the SDK: import with an expiry, use, expiry by
// the background sweep, re-import of the same material (old ciphertexts
// open again), refusal of other material, and DeleteImportedKeyMaterial.
func TestImportedKeyMaterialLifecycle(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if k.KeyState != types.KeyStatePendingImport || k.Origin != types.OriginTypeExternal {
		t.Fatalf("new EXTERNAL key: %s %s", k.KeyState, k.Origin)
	}
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending import.")

	material := randomBytes(32)
	token, pub := importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048)
	validTo := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	imp, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material),
		ExpirationModel:      types.ExpirationModelTypeKeyMaterialExpires, ValidTo: &validTo})
	if err != nil {
		t.Fatalf("ImportKeyMaterial: %v", err)
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; m.KeyState != types.KeyStateEnabled || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
		m.ValidTo == nil || !m.ValidTo.Equal(validTo) || aws.ToString(m.CurrentKeyMaterialId) != aws.ToString(imp.KeyMaterialId) {
		t.Fatalf("after import: state %s model %s validTo %v material %s", m.KeyState, m.ExpirationModel, m.ValidTo, aws.ToString(m.CurrentKeyMaterialId))
	}
	ec := map[string]string{"purpose": "import"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("under imported material"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil || string(dec.Plaintext) != "under imported material" {
		t.Fatalf("Decrypt: %v", err)
	}
	// An import token is good for one import: "Each time you import key
	// material into AWS KMS, you must download and re-encrypt the key
	// material" ("Download the wrapping public key and import token").
	_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantErr(t, err, "InvalidImportTokenException", 400, "")

	// The sweep before ValidTo changes nothing; past it, the material is
	// gone and the key is PendingImport.
	w := worker(t, srv)
	if err := w.Sweep(ctx, validTo.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateEnabled {
		t.Fatalf("before ValidTo: %s", st)
	}
	if err := w.Sweep(ctx, validTo.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("after ValidTo: %s", st)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending import.")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "KMSInvalidStateException", 400, "is pending import.")

	// Other key material is refused, and the key stays PendingImport.
	token, pub = importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha1, types.WrappingKeySpecRsa3072)
	_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha1, randomBytes(32)), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantErr(t, err, "IncorrectKeyMaterialException", 400, "")
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("after refused material: %s", st)
	}

	// The same material, now without expiry, opens the old ciphertext.
	token, pub = importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha1, types.WrappingKeySpecRsa3072)
	re, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha1, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	if aws.ToString(re.KeyMaterialId) != aws.ToString(imp.KeyMaterialId) {
		t.Fatalf("the same material got another id: %s, was %s", aws.ToString(re.KeyMaterialId), aws.ToString(imp.KeyMaterialId))
	}
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil || string(dec.Plaintext) != "under imported material" {
		t.Fatalf("Decrypt after re-import: %v", err)
	}
	d, _ = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if d.KeyMetadata.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire || d.KeyMetadata.ValidTo != nil {
		t.Fatalf("after re-import: model %s validTo %v", d.KeyMetadata.ExpirationModel, d.KeyMetadata.ValidTo)
	}
	// Material that does not expire survives any sweep.
	if err := w.Sweep(ctx, time.Now().Add(3*365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateEnabled {
		t.Fatalf("non-expiring material swept: %s", st)
	}

	// DeleteImportedKeyMaterial: PendingImport at once, until re-imported.
	if _, err := c.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("after DeleteImportedKeyMaterial: %s", st)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending import.")
	token, pub = importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa4096)
	if _, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); err != nil {
		t.Fatalf("import after DeleteImportedKeyMaterial: %v", err)
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}); err != nil || string(dec.Plaintext) != "under imported material" {
		t.Fatalf("Decrypt after import: %v", err)
	}
}

// TestImportKeyMaterialErrors checks ImportKeyMaterial's refusals.
func TestImportKeyMaterialErrors(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	material := randomBytes(32)
	imp := func(token []byte, wrapped []byte, model types.ExpirationModelType, validTo *time.Time) error {
		_, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token, EncryptedKeyMaterial: wrapped, ExpirationModel: model, ValidTo: validTo})
		return err
	}
	token, pub := importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048)
	wrapped := wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material)
	at := func(d time.Duration) *time.Time { v := time.Now().Add(d); return &v }

	for name, tc := range map[string]struct {
		err  error
		code string
		msg  string
	}{
		// "The value of this parameter must be a future date and time. The
		// maximum value is 365 days from the request date." (ValidTo)
		"ValidTo in the past":        {imp(token, wrapped, types.ExpirationModelTypeKeyMaterialExpires, at(-time.Hour)), "ValidationException", "ValidTo must be a future date and time."},
		"ValidTo beyond 365 days":    {imp(token, wrapped, types.ExpirationModelTypeKeyMaterialExpires, at(366*24*time.Hour)), "ValidationException", "ValidTo must be at most 365 days from the request date."},
		"ValidTo missing":            {imp(token, wrapped, types.ExpirationModelTypeKeyMaterialExpires, nil), "ValidationException", "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"},
		"ValidTo with no expiry":     {imp(token, wrapped, types.ExpirationModelTypeKeyMaterialDoesNotExpire, at(time.Hour)), "ValidationException", "A ValidTo date must not be set"},
		"ValidTo by default model":   {imp(token, wrapped, "", nil), "ValidationException", "A ValidTo date must be set"},
		"another token":              {imp(randomBytes(len(token)), wrapped, types.ExpirationModelTypeKeyMaterialDoesNotExpire, nil), "InvalidImportTokenException", ""},
		"wrapped with SHA-1":         {imp(token, wrap(t, pub, types.AlgorithmSpecRsaesOaepSha1, material), types.ExpirationModelTypeKeyMaterialDoesNotExpire, nil), "InvalidCiphertextException", ""},
		"wrapped with another key":   {imp(token, wrap(t, mustRSA(t), types.AlgorithmSpecRsaesOaepSha256, material), types.ExpirationModelTypeKeyMaterialDoesNotExpire, nil), "InvalidCiphertextException", ""},
		"material of the wrong size": {imp(token, wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material[:16]), types.ExpirationModelTypeKeyMaterialDoesNotExpire, nil), "IncorrectKeyMaterialException", ""},
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.err, tc.code, 400, tc.msg) })
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("after refused imports: %s", st)
	}

	// 365 days is allowed, to the day.
	if err := imp(token, wrapped, types.ExpirationModelTypeKeyMaterialExpires, at(365*24*time.Hour-time.Minute)); err != nil {
		t.Fatalf("ValidTo 365 days ahead: %v", err)
	}

	// An import token expires 24 hours after GetParametersForImport. The
	// server's clock is the wall clock, so this calls the handler with a
	// later one.
	token, pub = importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048)
	root := authn.RootPrincipal(srv.Account)
	later := service.WithCall(ctx, &service.Call{Principal: &root, Region: "us-east-1", Now: time.Now().Add(25 * time.Hour), Rand: rand.Reader})
	_, err := worker(t, srv).ImportKeyMaterial(later, &kmsapi.ImportKeyMaterialRequest{KeyId: k.KeyId, ImportToken: token,
		EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material), ExpirationModel: kmsapi.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantCode(t, err, "ExpiredImportTokenException")

	// Keys that take no imported material.
	own := createKey(t, c, nil)
	_, err = c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: own.KeyId, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	wantErr(t, err, "UnsupportedOperationException", 400, "Origin AWS_KMS")
	_, err = c.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: own.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "")
}

func mustRSA(t *testing.T) *rsa.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}
