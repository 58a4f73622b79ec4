package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Field values CloudTrail uses.
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
const (
	EventVersion        = "1.09"
	EventTypeAwsAPICall = "AwsApiCall"
	CategoryManagement  = "Management"

	// Identity types of userIdentity.type.
	// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
	IdentityRoot          = "Root"
	IdentityIAMUser       = "IAMUser"
	IdentityAssumedRole   = "AssumedRole"
	IdentityFederatedUser = "FederatedUser"
	IdentityAWSService    = "AWSService"
	IdentityAWSAccount    = "AWSAccount"
	IdentityUnknown       = "Unknown"

	// Hidden is what CloudTrail writes in place of a sensitive value.
	Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
)

// Event is one CloudTrail record, with the JSON member names CloudTrail
// writes. Optional members are omitted when empty, as in CloudTrail.
type Event struct {
	EventVersion       string       `json:"eventVersion"`
	UserIdentity       UserIdentity `json:"userIdentity"`
	EventTime          Time         `json:"eventTime"`
	EventSource        string       `json:"eventSource"` // "sts.amazonaws.com"
	EventName          string       `json:"eventName"`   // "AssumeRole"
	AWSRegion          string       `json:"awsRegion"`
	SourceIPAddress    string       `json:"sourceIPAddress"`
	UserAgent          string       `json:"userAgent"`
	ErrorCode          string       `json:"errorCode,omitempty"`
	ErrorMessage       string       `json:"errorMessage,omitempty"`
	RequestParameters  any          `json:"requestParameters"` // JSON-like value, json.RawMessage or nil (null)
	ResponseElements   any          `json:"responseElements"`  // likewise
	AdditionalData     any          `json:"additionalEventData,omitempty"`
	RequestID          string       `json:"requestID"`
	EventID            string       `json:"eventID"`
	ReadOnly           bool         `json:"readOnly"`
	Resources          []Resource   `json:"resources,omitempty"`
	EventType          string       `json:"eventType"`
	APIVersion         string       `json:"apiVersion,omitempty"`
	ManagementEvent    bool         `json:"managementEvent"`
	RecipientAccountID string       `json:"recipientAccountId"`
	SharedEventID      string       `json:"sharedEventID,omitempty"`
	EventCategory      string       `json:"eventCategory"`
	TLSDetails         *TLSDetails  `json:"tlsDetails,omitempty"`
}

// UserIdentity is the userIdentity element.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes the session of temporary credentials.
type SessionContext struct {
	SessionIssuer  *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes     SessionAttributes `json:"attributes"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role or user that issued the temporary credentials.
type SessionIssuer struct {
	Type        string `json:"type"` // "Role", "IAMUser", "Root"
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes holds the session's creation date and MFA state;
// CloudTrail writes mfaAuthenticated as the string "true" or "false".
type SessionAttributes struct {
	CreationDate     Time   `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is one element of resources. CloudTrail spells the ARN member "ARN".
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// TLSDetails describes the client's TLS connection.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// Time is a timestamp written as CloudTrail writes eventTime:
// RFC 3339 in UTC with whole seconds ("2025-03-01T12:00:00Z").
type Time struct{ time.Time }

const timeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON implements [json.Marshaler].
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`null`), nil
	}
	return []byte(`"` + t.UTC().Format(timeLayout) + `"`), nil
}

// UnmarshalJSON implements [json.Unmarshaler]; it accepts any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("audit: event time %q: %w", s, err)
	}
	t.Time = v.UTC()
	return nil
}

// NewEventID returns a random UUID version 4 read from r (crypto/rand when nil).
func NewEventID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("audit: event id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

// Parse decodes a stored event body.
func Parse(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("audit: parse event: %w", err)
	}
	return &e, nil
}
