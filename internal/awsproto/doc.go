// Package awsproto is the model-driven layer between HTTP and the typed
// inputs and outputs of rampart's services: the [Service], [Operation] and
// [Shape] metadata the generator emits from the AWS models, the [Error] that
// services return, the [Protocol] interface, and [Validate], which checks a
// decoded input against the model's constraints and words the violations as
// AWS does ("1 validation error detected: Value null at 'keyId' failed to
// satisfy constraint: Member must not be null").
//
// The codecs live in subpackages, one per wire protocol: query (IAM, STS),
// json (awsJson1_0/1_1: KMS, Secrets Manager…), restjson (GuardDuty, SSO…).
// protocols.For maps a model's protocol name to its codec. Model patterns are
// Java regular expressions; [CompilePattern] translates them to RE2 and
// caches them; the few with lookarounds, which RE2 cannot do, have
// hand-written equivalents (lookaround.go).
package awsproto
