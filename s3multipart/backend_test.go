package s3multipart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/s3multipart"
)

// fixture is an S3 store (a postpolicytest.Server, which keeps parts in
// memory and accepts parts of any size), a Backend in front of it mounted
// at /uploads/ on an httptest.Server, and what the tests saw: every
// refusal's body and every ErrorLog line, which must never hold a secret.
type fixture struct {
	t       *testing.T
	store   *postpolicytest.Server
	backend *s3multipart.Backend
	api     *httptest.Server

	mu     sync.Mutex
	seen   []string // refusal bodies and ErrorLog lines
	logged []error
}

// baseRules are the rules of user: their own prefix, videos, PNG images
// and text, at most 64 MiB, parts as Uppy cuts them, the caption metadata.
func baseRules(user string) *s3multipart.Rules {
	return &s3multipart.Rules{
		Bucket:       "uploads",
		KeyPrefix:    "users/" + user + "/",
		ContentTypes: []string{"video/", "image/png", "text/plain"},
		MaxSize:      64 << 20,
		Metadata:     []string{"caption"},
	}
}

// newFixture starts a store and a Backend whose Rules come from the
// X-User header (the test's session): none is 401, "banned" is 403, any
// other user gets baseRules edited by edit.
func newFixture(t *testing.T, edit func(*s3multipart.Rules)) *fixture {
	t.Helper()
	f := &fixture{t: t, store: postpolicytest.NewServer("uploads")}
	t.Cleanup(f.store.Close)
	f.backend = &s3multipart.Backend{
		Signer: f.store.Signer(),
		Client: f.store.Client(),
		Rules: func(r *http.Request) (*s3multipart.Rules, error) {
			switch user := r.Header.Get("X-User"); user {
			case "":
				return nil, nil
			case "banned":
				return nil, fmt.Errorf("%w: uploads are disabled for your account", postpolicy.ErrForbidden)
			default:
				rules := baseRules(user)
				if edit != nil {
					edit(rules)
				}
				return rules, nil
			}
		},
		Sweep: []s3multipart.Location{{Bucket: "uploads", KeyPrefix: "users/"}},
		ErrorLog: func(r *http.Request, err error) {
			t.Logf("ErrorLog: %s %s: %v", r.Method, r.URL.Path, err)
			f.mu.Lock()
			f.seen = append(f.seen, err.Error())
			f.logged = append(f.logged, err)
			f.mu.Unlock()
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/uploads/", http.StripPrefix("/uploads", f.backend))
	f.api = httptest.NewServer(mux)
	t.Cleanup(f.api.Close)
	t.Cleanup(func() { f.checkNoSecrets(f.store.Credentials) })
	return f
}

// checkNoSecrets fails the test when a refusal or a logged error holds a
// part of creds or a signature.
func (f *fixture) checkNoSecrets(creds postpolicy.Credentials) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.seen {
		for _, secret := range []string{creds.SecretAccessKey, creds.AccessKeyID, "X-Amz-Signature", "Signature="} {
			if secret != "" && strings.Contains(s, secret) {
				f.t.Errorf("%q is in an answer or a log line: %s", secret, s)
			}
		}
	}
}

// uppy is a client of the Backend that follows Uppy's Companion protocol
// (@uppy/aws-s3 6.3.1, src/s3-client/CompanionS3.ts): the same routes,
// methods, JSON and URL encoding, and the ETag of each part read from the
// store's answer.
type uppy struct {
	f    *fixture
	t    *testing.T
	user string
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// keyQuery is new URLSearchParams({ key }).
func keyQuery(key string) string { return url.Values{"key": {key}}.Encode() }

// do sends a request to the Backend: body, when not nil, as JSON with
// Content-Type application/json. It records refusals.
func (c *uppy) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.f.api.URL+"/uploads/s3"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.Header.Set("X-User", c.user)
	}
	return c.f.send(req)
}

// send sends req to the Backend and returns the answer, checking that it
// is JSON, not cached, and, when it is a refusal, a message.
func (f *fixture) send(req *http.Request) (int, []byte) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" || resp.Header.Get("Cache-Control") != "no-store" || !json.Valid(b) {
		f.t.Errorf("%s %s: answer of type %q, Cache-Control %q: %s", req.Method, req.URL, ct, resp.Header.Get("Cache-Control"), b)
	}
	if resp.StatusCode >= 300 {
		var m struct{ Message string }
		if err := json.Unmarshal(b, &m); err != nil || m.Message == "" {
			f.t.Errorf("%s %s: %s without a message: %s", req.Method, req.URL, resp.Status, b)
		}
		f.mu.Lock()
		f.seen = append(f.seen, string(b))
		f.mu.Unlock()
	}
	return resp.StatusCode, b
}

// message returns the message of a refusal's body.
func message(body []byte) string {
	var m struct{ Message string }
	json.Unmarshal(body, &m)
	return m.Message
}

type created struct {
	Key, UploadID, Bucket string
	Size, PartSize        int64
	Parts                 int
}

// create is createMultipartUpload: POST /s3/multipart.
func (c *uppy) create(filename, fileType string, metadata map[string]any) (int, created, string) {
	c.t.Helper()
	status, body := c.do("POST", "/multipart", map[string]any{"filename": filename, "type": fileType, "metadata": metadata})
	var res created
	if status == 200 {
		if err := json.Unmarshal(body, &res); err != nil || res.Key == "" || res.UploadID == "" {
			c.t.Fatalf("create: %s (%v)", body, err)
		}
	}
	return status, res, message(body)
}

// mustCreate creates an upload of a file of size bytes, its size in the
// metadata as uppy.setFileMeta(id, {size: file.size}) puts it.
func (c *uppy) mustCreate(filename, fileType string, size int64) created {
	c.t.Helper()
	status, res, msg := c.create(filename, fileType, map[string]any{"name": filename, "type": fileType, "size": size})
	if status != 200 {
		c.t.Fatalf("create %s: %d %s", filename, status, msg)
	}
	return res
}

// signPart is the first half of uploadPart: GET /s3/multipart/ID/N?key=K.
func (c *uppy) signPart(up created, n int) (int, string, []byte) {
	c.t.Helper()
	status, body := c.do("GET", "/multipart/"+encodeURIComponent(up.UploadID)+"/"+strconv.Itoa(n)+"?"+keyQuery(up.Key), nil)
	var res struct {
		URL     string
		Expires int
	}
	if status == 200 {
		if err := json.Unmarshal(body, &res); err != nil || res.URL == "" || res.Expires <= 0 || res.Expires > 900 {
			c.t.Fatalf("signPart: %s (%v)", body, err)
		}
	}
	return status, res.URL, body
}

// put is the second half: the PUT of the part's bytes to the store,
// returning its status, its ETag without quotes (sanitizeETag) and its
// body.
func (c *uppy) put(u string, body io.Reader, size int64) (int, string, string, error) {
	req, err := http.NewRequest("PUT", u, body)
	if err != nil {
		return 0, "", "", err
	}
	req.ContentLength = size
	resp, err := c.f.store.Client().Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.Trim(resp.Header.Get("ETag"), `"`), string(b), nil
}

// uploadPart signs and puts part n.
func (c *uppy) uploadPart(up created, n int, data []byte) (string, error) {
	status, u, body := c.signPart(up, n)
	if status != 200 {
		return "", fmt.Errorf("signPart %d: %d %s", n, status, body)
	}
	status, etag, answer, err := c.put(u, bytes.NewReader(data), int64(len(data)))
	switch {
	case err != nil:
		return "", err
	case status != 200 || etag == "":
		return "", fmt.Errorf("PUT part %d: %d %s", n, status, answer)
	}
	return etag, nil
}

type listedPart struct {
	PartNumber int
	ETag       string
	Size       int64
}

// listParts is GET /s3/multipart/ID?key=K.
func (c *uppy) listParts(up created) (int, []listedPart, string) {
	c.t.Helper()
	status, body := c.do("GET", "/multipart/"+encodeURIComponent(up.UploadID)+"?"+keyQuery(up.Key), nil)
	var parts []listedPart
	if status == 200 {
		if err := json.Unmarshal(body, &parts); err != nil {
			c.t.Fatalf("listParts: %s (%v)", body, err)
		}
	}
	return status, parts, message(body)
}

type completePart struct {
	PartNumber int    `json:"PartNumber"`
	ETag       string `json:"ETag"`
}

// complete is POST /s3/multipart/ID/complete?key=K.
func (c *uppy) complete(up created, parts []completePart) (int, []byte) {
	c.t.Helper()
	if parts == nil {
		parts = []completePart{}
	}
	return c.do("POST", "/multipart/"+encodeURIComponent(up.UploadID)+"/complete?"+keyQuery(up.Key), map[string]any{"parts": parts})
}

// abort is DELETE /s3/multipart/ID?key=K.
func (c *uppy) abort(up created) (int, []byte) {
	c.t.Helper()
	return c.do("DELETE", "/multipart/"+encodeURIComponent(up.UploadID)+"?"+keyQuery(up.Key), nil)
}

// uppyChunkSize is the chunk size Uppy's S3Uploader (6.3.1) cuts a file
// of size bytes into, getChunkSize being the page's option (nil when
// unset): getChunkSize or ceil(size/10000), at least 5 MiB, grown to
// ceil(size/10000) when it would make more than 10,000 parts.
func uppyChunkSize(size int64, getChunkSize func(int64) int64) int64 {
	const minChunk, maxParts = 5 << 20, 10000
	chunk := (size + maxParts - 1) / maxParts
	if getChunkSize != nil {
		chunk = getChunkSize(size)
	}
	chunk = max(chunk, minChunk)
	if (size+chunk-1)/chunk > maxParts {
		chunk = (size + maxParts - 1) / maxParts
	}
	return chunk
}

// chunks cuts data in parts of size chunk.
func chunks(data []byte, chunk int64) [][]byte {
	var out [][]byte
	for off := int64(0); off < int64(len(data)); off += chunk {
		out = append(out, data[off:min(off+chunk, int64(len(data)))])
	}
	return out
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// failingReader returns the first n bytes of r, then an error: a browser
// tab closed in the middle of a part.
type failingReader struct {
	r io.Reader
	n int
}

var errKilled = errors.New("killed")

func (f *failingReader) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errKilled
	}
	if len(b) > f.n {
		b = b[:f.n]
	}
	n, err := f.r.Read(b)
	f.n -= n
	return n, err
}

var keyPattern = regexp.MustCompile(`^users/alice/[A-Z2-7]{26}/holiday video\.mp4$`)

// TestUppyMultipart uploads a 20 MiB file as Uppy does in Companion
// mode, with parts cut as Uppy cuts them without getChunkSize (5 MiB, the
// last one shorter), uploaded in parallel: one part is put twice (first
// with other bytes, as a retry would replace it), one is killed in the
// middle of its body; the page then resumes as Uppy does, with ListParts
// (the parts there with their ETags, the killed one missing), uploads the
// missing part and completes. The object holds the file byte for byte,
// with the type of the Create and only the allowed metadata, and the
// upload is gone.
func TestUppyMultipart(t *testing.T) {
	f := newFixture(t, nil)
	c := &uppy{f: f, t: t, user: "alice"}
	const size = 20<<20 + 12345
	data := randomBytes(1, size)
	status, up, msg := c.create("holiday video.mp4", "video/mp4", map[string]any{
		"name": "holiday video.mp4", "type": "video/mp4", "relativePath": nil, "size": size, "caption": "Été à Nice", "secret": "x",
	})
	if status != 200 {
		t.Fatalf("create: %d %s", status, msg)
	}
	chunk := uppyChunkSize(size, nil)
	parts := chunks(data, chunk)
	if !keyPattern.MatchString(up.Key) || up.Bucket != "uploads" || up.Size != size || up.PartSize != chunk || up.Parts != len(parts) || len(parts) != 5 {
		t.Fatalf("created %+v; Uppy cuts %d parts of %d", up, len(parts), chunk)
	}

	etags := make([]string, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		n := i + 1
		wg.Go(func() {
			switch n {
			case 2: // killed after half of its bytes
				status, u, body := c.signPart(up, n)
				if status != 200 {
					t.Errorf("signPart 2: %d %s", status, body)
					return
				}
				if _, _, _, err := c.put(u, &failingReader{r: bytes.NewReader(p), n: len(p) / 2}, int64(len(p))); !errors.Is(err, errKilled) {
					t.Errorf("the killed PUT: %v", err)
				}
				return
			case 3: // put twice: other bytes first
				if _, err := c.uploadPart(up, n, randomBytes(99, len(p))); err != nil {
					t.Error(err)
				}
			}
			etag, err := c.uploadPart(up, n, p)
			if err != nil {
				t.Error(err)
			}
			etags[i] = etag
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Resume: the parts S3 has, with their ETags; part 2 is missing.
	status, listed, msg := c.listParts(up)
	if status != 200 {
		t.Fatalf("listParts: %d %s", status, msg)
	}
	var numbers []int
	for _, l := range listed {
		numbers = append(numbers, l.PartNumber)
		if want := int64(len(parts[l.PartNumber-1])); l.Size != want || strings.Trim(l.ETag, `"`) != etags[l.PartNumber-1] {
			t.Errorf("listed part %+v, want size %d ETag %s", l, want, etags[l.PartNumber-1])
		}
	}
	if !slices.Equal(numbers, []int{1, 3, 4, 5}) {
		t.Fatalf("listed parts %v, want 1 3 4 5", numbers)
	}
	state := make([]completePart, len(parts))
	for _, l := range listed {
		state[l.PartNumber-1] = completePart{l.PartNumber, l.ETag} // Uppy keeps ListParts' ETags as they are
	}
	etag, err := c.uploadPart(up, 2, parts[1])
	if err != nil {
		t.Fatal(err)
	}
	state[1] = completePart{2, etag}

	status, body := c.complete(up, state)
	var done struct{ Location, Bucket, Key string }
	if err := json.Unmarshal(body, &done); status != 200 || err != nil || done.Bucket != "uploads" || done.Key != up.Key ||
		!strings.HasPrefix(done.Location, f.store.URL+"/uploads/users/alice/") {
		t.Fatalf("complete: %d %s", status, body)
	}
	obj, ok := f.store.Object("uploads", up.Key)
	if !ok || !bytes.Equal(obj.Body, data) || obj.ContentType != "video/mp4" {
		t.Fatalf("stored %d bytes (equal: %v), type %q", len(obj.Body), bytes.Equal(obj.Body, data), obj.ContentType)
	}
	wantMeta := []postpolicy.Field{{Name: "x-amz-meta-caption", Value: "=?utf-8?q?=C3=89t=C3=A9_=C3=A0_Nice?="}}
	if diff := cmp.Diff(wantMeta, obj.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(obj.ETag, "-5") {
		t.Errorf("ETag %q is not a multipart ETag of 5 parts", obj.ETag)
	}
	if status, _, _ := c.listParts(up); status != 404 {
		t.Errorf("listParts after complete: %d", status)
	}
}

// TestFixedPartSize uploads with a fixed PartSize, the page's
// getChunkSize returning it (parts of 6 MiB), and size given in the body
// rather than the metadata.
func TestFixedPartSize(t *testing.T) {
	const partSize = 6 << 20
	f := newFixture(t, func(r *s3multipart.Rules) { r.PartSize = partSize })
	c := &uppy{f: f, t: t, user: "alice"}
	data := randomBytes(2, 13<<20)
	status, body := c.do("POST", "/multipart", map[string]any{"filename": "a.png", "type": "image/png", "size": len(data)})
	var up created
	if err := json.Unmarshal(body, &up); status != 200 || err != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	chunk := uppyChunkSize(int64(len(data)), func(int64) int64 { return partSize })
	if up.PartSize != chunk || up.Parts != 3 {
		t.Fatalf("created %+v, Uppy's chunks %d", up, chunk)
	}
	var state []completePart
	for i, p := range chunks(data, chunk) {
		etag, err := c.uploadPart(up, i+1, p)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, completePart{i + 1, etag})
	}
	if status, body := c.complete(up, state); status != 200 {
		t.Fatalf("complete: %d %s", status, body)
	}
	if obj, _ := f.store.Object("uploads", up.Key); !bytes.Equal(obj.Body, data) || obj.ContentType != "image/png" {
		t.Errorf("stored %d bytes of type %q", len(obj.Body), obj.ContentType)
	}
}

// smallParts are rules with parts of 1,000 bytes, which the store
// accepts (postpolicytest.MinPartSize), at most 50 of them.
func smallParts(r *s3multipart.Rules) {
	r.PartSize, r.MinPartSize, r.MaxParts, r.MaxSize = 1000, 1, 50, 100_000
}

// TestCreateRefusals checks the refusals of the start of an upload: each
// a JSON message naming the rule.
func TestCreateRefusals(t *testing.T) {
	f := newFixture(t, smallParts)
	alice := &uppy{f: f, t: t, user: "alice"}
	for _, tc := range []struct {
		name   string
		user   string
		body   map[string]any
		status int
		want   string
	}{
		{"no session", "", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 10}, 401, "sign in to upload"},
		{"forbidden", "banned", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 10}, 403, "not allowed to upload: uploads are disabled for your account"},
		{"wrong type", "alice", map[string]any{"filename": "a.exe", "type": "application/x-msdownload", "size": 10}, 400,
			"files of type application/x-msdownload are not accepted here; accepted: video/*, image/png, text/plain"},
		{"type with parameters", "alice", map[string]any{"filename": "a.txt", "type": "text/plain; charset=utf-8", "size": 10}, 400, "is not a content type"},
		{"over MaxSize", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 100_001}, 400,
			"the file is 97.66 KiB (100001 bytes), over the limit of 97.66 KiB (100000 bytes)"},
		{"too many parts", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "metadata": map[string]any{"size": "50001"}}, 400,
			"in parts of 1000 bytes it would need 51 parts, over the limit of 50 parts"},
		{"empty", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 0}, 400, "the file is empty"},
		{"size unknown", "alice", map[string]any{"filename": "a.txt", "type": "text/plain"}, 400, "the file's size is unknown"},
		{"size not a number", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": "ten"}, 400, `the file's size "ten" is not a number of bytes`},
		{"size negative", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": -1}, 400, "not a number of bytes"},
		{"size fractional", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 1.5}, 400, "not a number of bytes"},
		{"metadata too large", "alice", map[string]any{"filename": "a.txt", "type": "text/plain", "size": 10, "metadata": map[string]any{"caption": strings.Repeat("x", 2100)}}, 400,
			"over S3's limit of 2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &uppy{f: f, t: t, user: tc.user}
			status, body := c.do("POST", "/multipart", tc.body)
			if status != tc.status || !strings.Contains(message(body), tc.want) {
				t.Errorf("%d %s, want %d %q", status, body, tc.status, tc.want)
			}
		})
	}

	// Not JSON: refused before anything, so that no other site's form
	// can start an upload.
	req, _ := http.NewRequest("POST", f.api.URL+"/uploads/s3/multipart", strings.NewReader(`{"filename":"a.txt","type":"text/plain","size":1}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-User", "alice")
	if status, body := f.send(req); status != 415 {
		t.Errorf("text/plain body: %d %s", status, body)
	}
	if status, body := alice.do("POST", "/multipart", strings.Repeat("x", 70<<10)); status != 413 {
		t.Errorf("large body: %d %s", status, body)
	}
	if status, body := alice.do("PUT", "/multipart", nil); status != 405 {
		t.Errorf("PUT: %d %s", status, body)
	}
	if status, body := alice.do("GET", "/nothing", nil); status != 404 {
		t.Errorf("unknown route: %d %s", status, body)
	}
	if n := len(f.logged); n != 0 {
		t.Errorf("refusals were logged as errors: %v", f.logged)
	}
}

// TestPartRefusals checks that a part can only hold its exact size: a
// PUT one byte longer or shorter than signed is refused by the store
// (SignatureDoesNotMatch: Content-Length is signed) and stores nothing;
// and that part numbers outside the upload are refused.
func TestPartRefusals(t *testing.T) {
	f := newFixture(t, smallParts)
	c := &uppy{f: f, t: t, user: "alice"}
	up := c.mustCreate("notes.txt", "text/plain", 2500) // parts of 1000, 1000, 500
	if up.Parts != 3 || up.PartSize != 1000 {
		t.Fatalf("created %+v", up)
	}
	for _, tc := range []struct{ n, size int }{{1, 1001}, {1, 999}, {3, 501}, {3, 499}, {3, 1000}} {
		status, u, _ := c.signPart(up, tc.n)
		if status != 200 {
			t.Fatalf("signPart %d: %d", tc.n, status)
		}
		status, _, body, err := c.put(u, bytes.NewReader(randomBytes(3, tc.size)), int64(tc.size))
		if err != nil || status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("part %d of %d bytes: %d %s %v", tc.n, tc.size, status, body, err)
		}
	}
	if status, parts, msg := c.listParts(up); status != 200 || len(parts) != 0 {
		t.Errorf("parts after the refused PUTs: %d %v %s", status, parts, msg)
	}
	for _, n := range []string{"0", "4", "x", "-1"} {
		status, body := c.do("GET", "/multipart/"+up.UploadID+"/"+n+"?"+keyQuery(up.Key), nil)
		if status != 400 {
			t.Errorf("part %s: %d %s", n, status, body)
		}
	}
	status, body := c.do("GET", "/multipart/"+up.UploadID+"/4?"+keyQuery(up.Key), nil)
	if want := "part 4 is not one of this upload's 3 parts of 1000 bytes"; !strings.Contains(message(body), want) {
		t.Errorf("part 4: %d %s, want %q", status, body, want)
	}
	if status, body := c.do("GET", "/multipart/"+up.UploadID+"/1", nil); status != 400 || !strings.Contains(message(body), "key") {
		t.Errorf("no key: %d %s", status, body)
	}
}

// TestOwnership checks that a user can only act on their own uploads:
// another user's key is 403, whatever the call; another user's upload
// id with one's own key, or an id the Backend does not know, is 404.
func TestOwnership(t *testing.T) {
	f := newFixture(t, smallParts)
	alice, bob := &uppy{f: f, t: t, user: "alice"}, &uppy{f: f, t: t, user: "bob"}
	up := alice.mustCreate("a.txt", "text/plain", 1500)
	etag1, err := alice.uploadPart(up, 1, randomBytes(4, 1000))
	if err != nil {
		t.Fatal(err)
	}
	etag2, err := alice.uploadPart(up, 2, randomBytes(5, 500))
	if err != nil {
		t.Fatal(err)
	}
	parts := []completePart{{1, etag1}, {2, etag2}}

	if status, _, _ := bob.signPart(up, 1); status != 403 {
		t.Errorf("bob signs alice's part: %d", status)
	}
	if status, _, _ := bob.listParts(up); status != 403 {
		t.Errorf("bob lists alice's parts: %d", status)
	}
	status, body := bob.complete(up, parts)
	if status != 403 || !strings.Contains(message(body), "is not one of your uploads") {
		t.Errorf("bob completes alice's upload: %d %s", status, body)
	}
	if status, _ := bob.abort(up); status != 403 {
		t.Errorf("bob aborts alice's upload: %d", status)
	}
	// Bob's own key with alice's upload id.
	bobs := up
	bobs.Key = "users/bob/" + strings.TrimPrefix(up.Key, "users/alice/")
	if status, body := bob.complete(bobs, parts); status != 404 {
		t.Errorf("bob completes alice's upload id with his key: %d %s", status, body)
	}
	if status, _, _ := bob.signPart(bobs, 1); status != 404 {
		t.Errorf("bob signs a part of alice's upload id with his key: %d", status)
	}
	unknown := up
	unknown.UploadID = "no-such-upload"
	if status, body := alice.complete(unknown, parts); status != 404 || !strings.Contains(message(body), "no upload") {
		t.Errorf("unknown upload id: %d %s", status, body)
	}
	if status, _, _ := alice.signPart(unknown, 1); status != 404 {
		t.Errorf("unknown upload id, signPart: %d", status)
	}
	if status, _ := (&uppy{f: f, t: t}).complete(up, parts); status != 401 {
		t.Errorf("no session: %d", status)
	}
	// None of it touched alice's upload.
	if status, body := alice.complete(up, parts); status != 200 {
		t.Fatalf("alice completes: %d %s", status, body)
	}
}

// TestCompleteRefusals checks the list of parts: missing, duplicated,
// out of order, without ETag; a wrong ETag, refused by the store
// (InvalidPart), leaves the upload for a retry; a completed or aborted
// upload is gone.
func TestCompleteRefusals(t *testing.T) {
	f := newFixture(t, smallParts)
	c := &uppy{f: f, t: t, user: "alice"}
	data := randomBytes(6, 2500)
	up := c.mustCreate("a.txt", "text/plain", int64(len(data)))
	var good []completePart
	for i, p := range chunks(data, 1000) {
		etag, err := c.uploadPart(up, i+1, p)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, completePart{i + 1, etag})
	}
	e1, e2, e3 := good[0].ETag, good[1].ETag, good[2].ETag
	for _, tc := range []struct {
		name  string
		parts []completePart
		want  string
	}{
		{"none", nil, "the list has 0 parts; the upload has 3"},
		{"missing", []completePart{{1, e1}, {3, e3}}, "part 2 is missing"},
		{"missing last", []completePart{{1, e1}, {2, e2}}, "the list has 2 parts; the upload has 3"},
		{"duplicated", []completePart{{1, e1}, {2, e2}, {2, e2}, {3, e3}}, "part 2 is listed twice or out of order"},
		{"out of order", []completePart{{2, e2}, {1, e1}, {3, e3}}, "the parts are out of order"},
		{"beyond", []completePart{{1, e1}, {2, e2}, {3, e3}, {4, e3}}, "part 4 is not one of this upload's 3 parts"},
		{"no ETag", []completePart{{1, e1}, {2, ""}, {3, e3}}, "part 2 has no ETag"},
		{"wrong ETag", []completePart{{1, e1}, {2, e1}, {3, e3}}, "the storage refused the upload: InvalidPart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.complete(up, tc.parts)
			if status != 400 || !strings.Contains(message(body), tc.want) {
				t.Errorf("%d %s, want 400 %q", status, body, tc.want)
			}
		})
	}
	if _, ok := f.store.Object("uploads", up.Key); ok {
		t.Fatal("a refused complete stored the object")
	}
	if status, body := c.complete(up, good); status != 200 {
		t.Fatalf("complete after the refusals: %d %s", status, body)
	}
	if obj, _ := f.store.Object("uploads", up.Key); !bytes.Equal(obj.Body, data) {
		t.Error("stored object differs")
	}
	if status, body := c.complete(up, good); status != 404 {
		t.Errorf("second complete: %d %s", status, body)
	}

	// Abort: the parts are deleted, the upload gone.
	up2 := c.mustCreate("b.txt", "text/plain", 10)
	if _, err := c.uploadPart(up2, 1, randomBytes(7, 10)); err != nil {
		t.Fatal(err)
	}
	if status, body := c.abort(up2); status != 200 || string(body) != "{}" {
		t.Errorf("abort: %d %s", status, body)
	}
	if status, _, _ := c.listParts(up2); status != 404 {
		t.Errorf("listParts after abort: %d", status)
	}
	if status, _ := c.abort(up2); status != 404 {
		t.Errorf("second abort: %d", status)
	}
}

// completeFails makes the store's answer to CompleteMultipartUpload a 200
// whose body is an <Error>, as S3 may answer after it started to work.
type completeFails struct{ next http.RoundTripper }

func (c completeFails) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == "POST" && r.URL.Query().Has("uploadId") {
		body := "\n  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>R1</RequestId></Error>"
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return c.next.RoundTrip(r)
}

// TestComplete200Error checks that an <Error> in the body of a 200
// answer to CompleteMultipartUpload is a failure: an *S3Error with the
// code, 502 to the page, the upload kept for a retry.
func TestComplete200Error(t *testing.T) {
	f := newFixture(t, smallParts)
	c := &uppy{f: f, t: t, user: "alice"}
	up := c.mustCreate("a.txt", "text/plain", 10)
	etag, err := c.uploadPart(up, 1, randomBytes(8, 10))
	if err != nil {
		t.Fatal(err)
	}
	client := *f.store.Client()
	client.Transport = completeFails{client.Transport}
	f.backend.Client = &client
	status, body := c.complete(up, []completePart{{1, etag}})
	if status != 502 || message(body) != "the storage refused the server's CompleteMultipartUpload call (InternalError)" {
		t.Errorf("complete: %d %s", status, body)
	}
	var s3err *s3multipart.S3Error
	if len(f.logged) != 1 || !errors.As(f.logged[0], &s3err) || s3err.Code != "InternalError" || s3err.Status != 200 || s3err.RequestID != "R1" {
		t.Errorf("logged %v", f.logged)
	}
	// The Go method returns the same error.
	_, err = f.backend.Complete(t.Context(), baseRulesSmall("alice"), up.Key, up.UploadID, []s3multipart.Part{{PartNumber: 1, ETag: etag}})
	if !errors.As(err, &s3err) || s3err.Operation != "CompleteMultipartUpload" {
		t.Errorf("Complete: %v", err)
	}
	f.backend.Client = f.store.Client()
	if status, body := c.complete(up, []completePart{{1, etag}}); status != 200 {
		t.Errorf("retry: %d %s", status, body)
	}
}

func baseRulesSmall(user string) *s3multipart.Rules {
	r := baseRules(user)
	smallParts(r)
	return r
}

// TestStoreRefusesBackend checks a Backend whose credentials the store
// does not accept: 502 naming S3's code, no secret in the answer or the
// log.
func TestStoreRefusesBackend(t *testing.T) {
	f := newFixture(t, smallParts)
	wrong := postpolicy.Credentials{AccessKeyID: "AKIAWRONGWRONGWRONG1", SecretAccessKey: "wrongSecretKeyThatMustNeverBeShown000000"}
	f.backend.Signer = &postpolicy.Signer{Credentials: wrong, Region: f.store.Region, Endpoint: f.store.URL, URLStyle: postpolicy.URLStylePath}
	c := &uppy{f: f, t: t, user: "alice"}
	status, _, msg := c.create("a.txt", "text/plain", map[string]any{"size": 10})
	if status != 502 || msg != "the storage refused the server's CreateMultipartUpload call (InvalidAccessKeyId)" {
		t.Errorf("create: %d %s", status, msg)
	}
	f.checkNoSecrets(wrong)

	// A store that cannot be reached.
	f.backend.Signer = f.store.Signer()
	f.backend.Client = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })}
	if status, _, msg := c.create("a.txt", "text/plain", map[string]any{"size": 10}); status != 502 || msg != "the storage could not be reached (CreateMultipartUpload)" {
		t.Errorf("create, store down: %d %s", status, msg)
	}

	// Rules the backend got wrong: 500 without details.
	f.backend.Client = f.store.Client()
	f.backend.Rules = func(*http.Request) (*s3multipart.Rules, error) { return &s3multipart.Rules{Bucket: "uploads"}, nil }
	if status, _, msg := c.create("a.txt", "text/plain", map[string]any{"size": 10}); status != 500 || msg != "the server's upload rules are not valid" {
		t.Errorf("create with invalid rules: %d %s", status, msg)
	}
	if len(f.logged) != 3 || !errors.Is(f.logged[2], s3multipart.ErrRules) || !strings.Contains(f.logged[2].Error(), "KeyPrefix is empty") {
		t.Errorf("logged %v", f.logged)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAbortStale aborts an upload the Backend started and one a previous
// process left (started by a signed call of its own, under the Sweep
// prefix) once they are older than UploadLifetime; an upload outside the
// Sweep prefix is left alone, and young uploads are kept.
func TestAbortStale(t *testing.T) {
	f := newFixture(t, smallParts)
	c := &uppy{f: f, t: t, user: "alice"}
	known := c.mustCreate("a.txt", "text/plain", 10)
	if _, err := c.uploadPart(known, 1, randomBytes(9, 10)); err != nil {
		t.Fatal(err)
	}
	signer := f.store.Signer()
	call := func(method, path, query string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, f.store.URL+path+"?"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := signer.SignRequest(t.Context(), req, postpolicy.PayloadHash(nil)); err != nil {
			t.Fatal(err)
		}
		resp, err := f.store.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	orphan := func(key string) {
		t.Helper()
		if status, body := call("POST", "/uploads/"+key, "uploads"); status != 200 {
			t.Fatalf("CreateMultipartUpload %s: %d %s", key, status, body)
		}
	}
	orphan("users/ghost/left-behind.bin")
	orphan("elsewhere/not-ours.bin")
	listed := func() []string {
		t.Helper()
		status, body := call("GET", "/uploads", "uploads")
		var res struct {
			Uploads []struct{ Key string } `xml:"Upload"`
		}
		if err := xml.Unmarshal(body, &res); status != 200 || err != nil {
			t.Fatalf("ListMultipartUploads: %d %s", status, body)
		}
		var keys []string
		for _, u := range res.Uploads {
			keys = append(keys, u.Key)
		}
		return keys
	}
	if got := listed(); len(got) != 3 {
		t.Fatalf("uploads in progress: %v", got)
	}

	n, err := f.backend.AbortStale(t.Context(), time.Now())
	if n != 0 || err != nil {
		t.Errorf("AbortStale now: %d %v", n, err)
	}
	n, err = f.backend.AbortStale(t.Context(), time.Now().Add(s3multipart.DefaultUploadLifetime+time.Minute))
	if n != 2 || err != nil {
		t.Errorf("AbortStale a day later: %d %v", n, err)
	}
	if got := listed(); !slices.Equal(got, []string{"elsewhere/not-ours.bin"}) {
		t.Errorf("uploads left: %v", got)
	}
	if status, _, msg := c.listParts(known); status != 404 {
		t.Errorf("listParts of the aborted upload: %d %s", status, msg)
	}
	if n, err := f.backend.AbortStale(t.Context(), time.Now().Add(48*time.Hour)); n != 0 || err != nil {
		t.Errorf("AbortStale again: %d %v", n, err)
	}
}

// TestExpiredUpload checks that an upload older than UploadLifetime gets
// no more part URLs, and that a part URL never outlives its upload.
func TestExpiredUpload(t *testing.T) {
	f := newFixture(t, smallParts)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f.backend.Signer.Now = clock
	f.backend.UploadLifetime = 10 * time.Minute
	c := &uppy{f: f, t: t, user: "alice"}
	up := c.mustCreate("a.txt", "text/plain", 10)
	mu.Lock()
	now = now.Add(8 * time.Minute)
	mu.Unlock()
	status, body := c.do("GET", "/multipart/"+up.UploadID+"/1?"+keyQuery(up.Key), nil)
	var res struct{ Expires int }
	if err := json.Unmarshal(body, &res); status != 200 || err != nil || res.Expires > 120 || res.Expires < 119 {
		t.Errorf("signPart 2 minutes before the end: %d %s", status, body)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if status, body := c.do("GET", "/multipart/"+up.UploadID+"/1?"+keyQuery(up.Key), nil); status != 404 || !strings.Contains(message(body), "expired") {
		t.Errorf("signPart after the end: %d %s", status, body)
	}
}

// formFields decodes the fields of a form's JSON in their order, as
// Uppy's Object.entries reads them.
func formFields(t *testing.T, body []byte) (string, []postpolicy.Field) {
	t.Helper()
	var form struct {
		URL    string
		Method string
		Fields json.RawMessage
	}
	if err := json.Unmarshal(body, &form); err != nil || form.Method != "POST" {
		t.Fatalf("form: %s (%v)", body, err)
	}
	dec := json.NewDecoder(bytes.NewReader(form.Fields))
	var fields []postpolicy.Field
	dec.Token() // {
	for dec.More() {
		name, _ := dec.Token()
		value, _ := dec.Token()
		fields = append(fields, postpolicy.Field{Name: name.(string), Value: value.(string)})
	}
	return form.URL, fields
}

// TestParams uploads a small file as Uppy does in Companion mode when it
// does not use multipart: GET /s3/params, then a POST of the fields and
// the file to the store. The store enforces the form: another size than
// metadata[size], or over MaxSize, is refused.
func TestParams(t *testing.T) {
	f := newFixture(t, func(r *s3multipart.Rules) { r.MaxSize = 100 })
	c := &uppy{f: f, t: t, user: "alice"}
	params := func(filename, fileType string, meta map[string]string) (int, []byte) {
		q := url.Values{"filename": {filename}, "type": {fileType}}
		for k, v := range meta {
			q.Set("metadata["+k+"]", v)
		}
		return c.do("GET", "/params?"+q.Encode(), nil)
	}
	post := func(body []byte, content string) (int, string, string) {
		t.Helper()
		u, fields := formFields(t, body)
		req, err := postpolicytest.NewPostRequest(u, fields, "hello.txt", strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.store.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		key, _ := postpolicy.Fields(fields).Get("key")
		return resp.StatusCode, string(b), key
	}

	status, body := params("hello.txt", "text/plain", map[string]string{"name": "hello.txt", "caption": "hi", "type": "text/plain"})
	if status != 200 {
		t.Fatalf("params: %d %s", status, body)
	}
	status, answer, key := post(body, "hello, world")
	if status != 204 {
		t.Fatalf("POST: %d %s", status, answer)
	}
	obj, ok := f.store.Object("uploads", key)
	if !ok || string(obj.Body) != "hello, world" || obj.ContentType != "text/plain" || !regexp.MustCompile(`^users/alice/[A-Z2-7]{26}/hello\.txt$`).MatchString(key) {
		t.Fatalf("stored %q at %q: %+v", obj.Body, key, obj.ObjectInfo)
	}
	if diff := cmp.Diff([]postpolicy.Field{{Name: "x-amz-meta-caption", Value: "hi"}}, obj.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}

	// metadata[size] makes the size exact.
	status, body = params("hello.txt", "text/plain", map[string]string{"size": "5"})
	if status != 200 {
		t.Fatalf("params with size: %d %s", status, body)
	}
	if status, answer, key := post(body, "hello!"); status != 400 || !strings.Contains(answer, "EntityTooLarge") {
		t.Errorf("POST of 6 bytes for 5: %d %s", status, answer)
	} else if _, ok := f.store.Object("uploads", key); ok {
		t.Error("the refused POST stored an object")
	}
	status, body = params("big.txt", "text/plain", nil)
	if status != 200 {
		t.Fatalf("params: %d %s", status, body)
	}
	if status, answer, _ := post(body, strings.Repeat("x", 101)); status != 400 || !strings.Contains(answer, "EntityTooLarge") {
		t.Errorf("POST over MaxSize: %d %s", status, answer)
	}

	for _, tc := range []struct {
		fileType string
		meta     map[string]string
		want     string
	}{
		{"application/x-msdownload", nil, "files of type application/x-msdownload are not accepted here"},
		{"text/plain", map[string]string{"size": "101"}, "over the limit of 100 bytes"},
		{"text/plain", map[string]string{"size": "0"}, "the file is empty"},
		{"text/plain", map[string]string{"size": "x"}, "not a number of bytes"},
	} {
		if status, body := params("a.txt", tc.fileType, tc.meta); status != 400 || !strings.Contains(message(body), tc.want) {
			t.Errorf("params %s %v: %d %s, want %q", tc.fileType, tc.meta, status, body, tc.want)
		}
	}
	if status, body := (&uppy{f: f, t: t}).do("GET", "/params?filename=a.txt&type=text/plain", nil); status != 401 {
		t.Errorf("params without a session: %d %s", status, body)
	}
}

// TestGoMethods runs an upload through the Backend's methods, as a
// client other than Uppy does, with a context.
func TestGoMethods(t *testing.T) {
	f := newFixture(t, smallParts)
	b, rules, ctx := f.backend, baseRulesSmall("carol"), context.Background()
	data := randomBytes(10, 1234)
	_, err := b.Create(ctx, rules, "report.txt", "", int64(len(data)), map[string]string{"caption": "Q3"})
	var ref *s3multipart.Refusal
	if !errors.As(err, &ref) || ref.Status != 400 {
		t.Fatalf("Create of an untyped file (application/octet-stream, not accepted): %v", err)
	}
	up, err := b.Create(ctx, rules, "report.txt", "TEXT/PLAIN", int64(len(data)), map[string]string{"caption": "Q3"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Parts != 2 || up.PartSizeOf(1) != 1000 || up.PartSizeOf(2) != 234 {
		t.Fatalf("upload %+v", up)
	}
	c := &uppy{f: f, t: t}
	var parts []s3multipart.Part
	for n := 1; n <= up.Parts; n++ {
		p, err := b.SignPart(ctx, rules, up.Key, up.UploadID, n)
		if err != nil {
			t.Fatal(err)
		}
		if size, _ := postpolicy.Fields(p.Header).Get("Content-Length"); size != strconv.FormatInt(up.PartSizeOf(n), 10) {
			t.Errorf("part %d signs Content-Length %s", n, size)
		}
		chunk := data[(n-1)*1000 : min(n*1000, len(data))]
		status, etag, body, err := c.put(p.URL, bytes.NewReader(chunk), int64(len(chunk)))
		if err != nil || status != 200 {
			t.Fatalf("PUT %d: %d %s %v", n, status, body, err)
		}
		parts = append(parts, s3multipart.Part{PartNumber: n, ETag: etag})
	}
	listed, err := b.ListParts(ctx, rules, up.Key, up.UploadID)
	if err != nil || len(listed) != 2 || listed[1].Size != 234 {
		t.Fatalf("ListParts: %v %v", listed, err)
	}
	location, err := b.Complete(ctx, rules, up.Key, up.UploadID, parts)
	if err != nil || !strings.Contains(location, url.PathEscape("carol")) {
		t.Fatalf("Complete: %q %v", location, err)
	}
	if obj, _ := f.store.Object("uploads", up.Key); !bytes.Equal(obj.Body, data) || obj.ContentType != "text/plain" {
		t.Errorf("stored %+v", obj.ObjectInfo)
	}
	if _, err := b.ListParts(ctx, rules, up.Key, up.UploadID); !errors.As(err, &ref) || ref.Status != 404 {
		t.Errorf("ListParts after Complete: %v", err)
	}

	// S3's refusal, for errors.As: the upload aborted behind the Backend's back.
	up, err = b.Create(ctx, rules, "x.txt", "text/plain", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Abort(ctx, rules, up.Key, up.UploadID); err != nil {
		t.Fatal(err)
	}
	if err := b.Abort(ctx, rules, up.Key, up.UploadID); !errors.As(err, &ref) || ref.Status != 404 {
		t.Errorf("Abort twice: %v", err)
	}
}

// TestRulesChecked checks that Rules a backend got wrong are refused
// with ErrRules, naming each mistake.
func TestRulesChecked(t *testing.T) {
	b := &s3multipart.Backend{Signer: &postpolicy.Signer{Credentials: postpolicy.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, Region: "us-east-1"}}
	for _, tc := range []struct {
		rules s3multipart.Rules
		want  string
	}{
		{s3multipart.Rules{KeyPrefix: "u/", MaxSize: 1}, "Bucket is empty"},
		{s3multipart.Rules{Bucket: "b", MaxSize: 1}, "KeyPrefix is empty"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/"}, "MaxSize 0 is not between 1 and 5497558138880 bytes"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 6 << 40}, "MaxSize"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 1, PartSize: 1 << 20}, "PartSize 1048576 is not between MinPartSize (5242880)"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 1, MaxParts: 10001}, "MaxParts 10001"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 1, ContentTypes: []string{"image"}}, `ContentTypes entry "image"`},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 1, Metadata: []string{"a b"}}, `Metadata name "a b"`},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: "u/", MaxSize: 1, URLLifetime: 8 * 24 * time.Hour}, "URLLifetime"},
		{s3multipart.Rules{Bucket: "b", KeyPrefix: strings.Repeat("p", 1000), MaxSize: 1}, "KeyPrefix is 1000 bytes long"},
	} {
		_, err := b.Create(context.Background(), &tc.rules, "a", "text/plain", 1, nil)
		if !errors.Is(err, s3multipart.ErrRules) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.rules, err, tc.want)
		}
	}
}

// TestPartSizeFor checks that without PartSize the Backend cuts a file
// as Uppy does without getChunkSize, for every size, up to 5 TiB in at
// most 10,000 parts.
func TestPartSizeFor(t *testing.T) {
	r := &s3multipart.Rules{}
	for _, size := range []int64{1, 5<<20 - 1, 5 << 20, 5<<20 + 1, 20 << 20, 10000 * 5 << 20, 10000*5<<20 + 1, 1 << 40, s3multipart.MaxObjectSize} {
		got, want := r.PartSizeFor(size), uppyChunkSize(size, nil)
		if got != want || (size+got-1)/got > 10000 || got > postpolicy.MaxPartSize {
			t.Errorf("size %d: part size %d, Uppy's %d", size, got, want)
		}
	}
	r.PartSize = 8 << 20
	if got := r.PartSizeFor(1 << 30); got != 8<<20 {
		t.Errorf("fixed: %d", got)
	}
}

// TestKeyName checks the key of a file name: the prefix, a unique random
// segment, and the name made safe.
func TestKeyName(t *testing.T) {
	pattern := regexp.MustCompile(`^users/1/[A-Z2-7]{26}/(.*)$`)
	for _, tc := range []struct{ in, want string }{
		{"photo.png", "photo.png"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\Desktop\a b.txt`, "a b.txt"},
		{"dir/", "file"},
		{"", "file"},
		{".", "file"},
		{"..", "file"},
		{"...", "..."},
		{"a\x00b\nc\rd\x7f.txt", "a_b_c_d_.txt"},
		{"invoice\u202Efdp.exe", "invoice_fdp.exe"},
		{"zero\u200Bwidth\u2028line.txt", "zero_width_line.txt"},
		{"\xff\xfe.txt", "__.txt"},
		{"${filename}.png", "_{filename}.png"},
		{"price $5.txt", "price $5.txt"},
		{"été 日本.txt", "été 日本.txt"},
		{strings.Repeat("a", 300) + ".jpeg", strings.Repeat("a", 250) + ".jpeg"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},
	} {
		key := s3multipart.KeyName("users/1/", tc.in)
		m := pattern.FindStringSubmatch(key)
		if m == nil || m[1] != tc.want {
			t.Errorf("KeyName(%q) = %q, want name %q", tc.in, key, tc.want)
		}
	}
	if a, b := s3multipart.KeyName("p/", "a.txt"), s3multipart.KeyName("p/", "a.txt"); a == b {
		t.Errorf("two keys of a.txt are the same: %s", a)
	}
	long := s3multipart.KeyName(strings.Repeat("p", 900), strings.Repeat("n", 300)+".txt")
	if len(long) > 1024 || !strings.HasSuffix(long, ".txt") {
		t.Errorf("a key under a long prefix is %d bytes: %s", len(long), long)
	}
}

// TestDeclaredSize checks DeclaredSize, which serve uses to reserve a
// multipart upload's size before the Backend starts it.
func TestDeclaredSize(t *testing.T) {
	for body, want := range map[string]int64{
		`{"size": 12}`:                             12,
		`{"size": "12"}`:                           12,
		`{"size": " 12 "}`:                         12,
		`{"Size": 12}`:                             12,
		`{"metadata": {"size": 13}}`:               13,
		`{"metadata": {"size": "13"}}`:             13,
		`{"size": 12, "metadata": {"size": 1}}`:    12,
		`{"size": null, "metadata": {"size": 14}}`: 14,
		`{"size": 1.5}`:                            -1,
		`{"size": {}}`:                             -1,
		`{}`:                                       -1,
		`{"size": -3}`:                             -1,
		`{"size": "x", "metadata": {"size": 15}}`:  -1,
		`not json`:                                 -1,
	} {
		got, ok := s3multipart.DeclaredSize([]byte(body))
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("DeclaredSize(%s) = %d, want %d", body, got, want)
		}
	}
}
