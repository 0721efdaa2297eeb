package receiver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// TestHandlerCORSOrigins checks Handler.CORSOrigins: none (no CORS header,
// every preflight refused), one origin (it alone, echoed), or "*" (any
// origin); in every case only for uploads and their preflight, never for
// GET or HEAD.
func TestHandlerCORSOrigins(t *testing.T) {
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	store := receiver.NewMemoryStore()
	store.Put(t.Context(), "b", "k", receiver.ObjectInfo{}, strings.NewReader("object"))
	const app, evil = "https://app.example", "https://evil.example"
	type want struct {
		status int    // 0: any
		allow  string // Access-Control-Allow-Origin
	}
	for _, tc := range []struct {
		name    string
		origins []string
		upload  map[string]want // by Origin
		pre     map[string]want
	}{
		{"none", nil,
			map[string]want{app: {0, ""}, evil: {0, ""}},
			map[string]want{app: {403, ""}, evil: {403, ""}}},
		{"one origin", []string{app},
			map[string]want{app: {0, app}, evil: {0, ""}},
			map[string]want{app: {200, app}, evil: {403, ""}}},
		{"any origin", []string{"*"},
			map[string]want{app: {0, "*"}, evil: {0, "*"}},
			map[string]want{app: {200, "*"}, evil: {200, "*"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &receiver.Handler{Verifier: &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1"},
				Store: store, Buckets: []string{"b"}, CORSOrigins: tc.origins}
			ts := httptest.NewServer(h)
			defer ts.Close()
			do := func(method, path, origin string, header ...string) *http.Response {
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader("not a form"))
				req.Header.Set("Origin", origin)
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			check := func(what string, resp *http.Response, w want) {
				t.Helper()
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != w.allow || (w.status != 0 && resp.StatusCode != w.status) {
					t.Errorf("%s: %s, Access-Control-Allow-Origin %q; want %d, %q", what, resp.Status, got, w.status, w.allow)
				}
			}
			for origin, w := range tc.upload {
				// A body that is not a form: refused (412), and the page
				// of an allowed origin may read why.
				resp := do(http.MethodPost, "/b", origin, "Content-Type", "text/plain")
				check("POST from "+origin, resp, w)
				if w.allow != "" && !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
					t.Errorf("POST from %s: Access-Control-Expose-Headers %q", origin, resp.Header.Get("Access-Control-Expose-Headers"))
				}
			}
			for origin, w := range tc.pre {
				resp := do(http.MethodOptions, "/b", origin, "Access-Control-Request-Method", "POST")
				check("preflight of an upload from "+origin, resp, w)
				if w.status == 200 && resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
					t.Errorf("preflight from %s: Access-Control-Allow-Methods %q, want POST", origin, resp.Header.Get("Access-Control-Allow-Methods"))
				}
				check("preflight of a read from "+origin, do(http.MethodOptions, "/b/k", origin, "Access-Control-Request-Method", "GET"), want{403, ""})
				check("preflight of a PUT from "+origin, do(http.MethodOptions, "/b", origin, "Access-Control-Request-Method", "PUT"), want{403, ""})
				check("GET from "+origin, do(http.MethodGet, "/b/k", origin), want{200, ""})
				check("HEAD from "+origin, do(http.MethodHead, "/b/k", origin), want{200, ""})
			}
		})
	}
}
