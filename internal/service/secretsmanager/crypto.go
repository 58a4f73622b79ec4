package secretsmanager

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// sealedValue is one version's value as stored: AES-256-GCM under a data
// key of which only KMS's ciphertext is kept.
type sealedValue struct {
	Binary  bool   `json:"binary,omitempty"`
	DataKey []byte `json:"dataKey"` // the data key, encrypted by KMS
	Sealed  []byte `json:"sealed"`  // nonce || ciphertext || tag
}

// plainValue is a decrypted value.
type plainValue struct {
	binary bool
	data   []byte
}

func viaService(region string) string { return "secretsmanager." + region + ".amazonaws.com" }

func encryptionContext(arn, versionID string) map[string]string {
	return map[string]string{"SecretARN": arn, "SecretVersionId": versionID}
}

// aad binds a sealed value to its secret and version: a value copied to
// another secret or version does not open.
func aad(arn, versionID string) []byte { return []byte(arn + "\x00" + versionID) }

// encrypt seals pv for version versionID of sc under a fresh data key of
// keyID, and returns the stored form and the ARN of the KMS key.
func (s *Service) encrypt(ctx context.Context, c *service.Call, sc *secret, keyID, versionID string, pv plainValue) (*sealedValue, string, error) {
	dk, wrapped, keyARN, err := s.keys.GenerateDataKey(ctx, c, keyID, encryptionContext(sc.ARN, versionID), viaService(sc.Region))
	if err != nil {
		return nil, "", kmsError(err, true)
	}
	defer clear(dk)
	aead, err := newAEAD(dk)
	if err != nil {
		return nil, "", awsproto.Internal(err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pv.data)+aead.Overhead())
	if _, err := io.ReadFull(c.Rand, nonce); err != nil {
		return nil, "", awsproto.Internal(err)
	}
	sealed := aead.Seal(nonce, nonce, pv.data, aad(sc.ARN, versionID))
	return &sealedValue{Binary: pv.binary, DataKey: wrapped, Sealed: sealed}, keyARN, nil
}

// decrypt opens the value of version versionID of sc. KMS authorizes the
// caller (kms:Decrypt through secretsmanager.<region>.amazonaws.com).
func (s *Service) decrypt(ctx context.Context, c *service.Call, sc *secret, versionID string, sv *sealedValue) (plainValue, error) {
	dk, _, err := s.keys.Decrypt(ctx, c, sv.DataKey, sc.valueContext(versionID), sc.viaService())
	if err != nil {
		return plainValue{}, kmsError(err, false)
	}
	defer clear(dk)
	aead, err := newAEAD(dk)
	if err != nil {
		return plainValue{}, smapi.NewDecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	ns := aead.NonceSize()
	if len(sv.Sealed) < ns {
		return plainValue{}, smapi.NewDecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	pt, err := aead.Open(nil, sv.Sealed[:ns], sv.Sealed[ns:], sc.valueAAD(versionID))
	if err != nil {
		return plainValue{}, smapi.NewDecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	return plainValue{binary: sv.Binary, data: pt}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretsmanager: data key of %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// kmsError turns a KMS failure into Secrets Manager's answer. A refusal by
// the key policy or the caller's policies becomes AccessDeniedException
// "Access to KMS is not allowed", as AWS words it; a disabled, pending
// deletion or missing key becomes EncryptionFailure (writing) or
// DecryptionFailure (reading); a bad KmsKeyId the user gave stays a client
// error. The KMS message (which names the key, never the secret) follows.
func kmsError(err error, writing bool) error {
	var d *authz.Denied
	if errors.As(err, &d) {
		return accessDenied("Access to KMS is not allowed")
	}
	var ae *awsproto.Error
	if !errors.As(err, &ae) {
		return awsproto.Internal(err)
	}
	switch ae.Code {
	case "AccessDeniedException":
		return accessDenied("Access to KMS is not allowed")
	case "NotFoundException", "InvalidArnException":
		if writing {
			return smapi.NewResourceNotFoundException("Secrets Manager can't find the specified KMS key: %s", ae.Message)
		}
	case "InternalFailure", "KMSInternalException", "DependencyTimeoutException":
		return smapi.NewInternalServiceError("An error occurred on the server side.")
	}
	if writing {
		return smapi.NewEncryptionFailure("Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state. %s", ae.Message)
	}
	return smapi.NewDecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key. %s", ae.Message)
}

// accessDenied is the common AccessDeniedException of the json protocol,
// for a refusal found inside a handler (a KMS key's policy).
func accessDenied(msg string) error {
	return &awsproto.Error{Code: "AccessDeniedException", Message: msg, Status: 400, Sender: true}
}

func putValue(tx store.Tx, sc *secret, versionID string, sv *sealedValue) error {
	v, err := json.Marshal(sv)
	if err != nil {
		return err
	}
	return tx.Put(TableValue, valueKey(sc.key(), versionID), v)
}

func loadValue(tx store.Tx, key string) (*sealedValue, error) {
	v, err := tx.Get(TableValue, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sv := new(sealedValue)
	if err := json.Unmarshal(v, sv); err != nil {
		return nil, fmt.Errorf("secretsmanager: decode value: %w", err)
	}
	return sv, nil
}

// cachedValue returns the sealed value stored under key through the cache.
func (s *Service) cachedValue(ctx context.Context, key string) (*sealedValue, error) {
	s.mu.RLock()
	sv, ok := s.values[key]
	gen := s.gen
	s.mu.RUnlock()
	if ok {
		return sv, nil
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sv, err = loadValue(tx, key)
		return err
	})
	if err != nil || sv == nil {
		return sv, err
	}
	s.mu.Lock()
	if s.gen == gen {
		if len(s.values) > cacheMax {
			clear(s.values)
		}
		s.values[key] = sv
	}
	s.mu.Unlock()
	return sv, nil
}

// valueOf returns the plain value given in a request; both or neither is
// InvalidParameterException, as AWS answers.
func valueOf(str *string, bin []byte, required bool) (plainValue, bool, error) {
	switch {
	case str != nil && bin != nil:
		return plainValue{}, false, smapi.NewInvalidParameterException("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		return plainValue{data: []byte(*str)}, true, nil
	case bin != nil:
		return plainValue{binary: true, data: bin}, true, nil
	case required:
		return plainValue{}, false, smapi.NewInvalidRequestException("You must provide either SecretString or SecretBinary.")
	}
	return plainValue{}, false, nil
}
