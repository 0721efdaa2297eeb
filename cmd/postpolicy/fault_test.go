package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// Faults, slow and hostile clients, against serve itself: its HTTP server
// with its timeouts, the receiver and the disk store, over real TCP
// connections from 127.0.0.1.

// liveServe is serve running on 127.0.0.1:0 in this process.
type liveServe struct {
	base, addr, data string
	o                *serveOptions
	stdout, stderr   *lockedBuffer
	uploads          *backend.Uploads
	stop             func() error

	mu      sync.Mutex
	cookies map[string]*http.Cookie // user → session, from signIn
}

// startLiveServe runs serve with the flags args (-data a fresh directory
// unless given), the limits l and the example credentials of longTermEnv;
// it stops when the test ends, or with stop.
func startLiveServe(t *testing.T, l serveLimits, args ...string) *liveServe {
	t.Helper()
	data := ""
	for i, a := range args {
		if a == "-data" && i+1 < len(args) {
			data = args[i+1]
		}
	}
	if data == "" {
		data = t.TempDir()
		args = append([]string{"-data", data}, args...)
	}
	o, err := parseServeArgs(append([]string{"-addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	o.limits = l
	ready := make(chan string, 1)
	o.onListen = func(u string) { ready <- u }
	ctx, cancel := context.WithCancel(context.Background())
	s := &liveServe{data: data, o: o, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, func(k string) string { return longTermEnv[k] }, s.stdout, s.stderr) }()
	select {
	case s.base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s%s", err, s.stdout, s.stderr)
	}
	s.addr = strings.TrimPrefix(s.base, "http://")
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret},
		Region:      o.region, Endpoint: s.base, URLStyle: postpolicy.URLStylePath,
	}
	uploads, err := o.uploads(signer, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.uploads = uploads
	return s
}

// form signs the form the backend gives user now, as GET /api/form does.
func (s *liveServe) form(t testing.TB, user string) *postpolicy.Form {
	t.Helper()
	f, err := s.uploads.Sign(context.Background(), user, exampleType(s.o.types[0]))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// multipartBody returns the body a browser posts for form, with the page's
// Content-Type field ct and the file, and its boundary.
func multipartBody(t testing.TB, form *postpolicy.Form, ct, filename string, content io.Reader) ([]byte, string) {
	t.Helper()
	req, err := postpolicytest.NewRequest(form, []postpolicy.Field{{Name: "Content-Type", Value: ct}}, filename, content)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.RequestBody(t, req)
}

// answer is an HTTP response as a test reads it.
type answer struct {
	status int
	code   string // S3's error code, "" for none
	body   string
	header http.Header
}

// readAnswer reads an HTTP response from c.
func readAnswer(t *testing.T, c net.Conn) answer {
	t.Helper()
	resp, body := testutil.ReadAnswer(t, c)
	return answer{resp.StatusCode, testutil.S3Code(body), body, resp.Header}
}

// post uploads content with form over a connection of its own, closed
// after the answer, and returns the answer.
func (s *liveServe) post(t testing.TB, form *postpolicy.Form, ct, filename string, content io.Reader) answer {
	t.Helper()
	body, boundary := multipartBody(t, form, ct, filename, content)
	req, err := http.NewRequest(http.MethodPost, s.base+"/"+s.o.bucket, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Close = true
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, testutil.S3Code(string(b)), string(b), resp.Header}
}

// signIn returns a session cookie of user, signing in over HTTP the first
// time, as the page's sign-in form does.
func (s *liveServe) signIn(t testing.TB, user string) *http.Cookie {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cookies[user]; c != nil {
		return c
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/signin", strings.NewReader("name="+user))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Close = true
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookieName {
			if s.cookies == nil {
				s.cookies = make(map[string]*http.Cookie)
			}
			s.cookies[user] = c
			return c
		}
	}
	t.Fatalf("signing in %s: %s, no session cookie", user, resp.Status)
	return nil
}

// getObject reads an object back over a connection of its own, as the
// owner of its key.
func (s *liveServe) getObject(t testing.TB, key string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/"+s.o.bucket+"/"+receiver.EscapeKey(key), nil)
	req.AddCookie(s.signIn(t, keyOwner(key)))
	req.Close = true
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (s *liveServe) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// storeState returns the keys whose metadata files the data directory
// holds, sorted, and its temporary files: what is on disk, read without
// the store (whose index could differ, and whose opening would remove
// temporary files).
func storeState(t *testing.T, data, bucket string) (keys, temps []string) {
	t.Helper()
	dir := filepath.Join(data, bucket)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if hash, ok := strings.CutSuffix(e.Name(), metaSuffix); ok && isHashName(hash) {
			m, err := readMeta(dir, hash)
			if err != nil {
				t.Errorf("metadata file %s: %v", e.Name(), err)
				continue
			}
			keys = append(keys, m.Key)
		}
	}
	slices.Sort(keys)
	for _, f := range filesUnder(t, data) {
		if strings.HasPrefix(path.Base(f), tmpPrefix) {
			temps = append(temps, f)
		}
	}
	return keys, temps
}

// waitFor polls cond until it holds, failing the test after a generous
// bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 seconds", what)
		}
	}
}

// pattern returns n bytes of content that differ from upload to upload.
func pattern(seed byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) ^ seed
	}
	return string(b)
}

// TestServeFaults sends broken uploads to serve over real connections: the
// client goes away mid-file (closing or resetting the connection), the
// body ends before its Content-Length, the multipart form is broken. Each
// is answered when the client can still read the answer, logged otherwise,
// stores nothing, leaves no temporary file, goroutine or file descriptor,
// and the server goes on serving.
func TestServeFaults(t *testing.T) {
	s := startLiveServe(t, serveLimits{}, "-max-size", "1MiB")
	content := pattern(1, 256<<10)
	if a := s.post(t, s.form(t, "warm"), "image/png", "w.png", strings.NewReader("warm-up")); a.status != http.StatusCreated {
		t.Fatalf("warm-up upload: %d %s", a.status, a.body)
	}
	body, boundary := multipartBody(t, s.form(t, "f"), "image/png", "f.png", strings.NewReader(content))
	raw := testutil.RawPost(s.addr, "/uploads", boundary, body)
	fileAt := bytes.Index(raw, []byte(content[:64]))

	posts := 1
	for _, tc := range []struct {
		name   string
		logged string // the S3 code the log line ends with
		run    func(t *testing.T)
	}{
		{"client closes mid-file", "IncompleteBody", func(t *testing.T) {
			c := s.dial(t)
			c.Write(raw[:fileAt+len(content)/2])
			c.Close()
		}},
		{"client resets mid-file", "IncompleteBody", func(t *testing.T) {
			c := s.dial(t)
			c.Write(raw[:fileAt+len(content)/2])
			c.SetLinger(0)
			c.Close()
		}},
		{"client goes away in the fields", "IncompleteBody", func(t *testing.T) {
			c := s.dial(t)
			c.Write(raw[:fileAt-300])
			c.Close()
		}},
		{"body shorter than Content-Length", "IncompleteBody", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			c.Write(raw[:fileAt+len(content)/2])
			c.CloseWrite()
			if a := readAnswer(t, c); a.status != 400 || a.code != "IncompleteBody" {
				t.Errorf("answer %d %s, want 400 IncompleteBody", a.status, a.code)
			}
		}},
		{"body cut after the file's delimiter", "IncompleteBody", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			c.Write(raw[:bytes.LastIndex(raw, []byte("--\r\n"))])
			c.CloseWrite()
			if a := readAnswer(t, c); a.status != 400 || a.code != "IncompleteBody" {
				t.Errorf("answer %d %s, want 400 IncompleteBody", a.status, a.code)
			}
		}},
		{"file without its closing delimiter", "MalformedPOSTRequest", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			broken := append([]byte(nil), body...)
			broken[bytes.LastIndex(broken, []byte(boundary))] ^= 0x20
			c.Write(testutil.RawPost(s.addr, "/uploads", boundary, broken))
			if a := readAnswer(t, c); a.status != 400 || a.code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", a.status, a.code)
			}
		}},
		{"boundary not in the body", "MaxPostPreDataLengthExceeded", func(t *testing.T) {
			// The whole body is a preamble before a first delimiter that
			// never comes; its lines (the content has newlines) are read
			// up to the cap on what comes before the file.
			c := s.dial(t)
			defer c.Close()
			c.Write(testutil.RawPost(s.addr, "/uploads", "X"+boundary[1:], body))
			if a := readAnswer(t, c); a.status != 400 || a.code != "MaxPostPreDataLengthExceeded" {
				t.Errorf("answer %d %s, want 400 MaxPostPreDataLengthExceeded", a.status, a.code)
			}
		}},
		{"a flood of tiny parts", "MaxPostPreDataLengthExceeded", func(t *testing.T) {
			// 4 MB of nearly empty fields and no file: refused once
			// MaxPreFileParts fields were read, the rest drained.
			part := "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n"
			flood := []byte(strings.Repeat(part, 4<<20/len(part)))
			c := s.dial(t)
			defer c.Close()
			go c.Write(testutil.RawPost(s.addr, "/uploads", "b", flood))
			a := readAnswer(t, c)
			if a.status != 400 || a.code != "MaxPostPreDataLengthExceeded" || !strings.Contains(a.body, "<MaxPostPreDataParts>256</MaxPostPreDataParts>") {
				t.Errorf("answer %d %s, want 400 MaxPostPreDataLengthExceeded after %d fields", a.status, a.body, receiver.MaxPreFileParts)
			}
		}},
		{"a flood of empty parts", "MalformedPOSTRequest", func(t *testing.T) {
			part := "--b\r\n\r\n\r\n"
			flood := []byte(strings.Repeat(part, 4<<20/len(part)))
			c := s.dial(t)
			defer c.Close()
			go c.Write(testutil.RawPost(s.addr, "/uploads", "b", flood))
			if a := readAnswer(t, c); a.status != 400 || a.code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", a.status, a.code)
			}
		}},
		{"boundary not in a small body", "MalformedPOSTRequest", func(t *testing.T) {
			small, boundary := multipartBody(t, s.form(t, "f"), "image/png", "f.png", strings.NewReader("small"))
			c := s.dial(t)
			defer c.Close()
			c.Write(testutil.RawPost(s.addr, "/uploads", "X"+boundary[1:], small))
			if a := readAnswer(t, c); a.status != 400 || a.code != "MalformedPOSTRequest" {
				t.Errorf("answer %d %s, want 400 MalformedPOSTRequest", a.status, a.code)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := testutil.LeakCheck(t)
			tc.run(t)
			posts++
			// The handler has returned once its log line is written.
			waitFor(t, "the request's log line", func() bool { return strings.Count(s.stderr.String(), "POST /uploads ") == posts })
			lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, "POST /uploads 400 ") || !strings.HasSuffix(last, " "+tc.logged) {
				t.Errorf("log line %q, want a 400 %s", last, tc.logged)
			}
			check()
			keys, temps := storeState(t, s.data, "uploads")
			if len(keys) != 1 || keys[0] != "users/warm/w.png" || len(temps) != 0 {
				t.Errorf("the store holds %q and temporary files %q; want only the warm-up object", keys, temps)
			}
		})
	}
	// The server goes on serving, and logged no panic.
	if a := s.post(t, s.form(t, "after"), "image/png", "a.png", strings.NewReader(content)); a.status != http.StatusCreated {
		t.Errorf("an upload after the faults: %d %s", a.status, a.body)
	}
	if err := s.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	for _, bad := range []string{"panic", "http: "} {
		if strings.Contains(s.stderr.String(), bad) {
			t.Errorf("the log holds %q:\n%s", bad, s.stderr)
		}
	}
	t.Logf("serve's log:\n%s", s.stderr)
}

// TestServeSlowClients checks serve's timeouts with short values: a
// slowloris client trickling headers, a client that stops mid-body or
// before it, one that stops reading a download, an idle keep-alive
// connection and oversize headers are each cut off, while an upload that
// keeps sending, slowly, for several times the timeout, is stored.
func TestServeSlowClients(t *testing.T) {
	const ioTimeout = time.Second
	l := serveLimits{headerTimeout: 500 * time.Millisecond, ioTimeout: ioTimeout, keepAliveTimeout: time.Second}
	s := startLiveServe(t, l, "-max-size", "16MiB")
	big := pattern(7, 8<<20)
	if a := s.post(t, s.form(t, "dl"), "image/png", "big.png", strings.NewReader(big)); a.status != http.StatusCreated {
		t.Fatalf("storing the download: %d %s", a.status, a.body)
	}
	// cutOff reads from c until the server closes it, and fails if it
	// does not.
	cutOff := func(t *testing.T, c net.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server did not close the connection")
		}
	}
	check := testutil.LeakCheck(t)
	// The clients run at once, each in its subtest (not limited by
	// -parallel): the test lasts as long as its slowest client.
	clients := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"slowloris headers", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			c.Write([]byte("POST /uploads HTTP/1.1\r\nHost: " + s.addr + "\r\n"))
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					time.Sleep(50 * time.Millisecond)
					if _, err := fmt.Fprintf(c, "X-Slow-%d: 1\r\n", i); err != nil {
						return
					}
				}
			}()
			cutOff(t, c)
			c.Close()
			<-done
		}},
		{"client stops mid-body", func(t *testing.T) {
			content := pattern(2, 256<<10)
			body, boundary := multipartBody(t, s.form(t, "stall"), "image/png", "s.png", strings.NewReader(content))
			raw := testutil.RawPost(s.addr, "/uploads", boundary, body)
			c := s.dial(t)
			defer c.Close()
			c.Write(raw[:bytes.Index(raw, []byte(content[:64]))+100<<10])
			// S3's answer to a client that stalls: RequestTimeout.
			if a := readAnswer(t, c); a.status != 400 || a.code != "RequestTimeout" {
				t.Errorf("answer %d %s, want 400 RequestTimeout", a.status, a.code)
			}
			cutOff(t, c)
		}},
		{"client stops before the body", func(t *testing.T) {
			body, boundary := multipartBody(t, s.form(t, "stall2"), "image/png", "s.png", strings.NewReader("x"))
			raw := testutil.RawPost(s.addr, "/uploads", boundary, body)
			c := s.dial(t)
			defer c.Close()
			c.Write(raw[:bytes.Index(raw, []byte("\r\n\r\n"))+4])
			// S3's answer to a client that stalls: RequestTimeout.
			if a := readAnswer(t, c); a.status != 400 || a.code != "RequestTimeout" {
				t.Errorf("answer %d %s, want 400 RequestTimeout", a.status, a.code)
			}
			cutOff(t, c)
		}},
		{"client stops reading a download", func(t *testing.T) {
			// A small receive window, so that the object cannot sit in
			// the kernel's buffers.
			d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			}}
			c, err := d.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /uploads/users/dl/big.png HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", s.addr, s.signIn(t, "dl"))
			var line string
			waitFor(t, "the download's log line", func() bool {
				for _, l := range strings.Split(s.stderr.String(), "\n") {
					if strings.Contains(l, "GET /uploads/users/dl/big.png 200 ") {
						line = l
						return true
					}
				}
				return false
			})
			var sent int
			fmt.Sscanf(line[strings.Index(line, " 200 ")+5:], "%dB", &sent)
			if sent >= len(big) {
				t.Errorf("the server sent the whole object (%d bytes) to a client that reads nothing: %q", sent, line)
			}
			cutOff(t, c)
		}},
		{"idle keep-alive connection", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			fmt.Fprintf(c, "GET /static/app.js HTTP/1.1\r\nHost: %s\r\n\r\n", s.addr)
			if a := readAnswer(t, c); a.status != http.StatusOK {
				t.Fatalf("GET: %d", a.status)
			}
			cutOff(t, c)
		}},
		{"oversize headers", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", s.addr, strings.Repeat("a", defaultMaxHeaderBytes+8<<10))
			if a := readAnswer(t, c); a.status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("answer %d, want 431", a.status)
			}
		}},
		{"large cookies are not oversize", func(t *testing.T) {
			c := s.dial(t)
			defer c.Close()
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nCookie: other-app=%s\r\nConnection: close\r\n\r\n", s.addr, strings.Repeat("c", 32<<10))
			if a := readAnswer(t, c); a.status != http.StatusOK {
				t.Errorf("answer %d, want 200", a.status)
			}
		}},
		{"slow but steady upload", func(t *testing.T) {
			// 1 MiB in 8 pieces with a pause of a quarter of the timeout
			// after each: twice the timeout in all, never idle for it.
			content := pattern(3, 1<<20)
			body, boundary := multipartBody(t, s.form(t, "slow"), "image/png", "slow.png", strings.NewReader(content))
			raw := testutil.RawPost(s.addr, "/uploads", boundary, body)
			c := s.dial(t)
			defer c.Close()
			for off := 0; off < len(raw); off += len(raw)/8 + 1 {
				if _, err := c.Write(raw[off:min(off+len(raw)/8+1, len(raw))]); err != nil {
					t.Fatalf("after %d bytes: %v", off, err)
				}
				time.Sleep(ioTimeout / 4)
			}
			if a := readAnswer(t, c); a.status != http.StatusCreated {
				t.Fatalf("answer %d %s, want 201", a.status, a.body)
			}
			if status, got := s.getObject(t, "users/slow/slow.png"); status != http.StatusOK || sha256.Sum256(got) != sha256.Sum256([]byte(content)) {
				t.Errorf("reading it back: %d, %d bytes", status, len(got))
			}
		}},
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { t.Run(c.name, c.run) })
	}
	wg.Wait()
	check()
	keys, temps := storeState(t, s.data, "uploads")
	if strings.Join(keys, " ") != "users/dl/big.png users/slow/slow.png" || len(temps) != 0 {
		t.Errorf("the store holds %q and temporary files %q", keys, temps)
	}
}

// enospc is what a write to a full disk returns.
var enospc = &os.PathError{Op: "write", Path: "(injected)", Err: syscall.ENOSPC}

// fullDisk makes the store's temporary files fail with ENOSPC: the nth
// file created (counting from 1) after room bytes, the others never.
type fullDisk struct {
	mu      sync.Mutex
	created int
	nth     int
	room    int64
}

func (d *fullDisk) wrap(w io.Writer) io.Writer {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.created++
	if d.nth != 0 && d.created != d.nth {
		return w
	}
	return &roomWriter{w: w, room: d.room}
}

type roomWriter struct {
	w    io.Writer
	room int64
}

func (r *roomWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > r.room {
		n, _ := r.w.Write(p[:r.room])
		r.room = 0
		return n, enospc
	}
	n, err := r.w.Write(p)
	r.room -= int64(n)
	return n, err
}

// TestServeDiskFull fills the disk during the write of the content, and
// during the write of the metadata: each upload is answered 500
// InternalError, the cause is logged and not answered, nothing is stored
// and no temporary file is left; an object of the same key stored before
// stays whole.
func TestServeDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		disk *fullDisk
	}{
		{"content", &fullDisk{room: 64 << 10}},
		{"metadata", &fullDisk{nth: 2, room: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil, "-max-size", "1MiB")
			c := s.signIn(t, "disk")
			old := pattern(4, 1000)
			if resp, body := s.upload(t, s.form(t, c, "image/png"), "image/png", "f.png", old); resp.StatusCode != http.StatusCreated {
				t.Fatalf("first upload: %s %s", resp.Status, body)
			}
			s.app.store.wrapWriter = tc.disk.wrap
			resp, body := s.upload(t, s.form(t, c, "image/png"), "image/png", "f.png", pattern(5, 200<<10))
			if resp.StatusCode != http.StatusInternalServerError || parseS3Error(t, body).Code != "InternalError" {
				t.Errorf("answer %s %s, want 500 InternalError", resp.Status, body)
			}
			if strings.Contains(body, "space") || strings.Contains(body, "injected") {
				t.Errorf("the answer tells the cause: %s", body)
			}
			if !strings.Contains(s.log.String(), "POST /uploads: write (injected): no space left on device") {
				t.Errorf("the log lacks the cause:\n%s", s.log)
			}
			s.app.store.wrapWriter = nil
			keys, temps := storeState(t, s.data, "uploads")
			if len(keys) != 1 || len(temps) != 0 {
				t.Errorf("the store holds %q and temporary files %q", keys, temps)
			}
			if got, body := s.get(t, "/uploads/users/disk/f.png", c); got.StatusCode != http.StatusOK || body != old {
				t.Errorf("the object stored before: %s, %d bytes", got.Status, len(body))
			}
		})
	}
}

// TestServeUsageLimits checks that serve's usage states the limits it
// applies.
func TestServeUsageLimits(t *testing.T) {
	var b strings.Builder
	writeServeUsage(&b)
	for _, want := range []string{
		"within " + defaultHeaderTimeout.String() + " and be at most " + sizeText(defaultMaxHeaderBytes),
		"stops for\n" + defaultIOTimeout.String() + " ends",
		fmt.Sprintf("closes after %dm.", int(defaultKeepAliveTimeout/time.Minute)),
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the usage lacks %q", want)
		}
	}
}

// TestServeUsageFlags checks that serve's usage documents the flags of
// its limits with the defaults the code applies, and says what happens
// beyond them.
func TestServeUsageFlags(t *testing.T) {
	var b strings.Builder
	writeServeUsage(&b)
	usage := b.String()
	flagSize := func(n int64) string { return strings.ReplaceAll(sizeText(n), " ", "") }
	for _, want := range []string{
		"-user-quota SIZE\n", "(default " + flagSize(defaultUserQuota) + ")",
		"-data-quota SIZE\n", "(default " + flagSize(defaultDataQuota) + ")",
		"-max-uploads number\n", fmt.Sprintf("(default %d)", defaultMaxUploads),
		"-public-url URL\n", "-check-bucket\n",
		"400 EntityTooLarge", "503 SlowDown", "421 Misdirected Request", "403 AccessDenied", "404\n                 NoSuchBucket",
		"HeadBucket", "s3:ListBucket", "-check-bucket=false",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("the usage lacks %q", want)
		}
	}
	o, err := parseServeArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.userQuota != defaultUserQuota || o.dataQuota != defaultDataQuota || o.maxUploads != defaultMaxUploads || !o.checkBucket || o.public != nil {
		t.Errorf("the defaults: %+v", o)
	}
}
