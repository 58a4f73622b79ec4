package server

import (
	"strings"
	"sync"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
)

// event is the CloudTrail record of the exchange, in x.ev (the audit
// Writer does not keep it). Request parameters and
// response elements pass through awsproto.Params, which hides every value
// the model marks sensitive; the audit writer's baseline redaction hides
// secret-named members again, whatever the model says.
func (x *exchange) event() *audit.Event {
	e := &x.ev
	*e = audit.Event{
		EventTime:       audit.Time{Time: x.now},
		EventSource:     eventSource(x.svc),
		EventName:       x.operationName(),
		AWSRegion:       "us-east-1",
		SourceIPAddress: sourceIP(x.r),
		UserAgent:       x.r.UserAgent(),
		RequestID:       x.requestID,
		EventType:       audit.EventTypeAwsAPICall,
		ManagementEvent: true,
		EventCategory:   audit.CategoryManagement,
		ReadOnly:        readOnly(x.serviceName(), x.operationName()),
		APIVersion:      x.svc.APIVersion,
	}
	if x.op == nil {
		e.EventName = ""
	}
	if x.auth != nil && x.auth.Region != "" {
		e.AWSRegion = x.auth.Region
	}
	if x.call != nil && x.call.Principal != nil {
		p := x.call.Principal
		e.UserIdentity = audit.UserIdentity{Type: string(p.Type), PrincipalID: p.ID, ARN: p.ARN, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
		if p.Type == authz.IAMUser {
			e.UserIdentity.UserName = p.Name
		}
		e.RecipientAccountID = p.Account
	} else {
		e.UserIdentity = audit.UserIdentity{Type: audit.IdentityUnknown}
		if x.auth != nil {
			// Who claimed to sign: the key id is not secret, and it is what an
			// investigation of failed attempts needs.
			e.UserIdentity.AccessKeyID = x.auth.AccessKeyID
		}
	}
	if x.op != nil && x.in != nil && x.op.Input != nil {
		e.RequestParameters = awsproto.Params(x.op.Input, x.in)
	}
	if x.err != nil {
		e.ErrorCode = x.err.Code
		e.ErrorMessage = x.err.Message
	} else if x.op != nil && x.op.Output != nil && !e.ReadOnly {
		e.ResponseElements = awsproto.Params(x.op.Output, x.out)
	}
	return e
}

// eventSources caches eventSource's answer per service (a handful, fixed
// by the model), so the record does not build the string every call.
var eventSources sync.Map // *awsproto.Service → string

func eventSource(svc *awsproto.Service) string {
	if s, ok := eventSources.Load(svc); ok {
		return s.(string)
	}
	prefix := svc.EndpointPrefix
	if prefix == "" {
		prefix = svc.Name
	}
	s := prefix + ".amazonaws.com"
	eventSources.Store(svc, s)
	return s
}

// kmsReadOnly are KMS's cryptographic operations, which CloudTrail records
// as read-only with no responseElements (the Developer Guide's examples of
// Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext…): they change
// no key.
var kmsReadOnly = map[string]bool{
	"Encrypt": true, "ReEncrypt": true, "GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true, "GenerateRandom": true,
	"Sign": true, "GenerateMac": true, "DeriveSharedSecret": true,
}

// readOnly tells CloudTrail's readOnly flag from the operation's verb (and,
// for KMS, its cryptographic operations).
func readOnly(service, op string) bool {
	if service == "kms" && kmsReadOnly[op] {
		return true
	}
	for _, p := range []string{"Get", "List", "Describe", "Decrypt", "Verify", "Simulate", "Lookup", "Search", "BatchGet"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}
