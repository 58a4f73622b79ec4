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
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// rotation is a secret's rotation configuration and state.
type rotation struct {
	Enabled     bool      `json:"enabled"`
	LambdaARN   string    `json:"lambdaArn,omitempty"`
	AfterDays   int64     `json:"afterDays,omitempty"`
	Schedule    string    `json:"schedule,omitempty"` // rate(…) or cron(…)
	Duration    string    `json:"duration,omitempty"` // "3h": the rotation window
	LastRotated time.Time `json:"lastRotated,omitzero"`
	Next        time.Time `json:"next,omitzero"`
	LastError   string    `json:"lastError,omitempty"` // why the last rotation failed
	// RunAs is the identity built-in rotators act as on schedule: the
	// principal that last configured rotation (see runner.go).
	RunAs *authz.Principal `json:"runAs,omitempty"`
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

// next returns when the rotation after one at t is due.
func (r *rotation) next(t time.Time) time.Time {
	switch {
	case r.AfterDays > 0:
		return t.Add(time.Duration(r.AfterDays) * 24 * time.Hour)
	case r.Schedule != "":
		sch, err := parseSchedule(r.Schedule)
		if err == nil {
			return sch.next(t)
		}
	}
	return time.Time{}
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
// event as JSON to URL, and any 2xx answer is success. It stands for the
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
// RotateImmediately is false, starts rotating the secret: the four steps
// run in the background (runner.go) with ClientRequestToken as the new
// version's id, which the call returns at once, as AWS's RotateSecret
// "starts the asynchronous process of rotating the secret". A secret with
// an unfinished rotation (AWSPENDING on a version that is not current)
// answers InvalidRequestException until that rotation is retried with its
// token, or finishes.
func (s *Service) RotateSecret(ctx context.Context, in *smapi.RotateSecretRequest) (*smapi.RotateSecretResponse, error) {
	c := service.CallFrom(ctx)
	s.seeChecker(c)
	if len(in.ExternalSecretRotationMetadata) > 0 || in.ExternalSecretRotationRoleArn != nil {
		return nil, smapi.NewInvalidRequestException("rampart does not rotate secrets managed by external partners.")
	}
	var rules rotation
	if r := in.RotationRules; r != nil {
		if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
			return nil, smapi.NewInvalidParameterException("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
		}
		rules.AfterDays = deref(r.AutomaticallyAfterDays)
		if r.ScheduleExpression != nil {
			sch, err := parseSchedule(*r.ScheduleExpression)
			if err != nil {
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
	var sc *secret
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		rot := cur.Rotation
		if rot == nil {
			rot = &rotation{}
		}
		if in.RotationLambdaARN != nil {
			rot.LambdaARN = *in.RotationLambdaARN
		}
		if rot.LambdaARN == "" {
			return smapi.NewInvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
		}
		if s.function(rot.LambdaARN) == nil {
			return smapi.NewResourceNotFoundException("Secrets Manager can't find the rotation function %s: register its URL with %s.", rot.LambdaARN, EnvFunctions)
		}
		if now {
			if pending := cur.staged(stagePending); pending != nil && !slices.Contains(pending.Stages, stageCurrent) && pending.ID != token {
				return pendingError(cur)
			}
			if s.isRotating(cur.key()) {
				return pendingError(cur)
			}
		}
		if in.RotationRules != nil {
			rot.AfterDays, rot.Schedule, rot.Duration = rules.AfterDays, rules.Schedule, rules.Duration
		}
		rot.Enabled = rot.AfterDays > 0 || rot.Schedule != ""
		base := rot.LastRotated
		if base.IsZero() || in.RotationRules != nil {
			base = c.Now
		}
		rot.Next = rot.next(base)
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
	if err := s.startRotation(sc, token, &run); err != nil {
		return nil, err
	}
	out.VersionId = &token
	return out, nil
}

func (s *Service) isRotating(key string) bool {
	s.rotMu.Lock()
	defer s.rotMu.Unlock()
	return s.rotating[key]
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
		sc.Rotation.Next = time.Time{}
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

// checkDuration validates a rotation window: "Nh", 1 to 24 hours
// (RotationRulesType.Duration), no longer than the schedule's interval.
func checkDuration(d string, sch *schedule) error {
	n, err := strconv.Atoi(strings.TrimSuffix(d, "h"))
	if err != nil || !strings.HasSuffix(d, "h") || n < 1 || n > 24 {
		return smapi.NewInvalidParameterException("The Duration must be between 1h and 24h.")
	}
	if sch != nil && sch.every > 0 && time.Duration(n)*time.Hour > sch.every {
		return smapi.NewInvalidParameterException("The rotation window (Duration) can't be longer than the rotation interval.")
	}
	return nil
}
