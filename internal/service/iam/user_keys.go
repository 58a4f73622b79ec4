package iam

import (
	"context"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Signing certificates (X.509 certificates for the SOAP-era APIs) and SSH
// public keys (stored for the bastion) of IAM users. Neither holds a
// secret: only public material is given to IAM.

const (
	tableSigningCert = "iam.signingcert" // <acct>/<lower user>/<cert id> → signingCert
	tableSSHKey      = "iam.sshkey"      // <acct>/<lower user>/<key id> → sshKey

	maxSigningCerts = 2
	maxSSHKeys      = 5
	prefixSSHKey    = "APKA"
)

type signingCert struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Body     string    `json:"body"`
	Status   string    `json:"status"`
	Uploaded time.Time `json:"uploaded"`
}

type sshKey struct {
	ID          string    `json:"id"`
	User        string    `json:"user"`
	Body        string    `json:"body"` // ssh-rsa AAAA… (the SSH encoding)
	Fingerprint string    `json:"fingerprint"`
	Status      string    `json:"status"`
	Uploaded    time.Time `json:"uploaded"`
}

func (s *Service) registerUserKeys(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpUploadSigningCertificate, s.UploadSigningCertificate, service.Rule[iamapi.UploadSigningCertificateRequest]{Action: "iam:UploadSigningCertificate",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UploadSigningCertificateRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpListSigningCertificates, s.ListSigningCertificates, service.Rule[iamapi.ListSigningCertificatesRequest]{Action: "iam:ListSigningCertificates",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListSigningCertificatesRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpUpdateSigningCertificate, s.UpdateSigningCertificate, service.Rule[iamapi.UpdateSigningCertificateRequest]{Action: "iam:UpdateSigningCertificate",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UpdateSigningCertificateRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpDeleteSigningCertificate, s.DeleteSigningCertificate, service.Rule[iamapi.DeleteSigningCertificateRequest]{Action: "iam:DeleteSigningCertificate",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteSigningCertificateRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpUploadSSHPublicKey, s.UploadSSHPublicKey, service.Rule[iamapi.UploadSSHPublicKeyRequest]{Action: "iam:UploadSSHPublicKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UploadSSHPublicKeyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpGetSSHPublicKey, s.GetSSHPublicKey, service.Rule[iamapi.GetSSHPublicKeyRequest]{Action: "iam:GetSSHPublicKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.GetSSHPublicKeyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpListSSHPublicKeys, s.ListSSHPublicKeys, service.Rule[iamapi.ListSSHPublicKeysRequest]{Action: "iam:ListSSHPublicKeys",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListSSHPublicKeysRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpUpdateSSHPublicKey, s.UpdateSSHPublicKey, service.Rule[iamapi.UpdateSSHPublicKeyRequest]{Action: "iam:UpdateSSHPublicKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UpdateSSHPublicKeyRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpDeleteSSHPublicKey, s.DeleteSSHPublicKey, service.Rule[iamapi.DeleteSSHPublicKeyRequest]{Action: "iam:DeleteSSHPublicKey",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteSSHPublicKeyRequest) string { return str(in.UserName) })})
}

// ---- Signing certificates ----

// certOwner is the owner part of the keys of a user's records (signing
// certificates, SSH keys): the user's stored name, or, for the root user
// acting on its own credentials, rootOwner. "This operation works for
// access keys under the AWS account. Consequently, you can use this
// operation to manage AWS account root user credentials even if the AWS
// account has no associated users." (UploadSigningCertificate API
// reference; likewise List, Update and DeleteSigningCertificate.)
func certOwner(tx store.Tx, acct string, root bool, name string) (string, error) {
	if root {
		return rootOwner, nil
	}
	e, err := getEntity(tx, kindUser, acct, name)
	if err != nil {
		return "", err
	}
	return e.Name, nil
}

func userCerts(tx store.Tx, acct, user string) ([]signingCert, error) {
	kvs, err := tx.Scan(tableSigningCert, entityKey(acct, user)+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]signingCert, 0, len(kvs))
	for _, kv := range kvs {
		var c signingCert
		if err := json.Unmarshal(kv.Value, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Uploaded.Before(out[j].Uploaded) })
	return out, nil
}

// api is the certificate as IAM answers it; a root user's certificate
// carries the name IAM gives the root user's credentials.
func (c *signingCert) api(acct string) iamapi.SigningCertificate {
	user := c.User
	if user == rootOwner {
		user = rootKeyUserName(acct)
	}
	return iamapi.SigningCertificate{UserName: ptr(user), CertificateId: ptr(c.ID), CertificateBody: ptr(c.Body), Status: iamapi.StatusType(c.Status), UploadDate: ptr(c.Uploaded)}
}

// parseCertPEM parses one PEM certificate; MalformedCertificate otherwise.
func parseCertPEM(body string) (*x509.Certificate, error) {
	blk, rest := pem.Decode([]byte(body))
	if blk == nil || blk.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil, iamapi.NewMalformedCertificateException("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, iamapi.NewMalformedCertificateException("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	return cert, nil
}

// UploadSigningCertificate adds an X.509 signing certificate to a user
// (the caller when none is named); its id is derived from the certificate,
// so the same certificate cannot be uploaded twice.
func (s *Service) UploadSigningCertificate(ctx context.Context, in *iamapi.UploadSigningCertificateRequest) (*iamapi.UploadSigningCertificateResponse, error) {
	c := service.CallFrom(ctx)
	root := isRootSelf(c, in.UserName)
	name := rootOwner
	if !root {
		n, err := selfName(c, in.UserName)
		if err != nil {
			return nil, err
		}
		name = n
	}
	cert, err := parseCertPEM(str(in.CertificateBody))
	if err != nil {
		return nil, err
	}
	if c.Now.After(cert.NotAfter) || c.Now.Before(cert.NotBefore) {
		return nil, iamapi.NewInvalidCertificateException("The certificate is not valid at this time: it is valid from %s to %s.", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	id := certID(cert.Raw)
	acct := c.Principal.Account
	var sc signingCert
	err = s.store.Update(ctx, func(tx store.Tx) error {
		owner, err := certOwner(tx, acct, root, name)
		if err != nil {
			return err
		}
		// Certificate ids are unique in the account.
		kvs, err := tx.Scan(tableSigningCert, acct+"/", "", 0)
		if err != nil {
			return err
		}
		n := 0
		for _, kv := range kvs {
			if strings.HasSuffix(kv.Key, "/"+id) {
				return iamapi.NewDuplicateCertificateException("The Certificate with id %s already exists.", id)
			}
			if strings.HasPrefix(kv.Key, entityKey(acct, owner)+"/") {
				n++
			}
		}
		if n >= maxSigningCerts {
			return iamapi.NewLimitExceededException("Cannot exceed quota for SigningCertificatesPerUser: %d", maxSigningCerts)
		}
		sc = signingCert{ID: id, User: owner, Body: str(in.CertificateBody), Status: "Active", Uploaded: c.Now.UTC().Truncate(time.Second)}
		return putJSON(tx, tableSigningCert, entityKey(acct, owner)+"/"+id, &sc)
	})
	if err != nil {
		return nil, err
	}
	out := sc.api(acct)
	return &iamapi.UploadSigningCertificateResponse{Certificate: &out}, nil
}

// certID names a certificate as IAM does: 32 characters derived from its DER.
func certID(der []byte) string {
	sum := md5.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ListSigningCertificates lists a user's signing certificates.
func (s *Service) ListSigningCertificates(ctx context.Context, in *iamapi.ListSigningCertificatesRequest) (*iamapi.ListSigningCertificatesResponse, error) {
	c := service.CallFrom(ctx)
	root := isRootSelf(c, in.UserName)
	name := rootOwner
	if !root {
		n, err := selfName(c, in.UserName)
		if err != nil {
			return nil, err
		}
		name = n
	}
	var certs []signingCert
	err := s.store.View(ctx, func(tx store.Tx) error {
		owner, err := certOwner(tx, c.Principal.Account, root, name)
		if err != nil {
			return err
		}
		certs, err = userCerts(tx, c.Principal.Account, owner)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(certs, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListSigningCertificatesResponse{Certificates: []iamapi.SigningCertificate{}, IsTruncated: trunc, Marker: next}
	for i := range pg {
		out.Certificates = append(out.Certificates, pg[i].api(c.Principal.Account))
	}
	return out, nil
}

func (s *Service) updateUserRecord(ctx context.Context, table string, user *string, id string, notFound func() error, fn func(tx store.Tx, key string) error) error {
	c := service.CallFrom(ctx)
	root := isRootSelf(c, user)
	name := rootOwner
	if !root {
		n, err := selfName(c, user)
		if err != nil {
			return err
		}
		name = n
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		owner, err := certOwner(tx, c.Principal.Account, root, name)
		if err != nil {
			return err
		}
		key := entityKey(c.Principal.Account, owner) + "/" + id
		if _, err := tx.Get(table, key); errors.Is(err, store.ErrNotFound) {
			return notFound()
		} else if err != nil {
			return err
		}
		return fn(tx, key)
	})
}

func setStatus(tx store.Tx, table, key, status string) error {
	v, err := tx.Get(table, key)
	if err != nil {
		return err
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	rec["status"], _ = json.Marshal(status)
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Put(table, key, b)
}

func noSuchCert(id string) func() error {
	return func() error {
		return iamapi.NewNoSuchEntityException("The Certificate with id %s cannot be found.", id)
	}
}

// UpdateSigningCertificate makes a certificate Active or Inactive.
func (s *Service) UpdateSigningCertificate(ctx context.Context, in *iamapi.UpdateSigningCertificateRequest) (*awsEmpty, error) {
	id := str(in.CertificateId)
	return empty(s.updateUserRecord(ctx, tableSigningCert, in.UserName, id, noSuchCert(id), func(tx store.Tx, key string) error {
		return setStatus(tx, tableSigningCert, key, string(in.Status))
	}))
}

// DeleteSigningCertificate deletes a certificate.
func (s *Service) DeleteSigningCertificate(ctx context.Context, in *iamapi.DeleteSigningCertificateRequest) (*awsEmpty, error) {
	id := str(in.CertificateId)
	return empty(s.updateUserRecord(ctx, tableSigningCert, in.UserName, id, noSuchCert(id), func(tx store.Tx, key string) error {
		_, err := tx.Delete(tableSigningCert, key)
		return err
	}))
}

// ---- SSH public keys ----

// parseSSHKey accepts an RSA public key in the SSH encoding ("ssh-rsa AAAA…
// comment") or PEM, of at least 2,048 bits, as IAM does, and returns its
// SSH encoding (without comment) and MD5 fingerprint.
func parseSSHKey(body string) (sshBody, fingerprint string, err error) {
	unrecognized := iamapi.NewUnrecognizedPublicKeyEncodingException("The public key encoding format is unsupported or unrecognized.")
	var pub *rsa.PublicKey
	body = strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(body, "-----BEGIN"):
		blk, _ := pem.Decode([]byte(body))
		if blk == nil {
			return "", "", unrecognized
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			if k2, err2 := x509.ParsePKCS1PublicKey(blk.Bytes); err2 == nil {
				k, err = k2, nil
			}
		}
		rk, ok := k.(*rsa.PublicKey)
		if err != nil || !ok {
			return "", "", unrecognized
		}
		pub = rk
	case strings.HasPrefix(body, "ssh-rsa "):
		f := strings.Fields(body)
		blob, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil {
			return "", "", unrecognized
		}
		if pub = sshRSA(blob); pub == nil {
			return "", "", iamapi.NewInvalidPublicKeyException("The public key is not a valid ssh-rsa key.")
		}
	default:
		return "", "", unrecognized
	}
	if bits := pub.N.BitLen(); bits < 2048 || bits > 16384 {
		return "", "", iamapi.NewInvalidPublicKeyException("The public key must be at least 2048 bits long; this one has %d.", bits)
	}
	blob := sshRSABlob(pub)
	sum := md5.Sum(blob)
	hx := hex.EncodeToString(sum[:])
	parts := make([]string, 0, 16)
	for i := 0; i < len(hx); i += 2 {
		parts = append(parts, hx[i:i+2])
	}
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(blob), strings.Join(parts, ":"), nil
}

// sshRSA decodes an RFC 4253 ssh-rsa key blob (string "ssh-rsa", mpint e,
// mpint n); nil when it is not one.
func sshRSA(b []byte) *rsa.PublicKey {
	next := func() []byte {
		if len(b) < 4 {
			return nil
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil
		}
		v := b[4 : 4+n]
		b = b[4+n:]
		return v
	}
	if string(next()) != "ssh-rsa" {
		return nil
	}
	e, n := next(), next()
	if e == nil || n == nil || len(b) != 0 || len(e) > 4 {
		return nil
	}
	ei := int(new(big.Int).SetBytes(e).Int64())
	if ei < 3 || ei%2 == 0 {
		return nil
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ei}
}

func sshRSABlob(k *rsa.PublicKey) []byte {
	put := func(out, v []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		return append(out, v...)
	}
	mpint := func(x *big.Int) []byte {
		b := x.Bytes()
		if len(b) > 0 && b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	out := put(nil, []byte("ssh-rsa"))
	out = put(out, mpint(big.NewInt(int64(k.E))))
	return put(out, mpint(k.N))
}

func (k *sshKey) api(enc iamapi.EncodingType) (*iamapi.SSHPublicKey, error) {
	body := k.Body
	if enc == iamapi.EncodingTypePem {
		blob, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(k.Body, "ssh-rsa "))
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKIXPublicKey(sshRSA(blob))
		if err != nil {
			return nil, err
		}
		body = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	return &iamapi.SSHPublicKey{UserName: ptr(k.User), SSHPublicKeyId: ptr(k.ID), Fingerprint: ptr(k.Fingerprint), SSHPublicKeyBody: ptr(body),
		Status: iamapi.StatusType(k.Status), UploadDate: ptr(k.Uploaded)}, nil
}

func noSuchSSHKey(id string) func() error {
	return func() error {
		return iamapi.NewNoSuchEntityException("The Public Key with id %s cannot be found.", id)
	}
}

// UploadSSHPublicKey adds an SSH public key to a user.
func (s *Service) UploadSSHPublicKey(ctx context.Context, in *iamapi.UploadSSHPublicKeyRequest) (*iamapi.UploadSSHPublicKeyResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	body, fp, err := parseSSHKey(str(in.SSHPublicKeyBody))
	if err != nil {
		return nil, err
	}
	var k sshKey
	err = s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		kvs, err := tx.Scan(tableSSHKey, entityKey(acct, e.Name)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var old sshKey
			if err := json.Unmarshal(kv.Value, &old); err != nil {
				return err
			}
			if old.Fingerprint == fp {
				return iamapi.NewDuplicateSSHPublicKeyException("The SSH public key with fingerprint %s is already associated with user %s.", fp, e.Name)
			}
		}
		if len(kvs) >= maxSSHKeys {
			return iamapi.NewLimitExceededException("Cannot exceed quota for SSHPublicKeysPerUser: %d", maxSSHKeys)
		}
		id, err := newID(c.Rand, prefixSSHKey, 16)
		if err != nil {
			return err
		}
		k = sshKey{ID: id, User: e.Name, Body: body, Fingerprint: fp, Status: "Active", Uploaded: c.Now.UTC().Truncate(time.Second)}
		return putJSON(tx, tableSSHKey, entityKey(acct, e.Name)+"/"+id, &k)
	})
	if err != nil {
		return nil, err
	}
	out, err := k.api(iamapi.EncodingTypeSsh)
	if err != nil {
		return nil, err
	}
	return &iamapi.UploadSSHPublicKeyResponse{SSHPublicKey: out}, nil
}

// GetSSHPublicKey returns a key in the SSH or PEM encoding.
func (s *Service) GetSSHPublicKey(ctx context.Context, in *iamapi.GetSSHPublicKeyRequest) (*iamapi.GetSSHPublicKeyResponse, error) {
	c := service.CallFrom(ctx)
	var k sshKey
	id := str(in.SSHPublicKeyId)
	err := s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, c.Principal.Account, str(in.UserName))
		if err != nil {
			return err
		}
		ok, err := getJSON(tx, tableSSHKey, entityKey(c.Principal.Account, e.Name)+"/"+id, &k)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchSSHKey(id)()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, err := k.api(in.Encoding)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetSSHPublicKeyResponse{SSHPublicKey: out}, nil
}

// ListSSHPublicKeys lists a user's SSH public keys (metadata only).
func (s *Service) ListSSHPublicKeys(ctx context.Context, in *iamapi.ListSSHPublicKeysRequest) (*iamapi.ListSSHPublicKeysResponse, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		// The caller's own keys: SSH public keys (for CodeCommit) belong
		// to IAM users; the root user has none.
		return &iamapi.ListSSHPublicKeysResponse{SSHPublicKeys: []iamapi.SSHPublicKeyMetadata{}, IsTruncated: ptr(false)}, nil
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	var keys []sshKey
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, c.Principal.Account, name)
		if err != nil {
			return err
		}
		kvs, err := tx.Scan(tableSSHKey, entityKey(c.Principal.Account, e.Name)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var k sshKey
			if err := json.Unmarshal(kv.Value, &k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(keys, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListSSHPublicKeysResponse{SSHPublicKeys: []iamapi.SSHPublicKeyMetadata{}, IsTruncated: trunc, Marker: next}
	for _, k := range pg {
		out.SSHPublicKeys = append(out.SSHPublicKeys, iamapi.SSHPublicKeyMetadata{UserName: ptr(k.User), SSHPublicKeyId: ptr(k.ID), Status: iamapi.StatusType(k.Status), UploadDate: ptr(k.Uploaded)})
	}
	return out, nil
}

// UpdateSSHPublicKey makes a key Active or Inactive.
func (s *Service) UpdateSSHPublicKey(ctx context.Context, in *iamapi.UpdateSSHPublicKeyRequest) (*awsEmpty, error) {
	id := str(in.SSHPublicKeyId)
	return empty(s.updateUserRecord(ctx, tableSSHKey, in.UserName, id, noSuchSSHKey(id), func(tx store.Tx, key string) error {
		return setStatus(tx, tableSSHKey, key, string(in.Status))
	}))
}

// DeleteSSHPublicKey deletes a key.
func (s *Service) DeleteSSHPublicKey(ctx context.Context, in *iamapi.DeleteSSHPublicKeyRequest) (*awsEmpty, error) {
	id := str(in.SSHPublicKeyId)
	return empty(s.updateUserRecord(ctx, tableSSHKey, in.UserName, id, noSuchSSHKey(id), func(tx store.Tx, key string) error {
		_, err := tx.Delete(tableSSHKey, key)
		return err
	}))
}

// moveUserRecords moves a renamed user's signing certificates and SSH keys.
func moveUserRecords(tx store.Tx, acct, oldName, newName string) error {
	for _, table := range []string{tableSigningCert, tableSSHKey} {
		kvs, err := tx.Scan(table, entityKey(acct, oldName)+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(kv.Value, &rec); err != nil {
				return err
			}
			rec["user"], _ = json.Marshal(newName)
			id := kv.Key[strings.LastIndexByte(kv.Key, '/')+1:]
			if _, err := tx.Delete(table, kv.Key); err != nil {
				return err
			}
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := tx.Put(table, entityKey(acct, newName)+"/"+id, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// userRecordConflict is the DeleteConflict for a user that still has
// signing certificates or SSH keys.
func userRecordConflict(tx store.Tx, acct, user string) error {
	if n, err := tx.Count(tableSigningCert, entityKey(acct, user)+"/"); err != nil {
		return err
	} else if n > 0 {
		return iamapi.NewDeleteConflictException("Cannot delete entity, must delete signing certificates first.")
	}
	if n, err := tx.Count(tableSSHKey, entityKey(acct, user)+"/"); err != nil {
		return err
	} else if n > 0 {
		return iamapi.NewDeleteConflictException("Cannot delete entity, must delete SSH public keys first.")
	}
	return nil
}
