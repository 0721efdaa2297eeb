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
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/postpolicytest"
)

// The presigned PUT path of serve: POST /api/put, the PUT to the embedded
// target (its quotas and -max-uploads), and, for a real target, the list's
// presigned GET links.

// putAnswer is the JSON of POST /api/put: Presigned.MarshalJSON and the
// key, or an error.
type putAnswer struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Key     string            `json:"key"`
	Error   string            `json:"error"`
}

// presigned returns the answer as the Presigned it was made from.
func (a putAnswer) presigned() *postpolicy.Presigned {
	p := &postpolicy.Presigned{Method: a.Method, URL: a.URL}
	for name, value := range a.Headers {
		p.Header = append(p.Header, postpolicy.Field{Name: name, Value: value})
	}
	return p
}

// askPut posts body to /api/put with the cookie c (nil for none), as the
// page does, and returns the status and the decoded answer, which must be
// JSON.
func (s *testServer) askPut(t *testing.T, c *http.Cookie, body string) (int, putAnswer) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/put", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c != nil {
		req.AddCookie(c)
	}
	resp, b := s.do(t, req)
	var a putAnswer
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(b), &a) != nil {
		t.Fatalf("POST /api/put %s: %s %q, not JSON", body, resp.Status, b)
	}
	return resp.StatusCode, a
}

// presignPut asks /api/put for a presigned PUT of a file and fails the test
// unless it gets one.
func (s *testServer) presignPut(t *testing.T, c *http.Cookie, filename, ct string, size int) putAnswer {
	t.Helper()
	body, _ := json.Marshal(backend.PutRequest{Filename: filename, Type: ct, Size: int64(size)})
	code, a := s.askPut(t, c, string(body))
	if code != http.StatusOK {
		t.Fatalf("POST /api/put %s: %d %+v", body, code, a)
	}
	return a
}

// sendPut PUTs content to the answer's URL with its headers (Content-Length
// being content's own length, as a browser sends it), after change (nil
// for none) has had its way with the request, and returns the response and
// its body.
func sendPut(t *testing.T, client *http.Client, a putAnswer, content string, change func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := postpolicytest.NewPresignedRequest(a.presigned(), strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(req)
	}
	resp, err := client.Do(req)
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

// TestPresignedPut signs a presigned PUT for the signed-in user, PUTs the
// bytes to the embedded target, and reads them back as the owner.
func TestPresignedPut(t *testing.T) {
	s := newTestServer(t, nil)
	alice := s.signIn(t, "alice")
	const content = "\x89PNG data"
	a := s.presignPut(t, alice, `C:\photos\a b.png`, "image/png", len(content))
	want := map[string]string{"Content-Type": "image/png", "x-amz-meta-uploader": "alice"}
	if diff := cmp.Diff(want, a.Headers); diff != "" || a.Method != "PUT" || a.Key != "users/alice/a b.png" {
		t.Errorf("answer %+v; headers (-want +got):\n%s", a, diff)
	}
	u, err := url.Parse(a.URL)
	if err != nil || u.Scheme+"://"+u.Host != s.URL || u.EscapedPath() != "/uploads/users/alice/a%20b.png" || u.Query().Get("X-Amz-Expires") != "600" ||
		u.Query().Get("X-Amz-SignedHeaders") != "content-length;content-type;host;x-amz-meta-uploader" {
		t.Errorf("URL %s: want the embedded target's /uploads/users/alice/a%%20b.png, valid 600 s, signing the headers", a.URL)
	}

	resp, body := sendPut(t, http.DefaultClient, a, content, nil)
	sum := md5.Sum([]byte(content))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("PUT: %s, ETag %q: %s", resp.Status, resp.Header.Get("ETag"), body)
	}
	resp, body = s.get(t, "/uploads/users/alice/a%20b.png", alice)
	if resp.StatusCode != http.StatusOK || body != content || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Amz-Meta-Uploader") != "alice" {
		t.Errorf("GET as the owner: %s %q, Content-Type %q, uploader %q", resp.Status, body, resp.Header.Get("Content-Type"), resp.Header.Get("X-Amz-Meta-Uploader"))
	}
	if resp, _ := s.get(t, "/uploads/users/alice/a%20b.png", s.signIn(t, "bob")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET as bob: %s, want 403", resp.Status)
	}
	items := s.uploads(t, alice)
	if len(items) != 1 || items[0].Key != "users/alice/a b.png" || items[0].Size != int64(len(content)) || items[0].ContentType != "image/png" ||
		items[0].URL != "/uploads/users/alice/a%20b.png" {
		t.Errorf("alice's uploads: %+v", items)
	}
	// The log names the PUT, never its query (the signature).
	if log := s.log.String(); !strings.Contains(log, "PUT /uploads/users/alice/a%20b.png 200 ") || strings.Contains(log, "X-Amz-Signature") {
		t.Errorf("the log:\n%s", log)
	}
}

// TestPresignedPutNames PUTs files whose names hold characters that URLs
// escape: each is stored under users/NAME/ and its name, as the POST
// form's ${filename} would give, and read back by the list's link.
func TestPresignedPutNames(t *testing.T) {
	s := newTestServer(t, nil)
	alice := s.signIn(t, "alice")
	names := []string{"a?b #1%.png", "ü 名前.png", "a+b=c&d;e.png", "..png", "~x'y\"z.png"}
	for _, name := range names {
		a := s.presignPut(t, alice, name, "image/png", len(name))
		if a.Key != "users/alice/"+name {
			t.Errorf("%q: key %q", name, a.Key)
		}
		if resp, body := sendPut(t, http.DefaultClient, a, name, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("PUT %q: %s %s", name, resp.Status, body)
		}
	}
	items := s.uploads(t, alice)
	if len(items) != len(names) {
		t.Fatalf("uploads %+v", items)
	}
	for _, it := range items {
		if resp, body := s.get(t, it.URL, alice); resp.StatusCode != http.StatusOK || body != it.Name || it.Key != "users/alice/"+it.Name {
			t.Errorf("%+v: GET %s: %s %q", it, it.URL, resp.Status, body)
		}
	}
}

// TestPresignedPutRefusedByBackend checks /api/put's refusals: JSON
// errors with a 4xx status that say which rule, and never a secret.
func TestPresignedPutRefusedByBackend(t *testing.T) {
	creds := postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}
	s := newTestServer(t, &creds, "-max-size", "1KiB", "-content-types", "image/,application/pdf")
	alice := s.signIn(t, "alice")
	for _, tc := range []struct {
		c    *http.Cookie
		body string
		code int
		msg  string
	}{
		{nil, `{"filename": "a.png", "type": "image/png", "size": 1}`, 401, "sign in"},
		{alice, `{"filename": "a.txt", "type": "text/plain", "size": 1}`, 400, "files of type text/plain are not accepted here; accepted: image/*, application/pdf"},
		{alice, `{"filename": "a.png", "type": "", "size": 1}`, 400, "say the file's type"},
		{alice, `{"filename": "a.png", "type": "image/png", "size": 0}`, 400, "1 byte to 1 KiB; this one has 0 bytes"},
		{alice, `{"filename": "a.png", "type": "image/png", "size": 1025}`, 400, "1 byte to 1 KiB; this one has 1025 bytes"},
		{alice, `{"filename": "a\u0007.png", "type": "image/png", "size": 1}`, 400, "control character"},
		{alice, `{"filename": "../", "type": "image/png", "size": 1}`, 400, "needs a name"},
		{alice, `{"filename": "a.png", "type": "image/png", "size": 1`, 400, "JSON"},
	} {
		code, a := s.askPut(t, tc.c, tc.body)
		if code != tc.code || !strings.Contains(a.Error, tc.msg) || a.URL != "" {
			t.Errorf("%s: %d %+v, want %d naming %q", tc.body, code, a, tc.code, tc.msg)
		}
	}
	// Not JSON, another method, another site.
	for _, tc := range []struct {
		method, ct, site string
		code             int
	}{
		{http.MethodPost, "text/plain", "", 415},
		{http.MethodPost, "application/x-www-form-urlencoded", "", 415},
		{http.MethodGet, "", "", 405},
		{http.MethodPost, "application/json", "cross-site", 403},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+"/api/put", strings.NewReader(`{"filename": "a.png", "type": "image/png", "size": 1}`))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
			req.Header.Set("Origin", "https://evil.example")
		}
		req.AddCookie(alice)
		resp, body := s.do(t, req)
		if resp.StatusCode != tc.code || strings.Contains(body, "X-Amz-Signature") {
			t.Errorf("%s %s from %q: %s %q, want %d", tc.method, tc.ct, tc.site, resp.Status, body, tc.code)
		}
	}
	if strings.Contains(s.log.String(), testSecret) {
		t.Error("the log holds the secret")
	}
	if keys, _ := storeState(t, s.data, "uploads"); len(keys) != 0 {
		t.Errorf("the store holds %q", keys)
	}
}

// TestPresignedPutTampered PUTs other bytes than the URL was signed for:
// the embedded target refuses each with 403 SignatureDoesNotMatch, and
// stores nothing.
func TestPresignedPutTampered(t *testing.T) {
	s := newTestServer(t, nil, "-content-types", "image/")
	alice := s.signIn(t, "alice")
	const content = "12345678"
	for _, tc := range []struct {
		what    string
		content string
		change  func(*http.Request)
	}{
		{"one byte more", content + "9", nil},
		{"one byte less", content[1:], nil},
		{"another Content-Type", content, func(r *http.Request) { r.Header.Set("Content-Type", "image/gif") }},
		{"HTML", content, func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }},
		{"no Content-Type", content, func(r *http.Request) { r.Header.Del("Content-Type") }},
		{"another uploader", content, func(r *http.Request) { r.Header.Set("X-Amz-Meta-Uploader", "bob") }},
		{"another key", content, func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "/alice/", "/bob/", 1)
			r.URL.RawPath = ""
		}},
		{"a longer lifetime", content, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=600", "X-Amz-Expires=6000", 1)
		}},
	} {
		a := s.presignPut(t, alice, "t.png", "image/png", len(content))
		resp, body := sendPut(t, http.DefaultClient, a, tc.content, tc.change)
		if resp.StatusCode != http.StatusForbidden || parseS3Error(t, body).Code != "SignatureDoesNotMatch" {
			t.Errorf("%s: %s %.300s, want 403 SignatureDoesNotMatch", tc.what, resp.Status, body)
		}
	}
	keys, temps := storeState(t, s.data, "uploads")
	if len(keys) != 0 || len(temps) != 0 {
		t.Errorf("after the refusals the store holds %q and temporary files %q", keys, temps)
	}
	// The URL as signed still works (it was never used).
	a := s.presignPut(t, alice, "t.png", "image/png", len(content))
	if resp, body := sendPut(t, http.DefaultClient, a, content, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the PUT as signed: %s %s", resp.Status, body)
	}
	if keys, _ := storeState(t, s.data, "uploads"); !cmp.Equal(keys, []string{"users/alice/t.png"}) {
		t.Errorf("the store holds %q", keys)
	}
}

// TestPresignedPutQuotas checks that PUTs count against -user-quota and
// -data-quota as POSTs do, together with them: over a quota a PUT is
// refused while it streams, with EntityTooLarge and the room left, and
// stores nothing.
func TestPresignedPutQuotas(t *testing.T) {
	s := newTestServer(t, nil, "-max-size", "1KiB", "-user-quota", "2KiB", "-data-quota", "3KiB")
	type refusal struct{ Code, MaxSizeAllowed string }
	for _, tc := range []struct {
		user, name string
		size       int
		post       bool // by POST form rather than PUT
		status     int
		left       string
	}{
		{"alice", "a1.png", 1000, true, 201, ""},
		{"alice", "a2.png", 1000, false, 200, ""},
		{"alice", "a3.png", 1000, false, 400, "48"}, // her quota: 2048 - 2000 left
		{"alice", "a4.png", 48, false, 200, ""},
		{"bob", "b1.png", 1000, false, 200, ""},
		{"carol", "c1.png", 100, false, 400, "24"}, // the data directory: 3072 - 3048 left
		{"carol", "c2.png", 24, true, 201, ""},
		{"carol", "c3.png", 1, false, 400, "0"},
	} {
		c := s.signIn(t, tc.user)
		content := strings.Repeat("q", tc.size)
		var resp *http.Response
		var body string
		if tc.post {
			resp, body = s.upload(t, s.form(t, c, "image/png"), "image/png", tc.name, content)
		} else {
			resp, body = sendPut(t, http.DefaultClient, s.presignPut(t, c, tc.name, "image/png", tc.size), content, nil)
		}
		var e refusal
		if resp.StatusCode >= 300 {
			if err := xml.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("%s's %s: %s %s", tc.user, tc.name, resp.Status, body)
			}
		}
		if resp.StatusCode != tc.status || (tc.status == 400 && (e.Code != "EntityTooLarge" || e.MaxSizeAllowed != tc.left)) {
			t.Errorf("%s's %s of %d bytes (POST %v): %s %+v, want %d with MaxSizeAllowed %q", tc.user, tc.name, tc.size, tc.post, resp.Status, e, tc.status, tc.left)
		}
	}
	keys, temps := storeState(t, s.data, "uploads")
	want := []string{"users/alice/a1.png", "users/alice/a2.png", "users/alice/a4.png", "users/bob/b1.png", "users/carol/c2.png"}
	if diff := cmp.Diff(want, keys); diff != "" || len(temps) != 0 {
		t.Errorf("the store holds (-want +got):\n%s\nand temporary files %q", diff, temps)
	}
}

// TestServeMaxUploadsPut checks that a PUT being received takes one of
// -max-uploads' places, as a POST does: while it is, another PUT and
// another POST are answered 503 SlowDown at once.
func TestServeMaxUploadsPut(t *testing.T) {
	s := startLiveServe(t, serveLimits{}, "-max-uploads", "1")
	content := pattern(2, 256<<10)
	p, key, err := s.uploads.PresignPut(context.Background(), "first", backend.PutRequest{Filename: "first.png", Type: "image/png", Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	req, err := postpolicytest.NewPresignedRequest(p, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := req.Write(&raw); err != nil {
		t.Fatal(err)
	}
	c := s.dial(t)
	defer c.Close()
	c.Write(raw.Bytes()[:raw.Len()/2])
	tries := 0
	waitFor(t, "an upload to be answered SlowDown", func() bool {
		tries++
		var a answer
		if tries%2 == 0 {
			a = s.post(t, s.form(t, "second"), "image/png", fmt.Sprintf("s%d.png", tries), strings.NewReader("x"))
		} else {
			a = s.put(t, "second", fmt.Sprintf("s%d.png", tries), "x")
		}
		if a.status == http.StatusServiceUnavailable {
			if a.code != "SlowDown" {
				t.Errorf("503 with code %q, want SlowDown: %s", a.code, a.body)
			}
			return tries > 1 // both a PUT and a POST were refused
		}
		return false
	})
	c.Write(raw.Bytes()[raw.Len()/2:])
	if a := readAnswer(t, c); a.status != http.StatusOK {
		t.Fatalf("the first PUT: %d %s", a.status, a.body)
	}
	if status, b := s.getObject(t, key); status != http.StatusOK || string(b) != content {
		t.Errorf("the first PUT's object: %d, %d bytes", status, len(b))
	}
	if a := s.put(t, "third", "t.png", "x"); a.status != http.StatusOK {
		t.Errorf("a PUT after the first is done: %d %s", a.status, a.body)
	}
}

// put uploads content as user's name by presigned PUT over a connection of
// its own, closed after the answer, and returns the answer.
func (s *liveServe) put(t testing.TB, user, name, content string) answer {
	t.Helper()
	p, _, err := s.uploads.PresignPut(context.Background(), user, backend.PutRequest{Filename: name, Type: "image/png", Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	req, err := postpolicytest.NewPresignedRequest(p, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, testutil.S3Code(string(b)), string(b), resp.Header}
}

// TestServeRemotePresignedLinks runs serve against a fake S3 (-endpoint)
// that answers signed reads only: the page's presigned PUT stores the file
// there, and the list's link to it is a presigned GET, valid 15 minutes,
// that downloads it; an image is shown in its type, an HTML file is an
// attachment; a changed or unsigned link is refused.
func TestServeRemotePresignedLinks(t *testing.T) {
	fake := postpolicytest.NewServer("photos")
	defer fake.Close()
	fake.Handler.PrivateReads = true
	s := newTestServer(t, &fake.Credentials, "-endpoint", fake.URL, "-bucket", "photos", "-content-types", "*")
	alice := s.signIn(t, "alice")
	files := []struct{ name, ct, content, disposition string }{
		{"photo.png", "image/png", "\x89PNG pixels", ""},
		{"page.html", "text/html", "<script>alert(1)</script>", "attachment"},
		{"notes.txt", "text/plain", "plain text", ""},
	}
	for _, f := range files {
		a := s.presignPut(t, alice, f.name, f.ct, len(f.content))
		if !strings.HasPrefix(a.URL, fake.URL+"/photos/users/alice/"+f.name+"?") {
			t.Errorf("PUT URL %s, want the fake's", a.URL)
		}
		if resp, body := sendPut(t, http.DefaultClient, a, f.content, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %s %s", f.name, resp.Status, body)
		}
		report, _ := json.Marshal(map[string]any{"key": a.Key, "size": len(f.content), "content_type": f.ct})
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/uploads", bytes.NewReader(report))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(alice)
		if resp, body := s.do(t, req); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("report: %s %s", resp.Status, body)
		}
	}
	items := s.uploads(t, alice)
	if len(items) != len(files) {
		t.Fatalf("uploads %+v", items)
	}
	for _, f := range files {
		var link string
		for _, it := range items {
			if it.Name == f.name {
				link = it.URL
			}
		}
		u, err := url.Parse(link)
		if err != nil || u.Scheme+"://"+u.Host != fake.URL || u.Path != "/photos/users/alice/"+f.name {
			t.Errorf("%s: link %q, want one to the fake's object", f.name, link)
			continue
		}
		q := u.Query()
		cred := strings.Split(q.Get("X-Amz-Credential"), "/")
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || len(cred) != 5 || cred[0] != fake.Credentials.AccessKeyID || cred[2] != "us-east-1" ||
			q.Get("X-Amz-Expires") != "900" || q.Get("X-Amz-SignedHeaders") != "host" || len(q.Get("X-Amz-Date")) != len("20060102T150405Z") ||
			!regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(q.Get("X-Amz-Signature")) || !strings.HasSuffix(u.RawQuery, "&X-Amz-Signature="+q.Get("X-Amz-Signature")) {
			t.Errorf("%s: link %s is not a presigned GET valid 900 s", f.name, link)
		}
		if got := q.Get("response-content-disposition"); got != f.disposition {
			t.Errorf("%s: response-content-disposition %q, want %q", f.name, got, f.disposition)
		}
		if strings.Contains(link, fake.Credentials.SecretAccessKey) {
			t.Errorf("%s: the link holds the secret", f.name)
		}
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantType := f.ct
		if f.ct == "text/plain" {
			wantType = "text/plain; charset=utf-8"
		}
		if resp.StatusCode != http.StatusOK || string(body) != f.content || resp.Header.Get("Content-Disposition") != f.disposition || resp.Header.Get("Content-Type") != wantType {
			t.Errorf("GET %s's link: %s %q, Content-Type %q, Content-Disposition %q", f.name, resp.Status, body, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		// Without the disposition, or without the signature, no answer.
		for what, l := range map[string]string{
			"without its override": strings.Replace(strings.Replace(link, "response-content-disposition=attachment&", "", 1), "response-content-type=", "x=", 1),
			"unsigned":             strings.Split(link, "?")[0],
		} {
			resp, err := http.Get(l)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET %s's link %s: %s, want 403", f.name, what, resp.Status)
			}
		}
	}
}
