package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rampart/rampart/internal/awsproto"
)

// Values are the inputs the harness generates, independent of any wire
// protocol or Go type: a structure is a map[string]any keyed by the model's
// member names, a list []any, a map map[string]any, and scalars are string,
// int64, float64, bool, time.Time and []byte. Raw is a value put on the
// wire verbatim (a JSON fragment in the json protocols, a form value in
// query): the harness uses it to send a value of the wrong type.
type Raw string

// NewRequest builds the unsigned HTTP request that calls op with in over
// op's wire protocol at endpoint (http://host:port). It writes the request
// itself rather than through rampart's codecs, whose decoding is what the
// harness checks.
func NewRequest(ctx context.Context, endpoint string, op *awsproto.Operation, in map[string]any) (*http.Request, []byte, error) {
	svc := op.Service
	var (
		method = "POST"
		path   = "/"
		query  = url.Values{}
		header = http.Header{}
		body   []byte
		err    error
	)
	switch svc.Protocol {
	case "query":
		form := url.Values{}
		form.Set("Action", op.Name)
		form.Set("Version", svc.APIVersion)
		if op.Input != nil {
			for _, m := range op.Input.Members {
				if v, ok := in[m.Name]; ok {
					queryValue(form, m.WireName(), m.Shape, v)
				}
			}
		}
		body = []byte(form.Encode())
		header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	case "json":
		body, err = jsonBody(op.Input, in)
		if err != nil {
			return nil, nil, err
		}
		header.Set("Content-Type", "application/x-amz-json-"+svc.JSONVersion)
		header.Set("X-Amz-Target", svc.TargetPrefix+"."+op.Name)
	case "rest-json":
		method, path, body, err = restJSON(op, in, query, header)
		if err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("conformance: no encoder for protocol %q", svc.Protocol)
	}
	u := endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return req, body, nil
}

// Sign signs req (whose body is body) with Signature V4 for op's service,
// with temporary credentials when sessionToken is not empty (the signer
// adds it as X-Amz-Security-Token).
func Sign(ctx context.Context, req *http.Request, body []byte, op *awsproto.Operation, region, accessKey, secretKey, sessionToken string) error {
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	return v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, SessionToken: sessionToken},
		req, hex.EncodeToString(sum[:]), op.Service.SigningName, region, time.Now())
}

// queryValue adds v, a value of shape s, to form under name, as the query
// protocol flattens it: lists "Name.member.N" (flattened: "Name.N"), maps
// "Name.entry.N.key" / ".value", structures "Name.Member".
func queryValue(form url.Values, name string, s *awsproto.Shape, v any) {
	if r, ok := v.(Raw); ok {
		form.Add(name, string(r))
		return
	}
	switch s.Kind {
	case awsproto.KindStructure:
		m, _ := v.(map[string]any)
		for _, mem := range s.Members {
			if mv, ok := m[mem.Name]; ok {
				queryValue(form, name+"."+mem.WireName(), mem.Shape, mv)
			}
		}
	case awsproto.KindList:
		l, _ := v.([]any)
		if len(l) == 0 {
			form.Set(name, "")
			return
		}
		prefix := name + "."
		if !s.Flattened {
			el := "member"
			if s.Member.LocationName != "" {
				el = s.Member.LocationName
			}
			prefix += el + "."
		}
		for i, e := range l {
			queryValue(form, prefix+strconv.Itoa(i+1), s.Member.Shape, e)
		}
	case awsproto.KindMap:
		m, _ := v.(map[string]any)
		keys := sortedKeys(m)
		prefix := name + "."
		if !s.Flattened {
			prefix += "entry."
		}
		kn, vn := "key", "value"
		if s.Key.LocationName != "" {
			kn = s.Key.LocationName
		}
		if s.Value.LocationName != "" {
			vn = s.Value.LocationName
		}
		for i, k := range keys {
			p := prefix + strconv.Itoa(i+1) + "."
			form.Add(p+kn, k)
			queryValue(form, p+vn, s.Value.Shape, m[k])
		}
	default:
		form.Add(name, scalarText(s, v, "iso8601"))
	}
}

// scalarText renders a scalar as text; timestamps in format (the shape's
// own timestampFormat wins).
func scalarText(s *awsproto.Shape, v any, format string) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		if s.TimestampFormat != "" {
			format = s.TimestampFormat
		}
		switch format {
		case "unixTimestamp":
			return epochText(x)
		case "rfc822":
			return x.UTC().Format(http.TimeFormat)
		}
		return x.UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonBody renders the input structure as the json protocols' body ("{}"
// when there is none).
func jsonBody(s *awsproto.Shape, in map[string]any) ([]byte, error) {
	if s == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(jsonValue(s, in))
}

// jsonValue turns a generated value into what encoding/json renders as the
// json protocols' form: members by wire name, blobs in base64, timestamps
// in epoch seconds.
func jsonValue(s *awsproto.Shape, v any) any {
	if r, ok := v.(Raw); ok {
		return json.RawMessage(r)
	}
	switch s.Kind {
	case awsproto.KindStructure:
		m, _ := v.(map[string]any)
		out := map[string]any{}
		for _, mem := range s.Members {
			if mv, ok := m[mem.Name]; ok && mem.Location == "" {
				out[mem.WireName()] = jsonValue(mem.Shape, mv)
			}
		}
		return out
	case awsproto.KindList:
		l, _ := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = jsonValue(s.Member.Shape, e)
		}
		return out
	case awsproto.KindMap:
		m, _ := v.(map[string]any)
		out := map[string]any{}
		for k, e := range m {
			out[k] = jsonValue(s.Value.Shape, e)
		}
		return out
	case awsproto.KindTimestamp:
		t, _ := v.(time.Time)
		switch s.TimestampFormat {
		case "iso8601":
			return t.UTC().Format(time.RFC3339Nano)
		case "rfc822":
			return t.UTC().Format(http.TimeFormat)
		}
		return json.Number(epochText(t))
	}
	return v // string, numbers, bool; []byte renders as base64
}

// epochText writes t as epoch seconds with the fraction, to the
// millisecond, as the SDKs send it ("1767225600.25"). Exact: dividing
// UnixNano by 1e9 in floating point would send 1767225600.2499998.
func epochText(t time.Time) string {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	s := strconv.FormatInt(sec, 10)
	if frac == 0 {
		return s
	}
	return strings.TrimRight(s+"."+fmt.Sprintf("%03d", frac), "0")
}

// restJSON lays the input out as rest-json does: labels in the path,
// querystring and header members, the rest (or the payload member) as the
// body.
func restJSON(op *awsproto.Operation, in map[string]any, query url.Values, header http.Header) (method, path string, body []byte, err error) {
	method = op.Method
	path = op.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		fixed, _ := url.ParseQuery(path[i+1:])
		for k, vs := range fixed {
			query[k] = vs
		}
		path = path[:i]
	}
	bodyMembers := map[string]any{}
	var payload *awsproto.Member
	if op.Input != nil {
		for _, m := range op.Input.Members {
			v, ok := in[m.Name]
			if op.Input.Payload == m.Name {
				payload = m
			}
			if !ok {
				continue
			}
			switch m.Location {
			case "uri":
				text := scalarText(m.Shape, v, "iso8601")
				greedy := "{" + m.WireName() + "+}"
				if strings.Contains(path, greedy) {
					segs := strings.Split(text, "/")
					for i := range segs {
						segs[i] = url.PathEscape(segs[i])
					}
					path = strings.ReplaceAll(path, greedy, strings.Join(segs, "/"))
				} else {
					path = strings.ReplaceAll(path, "{"+m.WireName()+"}", url.PathEscape(text))
				}
			case "querystring":
				switch m.Shape.Kind {
				case awsproto.KindList:
					l, _ := v.([]any)
					for _, e := range l {
						query.Add(m.WireName(), scalarText(m.Shape.Member.Shape, e, "iso8601"))
					}
				case awsproto.KindMap:
					mm, _ := v.(map[string]any)
					for k, e := range mm {
						query.Add(k, fmt.Sprint(e))
					}
				default:
					query.Set(m.WireName(), scalarText(m.Shape, v, "iso8601"))
				}
			case "header":
				if m.Shape.Kind == awsproto.KindList {
					l, _ := v.([]any)
					var parts []string
					for _, e := range l {
						parts = append(parts, scalarText(m.Shape.Member.Shape, e, "rfc822"))
					}
					header.Set(m.WireName(), strings.Join(parts, ","))
				} else {
					header.Set(m.WireName(), scalarText(m.Shape, v, "rfc822"))
				}
			case "headers":
				mm, _ := v.(map[string]any)
				for k, e := range mm {
					header.Set(m.WireName()+k, fmt.Sprint(e))
				}
			case "":
				bodyMembers[m.Name] = v
			}
		}
	}
	// Labels the input does not fill still need a segment, so that the
	// request reaches the operation (the server then says what is missing).
	for strings.Contains(path, "{") {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			break
		}
		path = path[:i] + "x" + path[i+j+1:]
	}
	switch {
	case payload != nil:
		v, ok := bodyMembers[payload.Name]
		if !ok {
			return method, path, nil, nil
		}
		switch payload.Shape.Kind {
		case awsproto.KindBlob:
			body, _ = v.([]byte)
			header.Set("Content-Type", "application/octet-stream")
		case awsproto.KindString:
			s, _ := v.(string)
			body = []byte(s)
			header.Set("Content-Type", "text/plain")
		default:
			body, err = json.Marshal(jsonValue(payload.Shape, v))
			header.Set("Content-Type", "application/json")
		}
	case op.Input == nil && (method == "POST" || method == "PUT" || method == "PATCH"):
		body = []byte("{}")
		header.Set("Content-Type", "application/json")
	case len(bodyMembers) > 0 || method == "POST" || method == "PUT" || method == "PATCH":
		body, err = json.Marshal(jsonValue(op.Input, bodyMembers))
		header.Set("Content-Type", "application/json")
	}
	return method, path, body, err
}
