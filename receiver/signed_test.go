package receiver_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/receiver"
)

// presignedExample is the presigned GET of "Authenticating Requests: Using
// Query Parameters (AWS Signature Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html,
// as transcribed in internal/sigv4/testdata/s3-sigv4-examples.json.
type presignedExample struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	} `json:"credentials"`
	Presigned struct {
		Examples []struct {
			Method    string `json:"method"`
			URL       string `json:"url"`
			Expires   string `json:"expires"`
			Signature string `json:"signature"`
		} `json:"examples"`
	} `json:"presigned"`
}

// readRequest parses raw as a server receives it (Host apart, the body
// limited to Content-Length).
func readRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	return r
}

// requestFor is the raw request a client sends for rawURL with method,
// headers and body, with Content-Length set when body is not nil.
func requestFor(method, rawURL string, header []postpolicy.Field, body []byte) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	b.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	for _, h := range header {
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	if body != nil && !slices.ContainsFunc(header, func(f postpolicy.Field) bool { return strings.EqualFold(f.Name, "Content-Length") }) {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.String()
}

func exampleVerifier(now time.Time) *receiver.Verifier {
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	return &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now }}
}

// TestVerifyPresignedAWSExample verifies AWS's published presigned URL, and
// refuses it expired, tampered with or sent with an unsigned x-amz-*
// header.
func TestVerifyPresignedAWSExample(t *testing.T) {
	var ex presignedExample
	testutil.ReadJSON(t, "../internal/sigv4/testdata/s3-sigv4-examples.json", &ex)
	e := ex.Presigned.Examples[0]
	signedAt := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

	u, err := exampleVerifier(signedAt.Add(time.Hour)).VerifyPresigned(readRequest(t, requestFor(e.Method, e.URL, nil, nil)), "examplebucket", "test.txt")
	if err != nil {
		t.Fatalf("the published URL is refused: %v", err)
	}
	if u.Method != "GET" || u.AccessKeyID != ex.Credentials.AccessKeyID || !u.Expires.Equal(signedAt.Add(86400*time.Second)) || u.File != nil {
		t.Errorf("Upload = %+v", u)
	}

	// At the last second it is valid; one second later it has expired.
	if _, err := exampleVerifier(signedAt.Add(86400*time.Second)).VerifyPresigned(readRequest(t, requestFor(e.Method, e.URL, nil, nil)), "examplebucket", "test.txt"); err != nil {
		t.Errorf("at its expiry instant: %v", err)
	}
	_, err = exampleVerifier(signedAt.Add(86401*time.Second)).VerifyPresigned(readRequest(t, requestFor(e.Method, e.URL, nil, nil)), "examplebucket", "test.txt")
	want := &receiver.S3Error{Code: receiver.CodeAccessDenied, Status: 403, Message: "Request has expired", Extra: []postpolicy.Field{
		{Name: "X-Amz-Expires", Value: "86400"}, {Name: "Expires", Value: "2013-05-25T00:00:00Z"}, {Name: "ServerTime", Value: "2013-05-25T00:00:01Z"}}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("one second after expiry (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name   string
		url    string
		header []postpolicy.Field
		code   receiver.ErrorCode
	}{
		{"another key", strings.Replace(e.URL, "/test.txt", "/test.txu", 1), nil, receiver.CodeSignatureDoesNotMatch},
		{"another host", strings.Replace(e.URL, "examplebucket.", "examplebucker.", 1), nil, receiver.CodeSignatureDoesNotMatch},
		{"a longer expiry", strings.Replace(e.URL, "X-Amz-Expires=86400", "X-Amz-Expires=86401", 1), nil, receiver.CodeSignatureDoesNotMatch},
		{"an added parameter", e.URL + "&response-content-type=text%2Fhtml", nil, receiver.CodeSignatureDoesNotMatch},
		{"an unsigned x-amz-meta header", e.URL, []postpolicy.Field{{Name: "x-amz-meta-a", Value: "1"}}, receiver.CodeAccessDenied},
		{"the signature in upper case", strings.Replace(e.URL, e.Signature, strings.ToUpper(e.Signature), 1), nil, receiver.CodeSignatureDoesNotMatch},
		{"the signature twice", e.URL + "&X-Amz-Signature=" + e.Signature, nil, receiver.CodeAuthorizationQueryParametersError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := exampleVerifier(signedAt.Add(time.Hour)).VerifyPresigned(readRequest(t, requestFor(e.Method, tc.url, tc.header, nil)), "examplebucket", "test.txt")
			if !errors.Is(err, tc.code) {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

// TestVerifyPresignedUnsignedHeaders checks the HeadersNotSigned element:
// host when the URL does not sign it, then the unsigned x-amz-* headers in
// order, as S3 lists them (soto-project/soto#374, brendanhay/amazonka#272).
func TestVerifyPresignedUnsignedHeaders(t *testing.T) {
	var ex presignedExample
	testutil.ReadJSON(t, "../internal/sigv4/testdata/s3-sigv4-examples.json", &ex)
	e := ex.Presigned.Examples[0]
	v := exampleVerifier(time.Date(2013, 5, 24, 1, 0, 0, 0, time.UTC))
	_, err := v.VerifyPresigned(readRequest(t, requestFor("GET", e.URL, []postpolicy.Field{{Name: "X-Amz-Meta-B", Value: "2"}, {Name: "x-amz-acl", Value: "public-read"}}, nil)), "examplebucket", "test.txt")
	want := &receiver.S3Error{Code: receiver.CodeAccessDenied, Status: 403, Message: "There were headers present in the request which were not signed",
		Extra: []postpolicy.Field{{Name: "HeadersNotSigned", Value: "x-amz-acl, x-amz-meta-b"}}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("unsigned x-amz-* headers (-want +got):\n%s", diff)
	}
	noHost := strings.Replace(e.URL, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-acl", 1)
	_, err = v.VerifyPresigned(readRequest(t, requestFor("GET", noHost, []postpolicy.Field{{Name: "x-amz-acl", Value: "private"}, {Name: "x-amz-meta-c", Value: "3"}}, nil)), "examplebucket", "test.txt")
	want.Extra[0].Value = "host, x-amz-meta-c"
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("host not signed (-want +got):\n%s", diff)
	}
}

// putFixture is a Signer and a Verifier sharing credentials and a clock.
type putFixture struct {
	now    time.Time
	signer *postpolicy.Signer
	v      *receiver.Verifier
}

func newPutFixture(token string) *putFixture {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: token}
	f := &putFixture{now: now}
	f.signer = &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Endpoint: "http://127.0.0.1:9000", Now: func() time.Time { return f.now }}
	f.v = &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return f.now }}
	return f
}

func (f *putFixture) presign(t *testing.T, conds ...postpolicy.Condition) *postpolicy.Presigned {
	t.Helper()
	p, err := f.signer.PresignPut(context.Background(), postpolicy.Policy{Expiration: f.now.Add(15 * time.Minute), Conditions: conds})
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	return p
}

// verifyPut sends body by PUT to p's URL with header and reads the
// Upload's File to its end, as a store would.
func (f *putFixture) verifyPut(t *testing.T, p *postpolicy.Presigned, header []postpolicy.Field, body []byte) (*receiver.Upload, []byte, error) {
	t.Helper()
	u, err := f.v.VerifyPresigned(readRequest(t, requestFor("PUT", p.URL, header, body)), "uploads", "users/alice/a b+c~é.png")
	if err != nil {
		return nil, nil, err
	}
	got, err := io.ReadAll(u.File)
	return u, got, err
}

func TestVerifyPresignedPut(t *testing.T) {
	body := []byte("hello")
	sha := sha256.Sum256(body)
	md := md5.Sum(body)
	conds := append([]postpolicy.Condition{
		postpolicy.Bucket("uploads"), postpolicy.Key("users/alice/a b+c~é.png"),
		postpolicy.ContentType("image/png"), postpolicy.ContentLengthRange(5, 5),
		postpolicy.Meta("uploader", "alice"),
	}, postpolicy.Checksum(postpolicy.ChecksumSHA256, base64.StdEncoding.EncodeToString(sha[:]))...)
	f := newPutFixture("")
	p := f.presign(t, conds...)

	u, got, err := f.verifyPut(t, p, p.Header, body)
	if err != nil {
		t.Fatalf("the presigned PUT is refused: %v", err)
	}
	if string(got) != "hello" || u.Method != "PUT" || u.Key != "users/alice/a b+c~é.png" || u.ContentType() != "image/png" {
		t.Errorf("got %q, Upload %+v", got, u)
	}
	if diff := cmp.Diff([]postpolicy.Field{{Name: "x-amz-meta-uploader", Value: "alice"}}, u.Metadata()); diff != "" {
		t.Errorf("Metadata (-want +got):\n%s", diff)
	}

	with := func(name, value string) []postpolicy.Field {
		h := append([]postpolicy.Field(nil), p.Header...)
		for i := range h {
			if strings.EqualFold(h[i].Name, name) {
				h[i].Value = value
				return h
			}
		}
		return append(h, postpolicy.Field{Name: name, Value: value})
	}
	without := func(name string) []postpolicy.Field {
		var h []postpolicy.Field
		for _, f := range p.Header {
			if !strings.EqualFold(f.Name, name) {
				h = append(h, f)
			}
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		header []postpolicy.Field
		body   []byte
		code   receiver.ErrorCode
	}{
		{"another content type", with("Content-Type", "text/html"), body, receiver.CodeSignatureDoesNotMatch},
		{"no content type", without("Content-Type"), body, receiver.CodeSignatureDoesNotMatch},
		{"another size", with("Content-Length", "6"), []byte("hello!"), receiver.CodeSignatureDoesNotMatch},
		{"other metadata", with("x-amz-meta-uploader", "bob"), body, receiver.CodeSignatureDoesNotMatch},
		{"an unsigned header", with("x-amz-acl", "public-read"), body, receiver.CodeAccessDenied},
		{"another body of the same size", p.Header, []byte("EVIL!"), receiver.CodeBadDigest},
		{"a wrong Content-MD5", with("Content-MD5", base64.StdEncoding.EncodeToString(make([]byte, 16))), body, receiver.CodeBadDigest},
		{"a malformed Content-MD5", with("Content-MD5", "abc"), body, receiver.CodeInvalidDigest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.verifyPut(t, p, tc.header, tc.body)
			if !errors.Is(err, tc.code) {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if _, _, err := f.verifyPut(t, p, with("Content-MD5", base64.StdEncoding.EncodeToString(md[:])), body); err != nil {
		t.Errorf("with a correct Content-MD5: %v", err)
	}

	// The clock: valid to its last second, then "Request has expired"; a
	// URL signed more than 15 minutes ahead of the server is not yet valid.
	f.now = f.now.Add(15 * time.Minute)
	if _, _, err := f.verifyPut(t, p, p.Header, body); err != nil {
		t.Errorf("at expiry: %v", err)
	}
	f.now = f.now.Add(time.Second)
	if _, _, err := f.verifyPut(t, p, p.Header, body); !errors.Is(err, receiver.CodeAccessDenied) || !strings.Contains(err.Error(), "Request has expired") {
		t.Errorf("after expiry: %v", err)
	}
	f.now = f.now.Add(-15*time.Minute - 16*time.Minute - time.Second)
	if _, _, err := f.verifyPut(t, p, p.Header, body); !errors.Is(err, receiver.CodeAccessDenied) || !strings.Contains(err.Error(), "not yet valid") {
		t.Errorf("16 minutes early: %v", err)
	}
}

// TestVerifyPresignedPutBody checks what the body itself can break: its
// length against Content-Length, S3's 5 GiB, chunked bodies.
func TestVerifyPresignedPutBody(t *testing.T) {
	f := newPutFixture("")
	p := f.presign(t, postpolicy.Bucket("uploads"), postpolicy.Key("users/alice/a b+c~é.png"))
	if diff := cmp.Diff([]postpolicy.Field(nil), p.Header); diff != "" {
		t.Fatalf("Header (-want +got):\n%s", diff)
	}
	if _, got, err := f.verifyPut(t, p, nil, []byte("any body")); err != nil || string(got) != "any body" {
		t.Fatalf("got %q, %v", got, err)
	}

	// Shorter than its Content-Length: IncompleteBody, at the end.
	raw := requestFor("PUT", p.URL, []postpolicy.Field{{Name: "Content-Length", Value: "10"}}, nil) + "12345"
	u, err := f.v.VerifyPresigned(readRequest(t, raw), "uploads", "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(u.File); !errors.Is(err, receiver.CodeIncompleteBody) {
		t.Errorf("short body: %v", err)
	}

	for _, tc := range []struct {
		name   string
		header []postpolicy.Field
		code   receiver.ErrorCode
	}{
		{"over 5 GiB", []postpolicy.Field{{Name: "Content-Length", Value: strconv.Itoa(5<<30 + 1)}}, receiver.CodeEntityTooLarge},
		{"chunked", []postpolicy.Field{{Name: "Transfer-Encoding", Value: "chunked"}}, receiver.CodeMissingContentLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.v.VerifyPresigned(readRequest(t, requestFor("PUT", p.URL, tc.header, nil)), "uploads", "k")
			if !errors.Is(err, tc.code) {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

// TestVerifyPresignedParameters checks the AuthorizationQueryParametersError
// cases and the credentials, with URLs re-signed after each change so that
// only the checked property is wrong.
func TestVerifyPresignedParameters(t *testing.T) {
	f := newPutFixture("FQoGZXIvYXdzEXAMPLETOKEN")
	get, err := f.signer.PresignGet(context.Background(), "uploads", "users/alice/x.png", f.now.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.v.VerifyPresigned(readRequest(t, requestFor("GET", get.URL, nil, nil)), "uploads", "users/alice/x.png")
	if err != nil || u.Method != "GET" || u.File != nil {
		t.Fatalf("the presigned GET: %+v, %v", u, err)
	}
	if _, err := f.v.VerifyPresigned(readRequest(t, requestFor("PUT", get.URL, nil, []byte("x"))), "uploads", "users/alice/x.png"); !errors.Is(err, receiver.CodeSignatureDoesNotMatch) {
		t.Errorf("a GET URL used for PUT: %v", err)
	}
	if _, err := f.v.VerifyPresigned(readRequest(t, requestFor("DELETE", get.URL, nil, nil)), "uploads", "users/alice/x.png"); !errors.Is(err, receiver.CodeSignatureDoesNotMatch) {
		t.Errorf("a GET URL used for DELETE: %v", err)
	}

	set := func(name, value string) string {
		u, _ := url.Parse(get.URL)
		q := u.Query()
		if value == "" {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		return u.String()
	}
	for _, tc := range []struct {
		name, url string
		code      receiver.ErrorCode
		message   string
	}{
		{"no algorithm", set("X-Amz-Algorithm", ""), receiver.CodeAuthorizationQueryParametersError, "requires the X-Amz-Algorithm"},
		{"no signature", set("X-Amz-Signature", ""), receiver.CodeAuthorizationQueryParametersError, "requires the X-Amz-Algorithm"},
		{"another algorithm", set("X-Amz-Algorithm", "AWS4-HMAC-SHA1"), receiver.CodeAuthorizationQueryParametersError, `only supports "AWS4-HMAC-SHA256"`},
		{"a malformed date", set("X-Amz-Date", "2026-12-05T10:00:00Z"), receiver.CodeAuthorizationQueryParametersError, "ISO8601 Long Format"},
		{"a credential of another day", set("X-Amz-Date", "20261206T100000Z"), receiver.CodeAuthorizationQueryParametersError, "not the same as X-Amz-Date"},
		{"another region", set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20261205/eu-west-1/s3/aws4_request"), receiver.CodeAuthorizationQueryParametersError, `the region "eu-west-1" is wrong; expecting "us-east-1"`},
		{"another service", set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20261205/us-east-1/ec2/aws4_request"), receiver.CodeAuthorizationQueryParametersError, `incorrect service "ec2"`},
		{"a malformed credential", set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20261205/us-east-1/s3"), receiver.CodeAuthorizationQueryParametersError, "X-Amz-Credential"},
		{"over 7 days", set("X-Amz-Expires", "604801"), receiver.CodeAuthorizationQueryParametersError, "less than a week"},
		{"negative", set("X-Amz-Expires", "-1"), receiver.CodeAuthorizationQueryParametersError, "non-negative"},
		{"not a number", set("X-Amz-Expires", "1h"), receiver.CodeAuthorizationQueryParametersError, "should be a number"},
		{"unsorted signed headers", set("X-Amz-SignedHeaders", "x-amz-acl;host"), receiver.CodeAuthorizationQueryParametersError, "X-Amz-SignedHeaders"},
		{"7 days exactly", set("X-Amz-Expires", "604800"), receiver.CodeSignatureDoesNotMatch, ""},
		{"an unknown access key", set("X-Amz-Credential", "AKIAI44QH8DHBEXAMPLE/20261205/us-east-1/s3/aws4_request"), receiver.CodeInvalidAccessKeyID, ""},
		{"no session token", set("X-Amz-Security-Token", ""), receiver.CodeInvalidAccessKeyID, ""},
		{"another session token", set("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEM"), receiver.CodeInvalidToken, ""},
		{"a bad percent-encoding", get.URL + "&a=%zz", receiver.CodeAuthorizationQueryParametersError, "not well-formed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.v.VerifyPresigned(readRequest(t, requestFor("GET", tc.url, nil, nil)), "uploads", "users/alice/x.png")
			if !errors.Is(err, tc.code) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("err = %v, want %s with %q", err, tc.code, tc.message)
			}
		})
	}
}

// TestVerifyPresignedNeverLeaksTheSecret: no error of a refused request
// quotes the secret or the signature the Verifier computed.
func TestVerifyPresignedNeverLeaksTheSecret(t *testing.T) {
	f := newPutFixture("")
	p := f.presign(t, postpolicy.Bucket("uploads"), postpolicy.Key("users/alice/a b+c~é.png"), postpolicy.ContentType("image/png"))
	sig := p.URL[strings.LastIndex(p.URL, "=")+1:]
	_, _, err := f.verifyPut(t, p, []postpolicy.Field{{Name: "Content-Type", Value: "image/gif"}}, []byte("x"))
	if !errors.Is(err, receiver.CodeSignatureDoesNotMatch) {
		t.Fatalf("err = %v", err)
	}
	// The correct signature for image/gif, which the error must not hold.
	q, err2 := f.signer.PresignPut(context.Background(), postpolicy.Policy{Expiration: f.now.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
		postpolicy.Bucket("uploads"), postpolicy.Key("users/alice/a b+c~é.png"), postpolicy.ContentType("image/gif")}})
	if err2 != nil {
		t.Fatal(err2)
	}
	want := q.URL[strings.LastIndex(q.URL, "=")+1:]
	var s3e *receiver.S3Error
	errors.As(err, &s3e)
	text := err.Error()
	for _, x := range s3e.Extra {
		text += "\n" + x.Value
	}
	if strings.Contains(text, want) || strings.Contains(text, "wJalrXUtnFEMI") {
		t.Errorf("the error quotes the expected signature or the secret:\n%s", text)
	}
	if !strings.Contains(text, sig) {
		t.Errorf("the error does not quote the signature provided")
	}
}

// TestResponseOverrides reads the response-* parameters a presigned GET
// carries (GetOptions sets two of them) in the documented order, and
// IsPresigned tells such a request from an anonymous one.
func TestResponseOverrides(t *testing.T) {
	f := newPutFixture("")
	get, err := f.signer.PresignGet(context.Background(), "uploads", "users/alice/x.png", f.now.Add(time.Hour),
		&postpolicy.GetOptions{ResponseContentType: "image/png", ResponseContentDisposition: `attachment; filename="a b.png"`})
	if err != nil {
		t.Fatal(err)
	}
	r := readRequest(t, requestFor("GET", get.URL+"&response-cache-control=no-store&response-expires=0", nil, nil))
	want := []postpolicy.Field{
		{Name: "Cache-Control", Value: "no-store"},
		{Name: "Content-Disposition", Value: `attachment; filename="a b.png"`},
		{Name: "Content-Type", Value: "image/png"},
		{Name: "Expires", Value: "0"},
	}
	if diff := cmp.Diff(want, receiver.ResponseOverrides(r)); diff != "" {
		t.Errorf("ResponseOverrides (-want +got):\n%s", diff)
	}
	if !receiver.IsPresigned(r) {
		t.Error("IsPresigned = false for a presigned GET")
	}
	if receiver.IsPresigned(readRequest(t, "GET /uploads/x.png?response-content-type=a HTTP/1.1\r\nHost: h\r\n\r\n")) {
		t.Error("IsPresigned = true for an anonymous GET")
	}
}

// FuzzVerifyPresigned mutates the path and query of a valid presigned PUT:
// the Verifier must answer every request with an *S3Error or success,
// never panic, and accept only requests whose path and decoded parameters
// are those signed (a different spelling of the same bytes may pass).
func FuzzVerifyPresigned(f *testing.F) {
	fx := newPutFixture("FQoGZXIvYXdzEXAMPLETOKEN")
	p, err := fx.signer.PresignPut(context.Background(), postpolicy.Policy{Expiration: fx.now.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
		postpolicy.Bucket("uploads"), postpolicy.Key("users/alice/a b+c~é.png"), postpolicy.ContentType("image/png")}})
	if err != nil {
		f.Fatal(err)
	}
	orig, _ := url.Parse(p.URL)
	f.Add(orig.EscapedPath(), orig.RawQuery, "image/png")
	f.Add(orig.EscapedPath(), orig.RawQuery+"&X-Amz-Signature=0", "image/png")
	f.Add("/uploads/users/alice/a%20b%2Bc%7E%C3%A9.png", orig.RawQuery, "image/png")
	f.Add(orig.EscapedPath(), strings.ReplaceAll(orig.RawQuery, "%2F", "/"), "image/png")
	f.Fuzz(func(t *testing.T, path, query, contentType string) {
		raw := "PUT " + path + "?" + query + " HTTP/1.1\r\nHost: " + orig.Host + "\r\nContent-Type: " + contentType + "\r\nContent-Length: 1\r\n\r\nx"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		u, err := fx.v.VerifyPresigned(r, "uploads", "k")
		if err != nil {
			var s3e *receiver.S3Error
			if !errors.As(err, &s3e) {
				t.Fatalf("not an *S3Error: %v", err)
			}
			return
		}
		if r.URL.Path != orig.Path || contentType != "image/png" {
			t.Fatalf("accepted path %q with Content-Type %q", r.URL.Path, contentType)
		}
		got, _ := url.ParseQuery(strings.ReplaceAll(r.URL.RawQuery, "+", "%2B"))
		want, _ := url.ParseQuery(strings.ReplaceAll(orig.RawQuery, "+", "%2B"))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("accepted another query (-signed +got):\n%s", diff)
		}
		if _, err := io.ReadAll(u.File); err != nil {
			t.Fatalf("reading the body: %v", err)
		}
	})
}

// headerExamples are the header-signed requests of "Signature Calculations
// for the Authorization Header: Transferring Payload in a Single Chunk",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
// as transcribed in internal/sigv4/testdata/s3-sigv4-examples.json.
type headerExamples struct {
	HeaderAuth struct {
		Examples []headerExampleT `json:"examples"`
	} `json:"header_auth"`
}

// rawHeaderExample is example e as sent, with its Authorization header
// and the changes of edit applied to its header lines.
func rawHeaderExample(e headerExampleT, edit func([][2]string) [][2]string) string {
	var b strings.Builder
	target := (&url.URL{Path: e.Path}).EscapedPath()
	if e.Query != "" {
		target += "?" + e.Query
	}
	b.WriteString(e.Method + " " + target + " HTTP/1.1\r\n")
	h := append([][2]string(nil), e.Headers...)
	h = append(h, [2]string{"Authorization", e.Authorization})
	if e.Body != "" {
		h = append(h, [2]string{"Content-Length", strconv.Itoa(len(e.Body))})
	}
	if edit != nil {
		h = edit(h)
	}
	for _, kv := range h {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	b.WriteString("\r\n" + e.Body)
	return b.String()
}

type headerExampleT = struct {
	Name          string      `json:"name"`
	Method        string      `json:"method"`
	Path          string      `json:"path"`
	Query         string      `json:"query"`
	Headers       [][2]string `json:"headers"`
	Body          string      `json:"body"`
	Authorization string      `json:"authorization"`
}

// TestVerifyRequestAWSExamples verifies AWS's four published header-signed
// requests, and refuses each with one thing changed.
func TestVerifyRequestAWSExamples(t *testing.T) {
	var ex headerExamples
	testutil.ReadJSON(t, "../internal/sigv4/testdata/s3-sigv4-examples.json", &ex)
	if len(ex.HeaderAuth.Examples) != 4 {
		t.Fatalf("%d examples, want 4", len(ex.HeaderAuth.Examples))
	}
	signedAt := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	v := exampleVerifier(signedAt.Add(10 * time.Minute))
	for _, e := range ex.HeaderAuth.Examples {
		t.Run(e.Name, func(t *testing.T) {
			u, err := v.VerifyRequest(readRequest(t, rawHeaderExample(e, nil)), "examplebucket", strings.TrimPrefix(e.Path, "/"))
			if err != nil {
				t.Fatalf("the published request is refused: %v", err)
			}
			if u.Method != e.Method || u.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
				t.Errorf("Upload = %+v", u)
			}
			if e.Method == "PUT" {
				got, err := io.ReadAll(u.File)
				if err != nil || string(got) != e.Body {
					t.Errorf("File: %q, %v", got, err)
				}
			}
			set := func(name, value string) func([][2]string) [][2]string {
				return func(h [][2]string) [][2]string {
					for i := range h {
						if strings.EqualFold(h[i][0], name) {
							h[i][1] = value
							return h
						}
					}
					return append(h, [2]string{name, value})
				}
			}
			for _, tc := range []struct {
				name string
				edit func([][2]string) [][2]string
				code receiver.ErrorCode
			}{
				{"another host", set("Host", "examplebucket.s3.amazonaws.co"), receiver.CodeSignatureDoesNotMatch},
				{"another date", set("X-Amz-Date", "20130524T000001Z"), receiver.CodeSignatureDoesNotMatch},
				{"an unsigned x-amz header", set("x-amz-acl", "public-read"), receiver.CodeAccessDenied},
				{"no x-amz-date", func(h [][2]string) [][2]string {
					return slices.DeleteFunc(h, func(kv [2]string) bool { return strings.EqualFold(kv[0], "x-amz-date") })
				}, receiver.CodeAccessDenied},
				{"a malformed Authorization", set("Authorization", strings.Replace(e.Authorization, "SignedHeaders", "Signed", 1)), receiver.CodeAuthorizationHeaderMalformed},
				{"another region", set("Authorization", strings.Replace(e.Authorization, "us-east-1", "us-west-2", 1)), receiver.CodeAuthorizationHeaderMalformed},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := v.VerifyRequest(readRequest(t, rawHeaderExample(e, tc.edit)), "examplebucket", "k")
					if !errors.Is(err, tc.code) {
						t.Errorf("err = %v, want %s", err, tc.code)
					}
				})
			}
		})
	}

	// The PUT example's body must hash to its x-amz-content-sha256.
	put := ex.HeaderAuth.Examples[1]
	bad := put
	bad.Body = "Welcome to Amazon S4."
	u, err := v.VerifyRequest(readRequest(t, rawHeaderExample(bad, nil)), "examplebucket", "test$file.text")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(u.File); !errors.Is(err, receiver.CodeXAmzContentSHA256Mismatch) {
		t.Errorf("a body of another hash: %v", err)
	}

	// The clock: 15 minutes either way.
	for _, d := range []time.Duration{-15*time.Minute - time.Second, 15*time.Minute + time.Second} {
		_, err := exampleVerifier(signedAt.Add(d)).VerifyRequest(readRequest(t, rawHeaderExample(ex.HeaderAuth.Examples[0], nil)), "examplebucket", "test.txt")
		if !errors.Is(err, receiver.CodeRequestTimeTooSkewed) {
			t.Errorf("server clock %v from the request: %v", d, err)
		}
	}

	// Neither signed form: anonymous.
	_, err = v.VerifyRequest(readRequest(t, "GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\n\r\n"), "examplebucket", "test.txt")
	if !errors.Is(err, receiver.CodeAccessDenied) {
		t.Errorf("an anonymous request: %v", err)
	}
}

// TestSignRequestVerifies: a request the root package's SignRequest signs
// is one VerifyRequest accepts, with its body checked against the signed
// payload hash, in both path styles and with a session token; one changed
// header or body byte is refused.
func TestSignRequestVerifies(t *testing.T) {
	f := newPutFixture("FQoGZXIvYXdzEXAMPLETOKEN")
	body := []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>")
	for _, target := range []string{"http://127.0.0.1:9000/uploads/users/alice/a%20b.png?uploadId=VXBsb2Fk", "http://uploads.localhost:9000/users/alice/a%20b.png?uploadId=VXBsb2Fk"} {
		r, err := http.NewRequest("POST", target, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/xml")
		if err := f.signer.SignRequest(context.Background(), r, postpolicy.PayloadHash(body)); err != nil {
			t.Fatal(err)
		}
		var raw strings.Builder
		if err := r.Write(&raw); err != nil {
			t.Fatal(err)
		}
		u, err := f.v.VerifyRequest(readRequest(t, raw.String()), "uploads", "users/alice/a b.png")
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got, err := io.ReadAll(u.File); err != nil || string(got) != string(body) {
			t.Errorf("%s: body %q, %v", target, got, err)
		}
		// One byte of the body changed: the payload hash no longer holds.
		tampered := strings.Replace(raw.String(), "<PartNumber>1<", "<PartNumber>2<", 1)
		u, err = f.v.VerifyRequest(readRequest(t, tampered), "uploads", "users/alice/a b.png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(u.File); !errors.Is(err, receiver.CodeXAmzContentSHA256Mismatch) {
			t.Errorf("%s: a changed body: %v", target, err)
		}
		// A signed header changed.
		tampered = strings.Replace(raw.String(), "application/xml", "application/json", 1)
		if _, err := f.v.VerifyRequest(readRequest(t, tampered), "uploads", "k"); !errors.Is(err, receiver.CodeSignatureDoesNotMatch) {
			t.Errorf("%s: a changed Content-Type: %v", target, err)
		}
	}
}
