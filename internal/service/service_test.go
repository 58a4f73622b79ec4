package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	stsapi "github.com/rampart/rampart/internal/api/sts"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
)

func gci(context.Context, *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	return &stsapi.GetCallerIdentityResponse{}, nil
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		p := recover()
		if p == nil {
			t.Fatalf("no panic; want one mentioning %q", want)
		}
		if !strings.Contains(p.(string), want) {
			t.Fatalf("panic %q lacks %q", p, want)
		}
	}()
	f()
}

func TestHandleRefusesOperationWithoutRule(t *testing.T) {
	mustPanic(t, "without an authorization rule", func() {
		Handle(NewRegistry(), stsapi.OpGetCallerIdentity, gci, Rule[stsapi.GetCallerIdentityRequest]{})
	})
}

func TestHandleRefusesDuplicates(t *testing.T) {
	r := NewRegistry()
	rule := Rule[stsapi.GetCallerIdentityRequest]{Action: "sts:GetCallerIdentity", NoPermission: true}
	Handle(r, stsapi.OpGetCallerIdentity, gci, rule)
	mustPanic(t, "registered twice", func() { Handle(r, stsapi.OpGetCallerIdentity, gci, rule) })
}

func TestHandleRefusesWrongTypes(t *testing.T) {
	wrong := func(context.Context, *stsapi.AssumeRoleRequest) (*stsapi.GetCallerIdentityResponse, error) {
		return nil, nil
	}
	mustPanic(t, "input is", func() {
		Handle(NewRegistry(), stsapi.OpGetCallerIdentity, wrong, Rule[stsapi.AssumeRoleRequest]{Action: "sts:GetCallerIdentity"})
	})
	empty := func(context.Context, *awsproto.Empty) (*stsapi.GetCallerIdentityResponse, error) { return nil, nil }
	mustPanic(t, "input is", func() {
		Handle(NewRegistry(), stsapi.OpGetCallerIdentity, empty, Rule[awsproto.Empty]{Action: "sts:GetCallerIdentity"})
	})
}

// allow is a Checker that allows everything and remembers the last request.
type allow struct{ last *authz.Request }

func (a *allow) Authorize(_ context.Context, r *authz.Request) error { a.last = r; return nil }

// A rule's Resource step keeps what it found; the Context step and the
// handler get it back for the input it was found for, and only for it.
func TestKeepAndFound(t *testing.T) {
	type record struct{ name string }
	var lookups int
	var inContext *record
	r := NewRegistry()
	Handle(r, stsapi.OpGetCallerIdentity, func(ctx context.Context, in *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
		c := CallFrom(ctx)
		rec, ok := Found[*record](c, in)
		if !ok {
			return nil, errors.New("handler: nothing found")
		}
		if _, ok := Found[string](c, in); ok {
			t.Error("Found[string] of a *record: ok")
		}
		if _, ok := Found[*record](c, new(stsapi.GetCallerIdentityRequest)); ok {
			t.Error("Found for another input: ok")
		}
		return &stsapi.GetCallerIdentityResponse{Arn: &rec.name}, nil
	}, Rule[stsapi.GetCallerIdentityRequest]{
		Action: "sts:GetCallerIdentity",
		Resource: func(_ context.Context, c *Call, in *stsapi.GetCallerIdentityRequest) (*authz.Resource, error) {
			lookups++
			Keep(c, in, &record{name: "found-once"})
			return &authz.Resource{ARN: "arn:aws:iam::000000000000:user/x"}, nil
		},
		Context: func(c *Call, in *stsapi.GetCallerIdentityRequest, keys map[string][]string) {
			inContext, _ = Found[*record](c, in)
			keys["k"] = []string{"v"}
		},
	})
	h := r.Lookup(stsapi.OpGetCallerIdentity)
	checker := &allow{}
	c := &Call{Authz: checker}
	in := h.NewInput()
	if err := h.Authorize(context.Background(), c, in); err != nil {
		t.Fatal(err)
	}
	if inContext == nil || inContext.name != "found-once" {
		t.Fatalf("Context step found %v", inContext)
	}
	if got := checker.last.Keys["k"]; len(got) != 1 || got[0] != "v" {
		t.Fatalf("keys %v", checker.last.Keys)
	}
	out, err := h.Do(WithCall(context.Background(), c), in)
	if err != nil {
		t.Fatal(err)
	}
	if arn := *out.(*stsapi.GetCallerIdentityResponse).Arn; arn != "found-once" || lookups != 1 {
		t.Fatalf("handler answered %q after %d lookups", arn, lookups)
	}

	// A handler run without its rule (or with a call whose rule kept
	// nothing) finds nothing and looks the resource up itself.
	if _, err := h.Do(WithCall(context.Background(), &Call{}), in); err == nil {
		t.Fatal("handler found what no rule kept")
	}
	if _, ok := Found[*record](nil, in.(*stsapi.GetCallerIdentityRequest)); ok {
		t.Fatal("Found on a nil call: ok")
	}
}

// Authorization forgets what an earlier authorization of the same call
// kept, so that a rule that keeps nothing does not hand on a stale value.
func TestAuthorizeForgetsKept(t *testing.T) {
	r := NewRegistry()
	Handle(r, stsapi.OpGetCallerIdentity, gci, Rule[stsapi.GetCallerIdentityRequest]{Action: "sts:GetCallerIdentity"})
	h := r.Lookup(stsapi.OpGetCallerIdentity)
	in := h.NewInput().(*stsapi.GetCallerIdentityRequest)
	c := &Call{Authz: &allow{}}
	Keep(c, in, 42)
	if v, ok := Found[int](c, in); !ok || v != 42 {
		t.Fatalf("Found = %v, %v", v, ok)
	}
	if err := h.Authorize(context.Background(), c, in); err != nil {
		t.Fatal(err)
	}
	if _, ok := Found[int](c, in); ok {
		t.Fatal("kept value survived a new authorization")
	}
}
