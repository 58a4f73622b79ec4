package secretsmanager_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// testHeldFunction is a rotation function whose testSecret step waits
// until release is closed (or its context ends) and then succeeds; every
// other step succeeds at once. It records the steps it was given.
type testHeldFunction struct {
	entered chan string // the token of each testSecret step begun
	release chan struct{}

	mu    sync.Mutex
	steps []string
}

func (f *testHeldFunction) Rotate(ctx context.Context, _ *service.Call, ev secretsmanager.RotationEvent) error {
	f.mu.Lock()
	f.steps = append(f.steps, ev.Step)
	f.mu.Unlock()
	if ev.Step != "testSecret" {
		return nil
	}
	f.entered <- ev.ClientRequestToken
	select {
	case <-f.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *testHeldFunction) stepsSoFar() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.steps)
}

// While RotateSecret with RotateImmediately=false tests the configuration
// of a secret never configured for rotation (its testSecret step holds
// the temporary AWSPENDING version, whose id is the request's token), a
// RotateSecret that would rotate now with the same ClientRequestToken is
// refused with AWS's InvalidRequestException ("If the AWSPENDING staging
// label is present but not attached to the same version as AWSCURRENT,
// then any later invocation of RotateSecret assumes that a previous
// rotation request is still in progress and returns an error"): no
// rotation runs on the test's version, which the test then removes.
// Afterwards the same token rotates.
func TestRotateSecretDuringTestOfUnconfiguredSecret(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	fn := &testHeldFunction{entered: make(chan string, 1), release: make(chan struct{})}
	e.Svc.RegisterFunction(fnARN, fn)
	released := false
	release := func() {
		if !released {
			released = true
			close(fn.release)
		}
	}
	defer release()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))

	testDone := make(chan error, 1)
	go func() {
		_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN),
			RotateImmediately: aws.Bool(false), ClientRequestToken: aws.String(tok2)})
		testDone <- err
	}()
	select {
	case tok := <-fn.entered:
		if tok != tok2 {
			t.Fatalf("testSecret step with token %s, want %s", tok, tok2)
		}
	case err := <-testDone:
		t.Fatalf("RotateSecret returned before its testSecret step: %v", err)
	case <-time.After(30 * time.Second): // hang guard
		t.Fatal("no testSecret step")
	}

	_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok2)})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete.")
	_, err = c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok3)})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete.")

	release()
	select {
	case err := <-testDone:
		if err != nil {
			t.Fatalf("RotateSecret testing the configuration: %v", err)
		}
	case <-time.After(30 * time.Second): // hang guard
		t.Fatal("RotateSecret testing the configuration did not return")
	}
	if steps := fn.stepsSoFar(); !slices.Equal(steps, []string{"testSecret"}) {
		t.Fatalf("steps %v, want the test's testSecret only", steps)
	}
	if ids := versionIDs(t, c, "s"); !slices.Equal(ids, []string{tok1}) {
		t.Fatalf("versions after the test: %v, want %s only", ids, tok1)
	}
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if !slices.Equal(d.VersionIdsToStages[tok1], []string{"AWSCURRENT"}) || aws.ToString(d.RotationLambdaARN) != fnARN {
		t.Fatalf("after the test: %v, %+v", d.VersionIdsToStages, d)
	}

	// The test is over: the same token starts a rotation, which runs the
	// four steps on a version of its own.
	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(r.VersionId) != tok2 {
		t.Fatalf("VersionId %s, want %s", aws.ToString(r.VersionId), tok2)
	}
	// (The rotation's own testSecret step does not wait: release is
	// closed, and entered has room for its token.)
	waitFor(t, "the rotation's four steps", func() bool { return len(fn.stepsSoFar()) == 5 })
	if steps := fn.stepsSoFar(); !slices.Equal(steps, []string{"testSecret", "createSecret", "setSecret", "testSecret", "finishSecret"}) {
		t.Fatalf("steps %v", steps)
	}
}
