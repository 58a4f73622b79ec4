// Package sigv4 verifies AWS Signature Version 4 on the server side, so that
// the AWS CLI and SDKs can call rampart with their ordinary credentials. It
// uses only the standard library.
//
// Verification takes two steps, because the secret depends on what the
// request says:
//
//   - [Parse] reads the credential, scope, signed headers, signature and time
//     from the Authorization header or from the presigned query parameters
//     (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
//     X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Security-Token), without
//     the secret. The server routes by [Auth].Service and looks up
//     [Auth].AccessKeyID (and the session of [Auth].SecurityToken).
//   - [Verifier.Verify] checks the clock (15 minutes either way; X-Amz-Expires
//     for presigned requests), x-amz-content-sha256, and the signature, in
//     constant time. A Verifier caches derived signing keys per access key,
//     secret, date, region and service, in a bounded map.
//
// Failures are [*Error] values whose [Kind] the protocol layer renders:
// [Kind.Code] for query services (SignatureDoesNotMatch, IncompleteSignature,
// …), [Kind.JSONCode] for json ones (InvalidSignatureException, …). Messages
// are AWS's. [ErrInvalidClientTokenID] is for the server's own "no such key".
//
// Canonicalisation follows the SigV4 specification and the published test
// suite, which suite_test.go runs whole: the path the client sent (still
// percent-encoded) is encoded once more, after removing dot and empty
// segments, except for S3; when that fails on a path that has such segments,
// the path as sent is tried too, because the Go SDK does not normalise. Query
// names and values are decoded and re-encoded RFC 3986 style, then sorted.
// [CanonicalRequest] and [StringToSign] expose the intermediate strings for
// tests and debugging; they contain signed header values, session tokens
// included, and must not be logged.
//
// Not covered: chunk signatures of STREAMING-* payloads (the value is
// accepted as the payload line, and [Auth.PayloadSigned] reports that the body
// is unsigned), SigV4A (AWS4-ECDSA-P256-SHA256), and S3's other rules.
//
// Cost, with a warm key cache (go test -bench . ; 2-core Intel Xeon VM,
// Go 1.26), for requests signed by the AWS SDK for Go v2 and read back by
// net/http; the body hash is the caller's:
//
//	Parse + Verify, STS query POST        ~1.6 µs   2 allocs (288 B: Auth, SignedHeaders)
//	Parse + Verify, KMS JSON POST + token ~1.5 µs   2 allocs (320 B)
//	Verify alone, STS / KMS               ~1.0 µs   0 allocs
//	Verify with a cold key (derivation)   ~3.3 µs  32 allocs
package sigv4
