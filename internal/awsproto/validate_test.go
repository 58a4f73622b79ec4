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
		"Value '{long=abc}' at 'attrs' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 3]",
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
