package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is the serve application on an httptest server.
type testServer struct {
	*httptest.Server
	app  *app
	log  *lockedBuffer
	data string
}

// newTestServer starts the application for the serve flags args (with
// -data a fresh directory unless args set it), signing with generated
// credentials, or creds when given.
func newTestServer(t *testing.T, creds *postpolicy.Credentials, args ...string) *testServer {
	t.Helper()
	data := t.TempDir()
	if !slices.Contains(args, "-data") && !slices.Contains(args, "-endpoint") && !slices.Contains(args, "-aws") {
		args = append([]string{"-data", data}, args...)
	}
	o, err := parseServeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	c := generateCredentials()
	if creds != nil {
		c = *creds
	}
	var store *dirStore
	if !o.remote() {
		if store, _, err = newDirStore(o.data, o.bucket); err != nil {
			t.Fatal(err)
		}
	}
	buf := &lockedBuffer{}
	srv := httptest.NewUnstartedServer(nil)
	a, err := newApp(o, c, store, baseURL(srv.Listener.Addr()), log.New(buf, "", log.LstdFlags))
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = logRequests(a, log.New(buf, "", log.LstdFlags))
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, app: a, log: buf, data: o.data}
}

// do sends a request, without following redirects, and returns the
// response with its body read.
func (s *testServer) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// get sends GET path with the cookie c (nil for none).
func (s *testServer) get(t *testing.T, path string, c *http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		req.AddCookie(c)
	}
	return s.do(t, req)
}

// signIn posts the sign-in form for name and returns the response.
func (s *testServer) signInResponse(t *testing.T, name string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/signin", strings.NewReader(url.Values{"name": {name}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(t, req)
}

// signIn signs name in and returns the session cookie.
func (s *testServer) signIn(t *testing.T, name string) *http.Cookie {
	t.Helper()
	resp, body := s.signInResponse(t, name)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %q: %s\n%s", name, resp.Status, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookieName {
			return c
		}
	}
	t.Fatalf("sign-in of %q set no session cookie", name)
	return nil
}

// form fetches a signed form for a file of type contentType.
func (s *testServer) form(t *testing.T, c *http.Cookie, contentType string) *postpolicy.Form {
	t.Helper()
	resp, body := s.get(t, "/api/form?content_type="+url.QueryEscape(contentType), c)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/form: %s\n%s", resp.Status, body)
	}
	_, u, fields := decodeForm(t, body)
	f := &postpolicy.Form{URL: u}
	for _, fl := range fields {
		f.Fields = append(f.Fields, postpolicy.Field{Name: fl[0], Value: fl[1]})
	}
	return f
}

// upload posts content as a browser would with form, adding Content-Type
// as the page does, and returns the response and its body.
func (s *testServer) upload(t *testing.T, form *postpolicy.Form, contentType, filename, content string) (*http.Response, string) {
	t.Helper()
	req, err := postpolicytest.NewRequest(form, []postpolicy.Field{{Name: "Content-Type", Value: contentType}}, filename, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, req)
}

// s3Error is S3's XML error document.
type s3Error struct {
	Code    string
	Message string
}

func parseS3Error(t *testing.T, body string) s3Error {
	t.Helper()
	var e s3Error
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an S3 error document: %v\n%s", err, body)
	}
	return e
}

// uploads returns the keys GET /api/uploads lists for the cookie.
func (s *testServer) uploads(t *testing.T, c *http.Cookie) []uploadItem {
	t.Helper()
	resp, body := s.get(t, "/api/uploads", c)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/uploads: %s\n%s", resp.Status, body)
	}
	var out struct{ Uploads []uploadItem }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Uploads
}

// decodedPolicyOf returns the policy document of a form.
func decodedPolicyOf(t *testing.T, f *postpolicy.Form) postpolicy.Policy {
	t.Helper()
	enc, _ := f.Get("policy")
	p, err := postpolicy.DecodePolicy(enc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// conditionStrings returns the conditions of p as S3 quotes them.
func conditionStrings(p postpolicy.Policy) []string {
	var out []string
	for _, c := range p.Conditions {
		out = append(out, c.String())
	}
	return out
}

func TestSignInOut(t *testing.T) {
	s := newTestServer(t, nil)
	resp, body := s.get(t, "/", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="name"`) || strings.Contains(body, `id="upload"`) {
		t.Fatalf("signed-out page: %s\n%s", resp.Status, body)
	}

	resp, _ = s.signInResponse(t, "alice")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	setCookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{sessionCookieName + "=alice.", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("Set-Cookie %q lacks %q", setCookie, attr)
		}
	}
	c := s.signIn(t, "alice")
	resp, body = s.get(t, "/", c)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<strong id="user">alice</strong>`) || !strings.Contains(body, "users/alice/") {
		t.Fatalf("signed-in page: %s\n%s", resp.Status, body)
	}

	req, _ := http.NewRequest(http.MethodPost, s.URL+"/signout", nil)
	req.AddCookie(c)
	resp, _ = s.do(t, req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %s", resp.Status)
	}
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, sessionCookieName+"=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("sign-out Set-Cookie %q does not clear the session", sc)
	}
}

func TestSignInRejectsBadNames(t *testing.T) {
	s := newTestServer(t, nil)
	for _, name := range []string{"", "Alice", "a b", "../x", "a.b", "<script>", strings.Repeat("a", 33), "é", "a\x00"} {
		resp, body := s.signInResponse(t, name)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("name %q: %s, want 400", name, resp.Status)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("name %q set a cookie", name)
		}
		if !strings.Contains(body, `id="signin-error"`) || strings.Contains(body, "<script>") {
			t.Errorf("name %q: the page does not show the error, or shows the name unescaped:\n%s", name, body)
		}
	}
	if resp, _ := s.signInResponse(t, strings.Repeat("a", 32)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a 32-character name: %s, want 303", resp.Status)
	}
}

// TestCrossOriginSignIn checks that a cross-site form cannot sign a
// browser in or out.
func TestCrossOriginSignIn(t *testing.T) {
	s := newTestServer(t, nil)
	for _, path := range []string{"/signin", "/signout"} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader("name=mallory"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, _ := s.do(t, req)
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("cross-site POST %s: %s, cookies %v; want 403 and none", path, resp.Status, resp.Cookies())
		}
	}
}

func TestAPIRequiresSession(t *testing.T) {
	s := newTestServer(t, nil)
	for _, path := range []string{"/api/form", "/api/form?content_type=image/png", "/api/uploads"} {
		resp, body := s.get(t, path, nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s without a session: %s %q", path, resp.Status, body)
		}
		var e struct{ Error string }
		if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Errorf("GET %s: body %q is not {\"error\": ...}", path, body)
		}
	}
}

// TestSessionTampering checks that only the cookies this process issued,
// unchanged and unexpired, are sessions.
func TestSessionTampering(t *testing.T) {
	s := newTestServer(t, nil)
	other := newTestServer(t, nil)
	c := s.signIn(t, "alice")
	name, rest, _ := strings.Cut(c.Value, ".")
	exp, mac, _ := strings.Cut(rest, ".")
	flipped := []byte(mac)
	flipped[0] ^= 1
	for what, value := range map[string]string{
		"another name":       "bob." + rest,
		"a later expiry":     name + ".9999999999." + mac,
		"a changed MAC":      name + "." + exp + "." + string(flipped),
		"no MAC":             name + "." + exp + ".",
		"a short value":      name,
		"garbage":            "x.y.z",
		"an extra part":      c.Value + ".x",
		"another process's":  other.signIn(t, "alice").Value,
		"an invalid name":    "Alice." + rest,
		"an empty value":     "",
		"the MAC as the key": mac,
	} {
		resp, _ := s.get(t, "/api/form", &http.Cookie{Name: sessionCookieName, Value: value})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %s, want 401", what, resp.Status)
		}
	}
	if resp, _ := s.get(t, "/api/form", c); resp.StatusCode != http.StatusOK {
		t.Errorf("the cookie as issued: %s, want 200", resp.Status)
	}
	s.app.sessions.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	if resp, _ := s.get(t, "/api/form", c); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired session: %s, want 401", resp.Status)
	}
}

// TestFormPerUser checks the policy a signed-in user gets.
func TestFormPerUser(t *testing.T) {
	s := newTestServer(t, nil, "-max-size", "1MiB", "-expires", "5m")
	start := time.Now()
	f := s.form(t, s.signIn(t, "alice"), "image/png")
	if f.URL != s.URL+"/uploads" {
		t.Errorf("form URL %q, want %s/uploads", f.URL, s.URL)
	}
	if key, _ := f.Get("key"); key != "users/alice/${filename}" {
		t.Errorf("key field %q, want users/alice/${filename}", key)
	}
	if _, ok := f.Get("Content-Type"); ok {
		t.Error("the form carries Content-Type; the page must set it, so that the store checks the file's type")
	}
	p := decodedPolicyOf(t, f)
	want := []string{
		`["eq", "$x-amz-algorithm", "AWS4-HMAC-SHA256"]`,
		`["eq", "$x-amz-credential", "` + s.app.creds.AccessKeyID + `/` + start.UTC().Format("20060102") + `/us-east-1/s3/aws4_request"]`,
		// The conditions every form shares, prepared once, then the
		// user's.
		`["eq", "$bucket", "uploads"]`,
		`["content-length-range", 1, 1048576]`,
		`["eq", "$success_action_status", "201"]`,
		`["starts-with", "$Content-Type", "image/"]`,
		`["starts-with", "$key", "users/alice/"]`,
	}
	got := conditionStrings(p)
	if len(got) > 0 {
		got = got[:len(got)-1] // x-amz-date
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy conditions (-want +got):\n%s", diff)
	}
	if d := p.Expiration.Sub(start); d < 5*time.Minute-time.Second || d > 5*time.Minute+5*time.Second {
		t.Errorf("the policy expires %s after the request, want 5m", d)
	}
	if key, _ := s.form(t, s.signIn(t, "bob"), "image/png").Get("key"); key != "users/bob/${filename}" {
		t.Errorf("bob's key field %q", key)
	}
}

// TestCanonicalHost checks that the page is served under the one host the
// embedded target's forms post to: a browser that loaded it under another
// name is sent there, and other methods are refused, so that the upload is
// always same-origin.
func TestCanonicalHost(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.signIn(t, "alice")
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/?x=1", nil)
	req.Host = "localhost:" + port
	resp, _ := s.do(t, req)
	if want := s.URL + "/?x=1"; resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Errorf("GET / with Host localhost: %s to %q, want 307 to %q", resp.Status, resp.Header.Get("Location"), want)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/signin", strings.NewReader("name=bob"))
	req.Host = "localhost:" + port
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := s.do(t, req); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("POST /signin with Host localhost: %s, want 421", resp.Status)
	}
	resp, body := s.get(t, "/api/form", c)
	if _, u, _ := decodeForm(t, body); resp.StatusCode != http.StatusOK || u != s.URL+"/uploads" {
		t.Errorf("the form posts to %q (%s), want %s/uploads", u, resp.Status, s.URL)
	}
}

// TestMultipleContentTypes checks the backend's choice of condition when
// -content-types lists several entries.
func TestMultipleContentTypes(t *testing.T) {
	s := newTestServer(t, nil, "-content-types", "image/,application/pdf")
	c := s.signIn(t, "alice")
	for _, ct := range []string{"text/plain", "", "image/png,text/html", "image/png; x=y", "application/pdfx", "IMAGE/PNG"} {
		resp, body := s.get(t, "/api/form?content_type="+url.QueryEscape(ct), c)
		var e struct{ Error string }
		json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(e.Error, "image/*, application/pdf") {
			t.Errorf("content_type %q: %s %q; want 403 naming the accepted types", ct, resp.Status, body)
		}
	}
	if _, body := s.get(t, "/api/form?content_type=text/plain", c); !strings.Contains(body, "text/plain") {
		t.Errorf("the 403 does not name the refused type: %s", body)
	}

	png := s.form(t, c, "image/png")
	if !slices.Contains(conditionStrings(decodedPolicyOf(t, png)), `["starts-with", "$Content-Type", "image/"]`) {
		t.Errorf("image/png: %q", conditionStrings(decodedPolicyOf(t, png)))
	}
	pdf := s.form(t, c, "application/pdf")
	if !slices.Contains(conditionStrings(decodedPolicyOf(t, pdf)), `["eq", "$Content-Type", "application/pdf"]`) {
		t.Errorf("application/pdf: %q", conditionStrings(decodedPolicyOf(t, pdf)))
	}
	if _, ok := pdf.Get("Content-Type"); ok {
		t.Error("the form carries Content-Type; the page must set it")
	}
	if resp, body := s.upload(t, pdf, "application/pdf", "doc.pdf", "%PDF-1.7"); resp.StatusCode != http.StatusCreated {
		t.Errorf("uploading a PDF: %s\n%s", resp.Status, body)
	}
	resp, body := s.upload(t, pdf, "application/x-pdf", "doc.pdf", "%PDF-1.7")
	if e := parseS3Error(t, body); resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" {
		t.Errorf("a PDF form used for another type: %s %+v", resp.Status, e)
	}
}

// TestReceiverContract exercises the embedded target over HTTP: forms
// signed by the backend, posted as a browser would, read back with GET
// and HEAD, and S3's refusals, after which nothing is stored.
func TestReceiverContract(t *testing.T) {
	s := newTestServer(t, nil, "-max-size", "1KiB")
	alice := s.signIn(t, "alice")
	content := strings.Repeat("p", 1000)

	resp, body := s.upload(t, s.form(t, alice, "image/png"), "image/png", "cat.png", content)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s\n%s", resp.Status, body)
	}
	var pr struct{ Bucket, Key, ETag, Location string }
	if err := xml.Unmarshal([]byte(body), &pr); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(content))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	if pr.Bucket != "uploads" || pr.Key != "users/alice/cat.png" || pr.ETag != etag || pr.Location != s.URL+"/uploads/users/alice/cat.png" {
		t.Errorf("PostResponse %+v", pr)
	}

	resp, body = s.get(t, "/uploads/users/alice/cat.png", alice)
	if resp.StatusCode != http.StatusOK || body != content {
		t.Fatalf("GET: %s, %d bytes", resp.Status, len(body))
	}
	for h, want := range map[string]string{
		"Content-Type":            "image/png",
		"ETag":                    etag,
		"Content-Security-Policy": "sandbox",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("GET %s: %q, want %q", h, got, want)
		}
	}
	req, _ := http.NewRequest(http.MethodHead, s.URL+"/uploads/users/alice/cat.png", nil)
	req.AddCookie(alice)
	resp, body = s.do(t, req)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Length") != "1000" {
		t.Errorf("HEAD: %s, Content-Length %q, body %q", resp.Status, resp.Header.Get("Content-Length"), body)
	}

	refusals := []struct {
		name                    string
		edit                    func(*postpolicy.Form)
		contentType, file, body string
		status                  int
		code, message           string
	}{
		{"oversize", nil, "image/png", "big.png", strings.Repeat("x", 1025), 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"},
		{"far oversize", nil, "image/png", "huge.png", strings.Repeat("x", 3<<20), 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"},
		{"empty", nil, "image/png", "empty.png", "", 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"},
		{"wrong type", nil, "text/plain", "notes.txt", "hello", 403, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]`},
		{"another user's prefix", func(f *postpolicy.Form) { setField(f, "key", "users/bob/evil.png") }, "image/png", "evil.png", "x", 403, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "users/alice/"]`},
		{"an extra field", func(f *postpolicy.Form) {
			f.Fields = append([]postpolicy.Field{{Name: "acl", Value: "public-read"}}, f.Fields...)
		}, "image/png", "acl.png", "x", 403, "AccessDenied", "Invalid according to Policy: Extra input fields: acl"},
		{"a changed policy", func(f *postpolicy.Form) {
			p, _ := f.Get("policy")
			setField(f, "policy", p[:len(p)-4]+"AAA=")
		}, "image/png", "sig.png", "x", 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	}
	for _, tc := range refusals {
		f := s.form(t, alice, "image/png")
		if tc.edit != nil {
			tc.edit(f)
		}
		resp, body := s.upload(t, f, tc.contentType, tc.file, tc.body)
		e := parseS3Error(t, body)
		if resp.StatusCode != tc.status || e.Code != tc.code || e.Message != tc.message {
			t.Errorf("%s: %s %+v, want %d %s %q", tc.name, resp.Status, e, tc.status, tc.code, tc.message)
		}
	}

	var keys []string
	for _, it := range s.uploads(t, alice) {
		keys = append(keys, it.Key)
	}
	if diff := cmp.Diff([]string{"users/alice/cat.png"}, keys); diff != "" {
		t.Errorf("alice's uploads after the refusals (-want +got):\n%s", diff)
	}
	if all, _ := s.app.store.List("uploads", ""); len(all) != 1 {
		t.Errorf("the store holds %d objects after the refusals, want 1", len(all))
	}
	bob := s.signIn(t, "bob")
	if got := s.uploads(t, bob); len(got) != 0 {
		t.Errorf("bob's uploads: %+v", got)
	}
	if resp, body := s.get(t, "/uploads/users/bob/evil.png", bob); resp.StatusCode != http.StatusNotFound || parseS3Error(t, body).Code != "NoSuchKey" {
		t.Errorf("GET of a refused upload: %s %s", resp.Status, body)
	}
}

func setField(f *postpolicy.Form, name, value string) {
	for i := range f.Fields {
		if strings.EqualFold(f.Fields[i].Name, name) {
			f.Fields[i].Value = value
		}
	}
}

// TestUploadsList checks the list the page shows: the user's uploads,
// newest first, with links that read them back.
func TestUploadsList(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.signIn(t, "carol")
	if got := s.uploads(t, c); got == nil || len(got) != 0 {
		t.Errorf("before any upload: %#v, want an empty list", got)
	}
	for _, name := range []string{"a b.png", "ü.png"} {
		if resp, body := s.upload(t, s.form(t, c, "image/png"), "image/png", name, "data of "+name); resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %q: %s %s", name, resp.Status, body)
		}
	}
	items := s.uploads(t, c)
	if len(items) != 2 {
		t.Fatalf("uploads: %+v", items)
	}
	for _, it := range items {
		if it.Key != "users/carol/"+it.Name || it.ContentType != "image/png" || it.Size != int64(len("data of "+it.Name)) {
			t.Errorf("item %+v", it)
		}
		resp, body := s.get(t, it.URL, c)
		if resp.StatusCode != http.StatusOK || body != "data of "+it.Name {
			t.Errorf("GET %s: %s %q", it.URL, resp.Status, body)
		}
	}
}

// TestUploadsSurviveRestart checks that a new server on the same data
// directory, with new credentials and sessions, serves what the first
// stored.
func TestUploadsSurviveRestart(t *testing.T) {
	first := newTestServer(t, nil)
	c := first.signIn(t, "dave")
	if resp, body := first.upload(t, first.form(t, c, "image/gif"), "image/gif", "x.gif", "GIF89a"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s %s", resp.Status, body)
	}
	second := newTestServer(t, nil, "-data", first.data)
	if resp, body := second.get(t, "/uploads/users/dave/x.gif", second.signIn(t, "dave")); resp.StatusCode != http.StatusOK || body != "GIF89a" {
		t.Errorf("after a restart: %s %q", resp.Status, body)
	}
	if resp, _ := second.get(t, "/api/uploads", c); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session of the first server: %s, want 401 (new session key)", resp.Status)
	}
	if got := second.uploads(t, second.signIn(t, "dave")); len(got) != 1 {
		t.Errorf("dave's uploads after a restart: %+v", got)
	}
}

// pageIDs are the element ids a browser test drives the page by.
var pageIDs = map[bool][]string{
	false: {"name", "signin"},
	true:  {"user", "signout", "upload-form", "method-post", "method-put", "method-multipart", "cancel", "resumable", "drop", "file", "upload", "progress", "result", "uploads"},
}

func TestPage(t *testing.T) {
	s := newTestServer(t, nil)
	for _, signedIn := range []bool{false, true} {
		var c *http.Cookie
		if signedIn {
			c = s.signIn(t, "erin")
		}
		resp, body := s.get(t, "/", c)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET /: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, id := range pageIDs[signedIn] {
			if !strings.Contains(body, `id="`+id+`"`) {
				t.Errorf("signed in %v: no element #%s", signedIn, id)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("CSP %q lacks %q", csp, d)
			}
		}
	}
	if _, body := s.get(t, "/", s.signIn(t, "erin")); !strings.Contains(body, `<progress id="progress"`) || !strings.Contains(body, `data-state="idle"`) {
		t.Errorf("the page lacks the progress element or the result's state:\n%s", body)
	}
	if resp, _ := s.get(t, "/nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: %s", resp.Status)
	}
	if resp, _ := s.get(t, "/static/", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/ lists the directory: %s", resp.Status)
	}
}

// TestAssets checks that the page's assets are served with their types
// and load nothing from elsewhere.
func TestAssets(t *testing.T) {
	s := newTestServer(t, nil)
	_, page := s.get(t, "/", s.signIn(t, "frank"))
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(|@import`)
	for path, ctype := range map[string]string{
		"/static/app.js":    "text/javascript; charset=utf-8",
		"/static/style.css": "text/css; charset=utf-8",
		"/static/icon.svg":  "image/svg+xml",
	} {
		resp, body := s.get(t, path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype {
			t.Errorf("GET %s: %s %q", path, resp.Status, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(page, `"`+path+`"`) {
			t.Errorf("the page does not use %s", path)
		}
		if m := external.FindString(body); m != "" {
			t.Errorf("%s loads an external resource: %q", path, m)
		}
	}
	if m := external.FindString(page); m != "" {
		t.Errorf("the page loads an external resource: %q", m)
	}
	if strings.Contains(page, "https://") || strings.Contains(page, "http://") {
		t.Error("the page names an external URL")
	}
}

// TestRequestLog checks the one line per request, without query strings,
// cookies or form values.
func TestRequestLog(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.signIn(t, "grace")
	s.get(t, "/api/form?content_type=image/png&token=hunter2", c)
	resp, _ := s.upload(t, s.form(t, c, "image/png"), "image/png", "p.png", "x")
	if resp.StatusCode != http.StatusCreated {
		t.Fatal(resp.Status)
	}
	s.get(t, "/uploads/users/grace/p.png", c)
	s.Close()
	line := regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (GET|POST|HEAD) /\S* \d{3} \d+B \d\S*s$`)
	lines := strings.Split(strings.TrimSpace(s.log.String()), "\n")
	want := []string{"POST /signin 303", "GET /api/form 200", "GET /api/form 200", "POST /uploads 201", "GET /uploads/users/grace/p.png 200"}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s", s.log)
	}
	for i, l := range lines {
		if !line.MatchString(l) || !strings.Contains(l, want[i]) {
			t.Errorf("log line %q does not match, want %q", l, want[i])
		}
	}
	for _, secret := range []string{"?", "hunter2", "content_type", c.Value, "grace.", "x-amz-signature", s.app.creds.SecretAccessKey} {
		if strings.Contains(s.log.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// startServe runs serve on 127.0.0.1:0 with args, and returns its base
// URL and a function that stops it and returns its output and error.
func startServe(t *testing.T, env map[string]string, args ...string) (string, func() (string, string, error)) {
	t.Helper()
	o, err := parseServeArgs(append([]string{"-addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	o.onListen = func(u string) { ready <- u }
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, func(k string) string { return env[k] }, stdout, stderr) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s%s", err, stdout, stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	stop := func() (string, string, error) {
		cancel()
		select {
		case err := <-done:
			return stdout.String(), stderr.String(), err
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
			return "", "", nil
		}
	}
	return base, stop
}

// TestServeStartStop starts serve on a free port, uses it, and stops it
// through its context, as Ctrl-C does.
func TestServeStartStop(t *testing.T) {
	data := t.TempDir()
	base, stop := startServe(t, longTermEnv, "-data", data)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base URL %q", base)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /: %s", resp.Status)
	}
	stdout, stderr, err := stop()
	if err != nil {
		t.Fatalf("serve returned %v", err)
	}
	for _, want := range []string{"listening on " + base + "\n", "data:        " + data, "credentials: from the environment, access key id " + testAccessKeyID, "shutting down\nstopped\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "GET / 200") {
		t.Errorf("stderr lacks the request's log line:\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, testSecret) {
		t.Error("serve printed the secret key")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("the server still answers after stopping")
	}
}

// TestServeGeneratedCredentials checks that the embedded target makes its
// own credentials without the environment's, and prints only the key id.
func TestServeGeneratedCredentials(t *testing.T) {
	_, stop := startServe(t, nil, "-data", t.TempDir())
	stdout, _, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`credentials: generated at start, access key id (AKIA[0-9A-F]{16})\n`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("stdout:\n%s", stdout)
	}
}

func TestServePortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	r := runCLI(t, nil, "serve", "-addr", addr, "-data", t.TempDir())
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{"cannot listen on " + addr, "already in use", "-addr"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bucket", "api"}, `-bucket "api" is taken`},
		{[]string{"-bucket", "static"}, `-bucket "static" is taken`},
		{[]string{"-bucket", "Bad_Bucket"}, "bucket-name"},
		{[]string{"-aws", "-endpoint", "http://127.0.0.1:9000"}, "mutually exclusive"},
		{[]string{"-endpoint", "http://127.0.0.1:9000", "-data", "/tmp/x"}, "-data applies to the embedded target only"},
		{[]string{"-endpoint", "ftp://x"}, `-endpoint "ftp://x" must start with http://`},
		{[]string{"-endpoint", "http://user:pass@host"}, "user info"},
		{[]string{"-max-size", "0"}, "-max-size must be at least 1 byte"},
		{[]string{"-max-size", "ten"}, "invalid value"},
		{[]string{"-expires", "0s"}, "-expires must be positive"},
		{[]string{"-content-types", ""}, "an empty entry"},
		{[]string{"-content-types", "image/,"}, "an empty entry"},
		{[]string{"-content-types", "image"}, `"image" is neither a prefix`},
		{[]string{"-content-types", "image/png;x=1"}, "is neither"},
		{[]string{"-region", "us east"}, "-region"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"-public-url", "ftp://192.168.1.5"}, "-public-url"},
		{[]string{"-public-url", "192.168.1.5:8080"}, "-public-url"},
		{[]string{"-public-url", "http://user:pass@192.168.1.5"}, "-public-url must not carry user info"},
		{[]string{"-public-url", "http://192.168.1.5/app"}, "-public-url must not have a path"},
		{[]string{"-public-url", "http://192.168.1.5/?a=b"}, "-public-url must not"},
		{[]string{"-public-url", "http://"}, "-public-url"},
		{[]string{"-user-quota", "1KiB", "-max-size", "2KiB"}, "-user-quota (1 KiB) is less than -max-size (2 KiB)"},
		{[]string{"-data-quota", "1KiB", "-max-size", "2KiB", "-user-quota", "2KiB"}, "-data-quota (1 KiB) is less than -max-size (2 KiB)"},
		{[]string{"-max-uploads", "0"}, "-max-uploads must be at least 1"},
		{[]string{"-endpoint", "http://127.0.0.1:9000", "-user-quota", "1GiB"}, "-user-quota applies to the embedded target only"},
		{[]string{"-aws", "-max-uploads", "3"}, "-max-uploads applies to the embedded target only"},
	} {
		r := runCLI(t, longTermEnv, append([]string{"serve"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "postpolicy serve -h") {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr, "pass@") {
			t.Errorf("%q: stderr quotes the endpoint's password", tc.args)
		}
	}
}

func TestParseContentTypes(t *testing.T) {
	for in, want := range map[string]string{
		"image/":                      "image/*",
		"image/*":                     "image/*",
		" Image/ , application/PDF ":  "image/*, application/pdf",
		"*":                           "any type",
		"image/svg+xml,text/":         "image/svg+xml, text/*",
		"application/vnd.ms-excel":    "application/vnd.ms-excel",
		"video/,audio/,image/":        "video/*, audio/*, image/*",
		"application/octet-stream,*/": "",
	} {
		rules, err := parseContentTypes(in)
		if want == "" {
			if err == nil {
				t.Errorf("parseContentTypes(%q) = %s, want an error", in, rules)
			}
			continue
		}
		if err != nil || rules.String() != want {
			t.Errorf("parseContentTypes(%q) = %s, %v; want %s", in, rules, err, want)
		}
	}
	any, _ := parseContentTypes("*")
	if c, err := any.For("whatever/thing"); err != nil || c.Condition().String() != `["starts-with", "$Content-Type", ""]` {
		t.Errorf("* gives %s, %v", c.Condition(), err)
	}
}

// TestServeRemote checks the real-target mode: forms for the endpoint,
// the CORS rule, and the list of uploads the page reports.
func TestServeRemote(t *testing.T) {
	creds := postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}
	s := newTestServer(t, &creds, "-endpoint", "http://127.0.0.1:9000", "-bucket", "photos", "-region", "eu-west-1", "-max-size", "2MiB", "-max-multipart-size", "2500000")
	if csp := s.app.csp; !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:9000;") {
		t.Errorf("CSP %q does not allow posting to the endpoint", csp)
	}
	_, page := s.get(t, "/", nil)
	if !strings.Contains(page, `data-target="remote"`) {
		t.Error("the page does not know the target is remote")
	}
	c := s.signIn(t, "alice")
	f := s.form(t, c, "image/png")
	if f.URL != "http://127.0.0.1:9000/photos" {
		t.Errorf("form URL %q", f.URL)
	}
	if cred, _ := f.Get("x-amz-credential"); !strings.Contains(cred, "/eu-west-1/s3/") {
		t.Errorf("credential %q", cred)
	}

	report := func(c *http.Cookie, body string) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/uploads", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if c != nil {
			req.AddCookie(c)
		}
		resp, _ := s.do(t, req)
		return resp.StatusCode
	}
	for body, want := range map[string]int{
		`{"key": "users/alice/a b.png", "size": 10, "content_type": "image/png"}`: 204,
		`{"key": "users/bob/a.png", "size": 10}`:                                  400,
		`{"key": "users/alice/", "size": 10}`:                                     400,
		`{"key": "users/alice/big.png", "size": 3000000}`:                         400, // over -max-size and -max-multipart-size
		`{"key": "users/alice/ID/parts.png", "size": 2500000}`:                    204, // over -max-size, in parts
		`{"key": "users/alice/zero.png", "size": 0}`:                              400,
		`not json`: 400,
	} {
		if got := report(c, body); got != want {
			t.Errorf("report %s: %d, want %d", body, got, want)
		}
	}
	if got := report(nil, `{"key": "users/alice/x.png", "size": 1}`); got != 401 {
		t.Errorf("report without a session: %d, want 401", got)
	}
	items := s.uploads(t, c)
	want := []uploadItem{{Key: "users/alice/ID/parts.png", Name: "ID/parts.png", Size: 2500000}, {Key: "users/alice/a b.png", Name: "a b.png", Size: 10, ContentType: "image/png"}}
	if diff := cmp.Diff(want, items, cmpIgnoreTime, cmpopts.IgnoreFields(uploadItem{}, "URL"), cmpopts.SortSlices(func(a, b uploadItem) bool { return a.Key < b.Key })); diff != "" {
		t.Errorf("uploads (-want +got):\n%s", diff)
	}
	// The link is a presigned GET (TestServeRemotePresignedLinks follows
	// one).
	for _, it := range items {
		if !strings.HasPrefix(it.URL, "http://127.0.0.1:9000/photos/"+receiver.EscapeKey(it.Key)+"?X-Amz-Algorithm=AWS4-HMAC-SHA256&") {
			t.Errorf("the link %q is not a presigned GET of the object", it.URL)
		}
	}
	if resp, _ := s.get(t, "/photos/users/alice/a.png", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a remote server serves the bucket itself: %s", resp.Status)
	}

	aws := newTestServer(t, &creds, "-aws", "-region", "eu-west-1")
	if aws.app.targetURL != "https://uploads.s3.eu-west-1.amazonaws.com/" {
		t.Errorf("-aws target %q", aws.app.targetURL)
	}
}

var cmpIgnoreTime = cmp.Comparer(func(a, b time.Time) bool { return true })

// TestServeRemoteOutput checks what serve prints for a real target: the
// CORS rule, and never the secret.
func TestServeRemoteOutput(t *testing.T) {
	store := httptest.NewServer(&fakeBucketStore{id: testAccessKeyID, secret: testSecret, token: testToken, region: "us-east-1", buckets: []string{"photos"}})
	defer store.Close()
	_, stop := startServe(t, tokenEnv, "-endpoint", store.URL, "-bucket", "photos")
	stdout, stderr, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(stdout)[1], "http://"))
	for _, want := range []string{
		`"AllowedOrigins": [` + "\n" + `        "http://127.0.0.1:` + port + `",` + "\n" + `        "http://localhost:` + port + `"`,
		`"AllowedMethods": [` + "\n" + `        "POST",` + "\n" + `        "PUT"` + "\n",
		`"ExposeHeaders": [` + "\n" + `        "ETag",`,
		"aws s3api put-bucket-cors --bucket photos --cors-configuration file://cors.json --endpoint-url '" + store.URL + "'",
		"target:      " + store.URL + "/photos",
		"(checked: the bucket exists and the credentials may use it)",
		"credentials: from the environment, access key id " + testAccessKeyID,
		"multipart:   /api/multipart (Uppy's companionEndpoint): users/NAME/ID/FILE, image/*, 1 byte to 5 GiB,",
		"lifecycle rule with AbortIncompleteMultipartUpload",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, secret := range []string{testSecret, testToken} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("serve printed a secret: %q", secret)
		}
	}
	if !strings.Contains(stdout, "{\n  \"CORSRules\"") {
		t.Errorf("the CORS rule is not JSON as put-bucket-cors takes it:\n%s", stdout)
	}
	i := strings.Index(stdout, "{\n  \"CORSRules\"")
	j := strings.Index(stdout[i:], "\n}\n")
	var cfg struct{ CORSRules []corsRule }
	if err := json.Unmarshal([]byte(stdout[i:i+j+2]), &cfg); err != nil || len(cfg.CORSRules) != 1 {
		t.Errorf("the CORS rule does not parse: %v", err)
	}
}

func TestServeRemoteNeedsCredentials(t *testing.T) {
	for _, args := range [][]string{{"-aws"}, {"-endpoint", "http://127.0.0.1:9000"}} {
		r := runCLI(t, nil, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set") {
			t.Errorf("%q without credentials: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}

// TestServeNoSecrets checks that no response of the page, the API or the
// embedded target, and no output, carries the secret key.
func TestServeNoSecrets(t *testing.T) {
	creds := postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}
	s := newTestServer(t, &creds)
	c := s.signIn(t, "heidi")
	var all strings.Builder
	for _, path := range []string{"/", "/api/form?content_type=image/png", "/api/uploads", "/static/app.js", "/uploads/none"} {
		resp, body := s.get(t, path, c)
		all.WriteString(body)
		for k, v := range resp.Header {
			all.WriteString(k + strings.Join(v, ""))
		}
	}
	_, body := s.upload(t, s.form(t, c, "image/png"), "image/png", "s.png", "x")
	all.WriteString(body)
	a := s.presignPut(t, c, "p.png", "image/png", 1)
	all.WriteString(a.URL + a.Key)
	for _, v := range a.Headers {
		all.WriteString(v)
	}
	_, body = sendPut(t, http.DefaultClient, a, "xx", nil) // refused: SignatureDoesNotMatch
	all.WriteString(body + s.log.String())
	if strings.Contains(all.String(), testSecret) {
		t.Error("a response or the log holds the secret key")
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{1: "1 byte", 10: "10 bytes", 1024: "1 KiB", 10 << 20: "10 MiB", 5 << 30: "5 GiB", 500000: "500 KB", 1536: "1536 bytes"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestServeUnknownBucket checks that a request outside the page's own
// routes reaches the embedded target, which answers as S3 does: a bucket
// it does not serve is 404 NoSuchBucket, in XML, not Go's plain-text 404.
func TestServeUnknownBucket(t *testing.T) {
	s := newTestServer(t, nil)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/otherbucket"},
		{http.MethodGet, "/otherbucket/users/alice/x.png"},
		{http.MethodHead, "/otherbucket/users/alice/x.png"},
		{http.MethodGet, "/favicon.ico"},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader("x"))
		resp, body := s.do(t, req)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/xml" {
			t.Errorf("%s %s: %s %q, want 404 application/xml", tc.method, tc.path, resp.Status, resp.Header.Get("Content-Type"))
			continue
		}
		if tc.method != http.MethodHead {
			if e := parseS3Error(t, body); e.Code != "NoSuchBucket" {
				t.Errorf("%s %s: code %s, want NoSuchBucket", tc.method, tc.path, e.Code)
			}
		}
	}
}

// TestServeObjectsOwnerOnly checks that the embedded target lets only the
// signed-in owner read an object (a key under users/NAME/ for the session
// of NAME), and that no answer lets another origin read it.
func TestServeObjectsOwnerOnly(t *testing.T) {
	s := newTestServer(t, nil)
	alice := s.signIn(t, "alice")
	const svg = `<svg xmlns="http://www.w3.org/2000/svg"/>`
	if resp, body := s.upload(t, s.form(t, alice, "image/svg+xml"), "image/svg+xml", "x.svg", svg); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s %s", resp.Status, body)
	}
	tampered := *alice
	tampered.Value = "bob" + strings.TrimPrefix(alice.Value, "alice")
	read := func(method string, c *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest(method, s.URL+"/uploads/users/alice/x.svg", nil)
		req.Header.Set("Origin", "https://evil.example")
		if c != nil {
			req.AddCookie(c)
		}
		return s.do(t, req)
	}
	for who, c := range map[string]*http.Cookie{"no session": nil, "bob": s.signIn(t, "bob"), "a forged session": &tampered} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, body := read(method, c)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/xml" {
				t.Errorf("%s, %s: %s %q, want 403 application/xml", who, method, resp.Status, resp.Header.Get("Content-Type"))
			}
			if method == http.MethodGet && (resp.StatusCode != http.StatusForbidden || parseS3Error(t, body).Code != "AccessDenied") {
				t.Errorf("%s, GET: %s %s, want AccessDenied", who, resp.Status, body)
			}
			if strings.Contains(body, "svg") {
				t.Errorf("%s, %s: the answer holds the object", who, method)
			}
			if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s, %s: Access-Control-Allow-Origin %q", who, method, v)
			}
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp, body := read(method, alice)
		if resp.StatusCode != http.StatusOK || (method == http.MethodGet && body != svg) {
			t.Errorf("alice, %s: %s %q", method, resp.Status, body)
		}
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("alice, %s: Access-Control-Allow-Origin %q: another origin could read the object", method, v)
		}
	}
	if resp, body := s.get(t, "/uploads/users/alice/none.svg", alice); resp.StatusCode != http.StatusNotFound || parseS3Error(t, body).Code != "NoSuchKey" {
		t.Errorf("alice, a missing key of hers: %s %s, want 404 NoSuchKey", resp.Status, body)
	}
	// The page is same-origin: the embedded target allows no other
	// origin, neither for a preflight nor on an upload's answer.
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/uploads", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, _ := s.do(t, req)
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" || resp.StatusCode == http.StatusOK {
		t.Errorf("preflight from another origin: %s, Access-Control-Allow-Origin %q; want it refused", resp.Status, v)
	}
	up, err := postpolicytest.NewRequest(s.form(t, alice, "image/png"), []postpolicy.Field{{Name: "Content-Type", Value: "image/png"}}, "y.png", strings.NewReader("y"))
	if err != nil {
		t.Fatal(err)
	}
	up.Header.Set("Origin", "https://evil.example")
	if resp, _ := s.do(t, up); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an upload's answer lets another origin read it: %v", resp.Header)
	}
}

// TestServeHostAllowList checks serve's answer to a Host it was not
// configured for, as a DNS rebinding attack sends (a name the attacker
// controls, now resolving to 127.0.0.1): 421, plain text, no page, on
// every route; and that the loopback names of the port are sent to the
// page's own URL.
func TestServeHostAllowList(t *testing.T) {
	s := newTestServer(t, nil)
	remote := newTestServer(t, nil, "-endpoint", "http://127.0.0.1:9000")
	alice := s.signIn(t, "alice")
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	for _, srv := range []*testServer{s, remote} {
		for _, host := range []string{"rebind.attacker.example:" + port, "rebind.attacker.example", "127.0.0.2:" + port, "evil.localhost:" + port, "localhost.:" + port, "localhost:1" + port} {
			for _, tc := range []struct{ method, path string }{
				{"GET", "/"}, {"GET", "/api/form?content_type=image/png"}, {"GET", "/api/uploads"}, {"POST", "/signin"},
				{"GET", "/static/app.js"}, {"GET", "/uploads/users/alice/x.png"}, {"POST", "/uploads"},
			} {
				req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("name=mallory"))
				req.Host = host
				req.AddCookie(alice)
				resp, body := srv.do(t, req)
				if resp.StatusCode != http.StatusMisdirectedRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
					strings.Contains(body, "<") || resp.Header.Get("Location") != "" || len(resp.Cookies()) != 0 {
					t.Errorf("%s %s with Host %s: %s %q Location %q\n%s", tc.method, tc.path, host, resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), body)
				}
			}
		}
	}
	for host, want := range map[string]int{"127.0.0.1:" + port: http.StatusOK, "localhost:" + port: http.StatusTemporaryRedirect, "LocalHost:" + port: http.StatusTemporaryRedirect, "[::1]:" + port: http.StatusTemporaryRedirect} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/?a=b", nil)
		req.Host = host
		resp, _ := s.do(t, req)
		if resp.StatusCode != want || (want == http.StatusTemporaryRedirect && resp.Header.Get("Location") != s.URL+"/?a=b") {
			t.Errorf("GET / with Host %s: %s to %q, want %d", host, resp.Status, resp.Header.Get("Location"), want)
		}
	}
}

// TestServePublicURL checks -public-url, the URL browsers reach serve at
// when it listens on all interfaces: forms post to it, the page answers
// to its host, and the loopback names are sent there.
func TestServePublicURL(t *testing.T) {
	s := newTestServer(t, nil, "-public-url", "http://192.168.1.5:8080")
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	page := func(host, path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Host = host
		resp, _ := s.do(t, req)
		return resp
	}
	if resp := page("192.168.1.5:8080", "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET / at the public host: %s", resp.Status)
	}
	if resp := page("127.0.0.1:"+port, "/x?y=1"); resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "http://192.168.1.5:8080/x?y=1" {
		t.Errorf("GET at 127.0.0.1: %s to %q, want 307 to the public URL", resp.Status, resp.Header.Get("Location"))
	}
	if resp := page("192.168.1.6:8080", "/"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET / at another host: %s, want 421", resp.Status)
	}

	// Signed in and uploading at the public host, as a browser there does.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/signin", strings.NewReader("name=alice"))
	req.Host = "192.168.1.5:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := s.do(t, req)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
		t.Fatalf("sign-in at the public host: %s", resp.Status)
	}
	c := resp.Cookies()[0]
	req, _ = http.NewRequest(http.MethodGet, s.URL+"/api/form?content_type=image/png", nil)
	req.Host = "192.168.1.5:8080"
	req.AddCookie(c)
	resp, body := s.do(t, req)
	_, u, fields := decodeForm(t, body)
	if resp.StatusCode != http.StatusOK || u != "http://192.168.1.5:8080/uploads" {
		t.Fatalf("the form posts to %q (%s), want http://192.168.1.5:8080/uploads", u, resp.Status)
	}
	f := &postpolicy.Form{URL: s.URL + "/uploads"}
	for _, fl := range fields {
		f.Fields = append(f.Fields, postpolicy.Field{Name: fl[0], Value: fl[1]})
	}
	up, err := postpolicytest.NewRequest(f, []postpolicy.Field{{Name: "Content-Type", Value: "image/png"}}, "p.png", strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	up.Host = "192.168.1.5:8080"
	resp, body = s.do(t, up)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "<Location>http://192.168.1.5:8080/uploads/users/alice/p.png</Location>") {
		t.Errorf("upload at the public host: %s %s", resp.Status, body)
	}

	// Behind a proxy that ends TLS: the session cookie is Secure, and a
	// real target's CORS rule names the public origin.
	tls := newTestServer(t, nil, "-public-url", "https://Demo.Example:443/")
	req, _ = http.NewRequest(http.MethodPost, tls.URL+"/signin", strings.NewReader("name=alice"))
	req.Host = "demo.example"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = tls.do(t, req)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 || !resp.Cookies()[0].Secure {
		t.Fatalf("sign-in behind https: %s, Set-Cookie %q; want a Secure cookie", resp.Status, resp.Header.Get("Set-Cookie"))
	}
	req, _ = http.NewRequest(http.MethodGet, tls.URL+"/api/form?content_type=image/png", nil)
	req.Host = "demo.example"
	req.AddCookie(resp.Cookies()[0])
	_, body = tls.do(t, req)
	if !strings.Contains(body, `"url":"https://demo.example/uploads"`) {
		t.Fatalf("behind https, the form: %s", body)
	}
	// The upload arrives over plain http from the proxy; the object's
	// Location is https, as the page sees it.
	_, _, fields = decodeForm(t, body)
	f = &postpolicy.Form{URL: tls.URL + "/uploads"}
	for _, fl := range fields {
		f.Fields = append(f.Fields, postpolicy.Field{Name: fl[0], Value: fl[1]})
	}
	if up, err = postpolicytest.NewRequest(f, []postpolicy.Field{{Name: "Content-Type", Value: "image/png"}}, "p.png", strings.NewReader("png")); err != nil {
		t.Fatal(err)
	}
	up.Host = "demo.example"
	resp, body = tls.do(t, up)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "<Location>https://demo.example/uploads/users/alice/p.png</Location>") ||
		resp.Header.Get("Location") != "https://demo.example/uploads/users/alice/p.png" {
		t.Errorf("upload behind https: %s, Location %q, %s", resp.Status, resp.Header.Get("Location"), body)
	}
	remote := newTestServer(t, nil, "-endpoint", "http://127.0.0.1:9000", "-public-url", "https://demo.example")
	if got := remote.app.corsOrigins(); !slices.Contains(got, "https://demo.example") || !slices.Contains(got, remote.URL) {
		t.Errorf("the CORS rule's origins %q lack the public origin or the listening one", got)
	}
}

// isDotSegment reports whether a segment of an escaped URL path is one the
// WHATWG URL standard's path parser removes or climbs with: ".", "..", or
// the same with dots written %2e (https://url.spec.whatwg.org/#single-dot-path-segment).
func isDotSegment(seg string) bool {
	switch strings.ToLower(seg) {
	case ".", "%2e", "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// TestEscapeKey checks the object URLs serve writes: no segment a browser
// would normalise, and the key back from the path the server decodes.
func TestEscapeKey(t *testing.T) {
	keys := append([]string{"users/alice/../../users/bob/evil.png", "users/alice/./x", "users/alice/%2e%2e/x", "users/alice/.%2E/x", "users/alice/..", "users/alice/a b/ü?#.png"}, hostileKeys...)
	for _, key := range keys {
		if key == "." || key == ".." {
			continue // no URL path can name these keys: every browser removes them
		}
		esc := receiver.EscapeKey(key)
		for _, seg := range strings.Split(esc, "/") {
			if isDotSegment(seg) {
				t.Errorf("EscapeKey(%q) = %q, with the dot segment %q", key, esc, seg)
			}
		}
		u, err := url.Parse("http://127.0.0.1/uploads/" + esc)
		if err != nil || u.Path != "/uploads/"+key {
			t.Errorf("EscapeKey(%q) = %q, which a server decodes to %q (%v)", key, esc, u.Path, err)
		}
	}
}

// TestServeDotSegmentKeys uploads, as alice, an object whose key climbs
// out of her prefix with "..": S3 accepts such a key as it is, and so does
// the embedded target, but no link or Location must lead a browser, which
// removes dot segments, to bob's object.
func TestServeDotSegmentKeys(t *testing.T) {
	s := newTestServer(t, nil)
	alice, bob := s.signIn(t, "alice"), s.signIn(t, "bob")
	if resp, body := s.upload(t, s.form(t, bob, "image/png"), "image/png", "evil.png", "bob's"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("bob's upload: %s %s", resp.Status, body)
	}
	const key = "users/alice/../../users/bob/evil.png"
	f := s.form(t, alice, "image/png")
	setField(f, "key", key)
	resp, body := s.upload(t, f, "image/png", "evil.png", "alice's")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("alice's upload: %s %s", resp.Status, body)
	}
	var pr struct{ Key, Location string }
	if err := xml.Unmarshal([]byte(body), &pr); err != nil || pr.Key != key {
		t.Fatalf("PostResponse %+v, %v", pr, err)
	}
	base, _ := url.Parse(s.URL + "/")
	// follow resolves link as a browser does (net/url removes dot segments
	// as RFC 3986, section 5.2.4, and the WHATWG URL standard do) and reads
	// it as alice.
	follow := func(what, link string) {
		t.Helper()
		ref, err := url.Parse(link)
		if err != nil {
			t.Errorf("%s %q: %v", what, link, err)
			return
		}
		u := base.ResolveReference(ref)
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if isDotSegment(seg) {
				t.Errorf("%s %q keeps the dot segment %q", what, u, seg)
			}
		}
		if resp, body := s.get(t, u.RequestURI(), alice); resp.StatusCode != http.StatusOK || body != "alice's" {
			t.Errorf("%s %q resolves to %s, which answers %s %q; want alice's object", what, link, u, resp.Status, body)
		}
	}
	follow("the Location header", resp.Header.Get("Location"))
	follow("the PostResponse's Location", pr.Location)
	items := s.uploads(t, alice)
	if len(items) != 1 || items[0].Key != key {
		t.Fatalf("alice's uploads: %+v", items)
	}
	follow("the list's link", items[0].URL)
	if got := s.uploads(t, bob); len(got) != 1 || got[0].Key != "users/bob/evil.png" {
		t.Errorf("bob's uploads: %+v", got)
	}
	if resp, body := s.get(t, "/uploads/users/bob/evil.png", bob); resp.StatusCode != http.StatusOK || body != "bob's" {
		t.Errorf("bob's object: %s %q", resp.Status, body)
	}
}

// TestServeQuotas checks -user-quota and -data-quota: an upload that would
// take a user, or the data directory, over its quota is refused while it
// streams, with EntityTooLarge and the room left as MaxSizeAllowed, and
// stores nothing.
func TestServeQuotas(t *testing.T) {
	s := newTestServer(t, nil, "-max-size", "1KiB", "-user-quota", "2KiB", "-data-quota", "3KiB")
	type refusal struct{ Code, Message, MaxSizeAllowed string }
	up := func(user, name string, size int) (int, refusal) {
		t.Helper()
		c := s.signIn(t, user)
		resp, body := s.upload(t, s.form(t, c, "image/png"), "image/png", name, strings.Repeat("q", size))
		var e refusal
		if resp.StatusCode != http.StatusCreated {
			if err := xml.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("%s's %s: %s %s", user, name, resp.Status, body)
			}
		}
		return resp.StatusCode, e
	}
	for _, tc := range []struct {
		user, name string
		size       int
		status     int
		left       string // MaxSizeAllowed of a refusal
	}{
		{"alice", "a1.png", 1000, 201, ""},
		{"alice", "a2.png", 1000, 201, ""},
		{"alice", "a3.png", 1000, 400, "48"}, // her quota: 2048 - 2000 left
		{"alice", "a4.png", 48, 201, ""},
		{"bob", "b1.png", 1000, 201, ""},
		{"carol", "c1.png", 100, 400, "24"}, // the data directory: 3072 - 3048 left
		{"carol", "c2.png", 24, 201, ""},
		{"carol", "c3.png", 1, 400, "0"},
	} {
		status, e := up(tc.user, tc.name, tc.size)
		if status != tc.status || (tc.status == 400 && (e.Code != "EntityTooLarge" || e.MaxSizeAllowed != tc.left)) {
			t.Errorf("%s's %s of %d bytes: %d %+v, want %d with MaxSizeAllowed %q", tc.user, tc.name, tc.size, status, e, tc.status, tc.left)
		}
	}
	keys, temps := storeState(t, s.data, "uploads")
	want := []string{"users/alice/a1.png", "users/alice/a2.png", "users/alice/a4.png", "users/bob/b1.png", "users/carol/c2.png"}
	if diff := cmp.Diff(want, keys); diff != "" || len(temps) != 0 {
		t.Errorf("the store holds (-want +got):\n%s\nand temporary files %q", diff, temps)
	}
}

// TestServeMaxUploads checks -max-uploads: while one upload is being
// received, a second is answered 503 SlowDown at once; once the first is
// done, uploads are taken again.
func TestServeMaxUploads(t *testing.T) {
	s := startLiveServe(t, serveLimits{}, "-max-uploads", "1")
	content := pattern(1, 256<<10)
	body, boundary := multipartBody(t, s.form(t, "first"), "image/png", "first.png", strings.NewReader(content))
	raw := testutil.RawPost(s.addr, "/uploads", boundary, body)
	c := s.dial(t)
	defer c.Close()
	c.Write(raw[:len(raw)/2])
	// The first upload's handler may not have started yet: try until a
	// second upload is refused, each with a key of its own.
	tries := 0
	waitFor(t, "an upload to be answered SlowDown", func() bool {
		tries++
		a := s.post(t, s.form(t, "second"), "image/png", fmt.Sprintf("s%d.png", tries), strings.NewReader("x"))
		if a.status == http.StatusServiceUnavailable {
			if a.code != "SlowDown" {
				t.Errorf("503 with code %q, want SlowDown: %s", a.code, a.body)
			}
			return true
		}
		return false
	})
	c.Write(raw[len(raw)/2:])
	if a := readAnswer(t, c); a.status != http.StatusCreated {
		t.Fatalf("the first upload: %d %s", a.status, a.body)
	}
	if a := s.post(t, s.form(t, "third"), "image/png", "t.png", strings.NewReader("x")); a.status != http.StatusCreated {
		t.Errorf("an upload after the first is done: %d %s", a.status, a.body)
	}
}

// TestServeDurationsForPeople checks that the page and the startup summary
// write -expires for people, and say plainly when it is unusually long.
func TestServeDurationsForPeople(t *testing.T) {
	s := newTestServer(t, nil)
	_, page := s.get(t, "/", s.signIn(t, "alice"))
	if !strings.Contains(page, "valid for 10 minutes.") || strings.Contains(page, "10m0s") {
		t.Errorf("the page does not say the default lifetime as 10 minutes:\n%s", page)
	}
	for _, tc := range []struct {
		expires string
		want    []string
	}{
		{"2h30m", []string{"valid 2 hours 30 minutes\n"}},
		{"90s", []string{"valid 1 minute 30 seconds\n"}},
		{"25677h14m8s", []string{"valid about 1069 days 21 hours", "unusually long"}},
	} {
		_, stop := startServe(t, nil, "-data", t.TempDir(), "-expires", tc.expires)
		stdout, _, err := stop()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("-expires %s: the summary lacks %q:\n%s", tc.expires, w, stdout)
			}
		}
		if strings.Contains(stdout, "m0s") || strings.Contains(stdout, "h14m8s") {
			t.Errorf("-expires %s: the summary writes a Go duration:\n%s", tc.expires, stdout)
		}
	}
}

// TestPageProgressHidden checks that the page shows no progress bar before
// an upload: app.js shows it while a file is being sent, and hides it when
// the store has answered.
func TestPageProgressHidden(t *testing.T) {
	s := newTestServer(t, nil)
	_, page := s.get(t, "/", s.signIn(t, "alice"))
	if !regexp.MustCompile(`<div id="progress-row" class="progress" hidden>`).MatchString(page) {
		t.Errorf("the progress bar is not hidden before an upload:\n%s", page)
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute:             "10 minutes",
		time.Minute:                  "1 minute",
		90 * time.Second:             "1 minute 30 seconds",
		2*time.Hour + 30*time.Minute: "2 hours 30 minutes",
		2*time.Hour + 30*time.Minute + 10*time.Second:    "about 2 hours 30 minutes",
		time.Hour + time.Second:                          "about 1 hour",
		24 * time.Hour:                                   "1 day",
		49 * time.Hour:                                   "2 days 1 hour",
		25677*time.Hour + 14*time.Minute + 8*time.Second: "about 1069 days 21 hours",
		1500 * time.Millisecond:                          "about 1 second",
		500 * time.Millisecond:                           "500 milliseconds",
		time.Millisecond:                                 "1 millisecond",
		time.Microsecond:                                 "less than a millisecond",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%s) = %q, want %q", d, got, want)
		}
	}
}
