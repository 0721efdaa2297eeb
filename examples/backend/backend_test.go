package backend_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
	"github.com/postpolicy/postpolicy/postpolicytest"
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

// putJSON posts body to the PUT endpoint as user ("" for none) with the
// Content-Type ct, and returns the status and the answer's JSON.
func putJSON(t *testing.T, h http.Handler, user, ct, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/put", strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer %d is not JSON: %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	return w.Code, doc
}

func TestPutHandler(t *testing.T) {
	u := newUploads(t, "image/", "application/pdf")
	h := u.PutHandler()
	code, doc := putJSON(t, h, "alice", "application/json", `{"filename": "C:\\Users\\a\\photo 1.png", "type": "image/png", "size": 1234}`)
	if code != http.StatusOK {
		t.Fatalf("a PNG: %d %v", code, doc)
	}
	headers, _ := doc["headers"].(map[string]any)
	// Content-Length is signed (the URL's X-Amz-SignedHeaders) but not in
	// the JSON: a page may not set it.
	wantHeaders := map[string]any{"Content-Type": "image/png", "x-amz-meta-uploader": "alice"}
	if doc["method"] != "PUT" || doc["key"] != "users/alice/photo 1.png" || len(headers) != len(wantHeaders) {
		t.Errorf("answer %v", doc)
	}
	for k, v := range wantHeaders {
		if headers[k] != v {
			t.Errorf("header %s: %v, want %v", k, headers[k], v)
		}
	}
	want := "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/users/alice/photo%201.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
	if url, _ := doc["url"].(string); !strings.HasPrefix(url, want) || !strings.Contains(url, "&X-Amz-Expires=600&") ||
		!strings.Contains(url, "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-meta-uploader&") {
		t.Errorf("url %s, want %s… expiring in 600 s and signing the headers", url, want)
	}

	for _, tc := range []struct {
		user, ct, body string
		code           int
		msg            string // in the error
	}{
		{"", "application/json", `{"filename": "a.png", "type": "image/png", "size": 1}`, 401, "sign in"},
		{"alice", "text/plain", `{"filename": "a.png", "type": "image/png", "size": 1}`, 415, "JSON"},
		{"alice", "application/json", `{"filename": "a.png", "type": "image/png", "size": "1"}`, 400, "JSON"},
		{"alice", "application/json", `not json`, 400, "JSON"},
		{"alice", "application/json", `{"filename": "a.txt", "type": "text/plain", "size": 1}`, 400, "text/plain are not accepted here; accepted: image/*, application/pdf"},
		{"alice", "application/json", `{"filename": "a.png", "type": "", "size": 1}`, 400, "say the file's type"},
		{"alice", "application/json", `{"filename": "a.png", "type": "image/png; x=y", "size": 1}`, 400, "not a content type"},
		{"alice", "application/json", `{"filename": "a.png", "type": "image/png", "size": 0}`, 400, "1 byte to 10 MiB; this one has 0 bytes"},
		{"alice", "application/json", `{"filename": "a.png", "type": "image/png", "size": 10485761}`, 400, "1 byte to 10 MiB; this one has 10485761 bytes"},
		{"alice", "application/json", `{"filename": "dir/", "type": "image/png", "size": 1}`, 400, "needs a name"},
		{"alice", "application/json", `{"filename": "../..", "type": "image/png", "size": 1}`, 400, "needs a name"},
		{"alice", "application/json", `{"filename": "a\u0000.png", "type": "image/png", "size": 1}`, 400, "control character"},
		{"alice", "application/json", `{"filename": "a\n.png", "type": "image/png", "size": 1}`, 400, "control character"},
		{"alice", "application/json", `{"filename": "${filename}.png", "type": "image/png", "size": 1}`, 400, "${filename}"},
		{"alice", "application/json", `{"filename": "` + strings.Repeat("a", 256) + `", "type": "image/png", "size": 1}`, 400, "255 bytes"},
	} {
		code, doc := putJSON(t, h, tc.user, tc.ct, tc.body)
		if msg, _ := doc["error"].(string); code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s as %q (%s): %d %v, want %d naming %q", tc.body, tc.user, tc.ct, code, doc, tc.code, tc.msg)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/api/put", nil)
	r.Header.Set("X-Test-User", "alice")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"photo.png":              "photo.png",
		"a/b/c.png":              "c.png",
		`C:\Users\a\c.png`:       "c.png",
		"/etc/passwd":            "passwd",
		"é 1.png":                "é 1.png",
		"..png":                  "..png",
		"../../users/bob/x.png":  "x.png",
		"":                       "",
		".":                      "",
		"a/..":                   "",
		"a\x7f":                  "",
		"a\u0085b":               "",
		"\xff.png":               "",
		"x${filename}":           "",
		strings.Repeat("é", 128): "",
	} {
		got, err := backend.FileName(in)
		var fe *backend.FileError
		if got != want || (want == "") != errors.As(err, &fe) {
			t.Errorf("FileName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestPresignPutVerifies PUTs files with the endpoint's answers to a fake
// S3: the file described is stored, with its type and the uploader's
// metadata; another type or size is refused with SignatureDoesNotMatch.
func TestPresignPutVerifies(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	u, err := backend.New(backend.Config{
		Signer: srv.Signer(), Bucket: "uploads", MaxSize: 100, Lifetime: time.Minute,
		ContentTypes: backend.ContentTypes{"image/"},
		KeyPrefix:    func(user string) string { return "users/" + user + "/" },
		User:         func(*http.Request) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	put := func(name, ct, content string, size int64, change func(*http.Request)) (int, string) {
		t.Helper()
		p, _, err := u.PresignPut(context.Background(), "alice", backend.PutRequest{Filename: name, Type: ct, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		req, err := postpolicytest.NewPresignedRequest(p, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(req)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := put("a.png", "image/png", "hello", 5, nil); code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	obj, ok := srv.Object("uploads", "users/alice/a.png")
	if !ok || string(obj.Body) != "hello" || obj.ContentType != "image/png" || !slices.Contains(obj.Metadata, postpolicy.Field{Name: "x-amz-meta-uploader", Value: "alice"}) {
		t.Errorf("stored %+v, %v", obj, ok)
	}
	for what, tc := range map[string]struct {
		content string
		size    int64
		change  func(*http.Request)
	}{
		"one byte more":      {"hello!", 5, nil},
		"one byte less":      {"hell", 5, nil},
		"another type":       {"hello", 5, func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }},
		"another uploader":   {"hello", 5, func(r *http.Request) { r.Header.Set("x-amz-meta-uploader", "bob") }},
		"without a metadata": {"hello", 5, func(r *http.Request) { r.Header.Del("x-amz-meta-uploader") }},
	} {
		code, body := put("b.png", "image/png", tc.content, tc.size, tc.change)
		if code != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("%s: %d %.200s, want 403 SignatureDoesNotMatch", what, code, body)
		}
	}
	if _, ok := srv.Object("uploads", "users/alice/b.png"); ok {
		t.Error("a refused PUT stored an object")
	}
}
