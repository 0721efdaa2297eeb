package benchmarks

// BenchmarkPresignPut compares presigned PUT URLs (SigV4 query-string
// authentication) of postpolicy, minio-go and aws-sdk-go-v2: a backend
// lets a user upload exactly one avatar, of an exact type and size, with
// its uploader's id in the object's metadata. Before it times anything, it
// checks the implementation's URL with checkPresignedPut, whose SigV4
// recomputation (verifyPresignedURL) uses crypto/hmac and crypto/sha256
// only, so that no implementation can be fast by being wrong.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/postpolicy/postpolicy"
)

// The presign scenario: user <id> may PUT users/<id>/avatar.png into
// bucket, as image/png of exactly presignSize bytes, with
// x-amz-meta-uploader=<id>, in the next 15 minutes (expiresIn). It signs
// with AWS's documentation example long-term key (no session token) in
// us-east-1, as the example of "Authenticating Requests: Using Query
// Parameters" does.
const (
	presignAccessKeyID       = "AKIAIOSFODNN7EXAMPLE"
	presignRegion            = "us-east-1"
	presignContentType       = "image/png"
	presignSize        int64 = 1 << 20
)

// presignKey is the one key user userID may upload.
func presignKey(userID string) string { return "users/" + userID + "/avatar.png" }

// The per-request values of the scenario the URL's signature should cover,
// by the lower-case name of their header.
const (
	pinContentType   = "content-type"
	pinContentLength = "content-length"
	pinUploader      = "x-amz-meta-uploader"
)

// presignPins returns the values the scenario pins for userID.
func presignPins(userID string) map[string]string {
	return map[string]string{
		pinContentType:   presignContentType,
		pinContentLength: strconv.FormatInt(presignSize, 10),
		pinUploader:      userID,
	}
}

// Where a signature covers a pinned value.
const (
	inHeader = "signed header" // a header the client must send with the value
	inQuery  = "query"         // a query parameter of the URL
)

// presignImpl is one implementation under comparison in BenchmarkPresignPut.
type presignImpl struct {
	name string
	// start builds what a backend builds once and shares between its
	// handlers: a Signer, a client.
	start func() (*presignInstance, error)
	// pins says, for every value of presignPins, where the signature
	// covers it (inHeader or inQuery); a value it leaves out is not
	// signed. checkPresignedPut holds the implementation to exactly this.
	pins map[string]string
	// extraQuery are the query parameters, other than the X-Amz-* of
	// query authentication and the pins, that the implementation adds.
	extraQuery map[string]string
}

var presignImpls = []presignImpl{
	{
		name:  "postpolicy",
		start: startPresignPostpolicy,
		pins:  map[string]string{pinContentType: inHeader, pinContentLength: inHeader, pinUploader: inHeader},
	},
	{
		name:  "minio-go",
		start: startPresignMinio,
		pins:  map[string]string{pinContentType: inHeader, pinContentLength: inHeader, pinUploader: inHeader},
	},
	{
		name:       "aws-sdk-go-v2",
		start:      startPresignAWS,
		pins:       map[string]string{pinContentType: inHeader, pinContentLength: inHeader, pinUploader: inHeader},
		extraQuery: map[string]string{"x-id": "PutObject"},
	},
}

// presignInstance is a started presignImpl.
type presignInstance struct {
	// newWorker returns what one goroutine presigns with.
	newWorker func() presignWorker
	// transport is the HTTP transport given to the implementation's
	// client, nil when it has none.
	transport *failingTransport
}

// presignWorker presigns for one goroutine.
type presignWorker interface {
	// presign produces one fresh presigned PUT for userID, from a freshly
	// built request description, and keeps the result until the next call.
	presign(userID string) error
	// request returns the last result in a common shape, for the checks.
	request() presignedRequest
}

// presignedRequest is what a client is told to send.
type presignedRequest struct {
	Method, URL string
	// Header are the headers the client must send, Host aside.
	Header http.Header
	// Warnings are the implementation's warnings (postpolicy's lint).
	Warnings []string
}

// BenchmarkPresignPut measures one fresh presigned PUT per op, for a
// different user each op, on one goroutine.
func BenchmarkPresignPut(b *testing.B) {
	for _, im := range rotated(presignImpls) {
		b.Run("impl="+im.name, func(b *testing.B) {
			inst, err := im.start()
			if err != nil {
				b.Fatal(err)
			}
			w := inst.newWorker()
			if err := checkPresignImpl(im, w, testUser); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := time.Now()
			i := 0
			for b.Loop() {
				if err := w.presign(userIDs[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(userIDs) {
					i = 0
				}
			}
			// The last URL signed in the loop (b.Loop stopped the timer).
			last := userIDs[(i+len(userIDs)-1)%len(userIDs)]
			if err := checkPresignedPut(im, w.request(), last, start, time.Now()); err != nil {
				b.Fatalf("the last URL of the loop: %v", err)
			}
			checkNoRequests(b, inst.transport)
		})
	}
}

// checkPresignImpl presigns for userID with w and checks the result.
func checkPresignImpl(im presignImpl, w presignWorker, userID string) error {
	before := time.Now()
	if err := w.presign(userID); err != nil {
		return err
	}
	return checkPresignedPut(im, w.request(), userID, before, time.Now())
}

// TestPresignPut checks every presign implementation's URL for testUser
// (see checkPresignedPut) and logs what it signs.
func TestPresignPut(t *testing.T) {
	for _, im := range presignImpls {
		t.Run(im.name, func(t *testing.T) {
			inst, err := im.start()
			if err != nil {
				t.Fatal(err)
			}
			w := inst.newWorker()
			if err := checkPresignImpl(im, w, testUser); err != nil {
				t.Fatal(err)
			}
			r := w.request()
			u, _ := url.Parse(r.URL)
			t.Logf("%s %s%s, X-Amz-SignedHeaders=%s, %d B of URL; headers to send %v",
				r.Method, u.Host, u.EscapedPath(), u.Query().Get("X-Amz-SignedHeaders"), len(r.URL), sortedKeys(r.Header))
			if rt := inst.transport; rt != nil && rt.requests.Load() != 0 {
				t.Errorf("the implementation made %d HTTP requests", rt.requests.Load())
			}
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkPresignedPut checks a presigned PUT for userID made between
// notBefore and notAfter: its signature, recomputed by verifyPresignedURL
// from the URL, the headers and the secret; the URL's bucket, key,
// credential scope, date and expiry; and that the signature covers the
// scenario's values exactly as im.pins says, and nothing else besides
// im.extraQuery.
func checkPresignedPut(im presignImpl, r presignedRequest, userID string, notBefore, notAfter time.Time) error {
	if r.Method != http.MethodPut {
		return fmt.Errorf("method %q, want PUT", r.Method)
	}
	if len(r.Warnings) != 0 {
		return fmt.Errorf("warnings: %q", r.Warnings)
	}
	a, err := verifyPresignedURL(r.Method, r.URL, r.Header, secretAccessKey)
	if err != nil {
		return err
	}
	var errs []error
	// The bucket's virtual host on the global, the regional or (minio-go's
	// default) the regional dual-stack endpoint: all reach us-east-1.
	if a.scheme != "https" || !slices.Contains([]string{
		bucket + ".s3.amazonaws.com",
		bucket + ".s3." + presignRegion + ".amazonaws.com",
		bucket + ".s3.dualstack." + presignRegion + ".amazonaws.com",
	}, a.host) {
		errs = append(errs, fmt.Errorf("%s://%s is not the bucket's virtual host", a.scheme, a.host))
	}
	if a.path != "/"+presignKey(userID) {
		errs = append(errs, fmt.Errorf("path %q, want /%s", a.path, presignKey(userID)))
	}
	if a.accessKeyID != presignAccessKeyID || a.region != presignRegion || a.service != service {
		errs = append(errs, fmt.Errorf("credential %s/%s/%s/%s", a.accessKeyID, a.day, a.region, a.service))
	}
	if a.amzDate.Before(notBefore.Truncate(time.Second)) || a.amzDate.After(notAfter) {
		errs = append(errs, fmt.Errorf("X-Amz-Date %v is not between %v and %v, when it was signed", a.amzDate, notBefore, notAfter))
	}
	// Valid until 15 minutes after signing, to the second: postpolicy ends
	// the URL at the policy's expiration, 15 minutes after its caller read
	// the clock, so it may live 899 seconds from an X-Amz-Date of the
	// next second.
	if end := a.amzDate.Add(time.Duration(a.expires) * time.Second); end.Before(notBefore.Add(expiresIn-time.Second)) || end.After(notAfter.Add(expiresIn)) {
		errs = append(errs, fmt.Errorf("valid until %v (X-Amz-Expires=%d), want 15 minutes after signing", end, a.expires))
	}
	if _, ok := a.query["X-Amz-Security-Token"]; ok {
		errs = append(errs, errors.New("an X-Amz-Security-Token, signing with long-term credentials"))
	}

	// What the signature covers: the pins where im says, and nothing else.
	pins := presignPins(userID)
	for name, want := range pins {
		where := ""
		var got []string
		if slices.Contains(a.signedHeaders, name) {
			where, got = inHeader, r.Header.Values(name)
		}
		for k, vs := range a.query {
			if strings.EqualFold(k, name) {
				if where != "" {
					errs = append(errs, fmt.Errorf("%s is both a signed header and a query parameter", name))
				}
				where, got = inQuery, vs
			}
		}
		if where != im.pins[name] {
			errs = append(errs, fmt.Errorf("%s: signed as %q, want %q", name, where, im.pins[name]))
		}
		if where != "" && (len(got) != 1 || got[0] != want) {
			errs = append(errs, fmt.Errorf("%s (%s) = %q, want %q", name, where, got, want))
		}
	}
	for _, h := range a.signedHeaders {
		if _, ok := pins[h]; !ok && h != "host" {
			errs = append(errs, fmt.Errorf("signed header %s is not the scenario's", h))
		}
	}
	for k, vs := range a.query {
		if _, ok := pins[strings.ToLower(k)]; ok || slices.Contains(queryAuthParams, k) {
			continue
		}
		if want, ok := im.extraQuery[k]; !ok || len(vs) != 1 || vs[0] != want {
			errs = append(errs, fmt.Errorf("unexpected query parameter %s=%q", k, vs))
		}
	}
	for k := range im.extraQuery {
		if _, ok := a.query[k]; !ok {
			errs = append(errs, fmt.Errorf("no query parameter %s, which %s adds", k, im.name))
		}
	}
	return errors.Join(errs...)
}

// queryAuthParams are the parameters of SigV4 query authentication, besides
// X-Amz-Signature and X-Amz-Security-Token.
var queryAuthParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"}

// presignedAuth is a presigned URL as verifyPresignedURL read it.
type presignedAuth struct {
	scheme, host, path                      string // path decoded
	query                                   url.Values
	accessKeyID, day, region, service       string
	amzDate                                 time.Time
	expires                                 int
	signedHeaders                           []string
	canonicalRequest, stringToSign, payload string
}

// verifyPresignedURL recomputes the signature of a presigned URL from the
// URL, the headers the client sends besides Host, and the secret key,
// following "Authenticating Requests: Using Query Parameters (AWS
// Signature Version 4)"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html)
// and the canonical request of "Signature Calculations for the
// Authorization Header", with crypto/hmac and crypto/sha256 only. Every
// header the client sends must be signed, and every signed header but Host
// sent; the payload is UNSIGNED-PAYLOAD unless x-amz-content-sha256 is
// signed.
func verifyPresignedURL(method, rawURL string, header http.Header, secret string) (*presignedAuth, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("URL %q has a fragment, user info or opaque part", rawURL)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, err
	}
	a := &presignedAuth{scheme: u.Scheme, host: u.Host, path: u.Path, query: query}
	one := func(name string) (string, error) {
		vs := query[name]
		if len(vs) != 1 {
			return "", fmt.Errorf("%d %s query parameters, want 1", len(vs), name)
		}
		return vs[0], nil
	}
	var (
		algorithm, credential, amzDate, expires, signedHeaders, signature string
		errs                                                              []error
	)
	for _, p := range []struct {
		name string
		v    *string
	}{
		{"X-Amz-Algorithm", &algorithm}, {"X-Amz-Credential", &credential}, {"X-Amz-Date", &amzDate},
		{"X-Amz-Expires", &expires}, {"X-Amz-SignedHeaders", &signedHeaders}, {"X-Amz-Signature", &signature},
	} {
		v, err := one(p.name)
		errs = append(errs, err)
		*p.v = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	delete(query, "X-Amz-Signature")
	if algorithm != "AWS4-HMAC-SHA256" {
		return nil, fmt.Errorf("X-Amz-Algorithm %q", algorithm)
	}
	if !strings.HasSuffix(rawURL, "&X-Amz-Signature="+signature) {
		// Not a requirement of S3, but every implementation here does it.
		return nil, errors.New("X-Amz-Signature is not the URL's last parameter")
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return nil, fmt.Errorf("X-Amz-Credential %q", credential)
	}
	a.accessKeyID, a.day, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	if a.amzDate, err = time.Parse("20060102T150405Z", amzDate); err != nil {
		return nil, fmt.Errorf("X-Amz-Date: %v", err)
	}
	if amzDate[:8] != a.day {
		return nil, fmt.Errorf("X-Amz-Date %s is not of the credential's day %s", amzDate, a.day)
	}
	if a.expires, err = strconv.Atoi(expires); err != nil || a.expires < 1 || a.expires > 7*24*60*60 || strconv.Itoa(a.expires) != expires {
		return nil, fmt.Errorf("X-Amz-Expires %q is not 1 to 604800 seconds", expires)
	}

	// The canonical headers: the signed ones, lower case, sorted, with
	// host; the values of those sent, trimmed, inner spaces squeezed.
	a.signedHeaders = strings.Split(signedHeaders, ";")
	if !slices.IsSorted(a.signedHeaders) || len(slices.Compact(slices.Clone(a.signedHeaders))) != len(a.signedHeaders) ||
		!slices.Contains(a.signedHeaders, "host") || strings.ToLower(signedHeaders) != signedHeaders {
		return nil, fmt.Errorf("X-Amz-SignedHeaders %q is not a sorted set of lower-case names with host", signedHeaders)
	}
	for name := range header {
		if !slices.Contains(a.signedHeaders, strings.ToLower(name)) {
			return nil, fmt.Errorf("header %s is sent but not signed", name)
		}
	}
	var canonicalHeaders strings.Builder
	a.payload = "UNSIGNED-PAYLOAD"
	for _, name := range a.signedHeaders {
		value := u.Host
		if name != "host" {
			vs := header.Values(name)
			if len(vs) == 0 {
				return nil, fmt.Errorf("signed header %s is not among those to send", name)
			}
			for i, v := range vs {
				vs[i] = strings.Join(strings.Fields(v), " ")
			}
			value = strings.Join(vs, ",")
		}
		if name == "x-amz-content-sha256" {
			a.payload = value
		}
		canonicalHeaders.WriteString(name + ":" + value + "\n")
	}

	// The canonical query: every parameter but the signature, names and
	// values URI-encoded, sorted by name, then value.
	var params []string
	for name, vs := range query {
		for _, v := range vs {
			params = append(params, uriEncode(name, true)+"="+uriEncode(v, true))
		}
	}
	slices.SortFunc(params, func(x, y string) int {
		xn, xv, _ := strings.Cut(x, "=")
		yn, yv, _ := strings.Cut(y, "=")
		if c := strings.Compare(xn, yn); c != 0 {
			return c
		}
		return strings.Compare(xv, yv)
	})

	a.canonicalRequest = strings.Join([]string{
		method,
		uriEncode(u.Path, false), // S3: the path as it is, each byte encoded once
		strings.Join(params, "&"),
		canonicalHeaders.String(),
		signedHeaders,
		a.payload,
	}, "\n")
	crHash := sha256.Sum256([]byte(a.canonicalRequest))
	a.stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(crHash[:])
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+secret), a.day), a.region), a.service), "aws4_request")
	want := hex.EncodeToString(mac(key, a.stringToSign))
	if !hmac.Equal([]byte(signature), []byte(want)) {
		return a, fmt.Errorf("X-Amz-Signature %s, recomputed %s from the canonical request\n%s", signature, want, a.canonicalRequest)
	}
	return a, nil
}

// uriEncode is SigV4's UriEncode: every byte but A–Z, a–z, 0–9, '-', '.',
// '_', '~' (and '/' unless encodeSlash) as %XX, upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// TestVerifyPresignedURL checks verifyPresignedURL itself: it accepts AWS's
// published example (GET examplebucket/test.txt; its canonical request and
// string to sign as published) and a URL with signed headers from
// postpolicy, and refuses every tampered copy of them.
func TestVerifyPresignedURL(t *testing.T) {
	// From "Authenticating Requests: Using Query Parameters", An Example.
	const (
		example = "https://examplebucket.s3.amazonaws.com/test.txt" +
			"?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
			"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
			"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
		exampleCR = "GET\n/test.txt\n" +
			"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n" +
			"host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
		exampleSTS = "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
			"3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
	)
	a, err := verifyPresignedURL("GET", example, nil, secretAccessKey)
	if err != nil {
		t.Fatalf("AWS's example: %v", err)
	}
	if a.canonicalRequest != exampleCR || a.stringToSign != exampleSTS {
		t.Errorf("AWS's example: canonical request\n%s\nstring to sign\n%s", a.canonicalRequest, a.stringToSign)
	}

	inst, err := startPresignPostpolicy()
	if err != nil {
		t.Fatal(err)
	}
	w := inst.newWorker()
	if err := w.presign(testUser); err != nil {
		t.Fatal(err)
	}
	put := w.request()
	if _, err := verifyPresignedURL(put.Method, put.URL, put.Header, secretAccessKey); err != nil {
		t.Fatal(err)
	}

	// replace replaces old in s, which must contain it.
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q is not in %s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	with := func(h http.Header, name, value string) http.Header {
		h = h.Clone()
		if h.Get(name) == "" {
			t.Fatalf("no %s header in %v", name, h)
		}
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	otherSecret := replace(secretAccessKey, "K7MDENG", "K7MDENH")
	for _, c := range []struct {
		name           string
		method, rawURL string
		header         http.Header
		secret         string
	}{
		{"example: method", "PUT", example, nil, secretAccessKey},
		{"example: secret", "GET", example, nil, otherSecret},
		{"example: path", "GET", replace(example, "/test.txt", "/test.txu"), nil, secretAccessKey},
		{"example: host", "GET", replace(example, "examplebucket.", "examplebucker."), nil, secretAccessKey},
		{"example: expires", "GET", replace(example, "Expires=86400", "Expires=86401"), nil, secretAccessKey},
		{"example: date", "GET", replace(example, "T000000Z", "T000001Z"), nil, secretAccessKey},
		{"example: region", "GET", replace(example, "us-east-1", "us-east-2"), nil, secretAccessKey},
		{"example: extra parameter", "GET", replace(example, "?", "?acl=&"), nil, secretAccessKey},
		{"example: unsigned header sent", "GET", example, http.Header{"Content-Type": {"text/plain"}}, secretAccessKey},
		{"example: signature", "GET", replace(example, "f604d404", "f604d405"), nil, secretAccessKey},
		{"put: secret", put.Method, put.URL, put.Header, otherSecret},
		{"put: Content-Type", put.Method, put.URL, with(put.Header, "Content-Type", "image/gif"), secretAccessKey},
		{"put: Content-Length", put.Method, put.URL, with(put.Header, "Content-Length", "1048577"), secretAccessKey},
		{"put: uploader", put.Method, put.URL, with(put.Header, "X-Amz-Meta-Uploader", "user-43"), secretAccessKey},
		{"put: uploader not sent", put.Method, put.URL, with(put.Header, "X-Amz-Meta-Uploader", ""), secretAccessKey},
		{"put: key", put.Method, replace(put.URL, "/avatar.png", "/avatar.gif"), put.Header, secretAccessKey},
		{"put: one header fewer signed", put.Method, replace(put.URL, "content-length%3B", ""),
			with(put.Header, "Content-Length", ""), secretAccessKey},
	} {
		if _, err := verifyPresignedURL(c.method, c.rawURL, c.header, c.secret); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestCheckPresignedPut checks that checkPresignedPut refuses URLs that
// verify but are not the scenario's: another user's, one signed outside
// the interval given, and minio-go's PresignedPutObject, which signs the
// host only.
func TestCheckPresignedPut(t *testing.T) {
	im := presignImpls[0]
	inst, err := im.start()
	if err != nil {
		t.Fatal(err)
	}
	w := inst.newWorker()
	before := time.Now()
	if err := w.presign(testUser); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	r := w.request()
	if err := checkPresignedPut(im, r, testUser, before, after); err != nil {
		t.Fatal(err)
	}
	if err := checkPresignedPut(im, r, "user-43", before, after); err == nil {
		t.Error("accepted for another user")
	}
	if err := checkPresignedPut(im, r, testUser, after.Add(2*time.Second), after.Add(3*time.Second)); err == nil {
		t.Error("accepted a URL signed before the interval")
	}
	noUploader := presignedRequest{Method: r.Method, URL: r.URL, Header: r.Header.Clone()}
	noUploader.Header.Del("X-Amz-Meta-Uploader")
	if err := checkPresignedPut(im, noUploader, testUser, before, after); err == nil {
		t.Error("accepted without a signed header")
	}

	minst, err := startPresignMinio()
	if err != nil {
		t.Fatal(err)
	}
	c := minst.newWorker().(*presignMinioWorker).c
	before = time.Now()
	u, err := c.PresignedPutObject(context.Background(), bucket, presignKey(testUser), expiresIn)
	if err != nil {
		t.Fatal(err)
	}
	hostOnly := presignedRequest{Method: http.MethodPut, URL: u.String()}
	if _, err := verifyPresignedURL(hostOnly.Method, hostOnly.URL, nil, secretAccessKey); err != nil {
		t.Fatalf("PresignedPutObject's URL does not verify: %v", err)
	}
	if err := checkPresignedPut(presignImpls[1], hostOnly, testUser, before, time.Now()); err == nil {
		t.Error("accepted PresignedPutObject's URL, which signs none of the scenario's headers")
	}
}

// --- postpolicy ---

// startPresignPostpolicy builds one Signer, as a backend does. Its clock
// is the real one (Now nil), as the peers' are.
func startPresignPostpolicy() (*presignInstance, error) {
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: presignAccessKeyID, SecretAccessKey: secretAccessKey},
		Region:      presignRegion,
	}
	return &presignInstance{newWorker: func() presignWorker { return &presignPostpolicyWorker{s: s} }}, nil
}

type presignPostpolicyWorker struct {
	s    *postpolicy.Signer
	last *postpolicy.Presigned
}

func (w *presignPostpolicyWorker) presign(userID string) error {
	// The exact matches become signed headers: Content-Type,
	// Content-Length (from the range of one size), x-amz-meta-uploader.
	conds := [5]postpolicy.Condition{
		postpolicy.Bucket(bucket),
		postpolicy.Key(presignKey(userID)),
		postpolicy.ContentType(presignContentType),
		postpolicy.ContentLengthRange(presignSize, presignSize),
		postpolicy.Meta("uploader", userID),
	}
	p, err := w.s.PresignPut(context.Background(), postpolicy.Policy{Expiration: time.Now().Add(expiresIn), Conditions: conds[:]})
	w.last = p
	return err
}

func (w *presignPostpolicyWorker) request() presignedRequest {
	r := presignedRequest{Method: w.last.Method, URL: w.last.URL, Header: http.Header{}}
	for _, f := range w.last.Header {
		r.Header.Add(f.Name, f.Value)
	}
	for _, p := range w.last.Warnings {
		r.Warnings = append(r.Warnings, p.Error())
	}
	return r
}

// --- minio-go ---

// startPresignMinio builds one Client, as startMinio does: Options.Region
// set, so it never looks the bucket's region up; a transport that fails
// and counts any request.
func startPresignMinio() (*presignInstance, error) {
	rt := &failingTransport{}
	c, err := minio.New("s3.amazonaws.com", &minio.Options{
		Creds:     miniocreds.NewStaticV4(presignAccessKeyID, secretAccessKey, ""),
		Secure:    true,
		Region:    presignRegion,
		Transport: rt,
	})
	if err != nil {
		return nil, err
	}
	return &presignInstance{transport: rt, newWorker: func() presignWorker { return &presignMinioWorker{c: c} }}, nil
}

type presignMinioWorker struct {
	c      *minio.Client
	header http.Header
	url    *url.URL
}

func (w *presignMinioWorker) presign(userID string) error {
	// PresignHeader signs every header it is given but Accept-Encoding,
	// Authorization and User-Agent: here Content-Type, Content-Length and
	// X-Amz-Meta-Uploader, with host, as postpolicy's signed headers.
	// (PresignedPutObject signs host only.)
	h := make(http.Header, 3)
	h.Set("Content-Type", presignContentType)
	h.Set("Content-Length", strconv.FormatInt(presignSize, 10))
	h.Set("X-Amz-Meta-Uploader", userID)
	u, err := w.c.PresignHeader(context.Background(), http.MethodPut, bucket, presignKey(userID), expiresIn, nil, h)
	w.header, w.url = h, u
	return err
}

func (w *presignMinioWorker) request() presignedRequest {
	return presignedRequest{Method: http.MethodPut, URL: w.url.String(), Header: w.header.Clone()}
}

// --- aws-sdk-go-v2 ---

// startPresignAWS builds one S3 client and PresignClient, as startAWS does,
// with the expiry set on the PresignClient once.
func startPresignAWS() (*presignInstance, error) {
	rt := &failingTransport{}
	creds := aws.Credentials{AccessKeyID: presignAccessKeyID, SecretAccessKey: secretAccessKey, Source: "static"}
	client := s3.New(s3.Options{
		Region:      presignRegion,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		HTTPClient:  &http.Client{Transport: rt},
	})
	pc := s3.NewPresignClient(client, s3.WithPresignExpires(expiresIn))
	return &presignInstance{transport: rt, newWorker: func() presignWorker { return &presignAWSWorker{pc: pc} }}, nil
}

type presignAWSWorker struct {
	pc   *s3.PresignClient
	last *v4.PresignedHTTPRequest
}

func (w *presignAWSWorker) presign(userID string) error {
	out, err := w.pc.PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(presignKey(userID)),
		ContentType:   aws.String(presignContentType),
		ContentLength: aws.Int64(presignSize),
		Metadata:      map[string]string{"uploader": userID},
	})
	w.last = out
	return err
}

func (w *presignAWSWorker) request() presignedRequest {
	h := w.last.SignedHeader.Clone()
	h.Del("Host")
	return presignedRequest{Method: w.last.Method, URL: w.last.URL, Header: h}
}
