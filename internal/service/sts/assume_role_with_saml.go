package sts

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// SAML 2.0 for AWS ("Configure SAML assertions for the authentication
// response", IAM User Guide): the Response carries exactly one Assertion,
// signed (or inside a signed Response) with a key of the provider's
// metadata; its Audience is AWS's sign-in endpoint; the Role attribute
// lists "role ARN,provider ARN" pairs the subject may assume and the
// RoleSessionName attribute names the session.
const (
	samlAudience       = "https://signin.aws.amazon.com/saml"
	samlAudienceURN    = "urn:amazon:webservices"
	attrRole           = "https://aws.amazon.com/SAML/Attributes/Role"
	attrRoleSession    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	formatPrefix       = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
	msgSAMLDenied      = "Not authorized to perform sts:AssumeRoleWithSAML"
	msgSAMLNoProvider  = "Specified provider doesn't exist."
	msgSAMLSignature   = "Response signature invalid"
	msgSAMLInvalid     = "Invalid SAML response: %s"
	maxSAMLResponseLen = 100000
)

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// samlAssertion is what rampart reads of a verified assertion.
type samlAssertion struct {
	issuer, subject, format, recipient string
	roles                              [][2]string // (role ARN, provider ARN)
	sessionName                        string
	audiences                          []string
	// Validity: Conditions NotBefore/NotOnOrAfter, and the bearer
	// SubjectConfirmationData's NotOnOrAfter (zero: absent).
	notBefore, notOnOrAfter, confirmUntil time.Time
}

// AssumeRoleWithSAML issues credentials for a session of a role to the
// subject of a SAML assertion of a provider registered in IAM.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in *stsapi.AssumeRoleWithSAMLRequest) (*stsapi.AssumeRoleWithSAMLResponse, error) {
	c := service.CallFrom(ctx)
	if s.d.SAML == nil {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgSAMLNoProvider)
	}
	prov, err := s.d.SAML.SAMLProvider(ctx, *in.PrincipalArn)
	if errors.Is(err, ErrNoSuchProvider) {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgSAMLNoProvider)
	}
	if err != nil {
		return nil, err
	}
	entityID, keys, err := samlMetadataKeys(prov.MetadataDocument)
	if err != nil || len(keys) == 0 {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgSAMLSignature)
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(*in.SAMLAssertion))
	if err != nil || len(raw) > maxSAMLResponseLen {
		return nil, stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "not base64")
	}
	a, err := verifySAMLResponse(raw, keys)
	if err != nil {
		if errors.Is(err, errSignature) {
			return nil, stsapi.NewInvalidIdentityTokenException("%s", msgSAMLSignature)
		}
		return nil, stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, err.Error())
	}
	if err := a.checkTimes(c.Now); err != nil {
		return nil, err
	}
	if a.issuer != entityID {
		return nil, stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "the Issuer is not the provider's entity id")
	}
	found := false
	for _, p := range a.roles {
		if p[0] == *in.RoleArn && p[1] == *in.PrincipalArn {
			found = true
		}
	}
	if !found {
		return nil, denied(msgSAMLDenied)
	}
	if !sessionNameRE.MatchString(a.sessionName) {
		return nil, stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "the RoleSessionName attribute is missing or not 2 to 64 characters of [\\w+=,.@-]")
	}

	role, dur, docs, packed, err := s.federatedSession(ctx, *in.RoleArn, in.DurationSeconds, in.Policy, in.PolicyArns, msgSAMLDenied)
	if err != nil {
		return nil, err
	}

	subType := strings.TrimPrefix(a.format, formatPrefix)
	if a.format == "" {
		subType = "unspecified"
	}
	nq := sha1.Sum([]byte(a.issuer + prov.Account + "/" + prov.Name))
	nameQualifier := base64.StdEncoding.EncodeToString(nq[:])
	req := c.Request("sts:AssumeRoleWithSAML")
	req.Principal = nil
	req.Resource = roleResource(role)
	req.Keys = map[string][]string{
		"saml:aud":            {a.recipient},
		"saml:sub":            {a.subject},
		"saml:sub_type":       {subType},
		"saml:iss":            {a.issuer},
		"saml:namequalifier":  {nameQualifier},
		"saml:doc":            {prov.Account + "/" + prov.Name},
		"sts:RoleSessionName": {a.sessionName},
	}
	if err := s.authorizeFederated(ctx, c, req, prov.ARN); err != nil {
		return nil, err
	}

	session := a.sessionName
	id := role.RoleID + ":" + session
	arn := "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + session
	spec := &authn.SessionSpec{
		Principal: authz.Principal{
			Type: authz.AssumedRole, Account: role.Account, ARN: arn, ID: id, Name: role.Name,
			RoleARN: role.ARN, RoleID: role.RoleID, SessionName: session,
		},
		Policies: docs, IssuedAt: c.Now, Expiration: c.Now.Add(dur).Truncate(time.Second),
		IssuerARN: role.ARN,
	}
	creds, err := s.credentials(c, spec)
	if err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleWithSAMLResponse{
		Credentials:      creds,
		AssumedRoleUser:  &stsapi.AssumedRoleUser{AssumedRoleId: &id, Arn: &arn},
		PackedPolicySize: packed,
		Subject:          &a.subject,
		SubjectType:      &subType,
		Issuer:           &a.issuer,
		Audience:         &a.recipient,
		NameQualifier:    &nameQualifier,
	}, nil
}

// samlMetadataKeys reads the entity id and the signing keys of an IdP's
// metadata (the first entity with an IDPSSODescriptor).
func samlMetadataKeys(doc []byte) (string, []*rsa.PublicKey, error) {
	type entity struct {
		EntityID string `xml:"entityID,attr"`
		IDP      []struct {
			Keys []struct {
				Use   string   `xml:"use,attr"`
				Certs []string `xml:"KeyInfo>X509Data>X509Certificate"`
			} `xml:"KeyDescriptor"`
		} `xml:"IDPSSODescriptor"`
		Entities []entity `xml:"EntityDescriptor"`
	}
	var root entity
	d := xml.NewDecoder(bytes.NewReader(doc))
	if err := d.Decode(&root); err != nil {
		return "", nil, err
	}
	var pick func(e *entity) (string, []*rsa.PublicKey)
	pick = func(e *entity) (string, []*rsa.PublicKey) {
		if len(e.IDP) > 0 {
			var keys []*rsa.PublicKey
			for _, idp := range e.IDP {
				for _, k := range idp.Keys {
					if k.Use != "" && k.Use != "signing" {
						continue
					}
					for _, c := range k.Certs {
						der, err := base64.StdEncoding.DecodeString(stripSpace(c))
						if err != nil {
							continue
						}
						cert, err := x509.ParseCertificate(der)
						if err != nil {
							continue
						}
						if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok && pub.N.BitLen() >= 2048 {
							keys = append(keys, pub)
						}
					}
				}
			}
			return e.EntityID, keys
		}
		for i := range e.Entities {
			if id, keys := pick(&e.Entities[i]); len(keys) > 0 {
				return id, keys
			}
		}
		return "", nil
	}
	id, keys := pick(&root)
	return id, keys, nil
}

// verifySAMLResponse parses a Response, verifies the signature over its
// assertion (the assertion's own, or the Response's), and reads the
// assertion the verified signature covers, and nothing else.
func verifySAMLResponse(raw []byte, keys []*rsa.PublicKey) (*samlAssertion, error) {
	root, err := parseXML(raw)
	if err != nil {
		return nil, err
	}
	if !root.is(nsSAMLP, "Response") {
		return nil, errors.New("not a samlp:Response")
	}
	if st := root.first(nsSAMLP, "Status"); st != nil {
		if code := st.first(nsSAMLP, "StatusCode"); code != nil {
			if v, _ := code.attr("Value"); v != "urn:oasis:names:tc:SAML:2.0:status:Success" {
				return nil, errors.New("the Response's status is not Success")
			}
		}
	}
	// Exactly one assertion in the whole document, a child of the
	// Response, and no encrypted ones (rampart does not decrypt).
	var assertions, encrypted int
	root.walk(func(e *xnode) {
		switch {
		case e.is(nsSAML, "Assertion"):
			assertions++
		case e.is(nsSAML, "EncryptedAssertion"):
			encrypted++
		}
	})
	as := root.child(nsSAML, "Assertion")
	if assertions != 1 || encrypted != 0 || len(as) != 1 {
		return nil, errors.New("the Response must hold exactly one Assertion")
	}
	assertion := as[0]

	// The assertion is trusted when its own signature verifies, or when
	// the Response's does (the Response's signature covers it).
	var verified *xnode
	if sig := assertion.first(nsDSig, "Signature"); sig != nil {
		if v, err := verifyEnveloped(root, sig, keys); err == nil && v == assertion {
			verified = assertion
		}
	}
	if verified == nil {
		if sig := root.first(nsDSig, "Signature"); sig != nil {
			if v, err := verifyEnveloped(root, sig, keys); err == nil && v == root {
				verified = assertion
			}
		}
	}
	if verified == nil {
		return nil, errSignature
	}
	return readAssertion(verified)
}

// readAssertion reads the parts of a verified assertion that STS uses.
func readAssertion(a *xnode) (*samlAssertion, error) {
	out := &samlAssertion{}
	iss := a.first(nsSAML, "Issuer")
	subj := a.first(nsSAML, "Subject")
	if iss == nil || subj == nil {
		return nil, errors.New("the Assertion needs one Issuer and one Subject")
	}
	out.issuer = strings.TrimSpace(iss.text())
	nameID := subj.first(nsSAML, "NameID")
	if nameID == nil {
		return nil, errors.New("the Subject needs a NameID")
	}
	out.subject = strings.TrimSpace(nameID.text())
	out.format, _ = nameID.attr("Format")
	for _, sc := range subj.child(nsSAML, "SubjectConfirmation") {
		if m, _ := sc.attr("Method"); m != "urn:oasis:names:tc:SAML:2.0:cm:bearer" {
			continue
		}
		if d := sc.first(nsSAML, "SubjectConfirmationData"); d != nil {
			out.recipient, _ = d.attr("Recipient")
		}
	}
	if out.recipient == "" {
		out.recipient = samlAudience
	}
	var err error
	for _, sc := range subj.child(nsSAML, "SubjectConfirmation") {
		if d := sc.first(nsSAML, "SubjectConfirmationData"); d != nil {
			if out.confirmUntil, err = samlTime(d, "NotOnOrAfter"); err != nil {
				return nil, err
			}
		}
	}
	conds := a.first(nsSAML, "Conditions")
	if conds == nil {
		return nil, errors.New("the Assertion needs Conditions with an AudienceRestriction")
	}
	if out.notBefore, err = samlTime(conds, "NotBefore"); err != nil {
		return nil, err
	}
	if out.notOnOrAfter, err = samlTime(conds, "NotOnOrAfter"); err != nil {
		return nil, err
	}
	for _, ar := range conds.child(nsSAML, "AudienceRestriction") {
		for _, au := range ar.child(nsSAML, "Audience") {
			out.audiences = append(out.audiences, strings.TrimSpace(au.text()))
		}
	}
	if st := a.child(nsSAML, "AttributeStatement"); len(st) > 0 {
		for _, s := range st {
			for _, at := range s.child(nsSAML, "Attribute") {
				name, _ := at.attr("Name")
				for _, v := range at.child(nsSAML, "AttributeValue") {
					val := strings.TrimSpace(v.text())
					switch name {
					case attrRole:
						parts := strings.Split(val, ",")
						if len(parts) != 2 {
							continue
						}
						r, p := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
						if strings.Contains(r, ":saml-provider/") {
							r, p = p, r
						}
						out.roles = append(out.roles, [2]string{r, p})
					case attrRoleSession:
						out.sessionName = val
					}
				}
			}
		}
	}
	return out, nil
}

func samlTime(n *xnode, attr string) (time.Time, error) {
	v, ok := n.attr(attr)
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errors.New(attr + " is not an xs:dateTime")
	}
	return t, nil
}

// checkTimes applies the assertion's audience and validity windows (with
// the clock skew tokens get, tokenSkew, for NotBefore; none for
// NotOnOrAfter).
func (a *samlAssertion) checkTimes(now time.Time) error {
	okAud := false
	for _, au := range a.audiences {
		if au == samlAudience || au == samlAudienceURN {
			okAud = true
		}
	}
	if !okAud {
		return stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "the Audience is not "+samlAudience)
	}
	if !a.notBefore.IsZero() && now.Add(tokenSkew).Before(a.notBefore) {
		return stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "the assertion is not valid yet (NotBefore)")
	}
	for _, until := range []time.Time{a.notOnOrAfter, a.confirmUntil} {
		if !until.IsZero() && !now.Before(until) {
			return stsapi.NewExpiredTokenException("Token expired: current date/time %d must be before the expiration date/time%d", now.Unix(), until.Unix())
		}
	}
	if a.notOnOrAfter.IsZero() && a.confirmUntil.IsZero() {
		return stsapi.NewInvalidIdentityTokenException(msgSAMLInvalid, "the assertion has no NotOnOrAfter")
	}
	return nil
}
