// Package modeltest loads AWS API models (api/models/<svc>/service-2.json)
// into awsproto Shape trees for the codecs' tests, and binds hand-written Go
// structs to them by field name. The production Shape trees are generated
// code; this loader exists so that tests can use real models without the
// generator.
package modeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"github.com/rampart/rampart/internal/awsproto"
)

type rawModel struct {
	Metadata struct {
		APIVersion      string `json:"apiVersion"`
		EndpointPrefix  string `json:"endpointPrefix"`
		JSONVersion     string `json:"jsonVersion"`
		Protocol        string `json:"protocol"`
		ServiceFullName string `json:"serviceFullName"`
		ServiceID       string `json:"serviceId"`
		SigningName     string `json:"signingName"`
		TargetPrefix    string `json:"targetPrefix"`
		XMLNamespace    string `json:"xmlNamespace"`
		GlobalEndpoint  string `json:"globalEndpoint"`
	} `json:"metadata"`
	Operations orderedRaw                 `json:"operations"`
	Shapes     map[string]json.RawMessage `json:"shapes"`
}

type rawOp struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input *struct {
		Shape string `json:"shape"`
	} `json:"input"`
	Output *struct {
		Shape         string `json:"shape"`
		ResultWrapper string `json:"resultWrapper"`
	} `json:"output"`
	Errors []struct {
		Shape string `json:"shape"`
	} `json:"errors"`
	AuthType   string `json:"authtype"`
	Deprecated bool   `json:"deprecated"`
}

type rawRef struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`
	LocationName     string `json:"locationName"`
	QueryName        string `json:"queryName"`
	Flattened        bool   `json:"flattened"`
	XMLAttribute     bool   `json:"xmlAttribute"`
	IdempotencyToken bool   `json:"idempotencyToken"`
	Deprecated       bool   `json:"deprecated"`
	JSONValue        bool   `json:"jsonvalue"`
	HostLabel        bool   `json:"hostLabel"`
}

type rawShape struct {
	Type            string     `json:"type"`
	Members         orderedRaw `json:"members"`
	Required        []string   `json:"required"`
	Payload         string     `json:"payload"`
	Union           bool       `json:"union"`
	Member          *rawRef    `json:"member"`
	Key             *rawRef    `json:"key"`
	Value           *rawRef    `json:"value"`
	Flattened       bool       `json:"flattened"`
	Enum            []string   `json:"enum"`
	Min             *float64   `json:"min"`
	Max             *float64   `json:"max"`
	Pattern         string     `json:"pattern"`
	Sensitive       bool       `json:"sensitive"`
	TimestampFormat string     `json:"timestampFormat"`
	Exception       bool       `json:"exception"`
	Fault           bool       `json:"fault"`
	Error           *struct {
		Code        string `json:"code"`
		Status      int    `json:"httpStatusCode"`
		SenderFault bool   `json:"senderFault"`
	} `json:"error"`
}

// orderedRaw keeps the keys of a JSON object in document order.
type orderedRaw struct {
	Keys   []string
	Values []json.RawMessage
}

func (o *orderedRaw) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		o.Keys = append(o.Keys, tok.(string))
		o.Values = append(o.Values, v)
	}
	return nil
}

var (
	mu    sync.Mutex
	cache = map[string]*awsproto.Service{}
)

// Root finds the repository root (the folder holding go.mod) from the
// working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("modeltest: go.mod not found")
		}
		dir = parent
	}
}

// Load returns the service model named name ("sts", "kms"), with every
// shape and operation; structure shapes have no GoType (see Bind). Each
// call returns a fresh Service, so tests may bind it as they like.
func Load(name string) (*awsproto.Service, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(root, "api", "models", name, "service-2.json"))
	if err != nil {
		return nil, err
	}
	var m rawModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	svc := &awsproto.Service{
		Name: name, ID: m.Metadata.ServiceID, FullName: m.Metadata.ServiceFullName,
		APIVersion: m.Metadata.APIVersion, Protocol: m.Metadata.Protocol,
		TargetPrefix: m.Metadata.TargetPrefix, JSONVersion: m.Metadata.JSONVersion,
		SigningName: m.Metadata.SigningName, EndpointPrefix: m.Metadata.EndpointPrefix,
		XMLNamespace: m.Metadata.XMLNamespace, Global: m.Metadata.GlobalEndpoint != "",
	}
	if svc.SigningName == "" {
		svc.SigningName = svc.EndpointPrefix
	}
	shapes := map[string]*awsproto.Shape{}
	raws := map[string]*rawShape{}
	for n, rb := range m.Shapes {
		var rs rawShape
		if err := json.Unmarshal(rb, &rs); err != nil {
			return nil, fmt.Errorf("shape %s: %w", n, err)
		}
		raws[n] = &rs
		shapes[n] = &awsproto.Shape{Name: n}
	}
	ref := func(r *rawRef) (*awsproto.Member, error) {
		s := shapes[r.Shape]
		if s == nil {
			return nil, fmt.Errorf("unknown shape %q", r.Shape)
		}
		return &awsproto.Member{Shape: s, Location: r.Location, LocationName: r.LocationName, QueryName: r.QueryName,
			Flattened: r.Flattened, XMLAttribute: r.XMLAttribute, IdempotencyToken: r.IdempotencyToken,
			Deprecated: r.Deprecated, JSONValue: r.JSONValue, HostLabel: r.HostLabel}, nil
	}
	kinds := map[string]awsproto.Kind{"structure": awsproto.KindStructure, "list": awsproto.KindList, "map": awsproto.KindMap,
		"string": awsproto.KindString, "integer": awsproto.KindInteger, "long": awsproto.KindLong, "boolean": awsproto.KindBoolean,
		"float": awsproto.KindFloat, "double": awsproto.KindDouble, "timestamp": awsproto.KindTimestamp, "blob": awsproto.KindBlob,
		"document": awsproto.KindDocument}
	for n, rs := range raws {
		s := shapes[n]
		s.Kind = kinds[rs.Type]
		if s.Kind == 0 {
			return nil, fmt.Errorf("shape %s: unknown type %q", n, rs.Type)
		}
		s.Payload, s.Union, s.Flattened = rs.Payload, rs.Union, rs.Flattened
		s.Enum, s.Min, s.Max, s.Pattern, s.Sensitive, s.TimestampFormat = rs.Enum, rs.Min, rs.Max, rs.Pattern, rs.Sensitive, rs.TimestampFormat
		s.Exception = rs.Exception || rs.Fault
		if s.Exception {
			info := &awsproto.ErrorInfo{Code: n, Status: 400, SenderFault: !rs.Fault}
			if rs.Fault {
				info.Status = 500
			}
			if rs.Error != nil {
				if rs.Error.Code != "" {
					info.Code = rs.Error.Code
				}
				if rs.Error.Status != 0 {
					info.Status = rs.Error.Status
				}
				info.SenderFault = rs.Error.SenderFault || !rs.Fault && rs.Error.Status < 500
			}
			s.Error = info
		}
		req := map[string]bool{}
		for _, r := range rs.Required {
			req[r] = true
		}
		for i, k := range rs.Members.Keys {
			var rr rawRef
			if err := json.Unmarshal(rs.Members.Values[i], &rr); err != nil {
				return nil, err
			}
			mem, err := ref(&rr)
			if err != nil {
				return nil, fmt.Errorf("shape %s member %s: %w", n, k, err)
			}
			mem.Name, mem.Field, mem.Required = k, i, req[k]
			s.Members = append(s.Members, mem)
		}
		for _, p := range []struct {
			r   *rawRef
			dst **awsproto.Member
		}{{rs.Member, &s.Member}, {rs.Key, &s.Key}, {rs.Value, &s.Value}} {
			if p.r != nil {
				mem, err := ref(p.r)
				if err != nil {
					return nil, fmt.Errorf("shape %s: %w", n, err)
				}
				*p.dst = mem
			}
		}
	}
	for i, k := range m.Operations.Keys {
		var ro rawOp
		if err := json.Unmarshal(m.Operations.Values[i], &ro); err != nil {
			return nil, err
		}
		op := &awsproto.Operation{Name: k, Method: ro.HTTP.Method, RequestURI: ro.HTTP.RequestURI, ResponseCode: ro.HTTP.ResponseCode,
			NoAuth: ro.AuthType == "none", Deprecated: ro.Deprecated}
		if ro.Input != nil {
			op.Input = shapes[ro.Input.Shape]
		}
		if ro.Output != nil {
			op.Output = shapes[ro.Output.Shape]
			op.ResultWrapper = ro.Output.ResultWrapper
		}
		for _, e := range ro.Errors {
			op.Errors = append(op.Errors, shapes[e.Shape])
		}
		svc.Operations = append(svc.Operations, op)
	}
	return svc.Init(), nil
}

// MustLoad is Load for tests: it panics on error.
func MustLoad(name string) *awsproto.Service {
	mu.Lock()
	defer mu.Unlock()
	svc, err := Load(name)
	if err != nil {
		panic(err)
	}
	cache[name] = svc
	return svc
}

// Bind returns a copy of the structure shape s whose members are those t
// (a struct type) has a field for, by member name, with Field set to the
// field index and GoType to t. Nested structures are bound through the
// field types (pointers, slices and maps of structs). Members t lacks are
// dropped, so a test struct may declare only the members it needs.
func Bind(s *awsproto.Shape, t reflect.Type) *awsproto.Shape {
	return bind(s, t, map[bindKey]*awsproto.Shape{})
}

type bindKey struct {
	s *awsproto.Shape
	t reflect.Type
}

func bind(s *awsproto.Shape, t reflect.Type, seen map[bindKey]*awsproto.Shape) *awsproto.Shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch s.Kind {
	case awsproto.KindStructure:
		if t.Kind() != reflect.Struct {
			panic(fmt.Sprintf("modeltest: shape %s bound to %v", s.Name, t))
		}
		if b, ok := seen[bindKey{s, t}]; ok {
			return b
		}
		c := *s
		c.GoType = t
		c.Members = nil
		seen[bindKey{s, t}] = &c
		for _, m := range s.Members {
			name := m.Name
			f, ok := t.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, name) })
			if !ok {
				continue
			}
			mc := *m
			mc.Field = f.Index[0]
			mc.Shape = bind(m.Shape, f.Type, seen)
			c.Members = append(c.Members, &mc)
		}
		return &c
	case awsproto.KindList:
		if t.Kind() != reflect.Slice {
			panic(fmt.Sprintf("modeltest: list %s bound to %v", s.Name, t))
		}
		c := *s
		mc := *s.Member
		mc.Shape = bind(s.Member.Shape, t.Elem(), seen)
		c.Member = &mc
		return &c
	case awsproto.KindMap:
		if t.Kind() != reflect.Map {
			panic(fmt.Sprintf("modeltest: map %s bound to %v", s.Name, t))
		}
		c := *s
		vc := *s.Value
		vc.Shape = bind(s.Value.Shape, t.Elem(), seen)
		c.Value = &vc
		return &c
	}
	return s
}

// BindOp binds op's input and output to the types of in and out (nil for
// none) in place.
func BindOp(op *awsproto.Operation, in, out any) *awsproto.Operation {
	if in != nil && op.Input != nil {
		op.Input = Bind(op.Input, reflect.TypeOf(in))
	}
	if out != nil && op.Output != nil {
		op.Output = Bind(op.Output, reflect.TypeOf(out))
	}
	return op
}
