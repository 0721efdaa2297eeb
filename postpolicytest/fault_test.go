package postpolicytest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// Faults at the fake endpoint, sent by a real TCP client: a client that
// goes away mid-file, a body shorter than its Content-Length, broken
// multipart boundaries and a store whose disk fills up. Each is answered
// (when the client is still there to read it), nothing is stored, and no
// goroutine or file descriptor is left behind.

// rawUpload returns the multipart body that posts content with form, as a
// browser sends it, and its boundary.
func rawUpload(t *testing.T, form *postpolicy.Form, content string) (body []byte, boundary string) {
	t.Helper()
	req, err := postpolicytest.NewRequest(form, nil, "f.bin", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return testutil.RequestBody(t, req)
}

// readAnswer reads an HTTP response from c and returns its status and
// S3 error code ("" when it has none).
func readAnswer(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	resp, body := testutil.ReadAnswer(t, c)
	return resp.StatusCode, testutil.S3Code(body)
}

// faultContent is a file of 256 KiB: larger than the buffers between the
// client and the store, so that cutting it leaves the store mid-file.
var faultContent = strings.Repeat("0123456789abcdef", 16<<10)

func TestFaultsStoreNothing(t *testing.T) {
	srv := postpolicytest.NewServer("faults")
	defer srv.Close()
	form := sign(t, srv.Signer(), postpolicy.Bucket("faults"), postpolicy.Key("up/${filename}"), postpolicy.ContentLengthRange(1, 1<<20))
	addr := strings.TrimPrefix(srv.URL, "http://")
	body, boundary := rawUpload(t, form, faultContent)
	raw := testutil.RawPost(addr, "/faults", boundary, body)
	fileAt := bytes.Index(raw, []byte(faultContent[:64]))

	// A warm-up upload, so that what the server starts once is running
	// before the counts are taken.
	if resp, body := post(t, srv, form, nil, "warm.txt", "warm"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("warm-up upload: %s %s", resp.Status, body)
	}

	dial := func(t *testing.T) *net.TCPConn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.TCPConn)
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"client closes mid-file", func(t *testing.T) {
			c := dial(t)
			c.Write(raw[:fileAt+len(faultContent)/2])
			c.Close()
		}},
		{"client resets mid-file", func(t *testing.T) {
			c := dial(t)
			c.Write(raw[:fileAt+len(faultContent)/2])
			c.SetLinger(0) // close with a TCP reset
			c.Close()
		}},
		{"client goes away in the fields", func(t *testing.T) {
			c := dial(t)
			c.Write(raw[:fileAt-200])
			c.Close()
		}},
		{"body shorter than Content-Length", func(t *testing.T) {
			c := dial(t)
			defer c.Close()
			c.Write(raw[:fileAt+len(faultContent)/2])
			c.CloseWrite() // the body ends; the client still reads
			if status, code := readAnswer(t, c); status != 400 || code != "IncompleteBody" {
				t.Errorf("answer %d %s, want 400 IncompleteBody", status, code)
			}
		}},
		{"body cut after the file's delimiter", func(t *testing.T) {
			c := dial(t)
			defer c.Close()
			end := bytes.LastIndex(raw, []byte("--\r\n")) // the closing delimiter's "--"
			c.Write(raw[:end])
			c.CloseWrite()
			if status, code := readAnswer(t, c); status != 400 || code != "IncompleteBody" {
				t.Errorf("answer %d %s, want 400 IncompleteBody", status, code)
			}
		}},
		{"boundary not in the body", func(t *testing.T) {
			// The whole body is a preamble before a first delimiter that
			// never comes; the file's content, one line longer than the
			// multipart reader's buffer, ends the search.
			c := dial(t)
			defer c.Close()
			c.Write(testutil.RawPost(addr, "/faults", "X"+boundary[1:], body))
			if status, code := readAnswer(t, c); status != 400 || code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", status, code)
			}
		}},
		{"boundary not in a small body", func(t *testing.T) {
			small, boundary := rawUpload(t, form, faultContent[:100])
			c := dial(t)
			defer c.Close()
			c.Write(testutil.RawPost(addr, "/faults", "X"+boundary[1:], small))
			if status, code := readAnswer(t, c); status != 400 || code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", status, code)
			}
		}},
		{"broken delimiter in the fields", func(t *testing.T) {
			// "--BOUNDARYjunk" is no delimiter: the second field (the
			// algorithm) becomes part of the first one's value, and is
			// missing.
			if form.Fields[1].Name != "x-amz-algorithm" {
				t.Fatalf("the form's second field is %s", form.Fields[1].Name)
			}
			delim := "--" + boundary + "\r\n"
			second := strings.Index(string(body), delim) + len(delim)
			second += strings.Index(string(body[second:]), delim) + len(delim) - 2
			broken := string(body[:second]) + "junk" + string(body[second:])
			c := dial(t)
			defer c.Close()
			c.Write(testutil.RawPost(addr, "/faults", boundary, []byte(broken)))
			if status, code := readAnswer(t, c); status != 400 || code != "InvalidArgument" {
				t.Errorf("answer %d %s, want 400 InvalidArgument", status, code)
			}
		}},
		{"file without its closing delimiter", func(t *testing.T) {
			c := dial(t)
			defer c.Close()
			broken := append([]byte(nil), body...)
			broken[bytes.LastIndex(broken, []byte(boundary))] ^= 0x20 // the closing delimiter no longer matches
			c.Write(testutil.RawPost(addr, "/faults", boundary, broken))
			if status, code := readAnswer(t, c); status != 400 || code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", status, code)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := testutil.LeakCheck(t)
			tc.run(t)
			check()
			if keys := srv.Store.Keys("faults"); len(keys) != 1 || keys[0] != "up/warm.txt" {
				t.Errorf("stored keys %q, want only the warm-up upload", keys)
			}
		})
	}
}

// errDiskFull is what a write to a full disk returns.
var errDiskFull = &os.PathError{Op: "write", Path: "/data/faults/.tmp-123", Err: syscall.ENOSPC}

// fullStore is a Store whose disk holds room bytes: its writer fails
// with ENOSPC after them, and nothing is stored.
type fullStore struct {
	*receiver.MemoryStore
	room int
}

type fullWriter struct {
	buf  bytes.Buffer
	room int
}

func (w *fullWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.room {
		n := w.room - w.buf.Len()
		w.buf.Write(p[:n])
		return n, errDiskFull
	}
	return w.buf.Write(p)
}

func (s *fullStore) Put(ctx context.Context, bucket, key string, info receiver.ObjectInfo, body io.Reader) (receiver.ObjectInfo, error) {
	w := &fullWriter{room: s.room}
	if _, err := io.Copy(w, body); err != nil {
		return receiver.ObjectInfo{}, err
	}
	return s.MemoryStore.Put(ctx, bucket, key, info, &w.buf)
}

// TestDiskFull checks that an upload whose store runs out of space is
// answered 500 InternalError, without the cause in the answer, that
// ErrorLog receives the cause, and that a file that fits is still stored.
func TestDiskFull(t *testing.T) {
	store := &fullStore{MemoryStore: receiver.NewMemoryStore(), room: 100 << 10}
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	var mu sync.Mutex
	var logged []string
	h := &receiver.Handler{
		Verifier: &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1"},
		Store:    store,
		Buckets:  []string{"faults"},
		ErrorLog: func(r *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		},
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	signer := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Endpoint: ts.URL, URLStyle: postpolicy.URLStylePath}
	form := sign(t, signer, postpolicy.Bucket("faults"), postpolicy.Key("up/${filename}"), postpolicy.ContentLengthRange(1, 1<<20))
	upload := func(name, content string) (int, string, string) {
		req, err := postpolicytest.NewRequest(form, nil, name, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, testutil.S3Code(string(b)), string(b)
	}
	if status, _, body := upload("small.bin", "fits"); status != http.StatusNoContent {
		t.Fatalf("a file that fits: %d %s", status, body)
	}
	ts.Client().CloseIdleConnections()
	check := testutil.LeakCheck(t)
	status, code, body := upload("big.bin", faultContent)
	if status != http.StatusInternalServerError || code != "InternalError" {
		t.Errorf("a file the disk cannot hold: %d %s, want 500 InternalError", status, code)
	}
	if strings.Contains(body, "ENOSPC") || strings.Contains(body, "no space") || strings.Contains(body, ".tmp-") {
		t.Errorf("the answer tells the cause: %s", body)
	}
	if _, ok := store.Object("faults", "up/big.bin"); ok {
		t.Error("the object was stored")
	}
	mu.Lock()
	got := strings.Join(logged, "\n")
	mu.Unlock()
	if !strings.Contains(got, "POST /faults: write /data/faults/.tmp-123: no space left on device") {
		t.Errorf("ErrorLog got %q, want the disk's error", got)
	}
	ts.Client().CloseIdleConnections()
	check()
	if keys := store.Keys("faults"); len(keys) != 1 {
		t.Errorf("stored keys %q, want only up/small.bin", keys)
	}
}

// TestSecretsInAnswers forces the refusals and internal errors of the fake
// endpoint and checks that no answer (body or headers) and nothing given
// to ErrorLog holds the server's secret key, its signing key or the
// signature it expected.
func TestSecretsInAnswers(t *testing.T) {
	srv := postpolicytest.NewServer("sec")
	defer srv.Close()
	secret := srv.Credentials.SecretAccessKey
	var mu sync.Mutex
	var said strings.Builder
	logErr := func(r *http.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&said, "ErrorLog: %s %s: %v\n", r.Method, r.URL.Path, err)
	}
	// A second endpoint over the same credentials whose key lookup fails
	// and whose disk is full.
	failing := &receiver.Verifier{Region: srv.Region, Lookup: func(context.Context, string) (postpolicy.Credentials, error) {
		return postpolicy.Credentials{}, errors.New("the key service is down")
	}}
	lookupTS := httptest.NewServer(&receiver.Handler{Verifier: failing, Store: srv.Store, Buckets: []string{"sec"}, ErrorLog: logErr})
	defer lookupTS.Close()
	diskTS := httptest.NewServer(&receiver.Handler{Verifier: srv.Verifier, Store: &fullStore{MemoryStore: receiver.NewMemoryStore(), room: 3}, Buckets: []string{"sec"}, ErrorLog: logErr})
	defer diskTS.Close()

	forbidden := map[string]string{"the secret key": secret}
	users := 0
	signAt := func(c postpolicy.Credentials, endpoint string, at time.Time) *postpolicy.Form {
		users++
		s := &postpolicy.Signer{Credentials: c, Region: srv.Region, Endpoint: endpoint, URLStyle: postpolicy.URLStylePath, Now: func() time.Time { return at }}
		f, err := s.Sign(context.Background(), postpolicy.Policy{Expiration: at.Add(10 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket("sec"), postpolicy.Key(fmt.Sprintf("u%d/${filename}", users)), postpolicy.ContentLengthRange(1, 10)}})
		if err != nil {
			t.Fatal(err)
		}
		date, _ := f.Get("x-amz-date")
		day, _ := time.Parse("20060102T150405Z", date)
		key := postpolicy.DeriveSigningKey(secret, day, srv.Region, "s3")
		forbidden["the signing key of "+date[:8]] = hex.EncodeToString(key)
		forbidden["the signing key of "+date[:8]+" (base64)"] = base64.StdEncoding.EncodeToString(key)
		return f
	}
	expect := func(f *postpolicy.Form, name string) *postpolicy.Form {
		date, _ := f.Get("x-amz-date")
		day, _ := time.Parse("20060102T150405Z", date)
		p, _ := f.Get("policy")
		sent, _ := f.Get("x-amz-signature")
		if want := postpolicy.SignEncodedPolicy(postpolicy.DeriveSigningKey(secret, day, srv.Region, "s3"), p); want != sent {
			forbidden["the expected signature ("+name+")"] = want
		}
		return f
	}
	with := func(f *postpolicy.Form, name, value string) *postpolicy.Form {
		g := &postpolicy.Form{URL: f.URL, Fields: append([]postpolicy.Field(nil), f.Fields...)}
		for i := range g.Fields {
			if g.Fields[i].Name == name {
				g.Fields[i].Value = value
			}
		}
		return g
	}
	now := time.Now()
	other := srv.Credentials
	other.SecretAccessKey = "not-the-secret-0123456789"
	unknown := srv.Credentials
	unknown.AccessKeyID = "AKIAUNKNOWNEXAMPLE"
	token := srv.Credentials
	token.SessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
	for _, tc := range []struct {
		name    string
		form    *postpolicy.Form
		content string
		status  int
		code    string
	}{
		{"tampered signature", with(signAt(srv.Credentials, srv.URL, now), "x-amz-signature", strings.Repeat("0", 64)), "x", 403, "SignatureDoesNotMatch"},
		{"wrong secret", signAt(other, srv.URL, now), "x", 403, "SignatureDoesNotMatch"},
		{"unknown key", signAt(unknown, srv.URL, now), "x", 403, "InvalidAccessKeyId"},
		{"token mismatch", signAt(token, srv.URL, now), "x", 400, "InvalidToken"},
		{"expired", signAt(srv.Credentials, srv.URL, now.Add(-time.Hour)), "x", 403, "AccessDenied"},
		{"too large", signAt(srv.Credentials, srv.URL, now), strings.Repeat("x", 11), 400, "EntityTooLarge"},
		{"lookup error", signAt(srv.Credentials, lookupTS.URL, now), "x", 500, "InternalError"},
		{"disk full", signAt(srv.Credentials, diskTS.URL, now), "hello", 500, "InternalError"},
	} {
		expect(tc.form, tc.name)
		req, err := postpolicytest.NewRequest(tc.form, nil, "f.txt", strings.NewReader(tc.content))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || testutil.S3Code(string(b)) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, testutil.S3Code(string(b)), tc.status, tc.code)
		}
		mu.Lock()
		said.Write(b)
		for k, vs := range resp.Header {
			fmt.Fprintf(&said, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		mu.Unlock()
	}
	mu.Lock()
	all := said.String()
	mu.Unlock()
	if !strings.Contains(all, "ErrorLog: POST /sec: receiver: looking up access key") || !strings.Contains(all, "no space left on device") {
		t.Errorf("ErrorLog did not receive the internal errors:\n%s", all)
	}
	for what, v := range forbidden {
		if strings.Contains(all, v) {
			t.Errorf("%s appears in an answer or the error log", what)
		}
	}
}
