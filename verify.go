package postpolicy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrUnknownAccessKey is returned by a [Verifier]'s Lookup for an access
// key id it does not know; the Verifier answers InvalidAccessKeyId.
var ErrUnknownAccessKey = errors.New("postpolicy: unknown access key id")

// ErrVerifierConfig is returned by a [Verifier] without Lookup or Region.
var ErrVerifierConfig = errors.New("postpolicy: invalid verifier configuration: Lookup and Region are required")

// Keys returns a Verifier Lookup function over a fixed set of credentials.
func Keys(creds ...Credentials) func(ctx context.Context, accessKeyID string) (Credentials, error) {
	set := make(map[string]Credentials, len(creds))
	for _, c := range creds {
		set[c.AccessKeyID] = c
	}
	return func(_ context.Context, id string) (Credentials, error) {
		if c, ok := set[id]; ok {
			return c, nil
		}
		return Credentials{}, ErrUnknownAccessKey
	}
}

// Verifier checks browser uploads the way S3 does, for servers that accept
// them (S3-compatible stores, gateways, test fakes). It reads the
// multipart/form-data request as a stream and checks everything before
// reading the file: the fields, the signature over the received policy
// text, the policy itself, every condition and the coverage rule. Then the
// file streams through a counter that enforces content-length-range.
//
// A Verifier is configured by setting its fields; it is safe for concurrent
// use. The checks, in order, and S3's answers:
//
//  1. fields single-valued (names compared case-insensitively) and the key
//     and authentication fields present: InvalidArgument;
//  2. x-amz-algorithm is AWS4-HMAC-SHA256, x-amz-date well-formed, and the
//     credential scope names the date of x-amz-date, the Verifier's region
//     and service, and aws4_request: InvalidArgument;
//  3. the access key is known (InvalidAccessKeyId) and the session token
//     matches temporary credentials (InvalidAccessKeyId when missing,
//     InvalidToken when wrong);
//  4. x-amz-signature equals the HMAC of the received policy text,
//     compared in constant time: SignatureDoesNotMatch;
//  5. only then the policy is decoded and parsed strictly ([ParsePolicy]):
//     InvalidPolicyDocument;
//  6. the expiration has not passed and x-amz-date is neither in the future
//     beyond ClockSkew (RequestTimeTooSkewed) nor older than MaxDateAge:
//     AccessDenied "Policy expired.";
//  7. ${filename} in the fields is replaced by the file's name;
//  8. every condition holds: AccessDenied "Policy Condition failed: …";
//  9. every field except policy, x-amz-signature, file and x-ignore-* is
//     covered by a condition, and so is the bucket: AccessDenied "Extra
//     input fields: …";
//  10. while the file streams, content-length-range: EntityTooLarge as soon
//     as the file passes the maximum, EntityTooSmall at its end.
type Verifier struct {
	// Lookup returns the credentials of an access key id, or an error
	// wrapping ErrUnknownAccessKey. Other errors are returned as they are
	// and answered as 500 InternalError by WriteError. Required; see Keys.
	Lookup func(ctx context.Context, accessKeyID string) (Credentials, error)

	// Region is the region the server answers for; the credential scope
	// must name it. Required.
	Region string

	// Service is the credential scope's service; empty means "s3".
	Service string

	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// ClockSkew is how far in the future x-amz-date may be; 0 means 15
	// minutes, the skew S3 allows for signed requests.
	ClockSkew time.Duration

	// MaxDateAge is how old x-amz-date may be; 0 means 7 days, the
	// lifetime of a SigV4 signing key. Versity S3 Gateway allows 1 hour.
	MaxDateAge time.Duration
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Upload is a browser upload that passed every check that can be made
// before its file is read.
type Upload struct {
	// Bucket is the bucket the upload was posted to.
	Bucket string
	// Key is the object key, with ${filename} replaced.
	Key string
	// AccessKeyID is the access key that signed the policy.
	AccessKeyID string
	// Policy is the verified, parsed policy.
	Policy Policy
	// Fields are the fields received before the file, in order, names as
	// sent and ${filename} replaced in the values.
	Fields []Field
	// Filename is the file name the browser sent with the file part, as
	// sent (it may hold a path); empty when it sent none.
	Filename string
	// File is the file's content, from Verifier.Verify (nil from
	// VerifyFields). Reading it enforces content-length-range: it returns
	// an *S3Error (EntityTooLarge, EntityTooSmall, IncompleteBody,
	// MalformedPOSTRequest) instead of the last bytes or io.EOF when the
	// file breaks it or the body ends before the file does. A server must
	// read File to io.EOF, and store the object only then. The
	// EntityTooLarge error's ProposedSize is the number of bytes read when
	// the maximum was passed: a lower bound of the file's size, since the
	// rest is never read.
	File io.Reader

	minSize, maxSize int64
	file             *fileReader
}

// Get returns the value of the field named name (compared
// case-insensitively, as S3 does) and whether it was sent.
func (u *Upload) Get(name string) (string, bool) {
	return fieldValue(u.Fields, name)
}

// ContentType returns the Content-Type field, which S3 stores as the
// object's Content-Type, or "" when none was sent (S3 then stores
// binary/octet-stream).
func (u *Upload) ContentType() string {
	v, _ := u.Get("Content-Type")
	return v
}

// Metadata returns the x-amz-meta-* fields, in order, with their names in
// lower case as S3 stores them.
func (u *Upload) Metadata() []Field {
	var m []Field
	for _, f := range u.Fields {
		if hasPrefixFold(f.Name, "x-amz-meta-") {
			m = append(m, Field{strings.ToLower(f.Name), f.Value})
		}
	}
	return m
}

// Size returns the number of file bytes read from File so far.
func (u *Upload) Size() int64 {
	if u.file == nil {
		return 0
	}
	return u.file.n
}

// CheckSize checks a file size against the policy's content-length-range
// conditions, for servers that read the file themselves (after
// VerifyFields): EntityTooLarge or EntityTooSmall, or nil.
func (u *Upload) CheckSize(n int64) error {
	if n > u.maxSize {
		return tooLarge(n, u.maxSize)
	}
	if n < u.minSize {
		return tooSmall(n, u.minSize)
	}
	return nil
}

func tooLarge(n, max int64) *S3Error {
	return s3err(CodeEntityTooLarge, http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size",
		Field{"ProposedSize", strconv.FormatInt(n, 10)}, Field{"MaxSizeAllowed", strconv.FormatInt(max, 10)})
}

func tooSmall(n, min int64) *S3Error {
	return s3err(CodeEntityTooSmall, http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size",
		Field{"ProposedSize", strconv.FormatInt(n, 10)}, Field{"MinSizeAllowed", strconv.FormatInt(min, 10)})
}

// fieldValue returns the value of the field named name, compared
// case-insensitively.
func fieldValue(fields []Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// The fields a signed POST must carry, in the order they are checked.
var requiredFields = []string{"key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}

const maxKeyLen = 1024 // "The name for a key is a sequence of Unicode characters whose UTF-8 encoding is at most 1,024 bytes long."

// VerifyFields checks the fields of an upload, as received before its file
// (names as sent, in order), for a POST to bucket: every check of the
// Verifier except the file's size, which the returned Upload's CheckSize
// does. filename is the file part's file name ("" when it has none). It is
// for servers that parse the multipart body themselves; most call Verify.
// Errors are *S3Error values, except those of Lookup.
func (v *Verifier) VerifyFields(ctx context.Context, bucket string, fields []Field, filename string) (*Upload, error) {
	if v.Lookup == nil || v.Region == "" {
		return nil, ErrVerifierConfig
	}
	// 1. Single-valued fields, key and authentication fields present.
	for i, f := range fields {
		for _, g := range fields[:i] {
			if strings.EqualFold(f.Name, g.Name) {
				return nil, s3err(CodeInvalidArgument, http.StatusBadRequest,
					"POST form field "+strconv.Quote(f.Name)+" appears more than once; fields must be single-valued.",
					Field{"ArgumentName", f.Name})
			}
		}
	}
	anonymous := true
	for _, name := range requiredFields[1:] {
		if _, ok := fieldValue(fields, name); ok {
			anonymous = false
		}
	}
	if anonymous {
		return nil, s3err(CodeAccessDenied, http.StatusForbidden, "Access Denied")
	}
	for _, name := range requiredFields {
		if val, ok := fieldValue(fields, name); !ok || val == "" {
			return nil, s3err(CodeInvalidArgument, http.StatusBadRequest,
				"Bucket POST must contain a field named '"+name+"'.  If it is specified, please check the order of the fields.",
				Field{"ArgumentName", name}, Field{"ArgumentValue", ""})
		}
	}
	get := func(name string) string { v, _ := fieldValue(fields, name); return v }
	policyText, signature := get("policy"), get("x-amz-signature")

	// 2. Algorithm, date and credential scope.
	if alg := get("x-amz-algorithm"); alg != Algorithm {
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "X-Amz-Algorithm only supports \""+Algorithm+"\"",
			Field{"ArgumentName", "x-amz-algorithm"}, Field{"ArgumentValue", alg})
	}
	amzDate := get("x-amz-date")
	signedAt, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
			Field{"ArgumentName", "x-amz-date"}, Field{"ArgumentValue", amzDate})
	}
	credential := get("x-amz-credential")
	scope := strings.Split(credential, "/")
	service := v.Service
	if service == "" {
		service = "s3"
	}
	switch {
	case len(scope) != 5 || scope[0] == "":
		return nil, scopeErr(credential, "the credential must be ACCESSKEYID/YYYYMMDD/REGION/SERVICE/aws4_request")
	case scope[1] != amzDate[:8]:
		return nil, scopeErr(credential, "the credential date "+strconv.Quote(scope[1])+" is not the date of x-amz-date "+strconv.Quote(amzDate))
	case scope[2] != v.Region:
		return nil, scopeErr(credential, "the region "+strconv.Quote(scope[2])+" is wrong; expecting "+strconv.Quote(v.Region), Field{"Region", v.Region})
	case scope[3] != service:
		return nil, scopeErr(credential, "the service "+strconv.Quote(scope[3])+" is wrong; expecting "+strconv.Quote(service))
	case scope[4] != "aws4_request":
		return nil, scopeErr(credential, "the credential must end with aws4_request")
	}
	accessKeyID := scope[0]

	// 3. The secret, and the session token of temporary credentials.
	creds, err := v.Lookup(ctx, accessKeyID)
	if errors.Is(err, ErrUnknownAccessKey) {
		return nil, s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			Field{"AWSAccessKeyId", accessKeyID})
	}
	if err != nil {
		return nil, fmt.Errorf("postpolicy: looking up access key %q: %w", accessKeyID, err)
	}
	token, hasToken := fieldValue(fields, "x-amz-security-token")
	switch {
	case creds.SessionToken != "" && !hasToken:
		return nil, s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			Field{"AWSAccessKeyId", accessKeyID})
	case hasToken && !hmac.Equal([]byte(token), []byte(creds.SessionToken)):
		return nil, s3err(CodeInvalidToken, http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	}

	// 4. The signature over the policy text as received.
	key := DeriveSigningKey(creds.SecretAccessKey, signedAt, v.Region, service)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(policyText))
	var sum [sha256.Size]byte
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], m.Sum(sum[:0]))
	if !hmac.Equal(want[:], []byte(signature)) {
		return nil, s3err(CodeSignatureDoesNotMatch, http.StatusForbidden,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			Field{"AWSAccessKeyId", accessKeyID}, Field{"StringToSign", policyText}, Field{"SignatureProvided", signature})
	}

	// 5. Only now decode and parse the policy.
	pol, err := DecodePolicy(policyText)
	if err != nil {
		return nil, err
	}

	// 6. The clock.
	now := v.now()
	if !now.Before(pol.Expiration) {
		return nil, policyFailed("Policy expired.")
	}
	skew, maxAge := v.ClockSkew, v.MaxDateAge
	if skew == 0 {
		skew = 15 * time.Minute
	}
	if maxAge == 0 {
		maxAge = maxPolicyLifetime
	}
	if signedAt.Sub(now) > skew {
		return nil, s3err(CodeRequestTimeTooSkewed, http.StatusForbidden, "The difference between the request time and the server's time is too large.",
			Field{"RequestTime", amzDate}, Field{"ServerTime", now.UTC().Format(time.RFC3339)})
	}
	if now.Sub(signedAt) > maxAge {
		return nil, policyFailed("Policy expired.")
	}

	// 7. ${filename}.
	u := &Upload{Bucket: bucket, AccessKeyID: accessKeyID, Policy: pol, Filename: filename}
	u.Fields = expandFilename(fields, filename)
	u.Key, _ = u.Get("key")
	if !utf8.ValidString(u.Key) {
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "Object keys must be valid UTF-8.",
			Field{"ArgumentName", "key"})
	}
	if len(u.Key) > maxKeyLen {
		return nil, s3err(CodeKeyTooLong, http.StatusBadRequest, "Your key is too long", Field{"Size", strconv.Itoa(len(u.Key))}, Field{"MaxSizeAllowed", strconv.Itoa(maxKeyLen)})
	}

	// 8. Every condition, and 9. coverage.
	u.minSize, u.maxSize = 0, maxInt64
	if err := checkConditions(pol.Conditions, bucket, u.Fields, &u.minSize, &u.maxSize); err != nil {
		return nil, err
	}
	return u, nil
}

const maxInt64 = 1<<63 - 1

func scopeErr(credential, reason string, extra ...Field) *S3Error {
	return s3err(CodeInvalidArgument, http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter; "+reason,
		append([]Field{{"ArgumentName", "x-amz-credential"}, {"ArgumentValue", credential}}, extra...)...)
}

// expandFilename returns fields with ${filename} replaced by the file's
// name: the text after its last '/' or '\' ("sigv4-HTTPPOSTForms": the
// variable "is automatically replaced with the name of the file provided by
// the user and is recognized by all form fields"). Without a file name the
// variable stays as it is, as S3 was observed to do.
func expandFilename(fields []Field, filename string) []Field {
	out := make([]Field, len(fields))
	copy(out, fields)
	if filename == "" {
		return out
	}
	base := filename
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	for i := range out {
		if strings.Contains(out[i].Value, filenameVar) {
			out[i].Value = strings.ReplaceAll(out[i].Value, filenameVar, base)
		}
	}
	return out
}

// checkConditions checks every condition against the fields and then the
// coverage rule, and narrows [min, max] to the content-length-range.
func checkConditions(conds []Condition, bucket string, fields []Field, min, max *int64) error {
	for _, c := range conds {
		switch c.op {
		case OpContentLengthRange:
			*min, *max = maxOf(*min, c.min), minOf(*max, c.max)
			continue
		case OpEq, OpStartsWith:
		default:
			continue
		}
		var got string
		var ok bool
		if strings.EqualFold(c.field, "bucket") {
			got, ok = bucket, true
			if sent, present := fieldValue(fields, "bucket"); present && sent != bucket {
				ok = false
			}
		} else {
			got, ok = fieldValue(fields, c.field)
		}
		pass := ok && (c.op == OpEq && got == c.value || c.op == OpStartsWith && startsWithMatch(c.field, got, c.value))
		if !pass {
			return policyFailed("Policy Condition failed: " + c.String())
		}
	}
	covered := func(name string) bool {
		for _, c := range conds {
			if (c.op == OpEq || c.op == OpStartsWith) && strings.EqualFold(c.field, name) {
				return true
			}
		}
		return false
	}
	for _, f := range fields {
		n := strings.ToLower(f.Name)
		if n == "policy" || n == "x-amz-signature" || n == "file" || strings.HasPrefix(n, "x-ignore-") {
			continue
		}
		if !covered(n) {
			return policyFailed("Extra input fields: " + n)
		}
	}
	if !covered("bucket") {
		return policyFailed("Extra input fields: bucket")
	}
	return nil
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func minOf(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// Verify reads a browser upload posted to bucket, as a stream, and checks
// everything before the file (see [Verifier]). On success the returned
// Upload's File streams the file and enforces content-length-range; fields
// after the file are ignored, as S3 does: after the file's closing
// delimiter, File reads only the line after it (and the headers of a part
// that follows), to tell a complete body from one cut short
// (IncompleteBody).
// Errors are *S3Error values (write them with [WriteError]), except those
// of Lookup.
//
// Verify reads at most about [MaxPreFileSize] bytes and [MaxPreFileParts]
// fields before the file (MaxPostPreDataLengthExceeded beyond), so memory
// does not grow with what a client sends; the file is never buffered. A
// body that cannot be read to its end (the client went away, sent less
// than its Content-Length, or a read timed out) is answered IncompleteBody;
// one that is not well-formed multipart/form-data, MalformedPOSTRequest.
func (v *Verifier) Verify(r *http.Request, bucket string) (*Upload, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, s3err(CodePreconditionFailed, http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold",
			Field{"Condition", "Bucket POST must be of the enclosure-type multipart/form-data"})
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, malformed()
	}
	body := &preFileReader{r: r.Body, limit: MaxPreFileSize + preFileSlack}
	mr := multipart.NewReader(body, boundary)
	delimLen := len("--"+boundary) + 2
	var fields []Field
	size := 0
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil, s3err(CodeIncorrectNumberOfFilesInPOST, http.StatusBadRequest, "POST requires exactly one file upload per request.",
				Field{"FileCount", "0"})
		}
		if err != nil {
			return nil, body.failure()
		}
		name, filename, hasFilename := partNames(part)
		if name == "" {
			return nil, malformed()
		}
		size += delimLen + headerLen(part) + 2
		if strings.EqualFold(name, "file") {
			if size > MaxPreFileSize {
				return nil, preFileTooLarge()
			}
			if !hasFilename {
				filename = ""
			}
			u, err := v.VerifyFields(r.Context(), bucket, fields, filename)
			if err != nil {
				return nil, err
			}
			body.limit = -1 // the file itself is not limited here
			u.file = &fileReader{part: part, min: u.minSize, max: u.maxSize, body: body, mr: mr}
			u.File = u.file
			return u, nil
		}
		if len(fields) == MaxPreFileParts {
			return nil, tooManyPreFileParts()
		}
		value, err := io.ReadAll(io.LimitReader(part, int64(MaxPreFileSize-size)+1))
		if err != nil {
			return nil, body.failure()
		}
		size += len(value) + 2
		if size > MaxPreFileSize {
			return nil, preFileTooLarge()
		}
		fields = append(fields, Field{name, string(value)})
	}
}

// MaxPreFileParts is the most form fields a [Verifier] reads before the
// file; one more is answered MaxPostPreDataLengthExceeded, the code S3 gives
// for too much data before the file.
//
// S3 documents no count, only its 20 KB ([MaxPreFileSize]), which by itself
// bounds the fields: each costs at least its delimiter and a
// Content-Disposition header, so crafted, nearly empty parts fit about 400
// times. The count makes that bound explicit, independent of how bytes are
// counted, and refuses a flood of tiny parts early. It never refuses a real
// form: a browser's or SDK's part costs some 100 bytes (a boundary of 30 to
// 70 characters, a quoted name), and each field but x-ignore-* also needs a
// condition in the policy, which is itself in the 20 KB, so real forms stay
// far below 200 fields and the forms a [Signer] signs below about 150.
// (Go's mime/multipart ReadForm allows 1000 parts, but with no byte limit
// as small as S3's.)
const MaxPreFileParts = 256

// preFileSlack is how much further than MaxPreFileSize the raw body may be
// read while looking for the file: the multipart reader reads ahead.
const preFileSlack = 16 << 10

func malformed() *S3Error {
	return s3err(CodeMalformedPOSTRequest, http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
}

func preFileTooLarge() *S3Error {
	return s3err(CodeMaxPostPreDataLengthExceeded, http.StatusBadRequest,
		"Your POST request fields preceding the upload file was too large.",
		Field{"MaxPostPreDataLengthBytes", strconv.Itoa(MaxPreFileSize)})
}

func tooManyPreFileParts() *S3Error {
	return s3err(CodeMaxPostPreDataLengthExceeded, http.StatusBadRequest,
		"Your POST request has too many fields preceding the upload file.",
		Field{"MaxPostPreDataParts", strconv.Itoa(MaxPreFileParts)})
}

// incompleteBody is the answer to a body that could not be read to its
// end: err is the error reading it.
func incompleteBody(err error) *S3Error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return s3err(CodeRequestTimeout, http.StatusBadRequest,
			"Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return s3err(CodeIncompleteBody, http.StatusBadRequest, "The request body ended before the end of the multipart form.")
	}
	return s3err(CodeIncompleteBody, http.StatusBadRequest, "The request body could not be read to its end.")
}

// partNames returns a part's form field name and its file name as sent,
// without the path stripping of multipart.Part.FileName.
func partNames(p *multipart.Part) (name, filename string, hasFilename bool) {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return "", "", false
	}
	filename, hasFilename = params["filename"]
	return params["name"], filename, hasFilename
}

// headerLen returns the length of a part's header block as sent: each
// "Name: value" line and its CRLF, and the blank line after them.
func headerLen(p *multipart.Part) int {
	n := 2
	for k, vs := range p.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

// preFileReader reads the request body, failing once more than limit bytes
// were read (limit < 0: no limit). It remembers the first error of the
// body itself, other than io.EOF, so that a body that could not be read
// (IncompleteBody) is told from one that is not well-formed.
type preFileReader struct {
	r       io.Reader
	n       int
	limit   int
	over    bool
	readErr error
}

var errPreFileLimit = errors.New("postpolicy: pre-file data limit reached")

func (p *preFileReader) Read(b []byte) (int, error) {
	if p.limit >= 0 {
		if p.n >= p.limit {
			p.over = true
			return 0, errPreFileLimit
		}
		if rem := p.limit - p.n; len(b) > rem {
			b = b[:rem]
		}
	}
	n, err := p.r.Read(b)
	p.n += n
	if err != nil && err != io.EOF && p.readErr == nil {
		p.readErr = err
	}
	return n, err
}

// failure is the answer to the multipart reader failing: the pre-file
// limit, a body that could not be read (IncompleteBody), or one that ended
// without a well-formed form (MalformedPOSTRequest).
func (p *preFileReader) failure() *S3Error {
	switch {
	case p.over:
		return preFileTooLarge()
	case p.readErr != nil:
		return incompleteBody(p.readErr)
	}
	return malformed()
}

// fileReader streams the file and enforces content-length-range.
type fileReader struct {
	part     io.Reader
	n        int64
	min, max int64
	err      error
	body     *preFileReader
	mr       *multipart.Reader
}

func (f *fileReader) Read(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.part.Read(b)
	f.n += int64(n)
	switch {
	case f.n > f.max:
		f.err = tooLarge(f.n, f.max)
		return 0, f.err
	case err == io.EOF && f.n < f.min:
		f.err = tooSmall(f.n, f.min)
		return n, f.err
	case err == io.EOF:
		if e := f.end(); e != nil {
			f.err = e
			return n, e
		}
	case err != nil:
		// The file part has no closing delimiter: the body could not be
		// read to its end, or it ended cleanly without finishing the form.
		f.err = f.body.failure()
		return n, f.err
	}
	if err != nil {
		f.err = err
	}
	return n, err
}

// end checks, once the file has ended at a delimiter, that the body was
// not cut short there: it reads the line after the delimiter (and the
// headers of a part that follows, within preFileSlack), and answers
// IncompleteBody when the body could not be read that far. What follows
// is otherwise ignored, as S3 ignores fields after the file.
func (f *fileReader) end() error {
	f.body.limit = f.body.n + preFileSlack
	_, err := f.mr.NextRawPart()
	if err != nil && err != io.EOF && f.body.readErr != nil {
		return incompleteBody(f.body.readErr)
	}
	return nil
}

// Respond writes S3's answer to a stored upload: a 303 See Other to
// success_action_redirect, with bucket, key and etag added to its query,
// when that field holds an absolute http(s) URL; otherwise the status of
// success_action_status: 200 with an empty body, 201 with a PostResponse
// XML document (Location, Bucket, Key, ETag), or, by default and for any
// other value, 204 No Content. etag is the stored object's ETag without
// quotes; location its URL.
func (u *Upload) Respond(w http.ResponseWriter, etag, location string) {
	quoted := `"` + etag + `"`
	h := w.Header()
	h.Set("ETag", quoted)
	if location != "" {
		h.Set("Location", location)
	}
	redirect, ok := u.Get("success_action_redirect")
	if !ok {
		redirect, ok = u.Get("redirect")
	}
	if ok {
		if to, err := url.Parse(redirect); err == nil && (to.Scheme == "http" || to.Scheme == "https") && to.Host != "" {
			q := url.Values{"bucket": {u.Bucket}, "key": {u.Key}, "etag": {quoted}}.Encode()
			if to.RawQuery != "" {
				to.RawQuery += "&" + q
			} else {
				to.RawQuery = q
			}
			h.Set("Location", to.String())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	status, _ := u.Get("success_action_status")
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		body, err := xml.Marshal(postResponse{Location: location, Bucket: u.Bucket, Key: u.Key, ETag: quoted})
		if err != nil {
			w.WriteHeader(http.StatusCreated)
			return
		}
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(xml.Header))
		w.Write(body)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}
