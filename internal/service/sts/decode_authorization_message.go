package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// AuthorizationMessage is the decoded form of an encoded authorization
// message, in the shape AWS's DecodeAuthorizationMessage returns
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html).
type AuthorizationMessage struct {
	Allowed           bool        `json:"allowed"`
	ExplicitDeny      bool        `json:"explicitDeny"`
	MatchedStatements items[any]  `json:"matchedStatements"`
	Failures          items[any]  `json:"failures"`
	Context           authContext `json:"context"`
}

type items[T any] struct {
	Items []T `json:"items"`
}

type authContext struct {
	Principal  authPrincipal        `json:"principal"`
	Action     string               `json:"action"`
	Resource   string               `json:"resource"`
	Conditions items[authCondition] `json:"conditions"`
}

type authPrincipal struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	ARN  string `json:"arn"`
}

type authCondition struct {
	Key    string           `json:"key"`
	Values items[authValue] `json:"values"`
}

type authValue struct {
	Value string `json:"value"`
}

// NewAuthorizationMessage describes a denied request for
// DecodeAuthorizationMessage.
func NewAuthorizationMessage(r *authz.Request, explicitDeny bool) *AuthorizationMessage {
	m := &AuthorizationMessage{ExplicitDeny: explicitDeny}
	m.MatchedStatements.Items = []any{}
	m.Failures.Items = []any{}
	if r.Principal != nil {
		m.Context.Principal = authPrincipal{ID: r.Principal.ID, Name: r.Principal.Name, ARN: r.Principal.ARN}
	}
	m.Context.Action = r.Action
	switch {
	case r.Resource != nil:
		m.Context.Resource = r.Resource.ARN
	case len(r.Resources) > 0:
		m.Context.Resource = r.Resources[0]
	default:
		m.Context.Resource = "*"
	}
	keys := make([]string, 0, len(r.Keys))
	for k := range r.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m.Context.Conditions.Items = []authCondition{}
	for _, k := range keys {
		c := authCondition{Key: k}
		for _, v := range r.Keys[k] {
			c.Values.Items = append(c.Values.Items, authValue{Value: v})
		}
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, c)
	}
	return m
}

func authMessageAAD(account string) []byte { return []byte("sts.authorization-message/" + account) }

// EncodeAuthorizationMessage seals m for the account whose principals may
// decode it (with sts:DecodeAuthorizationMessage). The result is what a
// service puts after "Encoded authorization failure message: " in an
// AccessDenied message: opaque, tamper-evident, and unreadable without the
// barrier, since it may reveal policy details the caller may not see.
func EncodeAuthorizationMessage(b *barrier.Barrier, account string, m *AuthorizationMessage) (string, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	sealed, err := b.Seal(plain, authMessageAAD(account))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// DecodeAuthorizationMessage opens an encoded authorization message of the
// caller's account.
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *stsapi.DecodeAuthorizationMessageRequest) (*stsapi.DecodeAuthorizationMessageResponse, error) {
	c := service.CallFrom(ctx)
	invalid := stsapi.NewInvalidAuthorizationMessageException("The message is not a valid encoded authorization message.")
	if s.d.Barrier == nil {
		return nil, invalid
	}
	sealed, err := base64.RawURLEncoding.DecodeString(*in.EncodedMessage)
	if err != nil {
		return nil, invalid
	}
	plain, err := s.d.Barrier.Open(sealed, authMessageAAD(c.Principal.Account))
	if err != nil {
		return nil, invalid
	}
	msg := string(plain)
	return &stsapi.DecodeAuthorizationMessageResponse{DecodedMessage: &msg}, nil
}
