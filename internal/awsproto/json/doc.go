// Package json is the codec of the awsJson1_0 and awsJson1_1 protocols
// (KMS, Secrets Manager, Organizations, Cognito, ACM…), driven by the
// service model: one [Protocol] value ([New]) serves every json service.
// Import it as awsjson.
//
// Requests name their operation in X-Amz-Target ("TrentService.Encrypt") and
// carry a JSON object (an empty body is {}); members are matched by their
// model names, unknown members are ignored, null is absent. Timestamps are
// epoch seconds (fractions allowed), blobs base64. Responses are JSON with
// Content-Type application/x-amz-json-1.x and x-amzn-RequestId. Errors are
// {"__type":"NotFoundException","message":"…"} with X-Amzn-Errortype set to
// the same code: the AWS SDK for Go v2 reads the header first, then __type
// or code, strips "namespace#" and ":…", and matches the error shape name,
// so __type is [awsproto.Error.Type] when set, else Code.
//
// Bad input is always an *awsproto.Error: UnknownOperationException (400,
// no message, as KMS answers) for a missing or unknown target;
// SerializationException (400) for a Content-Type other than
// application/x-amz-json-1.0/1.1 or application/json, for malformed JSON,
// for nesting deeper than 64, for invalid base64 and for a value of the
// wrong JSON type, in Coral's words ("STRING_VALUE can not be converted to
// an Integer", "Start of structure or map found where not expected.");
// ValidationException with AWS's constraint messages for values the model
// forbids (see [awsproto.Validate]).
//
// The JSON reader is hand-written and shape-driven (internal/wire): it
// decodes straight into the generated structs without an intermediate tree.
// Figures (go test -bench . -benchmem, Intel Xeon, 2 cores), for
// Operation+Decode+validation+Encode of one call:
//
//	BenchmarkKMSEncrypt   1.7 µs/op   648 B/op   14 allocs/op
//	BenchmarkKMSDecrypt   1.7 µs/op   704 B/op   12 allocs/op
package json
