package secretsmanager_test

// The harness serves Secrets Manager over loopback as internal/app
// assembles rampart (SQLite store, barrier, authn, SigV4, audit), with what
// a test needs to control: the server's clock, a KMS stand-in that really
// encrypts (AES-256-GCM under per-key material, the encryption context as
// additional data) and really fails when a key is disabled or its "policy"
// denies a principal, and the real authorizer (internal/authz) over
// identity policies the test gives each user.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

const (
	account = "000000000000"
	other   = "111111111111"
	region  = "us-east-1"
)

type env struct {
	t       testing.TB
	URL     string
	Store   store.Store
	Barrier *barrier.Barrier
	Svc     *secretsmanager.Service
	Keys    *fakeKeys
	Audit   *audit.Writer

	mu       sync.Mutex
	offset   time.Duration               // the server's clock runs this far ahead of the wall clock
	identity map[string][]*policy.Policy // by principal ARN
	nextKey  int
}

func start(t testing.TB) *env {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with the Service's store wrapped by wrap (nil: none),
// for a test that must act between two store calls of the Service.
func startWith(t testing.TB, wrap func(store.Store) store.Store) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := barrier.OpenKeyFile(filepath.Join(dir, "barrier.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(dir, "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{account, other} {
		key := "test"
		if a == other {
			key = "other"
		}
		if _, err := authn.EnsureAccount(ctx, st, b, authn.Account{ID: a, Name: a}, key, key); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, Store: st, Barrier: b, identity: map[string][]*policy.Policy{}}
	e.Keys = newFakeKeys()
	aw := audit.NewWriter(st, audit.Options{})
	e.Audit = aw
	var svcStore store.Store = st
	if wrap != nil {
		svcStore = wrap(st)
	}
	e.Svc = secretsmanager.New(svcStore, e.Keys, secretsmanager.Options{Now: e.clock, Audit: aw})
	reg := service.NewRegistry()
	e.Svc.Register(reg)
	an := authn.New(st, b)
	srv := server.New(server.Config{Registry: reg, Authn: an, Authz: authz.New(e, nil), Audit: aw, Now: e.clock})
	ts := httptest.NewServer(srv)
	e.URL = ts.URL
	t.Cleanup(func() {
		ts.Close()
		e.Svc.Close() // background rotations end before the store closes
		an.Close()
		aw.Close()
		st.Close()
	})
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().Add(e.offset)
}

// advance moves the server's clock ahead. Clients made afterwards by
// skewed() sign with it; others fail with a clock-skew error.
func (e *env) advance(d time.Duration) time.Time {
	e.mu.Lock()
	e.offset += d
	e.mu.Unlock()
	return e.clock()
}

// PrincipalPolicies implements authz.Identities over the test's fixture.
func (e *env) PrincipalPolicies(_ context.Context, p *authz.Principal) (*authz.PrincipalPolicies, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := p.ARN
	if p.RoleARN != "" {
		arn = p.RoleARN
	}
	return &authz.PrincipalPolicies{Identity: e.identity[arn]}, nil
}

func (e *env) config(akid, secret string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		BaseEndpoint: aws.String(e.URL),
		Retryer:      rampartest.Retryer,
		HTTPClient:   &http.Client{},
	}
}

// root is a client for the root user of the test account.
func (e *env) root() *sm.Client { return sm.NewFromConfig(e.config("test", "test")) }

// skewed is a root client that follows the server's clock after advance:
// the SDK learns the skew from the server's Date header when its first
// request fails with a clock-skew error, and retries once.
func (e *env) skewed() *sm.Client {
	cfg := e.config("test", "test")
	cfg.Retryer = nil // the SDK's own, which retries a clock-skew error
	cfg.RetryMaxAttempts = 2
	return sm.NewFromConfig(cfg)
}

// user creates an IAM user in acct with the given identity policies and
// returns a client signing as it, and its ARN.
func (e *env) user(acct, name string, policies ...string) (*sm.Client, string) {
	e.t.Helper()
	e.mu.Lock()
	e.nextKey++
	akid := fmt.Sprintf("AKIATEST%012d", e.nextKey)
	e.mu.Unlock()
	arn := "arn:aws:iam::" + acct + ":user/" + name
	p := authz.Principal{Type: authz.IAMUser, Account: acct, ARN: arn, ID: "AIDA" + strings.ToUpper(name), Name: name}
	err := e.Store.Update(context.Background(), func(tx store.Tx) error {
		return authn.PutKey(tx, e.Barrier, akid, "secret-"+akid, p, true)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var ps []*policy.Policy
	for _, doc := range policies {
		pol, err := policy.Parse([]byte(doc), policy.KindManaged)
		if err != nil {
			e.t.Fatalf("policy: %v", err)
		}
		ps = append(ps, pol)
	}
	e.mu.Lock()
	e.identity[arn] = ps
	e.mu.Unlock()
	return sm.NewFromConfig(e.config(akid, "secret-"+akid)), arn
}

// apiErr returns the code, message and HTTP status of an SDK error.
func apiErr(t testing.TB, err error) (code, msg string, status int) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got none")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

// wantErr checks an SDK error's code, HTTP status and (when msg is not
// empty) that its message contains msg.
func wantErr(t testing.TB, err error, code string, status int, msg string) {
	t.Helper()
	c, m, s := apiErr(t, err)
	if c != code || s != status || (msg != "" && !strings.Contains(m, msg)) {
		t.Fatalf("got %s (%d) %q, want %s (%d) containing %q", c, s, m, code, status, msg)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// fakeKeys stands in for KMS: keys with real AES-256 material, aliases, an
// AWS managed key created on first use, enable/disable, and a per-key list
// of principals its "key policy" denies.
type fakeKeys struct {
	mu      sync.Mutex
	keys    map[string]*fakeKey // by ARN
	aliases map[string]string   // region + " " + alias name → key ARN
	n       int
	// Calls counts GenerateDataKey and Decrypt calls, and records the
	// encryption contexts and via-services they were given.
	Calls    int
	Contexts []map[string]string
	Vias     []string
}

type fakeKey struct {
	arn     string
	mat     []byte
	enabled bool
	deny    map[string]bool // principal ARN → denied
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]*fakeKey{}, aliases: map[string]string{}}
}

// Create makes a key of the test's region (and alias, when not empty)
// and returns its ARN.
func (f *fakeKeys) Create(alias string) string { return f.CreateIn(region, alias) }

// CreateIn makes a key in reg: like KMS, the fake uses a key only in its
// own region.
func (f *fakeKeys) CreateIn(reg, alias string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.create(reg, alias)
}

func (f *fakeKeys) create(reg, alias string) string {
	f.n++
	id := fmt.Sprintf("1234abcd-12ab-34cd-56ef-%012d", f.n)
	arn := "arn:aws:kms:" + reg + ":" + account + ":key/" + id
	mat := make([]byte, 32)
	rand.Read(mat)
	f.keys[arn] = &fakeKey{arn: arn, mat: mat, enabled: true, deny: map[string]bool{}}
	if alias != "" {
		f.aliases[reg+" "+alias] = arn
	}
	return arn
}

func (f *fakeKeys) SetEnabled(arn string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[arn].enabled = on
}

func (f *fakeKeys) Deny(arn, principal string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[arn].deny[principal] = true
}

// Managed returns the ARN of aws/secretsmanager ("" until first use).
func (f *fakeKeys) Managed() string { return f.ManagedIn(region) }

// ManagedIn returns the ARN of aws/secretsmanager in reg ("" until first use).
func (f *fakeKeys) ManagedIn(reg string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.aliases[reg+" alias/aws/secretsmanager"]
}

// ManagedKeyARN implements secretsmanager.Keys as KMS does: the ARN of
// aws/<svc> in reg, "" until its first use, without using or creating it
// (it counts no call).
func (f *fakeKeys) ManagedKeyARN(_ context.Context, acct, reg, svc string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if acct != account {
		return "", nil // the fake's keys are all of the test account
	}
	return f.aliases[reg+" alias/aws/"+svc], nil
}

// resolve finds keyID among the keys of reg.
func (f *fakeKeys) resolve(reg, keyID string) (*fakeKey, error) {
	if keyID == "" {
		keyID = "alias/aws/secretsmanager"
		if _, ok := f.aliases[reg+" "+keyID]; !ok {
			f.create(reg, keyID)
		}
	}
	inReg := func(arn string) bool { return strings.HasPrefix(arn, "arn:aws:kms:"+reg+":") }
	if k, ok := f.keys[keyID]; ok && inReg(keyID) {
		return k, nil
	}
	name := keyID
	if i := strings.Index(keyID, ":alias/"); i >= 0 {
		name = keyID[i+1:]
	}
	if arn, ok := f.aliases[reg+" "+name]; ok {
		return f.keys[arn], nil
	}
	for arn, k := range f.keys {
		if inReg(arn) && strings.HasSuffix(arn, "/"+keyID) {
			return k, nil
		}
	}
	return nil, kmsapi.NewNotFoundException("Key '%s' does not exist", keyID)
}

func (f *fakeKeys) check(k *fakeKey, c *service.Call, via string) error {
	if want := "secretsmanager." + c.Region + ".amazonaws.com"; via != want {
		return fmt.Errorf("via %q, want %q", via, want)
	}
	if !strings.HasPrefix(k.arn, "arn:aws:kms:"+c.Region+":") {
		return kmsapi.NewNotFoundException("Key '%s' does not exist", k.arn)
	}
	if k.deny[c.Principal.ARN] {
		return &authz.Denied{Message: "User: " + c.Principal.ARN + " is not authorized to perform: kms:Decrypt on resource: " + k.arn}
	}
	if !k.enabled {
		return kmsapi.NewDisabledException("%s is disabled.", k.arn)
	}
	return nil
}

func canonical(ec map[string]string) []byte {
	ks := make([]string, 0, len(ec))
	for k := range ec {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b bytes.Buffer
	for _, k := range ks {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(ec[k]), ec[k])
	}
	return b.Bytes()
}

func (f *fakeKeys) GenerateDataKey(_ context.Context, c *service.Call, keyID string, ec map[string]string, via string) ([]byte, []byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	f.Contexts = append(f.Contexts, ec)
	f.Vias = append(f.Vias, via)
	k, err := f.resolve(c.Region, keyID)
	if err != nil {
		return nil, nil, "", err
	}
	if err := f.check(k, c, via); err != nil {
		return nil, nil, "", err
	}
	dk := make([]byte, 32)
	if _, err := io.ReadFull(c.Rand, dk); err != nil {
		return nil, nil, "", err
	}
	block, _ := aes.NewCipher(k.mat)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	hdr, _ := json.Marshal(k.arn)
	ct := append(append([]byte{byte(len(hdr))}, hdr...), nonce...)
	ct = aead.Seal(ct, nonce, dk, canonical(ec))
	return dk, ct, k.arn, nil
}

func (f *fakeKeys) Decrypt(_ context.Context, c *service.Call, ct []byte, ec map[string]string, via string) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	f.Contexts = append(f.Contexts, ec)
	f.Vias = append(f.Vias, via)
	if len(ct) < 1 || len(ct) < 1+int(ct[0]) {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	var arn string
	if json.Unmarshal(ct[1:1+int(ct[0])], &arn) != nil {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	k, ok := f.keys[arn]
	if !ok {
		return nil, "", kmsapi.NewNotFoundException("Key '%s' does not exist", arn)
	}
	if err := f.check(k, c, via); err != nil {
		return nil, "", err
	}
	block, _ := aes.NewCipher(k.mat)
	aead, _ := cipher.NewGCM(block)
	rest := ct[1+int(ct[0]):]
	if len(rest) < aead.NonceSize() {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], canonical(ec))
	if err != nil {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	return pt, k.arn, nil
}
