package awsproto_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

func f(v float64) *float64 { return &v }

func TestValidateMapsAndSensitive(t *testing.T) {
	key := &awsproto.Shape{Name: "K", Kind: awsproto.KindString, Min: f(1), Max: f(3)}
	val := &awsproto.Shape{Name: "V", Kind: awsproto.KindString, Max: f(2)}
	secret := &awsproto.Shape{Name: "S", Kind: awsproto.KindString, Min: f(8), Sensitive: true}
	n := &awsproto.Shape{Name: "N", Kind: awsproto.KindLong, Max: f(10)}
	m := &awsproto.Shape{Name: "M", Kind: awsproto.KindMap, Key: &awsproto.Member{Shape: key}, Value: &awsproto.Member{Shape: val}}
	type In struct {
		Attrs    map[string]string
		Password *string
		Count    *int64
	}
	s := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
		{Name: "Attrs", Shape: m, Field: 0},
		{Name: "Password", Shape: secret, Field: 1},
		{Name: "Count", Shape: n, Field: 2},
	}}
	pw, c := "hunter2", int64(11)
	msgs := awsproto.Validate(s, reflect.ValueOf(In{Attrs: map[string]string{"long": "abc"}, Password: &pw, Count: &c}))
	want := []string{
		"Value '{long=abc}' at 'attrs' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 3, Member must have length greater than or equal to 1]",
		"Value '{long=abc}' at 'attrs' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2]",
		"Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 8",
		"Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10",
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Fatalf("got\n%s", strings.Join(msgs, "\n"))
	}
	for _, m := range msgs {
		if strings.Contains(m, pw) {
			t.Fatal("sensitive value echoed")
		}
	}
	e := awsproto.ValidationError("ValidationError", msgs[2:3])
	if e.Message != "1 validation error detected: "+msgs[2] || e.Status != 400 || !e.Sender {
		t.Fatalf("%+v", e)
	}
	if awsproto.ValidationError("x", nil) != nil {
		t.Fatal("no messages, no error")
	}
}

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{"KeyId": "keyId", "userName": "userName", "": "", "KMSKeyId": "kMSKeyId"} {
		if got := awsproto.LowerCamel(in); got != want {
			t.Errorf("%q → %q", in, got)
		}
	}
}

// Nested members are named by their path, as AWS's messages name them for
// every protocol: "rules.4.member.statement.andStatement.statements.1.member..."
// (WAF, json), "tags.6.member.value" (IAM, query), "requestItems.Auth.member.keys"
// (DynamoDB, a map of structures).
func TestValidateNestedPaths(t *testing.T) {
	str := &awsproto.Shape{Name: "S", Kind: awsproto.KindString, Max: f(3)}
	enum := &awsproto.Shape{Name: "E", Kind: awsproto.KindString, Enum: []string{"A", "B"}}
	type Tag struct{ Key, Value *string }
	type Inner struct {
		Name *string
		Kind string
	}
	type In struct {
		Tags   []Tag
		Inner  *Inner
		ByName map[string]Inner
		Names  []string
	}
	tag := &awsproto.Shape{Name: "Tag", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(Tag{}), Members: []*awsproto.Member{
		{Name: "Key", Shape: str, Field: 0, Required: true},
		{Name: "Value", Shape: str, Field: 1},
	}}
	inner := &awsproto.Shape{Name: "Inner", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(Inner{}), Members: []*awsproto.Member{
		{Name: "Name", Shape: str, Field: 0, Required: true},
		{Name: "Kind", Shape: enum, Field: 1},
	}}
	s := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
		{Name: "Tags", Shape: &awsproto.Shape{Name: "TagList", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: tag}}, Field: 0},
		{Name: "Inner", Shape: inner, Field: 1},
		{Name: "ByName", Shape: &awsproto.Shape{Name: "InnerMap", Kind: awsproto.KindMap, Key: &awsproto.Member{Shape: &awsproto.Shape{Name: "K", Kind: awsproto.KindString}}, Value: &awsproto.Member{Shape: inner}}, Field: 2},
		{Name: "Names", Shape: &awsproto.Shape{Name: "Names", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: str}}, Field: 3},
	}}
	ptr := func(s string) *string { return &s }
	in := In{
		Tags:   []Tag{{Key: ptr("k")}, {Value: ptr("v")}, {Key: ptr("k"), Value: ptr("long")}},
		Inner:  &Inner{Kind: "C"},
		ByName: map[string]Inner{"b": {Name: ptr("toolong")}, "a": {}, "c": {Name: ptr("ok"), Kind: "A"}},
		Names:  []string{"ok", "long", "four"},
	}
	want := []string{
		"Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null",
		"Value 'long' at 'tags.3.member.value' failed to satisfy constraint: Member must have length less than or equal to 3",
		"Value null at 'inner.name' failed to satisfy constraint: Member must not be null",
		"Value 'C' at 'inner.kind' failed to satisfy constraint: Member must satisfy enum value set: [A, B]",
		"Value null at 'byName.a.member.name' failed to satisfy constraint: Member must not be null",
		"Value 'toolong' at 'byName.b.member.name' failed to satisfy constraint: Member must have length less than or equal to 3",
		"Value '[ok, long, four]' at 'names' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 3]",
	}
	for range 5 { // map order must not matter
		if got := awsproto.Validate(s, reflect.ValueOf(in)); !reflect.DeepEqual(got, want) {
			t.Fatalf("got\n%s", strings.Join(got, "\n"))
		}
	}
}

// The elements of a list of scalars and the keys and values of a map are
// reported once per list or map, with every constraint of their shape,
// broken or not, maximum first: "Map value must satisfy constraint:
// [Member must have length less than or equal to 256, Member must have
// length greater than or equal to 0, Member must satisfy regular expression
// pattern: ...]" is how Lambda answers a tag value that breaks only the
// pattern.
func TestValidateElementConstraints(t *testing.T) {
	val := &awsproto.Shape{Name: "TagValue", Kind: awsproto.KindString, Min: f(0), Max: f(256), Pattern: `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`}
	key := &awsproto.Shape{Name: "TagKey", Kind: awsproto.KindString, Min: f(1), Max: f(128)}
	kind := &awsproto.Shape{Name: "Kind", Kind: awsproto.KindString, Enum: []string{"A", "B"}}
	num := &awsproto.Shape{Name: "Num", Kind: awsproto.KindInteger, Min: f(1), Max: f(9)}
	type In struct {
		Tags  map[string]string
		Kinds []string
		Nums  []int32
	}
	s := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
		{Name: "Tags", Shape: &awsproto.Shape{Name: "Tags", Kind: awsproto.KindMap, Key: &awsproto.Member{Shape: key}, Value: &awsproto.Member{Shape: val}}, Field: 0},
		{Name: "Kinds", Shape: &awsproto.Shape{Name: "Kinds", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: kind}}, Field: 1},
		{Name: "Nums", Shape: &awsproto.Shape{Name: "Nums", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: num}}, Field: 2},
	}}
	got := awsproto.Validate(s, reflect.ValueOf(In{Tags: map[string]string{"Creator": "a,b"}, Kinds: []string{"A", "C", "D"}, Nums: []int32{0, 5}}))
	want := []string{
		`Value '{Creator=a,b}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]`,
		`Value '[A, C, D]' at 'kinds' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [A, B]]`,
		`Value '[0, 5]' at 'nums' failed to satisfy constraint: Member must satisfy constraint: [Member must have value less than or equal to 9, Member must have value greater than or equal to 1]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	if got := awsproto.Validate(s, reflect.ValueOf(In{Tags: map[string]string{"ok": "fine"}, Kinds: []string{"B"}, Nums: []int32{9}})); got != nil {
		t.Fatalf("valid elements: %v", got)
	}
}
