package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rampart/rampart/internal/awsproto"
)

// sdkClients are the AWS SDK for Go v2 clients of the served services: the
// SDK is the judge of what clients accept.
var sdkClients = map[string]func(aws.Config) any{
	"iam":            func(c aws.Config) any { return iam.NewFromConfig(c) },
	"kms":            func(c aws.Config) any { return kms.NewFromConfig(c) },
	"organizations":  func(c aws.Config) any { return organizations.NewFromConfig(c) },
	"secretsmanager": func(c aws.Config) any { return secretsmanager.NewFromConfig(c) },
	"sts":            func(c aws.Config) any { return sts.NewFromConfig(c) },
}

// errNoSDK means the SDK input could not be built from the generated
// values (a union or document member the bridge does not map).
var errNoSDK = errors.New("no SDK mapping")

// sdkCall calls op through the SDK client of its service, with the SDK's
// input struct built from in by member name. It returns the SDK's error
// (nil on success).
func sdkCall(ctx context.Context, cfg aws.Config, op *awsproto.Operation, in map[string]any) error {
	mk, ok := sdkClients[op.Service.Name]
	if !ok {
		return fmt.Errorf("%w: no SDK client for %s", errNoSDK, op.Service.Name)
	}
	client := reflect.ValueOf(mk(cfg))
	m := client.MethodByName(op.Name)
	if !m.IsValid() {
		return fmt.Errorf("%w: the SDK has no %s.%s", errNoSDK, op.Service.Name, op.Name)
	}
	inPtr := reflect.New(m.Type().In(1).Elem())
	if op.Input != nil {
		if err := toSDK(inPtr.Elem(), op.Input, in); err != nil {
			return fmt.Errorf("%w: %v", errNoSDK, err)
		}
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), inPtr})
	if e := res[1].Interface(); e != nil {
		return e.(error)
	}
	return nil
}

// toSDK stores v, a generated value of shape s, into dst, a field or
// element of an SDK type.
func toSDK(dst reflect.Value, s *awsproto.Shape, v any) error {
	if v == nil {
		return nil
	}
	if dst.Type() == reflect.TypeFor[time.Time]() {
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%s: %T for a timestamp", s.Name, v)
		}
		dst.Set(reflect.ValueOf(t))
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if err := toSDK(p.Elem(), s, v); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T for a structure", s.Name, v)
		}
		for _, mem := range s.Members {
			mv, ok := m[mem.Name]
			if !ok {
				continue
			}
			f := dst.FieldByName(exported(mem.Name))
			if !f.IsValid() {
				return fmt.Errorf("%s: the SDK type %v has no field %s", s.Name, dst.Type(), mem.Name)
			}
			if err := toSDK(f, mem.Shape, mv); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T for a string", s.Name, v)
		}
		dst.SetString(str)
	case reflect.Int32, reflect.Int64, reflect.Int:
		i, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%s: %T for an integer", s.Name, v)
		}
		dst.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: %T for a number", s.Name, v)
		}
		dst.SetFloat(f)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%s: %T for a boolean", s.Name, v)
		}
		dst.SetBool(b)
	case reflect.Slice:
		if dst.Type().Elem().Kind() == reflect.Uint8 {
			b, ok := v.([]byte)
			if !ok {
				return fmt.Errorf("%s: %T for a blob", s.Name, v)
			}
			dst.SetBytes(b)
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T for a list", s.Name, v)
		}
		out := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			if err := toSDK(out.Index(i), s.Member.Shape, e); err != nil {
				return err
			}
		}
		dst.Set(out)
	case reflect.Map:
		mm, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T for a map", s.Name, v)
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(mm))
		for k, e := range mm {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := toSDK(ev, s.Value.Shape, e); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
	default:
		return fmt.Errorf("%s: SDK kind %v (union or document)", s.Name, dst.Kind())
	}
	return nil
}

func exported(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// replay is an SDK HTTP client that answers every request with one recorded
// response: it lets the SDK's own deserializer judge a response the harness
// received, without running the operation a second time.
type replay struct {
	status int
	header http.Header
	body   []byte
}

func (r *replay) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		Status: http.StatusText(r.status), StatusCode: r.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: r.header.Clone(), Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body)), Request: req,
	}, nil
}

// sdkJudge has the SDK deserialize a recorded response to a call of op with
// input in. A success must decode without error; an error must decode to
// the same code the harness read.
func sdkJudge(ctx context.Context, cfg aws.Config, op *awsproto.Operation, in map[string]any, status int, header http.Header, body []byte, code string) error {
	cfg.HTTPClient = &replay{status: status, header: header, body: body}
	err := sdkCall(ctx, cfg, op, in)
	if errors.Is(err, errNoSDK) {
		return err
	}
	if status < 300 {
		if err != nil {
			return fmt.Errorf("the SDK cannot read the response: %v", err)
		}
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("the SDK did not read an AWS error: %v", err)
	}
	if ae.ErrorCode() != code {
		return fmt.Errorf("the SDK reads error code %q, the harness %q", ae.ErrorCode(), code)
	}
	return nil
}

// sdkOutcome sums up an SDK call over the network: "" for success, else the
// error code, with the HTTP status.
func sdkOutcome(err error) (code string, status int) {
	if err == nil {
		return "", 200
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), status
	}
	return "!" + err.Error(), status
}
