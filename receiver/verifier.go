package receiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// Verifier checks browser uploads the way S3 does, for servers that accept
// them (S3-compatible stores, gateways, test fakes). It reads the
// multipart/form-data request as a stream and checks everything before
// reading the file: the fields, the signature over the received policy
// text, the policy itself, every condition and the coverage rule. Then the
// file streams through a counter that enforces content-length-range and
// S3's 5 GiB limit, and through the hash of its x-amz-checksum-* digest.
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
//  7. ${filename} in the fields is replaced by the file's name (the text
//     after its last '/' or '\'); the key must then not be empty, which it
//     is when the name ends in a separator (InvalidArgument), must be
//     valid UTF-8 (InvalidArgument) and at most 1,024 bytes long
//     (KeyTooLongError);
//  8. every condition holds: AccessDenied "Policy Condition failed: …";
//  9. every field except policy, x-amz-signature, file and x-ignore-* is
//     covered by a condition, and so is the bucket: AccessDenied "Extra
//     input fields: …";
//  10. the x-amz-checksum-* fields, by S3's rules ("Checking object
//     integrity in Amazon S3",
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html,
//     and the fields of POST Object,
//     https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html):
//     the form may name one digest of the file, in the field
//     x-amz-checksum-<algorithm> of an algorithm S3 computes (CRC32,
//     CRC32C, CRC64NVME, SHA1, SHA256), as the standard base64 of exactly
//     that algorithm's number of digest bytes; a second digest field, a
//     field of another algorithm, or a value that is not such base64 is
//     InvalidRequest. x-amz-checksum-algorithm, when sent, must name one
//     of those algorithms (in any letter case) and the form must carry
//     that algorithm's digest field: InvalidRequest otherwise. A digest
//     field sent without x-amz-checksum-algorithm is enforced all the
//     same, for the algorithm its name gives. These fields need conditions
//     like any other (step 9);
//  11. while the file streams, its size: EntityTooLarge as soon as it
//     passes the content-length-range maximum or 5 GiB, the most S3 stores
//     from one request, whatever the policy allows ("Uploading objects",
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html);
//     at its end, EntityTooSmall below the minimum, then BadDigest "The
//     <ALGORITHM> you specified did not match the calculated checksum."
//     when the file's digest is not the one its field names.
type Verifier struct {
	// Lookup returns the credentials of an access key id, or an error
	// wrapping ErrUnknownAccessKey. Other errors are returned as they are
	// and answered as 500 InternalError by WriteError. Required; see
	// StaticCredentials.
	Lookup func(ctx context.Context, accessKeyID string) (postpolicy.Credentials, error)

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

func (v *Verifier) service() string {
	if v.Service == "" {
		return "s3"
	}
	return v.Service
}

// maxKeyLen is the longest key S3 stores: "The name for a key is a
// sequence of Unicode characters whose UTF-8 encoding is at most 1,024
// bytes long" (Naming Amazon S3 objects).
const maxKeyLen = 1024

// VerifyFields checks the fields of an upload, as received before its file
// (names as sent, in order), for a POST to bucket: every check of the
// Verifier (steps 1 to 10) but those of the file itself, its size and its
// digest, which the returned Upload's CheckSize and CheckDigest make
// (Checksum says which digest the file must have). filename is the file
// part's file name ("" when it has none). It is for servers that parse the
// multipart body themselves; most call Verify. Errors are *S3Error values,
// except those of Lookup.
func (v *Verifier) VerifyFields(ctx context.Context, bucket string, fields []postpolicy.Field, filename string) (*Upload, error) {
	if v.Lookup == nil || v.Region == "" {
		return nil, ErrVerifierConfig
	}
	// 1 and 2: the fields, the algorithm, the date and the credential
	// scope.
	if err := CheckFields(fields); err != nil {
		return nil, err
	}
	get := func(name string) string { v, _ := postpolicy.Fields(fields).Get(name); return v }
	policyText, signature, amzDate, credential := get("policy"), get("x-amz-signature"), get("x-amz-date"), get("x-amz-credential")
	signedAt, _ := time.Parse(sigv4.TimeLayout, amzDate) // CheckFields parsed it
	scope := strings.Split(credential, "/")
	service := v.service()
	switch {
	case scope[2] != v.Region:
		return nil, scopeErr(credential, "the region "+strconv.Quote(scope[2])+" is wrong; expecting "+strconv.Quote(v.Region), postpolicy.Field{Name: "Region", Value: v.Region})
	case scope[3] != service:
		return nil, scopeErr(credential, "the service "+strconv.Quote(scope[3])+" is wrong; expecting "+strconv.Quote(service))
	}
	accessKeyID := scope[0]

	// 3. The secret, and the session token of temporary credentials.
	creds, err := v.Lookup(ctx, accessKeyID)
	if errors.Is(err, ErrUnknownAccessKey) {
		return nil, s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: accessKeyID})
	}
	if err != nil {
		return nil, fmt.Errorf("receiver: looking up access key %q: %w", accessKeyID, err)
	}
	token, hasToken := postpolicy.Fields(fields).Get("x-amz-security-token")
	switch {
	case creds.SessionToken != "" && !hasToken:
		return nil, s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: accessKeyID})
	case hasToken && !hmac.Equal([]byte(token), []byte(creds.SessionToken)):
		return nil, s3err(CodeInvalidToken, http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	}

	// 4. The signature over the policy text as received.
	want := sigv4.Signature(sigv4.DeriveKey(creds.SecretAccessKey, scope[1], v.Region, service), []byte(policyText))
	if !hmac.Equal(want[:], []byte(signature)) {
		return nil, s3err(CodeSignatureDoesNotMatch, http.StatusForbidden,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: accessKeyID}, postpolicy.Field{Name: "StringToSign", Value: policyText},
			postpolicy.Field{Name: "SignatureProvided", Value: signature})
	}

	// 5. Only now decode and parse the policy.
	pol, err := DecodePolicy(policyText)
	if err != nil {
		return nil, err
	}

	// 6. The clock.
	now := v.now()
	if !now.Before(pol.Expiration) {
		return nil, policyFailed("Policy expired.", nil)
	}
	skew, maxAge := v.ClockSkew, v.MaxDateAge
	if skew == 0 {
		skew = 15 * time.Minute
	}
	if maxAge == 0 {
		maxAge = 7 * 24 * time.Hour
	}
	if signedAt.Sub(now) > skew {
		return nil, s3err(CodeRequestTimeTooSkewed, http.StatusForbidden, "The difference between the request time and the server's time is too large.",
			postpolicy.Field{Name: "RequestTime", Value: amzDate}, postpolicy.Field{Name: "ServerTime", Value: now.UTC().Format(time.RFC3339)})
	}
	if now.Sub(signedAt) > maxAge {
		return nil, policyFailed("Policy expired.", nil)
	}

	// 7. ${filename}.
	u := &Upload{Method: http.MethodPost, Bucket: bucket, AccessKeyID: accessKeyID, Policy: pol, Expires: pol.Expiration, Filename: filename}
	u.Fields = ExpandFilename(fields, filename)
	u.Key, _ = u.Get("key")
	if u.Key == "" {
		// CheckFields refused an empty key field: ${filename} emptied it.
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest,
			"The key is empty once ${filename} is replaced by the file's name "+strconv.Quote(filename)+
				", which has nothing after its last slash or backslash; an object key must be at least one byte long.",
			postpolicy.Field{Name: "ArgumentName", Value: "key"}, postpolicy.Field{Name: "ArgumentValue", Value: ""})
	}
	if !utf8.ValidString(u.Key) {
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "Object keys must be valid UTF-8.",
			postpolicy.Field{Name: "ArgumentName", Value: "key"})
	}
	if len(u.Key) > maxKeyLen {
		return nil, s3err(CodeKeyTooLong, http.StatusBadRequest, "Your key is too long",
			postpolicy.Field{Name: "Size", Value: strconv.Itoa(len(u.Key))}, postpolicy.Field{Name: "MaxSizeAllowed", Value: strconv.Itoa(maxKeyLen)})
	}

	// 8. Every condition, and 9. coverage.
	if u.minSize, u.maxSize, err = checkConditions(pol.Conditions, bucket, u.Fields); err != nil {
		return nil, err
	}

	// 10. The checksum fields.
	if u.sum, err = checkChecksumFields(u.Fields); err != nil {
		return nil, err
	}
	return u, nil
}

func scopeErr(credential, reason string, extra ...postpolicy.Field) *S3Error {
	return s3err(CodeInvalidArgument, http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter; "+reason,
		append([]postpolicy.Field{{Name: "ArgumentName", Value: "x-amz-credential"}, {Name: "ArgumentValue", Value: credential}}, extra...)...)
}

// Verify reads a browser upload posted to bucket, as a stream, and checks
// everything before the file (see [Verifier]). On success the returned
// Upload's File streams the file and enforces its size and its digest
// (step 11); fields after the file are ignored, as S3 does: after the
// file's closing delimiter, File reads only the line after it (and the
// headers of a part that follows), to tell a complete body from one cut
// short (IncompleteBody).
// Errors are *S3Error values (write them with [WriteError]), except those
// of Lookup.
//
// Verify reads at most about [postpolicy.MaxPreFileSize] bytes and [MaxPreFileParts]
// fields before the file (MaxPostPreDataLengthExceeded beyond), so memory
// does not grow with what a client sends; the file is never buffered. A
// body that cannot be read to its end (the client went away, sent less
// than its Content-Length, or a read timed out) is answered IncompleteBody;
// one that is not well-formed multipart/form-data, MalformedPOSTRequest.
//
// A part is named only by the plain name and filename parameters of its one
// Content-Disposition header, whose type must be form-data (RFC 7578
// section 4.2); the header is parsed strictly by the grammar of RFC 6266
// section 4.1 (tokens, and quoted-strings with backslash escapes), and a
// part with none or several such headers, another type, a parameter sent
// twice or a control character in the header is MalformedPOSTRequest. The
// starred parameters of RFC 2231 and RFC 5987 (name*=, filename*=) are
// ignored: RFC 7578 tells senders not to use them for file names, and
// obeying them would let a part rename itself or put CR, LF or NUL into
// the name that ${filename} copies into the key.
func (v *Verifier) Verify(r *http.Request, bucket string) (*Upload, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, s3err(CodePreconditionFailed, http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold",
			postpolicy.Field{Name: "Condition", Value: "Bucket POST must be of the enclosure-type multipart/form-data"})
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, malformed()
	}
	body := &preFileReader{r: r.Body, limit: postpolicy.MaxPreFileSize + preFileSlack}
	mr := multipart.NewReader(body, boundary)
	delimLen := len("--"+boundary) + 2
	var fields []postpolicy.Field
	size := 0
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil, s3err(CodeIncorrectNumberOfFilesInPOST, http.StatusBadRequest, "POST requires exactly one file upload per request.",
				postpolicy.Field{Name: "FileCount", Value: "0"})
		}
		if err != nil {
			return nil, body.failure()
		}
		name, filename, hasFilename, ok := partNames(part)
		if !ok || name == "" {
			return nil, malformed()
		}
		size += delimLen + headerLen(part) + 2
		if strings.EqualFold(name, "file") {
			if size > postpolicy.MaxPreFileSize {
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
			u.file = &fileReader{part: part, min: u.minSize, max: u.maxSize, body: body, mr: mr, sum: u.sum}
			if u.sum.alg != "" {
				u.file.hash = u.sum.alg.New()
			}
			u.File = u.file
			return u, nil
		}
		if len(fields) == MaxPreFileParts {
			return nil, tooManyPreFileParts()
		}
		value, err := io.ReadAll(io.LimitReader(part, int64(postpolicy.MaxPreFileSize-size)+1))
		if err != nil {
			return nil, body.failure()
		}
		size += len(value) + 2
		if size > postpolicy.MaxPreFileSize {
			return nil, preFileTooLarge()
		}
		fields = append(fields, postpolicy.Field{Name: name, Value: string(value)})
	}
}

// MaxPreFileParts is the most form fields a [Verifier] reads before the
// file; one more is answered MaxPostPreDataLengthExceeded, the code S3 gives
// for too much data before the file.
//
// S3 documents no count, only its 20 KB ([postpolicy.MaxPreFileSize]), which by itself
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
		postpolicy.Field{Name: "MaxPostPreDataLengthBytes", Value: strconv.Itoa(postpolicy.MaxPreFileSize)})
}

func tooManyPreFileParts() *S3Error {
	return s3err(CodeMaxPostPreDataLengthExceeded, http.StatusBadRequest,
		"Your POST request has too many fields preceding the upload file.",
		postpolicy.Field{Name: "MaxPostPreDataParts", Value: strconv.Itoa(MaxPreFileParts)})
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

var errPreFileLimit = errors.New("receiver: pre-file data limit reached")

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

// fileReader streams the file and enforces its size (content-length-range
// and the 5 GiB cap, both in min and max) and, when hash is set, its
// digest: the Read that would return io.EOF returns BadDigest instead
// when the digest differs.
type fileReader struct {
	part     io.Reader
	n        int64
	min, max int64
	err      error
	body     *preFileReader
	mr       *multipart.Reader
	sum      checksum
	hash     hash.Hash // sum.alg's, or nil
}

func (f *fileReader) Read(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.part.Read(b)
	f.n += int64(n)
	if f.hash != nil {
		f.hash.Write(b[:n])
	}
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
		// The digest is not secret: a plain comparison of the bytes.
		if f.hash != nil && !bytes.Equal(f.hash.Sum(nil), f.sum.digest) {
			f.err = badDigest(f.sum.alg)
			return n, f.err
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
