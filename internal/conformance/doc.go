// Package conformance checks rampart's wire behaviour against the AWS API
// models, for every served operation, over real HTTP and Signature V4
// (issue #10). The package holds what the harness shares with other tools:
// [Gen], which generates input values from shapes (minimal, with the
// required members only, or full, every member, each within the model's
// lengths, ranges, enums and patterns); [NewRequest] and [Sign], which put
// such values on the wire in the operation's protocol, written
// independently of rampart's codecs (timestamps in the protocol's form:
// ISO 8601 in query, epoch seconds in the json protocols and rest-json
// bodies, an HTTP date in rest-json headers); and [ReadResponse], which
// checks a response against the output shape.
//
// The tests (go test ./internal/conformance) drive an in-process server:
// for each served operation, the minimal and the full valid input (each as
// the root user of an account of its own, with the state it needs made
// first by the service's own create operations), the minimal input through
// the AWS SDK for Go v2, and invalid inputs: every required member left
// out, a string too long and too short, a value outside the enum, a number
// out of range, a string off the pattern, a value of the wrong type, a list
// too long, a timestamp that is none, a blob that is not base64 or too
// long — on the input's own members and inside its structures, lists and
// maps, where AWS names the member by its path ("Value null at
// 'tags.1.member.key' failed to satisfy constraint: Member must not be
// null"). A valid input must be answered with a body that fits the output
// shape and that the SDK's own deserializer reads; an invalid one with a
// 4xx error that the model declares or that is common, in AWS's words, and
// without a change to the store; nothing may answer 5xx. The test prints
// the count per service and fails below 100%.
//
// When this was written the run counted 2,435 variants (iam 1,179, kms 546,
// organizations 432, secretsmanager 202, sts 76), for about 7 s of CPU
// time, client and server together. CONFORMANCE_ONLY=kms.Encrypt narrows a run to the operations whose
// name contains the text, and CONFORMANCE_VERBOSE=1 logs every variant
// with its answer.
package conformance
