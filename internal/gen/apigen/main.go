// Command apigen generates internal/api from the AWS API models in api/models.
//
// For every served service (the -served list) it writes
// internal/api/<pkg>/api_gen.go: one Go struct per structure shape (fields in
// model order, so that a member's index is its field index), one string type
// per enum, a constructor per error shape, the Operations interface (one
// method per operation, with the signature of the service's handlers), an
// *awsproto.Operation variable per operation, and the *awsproto.Shape tree
// the codecs walk. For every other model (ec2 excepted) it writes the
// operation list into internal/api/catalog_gen.go, so that the router can
// answer NotImplemented for operations that exist in AWS but are not served
// yet.
//
// Run it with go generate ./internal/api.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

type model struct {
	Metadata   map[string]any        `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
	opOrder    []string
	shapeOrder []string
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input      *ref   `json:"input"`
	Output     *ref   `json:"output"`
	Errors     []ref  `json:"errors"`
	AuthType   string `json:"authtype"`
	Deprecated bool   `json:"deprecated"`
}

type ref struct {
	Shape            string `json:"shape"`
	ResultWrapper    string `json:"resultWrapper"`
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

type shape struct {
	Type            string          `json:"type"`
	Members         json.RawMessage `json:"members"`
	Required        []string        `json:"required"`
	Member          *ref            `json:"member"`
	Key             *ref            `json:"key"`
	Value           *ref            `json:"value"`
	Flattened       bool            `json:"flattened"`
	Enum            []string        `json:"enum"`
	Min             *float64        `json:"min"`
	Max             *float64        `json:"max"`
	Pattern         string          `json:"pattern"`
	Sensitive       bool            `json:"sensitive"`
	TimestampFormat string          `json:"timestampFormat"`
	Exception       bool            `json:"exception"`
	Fault           bool            `json:"fault"`
	Union           bool            `json:"union"`
	Payload         string          `json:"payload"`
	Document        bool            `json:"document"`
	Error           *struct {
		Code        string `json:"code"`
		Status      int    `json:"httpStatusCode"`
		SenderFault bool   `json:"senderFault"`
	} `json:"error"`

	members    []member // in model order
	goName     string
	enumConsts []string
}

type member struct {
	name string
	ref
	goName string
}

func main() {
	models := flag.String("models", "../../api/models", "folder of the AWS API models")
	out := flag.String("out", ".", "folder of internal/api")
	served := flag.String("served", "iam,sts,organizations,kms,secretsmanager", "services with generated types")
	flag.Parse()

	servedSet := map[string]bool{}
	for _, s := range strings.Split(*served, ",") {
		servedSet[s] = true
	}
	entries, err := os.ReadDir(*models)
	if err != nil {
		log.Fatal(err)
	}
	var all []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "ec2" {
			all = append(all, e.Name())
		}
	}
	sort.Strings(all)
	var catalog bytes.Buffer
	catalog.WriteString(header("api/models/*/service-2.json") + "package api\n\nimport (\n\t\"github.com/rampart/rampart/internal/awsproto\"\n")
	for _, name := range all {
		if servedSet[name] {
			fmt.Fprintf(&catalog, "\t%s \"github.com/rampart/rampart/internal/api/%s\"\n", goPkgAlias(name), goPkg(name))
		}
	}
	catalog.WriteString(")\n\n// catalog holds every model in api/models but ec2: the generated service for\n// served ones, the operation list for the others.\nvar catalog = []*awsproto.Service{\n")
	for _, name := range all {
		m, err := load(filepath.Join(*models, name, "service-2.json"))
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if servedSet[name] {
			src := genService(name, m)
			dir := filepath.Join(*out, goPkg(name))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				log.Fatal(err)
			}
			write(filepath.Join(dir, "api_gen.go"), src)
			fmt.Fprintf(&catalog, "\t%s.Service,\n", goPkgAlias(name))
			continue
		}
		catalog.WriteString("\t(&awsproto.Service{\n")
		writeServiceMeta(&catalog, name, m)
		catalog.WriteString("\t\tOperations: []*awsproto.Operation{\n")
		for _, opName := range m.opOrder {
			op := m.Operations[opName]
			fmt.Fprintf(&catalog, "\t\t\t{Name: %q, Method: %q, RequestURI: %q, NoAuth: %v},\n", op.Name, op.HTTP.Method, op.HTTP.RequestURI, op.AuthType == "none")
		}
		catalog.WriteString("\t\t},\n\t}).Init(),\n")
	}
	catalog.WriteString("}\n")
	write(filepath.Join(*out, "catalog_gen.go"), catalog.Bytes())
}

func header(from string) string {
	return "// Code generated by apigen from " + from + ". DO NOT EDIT.\n\n"
}

func write(path string, src []byte) {
	formatted, err := format.Source(src)
	if err != nil {
		os.WriteFile(path+".broken", src, 0o644)
		log.Fatalf("%s: %v", path, err)
	}
	if err := os.WriteFile(path, formatted, 0o644); err != nil {
		log.Fatal(err)
	}
}

// goPkg is the Go package (and folder) of a service: "cognito-idp" → "cognitoidp".
func goPkg(name string) string { return strings.ReplaceAll(name, "-", "") }

// goPkgAlias is the import alias by STYLE.md: kms → kmsapi.
func goPkgAlias(name string) string { return goPkg(name) + "api" }

func load(path string) (*model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	// Keep the model's order of operations, shapes and members.
	var raw struct {
		Operations json.RawMessage `json:"operations"`
		Shapes     json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if m.opOrder, err = keysInOrder(raw.Operations); err != nil {
		return nil, err
	}
	if m.shapeOrder, err = keysInOrder(raw.Shapes); err != nil {
		return nil, err
	}
	for _, s := range m.Shapes {
		if len(s.Members) == 0 {
			continue
		}
		names, err := keysInOrder(s.Members)
		if err != nil {
			return nil, err
		}
		var refs map[string]ref
		if err := json.Unmarshal(s.Members, &refs); err != nil {
			return nil, err
		}
		for _, n := range names {
			s.members = append(s.members, member{name: n, ref: refs[n]})
		}
	}
	return &m, nil
}

func keysInOrder(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func writeServiceMeta(b *bytes.Buffer, name string, m *model) {
	md := m.Metadata
	signing := str(md, "signingName")
	if signing == "" {
		signing = str(md, "endpointPrefix")
	}
	fmt.Fprintf(b, "\t\tName: %q,\n\t\tID: %q,\n\t\tFullName: %q,\n\t\tAPIVersion: %q,\n\t\tProtocol: %q,\n", name, str(md, "serviceId"), str(md, "serviceFullName"), str(md, "apiVersion"), str(md, "protocol"))
	fmt.Fprintf(b, "\t\tTargetPrefix: %q,\n\t\tJSONVersion: %q,\n\t\tSigningName: %q,\n\t\tEndpointPrefix: %q,\n\t\tXMLNamespace: %q,\n\t\tGlobal: %v,\n",
		str(md, "targetPrefix"), str(md, "jsonVersion"), signing, str(md, "endpointPrefix"), str(md, "xmlNamespace"), str(md, "globalEndpoint") != "" || name == "organizations")
}

// exported turns a model name into an exported Go identifier.
func exported(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = "X" + out
	}
	return out
}

var kindNames = map[string]string{
	"structure": "KindStructure", "list": "KindList", "map": "KindMap", "string": "KindString",
	"integer": "KindInteger", "long": "KindLong", "boolean": "KindBoolean", "float": "KindFloat",
	"double": "KindDouble", "timestamp": "KindTimestamp", "blob": "KindBlob",
}

// reserved names the generated package declares itself.
var reserved = map[string]bool{"Service": true, "Operations": true}

func genService(name string, m *model) []byte {
	nameShapeVars(m.shapeOrder)
	// Name the Go types: structures and enums become types; other shapes are inlined.
	used := map[string]bool{}
	for k := range reserved {
		used[k] = true
	}
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		if s.Document {
			s.Type = "document"
		}
		if s.Type == "structure" || (s.Type == "string" && len(s.Enum) > 0) {
			g := exported(sn)
			for used[g] {
				g += "_"
			}
			used[g] = true
			s.goName = g
		}
	}
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		if s.Type == "string" && len(s.Enum) > 0 {
			seen := map[string]bool{}
			for _, v := range s.Enum {
				c := s.goName + exported(strings.ToLower(v))
				for used[c] || seen[c] {
					c += "_"
				}
				seen[c] = true
				s.enumConsts = append(s.enumConsts, c)
			}
			for _, c := range s.enumConsts {
				used[c] = true
			}
		}
		if s.Type == "structure" {
			fields := map[string]bool{}
			for i := range s.members {
				f := exported(s.members[i].name)
				for fields[f] {
					f += "_"
				}
				fields[f] = true
				s.members[i].goName = f
			}
		}
	}
	opVar := func(op string) string { return "Op" + exported(op) }
	errCtor := func(sn string) string { return "New" + m.Shapes[sn].goName }
	for _, sn := range m.shapeOrder {
		if s := m.Shapes[sn]; s.Exception {
			used[errCtor(sn)] = true
		}
	}

	var goType func(sn string, inList bool) string
	goType = func(sn string, elem bool) string {
		s := m.Shapes[sn]
		switch s.Type {
		case "structure":
			if elem {
				return s.goName
			}
			return "*" + s.goName
		case "list":
			return "[]" + goType(s.Member.Shape, true)
		case "map":
			return "map[string]" + goType(s.Value.Shape, true)
		case "string":
			if len(s.Enum) > 0 {
				return s.goName
			}
			if elem {
				return "string"
			}
			return "*string"
		case "document":
			return "json.RawMessage"
		case "blob":
			return "[]byte"
		}
		base := map[string]string{"integer": "int32", "long": "int64", "boolean": "bool", "float": "float32", "double": "float64", "timestamp": "time.Time"}[s.Type]
		if base == "" {
			log.Fatalf("%s: shape %s has unknown type %q", name, sn, s.Type)
		}
		if elem {
			return base
		}
		return "*" + base
	}

	var b bytes.Buffer
	b.WriteString(header("api/models/" + name + "/service-2.json"))
	fmt.Fprintf(&b, "// Package %s holds the generated types of %s: inputs, outputs, enums,\n// errors, the Operations interface and the model the codecs walk. Import it\n// as %s.\n", goPkg(name), str(m.Metadata, "serviceFullName"), goPkgAlias(name))
	fmt.Fprintf(&b, "package %s\n\nimport (\n\t\"context\"\n\t\"encoding/json\"\n\t\"reflect\"\n\t\"time\"\n\n\t\"github.com/rampart/rampart/internal/awsproto\"\n)\n\n", goPkg(name))
	b.WriteString("var (\n\t_ json.RawMessage\n\t_ time.Time\n)\n\n")

	// Types.
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		switch {
		case s.Type == "structure":
			fmt.Fprintf(&b, "// %s is the %s shape.\ntype %s struct {\n", s.goName, sn, s.goName)
			for _, mem := range s.members {
				fmt.Fprintf(&b, "\t%s %s\n", mem.goName, goType(mem.Shape, false))
			}
			b.WriteString("}\n\n")
		case s.goName != "":
			fmt.Fprintf(&b, "// %s is the %s enum.\ntype %s string\n\n// Values of %s.\nconst (\n", s.goName, sn, s.goName, s.goName)
			for i, v := range s.Enum {
				fmt.Fprintf(&b, "\t%s %s = %q\n", s.enumConsts[i], s.goName, v)
			}
			b.WriteString(")\n\n")
		}
	}

	// Error constructors.
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		if !s.Exception {
			continue
		}
		code, status, sender := sn, 400, !s.Fault
		if s.Fault {
			status = 500
		}
		if s.Error != nil {
			if s.Error.Code != "" {
				code = s.Error.Code
			}
			if s.Error.Status != 0 {
				status = s.Error.Status
			}
			sender = s.Error.SenderFault || (!s.Fault && s.Error.Status < 500)
		}
		fmt.Fprintf(&b, "// %s returns the %s error (HTTP %d, %s fault).\nfunc %s(format string, args ...any) *awsproto.Error {\n\treturn awsproto.NewError(%s, format, args...)\n}\n\n",
			errCtor(sn), code, status, map[bool]string{true: "sender", false: "receiver"}[sender], errCtor(sn), shapeVar(sn))
		s.Error = &struct {
			Code        string `json:"code"`
			Status      int    `json:"httpStatusCode"`
			SenderFault bool   `json:"senderFault"`
		}{code, status, sender}
	}

	// The Operations interface: the signature of each operation's handler.
	// An operation without an input or output shape takes or returns
	// *awsproto.Empty, as service.Handle requires.
	ioType := func(r *ref) string {
		if r == nil {
			return "*awsproto.Empty"
		}
		return "*" + m.Shapes[r.Shape].goName
	}
	b.WriteString(`// Operations lists every operation of the service, in model order, with the
// signature rampart's handlers have; an operation whose model declares no
// input or output takes or returns *awsproto.Empty.
//
// Nothing dispatches through this interface, and a service need not
// implement all of it: a service implements the operations it serves as
// methods with these signatures and registers each one together with its
// authorization rule (service.Handle), so that no operation is ever served
// without one. The test in internal/app (TestOperationsInterface) keeps the
// registered handlers and this interface in step.
type Operations interface {
`)
	for _, on := range m.opOrder {
		op := m.Operations[on]
		fmt.Fprintf(&b, "\t%s(ctx context.Context, in %s) (%s, error)\n", exported(on), ioType(op.Input), ioType(op.Output))
	}
	b.WriteString("}\n\n")

	// Operations.
	b.WriteString("// The operations of the service, in model order.\nvar (\n")
	for _, on := range m.opOrder {
		fmt.Fprintf(&b, "\t%s = &awsproto.Operation{Name: %q}\n", opVar(on), on)
	}
	b.WriteString(")\n\n")

	// Shapes: declared without references, linked in init (models have cycles).
	b.WriteString("// The shapes of the model.\nvar (\n")
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		kind := kindNames[s.Type]
		if s.Type == "document" {
			kind = "KindDocument"
		}
		fmt.Fprintf(&b, "\t%s = &awsproto.Shape{Name: %q, Kind: awsproto.%s", shapeVar(sn), sn, kind)
		if len(s.Enum) > 0 {
			b.WriteString(", Enum: []string{")
			for i, v := range s.Enum {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(v))
			}
			b.WriteString("}")
		}
		if s.Min != nil {
			fmt.Fprintf(&b, ", Min: awsproto.Bound(%v)", *s.Min)
		}
		if s.Max != nil {
			fmt.Fprintf(&b, ", Max: awsproto.Bound(%v)", *s.Max)
		}
		if s.Pattern != "" {
			fmt.Fprintf(&b, ", Pattern: %q", s.Pattern)
		}
		if s.Sensitive {
			b.WriteString(", Sensitive: true")
		}
		if s.Flattened {
			b.WriteString(", Flattened: true")
		}
		if s.Union {
			b.WriteString(", Union: true")
		}
		if s.Payload != "" {
			fmt.Fprintf(&b, ", Payload: %q", s.Payload)
		}
		if s.TimestampFormat != "" {
			fmt.Fprintf(&b, ", TimestampFormat: %q", s.TimestampFormat)
		}
		if s.Exception {
			fmt.Fprintf(&b, ", Exception: true, Error: &awsproto.ErrorInfo{Code: %q, Status: %d, SenderFault: %v}", s.Error.Code, s.Error.Status, s.Error.SenderFault)
		}
		b.WriteString("}\n")
	}
	b.WriteString(")\n\n")

	b.WriteString("// Service is the model of the service, for the router and the codecs.\nvar Service *awsproto.Service\n\nfunc init() {\n")
	memberLit := func(mem member, field int, required bool) string {
		var f []string
		f = append(f, fmt.Sprintf("Name: %q", mem.name), "Shape: "+shapeVar(mem.Shape))
		if field > 0 {
			f = append(f, fmt.Sprintf("Field: %d", field))
		}
		if required {
			f = append(f, "Required: true")
		}
		if mem.Location != "" {
			f = append(f, fmt.Sprintf("Location: %q", mem.Location))
		}
		if mem.LocationName != "" {
			f = append(f, fmt.Sprintf("LocationName: %q", mem.LocationName))
		}
		if mem.QueryName != "" {
			f = append(f, fmt.Sprintf("QueryName: %q", mem.QueryName))
		}
		if mem.Flattened {
			f = append(f, "Flattened: true")
		}
		if mem.XMLAttribute {
			f = append(f, "XMLAttribute: true")
		}
		if mem.IdempotencyToken {
			f = append(f, "IdempotencyToken: true")
		}
		if mem.Deprecated {
			f = append(f, "Deprecated: true")
		}
		if mem.JSONValue {
			f = append(f, "JSONValue: true")
		}
		if mem.HostLabel {
			f = append(f, "HostLabel: true")
		}
		return "&awsproto.Member{" + strings.Join(f, ", ") + "}"
	}
	for _, sn := range m.shapeOrder {
		s := m.Shapes[sn]
		switch s.Type {
		case "structure":
			req := map[string]bool{}
			for _, r := range s.Required {
				req[r] = true
			}
			fmt.Fprintf(&b, "\t%s.GoType = reflect.TypeFor[%s]()\n", shapeVar(sn), s.goName)
			if len(s.members) > 0 {
				fmt.Fprintf(&b, "\t%s.Members = []*awsproto.Member{\n", shapeVar(sn))
				for i, mem := range s.members {
					fmt.Fprintf(&b, "\t\t%s,\n", memberLit(mem, i, req[mem.name]))
				}
				b.WriteString("\t}\n")
			}
		case "list":
			fmt.Fprintf(&b, "\t%s.Member = %s\n", shapeVar(sn), memberLit(member{name: "member", ref: *s.Member}, 0, false))
		case "map":
			fmt.Fprintf(&b, "\t%s.Key = %s\n", shapeVar(sn), memberLit(member{name: "key", ref: *s.Key}, 0, false))
			fmt.Fprintf(&b, "\t%s.Value = %s\n", shapeVar(sn), memberLit(member{name: "value", ref: *s.Value}, 0, false))
		}
	}
	for _, on := range m.opOrder {
		op := m.Operations[on]
		v := opVar(on)
		fmt.Fprintf(&b, "\t%s.Method, %s.RequestURI = %q, %q\n", v, v, op.HTTP.Method, op.HTTP.RequestURI)
		if op.HTTP.ResponseCode != 0 {
			fmt.Fprintf(&b, "\t%s.ResponseCode = %d\n", v, op.HTTP.ResponseCode)
		}
		if op.Input != nil {
			fmt.Fprintf(&b, "\t%s.Input = %s\n", v, shapeVar(op.Input.Shape))
		}
		if op.Output != nil {
			fmt.Fprintf(&b, "\t%s.Output = %s\n", v, shapeVar(op.Output.Shape))
			if op.Output.ResultWrapper != "" {
				fmt.Fprintf(&b, "\t%s.ResultWrapper = %q\n", v, op.Output.ResultWrapper)
			}
		}
		if len(op.Errors) > 0 {
			fmt.Fprintf(&b, "\t%s.Errors = []*awsproto.Shape{", v)
			for i, e := range op.Errors {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(shapeVar(e.Shape))
			}
			b.WriteString("}\n")
		}
		if op.AuthType == "none" {
			fmt.Fprintf(&b, "\t%s.NoAuth = true\n", v)
		}
		if op.Deprecated {
			fmt.Fprintf(&b, "\t%s.Deprecated = true\n", v)
		}
	}
	b.WriteString("\tService = (&awsproto.Service{\n")
	writeServiceMeta(&b, name, m)
	b.WriteString("\t\tOperations: []*awsproto.Operation{\n")
	for _, on := range m.opOrder {
		fmt.Fprintf(&b, "\t\t\t%s,\n", opVar(on))
	}
	b.WriteString("\t\t},\n\t}).Init()\n}\n")
	return b.Bytes()
}

// shapeVars names the unexported variable holding each shape; models have
// shapes whose names differ only in the case of the first letter.
var shapeVars = map[string]string{}

func shapeVar(sn string) string { return shapeVars[sn] }

func nameShapeVars(order []string) {
	clear(shapeVars)
	used := map[string]bool{}
	for _, sn := range order {
		v := "shape" + exported(sn)
		for used[v] {
			v += "_"
		}
		used[v] = true
		shapeVars[sn] = v
	}
}
