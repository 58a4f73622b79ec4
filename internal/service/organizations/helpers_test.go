package organizations_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/app"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	orgs "github.com/rampart/rampart/internal/service/organizations"
	"github.com/rampart/rampart/internal/store"
)

// created is one call of the fake Accounts.
type created struct{ ID, Name, Email, Management string }

// fakeAccounts records CreateAccount calls and makes the account in authn
// with a root key the test knows (AKIA<id> / secret-<id>), so tests can
// act as the new account's root user.
type fakeAccounts struct {
	st       store.Store
	b        *barrier.Barrier
	mu       sync.Mutex
	fail     error
	log      []created
	finished []created // FinishAccount calls
}

func (f *fakeAccounts) CreateAccount(ctx context.Context, id, name, email, mgmt string) error {
	f.mu.Lock()
	f.log = append(f.log, created{id, name, email, mgmt})
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return fail
	}
	_, err := authn.EnsureAccount(ctx, f.st, f.b, authn.Account{ID: id, Name: name, Email: email}, "AKIA"+id, "secret-"+id)
	return err
}

// FinishAccount implements orgs.AccountFinisher.
func (f *fakeAccounts) FinishAccount(_ context.Context, id, mgmt string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished = append(f.finished, created{ID: id, Management: mgmt})
	return nil
}

func (f *fakeAccounts) calls() []created {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]created(nil), f.log...)
}

// scpChecker enforces what Guardrails returns, for root users only: the
// identity side of a root user always allows, so only SCPs can deny. It
// stands in for the real authorizer (internal/authz) so that these tests
// exercise Guardrails through the front door on their own.
// It also records the resources of the last request for each action.
type scpChecker struct {
	g    *orgs.Guardrails
	seen *sync.Map // action → []string
}

func (c scpChecker) Authorize(ctx context.Context, r *authz.Request) error {
	c.seen.Store(r.Action, append([]string(nil), r.Resources...))
	if r.Principal == nil || r.Principal.Type != authz.Root {
		return authz.RootOnly{}.Authorize(ctx, r)
	}
	op, err := c.g.OrgPolicies(ctx, r.Principal.Account)
	if err != nil {
		return err
	}
	in := &policy.Input{Root: true}
	if op != nil {
		in.SCPs, in.ManagementAccount = op.SCPs, op.Management
	}
	req := &policy.Request{
		Principal: policy.Principal{Type: policy.PrincipalRoot, ARN: r.Principal.ARN, Account: r.Principal.Account},
		Action:    r.Action, Resource: "*",
	}
	if d := policy.Evaluate(req, in); d.Result != policy.Allow {
		return &authz.Denied{Message: d.Message(req)}
	}
	return nil
}

type env struct {
	*rampartest.Server
	accounts *fakeAccounts
	guard    *orgs.Guardrails
	org      *organizations.Client // management account (000000000000) root
	stop     func()                // stops the server (also done at cleanup)
	seen     *sync.Map             // action → resources of its last authorization request
	svc      *orgs.Service
	// interrupt, when set, stops the next CreateAccount between creating
	// the account and recording it, as a crash would.
	interrupt *atomic.Bool
}

// start runs rampart with the Organizations service over a fake Accounts,
// and the SCP-enforcing checker above.
func start(t testing.TB) *env { return startDir(t, t.TempDir()) }

// startDir starts over dir, which may hold an earlier run's state.
func startDir(t testing.TB, dir string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rp, err := app.Open(ctx, app.Config{DataDir: dir, Dev: true, RootAccessKey: app.DevAccessKey, RootSecretKey: app.DevSecretKey})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	fake := &fakeAccounts{st: rp.Store, b: rp.Barrier}
	g := orgs.NewGuardrails(rp.Store)
	reg := service.NewRegistry()
	svc := orgs.New(rp.Store, fake)
	interrupt := new(atomic.Bool)
	orgs.SetInterrupt(svc, func() bool { return interrupt.Swap(false) })
	svc.Register(reg)
	rp.Registry = reg
	seen := new(sync.Map)
	rp.Handler = server.New(server.Config{Registry: reg, Authn: rp.Authn, Authz: scpChecker{g, seen}, Audit: rp.Audit})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rp.Serve(ctx, l) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
		g.Close()
		if err := rp.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	t.Cleanup(stop)
	srv := &rampartest.Server{URL: "http://" + l.Addr().String(), DataDir: dir, Account: app.DevAccount, AccessKey: app.DevAccessKey, SecretKey: app.DevSecretKey, Rampart: rp}
	return &env{Server: srv, accounts: fake, guard: g, org: organizations.NewFromConfig(srv.Config()), stop: stop, seen: seen, svc: svc, interrupt: interrupt}
}

// member returns a client signing as the root user of an account the fake
// Accounts created.
func (e *env) member(id string) *organizations.Client {
	return organizations.NewFromConfig(e.ConfigFor("AKIA"+id, "secret-"+id, ""))
}

// setup creates an organization and returns it with its root id.
func (e *env) setup(t testing.TB) (*types.Organization, string) {
	t.Helper()
	ctx := context.Background()
	out, err := e.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	roots, err := e.org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots: %v %v", roots, err)
	}
	return out.Organization, aws.ToString(roots.Roots[0].Id)
}

// newAccount creates a member account and returns its id.
func (e *env) newAccount(t testing.TB, name string) string {
	t.Helper()
	ctx := context.Background()
	out, err := e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	st, err := e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	if err != nil {
		t.Fatalf("DescribeCreateAccountStatus: %v", err)
	}
	if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
		t.Fatalf("create account %s: %s %s", name, st.CreateAccountStatus.State, st.CreateAccountStatus.FailureReason)
	}
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

func (e *env) newOU(t testing.TB, parent, name string) string {
	t.Helper()
	out, err := e.org.CreateOrganizationalUnit(context.Background(), &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateOrganizationalUnit %s: %v", name, err)
	}
	return aws.ToString(out.OrganizationalUnit.Id)
}

// wantErr checks that err is the AWS error code with HTTP status 400 (every
// Organizations error is) and a message containing msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if isReason(msg) && strings.Contains("ConstraintViolationException InvalidInputException HandshakeConstraintViolationException AccessDeniedForDependencyException", code) {
		// A reason is a member of the error, as AWS sends it, not part of the message.
		if got := reasonOf(err); got != msg {
			t.Fatalf("%s reason %q (message %q), want %s", code, got, ae.ErrorMessage(), msg)
		}
		if strings.Contains(ae.ErrorMessage(), msg) {
			t.Fatalf("%s message %q repeats the reason", code, ae.ErrorMessage())
		}
	} else if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s message %q, want it to contain %q", code, ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
		t.Fatalf("%s status %d, want 400", code, re.HTTPStatusCode())
	}
}

func mustOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// isReason reports whether s is an error reason (OU_DEPTH_LIMIT_EXCEEDED).
func isReason(s string) bool {
	if !strings.Contains(s, "_") {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// reasonOf returns the Reason member of the Organizations errors that have one.
func reasonOf(err error) string {
	var (
		cv  *types.ConstraintViolationException
		ii  *types.InvalidInputException
		hcv *types.HandshakeConstraintViolationException
		adf *types.AccessDeniedForDependencyException
	)
	switch {
	case errors.As(err, &cv):
		return string(cv.Reason)
	case errors.As(err, &ii):
		return string(ii.Reason)
	case errors.As(err, &hcv):
		return string(hcv.Reason)
	case errors.As(err, &adf):
		return string(adf.Reason)
	}
	return ""
}
