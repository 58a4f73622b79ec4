package awsproto

import (
	"reflect"
)

// Kind is the type of a shape, as the model names it.
type Kind uint8

const (
	KindStructure Kind = iota + 1
	KindList
	KindMap
	KindString
	KindInteger // int32
	KindLong    // int64
	KindBoolean
	KindFloat
	KindDouble
	KindTimestamp
	KindBlob
	KindDocument // free-form JSON (rare; smithy "document")
)

// Service is one AWS API model as the codecs and the router need it.
type Service struct {
	Name           string // botocore name and the folder in api/models: "kms", "sts", "cognito-idp"
	ID             string // metadata.serviceId: "KMS"
	FullName       string // metadata.serviceFullName
	APIVersion     string // "2014-11-01"
	Protocol       string // "query", "json", "rest-json", "ec2"
	TargetPrefix   string // json: X-Amz-Target prefix ("TrentService")
	JSONVersion    string // json: "1.0" or "1.1"
	SigningName    string // credential-scope service name (signingName, else endpointPrefix)
	EndpointPrefix string
	XMLNamespace   string // query: the namespace of response documents
	Global         bool   // IAM, STS, Organizations: one endpoint for all regions
	// InvalidInput, when set, turns the validation failures of a request
	// (Validate's messages, one per violated constraint) into the service's
	// own error: Organizations answers InvalidInputException with a Reason
	// where most json services answer ValidationException. nil: the
	// protocol's validation error. Hand-written code sets it once, at
	// init; see [Service.DecodeError].
	InvalidInput func(violations []string) *Error

	Operations []*Operation          // in model order
	ops        map[string]*Operation // by name
}

// Operation is one operation of a Service.
type Operation struct {
	Service       *Service
	Name          string // "CreateKey"
	Method        string // HTTP method ("POST")
	RequestURI    string // "/" or a rest-json template "/detector/{detectorId}/member?x=y"
	ResponseCode  int    // success status; 0 means 200
	Input         *Shape // nil when the model declares none
	Output        *Shape // nil when the model declares none
	ResultWrapper string // query: "GetCallerIdentityResult"
	Errors        []*Shape
	NoAuth        bool // authtype "none": callers need not sign (AssumeRoleWithSAML, InitiateAuth…)
	Deprecated    bool
}

// Shape is one model shape. Structure shapes that the generator turned into Go
// types carry GoType; the codecs read and write those structs by field index.
type Shape struct {
	Name string
	Kind Kind

	// Structures: members in model order. Member i is field i of GoType.
	Members []*Member
	Payload string // rest-json: the member that is the whole HTTP body
	Union   bool
	GoType  reflect.Type

	// Lists and maps.
	Member     *Member // list element (its LocationName names XML elements: "member" by default)
	Key, Value *Member // map entry key and value ("key"/"value" by default, "entry" for the entry)
	Flattened  bool
	EntryName  string // query maps: the element name of an entry ("entry")

	// Scalars and constraints.
	Enum            []string
	Min, Max        *float64 // length for strings/blobs/lists/maps, value for numbers
	Pattern         string
	Sensitive       bool
	TimestampFormat string // "iso8601", "unixTimestamp", "rfc822" when the model overrides the protocol's default

	// Errors.
	Exception bool
	Error     *ErrorInfo // code/status/fault from the model; nil for non-error shapes
}

// ErrorInfo is how an error shape is put on the wire.
type ErrorInfo struct {
	Code        string // wire code; the shape name when the model gives none
	Status      int    // HTTP status; 400 when the model gives none for a client error, 500 for a server fault
	SenderFault bool
}

// Member is one member of a structure, or the element/key/value of a list or map.
type Member struct {
	Name             string // the model's member name ("KeyId")
	Shape            *Shape
	Field            int // index of the Go struct field (structures only)
	Required         bool
	Location         string // rest-json: "", "uri", "querystring", "header", "headers", "statusCode"
	LocationName     string // wire name (JSON key / XML element / header / query parameter / list element)
	QueryName        string // ec2 protocol only
	Flattened        bool
	XMLAttribute     bool
	IdempotencyToken bool
	Deprecated       bool
	JSONValue        bool // header holding base64 JSON
	HostLabel        bool
}

// WireName is the name of the member on the wire: its LocationName, or its Name.
func (m *Member) WireName() string {
	if m.LocationName != "" {
		return m.LocationName
	}
	return m.Name
}

// Init indexes the service's operations; the generated code calls it once.
func (s *Service) Init() *Service {
	s.ops = make(map[string]*Operation, len(s.Operations))
	for _, op := range s.Operations {
		op.Service = s
		s.ops[op.Name] = op
	}
	return s
}

// Operation returns the named operation, or nil.
func (s *Service) Operation(name string) *Operation { return s.ops[name] }

// Bound returns a pointer to a constraint bound; the generated code uses it.
func Bound(v float64) *float64 { return &v }

// Empty is the input or output of an operation whose model declares none.
type Empty struct{}
