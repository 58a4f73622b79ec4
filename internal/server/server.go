// Package server is rampart's HTTP front door: one endpoint for every
// service. It routes a request to its service (credential scope, X-Amz-Target,
// Action=, or the REST path) and operation, authenticates it (Signature V4),
// decodes it with the service's wire protocol, authorizes it, runs the
// handler, encodes the answer, and records the call in the audit trail:
// durably before the answer is sent, unless Config.AuditAsyncReads lets
// the answers of calls that changed nothing go first (see exchange.finish).
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart/rampart/internal/api"
	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/sigv4"
	"github.com/rampart/rampart/internal/store"
)

// DefaultMaxBodyBytes is the largest request body rampart reads: AWS's
// largest inputs in these APIs (a 64 KiB secret, a 10,240-character role
// policy, a SAML assertion) fit with room to spare. Larger bodies get 413
// RequestEntityTooLarge in the protocol's shape.
const DefaultMaxBodyBytes = 1 << 20

// Config is what a Server needs.
type Config struct {
	Registry     *service.Registry
	Authn        *authn.Authenticator
	Authz        authz.Checker // nil: authz.RootOnly
	Audit        *audit.Writer
	Logger       *slog.Logger
	MaxBodyBytes int64            // 0: DefaultMaxBodyBytes
	Now          func() time.Time // nil: time.Now
	Rand         io.Reader        // nil: crypto/rand
	// KeyUsed, when set, hears of every request signed with a long-term
	// access key (IAM's GetAccessKeyLastUsed). It must not block.
	KeyUsed func(accessKeyID, service, region string, at time.Time)
	// AccountOpen, when set, refuses the requests of accounts whose
	// credentials no longer work (closed through Organizations'
	// CloseAccount): it returns an *authz.Denied for them.
	AccountOpen func(ctx context.Context, account string) error
	// AuditAsyncReads trades durability of part of the audit trail for
	// latency. By default (false) the record of every call — read or
	// write, allowed, denied or unauthenticated — is durable before its
	// answer is sent (audit.Writer.Record). When true, the record of a
	// call whose handler changed nothing (a read, a refusal, an
	// authentication failure) is queued (audit.Writer.Enqueue) and the
	// answer goes out before the record's commit, which follows within
	// about a millisecond: a crash may lose the records of the calls
	// answered in that last millisecond, never the record of a change. A
	// failed commit of queued records then leaves a gap, and from then on
	// every call is refused before its handler runs and the health
	// endpoint answers 503, until rampart restarts.
	AuditAsyncReads bool
}

// Server serves the AWS APIs over HTTP. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	verifier *sigv4.Verifier
	metrics  *metrics
	router   *router
}

// AuditAsyncReads reports whether the server answers calls that changed
// nothing before their audit records are durable (Config.AuditAsyncReads).
func (s *Server) AuditAsyncReads() bool { return s.cfg.AuditAsyncReads }

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Authz == nil {
		cfg.Authz = authz.RootOnly{}
	}
	return &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		verifier: sigv4.NewVerifier(),
		metrics:  newMetrics(),
		router:   newRouter(api.Services()),
	}
}

// Paths of rampart's own endpoints; no AWS API uses a path under /_rampart/.
const (
	PathHealth  = "/_rampart/health"
	PathMetrics = "/_rampart/metrics"
)

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathHealth:
		w.Header().Set("Content-Type", "application/json")
		if s.cfg.Audit != nil && s.cfg.Audit.Err() != nil {
			// The trail has a gap (a failed commit of queued records, or
			// of a change's record) and calls are refused (see serve):
			// say so, so that an orchestrator restarts the node.
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"failing","reason":"the audit trail cannot be written"}`+"\n")
			return
		}
		io.WriteString(w, `{"status":"ok"}`+"\n")
		return
	case PathMetrics:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.metrics.write(w)
		if s.cfg.Audit != nil {
			events, commits := s.cfg.Audit.Stats()
			fmt.Fprintf(w, "# HELP rampart_audit_events_total Audit events stored.\n# TYPE rampart_audit_events_total counter\nrampart_audit_events_total %d\n", events)
			fmt.Fprintf(w, "# HELP rampart_audit_commits_total Durable commits of the audit trail (group commit: several events each).\n# TYPE rampart_audit_commits_total counter\nrampart_audit_commits_total %d\n", commits)
		}
		return
	}
	start := time.Now()
	if s.cfg.Audit != nil {
		s.cfg.Audit.Expect()
	}
	x := exchangePool.Get().(*exchange)
	x.s, x.r, x.start, x.now, x.requestID = s, r, start, s.cfg.Now().UTC(), newRequestID(s.cfg.Rand)
	x.serveGuarded()
	x.finish(w)
	s.metrics.observe(x.serviceName(), x.operationName(), x.outcome(), time.Since(start))
	x.release()
}

// Exchanges are reused: each carries its response buffer and audit event,
// which would otherwise be allocated (and the buffer grown) per request.
var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

// release clears x (nothing of the request stays reachable from the pool)
// and returns it to the pool. The answer has been written by then: the
// ResponseWriter copied the buffer.
func (x *exchange) release() {
	buf, hdr := x.resp.buf, x.resp.header
	buf.Reset()
	clear(hdr) // net/http copied it at WriteHeader
	*x = exchange{}
	if buf.Cap() <= 64<<10 {
		x.resp.buf = buf
	}
	x.resp.header = hdr
	exchangePool.Put(x)
}

// exchange is one request on its way through the server.
type exchange struct {
	s         *Server
	r         *http.Request
	start     time.Time
	now       time.Time
	requestID string

	body    []byte
	req     awsproto.Request // the codec's view of the request, in x to save its allocation
	svc     *awsproto.Service
	proto   awsproto.Protocol
	op      *awsproto.Operation
	auth    *sigv4.Auth
	call    *service.Call
	in, out any
	err     *awsproto.Error
	resp    bufferedResponse
	denied  bool
	wrote   atomic.Bool // the handler ran a store Update (see finish)
	ev      audit.Event // the record of the call; see event
}

func (x *exchange) serviceName() string {
	if x.svc == nil {
		return "unknown"
	}
	return x.svc.Name
}

func (x *exchange) operationName() string {
	if x.op == nil {
		return "unknown"
	}
	return x.op.Name
}

func (x *exchange) outcome() string {
	switch {
	case x.err == nil:
		return "ok"
	case x.err.Status >= 500:
		return "server_error"
	case x.denied:
		return "denied"
	}
	return "client_error"
}

func (x *exchange) serve() {
	r := x.r
	// Identify the service before reading the body: errors must come back
	// in its protocol's shape. The signature, when present, names it.
	auth, authErr := sigv4.Parse(r)
	x.auth = auth
	body, tooLarge, readErr := readBody(r, x.s.cfg.MaxBodyBytes)
	x.body = body
	x.svc = x.s.router.service(r, auth, body)
	if x.svc == nil {
		x.svc = x.s.router.fallback(r)
	}
	x.proto = protocolFor(x.svc.Protocol)
	if tooLarge {
		x.fail(&awsproto.Error{Code: awsproto.CodeRequestEntityTooLarge, Status: http.StatusRequestEntityTooLarge, Sender: true,
			Message: fmt.Sprintf("Request body must not exceed %d bytes", x.s.cfg.MaxBodyBytes)})
		return
	}
	if readErr != nil {
		x.fail(&awsproto.Error{Code: x.proto.CommonCode(awsproto.CodeSerialization), Status: 400, Sender: true, Message: "Could not read the request body"})
		return
	}
	if !x.s.router.known(x.svc) {
		x.fail(unknownService())
		return
	}
	x.req = awsproto.Request{HTTP: r, Body: body}
	req := &x.req
	op, err := x.proto.Operation(x.svc, req)
	if err != nil {
		// Unauthenticated and unroutable: AWS reports the missing signature first.
		if authErr != nil && !isNoAuthService(x.svc) {
			x.failAuth(authErr)
			return
		}
		x.fail(awsproto.AsError(err))
		return
	}
	x.op = op
	x.call = &service.Call{
		RequestID: x.requestID,
		Operation: op,
		SourceIP:  sourceIP(r),
		UserAgent: r.UserAgent(),
		Secure:    r.TLS != nil,
		Now:       x.now,
		Rand:      x.s.cfg.Rand,
		Authz:     x.s.cfg.Authz,
	}
	if !x.authenticate(authErr) {
		return
	}
	if a := x.s.cfg.Audit; a != nil && a.Err() != nil {
		// The trail has a gap: a commit failed that carried the record of
		// a change (its transaction had committed) or queued records
		// (Config.AuditAsyncReads: their callers had their answers). No
		// handler runs until rampart restarts, so that nothing more
		// happens without its record (the record of this refusal fails
		// too, and the answer is InternalFailure). A failed commit of
		// records of reads that were waited on leaves no gap: those calls
		// are answered InternalFailure and nothing happened.
		x.fail(awsproto.Internal(a.Err()))
		return
	}
	h := x.s.cfg.Registry.Lookup(op)
	if h == nil {
		x.fail(&awsproto.Error{Code: awsproto.CodeNotImplemented, Status: http.StatusNotImplemented, Sender: false,
			Message: fmt.Sprintf("rampart does not serve %s %s yet", x.svc.ID, op.Name)})
		return
	}
	in := h.NewInput()
	x.in = in
	if op.Input != nil {
		if err := x.proto.Decode(op, req, in); err != nil {
			x.fail(x.svc.DecodeError(err)) // the service's own validation error, if it has one
			return
		}
	}
	if err := h.Authorize(r.Context(), x.call, in); err != nil {
		var d *authz.Denied
		if errors.As(err, &d) {
			x.denied = true
			x.fail(&awsproto.Error{Code: x.proto.CommonCode(awsproto.CodeAccessDenied), Status: accessDeniedStatus(x.svc), Sender: true, Message: d.Message})
			return
		}
		x.fail(awsproto.AsError(err))
		return
	}
	ctx := store.WithWriteNote(service.WithCall(r.Context(), x.call), &x.wrote)
	out, err := h.Do(ctx, in)
	if err != nil {
		x.fail(awsproto.AsError(err))
		return
	}
	x.out = out
	var encodeOut any
	if op.Output != nil {
		encodeOut = out
	}
	if err := x.proto.Encode(&x.resp, op, encodeOut, x.requestID); err != nil {
		x.resp.reset()
		x.fail(awsproto.Internal(fmt.Errorf("encode %s: %w", op.Name, err)))
	}
}

// serveGuarded runs serve. A panic anywhere in it — routing, the codec,
// authentication, the rule's Resource and Context steps, the handler —
// becomes InternalFailure, logged as panicSummary describes it (never its
// value); the call is still answered and recorded by finish.
func (x *exchange) serveGuarded() {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		x.s.log.Error("panic", "service", x.serviceName(), "operation", x.operationName(), "requestId", x.requestID, "panic", panicSummary(p), "at", panicSite())
		if x.proto == nil { // before routing was done
			x.svc = x.s.router.fallback(x.r)
			x.proto = protocolFor(x.svc.Protocol)
		}
		x.fail(awsproto.Internal(fmt.Errorf("panic in %s.%s", x.serviceName(), x.operationName())))
	}()
	x.serve()
}

// authenticate resolves the caller; false means the request has failed.
func (x *exchange) authenticate(authErr error) bool {
	if x.op.NoAuth && x.auth == nil {
		return true // anonymous, as AWS allows for this operation
	}
	if authErr != nil {
		x.failAuth(authErr)
		return false
	}
	if x.auth.SecurityToken != "" {
		// Temporary credentials: the token is the sealed session
		// (internal/authn/session.go), opened with the ASIA… key id it was
		// issued with; the signature must be made with the session's secret.
		// Long-term keys carry no token: one sent with them does not open.
		cred, err := x.s.cfg.Authn.Session(x.auth.AccessKeyID, x.auth.SecurityToken, x.now)
		if errors.Is(err, authn.ErrExpiredToken) {
			x.fail(&awsproto.Error{Code: x.proto.CommonCode(awsproto.CodeExpiredToken), Status: 400, Sender: true,
				Message: "The security token included in the request is expired"})
			return false
		}
		if errors.Is(err, authn.ErrInvalidToken) {
			x.failAuth(sigv4.ErrInvalidClientTokenID())
			return false
		}
		if err != nil {
			x.fail(awsproto.Internal(err))
			return false
		}
		if !x.verify(cred.Secret) {
			return false
		}
		x.call.Principal = &cred.Principal
		x.call.Region = x.auth.Region
		return x.accountOpen()
	}
	cred, err := x.s.cfg.Authn.Lookup(x.r.Context(), x.auth.AccessKeyID)
	if errors.Is(err, authn.ErrUnknownKey) || (err == nil && !cred.Active) {
		x.failAuth(sigv4.ErrInvalidClientTokenID())
		return false
	}
	if err != nil {
		x.fail(awsproto.Internal(err))
		return false
	}
	if !x.verify(cred.Secret) {
		return false
	}
	p := cred.Principal
	p.AccessKeyID = x.auth.AccessKeyID
	x.call.Principal = &p
	x.call.Region = x.auth.Region
	if !x.accountOpen() {
		return false
	}
	if x.s.cfg.KeyUsed != nil {
		x.s.cfg.KeyUsed(x.auth.AccessKeyID, x.svc.EndpointPrefix, x.auth.Region, x.now)
	}
	return true
}

// verify checks that the credential scope names the service the request
// was routed to (a signing key derived for one service must not sign calls
// to another, whatever X-Amz-Target says), then the request's signature
// against secret, with the hash of the body read; false means the request
// has failed. Any region is served: the scope's region is not checked.
func (x *exchange) verify(secret string) bool {
	if err := x.auth.CheckScope("", x.svc.SigningName); err != nil {
		x.failAuth(err)
		return false
	}
	sum := sha256.Sum256(x.body)
	if err := x.s.verifier.Verify(x.r, x.auth, secret, hex.EncodeToString(sum[:]), x.now); err != nil {
		x.failAuth(err)
		return false
	}
	return true
}

// accountOpen refuses the credentials of a closed account, as AWS does once
// an account is suspended: even the operations that need no permission
// (sts:GetCallerIdentity) are denied. False means the request has failed.
func (x *exchange) accountOpen() bool {
	if x.s.cfg.AccountOpen == nil {
		return true
	}
	err := x.s.cfg.AccountOpen(x.r.Context(), x.call.Principal.Account)
	if err == nil {
		return true
	}
	var d *authz.Denied
	if errors.As(err, &d) {
		x.denied = true
		x.fail(&awsproto.Error{Code: x.proto.CommonCode(awsproto.CodeAccessDenied), Status: accessDeniedStatus(x.svc), Sender: true, Message: d.Message})
		return false
	}
	x.fail(awsproto.Internal(err))
	return false
}

func (x *exchange) failAuth(err error) {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		x.fail(awsproto.Internal(err))
		return
	}
	if x.svc.Protocol == "query" || x.svc.Protocol == "ec2" {
		x.fail(&awsproto.Error{Code: se.Kind.Code(), Message: se.Message, Status: se.Kind.Status(), Sender: true})
		return
	}
	x.fail(&awsproto.Error{Code: se.Kind.JSONCode(), Message: se.Message, Status: jsonAuthStatus(se.Kind), Sender: true})
}

// jsonAuthStatus: the json services answer every authentication failure
// with 400 (DynamoDB's recorded answers; KMS and Secrets Manager alike).
func jsonAuthStatus(sigv4.Kind) int { return 400 }

// accessDeniedStatus: query services answer AccessDenied with 403; the json
// services (KMS, Secrets Manager, Organizations) with 400.
func accessDeniedStatus(svc *awsproto.Service) int {
	if svc.Protocol == "json" {
		return 400
	}
	return 403
}

func (x *exchange) fail(err *awsproto.Error) {
	x.err = err
	if err.Status >= 500 {
		x.s.log.Error("request failed", "service", x.serviceName(), "operation", x.operationName(), "requestId", x.requestID, "code", err.Code, "cause", err.Cause())
	}
	x.resp.reset()
	x.proto.EncodeError(&x.resp, x.svc, err, x.requestID)
}

// finish records the call and sends the answer. The audit record is
// durable before the first byte of the answer leaves (audit.Writer.Record;
// group commit shares each fsync among the calls in flight). Only with
// Config.AuditAsyncReads, the record of a call that changed nothing (its
// handler ran no store Update: a read, a refusal, an authentication
// failure) is queued and durable within a millisecond or so
// (audit.Writer.Enqueue), as a read-only transaction in PostgreSQL does not
// wait for the WAL flush; the record of a change is always waited for.
func (x *exchange) finish(w http.ResponseWriter) {
	if x.s.cfg.Audit != nil {
		var err error
		switch {
		case x.wrote.Load():
			// The call took effect: a record that cannot be stored leaves
			// the trail with a gap, and the Writer then refuses every
			// later record (see serve: no handler runs until restart).
			err = x.s.cfg.Audit.RecordChange(x.r.Context(), x.event())
		case x.s.cfg.AuditAsyncReads:
			err = x.s.cfg.Audit.Enqueue(x.event())
		default:
			err = x.s.cfg.Audit.Record(x.r.Context(), x.event())
		}
		if err != nil {
			// Without its record, the call must not appear to have happened
			// to the caller: answer 500. (A change's transaction has
			// committed; the record of it is what failed.)
			x.s.log.Error("audit record failed", "requestId", x.requestID, "err", err)
			x.err = awsproto.Internal(err)
			x.resp.reset()
			x.proto.EncodeError(&x.resp, x.svc, x.err, x.requestID)
		}
	}
	h := w.Header()
	for k, v := range x.resp.header {
		switch k {
		case "X-Amzn-Requestid", "Date", "Content-Length": // set below
		default:
			h[k] = v
		}
	}
	// Canonical keys, set directly: Header.Set would canonicalize each
	// ("x-amzn-RequestId" is sent as X-Amzn-Requestid either way). The
	// three values share one allocation; each slice's capacity is its
	// length, so an append to one cannot overwrite the next.
	vals := &[3]string{x.requestID, httpDate(x.now), strconv.Itoa(x.resp.buf.Len())}
	h["X-Amzn-Requestid"] = vals[0:1:1]
	h["Date"] = vals[1:2:2]
	h["Content-Length"] = vals[2:3:3]
	status := x.resp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(x.resp.buf.Bytes())
}

// lastDate caches the Date header of the current second: every answer
// carries one, and formatting it costs two allocations.
var lastDate atomic.Pointer[dateString]

type dateString struct {
	unix int64
	s    string
}

// httpDate is t (in UTC) formatted as http.TimeFormat.
func httpDate(t time.Time) string {
	sec := t.Unix()
	if d := lastDate.Load(); d != nil && d.unix == sec {
		return d.s
	}
	d := &dateString{unix: sec, s: t.UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.s
}

func unknownService() *awsproto.Error {
	return &awsproto.Error{Code: "UnknownService", Status: 400, Sender: true,
		Message: "rampart could not tell which AWS service this request is for: sign it with Signature V4 (the credential scope names the service) or name the operation with X-Amz-Target or Action="}
}

func isNoAuthService(svc *awsproto.Service) bool {
	for _, op := range svc.Operations {
		if op.NoAuth {
			return true
		}
	}
	return false
}

// readBody reads at most max bytes; tooLarge reports a longer body.
func readBody(r *http.Request, max int64) (body []byte, tooLarge bool, err error) {
	if r.Body == nil {
		return nil, false, nil
	}
	if r.ContentLength > max {
		return nil, true, nil
	}
	if r.ContentLength >= 0 {
		// The usual case: the length is known (net/http's body reader
		// stops there), so read into a slice of exactly that size rather
		// than let a bytes.Buffer grow past it.
		body = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, false, err
		}
		return body, false, nil
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, false, err
	}
	if n > max {
		return nil, true, nil
	}
	return buf.Bytes(), false, nil
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newRequestID returns a random UUID, as AWS request ids are.
func newRequestID(rnd io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		panic("server: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// bufferedResponse holds the answer until the audit record is written.
type bufferedResponse struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) reset() {
	clear(b.header)
	b.status = 0
	b.buf.Reset()
}

// panicSummary describes a handler's panic value for the log without
// repeating it: a value built by code (panic(fmt.Sprintf(…)), an error
// that quotes its input) may hold a secret, a plaintext or a password from
// the request. A runtime error is the runtime's own words (an index out of
// range, a nil dereference), which hold no request data; anything else is
// named by its type only.
func panicSummary(p any) string {
	if re, ok := p.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("a value of type %T (not logged: it may hold request data)", p)
}

// panicSite is the function, file and line that panicked, called from
// the deferred function that recovered.
func panicSite() string {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:]) // runtime.Callers, panicSite, the deferred function
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}
