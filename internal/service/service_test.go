package service

import (
	"context"
	"strings"
	"testing"

	stsapi "github.com/rampart/rampart/internal/api/sts"
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
