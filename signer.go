package postpolicy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// Signer signs policies with SigV4 and returns browser-ready forms.
//
// A Signer is configured by setting its fields before first use; after
// that it is safe for concurrent use by any number of goroutines and must
// not be copied. It keeps, and recomputes when the day or the credentials
// change, the signing key and the start of every policy it signs with its
// base64 and HMAC state: every signature then encodes and hashes only its
// own conditions, x-amz-date and the expiration, whatever the length of
// the session token. [Signer.Sign] checks every rule on every call; a
// backend that signs the same kind of policy for every request can
// prepare the conditions they share once with [Signer.Prepare].
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
	key    atomic.Pointer[dayKey]
	clock  atomic.Pointer[amzDateText]
	urls   urlCache
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

// signing is one signature on its way through the steps that Sign,
// AppendFormJSON and a Template's methods share.
type signing struct {
	key     *dayKey
	amzDate [16]byte
	start   *encodedStart
	// policyLen is the length of the policy's base64 text: start.enc and
	// the encoding of the JSON that follows it (the end, which the caller
	// keeps).
	policyLen int
	url       *bucketURL
	warnings  []Problem // the lint's, for Form.Warnings
	// shared: some field has several conditions (linter.shared).
	shared bool
}

// endRoom is room, on the caller's stack, for the JSON that follows the
// start of a typical policy: its conditions, x-amz-date and the
// expiration. A longer end grows into the heap.
type endRoom [512]byte

// buffers are scratch space: the base64 text of the end of a Form's
// policy, which the HMAC state reads, and a presigned URL's canonical
// request.
type buffers struct {
	json, encoded []byte
}

var bufPool = sync.Pool{New: func() any {
	return &buffers{json: make([]byte, 0, 2048), encoded: make([]byte, 0, 4096)}
}}

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
	var sg signing
	var room endRoom
	var factBuf [16]condFacts
	_, end, err := s.sign(ctx, &p, factBuf[:0], room[:0], &sg)
	if err != nil {
		return nil, err
	}
	a := new(formAlloc)
	fields, page := formFields(a.fields[:0], a.page[:0], p.Conditions, sg.shared)
	return sg.form(a, fields, page, end, p.Expiration), nil
}

// AppendFormJSON signs p as [Signer.Sign] does and appends to dst the
// form's JSON, the bytes [Form.MarshalJSON] gives for Sign's form, without
// building the Form. When dst has room for the form (a few hundred bytes
// more than the policy's base64 text and the field values), the only
// allocations are those of the HMAC state's copy: crypto/hmac's Clone
// copies the HMAC and its two SHA-256 states. The policy's base64 text is
// written into dst and hashed there. It is the fast path for an endpoint
// that answers the form as JSON, as [FormHandler] does. On error dst is
// returned unchanged, with Sign's error.
func (s *Signer) AppendFormJSON(ctx context.Context, dst []byte, p Policy) ([]byte, error) {
	var sg signing
	var room endRoom
	var factBuf [16]condFacts
	facts, end, err := s.sign(ctx, &p, factBuf[:0], room[:0], &sg)
	if err != nil {
		return dst, err
	}
	b := append(dst, sg.url.headJSON...)
	if sg.shared {
		var a formAlloc
		fields, page := formFields(a.fields[:0], a.page[:0], p.Conditions, true)
		b = appendFieldsJSON(b, fields, false)
		b = sg.appendFormJSONEnd(b, len(fields) > 0, end)
		return appendFormJSONPage(b, nil, page, nil), nil
	}
	// No field has several conditions: the form's fields are those of the
	// conditions the form carries, in order, and its page conditions
	// those the page supplies (formFields).
	b, comma := appendFieldsJSONOf(b, p.Conditions, facts, false)
	b = sg.appendFormJSONEnd(b, comma, end)
	return appendFormJSONPage(b, nil, nil, p.Conditions), nil
}

// sign does the work of Sign and AppendFormJSON: it checks the
// configuration and p with every rule, and prepares the signature of p in
// sg. It returns the lint's facts of p's conditions, appended to facts,
// and the policy's JSON after sg.start, appended to end. The form's fields
// (formFields, from p's conditions and sg.shared) and the base64 and HMAC
// of the end (encodedStart.sign) are the caller's to compute.
func (s *Signer) sign(ctx context.Context, p *Policy, facts []condFacts, end []byte, sg *signing) ([]condFacts, []byte, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return nil, nil, err
	}
	creds, t, err := s.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	var l linter
	facts = l.policyFacts(facts, p.Expiration, p.Conditions, t)
	if l.hasErrors() {
		return nil, nil, joinProblems(l.problems)
	}
	sg.warnings, sg.shared = l.problems, l.shared
	if err := s.keyFor(creds, t, sg); err != nil {
		return nil, nil, err
	}
	end = sg.writeEnd(end, &sg.key.start, p.Conditions, facts, p.Expiration)
	if err := sg.checkSize(&l, creds, formPartsSize(p.Conditions, l.shared)); err != nil {
		return nil, nil, err
	}
	sg.url = s.urls.get(cfg, bucketOf(p.Conditions))
	return facts, end, nil
}

// begin retrieves the credentials and reads the clock, the first steps of
// every signature.
func (s *Signer) begin(ctx context.Context) (Credentials, time.Time, error) {
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("postpolicy: retrieving credentials: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return creds, now().UTC(), nil
}

// keyFor writes into sg x-amz-date for the signing time t and the day key
// for creds on t's date, checking the credentials and building the key
// when the day or the credentials changed.
func (s *Signer) keyFor(creds Credentials, t time.Time, sg *signing) error {
	s.appendAmzDate(sg.amzDate[:0], t)
	date := sg.amzDate[:8]
	region, service := s.Region, s.service()
	if k := s.key.Load(); k != nil && k.matches(creds, date, region, service) {
		sg.key = k
		return nil
	}
	if err := creds.check(); err != nil {
		return err
	}
	sg.key = newDayKey(creds, string(date), region, service)
	s.key.Store(sg.key)
	return nil
}

// writeEnd appends to end the policy's JSON after start (conds are the
// conditions that follow start's, facts the lint's of them, expiration the
// policy's): start.rest, conds, x-amz-date and the expiration. It records
// in sg the start and the length of the policy's base64 text.
func (sg *signing) writeEnd(end []byte, start *encodedStart, conds []Condition, facts []condFacts, expiration time.Time) []byte {
	end = append(end, start.rest...)
	end = appendConditionsAs(end, conds, facts)
	end = appendPolicyTail(end, expiration, sg.amzDate[:])
	sg.start = start
	sg.policyLen = len(start.enc) + base64Len(len(end))
	return end
}

// checkSize checks the estimated size of the form before the file, given
// the size of the parts of the policy's own fields and page fields,
// against S3's limit.
func (sg *signing) checkSize(l *linter, creds Credentials, parts int) error {
	size := parts + signerPartsSize(sg.key.key.Credential, creds.SessionToken, sg.policyLen)
	if size > MaxPreFileSize &&
		l.report(checkPreFileSize, "", "the form before the file would be about %d bytes (policy %d, session token %d), over S3's limit of %d; S3 would answer MaxPostPreDataLengthExceeded",
			size, sg.policyLen, len(creds.SessionToken), MaxPreFileSize) {
		return joinProblems(l.problems)
	}
	return nil
}

// form returns the Form of a finished check, with the policy's fields and
// page conditions, in a's storage: it signs the policy whose JSON after
// sg.start is end and which expires at expiration.
func (sg *signing) form(a *formAlloc, fields []Field, page []Condition, end []byte, expiration time.Time) *Form {
	f := &a.form
	// As written in the policy; rebuilt from the instant only, so that
	// the caller's Policy does not escape.
	f.URL, f.Expiration, f.PageConditions, f.Warnings = sg.url.url, time.UnixMilli(expiration.UnixMilli()).UTC(), page, sg.warnings
	// The HMAC state reads the base64 of the end from the heap: pooled
	// scratch space, copied into the Form's values.
	bufs := bufPool.Get().(*buffers)
	encodedEnd, hex := sg.start.sign(bufs.encoded[:0], end)
	// The x-amz-date, policy and signature values share one allocation.
	var sb strings.Builder
	sb.Grow(len(sg.amzDate) + sg.policyLen + len(hex))
	sb.Write(sg.amzDate[:])
	sb.Write(sg.start.enc)
	sb.Write(encodedEnd)
	sb.Write(hex[:])
	bufs.encoded = encodedEnd[:0]
	bufPool.Put(bufs)
	values := sb.String()
	amzDate := values[:len(sg.amzDate)]
	policyText := values[len(amzDate) : len(amzDate)+sg.policyLen]
	signature := values[len(amzDate)+sg.policyLen:]

	fields = append(fields,
		Field{"x-amz-algorithm", Algorithm},
		Field{"x-amz-credential", sg.key.key.Credential},
		Field{"x-amz-date", amzDate})
	if sg.key.token != "" {
		fields = append(fields, Field{"x-amz-security-token", sg.key.token})
	}
	f.Fields = append(fields,
		Field{"policy", policyText},
		Field{"x-amz-signature", signature})
	return f
}

// appendFormJSONEnd appends the end of the form's fields object once its
// head and the policy's own fields are written (comma: at least one was):
// the Signer's fields, with the policy signed (end is the JSON after
// sg.start).
func (sg *signing) appendFormJSONEnd(b []byte, comma bool, end []byte) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, sg.key.signerJSON...)
	b = append(b, sg.amzDate[:]...)
	// The session token and the policy's base64 text up to the end's
	// (sg.start.enc); base64 and hex need no escaping.
	b = append(b, sg.start.formJSON...)
	b, hex := sg.start.sign(b, end)
	b = append(b, `","x-amz-signature":"`...)
	b = append(b, hex[:]...)
	return append(b, `"}`...)
}

// appendFormJSONPage appends the rest of the form's JSON after its fields:
// the page conditions, those already written as JSON (pageJSON), then
// page, then those of conds the page supplies, and the end.
func appendFormJSONPage(b, pageJSON []byte, page, conds []Condition) []byte {
	some := len(pageJSON) > 0 || len(page) > 0
	for i := 0; i < len(conds) && !some; i++ {
		some = conds[i].source == SourcePage
	}
	if some {
		b = append(b, `,"pageConditions":[`...)
		b = append(b, pageJSON...)
		b = appendPageConditionsJSON(b, page, len(pageJSON) > 0)
		b = appendPageConditionsJSONOf(b, conds, len(pageJSON) > 0 || len(page) > 0)
		b = append(b, ']')
	}
	return append(b, '}')
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
		sigv4.AppendTime(c.text[:0], t)
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
				if _, carried := Fields(fields).Get(c.field); carried {
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
			if _, carried := Fields(fields).Get(c.field); !carried {
				kept = append(kept, c)
			}
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	return fields, kept
}

// formPartsSize is partsSize of the fields and page conditions formFields
// gives for conds (shared as for formFields).
func formPartsSize(conds []Condition, shared bool) int {
	if shared {
		var fieldBuf [8]Field
		var pageBuf [4]Condition
		return partsSize(formFields(fieldBuf[:0], pageBuf[:0], conds, true))
	}
	// Without a field on several conditions, every condition the form
	// carries is a field, and every one the page supplies a page field.
	n := 0
	for i := range conds {
		switch c := &conds[i]; c.source {
		case SourceForm:
			n += partLen(c.field, len(c.formValue))
		case SourcePage:
			n += partLen(c.field, len(c.value)+assumedPageValueLen)
		}
	}
	return n
}

// bucketOf returns the value of the first exact-match bucket condition.
func bucketOf(conds []Condition) string {
	for i := range conds {
		if c := &conds[i]; c.op == OpEq && strings.EqualFold(c.field, "bucket") {
			return c.value
		}
	}
	return ""
}

// The assumptions behind the estimate of the multipart data a browser
// sends before the file's content.
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

// partsSize estimates the parts that carry fields and the fields the page
// adds for page.
func partsSize(fields []Field, page []Condition) int {
	n := 0
	for _, f := range fields {
		n += partLen(f.Name, len(f.Value))
	}
	for i := range page {
		n += partLen(page[i].field, len(page[i].value)+assumedPageValueLen)
	}
	return n
}

// signerPartsSize estimates the rest of what comes before the file's
// content: the Signer's fields, the policy and signature, and the file
// part's headers.
func signerPartsSize(credential, token string, policyLen int) int {
	n := partLen("x-amz-algorithm", len(Algorithm)) + partLen("x-amz-credential", len(credential)) +
		partLen("x-amz-date", len("20060102T150405Z")) +
		partLen("policy", policyLen) + partLen("x-amz-signature", 2*sha256.Size)
	if token != "" {
		n += partLen("x-amz-security-token", len(token))
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
		u, err := parseEndpoint(s.Endpoint)
		if err != nil {
			return err
		}
		// A bucket cannot be a label of an IP address: virtual-hosted
		// style needs a host name ("Virtual hosting of buckets",
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
		if s.URLStyle == URLStyleVirtualHosted && net.ParseIP(u.Hostname()) != nil {
			return fmt.Errorf("%w: URLStyleVirtualHosted needs a host name, and Endpoint's host %s is an IP address; use URLStylePath", ErrSignerConfig, u.Hostname())
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
