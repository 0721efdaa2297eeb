package postpolicy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

func TestFormHandler(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret},
		Region:      "us-east-1",
		Now:         func() time.Time { return now },
	}
	var logged []error
	h := &postpolicy.FormHandler{
		Signer: signer,
		Policy: func(r *http.Request) (postpolicy.Policy, error) {
			switch user := r.Header.Get("X-User"); user {
			case "":
				return postpolicy.Policy{}, postpolicy.ErrUnauthenticated
			case "banned":
				return postpolicy.Policy{}, fmt.Errorf("user %s: %w", user, postpolicy.ErrForbidden)
			case "broken":
				return postpolicy.Policy{}, errors.New("database down: password=hunter2")
			case "invalid":
				// A policy the Signer refuses: its problems must not reach the browser.
				return postpolicy.Policy{Expiration: now.Add(time.Minute), Conditions: []postpolicy.Condition{postpolicy.Bucket("Bad_Bucket")}}, nil
			default:
				return postpolicy.Policy{Expiration: now.Add(time.Minute), Conditions: []postpolicy.Condition{
					postpolicy.Bucket("uploads"), postpolicy.Key("users/" + user + "/${filename}"), postpolicy.ContentTypePrefix("image/")}}, nil
			}
		},
		ErrorLog: func(_ *http.Request, err error) { logged = append(logged, err) },
	}
	tests := []struct {
		method, user string
		status       int
	}{
		{"GET", "alice", 200},
		{"POST", "alice", 200},
		{"GET", "", 401},
		{"GET", "banned", 403},
		{"GET", "broken", 500},
		{"GET", "invalid", 500},
		{"DELETE", "alice", 405},
	}
	for _, tc := range tests {
		t.Run(tc.method+"-"+tc.user, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/api/form", nil)
			if tc.user != "" {
				req.Header.Set("X-User", tc.user)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, body)
			}
			if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", rec.Header())
			}
			for _, leak := range []string{secret, "hunter2", "bucket-name", "Bad_Bucket"} {
				if strings.Contains(body, leak) {
					t.Errorf("body leaks %q: %s", leak, body)
				}
			}
			var doc struct {
				URL    string            `json:"url"`
				Method string            `json:"method"`
				Fields map[string]string `json:"fields"`
				Error  string            `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatalf("body is not JSON: %s", body)
			}
			if tc.status == 200 {
				if doc.URL != "https://uploads.s3.us-east-1.amazonaws.com/" || doc.Method != "POST" || doc.Fields["key"] != "users/alice/${filename}" || doc.Fields["x-amz-signature"] == "" {
					t.Errorf("form %+v", doc)
				}
			} else if doc.Error == "" {
				t.Errorf("no error message in %s", body)
			}
		})
	}
	if len(logged) != 2 {
		t.Errorf("ErrorLog got %d errors, want 2 (broken, invalid): %v", len(logged), logged)
	}
	if len(logged) == 2 && !errors.Is(logged[1], postpolicy.ErrInvalidPolicy) {
		t.Errorf("the invalid policy's error %v does not match ErrInvalidPolicy", logged[1])
	}
}
