// Package service is where AWS operations meet the server: each service
// package lists its operations in a Register function, each next to its
// authorization rule, and the server dispatches through the resulting
// [Registry]. Registration refuses an operation without a rule, and checks
// at start-up that the handler's Go types are the model's.
package service

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
)

// Call is what a handler knows of the request it serves.
type Call struct {
	RequestID string
	Operation *awsproto.Operation
	Principal *authz.Principal // nil for unauthenticated operations (AssumeRoleWithSAML…)
	Region    string           // from the credential scope
	SourceIP  string
	UserAgent string
	Secure    bool      // TLS
	Now       time.Time // the request's time: handlers use it, never time.Now
	Rand      io.Reader // randomness for ids and keys: handlers use it, never crypto/rand directly
	// Authz decides authorization requests; handlers use it for checks
	// beyond their rule (iam:PassRole, a second resource).
	Authz authz.Checker

	// What the rule's Resource step found, and the input it found it for
	// (see [Keep] and [Found]).
	found    any
	foundFor any
}

// Request returns an authorization request for action by the caller,
// carrying the call's context (source IP, TLS, region, time).
func (c *Call) Request(action string) *authz.Request {
	return &authz.Request{Principal: c.Principal, Action: action, SourceIP: c.SourceIP, UserAgent: c.UserAgent, Secure: c.Secure, Region: c.Region, Time: c.Now}
}

// Keep records v, what the Resource step of a rule found for in (a KMS
// key's cache entry, a secret), so that the rule's Context step and the
// handler reuse it instead of looking it up again. A later Keep replaces
// it; [Handle] forgets it before each authorization.
//
// What is kept must be an immutable snapshot (a cache entry that a
// change replaces rather than modifies), and it is only as fresh as the
// authorization: a handler may use it in place of a read-only lookup,
// which then sees the resource exactly as authorization did. A handler
// that changes the resource must still read it inside its store
// transaction (at most using the kept value as a hint that the
// transaction re-validates).
func Keep[I any](c *Call, in *I, v any) {
	c.found, c.foundFor = v, in
}

// Found returns what the Resource step kept for in when it is a T: ok is
// false when nothing was kept, when it was kept for another input (a
// handler called on an input its rule did not authorize, an operation
// calling another's code with the same call) or when it is not a T. The
// caller then looks the resource up itself.
func Found[T, I any](c *Call, in *I) (v T, ok bool) {
	if c == nil || c.foundFor != any(in) {
		return v, false
	}
	v, ok = c.found.(T)
	return v, ok
}

type callKey struct{}

// WithCall returns a context carrying c.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the call a handler serves.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Rule is the authorization rule of an operation of input type I.
type Rule[I any] struct {
	// Action is the IAM action, "sts:AssumeRole". Required.
	Action string
	// NoPermission marks the few operations any authenticated caller may
	// perform whatever its policies say (sts:GetCallerIdentity).
	NoPermission bool
	// Resources returns the ARNs the call acts on; nil means "*" (actions
	// without resource-level permissions). Use it when the ARN follows from
	// the input alone (iam:GetUser on user/NAME).
	Resources func(c *Call, in *I) []string
	// Resource finds the resource the call acts on when that takes the
	// store (a KMS key named by an alias, a secret by its name) or when the
	// resource carries a policy or tags that authorization needs (key
	// policies, secret policies, trust policies, aws:ResourceTag/…). An
	// error (NotFoundException…) is returned to the caller as it is. It
	// overrides Resources. What it found it may [Keep] for the Context
	// step and the handler, which get it back with [Found].
	Resource func(ctx context.Context, c *Call, in *I) (*authz.Resource, error)
	// Context adds the operation's own condition keys to the request
	// (kms:EncryptionContextKeys, aws:RequestTag/…, aws:TagKeys…). The
	// authorizer lower-cases key names (condition keys are
	// case-insensitive): names given in lower case cost no copy.
	Context func(c *Call, in *I, keys map[string][]string)
}

// Handler is one served operation, ready for the server.
type Handler struct {
	Operation *awsproto.Operation
	Action    string
	// Authorize checks the call against the rule; nil error means allowed.
	Authorize func(ctx context.Context, c *Call, in any) error
	// NewInput allocates the input the codec decodes into.
	NewInput func() any
	// Do runs the operation on a decoded, authorized input.
	Do func(ctx context.Context, in any) (any, error)
}

// Registry is the set of served operations, by service name and operation name.
type Registry struct {
	handlers map[*awsproto.Operation]*Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{handlers: map[*awsproto.Operation]*Handler{}}
}

// Lookup returns the handler of op, or nil when op is not served.
func (r *Registry) Lookup(op *awsproto.Operation) *Handler { return r.handlers[op] }

// Handlers returns every registered handler.
func (r *Registry) Handlers() []*Handler {
	out := make([]*Handler, 0, len(r.handlers))
	for _, h := range r.handlers {
		out = append(out, h)
	}
	return out
}

// Handle registers fn as the handler of op under rule. It panics (at
// start-up, never on a request) when the rule has no action, when op is
// registered twice, or when I and O are not the model's input and output types.
func Handle[I, O any](r *Registry, op *awsproto.Operation, fn func(ctx context.Context, in *I) (*O, error), rule Rule[I]) {
	if rule.Action == "" {
		panic(fmt.Sprintf("service: %s.%s registered without an authorization rule", op.Service.Name, op.Name))
	}
	if _, dup := r.handlers[op]; dup {
		panic(fmt.Sprintf("service: %s.%s registered twice", op.Service.Name, op.Name))
	}
	checkType[I](op, op.Input, "input")
	checkType[O](op, op.Output, "output")
	h := &Handler{
		Operation: op,
		Action:    rule.Action,
		NewInput:  func() any { return new(I) },
		Do: func(ctx context.Context, in any) (any, error) {
			out, err := fn(ctx, in.(*I))
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
	var keysHint atomic.Int32 // the most condition keys rule.Context has set
	h.Authorize = func(ctx context.Context, c *Call, in any) error {
		c.found, c.foundFor = nil, nil
		if rule.NoPermission {
			return nil
		}
		req := c.Request(rule.Action)
		switch {
		case rule.Resource != nil:
			res, err := rule.Resource(ctx, c, in.(*I))
			if err != nil {
				return err
			}
			req.Resource = res
		case rule.Resources != nil:
			for _, arn := range rule.Resources(c, in.(*I)) {
				req.Resources = append(req.Resources, arn)
			}
		}
		if rule.Context != nil {
			// Sized for as many keys as the operation has set before (up
			// to maxKeysHint: one request with many tags does not make
			// every later one allocate for them), so that the map is
			// allocated once and does not grow while the rule fills it.
			hint := int(keysHint.Load())
			req.Keys = make(map[string][]string, hint)
			rule.Context(c, in.(*I), req.Keys)
			if n := len(req.Keys); n > hint && n <= maxKeysHint {
				keysHint.Store(int32(n))
			}
		}
		return c.Authz.Authorize(ctx, req)
	}
	r.handlers[op] = h
}

// maxKeysHint bounds the size a rule's condition-key map is made with.
const maxKeysHint = 24

func checkType[T any](op *awsproto.Operation, s *awsproto.Shape, what string) {
	got := reflect.TypeFor[T]()
	if s == nil {
		if got != reflect.TypeFor[awsproto.Empty]() {
			panic(fmt.Sprintf("service: %s.%s has no %s in the model; its handler must use awsproto.Empty, not %v", op.Service.Name, op.Name, what, got))
		}
		return
	}
	if got != s.GoType {
		panic(fmt.Sprintf("service: %s.%s %s is %v in the model, the handler uses %v", op.Service.Name, op.Name, what, s.GoType, got))
	}
}
