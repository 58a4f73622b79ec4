package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

type obj = map[string]any

// harness drives one in-process rampart over real HTTP.
type harness struct {
	t      testing.TB
	srv    *rampartest.Server
	http   *http.Client
	svcs   map[string]*awsproto.Service
	nextID atomic.Int64
	writes changes
	// run is the root user of the account that the invalid variants are
	// sent as: made for the run, like the account of each valid variant.
	runAcct account
	// roots are the root users of the accounts the harness made, by
	// account id (the rotation function signs as the secret's account).
	roots sync.Map
	// oidc is the OpenID Connect issuer of the web-identity fixtures.
	oidc       *oidcIssuer
	issuerOnce sync.Once
}

func newHarness(t testing.TB, srv *rampartest.Server, svcs []*awsproto.Service) *harness {
	h := &harness{t: t, srv: srv, http: &http.Client{}, svcs: map[string]*awsproto.Service{}}
	for _, s := range svcs {
		h.svcs[s.Name] = s
	}
	t.Cleanup(srv.Store.Subscribe(h.writes.record))
	h.runAcct = h.freshAccount()
	return h
}

// account is a caller: the root user of an account, or an IAM user or a
// role session of it (SessionToken set), in a Region ("" is us-east-1).
type account struct {
	ID, AccessKey, SecretKey string
	SessionToken             string
	Region                   string
}

func (a account) region() string {
	if a.Region == "" {
		return "us-east-1"
	}
	return a.Region
}

// freshAccount creates a new account (its root key only) through authn, as
// rampart's own account creation does (rampart dev makes its account so):
// every valid variant runs as the root user of an account of its own, so
// that no variant sees another's state (an organization, an account alias,
// root access keys), and the invalid variants as the root user of the
// run's account.
func (h *harness) freshAccount() account {
	n := h.nextID.Add(1)
	a := account{
		ID:        fmt.Sprintf("2%011d", n),
		AccessKey: fmt.Sprintf("AKIACONF%012d", n),
		SecretKey: fmt.Sprintf("conformance-secret-%d", n),
	}
	if _, err := authn.EnsureAccount(context.Background(), h.srv.Store, h.srv.Barrier, authn.Account{ID: a.ID, Name: "conformance-" + a.ID}, a.AccessKey, a.SecretKey); err != nil {
		h.t.Fatalf("account: %v", err)
	}
	h.roots.Store(a.ID, a)
	return a
}

func (h *harness) salt() string { return strconv.FormatInt(h.nextID.Add(1), 36) }

// exchange is one request and its response as sent and read.
type exchange struct {
	status int
	header http.Header
	body   []byte
	resp   *Response
}

// send signs and sends a call of op with in as acct; an
// operation that needs no authentication (AssumeRoleWithWebIdentity,
// AssumeRoleWithSAML) goes unsigned, as the SDKs send it.
func (h *harness) send(acct account, op *awsproto.Operation, in map[string]any) (*exchange, error) {
	return h.sendSigned(acct, op, in, !op.NoAuth)
}

// sendSigned sends a call of op with in, signed as acct when sign is set.
func (h *harness) sendSigned(acct account, op *awsproto.Operation, in map[string]any, sign bool) (*exchange, error) {
	ctx := context.Background()
	req, body, err := NewRequest(ctx, h.srv.URL, op, in)
	if err != nil {
		return nil, err
	}
	if sign {
		if err := Sign(ctx, req, body, op, acct.region(), acct.AccessKey, acct.SecretKey, acct.SessionToken); err != nil {
			return nil, err
		}
	}
	res, err := h.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &exchange{status: res.StatusCode, header: res.Header, body: rb, resp: ReadResponse(op, res.StatusCode, res.Header, rb)}, nil
}

// call runs svc.opName for a fixture and returns its output; anything but
// a success is an error.
func (h *harness) call(acct account, svc, opName string, in obj) (obj, error) {
	s := h.svcs[svc]
	if s == nil || s.Operation(opName) == nil {
		return nil, fmt.Errorf("fixture: no operation %s.%s", svc, opName)
	}
	x, err := h.send(acct, s.Operation(opName), in)
	if err != nil {
		return nil, err
	}
	if x.status >= 300 {
		return nil, fmt.Errorf("fixture %s.%s: %d %s: %s", svc, opName, x.status, x.resp.Code, x.resp.Message)
	}
	return x.resp.Output, nil
}

func (h *harness) sdkConfig(acct account) aws.Config {
	cfg := h.srv.ConfigFor(acct.AccessKey, acct.SecretKey, acct.SessionToken)
	cfg.Region = acct.region()
	return cfg
}

// changes records the rows that committed store updates write while it is
// armed: the store tells its subscribers of every committed Update, with
// the (table, key) pairs written or deleted, before that Update returns, so
// what a refused request changed is exactly what arrives between arm and
// disarm (the harness sends one request at a time). The audit trail is not
// part of it (every call, refused ones too, is recorded there by design).
//
// An earlier version hashed every row of the store before and after each
// refused request; as the accounts of earlier variants accumulate, that
// grew with the square of the number of variants and was half of a run's
// CPU time.
type changes struct {
	mu    sync.Mutex
	armed bool
	rows  map[string]bool
}

func (c *changes) record(cs []store.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed {
		return
	}
	for _, ch := range cs {
		if asyncTables[ch.Table] {
			continue
		}
		c.rows[ch.Table+" "+ch.Key] = true
	}
}

// arm starts recording.
func (c *changes) arm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed, c.rows = true, map[string]bool{}
}

// disarm stops recording and returns the rows written since arm, sorted.
func (c *changes) disarm() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
	out := make([]string, 0, len(c.rows))
	for r := range c.rows {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// asyncTables are written in the background, after the requests that
// cause them: KMS flushes key last-usage records (GetKeyLastUsage) and IAM
// access-key last use on their own schedules, so a write may land while a
// refused request is in flight.
var asyncTables = map[string]bool{"kms.usage": true, "iam.keyuse": true}

// commonCodes are the errors any AWS operation may answer whatever its
// model declares (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
// and the json protocols' spellings).
var commonCodes = map[string]bool{
	"ValidationError": true, "ValidationException": true, "SerializationException": true,
	"InvalidParameterValue": true, "InvalidParameterCombination": true, "InvalidQueryParameter": true,
	"MissingParameter": true, "MalformedQueryString": true, "InvalidInputException": true,
	"AccessDenied": true, "AccessDeniedException": true, "NotAuthorized": true, "OptInRequired": true,
	"Throttling": true, "ThrottlingException": true,
}

// declared reports whether code is an error of op's model, or common.
func declared(op *awsproto.Operation, code string) bool {
	if commonCodes[code] {
		return true
	}
	for _, e := range op.Errors {
		if e.Error != nil && e.Error.Code == code || e.Name == code {
			return true
		}
	}
	return false
}

// validationCode is the code a protocol's services use for a constraint
// violation.
func validationCode(op *awsproto.Operation) string {
	if op.Service.Protocol == "query" {
		return "ValidationError"
	}
	return "ValidationException"
}

// validationMessage is AWS's wording of a validation failure: "1
// validation error detected: Value 'x' at 'userName' failed to satisfy
// constraint: Member must have length less than or equal to 64".
func validationMessage(clauses ...string) string {
	n := len(clauses)
	word := "errors"
	if n == 1 {
		word = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", n, word, strings.Join(clauses, "; "))
}
