package interop

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// Only AWS's published example keys, and a fake session token.
const (
	accessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken    = "FQoGZXIvYXdzEXAMPLETOKEN"

	region = "eu-west-1"
	bucket = "acme-user-uploads"
)

// credentialCases are the two kinds of credentials every upload test runs
// with: long-term keys, and temporary ones with a session token.
var credentialCases = []struct {
	name  string
	token string
}{
	{"long-term keys", ""},
	{"session token", sessionToken},
}

func ourCredentials(token string) postpolicy.Credentials {
	return postpolicy.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: token}
}

// noNetwork is an http.RoundTripper that fails every request and counts it.
// Each SDK client gets one, and http.DefaultTransport is one too (TestMain).
type noNetwork struct {
	name  string
	calls atomic.Int64
}

func (n *noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.calls.Add(1)
	return nil, fmt.Errorf("%s: the interop tests make no network calls, but one was attempted: %s %s", n.name, r.Method, r.URL.Redacted())
}

// newNoNetwork returns a failing transport for one test and checks, when
// the test ends, that it was never called.
func newNoNetwork(t *testing.T, name string) *noNetwork {
	t.Helper()
	rt := &noNetwork{name: name}
	t.Cleanup(func() {
		if n := rt.calls.Load(); n != 0 {
			t.Errorf("%s: %d HTTP request(s) attempted; the SDK must make no network call here", name, n)
		}
	})
	return rt
}

var (
	defaultTransport = &noNetwork{name: "http.DefaultTransport"}
	dnsLookups       atomic.Int64
)

// TestMain makes the process unable to reach the network by accident: the
// default HTTP transport and the default DNS resolver fail and count. After
// the tests it fails the run if either was used.
func TestMain(m *testing.M) {
	http.DefaultTransport = defaultTransport
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			dnsLookups.Add(1)
			return nil, errors.New("the interop tests make no DNS lookups")
		},
	}
	code := m.Run()
	if n, d := defaultTransport.calls.Load(), dnsLookups.Load(); n != 0 || d != 0 {
		fmt.Fprintf(os.Stderr, "FAIL: network used: %d request(s) through http.DefaultTransport, %d DNS lookup(s)\n", n, d)
		code = 1
	}
	os.Exit(code)
}

// fieldsFromMap returns an SDK's form fields (a Go map, so unordered) in a
// fixed order, names compared case-insensitively, so that error messages
// naming the first offending field are deterministic.
func fieldsFromMap(m map[string]string) []postpolicy.Field {
	fields := make([]postpolicy.Field, 0, len(m))
	for k, v := range m {
		fields = append(fields, postpolicy.Field{Name: k, Value: v})
	}
	sort.Slice(fields, func(i, j int) bool {
		a, b := strings.ToLower(fields[i].Name), strings.ToLower(fields[j].Name)
		if a != b {
			return a < b
		}
		return fields[i].Name < fields[j].Name
	})
	return fields
}

// fieldNames returns the names of fields, in order.
func fieldNames(fields []postpolicy.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// setField returns fields with the field named name (compared
// case-insensitively) set to value, replacing it in place when present and
// appending it otherwise: what the page does before it adds the file.
func setField(fields []postpolicy.Field, name, value string) []postpolicy.Field {
	out := make([]postpolicy.Field, 0, len(fields)+1)
	found := false
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			if !found {
				out = append(out, postpolicy.Field{Name: f.Name, Value: value})
				found = true
			}
			continue
		}
		out = append(out, f)
	}
	if !found {
		out = append(out, postpolicy.Field{Name: name, Value: value})
	}
	return out
}

// getField returns the value of the field named name, compared
// case-insensitively.
func getField(fields []postpolicy.Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// fileContent returns n bytes of file content.
func fileContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// postRequest builds the multipart/form-data POST a browser sends to
// formURL: the fields in order, then the file, last.
func postRequest(t *testing.T, formURL string, fields []postpolicy.Field, filename string, content []byte) *http.Request {
	t.Helper()
	r, err := postpolicytest.NewPostRequest(formURL, fields, filename, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bucketOfURL returns the bucket a form URL posts to, as a server reads it:
// from a virtual-hosted host name (BUCKET.s3.…) or else from the first path
// segment (path style).
func bucketOfURL(t *testing.T, formURL string) string {
	t.Helper()
	u, err := url.Parse(formURL)
	if err != nil {
		t.Fatalf("form URL %q: %v", formURL, err)
	}
	if i := strings.Index(u.Hostname(), ".s3."); i > 0 {
		return u.Hostname()[:i]
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return seg
}

// newVerifier returns a Verifier that knows creds, for region, whose clock
// is the real one: the SDKs sign with time.Now, so the Verifier checks with
// time.Now when it verifies.
func newVerifier(creds postpolicy.Credentials) *receiver.Verifier {
	return &receiver.Verifier{
		Lookup: receiver.StaticCredentials(creds),
		Region: region,
		Now:    func() time.Time { return time.Now() },
	}
}

// upload posts fields and a file to formURL through v, as a server would:
// Verify, then read the whole file. It returns the upload and its content,
// or the Verifier's (or the file reader's) error.
func upload(t *testing.T, v *receiver.Verifier, formURL string, fields []postpolicy.Field, filename string, content []byte) (*receiver.Upload, []byte, error) {
	t.Helper()
	r := postRequest(t, formURL, fields, filename, content)
	u, err := v.Verify(r, bucketOfURL(t, formURL))
	if err != nil {
		return nil, nil, err
	}
	got, err := io.ReadAll(u.File)
	if err != nil {
		return nil, nil, err
	}
	return u, got, nil
}

// mustUpload is upload that fails the test unless the upload is accepted,
// the file read back whole, and stored under wantKey in bucket.
func mustUpload(t *testing.T, v *receiver.Verifier, formURL string, fields []postpolicy.Field, filename string, content []byte, wantKey string) *receiver.Upload {
	t.Helper()
	return mustUploadTo(t, v, formURL, bucket, fields, filename, content, wantKey)
}

// mustUploadTo is mustUpload for a bucket other than the tests' usual one.
func mustUploadTo(t *testing.T, v *receiver.Verifier, formURL, wantBucket string, fields []postpolicy.Field, filename string, content []byte, wantKey string) *receiver.Upload {
	t.Helper()
	u, got, err := upload(t, v, formURL, fields, filename, content)
	if err != nil {
		t.Fatalf("our Verifier refused the upload: %v\nfields: %q", err, fieldNames(fields))
	}
	if u.Bucket != wantBucket {
		t.Errorf("Upload.Bucket = %q, want %q", u.Bucket, wantBucket)
	}
	if u.Key != wantKey {
		t.Errorf("stored key = %q, want %q", u.Key, wantKey)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("file read back: %d bytes, want the %d bytes sent", len(got), len(content))
	}
	if u.AccessKeyID != accessKeyID {
		t.Errorf("Upload.AccessKeyID = %q, want %q", u.AccessKeyID, accessKeyID)
	}
	return u
}

// wantS3Error fails the test unless err is an *receiver.S3Error with
// exactly this code, status and message.
func wantS3Error(t *testing.T, err error, code receiver.ErrorCode, status int, message string) {
	t.Helper()
	var e *receiver.S3Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want S3 error %s (%d) %q", err, code, status, message)
	}
	if e.Code != code || e.Status != status || e.Message != message {
		t.Fatalf("our Verifier answered %s (%d) %q\nwant                     %s (%d) %q", e.Code, e.Status, e.Message, code, status, message)
	}
}

// decodedPolicy returns the JSON text of a base64 policy field.
func decodedPolicy(t *testing.T, encoded string) string {
	t.Helper()
	doc, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("policy field is not base64: %v", err)
	}
	return string(doc)
}

// scope is what a form's x-amz-credential and x-amz-date say about how it
// was signed.
type scope struct {
	accessKeyID, date, region, service string
	signedAt                           time.Time
}

// scopeOf parses a form's x-amz-credential and x-amz-date, and checks that
// they agree with each other.
func scopeOf(t *testing.T, fields []postpolicy.Field) scope {
	t.Helper()
	credential, ok1 := getField(fields, "x-amz-credential")
	amzDate, ok2 := getField(fields, "x-amz-date")
	if !ok1 || !ok2 {
		t.Fatalf("form lacks x-amz-credential or x-amz-date: %q", fieldNames(fields))
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		t.Fatalf("x-amz-credential %q is not AKID/DATE/REGION/SERVICE/aws4_request", credential)
	}
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		t.Fatalf("x-amz-date %q: %v", amzDate, err)
	}
	if parts[1] != amzDate[:8] {
		t.Fatalf("credential date %s is not the date of x-amz-date %s", parts[1], amzDate)
	}
	return scope{accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3], signedAt: at}
}

// independentSignature computes a POST signature with crypto/hmac alone,
// sharing no code with postpolicy or either SDK: the SigV4 key chain of the
// AWS page "Calculating a Signature" (sigv4-authentication-HTTPPOST), then
// HMAC-SHA256 of the base64 policy text, in lower-case hex.
func independentSignature(secret, date, region, service, policyBase64 string) string {
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		io.WriteString(m, data)
		return m.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, policyBase64))
}
