package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The AWS Signature Version 4 Test Suite,
// https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html,
// as kept in testdata/aws-sig-v4-test-suite/suite.json with its LICENSE
// and NOTICE.
type suiteCase struct {
	Name        string `json:"name"`
	Req         string `json:"req"`
	Creq        string `json:"creq"`
	Sts         string `json:"sts"`
	Authz       string `json:"authz"`
	Sreq        string `json:"sreq"`
	Signature   string `json:"expected_signature"`
	KnownDefect string `json:"known_defect"`
}

type testSuite struct {
	Credentials struct {
		AccessKeyID string `json:"access_key_id"`
		Secret      string `json:"secret_access_key"`
	} `json:"credentials"`
	Date          string      `json:"date"`
	AmzDate       string      `json:"amz_date"`
	Region        string      `json:"region"`
	Service       string      `json:"service"`
	SigningKeyHex string      `json:"signing_key_hex"`
	Cases         []suiteCase `json:"cases"`
	Variants      []struct {
		Source string      `json:"source"`
		URL    string      `json:"url"`
		Cases  []suiteCase `json:"cases_differing_from_official"`
	} `json:"variants"`
}

func readSuite(t *testing.T) *testSuite {
	t.Helper()
	var s testSuite
	readVector(t, filepath.Join("aws-sig-v4-test-suite", "suite.json"), &s)
	return &s
}

// suiteRules says how the raw requests of one copy of the suite are read.
// The canonical requests differ between copies in two places that are
// not a matter of canonicalisation but of what the raw request means.
type suiteRules struct {
	// foldWithSpace joins a continuation line to the previous header's
	// value with a space (obs-fold, RFC 9112 section 5.2; botocore's
	// get-header-value-multiline). Otherwise a continuation line is a
	// further value of that header, joined with ',' like a repeated
	// header: the official get-header-value-multiline creq.
	foldWithSpace bool
	// formAsQuery signs an application/x-www-form-urlencoded body as query
	// parameters, over an empty payload: what the official
	// post-x-www-form-urlencoded-parameters creq shows (its body
	// Param1=value1 is on the query line and its hashed payload is that of
	// ""). mhart/aws4 and botocore hash the body instead.
	formAsQuery bool
}

// parseSuiteRequest reads one of the suite's raw HTTP requests (request
// line, header lines, an empty line and the body; LF line ends) into a
// Request in the generic path mode, signing every header it has.
func parseSuiteRequest(t *testing.T, raw string, rules suiteRules) Request {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	// The target may hold spaces (get-space): the method ends at the first
	// space, the protocol begins after the last.
	first := lines[0]
	sp1, sp2 := strings.IndexByte(first, ' '), strings.LastIndexByte(first, ' ')
	if sp1 < 0 || sp2 <= sp1 || first[sp2+1:] != "HTTP/1.1" {
		t.Fatalf("request line %q", first)
	}
	target := first[sp1+1 : sp2]
	p, rawQuery, _ := strings.Cut(target, "?")
	query, err := ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	var headers []Header
	contentType := ""
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(headers) == 0 {
				t.Fatalf("continuation line %q before any header", l)
			}
			prev := &headers[len(headers)-1]
			if rules.foldWithSpace {
				prev.Value += " " + strings.TrimLeft(l, " \t")
			} else {
				headers = append(headers, Header{prev.Name, l})
			}
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("header line %q has no ':'", l)
		}
		if strings.EqualFold(name, "Content-Type") {
			contentType = value
		}
		headers = append(headers, Header{name, value})
	}
	payload := HashPayload([]byte(body))
	if rules.formAsQuery && strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		form, err := ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		query = append(query, form...)
		payload = EmptyPayloadHash
	}
	return Request{
		Method:      first[:sp1],
		Path:        p,
		PathMode:    PathNormalized,
		Query:       query,
		Header:      headers,
		PayloadHash: payload,
	}
}

func headerValue(r *Request, name string) string {
	for _, h := range r.Header {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// checkSuiteCase builds the canonical request of r and compares it with
// wantCreq, then the string to sign, the signature and the Authorization
// value with the case's, byte for byte; then it verifies the other way,
// from the case's Authorization value, as a server would.
func checkSuiteCase(t *testing.T, k *Key, r Request, c suiteCase, wantCreq string) {
	t.Helper()
	amzDate := headerValue(&r, "X-Amz-Date")
	creq, err := r.AppendCanonical(nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantCreq, string(creq)); diff != "" {
		t.Errorf("canonical request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.Sts, string(AppendStringToSign(nil, amzDate, k.Scope(), creq))); diff != "" {
		t.Errorf("string to sign (-want +got):\n%s", diff)
	}
	sig, err := r.Sign(k, amzDate)
	if err != nil {
		t.Fatal(err)
	}
	if string(sig[:]) != c.Signature {
		t.Errorf("signature = %s, want %s", sig, c.Signature)
	}
	signed, err := r.AppendSignedHeaders(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendAuthorization(nil, k.Credential, string(signed), sig[:])); got != c.Authz {
		t.Errorf("authorization =\n%s\nwant\n%s", got, c.Authz)
	}

	a, err := ParseAuthorization(c.Authz)
	if err != nil {
		t.Fatal(err)
	}
	if a.Credential.String() != k.Credential {
		t.Errorf("parsed credential = %s, want %s", a.Credential, k.Credential)
	}
	r.SignedHeaders = a.SignedHeaders
	again, err := r.Sign(k, amzDate)
	if err != nil {
		t.Fatal(err)
	}
	if !hmac.Equal(again[:], []byte(a.Signature)) {
		t.Errorf("verifying with the received signed headers: signature = %s, want %s", again, a.Signature)
	}
}

func suiteKey(s *testSuite) *Key {
	return NewKey(s.Credentials.AccessKeyID, s.Credentials.Secret, s.Date, s.Region, s.Service)
}

// TestAWSTestSuite reproduces every case of the official AWS Signature
// Version 4 Test Suite: its raw request becomes a Request in the generic
// path mode, whose canonical request, string to sign, signature and
// Authorization value must equal the case's creq, sts, expected signature
// and authz byte for byte.
//
// post-x-www-form-urlencoded is defective in the official suite (its
// known_defect in suite.json): its creq lists content-type among the
// canonical headers but names only host;x-amz-date on the signed-headers
// line, while its sts and authz were computed with
// content-type;host;x-amz-date. Its creq is compared with that one line
// taken from the case's own authz; the test checks that the published creq
// differs there and only there, and the sts, signature and authz are
// compared unchanged. The copies of mhart/aws4 and botocore replace this
// case with consistent ones, checked by TestAWSTestSuiteVariants.
func TestAWSTestSuite(t *testing.T) {
	s := readSuite(t)
	if len(s.Cases) != 31 {
		t.Fatalf("%d cases, want the suite's 31", len(s.Cases))
	}
	if got := hex.EncodeToString(DeriveKey(s.Credentials.Secret, s.Date, s.Region, s.Service)); got != s.SigningKeyHex {
		t.Fatalf("signing key = %s, want %s", got, s.SigningKeyHex)
	}
	k := suiteKey(s)
	seen := map[string]bool{}
	for _, c := range s.Cases {
		if seen[c.Name] {
			t.Fatalf("case %s twice", c.Name)
		}
		seen[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			r := parseSuiteRequest(t, c.Req, suiteRules{formAsQuery: true})
			want := c.Creq
			if c.KnownDefect != "" {
				if c.Name != "post-x-www-form-urlencoded" {
					t.Fatalf("unexpected known defect: %s", c.KnownDefect)
				}
				want = correctSignedHeadersLine(t, c)
			}
			checkSuiteCase(t, k, r, c, want)
		})
	}
}

// correctSignedHeadersLine returns c.Creq with its signed-headers line
// (the second to last) replaced by the list in c.Authz, after checking
// that they differ.
func correctSignedHeadersLine(t *testing.T, c suiteCase) string {
	t.Helper()
	a, err := ParseAuthorization(c.Authz)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(c.Creq, "\n")
	published, fixed := lines[len(lines)-2], strings.Join(a.SignedHeaders, ";")
	if published == fixed {
		t.Fatalf("the published creq's signed headers %q now agree with its authz: drop the correction", published)
	}
	t.Logf("known defect: comparing with signed headers %q (from authz) instead of the published %q", fixed, published)
	lines[len(lines)-2] = fixed
	return strings.Join(lines, "\n")
}

// TestAWSTestSuiteVariants reproduces the cases that mhart/aws4 and
// botocore changed or added in their copies of the suite (suite.json's
// variants; each internally consistent): a form body hashed into the
// payload instead of signed as query parameters, obs-fold joined with a
// space (botocore), an encoded UTF-8 query name sorted by its encoding, a
// '$' in the path, and a signed session token. A variant's request is its
// sreq without the Authorization line, because botocore's
// get-vanilla-with-session-token has the X-Amz-Security-Token header it
// signs only there.
func TestAWSTestSuiteVariants(t *testing.T) {
	s := readSuite(t)
	k := suiteKey(s)
	rules := map[string]suiteRules{
		"aws4":     {},
		"botocore": {foldWithSpace: true},
	}
	n := 0
	for _, v := range s.Variants {
		rule, ok := rules[v.Source]
		if !ok {
			t.Fatalf("variant source %q has no rules", v.Source)
		}
		for _, c := range v.Cases {
			n++
			t.Run(v.Source+"/"+c.Name, func(t *testing.T) {
				head, body, hasBody := strings.Cut(c.Sreq, "\n\n")
				var kept []string
				for _, l := range strings.Split(head, "\n") {
					if !strings.HasPrefix(l, "Authorization:") {
						kept = append(kept, l)
					}
				}
				raw := strings.Join(kept, "\n")
				if hasBody {
					raw += "\n\n" + body
				}
				checkSuiteCase(t, k, parseSuiteRequest(t, raw, rule), c, c.Creq)
			})
		}
	}
	if n != 8 {
		t.Errorf("%d variant cases, want 8 (2 of mhart/aws4, 6 of botocore)", n)
	}
}

// The published Amazon S3 examples, testdata/s3-sigv4-examples.json: the
// worked examples of "Signature Calculations for the Authorization Header"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)
// and of "Authenticating Requests: Using Query Parameters"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html),
// with the example credentials AKIAIOSFODNN7EXAMPLE /
// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY on 20130524 in us-east-1.
type s3Examples struct {
	Credentials struct {
		AccessKeyID string `json:"access_key_id"`
		Secret      string `json:"secret_access_key"`
	} `json:"credentials"`
	Date       string `json:"date"`
	AmzDate    string `json:"amz_date"`
	Region     string `json:"region"`
	Service    string `json:"service"`
	HeaderAuth struct {
		Examples []struct {
			Name          string      `json:"name"`
			Method        string      `json:"method"`
			Path          string      `json:"path"`
			Query         string      `json:"query"`
			Headers       [][2]string `json:"headers"`
			Body          string      `json:"body"`
			Creq          string      `json:"creq"`
			Sts           string      `json:"sts"`
			Signature     string      `json:"signature"`
			Authorization string      `json:"authorization"`
		} `json:"examples"`
	} `json:"header_auth"`
	Presigned struct {
		Examples []struct {
			Name      string      `json:"name"`
			Method    string      `json:"method"`
			Scheme    string      `json:"scheme"`
			Host      string      `json:"host"`
			Path      string      `json:"path"`
			Expires   string      `json:"expires"`
			Headers   [][2]string `json:"headers"`
			Payload   string      `json:"payload"`
			Creq      string      `json:"creq"`
			Sts       string      `json:"sts"`
			Signature string      `json:"signature"`
			URL       string      `json:"url"`
		} `json:"examples"`
	} `json:"presigned"`
}

func readS3Examples(t *testing.T) (*s3Examples, *Key) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "s3-sigv4-examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v s3Examples
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v, NewKey(v.Credentials.AccessKeyID, v.Credentials.Secret, v.Date, v.Region, v.Service)
}

func toHeaders(pairs [][2]string) []Header {
	h := make([]Header, len(pairs))
	for i, p := range pairs {
		h[i] = Header{p[0], p[1]}
	}
	return h
}

// TestS3HeaderExamples reproduces the four examples of S3's "Signature
// Calculations for the Authorization Header" (GET Object with a Range
// header, PUT Object with '$' in the key and a body, GET Bucket Lifecycle
// with a parameter without value, and Get Bucket with two parameters) in
// the S3 path mode: the body's hash against the published
// x-amz-content-sha256, then canonical request, string to sign and
// signature. The published Authorization value (written with "," and no
// spaces) is parsed and verified the way a server would, with unsigned
// headers present in the received request.
func TestS3HeaderExamples(t *testing.T) {
	v, k := readS3Examples(t)
	if len(v.HeaderAuth.Examples) != 4 {
		t.Fatalf("%d header examples, want 4", len(v.HeaderAuth.Examples))
	}
	for _, ex := range v.HeaderAuth.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			query, err := ParseQuery(ex.Query)
			if err != nil {
				t.Fatal(err)
			}
			r := Request{
				Method:      ex.Method,
				Path:        ex.Path,
				PathMode:    PathS3,
				Query:       query,
				Header:      toHeaders(ex.Headers),
				PayloadHash: HashPayload([]byte(ex.Body)),
			}
			if got := headerValue(&r, "x-amz-content-sha256"); got != r.PayloadHash {
				t.Errorf("HashPayload(%q) = %s, want the published x-amz-content-sha256 %s", ex.Body, r.PayloadHash, got)
			}
			creq, err := r.AppendCanonical(nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ex.Creq, string(creq)); diff != "" {
				t.Errorf("canonical request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(ex.Sts, string(AppendStringToSign(nil, v.AmzDate, k.Scope(), creq))); diff != "" {
				t.Errorf("string to sign (-want +got):\n%s", diff)
			}
			sig, err := r.Sign(k, v.AmzDate)
			if err != nil {
				t.Fatal(err)
			}
			if string(sig[:]) != ex.Signature {
				t.Errorf("signature = %s, want %s", sig, ex.Signature)
			}

			a, err := ParseAuthorization(ex.Authorization)
			if err != nil {
				t.Fatal(err)
			}
			signed, _ := r.AppendSignedHeaders(nil)
			want := Authorization{
				Credential:    Credential{AccessKeyID: k.AccessKeyID, Date: k.Date, Region: k.Region, Service: k.Service},
				SignedHeaders: strings.Split(string(signed), ";"),
				Signature:     string(sig[:]),
			}
			if diff := cmp.Diff(want, a); diff != "" {
				t.Errorf("parsed published authorization (-ours +published):\n%s", diff)
			}
			received := r
			received.Header = append(toHeaders(ex.Headers),
				Header{"Authorization", ex.Authorization}, Header{"User-Agent", "not signed"})
			received.SignedHeaders = a.SignedHeaders
			got, err := received.Sign(k, v.AmzDate)
			if err != nil {
				t.Fatal(err)
			}
			if !hmac.Equal(got[:], []byte(a.Signature)) {
				t.Errorf("verifying: signature = %s, want %s", got, a.Signature)
			}
		})
	}
}

// TestS3PresignedExample reproduces S3's presigned URL example (GET
// test.txt, X-Amz-Expires=86400): a signer adds the X-Amz-* parameters,
// signs, and writes the URL, which must be the published one; then a
// verifier parses that URL, leaves out X-Amz-Signature and recomputes the
// signature.
func TestS3PresignedExample(t *testing.T) {
	v, k := readS3Examples(t)
	if len(v.Presigned.Examples) != 1 {
		t.Fatalf("%d presigned examples, want 1", len(v.Presigned.Examples))
	}
	ex := v.Presigned.Examples[0]

	r := Request{
		Method:      ex.Method,
		Path:        ex.Path,
		Header:      toHeaders(ex.Headers),
		PayloadHash: UnsignedPayload,
	}
	signed, err := r.AppendSignedHeaders(nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Query = []Param{
		{"X-Amz-Algorithm", Algorithm},
		{"X-Amz-Credential", k.Credential},
		{"X-Amz-Date", v.AmzDate},
		{"X-Amz-Expires", ex.Expires},
		{"X-Amz-SignedHeaders", string(signed)},
	}
	creq, err := r.AppendCanonical(nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ex.Creq, string(creq)); diff != "" {
		t.Errorf("canonical request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ex.Sts, string(AppendStringToSign(nil, v.AmzDate, k.Scope(), creq))); diff != "" {
		t.Errorf("string to sign (-want +got):\n%s", diff)
	}
	sig, err := r.Sign(k, v.AmzDate)
	if err != nil {
		t.Fatal(err)
	}
	if string(sig[:]) != ex.Signature {
		t.Errorf("signature = %s, want %s", sig, ex.Signature)
	}
	u := []byte(ex.Scheme + "://" + ex.Host)
	u = AppendURIEncode(u, r.Path, true)
	u = append(u, '?')
	u = AppendCanonicalQuery(u, r.Query)
	u = append(u, "&X-Amz-Signature="...)
	u = append(u, sig[:]...)
	if string(u) != ex.URL {
		t.Errorf("URL =\n%s\nwant\n%s", u, ex.URL)
	}

	// The verifier's side, from the published URL alone and the secret.
	pu, err := url.Parse(ex.URL)
	if err != nil {
		t.Fatal(err)
	}
	params, err := ParseQuery(pu.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var rest []Param
	for _, p := range params {
		if strings.HasPrefix(p.Name, "X-Amz-") {
			got[p.Name] = p.Value
		}
		if p.Name != "X-Amz-Signature" {
			rest = append(rest, p)
		}
	}
	cred, err := ParseCredential(got["X-Amz-Credential"])
	if err != nil {
		t.Fatal(err)
	}
	names, err := ParseSignedHeaders(got["X-Amz-SignedHeaders"])
	if err != nil {
		t.Fatal(err)
	}
	vk := NewKey(cred.AccessKeyID, v.Credentials.Secret, cred.Date, cred.Region, cred.Service)
	received := Request{
		Method:        ex.Method,
		Path:          pu.Path,
		Query:         rest,
		Header:        []Header{{"Host", pu.Host}, {"Accept", "*/*"}},
		SignedHeaders: names,
		PayloadHash:   UnsignedPayload,
	}
	again, err := received.Sign(vk, got["X-Amz-Date"])
	if err != nil {
		t.Fatal(err)
	}
	if !hmac.Equal(again[:], []byte(got["X-Amz-Signature"])) {
		t.Errorf("verifying: signature = %s, want %s", again, got["X-Amz-Signature"])
	}
}

func TestAppendURIEncode(t *testing.T) {
	const unres = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	for _, tc := range []struct {
		name      string
		in        string
		keepSlash bool
		want      string
	}{
		{"empty", "", false, ""},
		{"empty keeping slash", "", true, ""},
		{"unreserved", unres, false, unres},
		{"slash encoded", "a/b", false, "a%2Fb"},
		{"slash kept", "/a/b/", true, "/a/b/"},
		{"space", "a b", false, "a%20b"},
		{"plus", "a+b", false, "a%2Bb"},
		{"tilde", "~", false, "~"},
		{"percent", "%", false, "%25"},
		{"already encoded", "%20", true, "%2520"},
		{"reserved and sub-delims", "!#$&'()*+,:;=?@[]", false, "%21%23%24%26%27%28%29%2A%2B%2C%3A%3B%3D%3F%40%5B%5D"},
		{"utf-8 three bytes (suite get-utf8)", "\u1234", false, "%E1%88%B4"},
		{"utf-8 four bytes", "\U0001F600", false, "%F0%9F%98%80"},
		{"invalid utf-8", "\xff\xfe\xc3", false, "%FF%FE%C3"},
		{"control bytes", "\x00\n\x7f", false, "%00%0A%7F"},
		{"S3 PUT example key", "/test$file.text", true, "/test%24file.text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendURIEncode(nil, tc.in, tc.keepSlash)); got != tc.want {
				t.Errorf("AppendURIEncode(%q, %v) = %q, want %q", tc.in, tc.keepSlash, got, tc.want)
			}
			if got := string(AppendURIEncode([]byte("x="), tc.in, tc.keepSlash)); got != "x="+tc.want {
				t.Errorf("appending to x=: %q, want %q", got, "x="+tc.want)
			}
		})
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendURIEncode(buf[:0], "/my key/\u1234", true) }); n != 0 {
		t.Errorf("AppendURIEncode into room allocates %v times", n)
	}
}

// TestCanonicalURI pins both path modes. The S3 expectations follow the
// rule itself (encode once, keep '/', normalize nothing); the normalized
// ones include the dot-segment examples of RFC 3986, section 5.2.4.
func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode PathMode
		in   string
		want string
	}{
		{"s3 empty", PathS3, "", "/"},
		{"s3 root", PathS3, "/", "/"},
		{"s3 key", PathS3, "/test.txt", "/test.txt"},
		{"s3 no leading slash", PathS3, "test.txt", "/test.txt"},
		{"s3 empty segments kept", PathS3, "//a//b/", "//a//b/"},
		{"s3 dot segments kept", PathS3, "/a/./b/../c/.", "/a/./b/../c/."},
		{"s3 space and utf-8", PathS3, "/my key/\u1234", "/my%20key/%E1%88%B4"},
		{"s3 percent in key", PathS3, "/100%", "/100%25"},
		{"normalized RFC 3986 5.2.4 first example", PathNormalized, "/a/b/c/./../../g", "/a/g"},
		{"normalized RFC 3986 5.2.4 second example", PathNormalized, "mid/content=5/../6", "/mid/6"},
		{"normalized empty", PathNormalized, "", "/"},
		{"normalized slashes", PathNormalized, "//", "/"},
		{"normalized up at root", PathNormalized, "/../a", "/a"},
		{"normalized trailing dot-dot", PathNormalized, "/a/b/..", "/a/"},
		{"normalized trailing dot", PathNormalized, "/a/.", "/a/"},
		{"normalized three dots is a name", PathNormalized, "/a/.../b", "/a/.../b"},
		{"normalized encoded dots are names", PathNormalized, "/%2E%2E/a", "/%252E%252E/a"},
		{"normalized double encoding", PathNormalized, "/a%20b", "/a%2520b"},
		{"normalized raw space", PathNormalized, "/a b/", "/a%20b/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendCanonicalURI(nil, tc.in, tc.mode)); got != tc.want {
				t.Errorf("canonical URI of %q = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAppendCanonicalQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Param
		want string
	}{
		{"none", nil, ""},
		{"sorted by name", []Param{{"b", "2"}, {"a", "1"}}, "a=1&b=2"},
		{"same name sorted by value", []Param{{"a", "2"}, {"a", "1"}}, "a=1&a=2"},
		{"name before value: a sorts before a-", []Param{{"a-", ""}, {"a", "x"}}, "a=x&a-="},
		{"upper case first", []Param{{"b", ""}, {"B", ""}}, "B=&b="},
		{"sorted by encoded name", []Param{{"z", "2"}, {"\u1234", "1"}}, "%E1%88%B4=1&z=2"},
		{"empty value", []Param{{"lifecycle", ""}}, "lifecycle="},
		{"empty name", []Param{{"", ""}}, "="},
		{"encoding", []Param{{"k y", "a b+c/d&e=f"}}, "k%20y=a%20b%2Bc%2Fd%26e%3Df"},
		{"identical pairs kept", []Param{{"a", "1"}, {"a", "1"}}, "a=1&a=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendCanonicalQuery(nil, tc.in)); got != tc.want {
				t.Errorf("AppendCanonicalQuery(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCanonicalHeaders pins header canonicalisation on a request written
// out by hand: lower-cased names, trimmed values with runs of spaces
// collapsed, repeated headers joined with ',' in order, headers left out
// of SignedHeaders omitted.
func TestCanonicalHeaders(t *testing.T) {
	r := Request{
		Method: "PUT",
		Path:   "/k",
		Header: []Header{
			{"Host", "example.com"},
			{"X-Amz-Meta-A", "  one   two  "},
			{"User-Agent", "left out"},
			{"x-amz-meta-a", "\tthree\t"},
			{"X-Amz-Meta-B", "tab\tinside"},
			{"X-AMZ-META-C", ""},
		},
		SignedHeaders: []string{"host", "x-amz-meta-a", "x-amz-meta-b", "x-amz-meta-c"},
		PayloadHash:   UnsignedPayload,
	}
	want := "PUT\n/k\n\n" +
		"host:example.com\n" +
		"x-amz-meta-a:one two,three\n" +
		"x-amz-meta-b:tab\tinside\n" +
		"x-amz-meta-c:\n" +
		"\n" +
		"host;x-amz-meta-a;x-amz-meta-b;x-amz-meta-c\n" +
		"UNSIGNED-PAYLOAD"
	got, err := r.AppendCanonical(nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("canonical request (-want +got):\n%s", diff)
	}

	all := r
	all.SignedHeaders = nil
	line, err := all.AppendSignedHeaders(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "host;user-agent;x-amz-meta-a;x-amz-meta-b;x-amz-meta-c"; string(line) != want {
		t.Errorf("signed headers of every header = %s, want %s", line, want)
	}
}

func TestAppendCanonicalErrors(t *testing.T) {
	const secretValue = "token-value-that-must-not-leak"
	base := func() Request {
		return Request{
			Method:      "GET",
			Path:        "/",
			Header:      []Header{{"Host", "example.com"}},
			PayloadHash: EmptyPayloadHash,
		}
	}
	addToken := func(v string) func(*Request) {
		return func(r *Request) { r.Header = append(r.Header, Header{"X-Amz-Security-Token", v}) }
	}
	for _, tc := range []struct {
		name   string
		change func(*Request)
		want   string
	}{
		{"empty method", func(r *Request) { r.Method = "" }, "method"},
		{"method with space", func(r *Request) { r.Method = "GE T" }, "method"},
		{"unknown path mode", func(r *Request) { r.PathMode = 7 }, "path mode"},
		{"empty payload hash", func(r *Request) { r.PayloadHash = "" }, "payload hash"},
		{"payload hash with newline", func(r *Request) { r.PayloadHash = "abc\nx" }, "payload hash"},
		{"no headers", func(r *Request) { r.Header = nil }, "no header"},
		{"header name not a token", func(r *Request) { r.Header = append(r.Header, Header{"Bad Name", "v"}) }, "not an HTTP token"},
		{"header name with colon", func(r *Request) { r.Header = append(r.Header, Header{"a:b", "v"}) }, "not an HTTP token"},
		{"signed headers unsorted", func(r *Request) { r.SignedHeaders = []string{"x-amz-date", "host"} }, "ascending"},
		{"signed headers repeated", func(r *Request) { r.SignedHeaders = []string{"host", "host"} }, "ascending"},
		{"signed headers upper case", func(r *Request) { r.SignedHeaders = []string{"Host"} }, "lower-case"},
		{"signed headers empty name", func(r *Request) { r.SignedHeaders = []string{"", "host"} }, "empty"},
		{"signed header missing", func(r *Request) { r.SignedHeaders = []string{"host", "range"} }, `"range" is not in the request`},
		{"line feed in value", addToken(secretValue + "\nx-amz-date:1"), "control character"},
		{"carriage return in value", addToken(secretValue + "\r"), "control character"},
		{"nul in value", addToken(secretValue + "\x00"), "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.change(&r)
			got, err := r.AppendCanonical([]byte("keep"))
			if err == nil {
				t.Fatalf("no error; canonical request:\n%s", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error %q repeats a header value", err)
			}
			if string(got) != "keep" {
				t.Errorf("dst = %q after an error, want it unchanged", got)
			}
		})
	}
}

func TestSignChecksDate(t *testing.T) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "secret", "20130524", "us-east-1", "s3")
	r := Request{Method: "GET", Path: "/", Header: []Header{{"host", "h"}}, PayloadHash: UnsignedPayload}
	for _, tc := range []struct{ name, amzDate, want string }{
		{"date only", "20130524", "not of the form"},
		{"lower-case t", "20130524t000000Z", "not of the form"},
		{"no zone", "20130524T000000", "not of the form"},
		{"month 13", "20131324T000000Z", "not of the form"},
		{"another day", "20130525T000000Z", "not on the credential date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Sign(k, tc.amzDate); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Sign at %q: error %v, want one saying %q", tc.amzDate, err, tc.want)
			}
		})
	}
	sig, err := r.Sign(k, "20130524T235959Z")
	if err != nil {
		t.Fatal(err)
	}
	creq, _ := r.AppendCanonical(nil)
	if want := k.SignCanonicalRequest("20130524T235959Z", creq); sig != want {
		t.Errorf("Sign = %s, SignCanonicalRequest = %s", sig, want)
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []Param
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"two", "a=1&b=2", []Param{{"a", "1"}, {"b", "2"}}, ""},
		{"order kept", "b=2&a=1", []Param{{"b", "2"}, {"a", "1"}}, ""},
		{"no equals", "lifecycle", []Param{{"lifecycle", ""}}, ""},
		{"empty value", "a=", []Param{{"a", ""}}, ""},
		{"empty name", "=b", []Param{{"", "b"}}, ""},
		{"equals in value", "a=1=2", []Param{{"a", "1=2"}}, ""},
		{"plus stays", "a+b=c+d", []Param{{"a+b", "c+d"}}, ""},
		{"percent decoding", "a%20b=%E1%88%b4%2F", []Param{{"a b", "\u1234/"}}, ""},
		{"raw utf-8 (suite get-vanilla-utf8-query)", "\u1234=bar", []Param{{"\u1234", "bar"}}, ""},
		{"empty pieces skipped", "&a=1&&b=2&", []Param{{"a", "1"}, {"b", "2"}}, ""},
		{"only separators", "&&", nil, ""},
		{"semicolon is a character", "a=1;b=2", []Param{{"a", "1;b=2"}}, ""},
		{"credential", "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
			[]Param{{"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"}}, ""},
		{"lone percent", "a=%", nil, "at byte 2"},
		{"short escape", "a=%4", nil, "at byte 2"},
		{"not hex", "a=%zz", nil, "at byte 2"},
		{"in a later name", "x=1&b%g1=2", nil, "at byte 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQuery(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseQuery(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseQuery(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseSignedHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"host", []string{"host"}},
		{"host;range;x-amz-content-sha256;x-amz-date", []string{"host", "range", "x-amz-content-sha256", "x-amz-date"}},
		{"", nil},
		{";", nil},
		{"host;", nil},
		{";host", nil},
		{"host;;x-amz-date", nil},
		{"Host", nil},
		{"range;host", nil},
		{"host;host", nil},
		{"ho st", nil},
		{"host,range", nil},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := ParseSignedHeaders(tc.in)
			if (err == nil) != (tc.want != nil) {
				t.Fatalf("ParseSignedHeaders(%q) = %q, %v", tc.in, got, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseSignedHeaders(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseCredential(t *testing.T) {
	const id = "AKIDLOOKSPRIVATE"
	ok := []struct {
		in   string
		want Credential
	}{
		{"AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", Credential{"AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"}},
		{"AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", Credential{"AKIDEXAMPLE", "20150830", "us-east-1", "service"}},
	}
	for _, tc := range ok {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCredential(tc.in)
			if err != nil {
				t.Fatalf("ParseCredential(%q): %v", tc.in, err)
			}
			if got != tc.want || got.String() != tc.in {
				t.Errorf("ParseCredential(%q) = %+v (%s), want %+v", tc.in, got, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"four parts", id + "/20130524/us-east-1/s3", "4 parts"},
		{"six parts", id + "/20130524/us-east-1/s3/x/aws4_request", "6 parts"},
		{"empty id", "/20130524/us-east-1/s3/aws4_request", "access key ID is empty"},
		{"empty region", id + "/20130524//s3/aws4_request", "region is empty"},
		{"short date", id + "/2013052/us-east-1/s3/aws4_request", "not YYYYMMDD"},
		{"letter in date", id + "/2013052a/us-east-1/s3/aws4_request", "not YYYYMMDD"},
		{"other terminator", id + "/20130524/us-east-1/s3/aws4_requesT", "want aws4_request"},
		{"space in service", id + "/20130524/us-east-1/s 3/aws4_request", "service has a byte"},
		{"newline in region", id + "/20130524/us-east\n1/s3/aws4_request", "region has a byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredential(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseCredential(%q): error %v, want one saying %q", tc.in, err, tc.want)
			}
			if strings.Contains(err.Error(), id) {
				t.Errorf("error %q repeats the access key ID", err)
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	const (
		cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
		sig  = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	)
	want := Authorization{
		Credential:    Credential{"AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"},
		SignedHeaders: []string{"host", "range", "x-amz-date"},
		Signature:     sig,
	}
	for _, tc := range []struct{ name, in string }{
		{"comma and space", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;range;x-amz-date, Signature=" + sig},
		{"comma only", "AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host;range;x-amz-date,Signature=" + sig},
		{"any order, extra spaces", "AWS4-HMAC-SHA256   Signature=" + sig + " ,  Credential=" + cred + ",SignedHeaders=host;range;x-amz-date "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"signature version 2", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "does not begin"},
		{"other algorithm", "AWS4-ECDSA-P256-SHA256 Credential=" + cred, "does not begin"},
		{"no space", "AWS4-HMAC-SHA256Credential=" + cred + ", SignedHeaders=host, Signature=" + sig, "no space"},
		{"no Signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host", "lacks Signature"},
		{"no Credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig, "lacks Credential"},
		{"no SignedHeaders", "AWS4-HMAC-SHA256 Credential=" + cred + ", Signature=" + sig, "lacks SignedHeaders"},
		{"repeated", "AWS4-HMAC-SHA256 Credential=" + cred + ", Credential=" + cred + ", SignedHeaders=host, Signature=" + sig, "repeats Credential"},
		{"unknown", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + sig + ", Extra=1", "component 4"},
		{"no equals", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders, Signature=" + sig, "no '='"},
		{"empty component", "AWS4-HMAC-SHA256 Credential=" + cred + ",, SignedHeaders=host, Signature=" + sig, "no '='"},
		{"upper-case signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + strings.ToUpper(sig), "64 lower-case hex"},
		{"short signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + sig[1:], "64 lower-case hex"},
		{"bad credential", "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=" + sig, "credential"},
		{"bad signed headers", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=range;host, Signature=" + sig, "ascending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseAuthorization(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// refURIEncode is UriEncode written out plainly, one byte at a time, to
// check AppendURIEncode against.
func refURIEncode(s string, keepSlash bool) string {
	const unres = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte(unres, c) >= 0 || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// FuzzAppendURIEncode checks AppendURIEncode against refURIEncode and
// against net/url: url.QueryEscape encodes the same bytes (it too keeps
// only the unreserved characters in a query component) except that it
// writes a space as '+', and url.PathUnescape undoes either form.
func FuzzAppendURIEncode(f *testing.F) {
	for _, s := range []string{"", "/test$file.text", "a b+c/d", "\u1234", "\xff", "%2F", "-._~"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, keepSlash bool) {
		got := string(AppendURIEncode(nil, s, keepSlash))
		if want := refURIEncode(s, keepSlash); got != want {
			t.Fatalf("AppendURIEncode(%q, %v) = %q, reference %q", s, keepSlash, got, want)
		}
		q := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if keepSlash {
			q = strings.ReplaceAll(q, "%2F", "/")
		}
		if got != q {
			t.Fatalf("AppendURIEncode(%q, %v) = %q, from url.QueryEscape %q", s, keepSlash, got, q)
		}
		if back, err := url.PathUnescape(got); err != nil || back != s {
			t.Fatalf("url.PathUnescape(%q) = %q, %v; want %q", got, back, err, s)
		}
	})
}

// FuzzCanonicalURI checks the two path modes by their properties. S3: the
// output decodes back to the path (with its leading '/'). Normalized: no
// empty, "." or ".." segment is left, and up to a trailing '/' the result
// is path.Clean's (an independent dot-segment remover) encoded.
func FuzzCanonicalURI(f *testing.F) {
	for _, s := range []string{"", "/", "//example//", "/example1/example2/../..", "/./", "/a b", "mid/content=5/../6", "/%2E/."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		s3 := string(appendCanonicalURI(nil, p, PathS3))
		want := p
		if !strings.HasPrefix(want, "/") {
			want = "/" + want
		}
		if back, err := url.PathUnescape(s3); err != nil || back != want {
			t.Fatalf("S3 canonical URI %q of %q decodes to %q, %v", s3, p, back, err)
		}

		n := string(appendCanonicalURI(nil, p, PathNormalized))
		if !strings.HasPrefix(n, "/") {
			t.Fatalf("normalized %q = %q: no leading '/'", p, n)
		}
		segs := strings.Split(n[1:], "/")
		for i, seg := range segs {
			if seg == "." || seg == ".." || seg == "" && i != len(segs)-1 {
				t.Fatalf("normalized %q = %q: segment %d is %q", p, n, i, seg)
			}
		}
		clean := path.Clean("/" + p)
		if got, want := strings.TrimSuffix(n, "/"), strings.TrimSuffix(string(AppendURIEncode(nil, clean, true)), "/"); got != want {
			t.Fatalf("normalized %q = %q, path.Clean gives %q", p, n, want)
		}
	})
}

func sortParams(ps []Param) []Param {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b Param) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return ps
}

// FuzzParseQuery checks that what ParseQuery accepts canonicalises to a
// query that parses back to the same parameters and canonicalises to
// itself.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "lifecycle", "a%20b=%E1%88%B4", "=&&=", "a=%zz", "X-Amz-Credential=A%2F2%2Fr%2Fs%2Faws4_request"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := ParseQuery(raw)
		if err != nil {
			return
		}
		canon := AppendCanonicalQuery(nil, params)
		again, err := ParseQuery(string(canon))
		if err != nil {
			t.Fatalf("canonical query %q of %q does not parse: %v", canon, raw, err)
		}
		if diff := cmp.Diff(sortParams(params), sortParams(again)); diff != "" {
			t.Fatalf("canonical query %q of %q parses to other parameters (-first +again):\n%s", canon, raw, diff)
		}
		if c2 := AppendCanonicalQuery(nil, again); string(c2) != string(canon) {
			t.Fatalf("canonicalising twice: %q, then %q", canon, c2)
		}
	})
}

// FuzzParseSignedHeaders checks that an accepted list is written back
// unchanged and is a valid Request.SignedHeaders.
func FuzzParseSignedHeaders(f *testing.F) {
	for _, s := range []string{"host", "host;range;x-amz-date", "", "Host", "b;a", "a;;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseSignedHeaders(s)
		if err != nil {
			return
		}
		if got := strings.Join(names, ";"); got != s {
			t.Fatalf("ParseSignedHeaders(%q) joins back to %q", s, got)
		}
		r := Request{Method: "GET", SignedHeaders: names, PayloadHash: UnsignedPayload}
		for _, n := range names {
			r.Header = append(r.Header, Header{strings.ToUpper(n), "v"})
		}
		if _, err := r.AppendCanonical(nil); err != nil {
			t.Fatalf("accepted list %q: %v", s, err)
		}
	})
}

// FuzzParseCredential checks that an accepted credential is written back
// unchanged by Credential.String.
func FuzzParseCredential(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", "a/b/c/d/e", "////", "A/20130524/r/s/aws4_request/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredential(s)
		if err != nil {
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCredential(%q).String() = %q", s, c.String())
		}
	})
}

// FuzzParseAuthorization checks that an accepted value, written again by
// AppendAuthorization, parses to the same thing.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	f.Add("AWS4-HMAC-SHA256 Signature=, Credential=, SignedHeaders=")
	f.Add("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := ParseAuthorization(v)
		if err != nil {
			return
		}
		out := AppendAuthorization(nil, a.Credential.String(), strings.Join(a.SignedHeaders, ";"), []byte(a.Signature))
		b, err := ParseAuthorization(string(out))
		if err != nil {
			t.Fatalf("%q, written again as %q: %v", v, out, err)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Fatalf("%q, written again as %q, parses differently:\n%s", v, out, diff)
		}
	})
}

// FuzzCanonicalRequestLines checks that no input can add or remove a line
// of a canonical request: whenever AppendCanonical accepts a request, the
// result has the method first, the payload hash last, and exactly one line
// per signed header between them.
func FuzzCanonicalRequestLines(f *testing.F) {
	f.Add("GET", "/a b", "x=1&y", "X-Amz-Date", "20150830T123600Z", "Host", "example.amazonaws.com", false)
	f.Add("PUT", "//k", "", "x-a", "v\nx-b:w", "x-b", "w", true)
	f.Fuzz(func(t *testing.T, method, p, rawQuery, n1, v1, n2, v2 string, normalized bool) {
		query, err := ParseQuery(rawQuery)
		if err != nil {
			return
		}
		mode := PathS3
		if normalized {
			mode = PathNormalized
		}
		r := Request{
			Method:      method,
			Path:        p,
			PathMode:    mode,
			Query:       query,
			Header:      []Header{{n1, v1}, {n2, v2}},
			PayloadHash: UnsignedPayload,
		}
		creq, err := r.AppendCanonical(nil)
		if err != nil {
			return
		}
		signed, err := r.AppendSignedHeaders(nil)
		if err != nil {
			t.Fatalf("AppendCanonical accepted what AppendSignedHeaders refuses: %v", err)
		}
		names := strings.Split(string(signed), ";")
		lines := strings.Split(string(creq), "\n")
		if len(lines) != 6+len(names) {
			t.Fatalf("%d lines for %d signed headers:\n%s", len(lines), len(names), creq)
		}
		if lines[0] != method || lines[len(lines)-1] != UnsignedPayload || lines[len(lines)-2] != string(signed) || lines[len(lines)-3] != "" {
			t.Fatalf("lines out of place:\n%s", creq)
		}
		for i, n := range names {
			if !strings.HasPrefix(lines[3+i], n+":") {
				t.Fatalf("line %d is %q, want header %s:\n%s", 3+i, lines[3+i], n, creq)
			}
		}
	})
}

// BenchmarkSignPresigned signs the S3 presigned URL example's request, as
// a presigner does for every URL.
func BenchmarkSignPresigned(b *testing.B) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3")
	r := Request{
		Method: "GET",
		Path:   "/test.txt",
		Query: []Param{
			{"X-Amz-Algorithm", Algorithm},
			{"X-Amz-Credential", k.Credential},
			{"X-Amz-Date", "20130524T000000Z"},
			{"X-Amz-Expires", "86400"},
			{"X-Amz-SignedHeaders", "host"},
		},
		Header:        []Header{{"host", "examplebucket.s3.amazonaws.com"}},
		SignedHeaders: []string{"host"},
		PayloadHash:   UnsignedPayload,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sign(k, "20130524T000000Z"); err != nil {
			b.Fatal(err)
		}
	}
}
