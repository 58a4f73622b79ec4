// Package restjson is the codec of the rest-json protocol (GuardDuty,
// Security Hub, Inspector2, Artifact, SSO, SSO OIDC, Access Analyzer),
// driven by the service model: one [Protocol] value ([New]) serves every
// rest-json service.
//
// Operation routes by HTTP method and the operations' request URI
// templates ("/detector/{detectorId}/member", greedy "{Key+}", static query
// parts "/token?aws_iam=t" that must be present). The most specific
// template wins: literal segments beat labels, labels beat greedy labels,
// static query parts add weight. A trailing slash is ignored. No match is
// UnknownOperationException (404). The route table is built once per
// service and cached.
//
// Decode binds members by location: "uri" labels (percent-decoded),
// "querystring" (lists repeat the parameter; a map takes the parameters no
// other member claims), "header" (lists comma-separated, jsonvalue headers
// base64 JSON, timestamps HTTP dates), "headers" (a prefix map); the other
// members come from the JSON body, or the Payload member is the whole body
// (a structure as JSON, a blob or string raw). Encode writes the same
// bindings back, with status op.ResponseCode (or a statusCode member, or
// 200). Errors are {"__type":"Code","message":"…"} with X-Amzn-Errortype:
// Code, where the SDKs look first.
//
// Bad input is an *awsproto.Error: SerializationException (400) for bad
// JSON or a label, parameter or header that is not of its member's type,
// ValidationException for constraint violations.
package restjson
