package secretsmanager

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// Rotation runs as it does in AWS: RotateSecret records the configuration,
// starts the rotation and returns at once with the new version's id; the
// four steps run here, in the background, one rotation per secret at a
// time across all the nodes sharing the store: the rotation's claim is
// stored on the secret (rotationClaim, rotation.go).
// A failed step stops the rotation: AWSCURRENT stays where it was, the
// reason is kept on the secret (the next RotateSecret reports it) and
// recorded in a RotationFailed audit event, and AWSPENDING stays on the new
// version, so that the next RotateSecret "assumes that a previous rotation
// request is still in progress" as AWS does.
//
// Who acts: Secrets Manager itself starts the rotation and invokes the
// rotation function (for scheduled rotations nobody calls the API); the
// function's calls back into rampart are the function's own. An HTTP
// function calls with its own credentials, as a Lambda function calls with
// its execution role. A built-in rotator has no credentials of its own: its
// execution identity is the principal that configured rotation (the last
// RotateSecret caller), and each of its Secrets Manager actions is
// authorized for that principal as the function's calls would be.

// BackgroundLease is the name of the lease ([store.Leaser]) that the node
// running Secrets Manager's scheduled work (deletions whose recovery window
// ended, scheduled rotations) holds: on PostgreSQL exactly one node runs it.
const BackgroundLease = "secretsmanager.background"

// Recorder stores audit events (implemented by *audit.Writer).
type Recorder interface {
	Record(ctx context.Context, e *audit.Event) error
}

// errPending is AWS's answer to RotateSecret while a rotation is unfinished.
const errPendingMsg = "A previous rotation isn't complete. That rotation will be reattempted."

// startRotation runs the rotation cl of sc in the background, as run (the
// identity built-in rotators act as); at is when it started (the time a
// scheduled run was due, or the request's). The caller has claimed sc for
// it (cl is stored on the secret: RotateSecret's transaction, claimDue);
// the rotation releases the claim when it records its outcome. It fails
// with store.ErrClosed after Close: the caller then releases the claim
// (releaseClaim).
func (s *Service) startRotation(sc *secret, cl *rotationClaim, run *service.Call, at time.Time) error {
	s.rotMu.Lock()
	if s.bg.Err() != nil {
		s.rotMu.Unlock()
		return store.ErrClosed
	}
	s.bgWG.Add(1)
	s.rotMu.Unlock()
	go func() {
		defer s.bgWG.Done()
		superseded, failed := s.runRotation(s.bg, sc, cl, run, at)
		// The audit record waits for its commit: after the secret is free.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 10*time.Second)
		defer cancel()
		// A superseded rotation (another took its claim for abandoned)
		// left the secret's rotation state to that rotation: its own
		// outcome is recorded here only.
		switch {
		case failed != nil && superseded:
			s.event(ctx, sc, "RotationFailed", cl.Token, failed.Error()+" (the rotation outlived its claim on the secret, which another rotation took)")
		case failed != nil:
			s.event(ctx, sc, "RotationFailed", cl.Token, failed.Error())
		default:
			s.event(ctx, sc, "RotationSucceeded", cl.Token, "")
		}
	}()
	return nil
}

// claimDue claims sc, which RotateDue found due at at in its snapshot of
// the secrets, for a scheduled rotation, in one transaction that reads
// the secret again: the compare-and-set that decides, across the nodes
// sharing the store, that this rotation runs. It returns the secret as
// claimed, the claim and the identity the rotation runs as, or a nil
// secret when the rotation does not run: the secret is no longer due at
// at (another rotation finished meanwhile: a window sees one rotation),
// a rotation of it is running (here or on another node: its claim is in
// force), or it cannot start (RotateDue records or waits at its next
// run). An unfinished rotation is retried with its own token
// (AWSPENDING's version), else the rotation gets a new one.
func (s *Service) claimDue(ctx context.Context, sc *secret, at time.Time) (*secret, *rotationClaim, *service.Call, error) {
	token, err := newUUID(rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		claimed *secret
		cl      *rotationClaim
		run     *service.Call
	)
	err = s.store.Update(ctx, func(tx store.Tx) error {
		claimed, cl, run = nil, nil, nil // the store may run this again
		cur, err := load(tx, sc.key())
		if err != nil || cur == nil || cur.ARN != sc.ARN || cur.scheduled() || cur.replica() || cur.Rotation == nil {
			return err
		}
		if cur.Rotation.advance(at); !cur.Rotation.due(at) {
			return nil
		}
		if cur.Rotation.running(s.opts.Now()) != nil {
			return nil
		}
		r, why, wait := s.scheduledRun(cur)
		if why != "" || wait {
			return nil
		}
		tok := token
		if p := unfinished(cur); p != nil {
			tok = p.ID
		}
		c, err := s.newClaim(tok)
		if err != nil {
			return err
		}
		cur.Rotation.Running = c
		if err := save(tx, cur); err != nil {
			return err
		}
		claimed, cl, run = cur, c, r
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return claimed, cl, run, nil
}

// runRotation runs the four steps of the rotation cl of sc, with cl's
// token as the new version's id, each step for at most
// rotationStepTimeout; then it records the outcome on the secret and
// releases the claim, in one transaction, and returns why the rotation
// failed. at is when the rotation started (the time a scheduled run was
// due, or the request's): the outcome is recorded at at plus the time the
// steps took by the service's clock, so that a schedule driven with its
// own clock (RotateDue) stays on that clock. superseded reports that the
// secret no longer held cl when the outcome was to be recorded: another
// rotation took the claim for abandoned (claimAbandonedAfter), and the
// secret's rotation state is that rotation's, left as it is.
func (s *Service) runRotation(ctx context.Context, sc *secret, cl *rotationClaim, run *service.Call, at time.Time) (superseded bool, failed error) {
	token := cl.Token
	began := s.opts.Now()
	fn := s.function(sc.Rotation.LambdaARN)
	s.event(ctx, sc, "RotationStarted", token, "")
	if fn == nil {
		failed = errNoFunction(sc.Rotation.LambdaARN)
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		if failed != nil {
			break
		}
		c := *run
		c.Now = s.opts.Now()
		sctx, cancel := context.WithTimeout(ctx, rotationStepTimeout)
		err := fn.Rotate(sctx, &c, RotationEvent{SecretId: sc.ARN, ClientRequestToken: token, Step: step})
		if err != nil && ctx.Err() == nil && sctx.Err() != nil {
			err = fmt.Errorf("the step did not finish within %v: %v", rotationStepTimeout, err)
		}
		cancel()
		if err != nil {
			failed = fmt.Errorf("rotation step %s failed: %v", step, err)
		}
	}
	now := at.Add(max(s.opts.Now().Sub(began), 0))
	// What follows the steps runs even when ctx ended (Close): a rotation
	// whose steps all succeeded is checked and recorded as such, and one
	// cut short is recorded as failed.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if failed == nil {
		// The function must have made the new version current.
		cur, err := s.lookupFresh(rec, sc.key())
		switch {
		case err != nil:
			failed = err
		case cur == nil || cur.ARN != sc.ARN:
			failed = errors.New("the secret was deleted during its rotation")
		case cur.version(token) == nil || !slices.Contains(cur.version(token).Stages, stageCurrent):
			failed = errors.New("rotation finished without moving AWSCURRENT to the new version")
		}
	}
	err := s.store.Update(rec, func(tx store.Tx) error {
		superseded = false // the store may run this again
		cur, err := load(tx, sc.key())
		if err != nil || cur == nil || cur.ARN != sc.ARN || cur.Rotation == nil {
			return err
		}
		if !cur.Rotation.holds(cl) {
			superseded = true
			return nil
		}
		cur.Rotation.Running = nil
		if failed != nil {
			cur.Rotation.LastError = failed.Error()
			cur.Rotation.failed(now)
		} else {
			cur.Rotation.LastError = ""
			cur.Rotation.LastRotated = now
			cur.Rotation.scheduleAfter(now)
			// A finished rotation leaves AWSPENDING on no version but the
			// current one (AWS: "AWSPENDING ... not attached to any version").
			if p := cur.staged(stagePending); p != nil && slices.Contains(p.Stages, stageCurrent) {
				p.Stages = slices.DeleteFunc(p.Stages, func(st string) bool { return st == stagePending })
			}
		}
		return save(tx, cur)
	})
	if err != nil && failed == nil {
		// The claim stays until it is taken for abandoned.
		failed = err
	}
	return superseded, failed
}

// errNoFunction is why a rotation whose function is not registered fails.
func errNoFunction(arn string) error {
	return fmt.Errorf("Secrets Manager can't find the rotation function %s", arn)
}

// event records a rotation event as CloudTrail does: an AwsServiceEvent of
// secretsmanager.amazonaws.com in the secret's account. reason (why a
// rotation failed) never holds secret values: step errors are redacted.
func (s *Service) event(ctx context.Context, sc *secret, name, token, reason string) {
	if s.opts.Audit == nil {
		return
	}
	data := map[string]any{"SecretId": sc.ARN, "ClientRequestToken": token}
	if reason != "" {
		data["FailureReason"] = reason
	}
	_ = s.opts.Audit.Record(ctx, &audit.Event{
		EventTime:          audit.Time{Time: s.opts.Now()},
		EventSource:        "secretsmanager.amazonaws.com",
		EventName:          name,
		AWSRegion:          sc.Region,
		SourceIPAddress:    "secretsmanager.amazonaws.com",
		UserAgent:          "secretsmanager.amazonaws.com",
		UserIdentity:       audit.UserIdentity{Type: audit.IdentityAWSService, InvokedBy: "secretsmanager.amazonaws.com"},
		EventType:          "AwsServiceEvent",
		ManagementEvent:    true,
		EventCategory:      audit.CategoryManagement,
		RecipientAccountID: sc.Account,
		Resources:          []audit.Resource{{ARN: sc.ARN, AccountID: sc.Account, Type: "AWS::SecretsManager::Secret"}},
		AdditionalData:     data,
	})
}

// pendingError is RotateSecret's answer while sc has an unfinished
// rotation, with the reason the last attempt failed when there is one.
func pendingError(sc *secret) error {
	if sc.Rotation != nil && sc.Rotation.LastError != "" {
		return smapi.NewInvalidRequestException("%s The last attempt failed: %s", errPendingMsg, sc.Rotation.LastError)
	}
	return smapi.NewInvalidRequestException("%s", errPendingMsg)
}

// checker is how background work authorizes: Options.Authz, else the
// server's checker as the last request carried it.
func (s *Service) checker() authz.Checker {
	if s.opts.Authz != nil {
		return s.opts.Authz
	}
	if c, ok := s.seenAuthz.Load().(checkerBox); ok {
		return c.Checker
	}
	return nil
}

type checkerBox struct{ authz.Checker }

// seeChecker remembers the server's checker from a request.
func (s *Service) seeChecker(c *service.Call) {
	if c.Authz != nil && s.opts.Authz == nil {
		s.seenAuthz.Store(checkerBox{c.Authz})
	}
}

// runAs returns the identity a rotation function's built-in calls act as
// outside a request: the principal stored with the rotation configuration.
func runAs(p *authz.Principal) *authz.Principal {
	if p == nil {
		return nil
	}
	q := *p
	q.Session = nil
	q.AccessKeyID = ""
	return &q
}

// loop is the background work: deleting secrets whose recovery window
// ended, rotating secrets on schedule, on the node holding BackgroundLease.
// It stops at Close or when the store closes.
func (s *Service) loop() {
	defer s.bgWG.Done()
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.bg.Done():
			return
		case <-t.C:
			if _, err := s.RunDueIfLeader(s.bg, s.opts.Now()); errors.Is(err, store.ErrClosed) {
				return
			}
		}
	}
}

// RunDueIfLeader purges the secrets whose recovery window ended at now and
// starts the rotations due at now, when this instance holds BackgroundLease
// (taking it when it is free); led reports whether it did. The lease, once
// won, is kept until it is lost, Close, or the store closes. A store
// without leases has one node: it always leads.
func (s *Service) RunDueIfLeader(ctx context.Context, now time.Time) (led bool, err error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.bg.Err() != nil {
		return false, nil
	}
	if s.lease != nil {
		select {
		case <-s.lease.Lost():
			s.lease = nil
		default:
		}
	}
	if s.lease == nil {
		if l, ok := s.store.(store.Leaser); ok {
			lease, won, err := l.TryLead(ctx, BackgroundLease)
			if err != nil || !won {
				return false, err
			}
			s.lease = lease
		}
	}
	if _, err := s.PurgeDue(ctx, now); err != nil {
		return true, err
	}
	_, err = s.RotateDue(ctx, now)
	return true, err
}

// RotateDue starts the rotation of every secret whose rotation is due at
// now, that is whose rotation window is open at now and whose last failed
// attempt's backoff has passed (rotation.due), and returns how many it
// started; they run in the background. A rotation that failed is retried
// with its own token (its AWSPENDING version). It does not take
// BackgroundLease: RunDueIfLeader does.
//
// The pending windows that moved since they were stored (rotation.advance)
// are saved first, in one transaction, so that no run walks them again. A
// due secret whose rotation cannot start, because its rotation function
// is not registered or a built-in rotator has no identity to act as, is
// recorded as a failed attempt with its reason (retried after the
// backoff, as any failed attempt).
func (s *Service) RotateDue(ctx context.Context, now time.Time) (int, error) {
	var due, moved []*secret
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(TableSecret, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			sc, err := decodeSecret(kv)
			if err != nil {
				return err
			}
			if sc == nil || sc.scheduled() || sc.replica() || sc.Rotation == nil {
				continue
			}
			if sc.Rotation.advance(now) {
				moved = append(moved, sc)
			}
			if sc.Rotation.due(now) {
				due = append(due, sc)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := s.saveWindows(ctx, moved, now); err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range due {
		_, why, wait := s.scheduledRun(sc)
		switch {
		case why != "":
			if err := s.recordUnstarted(ctx, sc, now, why); err != nil {
				return n, err
			}
			continue
		case wait:
			continue
		}
		cur, cl, run, err := s.claimDue(ctx, sc, now)
		if err != nil {
			return n, err
		}
		if cur == nil {
			continue // no longer due, or rotating
		}
		if err := s.startRotation(cur, cl, run, now); err != nil {
			s.releaseClaim(cur, cl)
			return n, err
		}
		n++
	}
	return n, nil
}

// scheduledRun returns the identity a scheduled rotation of sc acts as.
// why is set when the rotation cannot start: its function is not
// registered, or a built-in rotator has no identity to act as (a
// configuration stored without one). wait is set when a built-in rotator
// has no checker to authorize its calls yet (no request since start, and
// none configured): the next run will.
func (s *Service) scheduledRun(sc *secret) (run *service.Call, why string, wait bool) {
	fn := s.function(sc.Rotation.LambdaARN)
	if fn == nil {
		return nil, errNoFunction(sc.Rotation.LambdaARN).Error(), false
	}
	run = &service.Call{RequestID: "rotation", Principal: runAs(sc.Rotation.RunAs), Region: sc.Region, Rand: rand.Reader, Authz: s.checker()}
	if _, builtin := fn.(*pgRotator); builtin {
		switch {
		case run.Principal == nil:
			return nil, fmt.Sprintf("Secrets Manager has no identity to run the rotation function %s as: configure rotation again with RotateSecret", sc.Rotation.LambdaARN), false
		case run.Authz == nil:
			return nil, "", true
		}
	}
	if run.Principal == nil {
		run.Principal = &authz.Principal{Type: authz.Root, Account: sc.Account}
	}
	return run, "", false
}

// saveWindows stores, in one transaction, the pending windows of secrets
// that advance moved at now. Each is read again and advanced as it is
// now: a change committed meanwhile (a rotation recorded) is kept.
func (s *Service) saveWindows(ctx context.Context, secrets []*secret, now time.Time) error {
	if len(secrets) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		for _, old := range secrets {
			cur, err := load(tx, old.key())
			if err != nil {
				return err
			}
			if cur == nil || cur.ARN != old.ARN || cur.Rotation == nil || !cur.Rotation.advance(now) {
				continue
			}
			if err := save(tx, cur); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordUnstarted records a scheduled rotation of sc that could not start
// at now as a failed attempt, with why: on the secret (LastError, the
// backoff) and as a RotationFailed event, unless the secret, read again,
// is no longer due or is rotating (here or on another node).
func (s *Service) recordUnstarted(ctx context.Context, sc *secret, now time.Time, why string) error {
	recorded := false
	var token string
	err := s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := load(tx, sc.key())
		if err != nil || cur == nil || cur.ARN != sc.ARN || cur.Rotation == nil || cur.Rotation.running(s.opts.Now()) != nil {
			return err
		}
		if cur.Rotation.advance(now); !cur.Rotation.due(now) {
			return nil
		}
		cur.Rotation.LastError = why
		cur.Rotation.failed(now)
		if p := unfinished(cur); p != nil {
			token = p.ID
		}
		recorded = true
		return save(tx, cur)
	})
	if err != nil || !recorded {
		return err
	}
	s.event(ctx, sc, "RotationFailed", token, why)
	return nil
}

// Close stops the background work: the scheduled loop ends, rotations in
// flight are cancelled (and recorded as failed), the lease is released.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		// Under rotMu, so that no rotation starts (bgWG.Add) after Wait begins.
		s.rotMu.Lock()
		s.bgStop()
		s.rotMu.Unlock()
		s.bgWG.Wait()
		s.leaseMu.Lock()
		if s.lease != nil {
			s.lease.Release()
			s.lease = nil
		}
		s.leaseMu.Unlock()
		if s.cancel != nil {
			s.cancel()
		}
	})
}
