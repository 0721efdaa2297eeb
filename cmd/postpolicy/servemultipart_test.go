package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy/receiver"
)

// The multipart uploads of serve: the s3multipart Backend at
// /api/multipart for the signed-in user, the embedded target keeping the
// parts under -data and counting an upload's size against the quotas from
// its start.

// mpAnswer is any JSON answer of the multipart routes.
type mpAnswer struct {
	// POST /s3/multipart
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
	Parts    int    `json:"parts"`
	Size     int64  `json:"size"`
	// GET /s3/multipart/ID/N
	URL string `json:"url"`
	// a refusal
	Message string `json:"message"`
}

// mpCall sends method path (under /api/multipart) with the cookie c and
// the JSON body (none when ""), as the page does, and returns the status
// and the raw answer.
func (s *testServer) mpCall(t *testing.T, c *http.Cookie, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+multipartPath+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		req.AddCookie(c)
	}
	resp, b := s.do(t, req)
	return resp.StatusCode, b
}

// mpJSON is mpCall that decodes the answer.
func (s *testServer) mpJSON(t *testing.T, c *http.Cookie, method, path, body string) (int, mpAnswer) {
	t.Helper()
	status, b := s.mpCall(t, c, method, path, body)
	var a mpAnswer
	if b != "{}" && !strings.HasPrefix(b, "[") {
		if err := json.Unmarshal([]byte(b), &a); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON", method, path, status, b)
		}
	}
	return status, a
}

// putPart PUTs content to a part's presigned URL and returns the status,
// the ETag and the body of the answer.
func putPart(t *testing.T, url, content string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// partFiles returns the files in the store's part directory.
func partFiles(t *testing.T, data string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, partDirName))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// pendingOf returns the bytes the store counts as in progress for owner.
func pendingOf(s *dirStore, owner string) int64 {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.pending[owner]
}

// TestServeMultipart uploads a file in two parts to the embedded target
// through serve's multipart backend, as the page and Uppy do: the parts
// kept on disk until the upload is completed, the object read back by its
// owner, the declared size held against the quota from the start; a part
// of another size is refused; an abort deletes the parts and gives the
// room back; the routes need a session and a same-origin request.
func TestServeMultipart(t *testing.T) {
	s := newTestServer(t, nil, "-content-types", "image/,application/octet-stream", "-user-quota", "12MiB", "-data-quota", "40MiB")
	alice := s.signIn(t, "alice")
	const size = 5<<20 + 100
	content := pattern(3, size)

	status, up := s.mpJSON(t, alice, "POST", "/s3/multipart", `{"filename": "big.bin", "type": "application/octet-stream", "metadata": {"name": "big.bin", "uploader": "mallory"}, "size": `+fmt.Sprint(size)+`}`)
	if status != http.StatusOK || !strings.HasPrefix(up.Key, "users/alice/") || !strings.HasSuffix(up.Key, "/big.bin") || up.PartSize != 5<<20 || up.Parts != 2 || up.Size != size {
		t.Fatalf("create: %d %+v", status, up)
	}
	if got := pendingOf(s.app.store, "alice"); got != size {
		t.Errorf("after the create, alice has %d bytes in progress, want the declared %d", got, size)
	}
	// Her quota has 12 MiB - size = 7 MiB - 100 bytes left: a second file of 7 MiB does not
	// fit, and is refused before it starts.
	status, refused := s.mpJSON(t, alice, "POST", "/s3/multipart", `{"filename": "more.bin", "size": 7340032}`)
	if status != http.StatusBadRequest || !strings.Contains(refused.Message, "exceeds the storage left in your quota (the file is 7 MiB; 7339932 bytes left)") {
		t.Errorf("a second file over the quota: %d %q", status, refused.Message)
	}
	if got := pendingOf(s.app.store, "alice"); got != size {
		t.Errorf("after a refused create, alice has %d bytes in progress, want %d", got, size)
	}

	var etags [3]string
	for n, part := range []string{content[:5<<20], content[5<<20:]} {
		status, signed := s.mpJSON(t, alice, "GET", "/s3/multipart/"+up.UploadID+"/"+fmt.Sprint(n+1)+"?key="+up.Key, "")
		if status != http.StatusOK || !strings.HasPrefix(signed.URL, s.URL+"/uploads/") {
			t.Fatalf("sign part %d: %d %+v", n+1, status, signed)
		}
		if n == 0 {
			// One byte more than signed: the store refuses it.
			st, _, body := putPart(t, signed.URL, part+"x")
			if st != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
				t.Errorf("part 1 with one byte more: %d %s", st, body)
			}
		}
		st, etag, body := putPart(t, signed.URL, part)
		sum := md5.Sum([]byte(part))
		if st != http.StatusOK || etag != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Fatalf("part %d: %d ETag %q %s", n+1, st, etag, body)
		}
		etags[n+1] = etag
	}
	if files := partFiles(t, s.data); len(files) != 2 {
		t.Errorf("the part directory holds %q, want the 2 parts", files)
	}
	status, listed := s.mpCall(t, alice, "GET", "/s3/multipart/"+up.UploadID+"?key="+up.Key, "")
	want := fmt.Sprintf(`[{"PartNumber":1,"ETag":%q,"Size":5242880},{"PartNumber":2,"ETag":%q,"Size":100}]`, etags[1], etags[2])
	if status != http.StatusOK || listed != want {
		t.Errorf("list parts: %d %s, want %s", status, listed, want)
	}
	// Another user may not name it.
	bob := s.signIn(t, "bob")
	if status, _ := s.mpJSON(t, bob, "GET", "/s3/multipart/"+up.UploadID+"?key="+up.Key, ""); status != http.StatusForbidden {
		t.Errorf("bob lists alice's parts: %d, want 403", status)
	}

	complete := fmt.Sprintf(`{"parts": [{"PartNumber": 1, "ETag": %s}, {"PartNumber": 2, "ETag": %q}]}`, etags[1], strings.Trim(etags[2], `"`))
	status, body := s.mpCall(t, alice, "POST", "/s3/multipart/"+up.UploadID+"/complete?key="+up.Key, complete)
	if status != http.StatusOK || !strings.Contains(body, `"key":"`+up.Key+`"`) {
		t.Fatalf("complete: %d %s", status, body)
	}
	resp, got := s.get(t, "/uploads/"+receiver.EscapeKey(up.Key), alice)
	if resp.StatusCode != http.StatusOK || got != content || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasSuffix(resp.Header.Get("ETag"), `-2"`) || resp.Header.Get("X-Amz-Meta-Uploader") != "" {
		t.Errorf("GET of the object: %s, %d bytes (identical %v), type %q, ETag %q, uploader %q", resp.Status, len(got), got == content,
			resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), resp.Header.Get("X-Amz-Meta-Uploader"))
	}
	if files := partFiles(t, s.data); len(files) != 0 {
		t.Errorf("after the completion the part directory holds %q", files)
	}
	if p := pendingOf(s.app.store, "alice"); p != 0 || s.app.store.used["alice"] != size {
		t.Errorf("after the completion alice has %d bytes in progress and %d stored, want 0 and %d", p, s.app.store.used["alice"], size)
	}

	// An upload aborted: its part is deleted and its room given back.
	status, up2 := s.mpJSON(t, alice, "POST", "/s3/multipart", `{"filename": "second.png", "type": "image/png", "size": 6291456}`)
	if status != http.StatusOK || up2.Parts != 2 {
		t.Fatalf("create the second: %d %+v", status, up2)
	}
	_, signed := s.mpJSON(t, alice, "GET", "/s3/multipart/"+up2.UploadID+"/1?key="+up2.Key, "")
	if st, _, body := putPart(t, signed.URL, pattern(4, 5<<20)); st != http.StatusOK {
		t.Fatalf("part 1 of the second: %d %s", st, body)
	}
	if got := pendingOf(s.app.store, "alice"); got != 6291456 {
		t.Errorf("during the second upload alice has %d bytes in progress, want 6291456", got)
	}
	if status, body := s.mpCall(t, alice, "DELETE", "/s3/multipart/"+up2.UploadID+"?key="+up2.Key, ""); status != http.StatusOK || body != "{}" {
		t.Errorf("abort: %d %s", status, body)
	}
	if files := partFiles(t, s.data); len(files) != 0 {
		t.Errorf("after the abort the part directory holds %q", files)
	}
	if got := pendingOf(s.app.store, "alice"); got != 0 {
		t.Errorf("after the abort alice has %d bytes in progress, want 0", got)
	}
	if status, _ := s.mpJSON(t, alice, "GET", "/s3/multipart/"+up2.UploadID+"?key="+up2.Key, ""); status != http.StatusNotFound {
		t.Errorf("list parts of the aborted upload: %d, want 404", status)
	}

	// The rules: a type not accepted, a file over the room left.
	for body, want := range map[string]string{
		`{"filename": "a.txt", "type": "text/plain", "size": 10}`:    "files of type text/plain are not accepted here",
		`{"filename": "a.bin", "size": 10000000}`:                    "exceeds the storage left in your quota",
		`{"filename": "a.bin", "metadata": {"size": "10000000"}}`:    "exceeds the storage left in your quota",
		`{"filename": "a.bin"}`:                                      "the file's size is unknown",
		`{"filename": "a.bin", "size": 6000000000}`:                  "over the limit of 5 GiB",
		`{"filename": "a.bin", "size": 0}`:                           "the file is empty",
		`{"filename": "a.bin", "size": "x"}`:                         `the file's size "x" is not a number`,
		`{"filename": "a.bin", "size": 10, "metadata": {"size": 9}}`: "", // 10 bytes
	} {
		status, a := s.mpJSON(t, alice, "POST", "/s3/multipart", body)
		if want == "" {
			if status != http.StatusOK || a.Size != 10 {
				t.Errorf("create %s: %d %+v, want 10 bytes", body, status, a)
			}
			s.mpCall(t, alice, "DELETE", "/s3/multipart/"+a.UploadID+"?key="+a.Key, "")
			continue
		}
		if status != http.StatusBadRequest || !strings.Contains(a.Message, want) {
			t.Errorf("create %s: %d %q, want 400 saying %q", body, status, a.Message, want)
		}
	}
	if got := pendingOf(s.app.store, "alice"); got != 0 {
		t.Errorf("after the refusals alice has %d bytes in progress, want 0", got)
	}

	// A session, and a request of the page's own origin.
	if status, _ := s.mpJSON(t, nil, "POST", "/s3/multipart", `{"filename": "a.bin", "size": 10}`); status != http.StatusUnauthorized {
		t.Errorf("create without a session: %d, want 401", status)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+multipartPath+"/s3/multipart", strings.NewReader(`{"filename": "a.bin", "size": 10}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.AddCookie(alice)
	if resp, _ := s.do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site create: %s, want 403", resp.Status)
	}

	// The Backend's calls reach the target in this process, and are
	// logged as its.
	log := s.log.String()
	for _, want := range []string{"(backend) POST /uploads/" + receiver.EscapeKey(up.Key) + " 200 ", "POST " + multipartPath + "/s3/multipart 200 "} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q:\n%s", want, log)
		}
	}
}

// TestServeMultipartSweep checks that runSweeps' round aborts an upload
// left for longer than its lifetime: the Backend forgets it, the embedded
// target deletes its parts, and its reservation ends.
func TestServeMultipartSweep(t *testing.T) {
	s := newTestServer(t, nil, "-content-types", "*")
	alice := s.signIn(t, "alice")
	status, up := s.mpJSON(t, alice, "POST", "/s3/multipart", `{"filename": "left.bin", "size": 5242880}`)
	if status != http.StatusOK {
		t.Fatalf("create: %d %+v", status, up)
	}
	_, signed := s.mpJSON(t, alice, "GET", "/s3/multipart/"+up.UploadID+"/1?key="+up.Key, "")
	if st, _, body := putPart(t, signed.URL, pattern(5, 5<<20)); st != http.StatusOK {
		t.Fatalf("part 1: %d %s", st, body)
	}
	s.app.sweep(context.Background(), time.Now().Add(time.Hour))
	if got := pendingOf(s.app.store, "alice"); got != 5<<20 || len(partFiles(t, s.data)) != 1 {
		t.Errorf("an hour later the upload holds %d bytes and %d part files, want all", got, len(partFiles(t, s.data)))
	}
	s.app.sweep(context.Background(), time.Now().Add(multipartLifetime+holdSlack))
	if got := pendingOf(s.app.store, "alice"); got != 0 {
		t.Errorf("after the lifetime the upload holds %d bytes, want 0", got)
	}
	if files := partFiles(t, s.data); len(files) != 0 {
		t.Errorf("after the lifetime the part directory holds %q", files)
	}
	if status, _ := s.mpJSON(t, alice, "GET", "/s3/multipart/"+up.UploadID+"?key="+up.Key, ""); status != http.StatusNotFound {
		t.Errorf("list parts after the sweep: %d, want 404", status)
	}
}

// TestKeepWriteDeadline checks that a handler that works for longer than
// the server's write timeout before answering (the completion of a large
// upload) still answers when it keeps moving the deadline, and does not
// without.
func TestKeepWriteDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, keep := range []bool{true, false} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if keep {
				defer keepWriteDeadline(w, timeout)()
			}
			time.Sleep(4 * timeout)
			io.WriteString(w, "done")
		}))
		srv.Config.WriteTimeout = timeout
		srv.Start()
		resp, err := http.Get(srv.URL)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		srv.Close()
		switch {
		case keep && (err != nil || string(body) != "done"):
			t.Errorf("keeping the deadline: %q, %v; want the answer", body, err)
		case !keep && err == nil:
			t.Errorf("without keeping the deadline the answer came (%q): the test shows nothing", body)
		}
	}
}
