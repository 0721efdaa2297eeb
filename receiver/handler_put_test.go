package receiver_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

var exampleCreds = postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

// handlerFixture is a Handler over a MemoryStore (unless another Store is
// given) behind an httptest.Server, a Signer for its URL, path-style, and
// the test signer.
type handlerFixture struct {
	h      *receiver.Handler
	store  *receiver.MemoryStore
	ts     *httptest.Server
	signer *postpolicy.Signer
	ts4    *testSigner
}

func newHandlerFixture(t *testing.T, edit func(h *receiver.Handler)) *handlerFixture {
	t.Helper()
	f := &handlerFixture{store: receiver.NewMemoryStore(), ts4: exampleSigner()}
	f.h = &receiver.Handler{
		Verifier: &receiver.Verifier{Lookup: receiver.StaticCredentials(exampleCreds), Region: "us-east-1"},
		Store:    f.store,
		Buckets:  []string{"uploads"},
		BaseHost: "localhost",
		ErrorLog: func(r *http.Request, err error) { t.Logf("ErrorLog: %s %s: %v", r.Method, r.URL.Path, err) },
	}
	if edit != nil {
		edit(f.h)
	}
	f.ts = httptest.NewServer(f.h)
	t.Cleanup(f.ts.Close)
	f.signer = &postpolicy.Signer{Credentials: exampleCreds, Region: "us-east-1", Endpoint: f.ts.URL, URLStyle: postpolicy.URLStylePath}
	return f
}

// client sends every request to the fixture's server, whatever host its
// URL names (BUCKET.localhost:PORT for virtual-hosted style).
func (f *handlerFixture) client() *http.Client {
	addr := f.ts.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}}
}

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// code returns the S3 error code of the answer's body, or "".
func (r response) code() string {
	var e struct{ Code string }
	xml.Unmarshal([]byte(r.body), &e)
	return e.Code
}

// message returns the Message of the answer's S3 error, or "".
func (r response) message() string {
	var e struct{ Message string }
	xml.Unmarshal([]byte(r.body), &e)
	return e.Message
}

func (f *handlerFixture) do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := f.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// presignedRequest returns the request p describes, with body.
func presignedRequest(t testing.TB, p *postpolicy.Presigned, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(p.Method, p.URL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range p.Header {
		if h.Name == "Content-Length" {
			continue // net/http sends ContentLength
		}
		req.Header.Set(h.Name, h.Value)
	}
	return req
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// anonymousGet reads an object without signature.
func (f *handlerFixture) anonymousGet(t testing.TB, method, key string) response {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+"/uploads/"+receiver.EscapeKey(key), nil)
	return f.do(t, req)
}

// TestHandlerPut uploads by a presigned PUT (Signer.PresignPut) and reads
// the object back byte for byte, with its Content-Type and metadata; a PUT
// that breaks what was signed (another Content-Type, another size) or
// whose body is cut short is refused and stores nothing, leaving an
// earlier object of the key as it was.
func TestHandlerPut(t *testing.T) {
	f := newHandlerFixture(t, nil)
	const key = "users/alice/a b+c~é=&.png"
	content := []byte("\x89PNG\r\n\x1a\n not really a PNG \x00\xff")
	presign := func(size int) *postpolicy.Presigned {
		p, err := f.signer.PresignPut(t.Context(), postpolicy.Policy{Expiration: time.Now().Add(10 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket("uploads"), postpolicy.Key(key), postpolicy.ContentType("image/png"),
			postpolicy.ContentLengthRange(int64(size), int64(size)), postpolicy.Meta("uploader", "alice"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := presign(len(content))
	r := f.do(t, presignedRequest(t, p, content))
	if r.status != http.StatusOK || r.body != "" || r.header.Get("ETag") != `"`+md5Hex(content)+`"` {
		t.Fatalf("PUT: %d, ETag %q, body %q", r.status, r.header.Get("ETag"), r.body)
	}
	got := f.anonymousGet(t, http.MethodGet, key)
	want := []string{"200", string(content), "image/png", "alice", `"` + md5Hex(content) + `"`, strconv.Itoa(len(content))}
	if diff := cmp.Diff(want, []string{strconv.Itoa(got.status), got.body, got.header.Get("Content-Type"),
		got.header.Get("X-Amz-Meta-Uploader"), got.header.Get("ETag"), got.header.Get("Content-Length")}); diff != "" {
		t.Errorf("GET after PUT (-want +got):\n%s", diff)
	}

	// Refused PUTs, after which the object is still the first one.
	other := []byte("another content of another size")
	withHeader := func(req *http.Request, name, value string) *http.Request {
		req.Header.Set(name, value)
		return req
	}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"another Content-Type", withHeader(presignedRequest(t, p, content), "Content-Type", "text/html"), 403, "SignatureDoesNotMatch"},
		{"no Content-Type", withHeader(presignedRequest(t, p, content), "Content-Type", ""), 403, "SignatureDoesNotMatch"},
		{"another size", presignedRequest(t, p, other), 403, "SignatureDoesNotMatch"},
		{"an unsigned x-amz-meta header", withHeader(presignedRequest(t, p, content), "X-Amz-Meta-Uploader", "mallory"), 403, "SignatureDoesNotMatch"},
		{"an added unsigned x-amz header", withHeader(presignedRequest(t, p, content), "X-Amz-Acl", "public-read"), 403, "AccessDenied"},
		{"anonymous", withHeader(must(http.NewRequest("PUT", f.ts.URL+"/uploads/x", strings.NewReader("x"))), "Content-Type", "text/plain"), 403, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.req)
			if r.status != tc.status || r.code() != tc.code {
				t.Errorf("%d %s, want %d %s: %s", r.status, r.code(), tc.status, tc.code, r.body)
			}
		})
	}

	// A body cut short: IncompleteBody, nothing stored.
	p2 := presign(100)
	u, _ := url.Parse(p2.URL)
	raw := "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: image/png\r\nX-Amz-Meta-Uploader: alice\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 60)
	if r := rawExchange(t, f.ts.Listener.Addr().String(), raw); r.status != 400 || r.code() != "IncompleteBody" {
		t.Errorf("a body cut short: %d %s", r.status, r.body)
	}
	if obj, _ := f.store.Object("uploads", key); string(obj.Body) != string(content) || len(f.store.Keys("uploads")) != 1 {
		t.Errorf("after refused PUTs the store holds %q (keys %q)", obj.Body, f.store.Keys("uploads"))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// rawExchange writes raw on a new connection to addr, closes its writing
// side (a client that stopped sending) and reads the answer.
func rawExchange(t testing.TB, addr, raw string) response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// TestHandlerPutHeaderSigned uploads by a PUT signed in its Authorization
// header with the body's SHA-256, virtual-hosted style: stored when the
// body hashes to it, refused (XAmzContentSHA256Mismatch) and not stored
// when it does not. A PUT with x-amz-copy-source is NotImplemented.
func TestHandlerPutHeaderSigned(t *testing.T) {
	f := newHandlerFixture(t, nil)
	_, port, _ := net.SplitHostPort(f.ts.Listener.Addr().String())
	base := "http://uploads.localhost:" + port
	body := []byte("signed in the header")
	req := f.ts4.headerSigned(t, s3Request{method: "PUT", base: base, path: "/dir/h.txt", header: [][2]string{{"Content-Type", "text/plain"}, {"X-Amz-Meta-Note", "hi"}}, body: body}, "")
	if r := f.do(t, req); r.status != 200 || r.header.Get("ETag") != `"`+md5Hex(body)+`"` {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	obj, ok := f.store.Object("uploads", "dir/h.txt")
	if !ok || string(obj.Body) != string(body) || obj.ContentType != "text/plain" ||
		!cmp.Equal(obj.Metadata, []postpolicy.Field{{Name: "x-amz-meta-note", Value: "hi"}}) {
		t.Errorf("stored %+v", obj)
	}

	req = f.ts4.headerSigned(t, s3Request{method: "PUT", base: base, path: "/dir/bad.txt", body: []byte("the body")}, sha256Hex([]byte("another body")))
	if r := f.do(t, req); r.status != 400 || r.code() != "XAmzContentSHA256Mismatch" {
		t.Errorf("a body of another hash: %d %s", r.status, r.body)
	}
	if _, ok := f.store.Object("uploads", "dir/bad.txt"); ok {
		t.Error("a body of another hash was stored")
	}

	req = f.ts4.presigned(t, s3Request{method: "PUT", base: f.ts.URL, path: "/uploads/copy.txt", header: [][2]string{{"X-Amz-Copy-Source", "/uploads/dir/h.txt"}}})
	if r := f.do(t, req); r.status != 501 || r.code() != "NotImplemented" {
		t.Errorf("a copy: %d %s", r.status, r.body)
	}
	if _, ok := f.store.Object("uploads", "copy.txt"); ok {
		t.Error("a copy stored an object")
	}
}

// TestHandlerSignedGet reads an object by a presigned GET
// (Signer.PresignGet) whose response-content-type and
// response-content-disposition override the answer's headers, by a
// presigned HEAD and by a header-signed GET; a tampered or expired URL is
// refused with S3's error, and an anonymous GET or HEAD with response-*
// parameters is 400 InvalidRequest, as S3 answers it.
func TestHandlerSignedGet(t *testing.T) {
	f := newHandlerFixture(t, nil)
	content := "<svg>not really</svg>"
	f.store.Put(t.Context(), "uploads", "pics/a.svg", receiver.ObjectInfo{ContentType: "image/svg+xml"}, strings.NewReader(content))
	g, err := f.signer.PresignGet(t.Context(), "uploads", "pics/a.svg", time.Now().Add(time.Hour),
		&postpolicy.GetOptions{ResponseContentType: "text/plain", ResponseContentDisposition: `attachment; filename="a.svg"`})
	if err != nil {
		t.Fatal(err)
	}
	r := f.do(t, presignedRequest(t, g, nil))
	got := []string{strconv.Itoa(r.status), r.body, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.header.Get("Content-Security-Policy")}
	if diff := cmp.Diff([]string{"200", content, "text/plain", `attachment; filename="a.svg"`, "sandbox"}, got); diff != "" {
		t.Errorf("presigned GET (-want +got):\n%s", diff)
	}

	head := f.ts4.presigned(t, s3Request{method: "HEAD", base: f.ts.URL, path: "/uploads/pics/a.svg", query: [][2]string{{"response-content-type", "application/octet-stream"}}})
	if r := f.do(t, head); r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("Content-Length") != strconv.Itoa(len(content)) {
		t.Errorf("presigned HEAD: %d %v", r.status, r.header)
	}
	hget := f.ts4.headerSigned(t, s3Request{method: "GET", base: f.ts.URL, path: "/uploads/pics/a.svg"}, "")
	if r := f.do(t, hget); r.status != 200 || r.body != content || r.header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("header-signed GET: %d %q %v", r.status, r.body, r.header)
	}
	missing := f.ts4.presigned(t, s3Request{method: "GET", base: f.ts.URL, path: "/uploads/pics/none.svg"})
	if r := f.do(t, missing); r.status != 404 || r.code() != "NoSuchKey" {
		t.Errorf("presigned GET of a missing key: %d %s", r.status, r.body)
	}

	tampered := strings.Replace(g.URL, "text%2Fplain", "text%2Fhtml", 1)
	if tampered == g.URL {
		t.Fatalf("no response-content-type in %s", g.URL)
	}
	if r := f.do(t, must(http.NewRequest("GET", tampered, nil))); r.status != 403 || r.code() != "SignatureDoesNotMatch" {
		t.Errorf("tampered: %d %s", r.status, r.body)
	}
	f.h.Verifier.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if r := f.do(t, presignedRequest(t, g, nil)); r.status != 403 || r.code() != "AccessDenied" || !strings.Contains(r.body, "Request has expired") {
		t.Errorf("expired: %d %s", r.status, r.body)
	}
	f.h.Verifier.Now = nil

	anon := f.do(t, must(http.NewRequest("GET", f.ts.URL+"/uploads/pics/a.svg?response-content-type=text%2Fhtml", nil)))
	if anon.status != 400 || anon.code() != "InvalidRequest" || anon.message() != "Request specific response headers cannot be used for anonymous GET requests." ||
		strings.Contains(anon.body, content) {
		t.Errorf("anonymous GET with response-content-type: %d %s", anon.status, anon.body)
	}
	if r := f.do(t, must(http.NewRequest("HEAD", f.ts.URL+"/uploads/pics/a.svg?response-expires=0", nil))); r.status != 400 {
		t.Errorf("anonymous HEAD with response-expires: %d", r.status)
	}
	if r := f.do(t, must(http.NewRequest("GET", f.ts.URL+"/uploads/pics/a.svg?versionId=null", nil))); r.status != 200 || r.body != content {
		t.Errorf("anonymous GET with another parameter: %d %q", r.status, r.body)
	}
}

// TestHandlerPrivateReads checks PrivateReads: anonymous GET and HEAD are
// 403 AccessDenied "Access Denied", whether the key exists or not; signed
// reads are answered.
func TestHandlerPrivateReads(t *testing.T) {
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.PrivateReads = true })
	f.store.Put(t.Context(), "uploads", "k", receiver.ObjectInfo{}, strings.NewReader("secret"))
	for _, method := range []string{"GET", "HEAD"} {
		for _, key := range []string{"k", "missing"} {
			r := f.anonymousGet(t, method, key)
			if r.status != 403 || (method == "GET" && (r.code() != "AccessDenied" || !strings.Contains(r.body, "<Message>Access Denied</Message>"))) || strings.Contains(r.body, "secret") {
				t.Errorf("anonymous %s %s: %d %s", method, key, r.status, r.body)
			}
		}
	}
	g, err := f.signer.PresignGet(t.Context(), "uploads", "k", time.Now().Add(time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, presignedRequest(t, g, nil)); r.status != 200 || r.body != "secret" || r.header.Get("Content-Type") != "binary/octet-stream" {
		t.Errorf("presigned GET: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}

	// The default: anonymous reads are answered.
	pub := newHandlerFixture(t, nil)
	pub.store.Put(t.Context(), "uploads", "k", receiver.ObjectInfo{}, strings.NewReader("public"))
	if r := pub.anonymousGet(t, "GET", "k"); r.status != 200 || r.body != "public" {
		t.Errorf("anonymous GET without PrivateReads: %d %q", r.status, r.body)
	}
}

// TestHandlerCORSSignedCalls checks CORSOrigins on the new calls: a
// presigned PUT and its preflight, a part upload's preflight with its
// query, a signed GET and its preflight are allowed for the listed origin
// and expose ETag; an anonymous GET and its preflight get no CORS, nor
// does another origin.
func TestHandlerCORSSignedCalls(t *testing.T) {
	const app, evil = "https://app.example", "https://evil.example"
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.CORSOrigins = []string{app} })
	body := []byte("from a page")
	put := f.ts4.presignURL(s3Request{method: "PUT", base: f.ts.URL, path: "/uploads/p.txt", header: [][2]string{{"Content-Type", "text/plain"}}}, 900)
	preflight := func(target, origin, method, headers string) response {
		req, _ := http.NewRequest("OPTIONS", target, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		return f.do(t, req)
	}
	r := preflight(put, app, "PUT", "content-type")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app || r.header.Get("Access-Control-Allow-Headers") != "content-type" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("preflight of a PUT: %d %v", r.status, r.header)
	}
	if r := preflight(put, evil, "PUT", "content-type"); r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of a PUT from another origin: %d %v", r.status, r.header)
	}
	part := f.ts.URL + "/uploads/big.bin?partNumber=1&uploadId=X&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"
	for _, m := range []string{"PUT", "POST", "DELETE"} {
		if r := preflight(part, app, m, ""); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("preflight of a multipart %s: %d %v", m, r.status, r.header)
		}
	}
	req, _ := http.NewRequest("PUT", put, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", app)
	if r := f.do(t, req); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("PUT from the page: %d %v", r.status, r.header)
	}

	get := f.ts4.presignURL(s3Request{method: "GET", base: f.ts.URL, path: "/uploads/p.txt"}, 900)
	if r := preflight(get, app, "GET", ""); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("preflight of a presigned GET: %d %v", r.status, r.header)
	}
	if r := preflight(f.ts.URL+"/uploads/p.txt", app, "GET", "authorization, x-amz-date, x-amz-content-sha256"); r.status != 200 {
		t.Errorf("preflight of a header-signed GET: %d %v", r.status, r.header)
	}
	if r := preflight(f.ts.URL+"/uploads/p.txt", app, "GET", "range"); r.status != 403 {
		t.Errorf("preflight of an anonymous GET: %d %v", r.status, r.header)
	}
	req, _ = http.NewRequest("GET", get, nil)
	req.Header.Set("Origin", app)
	if r := f.do(t, req); r.status != 200 || r.body != string(body) || r.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("presigned GET from the page: %d %v", r.status, r.header)
	}
	req, _ = http.NewRequest("GET", f.ts.URL+"/uploads/p.txt", nil)
	req.Header.Set("Origin", app)
	if r := f.do(t, req); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("anonymous GET from the page: %d %v", r.status, r.header)
	}
}
