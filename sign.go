package postpolicy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Algorithm is the only signing algorithm this package implements, the
// value of x-amz-algorithm: AWS Signature Version 4 with HMAC-SHA256.
const Algorithm = "AWS4-HMAC-SHA256"

// DeriveSigningKey returns the SigV4 signing key for secretAccessKey on the
// UTC date of t, in region, for service ("s3" for POST uploads):
//
//	kDate    = HMAC-SHA256("AWS4" + secretAccessKey, YYYYMMDD)
//	kRegion  = HMAC-SHA256(kDate, region)
//	kService = HMAC-SHA256(kRegion, service)
//	kSigning = HMAC-SHA256(kService, "aws4_request")
//
// as specified in "Calculating the Signature" of the SigV4 POST
// authentication page:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
// The result is secret. A [Signer] derives it once a day and caches it.
func DeriveSigningKey(secretAccessKey string, t time.Time, region, service string) []byte {
	var date [8]byte
	t.UTC().AppendFormat(date[:0], "20060102")
	k := hmacSHA256([]byte("AWS4"+secretAccessKey), date[:])
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// SignEncodedPolicy returns the POST signature of encodedPolicy, the base64
// text of a policy document exactly as the form carries it: the lower-case
// hex of HMAC-SHA256(signingKey, encodedPolicy). The string to sign of a
// POST upload is the base64 text itself, byte for byte, never a
// re-serialisation of the JSON inside it.
func SignEncodedPolicy(signingKey []byte, encodedPolicy string) string {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(encodedPolicy))
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], m.Sum(sum[:0]))
	return string(out[:])
}

// URLStyle chooses how the form's URL names the bucket.
type URLStyle uint8

const (
	// URLStyleAuto, the default: virtual-hosted style on AWS
	// (https://BUCKET.s3.REGION.amazonaws.com/), except for bucket names
	// with dots, which a TLS wildcard certificate cannot cover, which get
	// path style; path style with a custom Endpoint, which is what
	// S3-compatible servers on an address or plain host name expect.
	URLStyleAuto URLStyle = iota
	// URLStylePath puts the bucket in the path: https://HOST/BUCKET.
	URLStylePath
	// URLStyleVirtualHosted puts the bucket in the host name:
	// https://BUCKET.HOST/.
	URLStyleVirtualHosted
)

// ErrSignerConfig is matched (with [errors.Is]) by the errors a [Signer]
// returns when its own configuration cannot sign: no credentials source, a
// missing or malformed region, service or endpoint.
var ErrSignerConfig = errors.New("postpolicy: invalid signer configuration")

// Signer signs policies with SigV4 and returns browser-ready forms.
//
// A Signer is configured by setting its fields before first use; after
// that it is safe for concurrent use by any number of goroutines and must
// not be copied. It caches, and recomputes when the day or the credentials
// change, the signing key and the start of every policy it signs with its
// base64 and HMAC state (daykey.go); and the shape of the last policy that
// passed every check, so that a policy of the same shape is checked on its
// values only (shape.go). The cached work never changes a signature's
// bytes or what Sign refuses.
type Signer struct {
	// Credentials supplies the access key, secret and session token for each
	// signature. A [Credentials] value can be used directly. Required.
	Credentials CredentialsSource

	// Region is the bucket's region, for example "eu-west-1"; it enters the
	// credential scope and the URL, and S3 refuses a scope whose region is
	// not the bucket's. Required.
	Region string

	// Service is the credential scope's service; empty means "s3".
	Service string

	// Now returns the signing time; nil means time.Now. It sets x-amz-date,
	// the credential date and the signing key's date.
	Now func() time.Time

	// Endpoint is the base URL of an S3-compatible service, for example
	// "http://127.0.0.1:9000" or "https://nyc3.digitaloceanspaces.com"; a
	// path after the host is kept. Empty means AWS's regional endpoint.
	Endpoint string

	// URLStyle chooses path-style or virtual-hosted URLs; see [URLStyleAuto].
	URLStyle URLStyle

	config atomic.Pointer[signerConfig]
	shape  atomic.Pointer[policyShape]
	key    atomic.Pointer[dayKey]
	url    atomic.Pointer[bucketURL]
}

// bucketURL caches the URL of the last bucket signed for, with the
// configuration it was built from.
type bucketURL struct {
	config      *signerConfig
	bucket, url string
}

// signerConfig is a configuration checkConfig accepted.
type signerConfig struct {
	region, service, endpoint string
	style                     URLStyle
}

func (s *Signer) service() string {
	if s.Service == "" {
		return "s3"
	}
	return s.Service
}

// lastBucket returns the bucket of the last form signed, whose name
// therefore passed the checks.
func (s *Signer) lastBucket() string {
	if u := s.url.Load(); u != nil {
		return u.bucket
	}
	return ""
}

// dayKeyFor returns the cached per-day state for the credentials on date,
// checking the credentials and building it when the day or the credentials
// changed.
func (s *Signer) dayKeyFor(c Credentials, t time.Time, date [8]byte) (*dayKey, error) {
	region, service := s.Region, s.service()
	if k := s.key.Load(); k != nil && k.matches(c, date, region, service) {
		return k, nil
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	k := newDayKey(c, t, date, region, service)
	s.key.Store(k)
	return k, nil
}

// buffers are the scratch space of one signature: the changing end of the
// policy document and the policy's base64 text.
type buffers struct {
	json, encoded []byte
}

var bufPool = sync.Pool{New: func() any { return &buffers{make([]byte, 0, 2048), make([]byte, 0, 4096)} }}

// Sign validates p, adds the SigV4 conditions (x-amz-algorithm,
// x-amz-credential, x-amz-date and, for temporary credentials,
// x-amz-security-token), encodes the policy once, signs exactly that base64
// text, and returns the form a browser posts to S3. It never modifies p.
//
// When p has problems ([Policy.Validate]), or the whole form before the
// file would exceed S3's 20 KB limit ([RulePreFileSize]), Sign returns no
// form and an error matching [ErrInvalidPolicy] that lists every problem.
// Configuration errors match [ErrSignerConfig], unusable credentials
// [ErrInvalidCredentials]. No error contains the secret, the session token
// or the signing key.
func (s *Signer) Sign(ctx context.Context, p Policy) (*Form, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return nil, err
	}
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("postpolicy: retrieving credentials: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()

	// The checks: the values only, when a policy of the same shape passed
	// them all before (shape.go), else all of them.
	l := linter{trustedBucket: s.lastBucket()}
	if sh := s.shape.Load(); sh == nil || !sh.check(&p, t, l.trustedBucket) {
		l.policy(p.Expiration, p.Conditions, t)
		if hasErrors(l.problems) {
			return nil, joinProblems(l.problems)
		}
		if sh := newShape(p.Conditions, &l); sh != nil {
			s.shape.Store(sh)
		}
	}

	var amzDateBuf [16]byte
	amzDateBytes := appendAmzDate(amzDateBuf[:0], t)
	var date [8]byte
	copy(date[:], amzDateBytes)
	key, err := s.dayKeyFor(creds, t, date)
	if err != nil {
		return nil, err
	}

	// The x-amz-date, policy and signature values share one allocation.
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	end := append(bufs.json[:0], key.rest...)
	end = appendPolicyEnd(end, p, amzDateBytes)
	encodedEnd, sig := key.encodeAndSign(bufs.encoded[:0], end)
	bufs.json, bufs.encoded = end[:0], encodedEnd[:0]
	policyLen := len(key.encStart) + len(encodedEnd)
	var sb strings.Builder
	sb.Grow(len(amzDateBytes) + policyLen + len(sig))
	sb.Write(amzDateBytes)
	sb.Write(key.encStart)
	sb.Write(encodedEnd)
	sb.Write(sig[:])
	values := sb.String()
	amzDate := values[:len(amzDateBytes)]
	policyText := values[len(amzDate) : len(amzDate)+policyLen]
	signature := values[len(amzDate)+policyLen:]

	f := newForm(p.Conditions, l.sharedFields)
	f.Expiration = p.Expiration.UTC().Truncate(time.Millisecond)
	f.Fields = append(f.Fields,
		Field{"x-amz-algorithm", Algorithm},
		Field{"x-amz-credential", key.credential},
		Field{"x-amz-date", amzDate})
	if creds.SessionToken != "" {
		f.Fields = append(f.Fields, Field{"x-amz-security-token", creds.SessionToken})
	}

	if size := preFileSize(f.Fields, f.PageConditions, len(policyText)); size > MaxPreFileSize {
		l.add("", RulePreFileSize, "the form before the file would be about %d bytes (policy %d, session token %d), over S3's limit of %d; S3 would answer MaxPostPreDataLengthExceeded",
			size, len(policyText), len(creds.SessionToken), MaxPreFileSize)
		return nil, joinProblems(l.problems)
	}

	f.Fields = append(f.Fields,
		Field{"policy", policyText},
		Field{"x-amz-signature", signature})
	f.URL = s.formURL(cfg, bucketOf(p.Conditions))
	return f, nil
}

// signerFields is how many fields Sign adds after the policy's own: the
// algorithm, credential, date, session token, policy and signature.
const signerFields = 6

// formAlloc holds a Form and room for the fields and page conditions of a
// typical policy, so that most signatures allocate them together. It is
// kept under 512 bytes, the size up to which the Go allocator handles
// pointer-holding objects fastest.
type formAlloc struct {
	form   Form
	fields [4 + signerFields]Field
	page   [1]Condition
}

// newForm returns a Form whose Fields are those the form carries for conds,
// in condition order and each once, with room for the Signer's, and whose
// PageConditions are the conditions on the fields the page supplies.
//
// shared says whether some field has several conditions (the linter knows);
// only then can a field repeat or be both carried and page-supplied.
func newForm(conds []Condition, shared bool) *Form {
	n, pages := 0, 0
	for i := range conds {
		switch conds[i].source {
		case SourceForm:
			n++
		case SourcePage:
			pages++
		}
	}
	a := new(formAlloc)
	fields, page := a.fields[:0], a.page[:0]
	if n+signerFields > len(a.fields) {
		fields = make([]Field, 0, n+signerFields)
	}
	if pages > len(a.page) {
		page = make([]Condition, 0, pages)
	}
next:
	for i := range conds {
		c := &conds[i]
		switch c.source {
		case SourceForm:
			if shared {
				if _, carried := fieldValue(fields, c.field); carried {
					continue next // the linter checked that the values agree
				}
			}
			fields = append(fields, Field{c.field, c.formValue})
		case SourcePage:
			page = append(page, *c)
		}
	}
	// A field the form carries is not one the page adds, even when another
	// condition on it is marked SourcePage: the page would send it twice.
	kept := page
	if shared {
		kept = page[:0]
		for _, c := range page {
			if _, carried := fieldValue(fields, c.field); !carried {
				kept = append(kept, c)
			}
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	a.form.Fields, a.form.PageConditions = fields, kept
	return &a.form
}

// bucketOf returns the value of the first exact-match bucket condition.
func bucketOf(conds []Condition) string {
	for _, c := range conds {
		if c.op == OpEq && strings.EqualFold(c.field, "bucket") {
			return c.value
		}
	}
	return ""
}

func hasErrors(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// The assumptions behind preFileSize, the estimate of the multipart data a
// browser sends before the file's content.
const (
	// RFC 2046 allows boundaries of up to 70 characters; browsers use
	// fewer (Chromium 38), so this overestimates.
	assumedBoundaryLen = 70
	// A value the page supplies is assumed to be its prefix plus this.
	assumedPageValueLen = 256
	// The file part's headers: a file name of up to 255 bytes and a
	// Content-Type.
	assumedFileHeadersLen = 384
)

// partLen is the length of one multipart part carrying a field.
func partLen(name string, valueLen int) int {
	// --BOUNDARY CRLF Content-Disposition: form-data; name="NAME" CRLF CRLF VALUE CRLF
	return 2 + assumedBoundaryLen + 2 + len(`Content-Disposition: form-data; name=""`) + len(name) + 2 + 2 + valueLen + 2
}

// preFileSize estimates the bytes before the file's content when a browser
// posts fields, the page's own fields and the file: the part S3 limits to
// 20 KB. The policy and signature fields are not in fields yet.
func preFileSize(fields []Field, page []Condition, policyLen int) int {
	n := partLen("policy", policyLen) + partLen("x-amz-signature", 2*sha256.Size)
	for _, f := range fields {
		n += partLen(f.Name, len(f.Value))
	}
	for _, c := range page {
		n += partLen(c.field, len(c.value)+assumedPageValueLen)
	}
	return n + 2 + assumedBoundaryLen + 2 + assumedFileHeadersLen
}

// checkConfig reports what makes the Signer's configuration unusable.
// A configuration it accepted is remembered, so that each signature only
// compares the fields with it.
func (s *Signer) checkConfig() (*signerConfig, error) {
	switch {
	case s.Credentials == nil:
		return nil, fmt.Errorf("%w: Credentials is nil", ErrSignerConfig)
	case isNilCredentials(s.Credentials):
		return nil, fmt.Errorf("%w: Credentials is a nil *Credentials", ErrSignerConfig)
	}
	if c := s.config.Load(); c != nil && c.region == s.Region && c.service == s.Service && c.endpoint == s.Endpoint && c.style == s.URLStyle {
		return c, nil
	}
	if err := s.validateConfig(); err != nil {
		return nil, err
	}
	c := &signerConfig{region: s.Region, service: s.Service, endpoint: s.Endpoint, style: s.URLStyle}
	s.config.Store(c)
	return c, nil
}

func (s *Signer) validateConfig() error {
	switch {
	case s.Region == "":
		return fmt.Errorf("%w: Region is empty; set the bucket's region, for example \"us-east-1\"", ErrSignerConfig)
	case !scopeToken(s.Region):
		return fmt.Errorf("%w: Region %q may hold only letters, digits, '-', '_' and '.'", ErrSignerConfig, s.Region)
	case !scopeToken(s.service()):
		return fmt.Errorf("%w: Service %q may hold only letters, digits, '-', '_' and '.'", ErrSignerConfig, s.Service)
	case s.URLStyle > URLStyleVirtualHosted:
		return fmt.Errorf("%w: URLStyle %d is not a URLStyle", ErrSignerConfig, s.URLStyle)
	}
	if s.Endpoint != "" {
		if _, err := parseEndpoint(s.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

func isNilCredentials(src CredentialsSource) bool {
	c, ok := src.(*Credentials)
	return ok && c == nil
}

// scopeToken reports whether s can be a component of a credential scope.
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
