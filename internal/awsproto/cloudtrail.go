package awsproto

import (
	"encoding/base64"
	"reflect"
	"strings"
	"time"
)

// Hidden replaces sensitive values in the audit record, as CloudTrail does.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// secretNames are members that hold secret material even where a model does
// not mark their shape sensitive (STS's session token, for one). Their
// values never reach the audit record.
var secretNames = map[string]bool{}

// SecretMembers names, in the models' spelling, the members that hold secret
// material in the APIs rampart serves. Params hides them whatever the model
// says, and the audit writer hides them again in every event (audit.Baseline).
var SecretMembers = []string{
	"SessionToken", "SecretAccessKey", "Password", "OldPassword", "NewPassword",
	"PrivateKey", "Plaintext", "SecretString", "SecretBinary", "TokenCode",
	"AuthenticationCode1", "AuthenticationCode2", "SAMLAssertion", "WebIdentityToken",
	"Base32StringSeed", "QRCodePNG", "ImportToken", "EncryptedKeyMaterial",
	"AuthorizationMessage", "DecodedMessage", "Passphrase", "SecretCode",
	"SessionKey", "ClientSecret", "GrantToken", "GrantTokens",
}

func init() {
	for _, n := range SecretMembers {
		secretNames[strings.ToLower(n)] = true
	}
}

// Params renders v, a pointer to a value of s.GoType, the way CloudTrail
// writes requestParameters and responseElements: member names in lower camel
// case, absent members left out, timestamps in ISO 8601, blobs in base64, and
// every sensitive value replaced by [Hidden]. It returns nil for a nil value.
func Params(s *Shape, v any) map[string]any {
	if s == nil || v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct || s.Kind != KindStructure {
		return nil
	}
	out, _ := params(s, rv, 0).(map[string]any)
	return out
}

func params(s *Shape, v reflect.Value, depth int) any {
	if depth > 32 {
		return nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if s.Sensitive {
		return Hidden
	}
	switch s.Kind {
	case KindStructure:
		if v.Kind() != reflect.Struct {
			return nil
		}
		out := map[string]any{}
		for _, m := range s.Members {
			if m.Location == "header" || m.Location == "headers" {
				continue
			}
			f := v.Field(m.Field)
			if isAbsent(f) {
				continue
			}
			name := ctName(m.Name)
			if secretNames[strings.ToLower(m.Name)] {
				out[name] = Hidden
				continue
			}
			if p := params(m.Shape, f, depth+1); p != nil {
				out[name] = p
			}
		}
		return out
	case KindList:
		if v.Kind() != reflect.Slice {
			return nil
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			out = append(out, params(s.Member.Shape, v.Index(i), depth+1))
		}
		return out
	case KindMap:
		if v.Kind() != reflect.Map {
			return nil
		}
		out := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			out[iter.Key().String()] = params(s.Value.Shape, iter.Value(), depth+1)
		}
		return out
	case KindBlob:
		if v.Kind() == reflect.Slice {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
	case KindTimestamp:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Format(time.RFC3339)
		}
	case KindDocument:
		if v.Kind() == reflect.Slice {
			return string(v.Bytes())
		}
	}
	// Scalars in the plain JSON model (enums as plain strings), so the audit
	// writer can walk the result without a JSON round trip.
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return nil
}

func isAbsent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

// ctName is a member's name in a CloudTrail record: lower camel case
// ("KeyId" → "keyId", "SAMLProviderArn" → "sAMLProviderArn", as IAM's
// records spell it), and a name in capitals lowered whole: Secrets
// Manager's "ARN" is "arn" (its CloudTrail guide: "aRN" was standardised
// to "arn" in February 2024).
func ctName(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 'A' || c > 'Z' {
			return LowerCamel(name) // the common case, with no allocation to find out
		}
	}
	return strings.ToLower(name)
}
