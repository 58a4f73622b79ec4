package sts

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// Durations, from the STS API Reference.
const (
	defaultRoleSession   = 3600  // AssumeRole without DurationSeconds
	chainedSessionMax    = 3600  // "role chaining limits … to a maximum of one hour"
	defaultUserSession   = 43200 // GetSessionToken / GetFederationToken, IAM users
	rootSessionMax       = 3600  // the root user's sessions
	maxPolicyArns        = 10
	aroaPrefix           = "AROA"
	noPermissionsPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rampart:NoPermission","Resource":"*"}]}`
	reservedPrefix       = "aws:"
	msgRootCannotAssume  = "Roles may not be assumed by root accounts."
	msgAssumeRoleMFA     = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	msgSessionTokenMFA   = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
	msgDurationRoleMax   = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	msgDurationChained   = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	msgSessionCredsCall  = "Cannot call %s with session credentials"
	codeInvalidParameter = "InvalidParameterValue"
)

// validation is the query protocol's ValidationError (400).
func validation(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: awsproto.CodeValidation, Status: 400, Sender: true, Message: fmt.Sprintf(format, args...)}
}

// invalidParameter is InvalidParameterValue (400), a common STS error.
func invalidParameter(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: codeInvalidParameter, Status: 400, Sender: true, Message: fmt.Sprintf(format, args...)}
}

// accessDenied is a refusal from a rule (the server renders it as
// AccessDenied and marks the call denied in the audit record).
func accessDenied(msg string) error { return &authz.Denied{Message: msg} }

// denied is a refusal from a handler: STS's AccessDenied (403).
func denied(msg string) *awsproto.Error {
	return &awsproto.Error{Code: awsproto.CodeAccessDenied, Status: 403, Sender: true, Message: msg}
}

// asAWS turns a refusal of a second check into the protocol's AccessDenied.
func asAWS(err error) error {
	var d *authz.Denied
	if errors.As(err, &d) {
		return denied(d.Message)
	}
	return err
}

// sessionPolicies validates the inline session policy and resolves the
// managed ones, returning their documents (compacted) in that order and
// the ARNs as passed.
func (s *Service) sessionPolicies(ctx context.Context, doc *string, arns []stsapi.PolicyDescriptorType) (docs, arnList []string, err error) {
	if len(arns) > maxPolicyArns {
		return nil, nil, validation("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyArns)
	}
	if doc != nil {
		if _, perr := policy.Parse([]byte(*doc), policy.KindSession); perr != nil {
			return nil, nil, stsapi.NewMalformedPolicyDocumentException("%s", policyMessage(perr))
		}
		docs = append(docs, compact(*doc))
	}
	for _, d := range arns {
		if d.Arn == nil {
			continue
		}
		a := *d.Arn
		if s.d.Policies == nil {
			return nil, nil, invalidParameter("Policy %s does not exist or is not attachable.", a)
		}
		body, perr := s.d.Policies.ManagedPolicy(ctx, a)
		if errors.Is(perr, ErrNoSuchPolicy) {
			return nil, nil, invalidParameter("Policy %s does not exist or is not attachable.", a)
		}
		if perr != nil {
			return nil, nil, perr
		}
		// A managed policy is parsed as a session policy: same grammar, and
		// it must not name principals.
		if _, perr := policy.Parse(body, policy.KindManaged); perr != nil {
			return nil, nil, stsapi.NewMalformedPolicyDocumentException("%s", policyMessage(perr))
		}
		docs = append(docs, compact(string(body)))
		arnList = append(arnList, a)
	}
	return docs, arnList, nil
}

func policyMessage(err error) string {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return "The policy is not valid."
}

func compact(doc string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(doc)) != nil {
		return doc
	}
	return b.String()
}

// packedLimit is the size, in bytes of DEFLATE output, that rampart's
// packed form of the inline session policy, the policy ARNs and the session
// tags may take. AWS does not publish its packed format; AWS was seen to
// pack a policy of 31 actions at about 118% and one of 42 actions at about
// 157%, and this limit puts such policies (of real CloudFormation, DynamoDB,
// S3, Lambda, IAM and Logs actions) at 125% and 150%.
const packedLimit = 256

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestCompression)
	return w
}}

// packedPercent is AssumeRole's PackedPolicySize: how much of the packed
// space the session policies and tags take, in percent (rounded up).
func packedPercent(docs, arns []string, tags map[string]string, tagOrder []string) int {
	var b bytes.Buffer
	w := flaters.Get().(*flate.Writer)
	w.Reset(&b)
	for _, d := range docs[:len(docs)-len(arns)] {
		w.Write([]byte(d))
	}
	for _, a := range arns {
		w.Write([]byte(a))
	}
	for _, k := range tagOrder {
		w.Write([]byte(k))
		w.Write([]byte(tags[k]))
	}
	w.Close()
	flaters.Put(w)
	return (b.Len()*100 + packedLimit - 1) / packedLimit
}

// checkPacked returns PackedPolicyTooLarge above 100%, and the percentage
// to report (nil when nothing was passed).
func checkPacked(docs, arns []string, tags map[string]string, tagOrder []string) (*int32, error) {
	if len(docs) == 0 && len(tagOrder) == 0 {
		return nil, nil
	}
	pct := packedPercent(docs, arns, tags, tagOrder)
	if pct > 100 {
		return nil, stsapi.NewPackedPolicyTooLargeException("Packed policy consumes %d%% of allotted space", pct)
	}
	v := int32(pct)
	return &v, nil
}

// sessionTags validates the request's session tags and transitive tag keys
// and merges them with what the caller's session passes on (its transitive
// tags, in role chaining). It returns the session's tags, its transitive
// keys, and the request's tag keys in request order (for packing).
func sessionTags(tags []stsapi.Tag, transitive []string, caller *authz.Principal) (map[string]string, []string, []string, error) {
	var inherited map[string]string
	var inheritedKeys []string
	if caller != nil && caller.Session != nil {
		for _, k := range caller.Session.TransitiveTagKeys {
			if v, ok := caller.Session.Tags[k]; ok {
				if inherited == nil {
					inherited = map[string]string{}
				}
				inherited[k] = v
				inheritedKeys = append(inheritedKeys, k)
			}
		}
	}
	if len(tags) == 0 && len(transitive) > 0 {
		return nil, nil, nil, invalidParameter("The specified transitive tag key must be included in the requested tags.")
	}
	out := map[string]string{}
	lower := map[string]string{} // lower-case key → key as given
	var order []string
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		if strings.HasPrefix(strings.ToLower(k), reservedPrefix) {
			return nil, nil, nil, invalidParameter("Tag keys cannot start with the reserved prefix 'aws:'.")
		}
		lk := strings.ToLower(k)
		if _, dup := lower[lk]; dup {
			return nil, nil, nil, invalidParameter("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		for ik := range inherited {
			if strings.EqualFold(ik, k) {
				return nil, nil, nil, invalidParameter("One of the specified session tag keys conflicts with a transitive tag key of the calling session: %s", k)
			}
		}
		lower[lk] = k
		out[k] = v
		order = append(order, k)
	}
	var keys []string
	seen := map[string]bool{}
	for _, tk := range transitive {
		k, ok := lower[strings.ToLower(tk)]
		if !ok {
			return nil, nil, nil, invalidParameter("The specified transitive tag key must be included in the requested tags.")
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for k, v := range inherited {
		out[k] = v
	}
	keys = append(keys, inheritedKeys...)
	if len(out) == 0 {
		out = nil
	}
	return out, keys, order, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// duration picks a session's lifetime: the requested one, or def, within max.
func duration(req *int32, def, max int32, tooLong string) (time.Duration, error) {
	d := def
	if req != nil {
		d = *req
		if d > max {
			return 0, validation("%s", tooLong)
		}
	}
	if d > max {
		d = max
	}
	return time.Duration(d) * time.Second, nil
}

// credentials issues the session and renders it as STS returns it.
func (s *Service) credentials(c *service.Call, spec *authn.SessionSpec) (*stsapi.Credentials, error) {
	if s.d.Barrier == nil {
		return nil, awsproto.Internal(errors.New("sts: no barrier to seal sessions with"))
	}
	cr, err := authn.NewSession(s.d.Barrier, c.Rand, spec)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	return &stsapi.Credentials{
		AccessKeyId:     &cr.AccessKeyID,
		SecretAccessKey: &cr.SecretAccessKey,
		SessionToken:    &cr.SessionToken,
		Expiration:      &cr.Expiration,
	}, nil
}

// tagContext adds aws:RequestTag/… and aws:TagKeys for session tags.
func tagContext(tags []stsapi.Tag, keys map[string][]string) {
	if len(tags) == 0 {
		return
	}
	names := make([]string, 0, len(tags))
	for _, t := range tags {
		k := deref(t.Key)
		keys["aws:RequestTag/"+k] = []string{deref(t.Value)}
		names = append(names, k)
	}
	sort.Strings(names)
	keys["aws:TagKeys"] = names
}

// mfaSession carries the caller's MFA state into a new session.
func mfaOf(p *authz.Principal) (bool, time.Time) {
	if p != nil && p.Session != nil && p.Session.MFAAuthenticated {
		return true, p.Session.MFAAuthTime
	}
	return false, time.Time{}
}

func isMFAError(err error) bool { return errors.Is(err, ErrMFA) }

// federatedSession is what AssumeRoleWithWebIdentity and AssumeRoleWithSAML
// share once the identity is verified: the role (an unknown one is denied
// with deniedMsg, so its existence is not revealed), the duration within the
// role's MaxSessionDuration, and the session policies within AWS's
// packed-size limit.
func (s *Service) federatedSession(ctx context.Context, roleARN string, seconds *int32, policy *string, policyARNs []stsapi.PolicyDescriptorType, deniedMsg string) (role *RoleInfo, dur time.Duration, docs []string, packed *int32, err error) {
	role, err = s.role(ctx, roleARN)
	if errors.Is(err, ErrNoSuchRole) {
		return nil, 0, nil, nil, denied(deniedMsg)
	}
	if err != nil {
		return nil, 0, nil, nil, err
	}
	max := role.MaxSessionDuration
	if max == 0 {
		max = defaultRoleSession
	}
	if dur, err = duration(seconds, defaultRoleSession, max, msgDurationRoleMax); err != nil {
		return nil, 0, nil, nil, err
	}
	docs, arns, err := s.sessionPolicies(ctx, policy, policyARNs)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if packed, err = checkPacked(docs, arns, nil, nil); err != nil {
		return nil, 0, nil, nil, err
	}
	return role, dur, docs, packed, nil
}
