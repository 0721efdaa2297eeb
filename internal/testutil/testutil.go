// Package testutil holds the helpers the tests of several packages of this
// module share, so that each is written once. It is imported by tests
// only.
package testutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// ReadJSON reads the JSON file at path into v, failing t on any error.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// OpenFDs returns the number of open file descriptors of the process, or
// -1 where /proc/self/fd is not available.
func OpenFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// LeakCheck records the goroutines and open files now; the function it
// returns waits (up to a generous bound: a server's goroutines end
// asynchronously once their connection closes) for both to come back to
// that level, and fails the test with a goroutine dump if they do not.
func LeakCheck(t testing.TB) func() {
	t.Helper()
	g0, fd0 := runtime.NumGoroutine(), OpenFDs()
	return func() {
		t.Helper()
		var g, fd int
		for deadline := time.Now().Add(15 * time.Second); ; {
			g, fd = runtime.NumGoroutine(), OpenFDs()
			if g <= g0 && fd <= fd0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if g > g0 || fd > fd0 {
			var dump strings.Builder
			pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Errorf("leak: %d goroutines and %d open files, %d and %d before\n%s", g, fd, g0, fd0, dump.String())
		}
	}
}

// GoldenCase is a case of testdata/golden/signer.json: a policy, the
// Signer's inputs, and the form and signature expected for them, computed
// independently of the library (testdata/golden/derive.sh).
type GoldenCase struct {
	ID              string     `json:"id"`
	SigningTime     string     `json:"signing_time"`
	Region          string     `json:"region"`
	Endpoint        string     `json:"endpoint"`
	AccessKeyID     string     `json:"access_key_id"`
	SecretAccessKey string     `json:"secret_access_key"`
	SessionToken    string     `json:"session_token"`
	PolicyJSON      string     `json:"policy_json"`
	URL             string     `json:"url"`
	Fields          [][]string `json:"fields_before_policy"`
	PageConditions  []string   `json:"page_conditions"`
	Expected        struct {
		PolicyBase64  string `json:"policy_base64"`
		SigningKeyHex string `json:"signing_key_hex"`
		Signature     string `json:"signature"`
	} `json:"expected"`
}

// GoldenCases reads the golden vectors at path, failing t unless the file
// has the schema the tests know.
func GoldenCases(t testing.TB, path string) []GoldenCase {
	t.Helper()
	var file struct {
		Schema string       `json:"schema"`
		Cases  []GoldenCase `json:"cases"`
	}
	ReadJSON(t, path, &file)
	if file.Schema != "postpolicy-signer-golden/1" {
		t.Fatalf("%s: unknown schema %q", path, file.Schema)
	}
	return file.Cases
}

// RawPost returns the bytes of an HTTP/1.1 POST of a multipart body with
// boundary to path on host, with a Content-Length of len(body), for tests
// that write requests to a connection themselves.
func RawPost(host, path, boundary string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n", path, host, boundary, len(body))
	b.Write(body)
	return b.Bytes()
}

// RequestBody reads the body of a multipart request built for a test and
// returns it with the request's boundary, for tests that send it
// themselves (cut short, broken, slowly).
func RequestBody(t testing.TB, req *http.Request) (body []byte, boundary string) {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	_, boundary, _ = strings.Cut(req.Header.Get("Content-Type"), "boundary=")
	return b, boundary
}

// ReadAnswer reads an HTTP response from c, within 30 seconds, and returns
// it with its body read.
func ReadAnswer(t testing.TB, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// S3Code returns the <Code> of an S3 error document, or "" when body holds
// none.
func S3Code(body string) string {
	_, rest, ok := strings.Cut(body, "<Code>")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, "</Code>")
	return code
}
