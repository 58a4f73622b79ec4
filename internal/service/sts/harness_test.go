package sts_test

// The harness serves STS over loopback exactly as internal/app assembles
// rampart (SQLite store, barrier, authn, the server with SigV4), with three
// differences a test needs: the server's clock is the test's (Config.Now),
// IAM's side (roles, managed policies, MFA devices, users' identity
// policies) is a fixture the test fills in, and the authorizer evaluates
// with the real policy engine (internal/policy) over that fixture — the
// trust policy as a "trust" resource policy, the session's policies, the
// request's condition keys. When IAM and internal/authz's authorizer land,
// app.Open wires the real ones; these tests keep exercising STS's own rules.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/sts"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

const account = "000000000000"

type env struct {
	t       testing.TB
	URL     string
	Store   store.Store
	Barrier *barrier.Barrier
	Authn   *authn.Authenticator

	mu       sync.Mutex
	now      time.Time
	roles    map[string]*sts.RoleInfo
	managed  map[string]string
	identity map[string][]*policy.Policy      // by user or role ARN
	mfa      map[string]string                // serial → code
	oidc     map[string]*sts.OIDCProviderInfo // by issuer URL (https://host/path)
	saml     map[string]*sts.SAMLProviderInfo // by ARN
	nextKey  int
}

func start(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, now: time.Now().UTC().Truncate(time.Second),
		roles: map[string]*sts.RoleInfo{}, managed: map[string]string{}, identity: map[string][]*policy.Policy{}, mfa: map[string]string{},
		oidc: map[string]*sts.OIDCProviderInfo{}, saml: map[string]*sts.SAMLProviderInfo{}}
	b, err := barrier.OpenKeyFile(filepath.Join(dir, "barrier.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(dir, "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := authn.EnsureAccount(context.Background(), st, b, authn.Account{ID: account, Name: "test"}, "test", "test"); err != nil {
		t.Fatal(err)
	}
	an := authn.New(st, b)
	r := service.NewRegistry()
	sts.New(sts.Deps{Barrier: b, Authn: an, Roles: (*fixtureRoles)(e), Policies: (*fixturePolicies)(e), MFA: (*fixtureMFA)(e),
		OIDC: (*fixtureOIDC)(e), SAML: (*fixtureSAML)(e), AllowLoopbackHTTP: true, IssuerRoots: x509.NewCertPool()}).Register(r)
	srv := server.New(server.Config{Registry: r, Authn: an, Authz: (*fixtureAuthz)(e), Now: e.clock})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		an.Close()
		st.Close()
	})
	e.URL, e.Store, e.Barrier, e.Authn = hs.URL, st, b, an
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// advance moves the server's clock.
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// config signs with the given credentials; retries are off so that tests
// see every error as the server sent it.
func (e *env) config(akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		BaseEndpoint: aws.String(e.URL),
		Retryer:      rampartest.Retryer,
		HTTPClient:   &http.Client{},
	}
}

func (e *env) root() *awssts.Client { return awssts.NewFromConfig(e.config("test", "test", "")) }

func (e *env) client(c *ststypes.Credentials) *awssts.Client {
	return awssts.NewFromConfig(e.config(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken))
}

// user creates an IAM user with an access key and identity policies, the
// way IAM's CreateUser + CreateAccessKey + PutUserPolicy leave them.
func (e *env) user(name string, policies ...string) *awssts.Client {
	e.t.Helper()
	e.mu.Lock()
	e.nextKey++
	n := e.nextKey
	e.mu.Unlock()
	p := authz.Principal{Type: authz.IAMUser, Account: account, ARN: "arn:aws:iam::" + account + ":user/" + name,
		ID: fmt.Sprintf("AIDA%016d", n), Name: name}
	akid, secret := fmt.Sprintf("AKIATEST%012d", n), fmt.Sprintf("secret-of-%s-%d", name, n)
	p.AccessKeyID = akid
	if err := e.Store.Update(context.Background(), func(tx store.Tx) error {
		return authn.PutKey(tx, e.Barrier, akid, secret, p, true)
	}); err != nil {
		e.t.Fatal(err)
	}
	e.setIdentity(p.ARN, policies...)
	return awssts.NewFromConfig(e.config(akid, secret, ""))
}

func (e *env) setIdentity(arn string, docs ...string) {
	e.t.Helper()
	var ps []*policy.Policy
	for _, d := range docs {
		p, err := policy.Parse([]byte(d), policy.KindManaged)
		if err != nil {
			e.t.Fatalf("identity policy of %s: %v", arn, err)
		}
		ps = append(ps, p)
	}
	e.mu.Lock()
	e.identity[arn] = ps
	e.mu.Unlock()
}

// role creates a role with a trust policy and identity policies.
func (e *env) role(path, name, trust string, maxSession int32, policies ...string) *sts.RoleInfo {
	e.t.Helper()
	e.mu.Lock()
	e.nextKey++
	r := &sts.RoleInfo{ARN: "arn:aws:iam::" + account + ":role" + path + name, RoleID: fmt.Sprintf("AROATEST%012d", e.nextKey),
		Name: name, Path: path, Account: account, TrustPolicy: []byte(trust), MaxSessionDuration: maxSession,
		Tags: map[string]string{"team": "blue"}}
	e.roles[r.ARN] = r
	e.mu.Unlock()
	e.setIdentity(r.ARN, policies...)
	return r
}

type fixtureRoles env

func (f *fixtureRoles) Role(_ context.Context, arn string) (*sts.RoleInfo, error) {
	e := (*env)(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.roles[arn]
	if !ok {
		return nil, fmt.Errorf("role %s: %w", arn, sts.ErrNoSuchRole)
	}
	return r, nil
}

type fixturePolicies env

func (f *fixturePolicies) ManagedPolicy(_ context.Context, arn string) ([]byte, error) {
	e := (*env)(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.managed[arn]
	if !ok {
		return nil, fmt.Errorf("policy %s: %w", arn, sts.ErrNoSuchPolicy)
	}
	return []byte(d), nil
}

type fixtureMFA env

func (f *fixtureMFA) CheckMFA(_ context.Context, p *authz.Principal, serial, code string, _ time.Time) error {
	e := (*env)(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	want, ok := e.mfa[serial]
	if !ok || want != code || !strings.HasSuffix(serial, ":mfa/"+p.Name) {
		return sts.ErrMFA
	}
	return nil
}

type fixtureSAML env

func (f *fixtureSAML) SAMLProvider(_ context.Context, arn string) (*sts.SAMLProviderInfo, error) {
	e := (*env)(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.saml[arn]
	if !ok {
		return nil, fmt.Errorf("provider %s: %w", arn, sts.ErrNoSuchProvider)
	}
	return p, nil
}

type fixtureOIDC env

func (f *fixtureOIDC) OIDCProvider(_ context.Context, acct, issuer string) (*sts.OIDCProviderInfo, error) {
	e := (*env)(f)
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.oidc[strings.TrimRight(issuer, "/")]
	if !ok || acct != account {
		return nil, fmt.Errorf("provider %s: %w", issuer, sts.ErrNoSuchProvider)
	}
	return p, nil
}

// AuthorizeFederated is the real authorizer's decision for federated
// callers (internal/authz), without organizations.
func (f *fixtureAuthz) AuthorizeFederated(ctx context.Context, r *authz.Request, provider string) error {
	return authz.AuthorizeFederated(ctx, nil, r, provider)
}

// fixtureAuthz decides with the policy engine: the root user is allowed
// (its identity side always allows), everyone else by the identity
// policies of the user or role behind it, its session policies and, for
// trust resources, the trust policy.
type fixtureAuthz env

func (f *fixtureAuthz) Authorize(_ context.Context, r *authz.Request) error {
	e := (*env)(f)
	p := r.Principal
	req := &policy.Request{Action: r.Action, Resource: "*", Context: policy.NewContext(8)}
	in := &policy.Input{}
	switch p.Type {
	case authz.Root:
		req.Principal = policy.Principal{Type: policy.PrincipalRoot, ARN: p.ARN, Account: p.Account}
		in.Root = true
	case authz.IAMUser:
		req.Principal = policy.Principal{Type: policy.PrincipalUser, ARN: p.ARN, Account: p.Account}
	case authz.AssumedRole:
		req.Principal = policy.Principal{Type: policy.PrincipalAssumedRole, ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}
	case authz.FederatedUser:
		req.Principal = policy.Principal{Type: policy.PrincipalFederated, ARN: p.ARN, Account: p.Account}
	}
	identityOf := p.ARN
	switch p.Type {
	case authz.AssumedRole:
		identityOf = p.RoleARN
	case authz.FederatedUser:
		identityOf = p.Session.IssuerARN
	}
	e.mu.Lock()
	in.Identity = e.identity[identityOf]
	e.mu.Unlock()
	if p.Session != nil {
		in.Session = p.Session.Policies
		for k, v := range p.Session.Tags {
			req.Context.Set("aws:PrincipalTag/"+k, v)
		}
		req.Context.Set("aws:TokenIssueTime", p.Session.IssuedAt.Format(time.RFC3339))
		if p.Session.SourceIdentity != "" {
			req.Context.Set("aws:SourceIdentity", p.Session.SourceIdentity)
		}
	}
	req.Context.Set("aws:PrincipalArn", p.ARN)
	for k, vs := range r.Keys {
		if k == "aws:TagKeys" || k == "sts:TransitiveTagKeys" {
			req.Context.SetMulti(k, vs...)
		} else if len(vs) > 0 {
			req.Context.Set(k, vs[0])
		}
	}
	switch {
	case r.Resource != nil:
		req.Resource = r.Resource.ARN
		req.ResourceAccount = r.Resource.Account
		if r.Resource.Policy != nil {
			kind := policy.KindResource
			if r.Resource.PolicyKind == "trust" {
				kind = policy.KindTrust
			}
			rp, err := policy.Parse(r.Resource.Policy, kind)
			if err != nil {
				return err
			}
			in.Resource = rp
		}
	case len(r.Resources) > 0:
		req.Resource = r.Resources[0]
	}
	d := policy.Evaluate(req, in)
	if !d.Allowed() {
		return &authz.Denied{Message: d.Message(req)}
	}
	return nil
}

// apiError returns the code and message of an AWS error, and the HTTP status.
func apiError(t testing.TB, err error) (code, msg string, status int) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got none")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

func wantError(t testing.TB, err error, code string, status int, msgPart string) {
	t.Helper()
	c, m, s := apiError(t, err)
	if c != code || (status != 0 && s != status) || !strings.Contains(m, msgPart) {
		t.Fatalf("error = %s (%d) %q; want %s (%d) containing %q", c, s, m, code, status, msgPart)
	}
}

func trustUser(userARN string, extra ...string) string {
	actions := append([]string{"sts:AssumeRole"}, extra...)
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":%s}]}`, userARN, jsonList(actions))
}

func jsonList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ",") + "]"
}

const allowSTS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`

func userARN(name string) string { return "arn:aws:iam::" + account + ":user/" + name }
