package secretsmanager

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// rotation is a secret's rotation configuration and state.
//
// Scheduled rotation runs in the pending rotation window, from WindowStart
// until WindowEnd (schedule.go). Next, DescribeSecret's NextRotationDate,
// is the last second of that window: "The next rotation is scheduled to
// occur on or before this date ... This date represents the latest date that
// rotation will occur". A rotation that fails is retried in its window,
// after a backoff ("If any rotation step fails, Secrets Manager retries the
// entire rotation process multiple times during the open rotation windows on
// the secret"); once the window closes without a rotation, the next window
// of the schedule is the pending one, while Next stays where it was until a
// rotation succeeds ("If rotation is unsuccessful, this date may be in the
// past").
type rotation struct {
	Enabled     bool      `json:"enabled"`
	LambdaARN   string    `json:"lambdaArn,omitempty"`
	AfterDays   int64     `json:"afterDays,omitempty"`
	Schedule    string    `json:"schedule,omitempty"` // rate(…) or cron(…)
	Duration    string    `json:"duration,omitempty"` // "3h": the rotation window
	LastRotated time.Time `json:"lastRotated,omitzero"`
	Next        time.Time `json:"next,omitzero"`
	LastError   string    `json:"lastError,omitempty"` // why the last rotation failed
	// The pending rotation window; zero in configurations stored before
	// windows, which are due from Next on.
	WindowStart time.Time `json:"windowStart,omitzero"`
	WindowEnd   time.Time `json:"windowEnd,omitzero"`
	// Failures counts the failed attempts in the pending window; the next
	// attempt waits until RetryAt.
	Failures int       `json:"failures,omitempty"`
	RetryAt  time.Time `json:"retryAt,omitzero"`
	// RunAs is the identity built-in rotators act as on schedule: the
	// principal that last configured rotation (see runner.go).
	RunAs *authz.Principal `json:"runAs,omitempty"`
	// Running is the rotation running now (nil: none). It is never
	// changed in place: a claim is replaced or removed.
	Running *rotationClaim `json:"running,omitempty"`
}

// rotationClaim is a secret's claim by the rotation running on it, on
// whichever node sharing the store runs it. It is stored on the secret in
// the transaction that decides to start the rotation (RotateSecret's,
// claimDue's, testRotation's, each a compare-and-set on the secret: a
// claim in force there refuses the start), and removed in the
// transaction that records the rotation's outcome. So a RotateSecret on
// one node, while a scheduled rotation runs on another, answers AWS's
// InvalidRequestException (errPendingMsg), and a scheduled run skips a
// secret being rotated anywhere.
//
// A node that dies, or loses the store, while it rotates leaves its claim
// behind. Such a claim must not block the secret for ever: a claim older
// than claimAbandonedAfter is taken for abandoned (running), and the next
// rotation replaces it. A rotation that outlives its claim nevertheless
// finds out when it ends (holds) and leaves the secret's rotation state to
// the rotation that took it over.
type rotationClaim struct {
	ID      string    `json:"id"`             // random: tells claims apart
	Token   string    `json:"token"`          // the rotation's ClientRequestToken
	Started time.Time `json:"started"`        // by the claiming node's clock
	Node    string    `json:"node,omitempty"` // the store's id of the claiming node, when it has one
}

// rotationStepTimeout bounds each step of a rotation function: the
// rotation fails when a step takes longer (the HTTP function's client
// gives up as soon). AWS's bound is the Lambda function's timeout, at most
// 15 minutes; rampart's functions are rampart's, and 5 minutes is ample
// for the four steps of AWS's templates.
const rotationStepTimeout = 5 * time.Minute

// claimAbandonedAfter is the age of a rotation claim beyond which it is
// taken for abandoned by a node that died: a living node's rotation
// releases its claim within the four steps, each bounded by
// rotationStepTimeout, and the transactions around them (bounded by 10
// seconds each); the margin covers those and the clocks of the nodes,
// which differ.
const claimAbandonedAfter = 4*rotationStepTimeout + 5*time.Minute

// running returns r's rotation claim in force at now: nil when there is
// none, or when it is older than claimAbandonedAfter (abandoned).
func (r *rotation) running(now time.Time) *rotationClaim {
	if r == nil || r.Running == nil || now.Sub(r.Running.Started) >= claimAbandonedAfter {
		return nil
	}
	return r.Running
}

// holds reports whether r still holds the claim cl.
func (r *rotation) holds(cl *rotationClaim) bool {
	return r != nil && r.Running != nil && cl != nil && r.Running.ID == cl.ID
}

// newClaim returns a claim for a rotation with token, started now by the
// service's clock (the one running judges claims by) on this node.
func (s *Service) newClaim(token string) (*rotationClaim, error) {
	id, err := newUUID(rand.Reader)
	if err != nil {
		return nil, err
	}
	cl := &rotationClaim{ID: id, Token: token, Started: s.opts.Now()}
	if n, ok := s.store.(interface{ NodeID() string }); ok {
		cl.Node = n.NodeID()
	}
	return cl, nil
}

// releaseClaim removes the claim cl from the secret sc, when sc still
// holds it: for a rotation that was claimed but could not start (Close).
// A failure leaves the claim to be taken for abandoned.
func (s *Service) releaseClaim(sc *secret, cl *rotationClaim) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := load(tx, sc.key())
		if err != nil || cur == nil || cur.ARN != sc.ARN || !cur.Rotation.holds(cl) {
			return err
		}
		cur.Rotation.Running = nil
		return save(tx, cur)
	})
}

func (r *rotation) rules() *smapi.RotationRulesType {
	if r.AfterDays == 0 && r.Schedule == "" {
		return nil
	}
	out := &smapi.RotationRulesType{}
	if r.AfterDays > 0 {
		out.AutomaticallyAfterDays = ptr(r.AfterDays)
	}
	if r.Schedule != "" {
		out.ScheduleExpression = ptr(r.Schedule)
	}
	if r.Duration != "" {
		out.Duration = ptr(r.Duration)
	}
	return out
}

// schedule returns r's schedule, or nil when it has none.
func (r *rotation) schedule() *schedule {
	switch {
	case r.AfterDays > 0:
		return &schedule{days: int(r.AfterDays)}
	case r.Schedule != "":
		if sch, err := parseSchedule(r.Schedule); err == nil {
			return sch
		}
	}
	return nil
}

// window returns r's first rotation window that opens after t.
func (r *rotation) window(t time.Time) (start, end time.Time) {
	sch := r.schedule()
	if sch == nil {
		return time.Time{}, time.Time{}
	}
	dur, _ := parseDuration(r.Duration)
	return sch.window(t, dur)
}

// scheduleAfter makes r's first window after t the pending one, with no
// failures, and NextRotationDate its last second.
func (r *rotation) scheduleAfter(t time.Time) {
	r.WindowStart, r.WindowEnd = r.window(t)
	r.Next = time.Time{}
	if !r.WindowEnd.IsZero() {
		r.Next = r.WindowEnd.Add(-time.Second)
	}
	r.Failures, r.RetryAt = 0, time.Time{}
}

// advance brings r's pending window up to now and reports whether it
// changed r (which the caller then saves, so that a window is moved once,
// not at every look). A window that closed is replaced by the schedule's
// first later window that has not (schedule.windowAt: computed, not
// walked), with no failures counted in it. A configuration stored before
// rotation windows (WindowStart zero, due from Next on; or, as failed
// once left it, a WindowEnd zero) is converted on first use: its pending
// window becomes the one Next falls in (schedule.windowOf), and Next, as
// for any window, that window's last second. A schedule that never fires
// again keeps the window it has.
func (r *rotation) advance(now time.Time) bool {
	if r == nil || !r.Enabled {
		return false
	}
	if !r.WindowStart.IsZero() && now.Before(r.WindowEnd) {
		return false // the usual case: nothing to parse
	}
	sch := r.schedule()
	if sch == nil {
		return false
	}
	dur, _ := parseDuration(r.Duration)
	changed := false
	if r.WindowStart.IsZero() || r.WindowEnd.IsZero() {
		due := r.Next
		if due.IsZero() {
			due = r.WindowStart
		}
		if due.IsZero() {
			return false
		}
		start, end := sch.windowOf(due, dur)
		if start.IsZero() {
			return false
		}
		r.WindowStart, r.WindowEnd = start, end
		r.Next = end.Add(-time.Second)
		r.Failures, r.RetryAt = 0, time.Time{}
		changed = true
	}
	if now.Before(r.WindowEnd) {
		return changed
	}
	start, end := sch.windowAt(r.WindowStart, now, dur)
	if start.IsZero() {
		return changed
	}
	r.WindowStart, r.WindowEnd = start, end
	r.Failures, r.RetryAt = 0, time.Time{}
	return true
}

// due reports whether a scheduled rotation of r should start at now: its
// pending window is open and no failed attempt's backoff is running. r
// must have been advanced to now (advance).
func (r *rotation) due(now time.Time) bool {
	if r == nil || !r.Enabled || r.WindowStart.IsZero() || r.WindowEnd.IsZero() {
		return false
	}
	if now.Before(r.WindowStart) || !now.Before(r.WindowEnd) {
		return false
	}
	return r.RetryAt.IsZero() || !now.Before(r.RetryAt)
}

// retryBackoff is how long the next attempt waits after the n-th failed
// attempt in a window: 5 minutes, doubling, at most an hour. AWS documents
// that it retries "multiple times during the open rotation windows", not
// how often.
func retryBackoff(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// failed records an attempt that failed at now: it is retried in the
// pending window after retryBackoff, or, when the window closes before
// that, in the next window. A failure before the window opens (a
// RotateSecret of its own) leaves the schedule as it is.
func (r *rotation) failed(now time.Time) {
	r.advance(now)
	start, end := r.WindowStart, r.WindowEnd
	if !r.Enabled || start.IsZero() || end.IsZero() || now.Before(start) || !now.Before(end) {
		return
	}
	r.Failures++
	if retry := now.Add(retryBackoff(r.Failures)); retry.Before(end) {
		r.RetryAt = retry
		return
	}
	// No time left in this window: wait for the next. Next stays.
	next, nextEnd := r.window(start)
	if next.IsZero() {
		r.RetryAt = end // the schedule never fires again
		return
	}
	r.WindowStart, r.WindowEnd = next, nextEnd
	r.Failures, r.RetryAt = 0, time.Time{}
}

// manualRotation applies a value made current at now by PutSecretValue or
// UpdateSecret: with AutomaticallyAfterDays, "Secrets Manager calculates
// the next rotation date based on the previous rotation. Manually updating
// the secret value by calling PutSecretValue or UpdateSecret is considered
// a valid rotation" (RotationRulesType). AWS documents nothing of the kind
// for a ScheduleExpression, whose windows stay, nor that LastRotatedDate
// ("The last date and time that Secrets Manager rotated the secret")
// changes.
func (r *rotation) manualRotation(now time.Time) {
	if r != nil && r.Enabled && r.AfterDays > 0 {
		r.scheduleAfter(now)
	}
}

// RotationEvent is what a rotation function receives, as AWS sends it to a
// Lambda rotation function.
type RotationEvent struct {
	SecretId           string
	ClientRequestToken string
	Step               string // createSecret, setSecret, testSecret, finishSecret
	RotationToken      string `json:",omitempty"`
}

// RotationFunction runs one step of a rotation. It returns an error when
// the step failed; the error's text says why (it must not hold secrets).
type RotationFunction interface {
	Rotate(ctx context.Context, call *service.Call, ev RotationEvent) error
}

// HTTPFunction is a rotation function served over HTTP: rampart POSTs the
// event as JSON to URL, and a 2xx answer without an X-Amz-Function-Error
// header is success (so URL may be a Lambda Invoke endpoint). It stands for the
// Lambda function whose ARN the secret names; the function calls rampart
// back (GetSecretValue, PutSecretValue, UpdateSecretVersionStage) with its
// own credentials, as a Lambda does with its execution role.
type HTTPFunction struct {
	URL    string
	Client *http.Client // nil: a client with a 5-minute timeout
}

// Rotate implements RotationFunction.
func (f *HTTPFunction) Rotate(ctx context.Context, _ *service.Call, ev RotationEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	cl := f.Client
	if cl == nil {
		cl = &http.Client{Timeout: 5 * time.Minute}
	}
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("the rotation function could not be invoked: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the rotation function failed (HTTP %d): %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	// Lambda's Invoke API (and local Lambda runtimes that speak it) answers
	// a function's error with 200 and this header, the error in the body.
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		return fmt.Errorf("the rotation function failed (%s): %s", fe, strings.TrimSpace(string(msg)))
	}
	return nil
}

// EnvFunctions is the environment variable that registers HTTP rotation
// functions: "ARN=URL" pairs separated by commas, for example
// RAMPART_ROTATION_FUNCTIONS=arn:aws:lambda:us-east-1:000000000000:function:rotate-db=http://127.0.0.1:9000/rotate
const EnvFunctions = "RAMPART_ROTATION_FUNCTIONS"

// FunctionsFromEnv returns the HTTP rotation functions EnvFunctions names.
// Rotation functions are configured by whoever runs rampart, never through
// the API: a URL that any caller could set would let callers make rampart
// send requests anywhere.
func FunctionsFromEnv() map[string]RotationFunction {
	out := map[string]RotationFunction{}
	for _, pair := range strings.Split(os.Getenv(EnvFunctions), ",") {
		arn, url, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && arn != "" && url != "" {
			out[arn] = &HTTPFunction{URL: url}
		}
	}
	return out
}

// RegisterFunction makes fn the rotation function of the Lambda ARN arn.
func (s *Service) RegisterFunction(arn string, fn RotationFunction) {
	s.fnMu.Lock()
	defer s.fnMu.Unlock()
	s.functions[arn] = fn
}

// function returns the rotation function of arn: a registered one, else a
// built-in rotator whose name the ARN ends with, else nil.
func (s *Service) function(arn string) RotationFunction {
	s.fnMu.RLock()
	fn := s.functions[arn]
	s.fnMu.RUnlock()
	if fn != nil {
		return fn
	}
	if _, name, ok := strings.Cut(arn, ":function:"); ok {
		if b := builtinRotator(s, name); b != nil {
			return b
		}
	}
	return nil
}

// RotateSecret configures rotation (function, schedule) and, unless
// RotateImmediately is false (then it tests the configuration first:
// testRotation), starts rotating the secret: the four steps
// run in the background (runner.go) with ClientRequestToken as the new
// version's id, which the call returns at once, as AWS's RotateSecret
// "starts the asynchronous process of rotating the secret". A secret with
// an unfinished rotation (AWSPENDING on a version that is not current)
// answers InvalidRequestException until that rotation is retried with its
// token (on a secret configured for rotation), or finishes.
func (s *Service) RotateSecret(ctx context.Context, in *smapi.RotateSecretRequest) (*smapi.RotateSecretResponse, error) {
	c := service.CallFrom(ctx)
	s.seeChecker(c)
	if len(in.ExternalSecretRotationMetadata) > 0 || in.ExternalSecretRotationRoleArn != nil {
		return nil, smapi.NewInvalidRequestException("rampart does not rotate secrets managed by external partners.")
	}
	var rules rotation
	if r := in.RotationRules; r != nil {
		if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
			// AWS's words (terraform-provider-aws issue 33329).
			return nil, smapi.NewInvalidParameterException("You cannot specify both rotation frequency and schedule expression together.")
		}
		rules.AfterDays = deref(r.AutomaticallyAfterDays)
		if r.ScheduleExpression != nil {
			sch, err := parseSchedule(*r.ScheduleExpression)
			if err != nil {
				return nil, err
			}
			if err := sch.checkLimits(*r.ScheduleExpression); err != nil {
				return nil, err
			}
			rules.Schedule = *r.ScheduleExpression
			if r.Duration != nil {
				if err := checkDuration(*r.Duration, sch); err != nil {
					return nil, err
				}
			}
		} else if r.Duration != nil {
			if err := checkDuration(*r.Duration, nil); err != nil {
				return nil, err
			}
		}
		rules.Duration = deref(r.Duration)
	}
	token, err := requestToken(c, in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	now := in.RotateImmediately == nil || *in.RotateImmediately
	if !now {
		// The configuration is saved only once the test has passed.
		if err := s.testRotation(ctx, c, in.SecretId, in.RotationLambdaARN, token); err != nil {
			return nil, err
		}
	}
	var cl *rotationClaim
	if now {
		if cl, err = s.newClaim(token); err != nil {
			return nil, awsproto.Internal(err)
		}
	}
	var sc *secret
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		arn, _, err := s.rotationFunction(cur, in.RotationLambdaARN)
		if err != nil {
			return err
		}
		rot := cur.Rotation
		if rot == nil {
			rot = &rotation{}
		}
		rot.LambdaARN = arn
		// "any later invocation of RotateSecret assumes that a previous
		// rotation request is still in progress and returns an error"
		// (RotateSecret), whether or not it rotates now; a rotation may be
		// retried with its own token. Only a secret configured for
		// rotation (cur.Rotation set) has versions a rotation made: on a
		// secret never configured, AWSPENDING is on testRotation's version
		// (which holds no claim there: a concurrent test would lose its
		// version to this rotation) or on one a caller staged, and every
		// RotateSecret is refused, with that version's token too.
		if u := unfinished(cur); u != nil && (!now || u.ID != token || cur.Rotation == nil) {
			return pendingError(cur)
		}
		// A rotation running, on this node or another, holds the secret
		// (rotationClaim); this transaction claims it for the rotation it
		// starts.
		if rot.running(s.opts.Now()) != nil {
			return pendingError(cur)
		}
		if now {
			rot.Running = cl
		}
		if in.RotationRules != nil {
			rot.AfterDays, rot.Schedule, rot.Duration = rules.AfterDays, rules.Schedule, rules.Duration
		}
		wasEnabled := rot.Enabled
		rot.Enabled = rot.AfterDays > 0 || rot.Schedule != ""
		// New rules start a new schedule from now; turning rotation back on
		// resumes it from the last rotation ("if you turn off automatic
		// rotation and then turn it back on, the next rotation may occur
		// much sooner than this date"); otherwise the pending window stays.
		switch {
		case in.RotationRules != nil:
			rot.scheduleAfter(c.Now)
		case !wasEnabled || (rot.WindowStart.IsZero() && rot.Next.IsZero()):
			base := rot.LastRotated
			if base.IsZero() {
				base = c.Now
			}
			rot.scheduleAfter(base)
		}
		rot.advance(c.Now) // a configuration stored before windows gets them
		// The identity built-in rotators act as on schedule: this caller.
		// Session policies do not survive storage, so a session's rotation
		// keeps the identity configured before it, if any.
		if c.Principal.Session == nil || len(c.Principal.Session.Policies) == 0 {
			rot.RunAs = runAs(c.Principal)
		}
		cur.Rotation = rot
		cur.LastChanged = c.Now
		sc = cur
		return save(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	out := &smapi.RotateSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
	if !now {
		return out, nil
	}
	run := *c
	run.Rand = rand.Reader
	if err := s.startRotation(sc, cl, &run, c.Now); err != nil { // runner.go
		s.releaseClaim(sc, cl)
		return nil, err
	}
	out.VersionId = &token
	return out, nil
}

// rotationFunction returns the Lambda ARN a RotateSecret of sc names
// (arn, else the one configured) and its rotation function.
func (s *Service) rotationFunction(sc *secret, arn *string) (string, RotationFunction, error) {
	name := deref(arn)
	if arn == nil && sc.Rotation != nil {
		name = sc.Rotation.LambdaARN
	}
	if name == "" {
		return "", nil, smapi.NewInvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
	}
	fn := s.function(name)
	if fn == nil {
		return "", nil, smapi.NewResourceNotFoundException("Secrets Manager can't find the rotation function %s: register its URL with %s.", name, EnvFunctions)
	}
	return name, fn, nil
}

// unfinished returns the version of an unfinished rotation of sc: the one
// AWSPENDING is on when AWSCURRENT is not; nil when there is none.
func unfinished(sc *secret) *version {
	if p := sc.staged(stagePending); p != nil && !slices.Contains(p.Stages, stageCurrent) {
		return p
	}
	return nil
}

// testRotation is RotateSecret's test of a rotation configuration when
// RotateImmediately is false: "Secrets Manager tests the rotation
// configuration by running the testSecret step of the Lambda rotation
// function. This test creates an AWSPENDING version of the secret and then
// removes it" (RotateSecret, RotateImmediately). The AWSPENDING version,
// with token as its id, holds the AWSCURRENT value (AWS does not say which
// value; this is the one a testSecret step can succeed with, as AWS's
// templates log in with the pending credentials); the function's
// testSecret step runs synchronously, for both kinds of rotation function
// (HTTP, built-in), then the version is removed, whatever the outcome.
//
// AWS does not document what RotateSecret answers when the test fails:
// rampart refuses the call with InvalidRequestException naming the
// function's failure, and RotateSecret saves nothing of the configuration.
// A secret without an AWSCURRENT value cannot be tested and is refused
// likewise. The version is created and read with the caller's KMS rights,
// as PutSecretValue and GetSecretValue would be.
func (s *Service) testRotation(ctx context.Context, c *service.Call, id, arn *string, token string) error {
	var sc *secret
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sc, err = mustFindLive(tx, c, id)
		return err
	})
	if err != nil {
		return err
	}
	name, fn, err := s.rotationFunction(sc, arn)
	if err != nil {
		return err
	}
	if unfinished(sc) != nil || sc.Rotation.running(s.opts.Now()) != nil {
		return pendingError(sc)
	}
	failed := func(why string, args ...any) error {
		return smapi.NewInvalidRequestException("Secrets Manager tested the rotation configuration and the test failed: %s", fmt.Sprintf(why, args...))
	}
	cur := sc.staged(stageCurrent)
	if cur == nil {
		return failed("the secret has no AWSCURRENT version to test the rotation function %s with.", name)
	}
	if sc.version(token) != nil {
		return failed("the secret already has a version with the ClientRequestToken %s.", token)
	}
	if s.bg.Err() != nil {
		return store.ErrClosed
	}
	// The test claims the secret as a rotation does, in the transaction
	// that adds its AWSPENDING version: no rotation starts meanwhile, on
	// any node. A secret never configured for rotation gets no claim (a
	// claim needs a rotation record, which DescribeSecret would show as a
	// rotation configuration); no rotation starts on it either: nothing
	// rotates it on schedule, and while its AWSPENDING version exists
	// RotateSecret refuses every call, even one that would rotate now with
	// this test's token, since no rotation of such a secret made the
	// version (the check in RotateSecret's transaction).
	key := sc.key()
	cl, err := s.newClaim(token)
	if err != nil {
		return awsproto.Internal(err)
	}
	sv, err := s.cachedValue(ctx, valueKey(key, cur.ID))
	if err != nil {
		return err
	}
	if sv == nil {
		return failed("the secret has no AWSCURRENT value to test the rotation function %s with.", name)
	}
	pv, err := s.decrypt(ctx, c, sc, cur.ID, sv)
	if err != nil {
		return err
	}
	defer clear(pv.data)
	nsv, keyARN, err := s.encrypt(ctx, c, sc, sc.KmsKeyID, token, pv)
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := load(tx, key)
		switch {
		case err != nil:
			return err
		case cur == nil || cur.ARN != sc.ARN || cur.gone(c.Now):
			return errNotFound()
		case cur.scheduled():
			return errMarkedDeleted()
		case cur.KmsKeyID != sc.KmsKeyID:
			return smapi.NewInvalidRequestException("The secret's KMS key changed while the value was being encrypted; retry the request.")
		case cur.version(token) != nil:
			return failed("the secret already has a version with the ClientRequestToken %s.", token)
		case unfinished(cur) != nil || cur.Rotation.running(s.opts.Now()) != nil:
			return pendingError(cur)
		}
		if cur.Rotation != nil {
			cur.Rotation.Running = cl
		}
		nv := &version{ID: token, Stages: []string{}, Created: c.Now, KeyARN: keyARN}
		cur.Versions = append(cur.Versions, nv)
		cur.moveStage(stagePending, nv)
		if err := dropPruned(tx, cur, c.Now); err != nil {
			return err
		}
		if err := save(tx, cur); err != nil {
			return err
		}
		return putValue(tx, cur, token, nsv)
	})
	if err != nil {
		return err
	}
	call := *c
	call.Now = s.opts.Now()
	stepCtx, stepCancel := context.WithTimeout(ctx, rotationStepTimeout)
	stepErr := fn.Rotate(stepCtx, &call, RotationEvent{SecretId: sc.ARN, ClientRequestToken: token, Step: "testSecret"})
	stepCancel()
	rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rmErr := s.removeTestVersion(rmCtx, sc, token, cl)
	if stepErr != nil {
		return failed("the testSecret step of the rotation function %s failed: %v", name, stepErr)
	}
	return rmErr
}

// removeTestVersion removes the AWSPENDING version testRotation made, and
// its claim cl. A version the function gave other labels meanwhile loses
// AWSPENDING only.
func (s *Service) removeTestVersion(ctx context.Context, sc *secret, token string, cl *rotationClaim) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := load(tx, sc.key())
		if err != nil || cur == nil || cur.ARN != sc.ARN {
			return err
		}
		held := cur.Rotation.holds(cl)
		if held {
			cur.Rotation.Running = nil
		}
		v := cur.version(token)
		if v == nil {
			if held {
				return save(tx, cur)
			}
			return nil
		}
		v.Stages = slices.DeleteFunc(v.Stages, func(st string) bool { return st == stagePending })
		if len(v.Stages) == 0 {
			cur.Versions = slices.DeleteFunc(cur.Versions, func(x *version) bool { return x == v })
			if _, err := tx.Delete(TableValue, valueKey(cur.key(), token)); err != nil {
				return err
			}
		}
		return save(tx, cur)
	})
}

func (s *Service) lookupFresh(ctx context.Context, key string) (*secret, error) {
	var sc *secret
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sc, err = load(tx, key)
		return err
	})
	return sc, err
}

// CancelRotateSecret turns off automatic rotation. A rotation in progress
// may leave AWSPENDING on its new version, as in AWS.
func (s *Service) CancelRotateSecret(ctx context.Context, in *smapi.CancelRotateSecretRequest) (*smapi.CancelRotateSecretResponse, error) {
	c := service.CallFrom(ctx)
	var out *smapi.CancelRotateSecretResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		if sc.Rotation == nil || sc.Rotation.LambdaARN == "" {
			return smapi.NewInvalidRequestException("You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.")
		}
		sc.Rotation.Enabled = false
		sc.Rotation.Next, sc.Rotation.WindowStart, sc.Rotation.WindowEnd = time.Time{}, time.Time{}, time.Time{}
		sc.Rotation.Failures, sc.Rotation.RetryAt = 0, time.Time{}
		sc.LastChanged = c.Now
		out = &smapi.CancelRotateSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
		if p := sc.staged(stagePending); p != nil && !slices.Contains(p.Stages, stageCurrent) {
			out.VersionId = ptr(p.ID)
		}
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkDuration validates a rotation window: "Nh", from 1 to 24 hours
// (RotationRulesType.Duration: "You can set the rotation window as small as
// one hour"), that fits the schedule sch (nil: AutomaticallyAfterDays,
// whose window opens at midnight). AWS does not document these messages.
func checkDuration(d string, sch *schedule) error {
	dur, err := parseDuration(d)
	if err != nil {
		return err
	}
	if sch != nil {
		return sch.checkWindow(dur)
	}
	return nil
}

// parseDuration parses a Duration rule ("" is 0).
func parseDuration(d string) (time.Duration, error) {
	if d == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(d, "h"))
	if err != nil || !strings.HasSuffix(d, "h") || n < 1 || n > 24 {
		return 0, smapi.NewInvalidParameterException("The Duration %s is not valid: the rotation window is from 1h to 24h long.", d)
	}
	return time.Duration(n) * time.Hour, nil
}
