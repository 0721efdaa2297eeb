package e2e

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
)

// The server's own root credentials, given to versitygw through its
// environment. They are test-only values, not AWS keys; the tests sign forms
// with them because the server checks signatures against them.
const (
	rootAccessKeyID     = "AKIAE2ETEST"
	rootSecretAccessKey = "e2e-secret-key-0123456789"
	region              = "us-east-1"
	bucket              = "e2e-uploads"
)

// versitygwVersion is the server version the tests are written against; the
// error codes and messages they assert are this version's.
const versitygwVersion = "v1.8.0"

const installHint = `CGO_ENABLED=0 go install -ldflags="-s -w" github.com/versity/versitygw/cmd/versitygw@` + versitygwVersion

const (
	healthTimeout = 10 * time.Second
	stopTimeout   = 5 * time.Second
)

// server is a running versitygw with one bucket, named bucket.
type server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// S3 is a client signed with the root credentials.
	S3 *s3.Client
	// DataDir is the posix backend's directory; each bucket is a
	// directory in it.
	DataDir string
}

// findVersitygw returns the path of the versitygw binary: $VERSITYGW, else
// versitygw on $PATH, else $(go env GOPATH)/bin/versitygw. It returns an
// error that says where it looked when there is none.
func findVersitygw() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VERSITYGW is set to %q, which cannot be used: %v", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	looked := "$VERSITYGW is not set, versitygw is not on $PATH"
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("%s, and `go env GOPATH` failed: %v", looked, err)
	}
	gopath := strings.TrimSpace(string(out))
	if i := strings.IndexRune(gopath, os.PathListSeparator); i >= 0 {
		gopath = gopath[:i]
	}
	if gopath != "" {
		p := filepath.Join(gopath, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		looked += ", and " + p + " does not exist"
	}
	return "", errors.New(looked)
}

// inCI reports whether the tests run in CI, where a missing server is a
// failure rather than a reason to skip.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// lockedBuffer is a bytes.Buffer that the server's output goroutine and
// the test can use at the same time.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment
// ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free loopback port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("closing the port probe: %v", err)
	}
	return port
}

// startVersity starts versitygw with the posix backend in a temporary
// directory on a free loopback port, waits until it answers its health
// check, creates the bucket named bucket, and stops the server when the test
// ends, before the directory is removed. Without the binary the test is
// skipped, or fails when CI is set.
func startVersity(t *testing.T) *server {
	t.Helper()
	bin, err := findVersitygw()
	if err != nil {
		if inCI() {
			t.Fatalf("versitygw %s is required in CI but was not found: %v; install it with: %s (bash .ci/e2e does)", versitygwVersion, err, installHint)
		}
		t.Skipf("skipping the end-to-end test: versitygw not found (%v); install it with: %s, or set VERSITYGW to its path", err, installHint)
	}

	// t.TempDir registers the directory's removal now; cleanups run last
	// registered first, so the stop registered below runs before it and the
	// directory is removed only once the server has exited.
	dir := t.TempDir()
	metaDir, dataDir := filepath.Join(dir, "meta"), filepath.Join(dir, "data")
	for _, d := range []string{metaDir, dataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}

	port := freeLoopbackPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin,
		"--port", addr,
		"--region", region,
		"--health", "/health",
		"--quiet",
		"posix", "--sidecar", metaDir, dataDir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+rootAccessKeyID,
		"ROOT_SECRET_ACCESS_KEY="+rootSecretAccessKey)
	cmd.Dir = dir
	output := &lockedBuffer{}
	cmd.Stdout = output
	cmd.Stderr = output
	// Stopped by PID, and waited for, so that the directory is not removed
	// under a live server and the port is free again.
	proc := startProcess(t, "versitygw", cmd, syscall.SIGTERM, func(waitErr error) {
		if t.Failed() {
			t.Logf("versitygw output (exit: %v):\n%s", waitErr, output.String())
		}
	})
	exited := proc.exited

	base := "http://" + addr
	if err := waitHealthy(base+"/health", exited); err != nil {
		t.Fatalf("versitygw %s on %s: %v", bin, addr, err)
	}

	srv := &server{URL: base, DataDir: dataDir, S3: newS3Client(base)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	// The bucket is a directory of this server's backend: proof that the
	// port is served by the process started here and not by a stale one.
	if fi, err := os.Stat(filepath.Join(dataDir, bucket)); err != nil || !fi.IsDir() {
		t.Fatalf("bucket %s was created, but not in %s (another server on %s?): %v", bucket, dataDir, addr, err)
	}
	return srv
}

// proc is a process a test started, stopped when the test ends.
type proc struct {
	exited  chan struct{} // closed when the process has exited
	waitErr error         // what Wait returned, once exited is closed
}

// startProcess starts cmd, named name in messages, and stops it when the
// test ends: it sends stop, waits up to stopTimeout for the exit (then
// kills the process and waits), and calls done with what Wait returned.
// Cleanups run last registered first, so a directory the test made before
// calling startProcess is removed only after the process has exited.
func startProcess(t *testing.T, name string, cmd *exec.Cmd, stop os.Signal, done func(waitErr error)) *proc {
	t.Helper()
	// Wait also waits for the output copying; should a child of the
	// process keep the pipe open, give up on it shortly after the exit.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if err := cmd.Process.Signal(stop); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("sending %v to %s (pid %d): %v", stop, name, cmd.Process.Pid, err)
		}
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			t.Errorf("%s (pid %d) did not exit %s after %v; killing it", name, cmd.Process.Pid, stopTimeout, stop)
			_ = cmd.Process.Kill()
			<-p.exited
		}
		done(p.waitErr)
	})
	return p
}

// waitHealthy polls url until it answers 200, the server exits, or
// healthTimeout passes.
func waitHealthy(url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(healthTimeout)
	var last error
	for {
		select {
		case <-exited:
			return errors.New("the server exited before it answered its health check")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("health check answered %s", resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("no healthy answer within %s: %v", healthTimeout, last)
		}
		select {
		case <-exited:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newS3Client returns an S3 client for the server at endpoint, signed with
// the root credentials, with path-style URLs.
func newS3Client(endpoint string) *s3.Client {
	creds := aws.Credentials{AccessKeyID: rootAccessKeyID, SecretAccessKey: rootSecretAccessKey, Source: "e2e test root credentials"}
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	})
}

// postForm posts form to form.URL as multipart/form-data: the form's fields
// in order, then extra (fields the page adds, or fields an attacker adds),
// then the file in a part named "file", last. It returns the status and the
// body of the answer.
func postForm(t *testing.T, form *postpolicy.Form, extra []postpolicy.Field, fileName string, content []byte) (status int, body string) {
	t.Helper()
	status, _, body = postFormHeader(t, form, extra, fileName, content)
	return status, body
}

// noRedirects is an HTTP client that returns redirects instead of following
// them, so that a success_action_redirect answer can be inspected.
var noRedirects = &http.Client{
	Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// postFormHeader is postForm that also returns the answer's header.
func postFormHeader(t *testing.T, form *postpolicy.Form, extra []postpolicy.Field, fileName string, content []byte) (status int, header http.Header, body string) {
	t.Helper()
	req, err := postpolicytest.NewRequest(form, extra, fileName, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("building the POST to %s: %v", form.URL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", form.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to POST %s: %v", form.URL, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// s3Error is the XML error document S3 answers with.
type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// parseS3Error returns the error document in body, or an error when body is
// not one.
func parseS3Error(body string) (s3Error, error) {
	var e s3Error
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		return s3Error{}, fmt.Errorf("the body is not an S3 error document: %v: %q", err, body)
	}
	if e.Code == "" {
		return s3Error{}, fmt.Errorf("the error document has no Code: %q", body)
	}
	return e, nil
}

// object is an object read back from the server.
type object struct {
	Body        []byte
	ContentType string
	ETag        string
	Metadata    map[string]string
}

// getObject reads bucket/key back with a signed GET.
func (s *server) getObject(bucket, key string) (*object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, err
	}
	return &object{
		Body:        b,
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
		Metadata:    out.Metadata,
	}, nil
}

// assertNoObject checks that GET bucket/key answers 404 NoSuchKey: a
// refused upload must not have stored anything.
func (s *server) assertNoObject(t *testing.T, key string) {
	t.Helper()
	obj, err := s.getObject(bucket, key)
	if err == nil {
		t.Errorf("GET %s/%s: a refused upload stored an object of %d bytes", bucket, key, len(obj.Body))
		return
	}
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	if !errors.As(err, &apiErr) || !errors.As(err, &respErr) {
		t.Errorf("GET %s/%s: want 404 NoSuchKey, got %v", bucket, key, err)
		return
	}
	if code, status := apiErr.ErrorCode(), respErr.HTTPStatusCode(); code != "NoSuchKey" || status != http.StatusNotFound {
		t.Errorf("GET %s/%s: want 404 NoSuchKey, got %d %s: %v", bucket, key, status, code, err)
	}
}
