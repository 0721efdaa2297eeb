package postpolicy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
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
// base64 and HMAC state (daykey.go); the shapes of the last few kinds of
// policy that passed every check, so that a policy of a known shape is
// checked on its values only (shape.go); and, when consecutive policies
// begin with the same conditions, those conditions encoded and hashed
// after the start (prefix.go), for a few kinds of policy, so that a
// policy beginning with them costs only the encoding and hashing of its
// other conditions. A policy is therefore signed fastest with the
// conditions that are the same for every request first and the
// per-request ones last. The cached work never changes a signature's bytes
// or what Sign refuses.
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

	config   atomic.Pointer[signerConfig]
	shapes   slots[policyShape]
	key      atomic.Pointer[dayKey]
	prefixes slots[condPrefix]
	clock    atomic.Pointer[amzDateText]
	recent   recentConds
	urls     slots[bucketURL]
	lastURL  atomic.Pointer[bucketURL] // the last one built
}

// bucketURL is the form URL built for a bucket, with the configuration it
// was built from.
type bucketURL struct {
	config      *signerConfig
	bucket, url string
	headJSON    []byte // the form's JSON up to its fields (appendFormHead)
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

// lastBucket returns the bucket of the last form URL built, whose name
// therefore passed the checks.
func (s *Signer) lastBucket() string {
	if u := s.lastURL.Load(); u != nil {
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
// policy document, its base64 text and a SHA-256 state.
type buffers struct {
	json, encoded []byte
	digest        digest
}

var bufPool = sync.Pool{New: func() any {
	return &buffers{json: make([]byte, 0, 2048), encoded: make([]byte, 0, 4096), digest: digest{h: sha256.New()}}
}}

// signature is a signed policy before it becomes strings: the policy's
// base64 text is start.enc followed by encodedEnd, which lives in bufs
// until release.
type signature struct {
	url        *bucketURL
	expiration time.Time
	key        *dayKey
	prefix     *condPrefix // the cached start it was signed from, if any
	amzDate    [16]byte
	start      *encodedStart
	encodedEnd []byte
	hex        [2 * sha256.Size]byte
	bufs       *buffers
}

func (sig *signature) policyLen() int { return len(sig.start.enc) + len(sig.encodedEnd) }

// release returns the scratch space to the pool.
func (sig *signature) release() {
	sig.bufs.json, sig.bufs.encoded = sig.bufs.json[:0], sig.encodedEnd[:0]
	bufPool.Put(sig.bufs)
	sig.bufs, sig.encodedEnd = nil, nil
}

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
//
// Conditions that are the same in every policy are best put first and
// those that change per request last: the Signer then encodes and hashes
// the leading ones once (see [Signer]).
func (s *Signer) Sign(ctx context.Context, p Policy) (*Form, error) {
	a := new(formAlloc)
	var sig signature
	f := &a.form
	var err error
	f.Fields, f.PageConditions, err = s.sign(ctx, &p, a.fields[:0], a.page[:0], &sig)
	if err != nil {
		return nil, err
	}
	f.URL, f.Expiration = sig.url.url, sig.expiration
	// The x-amz-date, policy and signature values share one allocation.
	policyLen := sig.policyLen()
	var sb strings.Builder
	sb.Grow(len(sig.amzDate) + policyLen + len(sig.hex))
	sb.Write(sig.amzDate[:])
	sb.Write(sig.start.enc)
	sb.Write(sig.encodedEnd)
	sb.Write(sig.hex[:])
	sig.release()
	values := sb.String()
	amzDate := values[:len(sig.amzDate)]
	policyText := values[len(amzDate) : len(amzDate)+policyLen]
	signature := values[len(amzDate)+policyLen:]

	f.Fields = append(f.Fields,
		Field{"x-amz-algorithm", Algorithm},
		Field{"x-amz-credential", sig.key.credential},
		Field{"x-amz-date", amzDate})
	if sig.key.token != "" {
		f.Fields = append(f.Fields, Field{"x-amz-security-token", sig.key.token})
	}
	f.Fields = append(f.Fields,
		Field{"policy", policyText},
		Field{"x-amz-signature", signature})
	return f, nil
}

// AppendFormJSON signs p as [Signer.Sign] does and appends to dst the
// form's JSON, the bytes [Form.MarshalJSON] gives for Sign's form, without
// building the Form. Once the Signer has signed a policy of the same kind
// that day, it allocates nothing when dst has room for the form (a few
// hundred bytes more than the policy's base64 text and the field values)
// and the policy has at most four fields of its own and one on the page.
// It is the fast path for an endpoint that answers the form as JSON, as
// [FormHandler] does. On error dst is returned unchanged, with Sign's
// error.
func (s *Signer) AppendFormJSON(ctx context.Context, dst []byte, p Policy) ([]byte, error) {
	var a formAlloc
	var sig signature
	fields, page, err := s.sign(ctx, &p, a.fields[:0], a.page[:0], &sig)
	if err != nil {
		return dst, err
	}
	defer sig.release()
	// The head, the fields and page conditions of a cached prefix and the
	// Signer's first fields come written from the caches.
	b := append(dst, sig.url.headJSON...)
	fromField, fromPage := 0, 0
	if pc := sig.prefix; pc != nil {
		b = append(b, pc.fieldsJSON...)
		fromField, fromPage = pc.nFields, pc.nPage
	}
	b = appendFieldsJSON(b, fields[fromField:], fromField > 0)
	if len(fields) > 0 {
		b = append(b, ',')
	}
	b = append(b, sig.key.signerJSON...)
	b = append(b, `,"x-amz-date":"`...)
	b = append(b, sig.amzDate[:]...)
	b = append(b, '"')
	if sig.key.token != "" {
		b = append(b, `,"x-amz-security-token":`...)
		b = append(b, sig.key.tokenJSON...)
	}
	// base64 and hex need no escaping.
	b = append(b, `,"policy":"`...)
	b = append(b, sig.start.enc...)
	b = append(b, sig.encodedEnd...)
	b = append(b, `","x-amz-signature":"`...)
	b = append(b, sig.hex[:]...)
	b = append(b, `"}`...)
	if len(page) > 0 {
		b = append(b, `,"pageConditions":[`...)
		if fromPage > 0 {
			b = append(b, sig.prefix.pageJSON...)
		}
		b = appendPageConditionsJSON(b, page[fromPage:], fromPage > 0)
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// sign does the work of Sign and AppendFormJSON: it checks the
// configuration and p, and signs p into sig. It returns the fields of p's
// conditions, appended to fields, and the form's page conditions, appended
// to page; the Signer's fields (x-amz-algorithm and after) are the
// caller's to add. On success the caller must release sig.
func (s *Signer) sign(ctx context.Context, p *Policy, fields []Field, page []Condition, sig *signature) ([]Field, []Condition, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return nil, nil, err
	}
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("postpolicy: retrieving credentials: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()

	// The checks: only those of the conditions after the cached leading
	// ones when p begins with them (prefix.go); the values only, when a
	// policy of the same shape passed them all before (shape.go); else all.
	l := linter{trustedBucket: s.lastBucket()}
	hit, sh := s.cachedPrefix(p, t, l.trustedBucket)
	if hit == nil && sh == nil {
		// A copy, so that p.Conditions does not escape: only the strings in
		// it reach the form, and a caller's slice literal can stay on its
		// stack. The full lint runs once per shape; the copy is cheap there.
		l.policy(p.Expiration, slices.Clone(p.Conditions), t)
		if hasErrors(l.problems) {
			return nil, nil, joinProblems(l.problems)
		}
		if sh = newShape(p.Conditions, &l); sh != nil {
			s.shapes.add(sh)
		}
	}

	amzDate := s.appendAmzDate(sig.amzDate[:0], t)
	var date [8]byte
	copy(date[:], amzDate)
	key, err := s.dayKeyFor(creds, t, date)
	if err != nil {
		return nil, nil, err
	}

	fields, page = formFields(fields, page, p.Conditions, l.sharedFields)

	pc := s.startFor(key, p, hit, sh)
	start, from := &key.start, 0
	if pc != nil {
		start, from = &pc.start, len(pc.conds)
	}
	bufs := bufPool.Get().(*buffers)
	end := append(bufs.json[:0], start.rest...)
	end = appendConditions(end, p.Conditions[from:])
	end = appendPolicyTail(end, p.Expiration, amzDate)
	encodedEnd, hex := key.encodeAndSign(start, &bufs.digest, bufs.encoded[:0], end)
	bufs.json = end[:0]
	*sig = signature{key: key, prefix: pc, amzDate: sig.amzDate, start: start, encodedEnd: encodedEnd, hex: hex, bufs: bufs}

	size := preFileSize(fields, page, sig.policyLen()) + partLen("x-amz-algorithm", len(Algorithm)) +
		partLen("x-amz-credential", len(key.credential)) + partLen("x-amz-date", len(amzDate))
	if creds.SessionToken != "" {
		size += partLen("x-amz-security-token", len(creds.SessionToken))
	}
	if size > MaxPreFileSize {
		policyLen := sig.policyLen()
		sig.release()
		l.add("", RulePreFileSize, "the form before the file would be about %d bytes (policy %d, session token %d), over S3's limit of %d; S3 would answer MaxPostPreDataLengthExceeded",
			size, policyLen, len(creds.SessionToken), MaxPreFileSize)
		return nil, nil, joinProblems(l.problems)
	}

	// As written in the policy; from the instant only, so that p does not
	// escape.
	sig.expiration = time.UnixMilli(p.Expiration.UnixMilli()).UTC()
	sig.url = s.formURL(cfg, bucketOf(p.Conditions))
	return fields, page, nil
}

// amzDateText is x-amz-date for the second sec.
type amzDateText struct {
	sec  int64
	text [16]byte
}

// appendAmzDate appends x-amz-date for t, in UTC, formatting it once per
// second.
func (s *Signer) appendAmzDate(b []byte, t time.Time) []byte {
	sec := t.Unix()
	c := s.clock.Load()
	if c == nil || c.sec != sec {
		c = &amzDateText{sec: sec}
		appendAmzDate(c.text[:0], t)
		s.clock.Store(c)
	}
	return append(b, c.text[:]...)
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

// formFields appends to fields those the form carries for conds, in
// condition order and each once, and to page the conditions on the fields
// the page supplies, nil when there are none. fields gets room for the
// Signer's fields too.
//
// shared says whether some field has several conditions (the linter knows);
// only then can a field repeat or be both carried and page-supplied.
func formFields(fields []Field, page []Condition, conds []Condition, shared bool) ([]Field, []Condition) {
	n, pages := 0, 0
	for i := range conds {
		switch conds[i].source {
		case SourceForm:
			n++
		case SourcePage:
			pages++
		}
	}
	fields = slices.Grow(fields, n+signerFields)
	page = slices.Grow(page, pages)
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
	return fields, kept
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
