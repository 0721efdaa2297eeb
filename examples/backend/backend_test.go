package backend_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
)

func newUploads(t *testing.T, types ...backend.ContentType) *backend.Uploads {
	t.Helper()
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	u, err := backend.New(backend.Config{
		Signer: &postpolicy.Signer{
			Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
			Region:      "eu-west-1",
			Now:         func() time.Time { return now },
		},
		Bucket:       "acme-user-uploads",
		MaxSize:      10 << 20,
		Lifetime:     10 * time.Minute,
		ContentTypes: types,
		KeyPrefix:    func(user string) string { return "users/" + user + "/" },
		User: func(r *http.Request) (string, bool) {
			name := r.Header.Get("X-Test-User")
			return name, name != ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func get(t *testing.T, h http.Handler, user, contentType string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/form?content_type="+contentType, nil)
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer %d is not JSON: %s", w.Code, w.Body)
	}
	return w.Code, doc
}

func TestUploads(t *testing.T) {
	u := newUploads(t, "image/", "application/pdf")
	if code, doc := get(t, u, "", "image/png"); code != http.StatusUnauthorized {
		t.Errorf("without a user: %d %v, want 401", code, doc)
	}
	code, doc := get(t, u, "alice", "text/plain")
	if msg, _ := doc["error"].(string); code != http.StatusForbidden || !strings.Contains(msg, "text/plain") || !strings.Contains(msg, "image/*, application/pdf") {
		t.Errorf("a refused type: %d %v, want 403 naming the type and the accepted ones", code, doc)
	}
	code, doc = get(t, u, "alice", "application/pdf")
	fields, _ := doc["fields"].(map[string]any)
	if code != http.StatusOK || fields["key"] != "users/alice/${filename}" ||
		!strings.Contains(string(must(json.Marshal(doc["pageConditions"]))), `{"field":"Content-Type","op":"eq","value":"application/pdf"}`) {
		t.Fatalf("alice, a PDF: %d %v", code, doc)
	}
	// The endpoint signs what Policy says, and what Sign gives.
	form, err := u.Sign(context.Background(), "alice", "application/pdf")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := form.Get("policy"); fields["policy"] != p {
		t.Error("the endpoint and Sign signed different policies")
	}
	p, err := u.Policy("alice", "application/pdf", time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC))
	if err != nil || p.Validate(time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)) != nil {
		t.Errorf("Policy: %v", err)
	}
}

func TestUploadsOneType(t *testing.T) {
	u := newUploads(t, "image/")
	code, doc := get(t, u, "bob", "")
	pages, _ := doc["pageConditions"].([]any)
	if code != http.StatusOK || len(pages) != 1 || !strings.Contains(string(must(json.Marshal(pages[0]))), `"value":"image/"`) {
		t.Errorf("one accepted type: %d %v, want a form whose page adds Content-Type image/", code, doc)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := backend.New(backend.Config{}); err == nil {
		t.Error("an empty Config was accepted")
	}
	_, err := backend.New(backend.Config{
		Signer:       &postpolicy.Signer{Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}, Region: "eu-west-1"},
		Bucket:       "Bad_Bucket",
		MaxSize:      1,
		Lifetime:     time.Minute,
		ContentTypes: backend.ContentTypes{""},
		KeyPrefix:    func(string) string { return "" },
		User:         func(*http.Request) (string, bool) { return "", false },
	})
	var p postpolicy.Problem
	if err == nil || !errorsAs(err, &p) || p.Rule != postpolicy.RuleBucketName {
		t.Errorf("a bad bucket name: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func errorsAs(err error, p *postpolicy.Problem) bool { return errors.As(err, p) }
