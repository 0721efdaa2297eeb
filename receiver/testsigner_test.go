package receiver_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy/internal/testutil"
)

// This file is a Signature Version 4 signer for the tests of the Handler's
// signed calls, written from "Create a signed AWS API request"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
// and the S3 pages on query-string and header authentication
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html)
// with crypto/hmac and crypto/sha256 alone: it shares no code with
// internal/sigv4, which the Verifier uses, so that the tests do not assume
// what they check. TestTestSignerAWSExamples checks it against AWS's
// published examples.

// testSigner signs requests with one access key, at its clock's time.
type testSigner struct {
	accessKeyID, secret, region string
	now                         func() time.Time // nil: time.Now
}

// exampleSigner signs with AWS's published example key.
func exampleSigner() *testSigner {
	return &testSigner{accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1"}
}

// s3Request is a request to sign: the path and query decoded.
type s3Request struct {
	method string
	base   string      // scheme://host[:port]
	path   string      // "/bucket/key", decoded
	query  [][2]string // names and values, decoded; sent in this order
	header [][2]string // headers sent and signed, besides Host and the signer's
	body   []byte
	// bodyReader and size, when bodyReader is set, are the body instead.
	bodyReader io.Reader
	size       int64
}

// uriEncode encodes s as SigV4 does: every byte but the unreserved
// characters A-Z a-z 0-9 - . _ ~ as %XY in upper case, '/' kept when
// keepSlash.
func uriEncode(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// canonicalQuery is the canonical query string: names and values encoded,
// sorted by name then value, each pair name=value.
func canonicalQuery(q [][2]string) string {
	enc := make([][2]string, len(q))
	for i, p := range q {
		enc[i] = [2]string{uriEncode(p[0], false), uriEncode(p[1], false)}
	}
	slices.SortFunc(enc, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	parts := make([]string, len(enc))
	for i, p := range enc {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, "&")
}

// canonicalHeaders returns the canonical headers block and the signed
// headers list: names in lower case, sorted, values trimmed with inner
// runs of spaces made one, the values of a repeated name joined by ','.
func canonicalHeaders(h [][2]string) (block, signed string) {
	values := map[string][]string{}
	var names []string
	for _, kv := range h {
		name := strings.ToLower(kv[0])
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = append(values[name], strings.Join(strings.Fields(kv[1]), " "))
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":" + strings.Join(values[n], ",") + "\n")
	}
	return b.String(), strings.Join(names, ";")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signature signs the canonical request of its parts at amzDate.
func (s *testSigner) signature(method, path string, query, header [][2]string, payload, amzDate string) (sig, signedHeaders string) {
	block, signedHeaders := canonicalHeaders(header)
	creq := method + "\n" + uriEncode(path, true) + "\n" + canonicalQuery(query) + "\n" + block + "\n" + signedHeaders + "\n" + payload
	date := amzDate[:8]
	scope := date + "/" + s.region + "/s3/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(creq))
	k := hmacSHA256([]byte("AWS4"+s.secret), date)
	k = hmacSHA256(k, s.region)
	k = hmacSHA256(k, "s3")
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, sts)), signedHeaders
}

func (s *testSigner) amzDate() string {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	return now().UTC().Format("20060102T150405Z")
}

func hostOf(base string) string {
	_, rest, _ := strings.Cut(base, "://")
	return rest
}

// presignURL returns the presigned URL of r, valid for expires seconds:
// the query of r, then the authentication parameters, in canonical
// order, then X-Amz-Signature; UNSIGNED-PAYLOAD.
func (s *testSigner) presignURL(r s3Request, expires int) string {
	amzDate := s.amzDate()
	header := append([][2]string{{"Host", hostOf(r.base)}}, r.header...)
	_, signedHeaders := canonicalHeaders(header)
	q := append(slices.Clone(r.query),
		[2]string{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		[2]string{"X-Amz-Credential", s.accessKeyID + "/" + amzDate[:8] + "/" + s.region + "/s3/aws4_request"},
		[2]string{"X-Amz-Date", amzDate},
		[2]string{"X-Amz-Expires", strconv.Itoa(expires)},
		[2]string{"X-Amz-SignedHeaders", signedHeaders},
	)
	sig, _ := s.signature(r.method, r.path, q, header, "UNSIGNED-PAYLOAD", amzDate)
	return r.base + uriEncode(r.path, true) + "?" + canonicalQuery(q) + "&X-Amz-Signature=" + sig
}

// newHTTPRequest returns the request of r to rawURL, with r's headers
// and body.
func newHTTPRequest(t testing.TB, r s3Request, rawURL string) *http.Request {
	t.Helper()
	var body io.Reader
	size := int64(0)
	switch {
	case r.bodyReader != nil:
		body, size = r.bodyReader, r.size
	case r.body != nil:
		body, size = bytes.NewReader(r.body), int64(len(r.body))
	}
	req, err := http.NewRequest(r.method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for _, kv := range r.header {
		req.Header.Add(kv[0], kv[1])
	}
	return req
}

// presigned returns r as a presigned request.
func (s *testSigner) presigned(t testing.TB, r s3Request) *http.Request {
	return newHTTPRequest(t, r, s.presignURL(r, 900))
}

// headerSigned returns r signed in its Authorization header, with
// x-amz-content-sha256 payload (the body's hash when ""), the query sent
// as SDKs send it (a parameter without value as its bare name: ?uploads).
func (s *testSigner) headerSigned(t testing.TB, r s3Request, payload string) *http.Request {
	t.Helper()
	if payload == "" {
		payload = sha256Hex(r.body)
	}
	amzDate := s.amzDate()
	header := append(slices.Clone(r.header), [2]string{"X-Amz-Date", amzDate}, [2]string{"X-Amz-Content-Sha256", payload})
	sig, signedHeaders := s.signature(r.method, r.path, r.query, append([][2]string{{"Host", hostOf(r.base)}}, header...), payload, amzDate)
	var raw []string
	for _, p := range r.query {
		if p[1] == "" {
			raw = append(raw, uriEncode(p[0], false))
		} else {
			raw = append(raw, uriEncode(p[0], false)+"="+uriEncode(p[1], false))
		}
	}
	u := r.base + uriEncode(r.path, true)
	if len(raw) > 0 {
		u += "?" + strings.Join(raw, "&")
	}
	r.header = append(header, [2]string{"Authorization", "AWS4-HMAC-SHA256 Credential=" + s.accessKeyID + "/" + amzDate[:8] + "/" + s.region +
		"/s3/aws4_request, SignedHeaders=" + signedHeaders + ", Signature=" + sig})
	return newHTTPRequest(t, r, u)
}

// TestTestSignerAWSExamples checks the test signer against AWS's
// published examples (the presigned GET of "Authenticating Requests:
// Using Query Parameters", the four requests of "Signature Calculations
// for the Authorization Header"), as transcribed in
// internal/sigv4/testdata/s3-sigv4-examples.json.
func TestTestSignerAWSExamples(t *testing.T) {
	var ex struct {
		HeaderAuth struct {
			Examples []struct {
				Name, Method, Path, Query, Signature string
				Headers                              [][2]string
				Body                                 string
			}
		} `json:"header_auth"`
		Presigned struct {
			Examples []struct {
				Method, Host, Path, URL, Expires string
			}
		}
	}
	testutil.ReadJSON(t, "../internal/sigv4/testdata/s3-sigv4-examples.json", &ex)
	s := exampleSigner()
	s.now = func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) }

	p := ex.Presigned.Examples[0]
	expires, _ := strconv.Atoi(p.Expires)
	if got := s.presignURL(s3Request{method: p.Method, base: "https://" + p.Host, path: p.Path}, expires); got != p.URL {
		t.Errorf("presigned URL:\n got %s\nwant %s", got, p.URL)
	}
	if len(ex.HeaderAuth.Examples) != 4 {
		t.Fatalf("%d header examples, want 4", len(ex.HeaderAuth.Examples))
	}
	for _, e := range ex.HeaderAuth.Examples {
		var query [][2]string
		if e.Query != "" {
			for piece := range strings.SplitSeq(e.Query, "&") {
				name, value, _ := strings.Cut(piece, "=")
				query = append(query, [2]string{name, value})
			}
		}
		var payload string
		for _, h := range e.Headers {
			if strings.EqualFold(h[0], "x-amz-content-sha256") {
				payload = h[1]
			}
		}
		if got, _ := s.signature(e.Method, e.Path, query, e.Headers, payload, "20130524T000000Z"); got != e.Signature {
			t.Errorf("%s: signature %s, want %s", e.Name, got, e.Signature)
		}
	}
}
