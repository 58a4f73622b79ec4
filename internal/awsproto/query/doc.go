// Package query is the codec of the AWS query protocol (IAM, STS), driven by
// the service model: one [Protocol] value ([New]) serves every query service.
//
// Requests are form-encoded, in a POST body or a GET query string (both are
// read, body after URL): Action=CreateUser&Version=2010-05-08&UserName=bob.
// Lists are Name.member.N (1-based; Name.N when flattened; "Name=" is an
// empty list), maps Name.entry.N.key / Name.entry.N.value, nested
// structures A.B.C; booleans true/false, timestamps ISO 8601, blobs base64.
// Unknown parameters are ignored. Lists are read from index 1 up to the
// first missing index, so Tags.member.99999999 allocates nothing and is
// ignored like any unknown parameter. Nested parameters are found by binary
// search over the sorted names, so a request with many parameters cannot
// make decoding quadratic.
//
// Responses are <OpResponse xmlns="…"><OpResult>…</OpResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>
// (no result element when the operation has no output), Content-Type
// text/xml. Errors are <ErrorResponse xmlns="…"><Error><Type>Sender|Receiver</Type>
// <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId>
// </ErrorResponse> with the error's status (no xmlns attribute when the
// service has none: a request rampart could not place).
//
// The operation is Action in the API version Version names: an action the
// service lacks, or a Version that is not the service's, is InvalidAction
// (400, "Could not find operation Foo for version 2099-01-01"; "… for
// version NO_VERSION_SPECIFIED" without Version), in AWS's fault namespace
// http://webservices.amazon.com/AWSFault/2005-15-09, as IAM and STS answer.
// The SDKs and the CLI always send their model's Version.
//
// Bad input is an *awsproto.Error: MissingAction (400, "Missing Action"),
// InvalidAction (above), MalformedQueryString (400) for bad percent-encoding,
// InvalidParameterValue (400) for a value that is not of the member's type
// (never echoing sensitive values), ValidationError (400) for constraint
// violations (see [awsproto.Validate]).
//
// Figures (go test -bench . -benchmem, Intel Xeon, 2 cores), for
// Operation+Decode+validation+Encode of one call:
//
//	BenchmarkSTSGetCallerIdentity   1.1 µs/op    531 B/op    9 allocs/op
//	BenchmarkIAMCreateUser          4.9 µs/op   1168 B/op   40 allocs/op (one tag; patterns are the main cost)
package query
