package secretsmanager_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// TestHTTPFunctionErrors: a rotation function fails on a non-2xx answer,
// and on a 200 carrying Lambda's X-Amz-Function-Error header (the Invoke
// API's way of reporting a function's error), with the body as the reason.
func TestHTTPFunctionErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  int
		header  string
		body    string
		wantErr string
	}{
		{"ok", 200, "", `null`, ""},
		{"http error", 500, "", `boom`, "HTTP 500"},
		{"lambda error", 200, "Unhandled", `{"errorMessage":"cannot reach the database"}`, "(Unhandled): {\"errorMessage\":\"cannot reach the database\"}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if c.header != "" {
					w.Header().Set("X-Amz-Function-Error", c.header)
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer fn.Close()
			err := (&secretsmanager.HTTPFunction{URL: fn.URL}).Rotate(context.Background(), nil, secretsmanager.RotationEvent{SecretId: "s", ClientRequestToken: "t", Step: "createSecret"})
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Rotate: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Rotate: %v, want an error with %q", err, c.wantErr)
			}
		})
	}
}
