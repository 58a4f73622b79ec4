package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// rotationARN is the Lambda ARN of the harness's rotation function, which
// rampart invokes over HTTP (README, "Secrets Manager rotation
// functions"): an AWS rotation function does the four steps through the
// Secrets Manager API, and so does this one.
const rotationARN = "arn:aws:lambda:us-east-1:000000000000:function:cf-rotate"

// rotationFunction serves the rotation function and registers it for the
// in-process server the test starts next (the variable is read when the
// server opens). Its calls sign as the root user of the secret's account.
func rotationFunction(t *testing.T, h **harness) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rotate(*h, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(fn.Close)
	t.Setenv(secretsmanager.EnvFunctions, rotationARN+"="+fn.URL)
}

// rotate does one step of AWS's rotation protocol for the event in r:
// createSecret puts a new value as AWSPENDING under the event's token,
// finishSecret moves AWSCURRENT to it; setSecret and testSecret have no
// database to act on.
func rotate(h *harness, r *http.Request) error {
	var ev secretsmanager.RotationEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		return err
	}
	parts := strings.Split(ev.SecretId, ":")
	if len(parts) < 5 {
		return fmt.Errorf("secret ARN %q", ev.SecretId)
	}
	v, ok := h.roots.Load(parts[4])
	if !ok {
		return fmt.Errorf("no credentials for account %s", parts[4])
	}
	acct := v.(account)
	switch ev.Step {
	case "createSecret":
		_, err := h.call(acct, "secretsmanager", "PutSecretValue", obj{"SecretId": ev.SecretId, "ClientRequestToken": ev.ClientRequestToken,
			"SecretString": "rotated-" + h.salt(), "VersionStages": []any{"AWSPENDING"}})
		return err
	case "finishSecret":
		cur, err := currentVersion(h, acct, ev.SecretId)
		if err != nil || cur == ev.ClientRequestToken {
			return err
		}
		_, err = h.call(acct, "secretsmanager", "UpdateSecretVersionStage", obj{"SecretId": ev.SecretId, "VersionStage": "AWSCURRENT",
			"MoveToVersionId": ev.ClientRequestToken, "RemoveFromVersionId": cur})
		return err
	}
	return nil
}

// currentVersion is the id of the secret's AWSCURRENT version.
func currentVersion(h *harness, acct account, secret any) (string, error) {
	o, err := h.call(acct, "secretsmanager", "DescribeSecret", obj{"SecretId": secret})
	if err != nil {
		return "", err
	}
	stages, _ := o["VersionIdsToStages"].(obj)
	for id, st := range stages {
		l, _ := st.([]any)
		for _, s := range l {
			if s == "AWSCURRENT" {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("secret %v has no AWSCURRENT version", secret)
}

// rotated waits until the rotation that the variant started has finished
// (its outcome is recorded on the secret as LastRotatedDate, or as the
// error rampart keeps), so that its writes do not land among the next
// variants'. The limit only guards against a hang.
func rotated(c *vctx, secret any) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		o, err := c.call("secretsmanager", "DescribeSecret", obj{"SecretId": secret})
		if err != nil {
			c.h.t.Errorf("waiting for the rotation of %v: %v", secret, err)
			return
		}
		if _, ok := o["LastRotatedDate"]; ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.h.t.Errorf("the rotation of %v did not finish", secret)
}
