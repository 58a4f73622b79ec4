package json_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/modeltest"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
)

type (
	KeyState    string
	KeyMetadata struct {
		AWSAccountId                *string
		KeyId                       *string
		Arn                         *string
		CreationDate                *time.Time
		Enabled                     *bool
		Description                 *string
		KeyUsage                    string
		KeyState                    KeyState
		DeletionDate                *time.Time
		KeySpec                     string
		EncryptionAlgorithms        []string
		MultiRegion                 *bool
		PendingDeletionWindowInDays *int32
	}
	DescribeKeyInput struct {
		KeyId       *string
		GrantTokens []string
	}
	DescribeKeyOutput struct{ KeyMetadata *KeyMetadata }
	EncryptInput      struct {
		KeyId               *string
		Plaintext           []byte
		EncryptionContext   map[string]string
		GrantTokens         []string
		EncryptionAlgorithm string
		DryRun              *bool
	}
	EncryptOutput struct {
		CiphertextBlob      []byte
		KeyId               *string
		EncryptionAlgorithm string
	}
	DecryptInput struct {
		CiphertextBlob      []byte
		EncryptionContext   map[string]string
		GrantTokens         []string
		KeyId               *string
		EncryptionAlgorithm string
	}
	DecryptOutput struct {
		KeyId               *string
		Plaintext           []byte
		EncryptionAlgorithm string
	}
	Tag struct {
		TagKey   *string
		TagValue *string
	}
	CreateKeyInput struct {
		Policy      *string
		Description *string
		KeyUsage    string
		KeySpec     string
		Tags        []Tag
		MultiRegion *bool
	}
	ListKeysInput struct {
		Limit  *int32
		Marker *string
	}
)

func kmsService() *awsproto.Service {
	svc := modeltest.MustLoad("kms")
	modeltest.BindOp(svc.Operation("DescribeKey"), DescribeKeyInput{}, DescribeKeyOutput{})
	modeltest.BindOp(svc.Operation("Encrypt"), EncryptInput{}, EncryptOutput{})
	modeltest.BindOp(svc.Operation("Decrypt"), DecryptInput{}, DecryptOutput{})
	modeltest.BindOp(svc.Operation("CreateKey"), CreateKeyInput{}, nil)
	modeltest.BindOp(svc.Operation("ListKeys"), ListKeysInput{}, nil)
	return svc
}

func errShape(svc *awsproto.Service, name string) *awsproto.Shape {
	for _, op := range svc.Operations {
		for _, e := range op.Errors {
			if e.Name == name {
				return e
			}
		}
	}
	panic(name)
}

type handler struct {
	svc *awsproto.Service
	ops map[string]func() (any, func(any) (any, error))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := awsjson.New()
	body, _ := io.ReadAll(r.Body)
	req := &awsproto.Request{HTTP: r, Body: body}
	op, err := p.Operation(h.svc, req)
	if err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	in, answer := h.ops[op.Name]()
	if err := p.Decode(op, req, in); err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	out, err := answer(in)
	if err != nil {
		p.EncodeError(w, h.svc, awsproto.AsError(err), "rid")
		return
	}
	_ = p.Encode(w, op, out, "rid")
}

func TestKMSRoundTrip(t *testing.T) {
	svc := kmsService()
	created := time.Date(2024, 1, 2, 3, 4, 5, 678000000, time.UTC)
	deletion := time.Date(2024, 2, 2, 0, 0, 0, 0, time.UTC)
	var gotEncrypt *EncryptInput
	h := &handler{svc: svc, ops: map[string]func() (any, func(any) (any, error)){
		"DescribeKey": func() (any, func(any) (any, error)) {
			return &DescribeKeyInput{}, func(in any) (any, error) {
				id := *in.(*DescribeKeyInput).KeyId
				if id == "missing" {
					return nil, awsproto.NewError(errShape(svc, "NotFoundException"), "Key 'arn:aws:kms:us-east-1:000000000000:key/missing' does not exist")
				}
				return &DescribeKeyOutput{KeyMetadata: &KeyMetadata{AWSAccountId: aws.String("000000000000"), KeyId: aws.String(id),
					Arn: aws.String("arn:aws:kms:us-east-1:000000000000:key/" + id), CreationDate: &created, Enabled: aws.Bool(true),
					Description: aws.String("line\n\"quoted\" \u2028 é"), KeyUsage: "ENCRYPT_DECRYPT", KeyState: "PendingDeletion",
					DeletionDate: &deletion, KeySpec: "SYMMETRIC_DEFAULT", EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
					MultiRegion: aws.Bool(false), PendingDeletionWindowInDays: aws.Int32(7)}}, nil
			}
		},
		"Encrypt": func() (any, func(any) (any, error)) {
			return &EncryptInput{}, func(in any) (any, error) {
				gotEncrypt = in.(*EncryptInput)
				return &EncryptOutput{CiphertextBlob: append([]byte{0, 1, 2}, gotEncrypt.Plaintext...), KeyId: gotEncrypt.KeyId, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"}, nil
			}
		},
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1}
	c := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("k1")})
	if err != nil {
		t.Fatal(err)
	}
	md := out.KeyMetadata
	if *md.KeyId != "k1" || !md.CreationDate.Equal(created) || !md.DeletionDate.Equal(deletion) || md.KeyState != kmstypes.KeyStatePendingDeletion ||
		md.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt || len(md.EncryptionAlgorithms) != 1 || *md.Description != "line\n\"quoted\" \u2028 é" ||
		*md.PendingDeletionWindowInDays != 7 || !md.Enabled || *md.MultiRegion {
		t.Fatalf("got %+v", md)
	}

	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("missing")})
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "does not exist") {
		t.Fatalf("want NotFoundException, got %T %v", err, err)
	}

	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/x"), Plaintext: []byte("secret\x00\xff"),
		EncryptionContext: map[string]string{"purpose": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc.CiphertextBlob, []byte("\x00\x01\x02secret\x00\xff")) || enc.EncryptionAlgorithm != kmstypes.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("got %+v", enc)
	}
	if gotEncrypt.EncryptionContext["purpose"] != "test" {
		t.Fatalf("decoded %+v", gotEncrypt)
	}

	// The SDK validates required members itself, but not lengths.
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(""), Plaintext: []byte("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" ||
		api.ErrorMessage() != "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1" {
		t.Fatalf("got %v", err)
	}
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("k"), Plaintext: make([]byte, 4097)})
	if !errors.As(err, &api) || api.ErrorMessage() != "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096" {
		t.Fatalf("got %v", err)
	}
}

func decode(t *testing.T, svc *awsproto.Service, target, ct, body string, in any) error {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	req := &awsproto.Request{HTTP: r, Body: []byte(body)}
	p := awsjson.New()
	op, err := p.Operation(svc, req)
	if err != nil {
		return err
	}
	return p.Decode(op, req, in)
}

func TestDecode(t *testing.T) {
	svc := kmsService()
	const ct = "application/x-amz-json-1.1"
	cases := map[string]struct {
		target, ct, body string
		in, want         any
		code, message    string
	}{
		"no target":       {body: "{}", code: "UnknownOperationException"},
		"other prefix":    {target: "Foo.Encrypt", body: "{}", code: "UnknownOperationException"},
		"unknown op":      {target: "TrentService.Nope", body: "{}", code: "UnknownOperationException"},
		"bad ctype":       {target: "TrentService.ListKeys", ct: "application/x-www-form-urlencoded", body: "{}", code: "SerializationException"},
		"empty body":      {target: "TrentService.ListKeys", body: "", in: &ListKeysInput{}, want: &ListKeysInput{}},
		"json 1.0 ctype":  {target: "TrentService.ListKeys", ct: "application/x-amz-json-1.0", body: `{"Limit":5}`, in: &ListKeysInput{}, want: &ListKeysInput{Limit: aws.Int32(5)}},
		"malformed":       {target: "TrentService.ListKeys", body: `{"Limit":`, in: &ListKeysInput{}, code: "SerializationException"},
		"trailing":        {target: "TrentService.ListKeys", body: `{} x`, in: &ListKeysInput{}, code: "SerializationException"},
		"not object":      {target: "TrentService.ListKeys", body: `[]`, in: &ListKeysInput{}, code: "SerializationException"},
		"string for int":  {target: "TrentService.ListKeys", body: `{"Limit":"5"}`, in: &ListKeysInput{}, code: "SerializationException", message: "STRING_VALUE can not be converted to an Integer"},
		"int overflow":    {target: "TrentService.ListKeys", body: `{"Limit":2147483648}`, in: &ListKeysInput{}, code: "SerializationException"},
		"fraction int":    {target: "TrentService.ListKeys", body: `{"Limit":1.5}`, in: &ListKeysInput{}, code: "SerializationException"},
		"range":           {target: "TrentService.ListKeys", body: `{"Limit":0}`, in: &ListKeysInput{}, code: "ValidationException", message: "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		"unknown members": {target: "TrentService.ListKeys", body: `{"Nope":{"a":[1,2,{"b":null}]},"Marker":"m\u00e9"}`, in: &ListKeysInput{}, want: &ListKeysInput{Marker: aws.String("mé")}},
		"null is absent":  {target: "TrentService.ListKeys", body: `{"Limit":null}`, in: &ListKeysInput{}, want: &ListKeysInput{}},
		"bad base64":      {target: "TrentService.Encrypt", body: `{"KeyId":"k","Plaintext":"!!"}`, in: &EncryptInput{}, code: "SerializationException"},
		"required": {target: "TrentService.Encrypt", body: `{}`, in: &EncryptInput{}, code: "ValidationException",
			message: "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'plaintext' failed to satisfy constraint: Member must not be null"},
		"enum": {target: "TrentService.CreateKey", body: `{"KeyUsage":"NOPE"}`, in: &CreateKeyInput{}, code: "ValidationException",
			message: "1 validation error detected: Value 'NOPE' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT]"},
		"nested list": {target: "TrentService.CreateKey", body: `{"Tags":[{"TagKey":"a","TagValue":"b"},{"TagKey":""}]}`, in: &CreateKeyInput{}, code: "ValidationException",
			message: "2 validation errors detected: Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'tags.2.member.tagValue' failed to satisfy constraint: Member must not be null"},
		"scalar list": {target: "TrentService.Encrypt", body: `{"KeyId":"k","Plaintext":"eA==","GrantTokens":["", "ok"]}`, in: &EncryptInput{}, code: "ValidationException",
			message: "1 validation error detected: Value '[, ok]' at 'grantTokens' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]"},
		"map": {target: "TrentService.Encrypt", body: `{"KeyId":"k","Plaintext":"eA==","EncryptionContext":{"a":"b"},"GrantTokens":[]}`, in: &EncryptInput{},
			want: &EncryptInput{KeyId: aws.String("k"), Plaintext: []byte("x"), EncryptionContext: map[string]string{"a": "b"}, GrantTokens: []string{}}},
		"deep": {target: "TrentService.ListKeys", body: `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, in: &ListKeysInput{}, code: "SerializationException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			if in == nil {
				in = &ListKeysInput{}
			}
			c := tc.ct
			if c == "" {
				c = ct
			}
			err := decode(t, svc, tc.target, c, tc.body, in)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(in, tc.want) {
					t.Fatalf("got %+v want %+v", in, tc.want)
				}
				return
			}
			var e *awsproto.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Status != 400 || tc.message != "" && e.Message != tc.message {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	svc := kmsService()
	w := httptest.NewRecorder()
	awsjson.New().EncodeError(w, svc, awsproto.NewError(errShape(svc, "NotFoundException"), "gone"), "rid")
	if w.Code != 400 || w.Body.String() != `{"__type":"NotFoundException","message":"gone"}` ||
		w.Header().Get("X-Amzn-Errortype") != "NotFoundException" || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" ||
		w.Header().Get("X-Amzn-Requestid") != "rid" {
		t.Fatalf("got %d %s %v", w.Code, w.Body.String(), w.Header())
	}
	if got := awsjson.New().CommonCode(awsproto.CodeInvalidClientTokenID); got != "UnrecognizedClientException" {
		t.Fatal(got)
	}
}

type ImportKeyMaterialInput struct {
	KeyId                *string
	ImportToken          []byte
	EncryptedKeyMaterial []byte
	ValidTo              *time.Time
	ExpirationModel      string
}

// Timestamps travel in the json protocols as epoch seconds, a JSON number
// with an optional fraction (what the SDKs send); the decoder also takes
// the exponent form some encoders write and, leniently, the string forms.
// Anything else is a SerializationException, and a blob that is not base64
// likewise, worded as Coral words it.
func TestDecodeTimestampsAndBlobs(t *testing.T) {
	svc := kmsService()
	modeltest.BindOp(svc.Operation("ImportKeyMaterial"), ImportKeyMaterialInput{}, nil)
	const prefix = `{"KeyId":"k","ImportToken":"dG9r","EncryptedKeyMaterial":"a2V5","ValidTo":`
	for body, want := range map[string]time.Time{
		`1700000000`:                  time.Unix(1700000000, 0),
		`1700000000.25`:               time.Unix(1700000000, 250000000),
		`1700000000.123`:              time.Unix(1700000000, 123000000),
		`1.7000000001e9`:              time.Unix(1700000000, 100000000),
		`-1.5`:                        time.Unix(-2, 500000000),
		`"1700000000"`:                time.Unix(1700000000, 0),
		`"2023-11-14T22:13:20Z"`:      time.Unix(1700000000, 0),
		`"2023-11-14T22:13:20.5Z"`:    time.Unix(1700000000, 500000000),
		`"2023-11-14T23:13:20+01:00"`: time.Unix(1700000000, 0),
	} {
		var in ImportKeyMaterialInput
		if err := decode(t, svc, "TrentService.ImportKeyMaterial", "application/x-amz-json-1.1", prefix+body+"}", &in); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if in.ValidTo == nil || !in.ValidTo.Equal(want) || in.ValidTo.Location() != time.UTC {
			t.Errorf("%s: got %v, want %v", body, in.ValidTo, want.UTC())
		}
		if string(in.ImportToken) != "tok" || string(in.EncryptedKeyMaterial) != "key" {
			t.Errorf("%s: blobs %q %q", body, in.ImportToken, in.EncryptedKeyMaterial)
		}
	}
	for body, message := range map[string]string{
		prefix + `"not-a-timestamp"}`: "Invalid timestamp value: not-a-timestamp",
		prefix + `1e400}`:             "Invalid timestamp value: 1e400",
		prefix + `99999999999999}`:    "Invalid timestamp value: 99999999999999",
		prefix + `true}`:              "BOOLEAN_VALUE can not be converted to a Timestamp",
		prefix + `{}}`:                "Start of structure or map found where not expected.",
		`{"KeyId":"k","ImportToken":"Foo","EncryptedKeyMaterial":"a2V5"}`:  "'Foo' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
		`{"KeyId":"k","ImportToken":"!!!!","EncryptedKeyMaterial":"a2V5"}`: "'!!!!' can not be converted to a Blob: Base64 encoded value is invalid",
	} {
		err := decode(t, svc, "TrentService.ImportKeyMaterial", "application/x-amz-json-1.1", body, &ImportKeyMaterialInput{})
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Code != "SerializationException" || e.Status != 400 || e.Message != message {
			t.Errorf("%s: got %v, want SerializationException: %s", body, err, message)
		}
	}
	// A sensitive blob is never echoed.
	err := decode(t, svc, "TrentService.Encrypt", "application/x-amz-json-1.1", `{"KeyId":"k","Plaintext":"s3cret"}`, &EncryptInput{})
	var e *awsproto.Error
	if !errors.As(err, &e) || e.Code != "SerializationException" || strings.Contains(e.Message, "s3cret") ||
		e.Message != "Value can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 6" {
		t.Fatalf("got %v", err)
	}
}
