package kms

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// keyRef is a parsed key identifier: a key id, a key ARN, an alias name or
// an alias ARN.
type keyRef struct {
	account, region string
	id              string // key id, when the reference names a key
	alias           string // "alias/…", when it names an alias
	raw             string
}

// parseKeyRef reads a KeyId parameter as the caller's account and region
// see it ("Key identifiers (KeyId)" in the KMS Developer Guide).
func parseKeyRef(c *service.Call, s string) (keyRef, error) {
	r := keyRef{account: c.Principal.Account, region: c.Region, raw: s}
	switch {
	case strings.HasPrefix(s, "arn:"):
		// arn:PARTITION:kms:REGION:ACCOUNT:RESOURCE, split without
		// allocating (strings.SplitN would).
		var parts [6]string
		rest, n := s, 0
		for n < 5 {
			p, after, ok := strings.Cut(rest, ":")
			if !ok {
				break
			}
			parts[n], rest, n = p, after, n+1
		}
		parts[5] = rest
		if n != 5 || parts[2] != "kms" || parts[1] == "" || parts[4] == "" {
			return r, kmsapi.NewInvalidArnException("Invalid arn %s", s)
		}
		r.region, r.account = parts[3], parts[4]
		res := parts[5]
		switch {
		case strings.HasPrefix(res, "key/") && len(res) > 4:
			r.id = res[4:]
		case strings.HasPrefix(res, "alias/") && len(res) > 6:
			r.alias = res
		default:
			return r, kmsapi.NewInvalidArnException("Invalid arn %s", s)
		}
	case strings.HasPrefix(s, "alias/"):
		r.alias = s
	default:
		r.id = s
	}
	return r, nil
}

func (r keyRef) notFound() error {
	if r.alias != "" {
		return kmsapi.NewNotFoundException("Alias %s is not found.", aliasARN(r.region, r.account, r.alias))
	}
	return kmsapi.NewNotFoundException("Key '%s' does not exist", keyARN(r.region, r.account, r.id))
}

// resolve finds the key a KeyId parameter names. aliasOK says whether the
// operation accepts an alias. Keys of other regions do not exist here.
func (s *Service) resolve(ctx context.Context, c *service.Call, id string, aliasOK bool) (*keyEntry, keyRef, error) {
	r, err := parseKeyRef(c, id)
	if err != nil {
		return nil, r, err
	}
	if r.alias != "" && !aliasOK {
		return nil, r, kmsapi.NewNotFoundException("Invalid keyId %s", id)
	}
	if r.region != c.Region {
		return nil, r, r.notFound()
	}
	if r.alias != "" {
		var buf [320]byte // alias names are at most 256 characters
		p := append(buf[:0], r.account...)
		p = append(p, '/')
		p = append(p, r.region...)
		p = append(p, '/')
		p = append(p, r.alias...)
		kid, err := s.cache.aliasAtPath(ctx, p)
		if err != nil {
			return nil, r, awsproto.Internal(err)
		}
		if kid == "" {
			return nil, r, r.notFound()
		}
		r.id = kid
	}
	if !validKeyID(r.id) {
		return nil, r, kmsapi.NewNotFoundException("Invalid keyId %s", id)
	}
	e, err := s.cache.keyAt(ctx, r.account, r.region, r.id)
	if err != nil {
		return nil, r, awsproto.Internal(err)
	}
	if e == nil {
		return nil, r, kmsapi.NewNotFoundException("Key '%s' does not exist", keyARN(r.region, r.account, r.id))
	}
	return e, r, nil
}

// validKeyID accepts the UUIDs rampart assigns (and any similar id made of
// hex digits and dashes, such as multi-Region "mrk-…" ids).
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-' || c == 'm' || c == 'r' || c == 'k') {
			return false
		}
	}
	return true
}

// usable checks that a key's state allows cryptographic use, with AWS's
// errors ("Key states of AWS KMS keys" in the KMS Developer Guide).
func usable(e *keyEntry) error {
	switch e.rec.State {
	case kmsapi.KeyStateEnabled:
		return nil
	case kmsapi.KeyStateDisabled:
		return kmsapi.NewDisabledException("%s is disabled.", e.arn)
	case kmsapi.KeyStatePendingdeletion:
		return kmsapi.NewKMSInvalidStateException("%s is pending deletion.", e.arn)
	case kmsapi.KeyStatePendingimport:
		return kmsapi.NewKMSInvalidStateException("%s is pending import.", e.arn)
	case kmsapi.KeyStatePendingreplicadeletion:
		return kmsapi.NewKMSInvalidStateException("%s is pending replica deletion.", e.arn)
	}
	return kmsapi.NewKMSInvalidStateException("%s is %s.", e.arn, e.rec.State)
}

// pendingDeletion refuses management operations on keys pending deletion.
func pendingDeletion(rec *keyRecord) error {
	switch rec.State {
	case kmsapi.KeyStatePendingdeletion, kmsapi.KeyStatePendingreplicadeletion:
		return kmsapi.NewKMSInvalidStateException("%s is %s.", rec.arn(), stateWords(rec.State))
	}
	return nil
}

func wrongUsage(e *keyEntry, op string) error {
	return kmsapi.NewInvalidKeyUsageException("%s key usage is %s which is not valid for %s.", e.arn, e.rec.Usage, op)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolString(b *bool) string {
	if b != nil && *b {
		return "true"
	}
	return "false"
}

// validation is a ValidationException with AWS's message as given.
func validation(format string, args ...any) error {
	return &awsproto.Error{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Status: 400, Sender: true}
}

// constraint is a ValidationException in the words of the model
// validator: "1 validation error detected: Value '5' at 'x' failed to
// satisfy constraint: …".
func constraint(value, path, rule string) error {
	return awsproto.ValidationError("ValidationException", []string{"Value '" + value + "' at '" + path + "' failed to satisfy constraint: " + rule})
}
