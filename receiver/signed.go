package receiver

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/postform"
	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file verifies requests signed with Signature Version 4 as S3 API
// requests are: in their query string, as presigned URLs are
// ("Authenticating Requests: Using Query Parameters (AWS Signature Version
// 4)", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html),
// or in their Authorization header ("Authenticating Requests: Using the
// Authorization Header (AWS Signature Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html):
// the PUT that uploads an object or a part, the GET or HEAD that reads
// one, the calls of a multipart upload.

// The query parameters of a presigned request.
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramToken         = "X-Amz-Security-Token"
)

// maxPresignExpires is the most X-Amz-Expires may say: 7 days, the
// lifetime of a signing key ("Authenticating Requests: Using Query
// Parameters": "The minimum value you can set is 1, and the maximum is
// 604800 (seven days)").
const maxPresignExpires = 7 * 24 * 60 * 60

// IsPresigned reports whether r is authenticated in its query string: it
// has an X-Amz-Signature or an X-Amz-Algorithm parameter. S3 treats a
// request that has them as a presigned one, whatever else it carries.
func IsPresigned(r *http.Request) bool {
	for piece := range strings.SplitSeq(r.URL.RawQuery, "&") {
		name, _, _ := strings.Cut(piece, "=")
		if name == paramSignature || name == paramAlgorithm {
			return true
		}
	}
	return false
}

// VerifyRequest checks a request signed with Signature Version 4, in its
// query string ([Verifier.VerifyPresigned]) or in its Authorization
// header, for the object key in bucket; bucket and key are those the
// server routed r to (key is "" for a request on the bucket). A request
// signed neither way is AccessDenied "Access Denied", as S3 answers an
// anonymous request for a private object.
//
// A request signed in its Authorization header is checked as a presigned
// one is (see VerifyPresigned), with these differences, S3's: the
// x-amz-date header gives the signing time (AccessDenied "AWS
// authentication requires a valid Date or x-amz-date header" without it),
// which must be within ClockSkew of the server's clock either way
// (RequestTimeTooSkewed); the x-amz-content-sha256 header is required
// (InvalidRequest "Missing required header for this request:
// x-amz-content-sha256") and signed, and holds UNSIGNED-PAYLOAD or the
// lower-case hex SHA-256 of the body, which File then checks
// (XAmzContentSHA256Mismatch); a streaming (aws-chunked) payload is
// NotImplemented; a malformed Authorization header is
// AuthorizationHeaderMalformed.
func (v *Verifier) VerifyRequest(r *http.Request, bucket, key string) (*Upload, error) {
	if IsPresigned(r) {
		return v.VerifyPresigned(r, bucket, key)
	}
	if v.Lookup == nil || v.Region == "" {
		return nil, ErrVerifierConfig
	}
	auth := r.Header.Values("Authorization")
	if len(auth) == 0 {
		return nil, s3err(CodeAccessDenied, http.StatusForbidden, "Access Denied")
	}
	malformedAuth := func(reason string, extra ...postpolicy.Field) *S3Error {
		return s3err(CodeAuthorizationHeaderMalformed, http.StatusBadRequest, "The authorization header is malformed; "+reason, extra...)
	}
	if len(auth) > 1 {
		return nil, malformedAuth("it is sent more than once.")
	}
	a, err := sigv4.ParseAuthorization(auth[0])
	if err != nil {
		return nil, malformedAuth(strings.TrimPrefix(err.Error(), "sigv4: ") + ".")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(sigv4.TimeLayout, amzDate)
	if err != nil || len(amzDate) != len(sigv4.TimeLayout) {
		return nil, s3err(CodeAccessDenied, http.StatusForbidden, "AWS authentication requires a valid Date or x-amz-date header")
	}
	if err := v.checkScope(a.Credential, amzDate, malformedAuth); err != nil {
		return nil, err
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payload == "":
		return nil, s3err(CodeInvalidRequest, http.StatusBadRequest, "Missing required header for this request: x-amz-content-sha256")
	case strings.HasPrefix(payload, "STREAMING-"):
		return nil, s3err(CodeNotImplemented, http.StatusNotImplemented, "A header you provided implies functionality that is not implemented",
			postpolicy.Field{Name: "Header", Value: "x-amz-content-sha256"})
	case payload != sigv4.UnsignedPayload && !isLowerHex64(payload):
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the lower-case hex SHA-256 of the body.",
			postpolicy.Field{Name: "ArgumentName", Value: "x-amz-content-sha256"})
	}
	token, hasToken := "", false
	if t := r.Header.Values("X-Amz-Security-Token"); len(t) > 0 {
		token, hasToken = t[0], true
	}
	now := v.now()
	if d := signedAt.Sub(now); d > v.clockSkew() || -d > v.clockSkew() {
		return nil, s3err(CodeRequestTimeTooSkewed, http.StatusForbidden, "The difference between the request time and the current time is too large.",
			postpolicy.Field{Name: "RequestTime", Value: amzDate}, postpolicy.Field{Name: "ServerTime", Value: now.UTC().Format(time.RFC3339)},
			postpolicy.Field{Name: "MaxAllowedSkewMilliseconds", Value: strconv.FormatInt(v.clockSkew().Milliseconds(), 10)})
	}
	query, err := sigv4.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, s3err(CodeInvalidArgument, http.StatusBadRequest, "The query string is not well-formed: a '%' is not followed by two hexadecimal digits.")
	}
	sr := signedRequest{
		credential: a.Credential, amzDate: amzDate, signed: a.SignedHeaders, signature: a.Signature,
		token: token, hasToken: hasToken, payload: payload, query: query,
	}
	if err := v.checkSigned(r, &sr); err != nil {
		return nil, err
	}
	u := &Upload{Method: r.Method, Bucket: bucket, Key: key, AccessKeyID: a.Credential.AccessKeyID, Expires: signedAt.Add(v.clockSkew())}
	if err := v.body(r, u, payload); err != nil {
		return nil, err
	}
	return u, nil
}

// VerifyPresigned checks a request authenticated in its query string, as
// S3 does: a presigned PUT, which uploads the object key in bucket (or a
// part of a multipart upload), a presigned GET or HEAD, which reads it,
// or any other presigned S3 call ("Authenticating Requests: Using Query
// Parameters (AWS Signature Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
// bucket and key are those the server routed r to; the signature covers
// r's own method, path, query and signed headers. The checks, in order,
// and S3's answers:
//
//  1. the query is well-formed and holds X-Amz-Algorithm, X-Amz-Credential,
//     X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature,
//     each once; the algorithm is AWS4-HMAC-SHA256; X-Amz-Date has the
//     form 20060102T150405Z and the credential's date is its date; the
//     credential names the Verifier's region and service; X-Amz-Expires is
//     a number of seconds from 0 to 604800 (7 days):
//     AuthorizationQueryParametersError;
//  2. the signed headers include host, and every x-amz-* header of the
//     request is signed: AccessDenied "There were headers present in the
//     request which were not signed", with the HeadersNotSigned element
//     (as S3 answers; recorded in soto-project/soto#374 and
//     brendanhay/amazonka#272);
//  3. the access key is known (InvalidAccessKeyId) and
//     X-Amz-Security-Token matches temporary credentials (InvalidToken);
//  4. X-Amz-Signature is the signature of the canonical request with
//     UNSIGNED-PAYLOAD (or the x-amz-content-sha256 header, when signed),
//     compared in constant time; a signed header the request lacks cannot
//     match: SignatureDoesNotMatch, with the string to sign and the
//     canonical request the Verifier computed, as S3 includes them;
//  5. the request is not expired: AccessDenied "Request has expired", with
//     X-Amz-Expires, Expires and ServerTime (as S3 answers; recorded in
//     aws/aws-sdk-php#1333 and versity/versitygw#2116); nor signed more
//     than ClockSkew in the future: AccessDenied "Request is not yet
//     valid" (recorded in minio/minio#2638).
//
// For a PUT or a POST, then, the body: the request has a Content-Length
// (MissingContentLength, 411); a PUT's is at most 5 GiB (EntityTooLarge);
// a Content-MD5 header holds the base64 of 16 bytes (InvalidDigest); the
// x-amz-checksum-* headers follow the rules of [Verifier.Verify]'s
// checksum fields (InvalidRequest). The returned Upload's File streams the
// body and returns, instead of its end, IncompleteBody when it is shorter
// than its Content-Length and BadDigest when it does not match Content-MD5
// or its x-amz-checksum-* digest. Its Fields are the request's headers
// that S3 stores with an object (Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Content-Language, Expires and
// the x-amz-* headers), names in canonical form. A server checks the key
// it stores under with [CheckKey].
//
// For other methods the Upload describes the request (File is nil); a
// server answering a GET applies the response-* overrides of the query
// (see [ResponseOverrides]).
//
// Errors are *S3Error values, except those of Lookup.
func (v *Verifier) VerifyPresigned(r *http.Request, bucket, key string) (*Upload, error) {
	if v.Lookup == nil || v.Region == "" {
		return nil, ErrVerifierConfig
	}

	// 1. The authentication parameters.
	query, err := sigv4.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, queryParamsErr("The query string is not well-formed: a '%' is not followed by two hexadecimal digits.")
	}
	var auth [7]string // in the order of authParams
	var seen [7]bool
	for _, p := range query {
		i := slices.Index(authParams[:], p.Name)
		if i < 0 {
			continue
		}
		if seen[i] {
			return nil, queryParamsErr(p.Name + " may be given only once.")
		}
		auth[i], seen[i] = p.Value, true
	}
	algorithm, credential, amzDate, expiresText, signedText, signature, token := auth[0], auth[1], auth[2], auth[3], auth[4], auth[5], auth[6]
	for i := range 6 {
		if !seen[i] {
			return nil, queryParamsErr("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if algorithm != sigv4.Algorithm {
		return nil, queryParamsErr(`X-Amz-Algorithm only supports "` + sigv4.Algorithm + `"`)
	}
	signedAt, err := time.Parse(sigv4.TimeLayout, amzDate)
	if err != nil || len(amzDate) != len(sigv4.TimeLayout) {
		return nil, queryParamsErr(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	cred, err := sigv4.ParseCredential(credential)
	if err != nil {
		return nil, queryParamsErr("Error parsing the X-Amz-Credential parameter; " + strings.TrimPrefix(err.Error(), "sigv4: ") + ".")
	}
	if err := v.checkScope(cred, amzDate, queryParamsErr); err != nil {
		return nil, err
	}
	expires, err := strconv.ParseInt(expiresText, 10, 64)
	switch {
	case err != nil && strings.HasPrefix(expiresText, "-") || err == nil && expires < 0:
		return nil, queryParamsErr("X-Amz-Expires must be non-negative")
	case err != nil || strings.TrimLeft(expiresText, "0123456789") != "":
		return nil, queryParamsErr("X-Amz-Expires should be a number")
	case expires > maxPresignExpires:
		return nil, queryParamsErr("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	signed, err := sigv4.ParseSignedHeaders(signedText)
	if err != nil {
		return nil, queryParamsErr("X-Amz-SignedHeaders is not a list of lower-case header names in ascending order separated by ';'.")
	}

	// 2 to 4.
	payload := sigv4.UnsignedPayload
	if _, ok := slices.BinarySearch(signed, "x-amz-content-sha256"); ok {
		payload = r.Header.Get("X-Amz-Content-Sha256")
	}
	sr := signedRequest{
		credential: cred, amzDate: amzDate, signed: signed, signature: signature,
		token: token, hasToken: seen[6], payload: payload,
		query: slices.DeleteFunc(query, func(p sigv4.Param) bool { return p.Name == paramSignature }),
	}
	if err := v.checkSigned(r, &sr); err != nil {
		return nil, err
	}

	// 5. The clock.
	now := v.now()
	expiresAt := signedAt.Add(time.Duration(expires) * time.Second)
	if now.After(expiresAt) {
		return nil, s3err(CodeAccessDenied, http.StatusForbidden, "Request has expired",
			postpolicy.Field{Name: "X-Amz-Expires", Value: expiresText},
			postpolicy.Field{Name: "Expires", Value: expiresAt.UTC().Format(time.RFC3339)},
			postpolicy.Field{Name: "ServerTime", Value: now.UTC().Format(time.RFC3339)})
	}
	if signedAt.Sub(now) > v.clockSkew() {
		return nil, s3err(CodeAccessDenied, http.StatusForbidden, "Request is not yet valid",
			postpolicy.Field{Name: "X-Amz-Date", Value: amzDate},
			postpolicy.Field{Name: "Expires", Value: expiresAt.UTC().Format(time.RFC3339)},
			postpolicy.Field{Name: "ServerTime", Value: now.UTC().Format(time.RFC3339)})
	}

	u := &Upload{Method: r.Method, Bucket: bucket, Key: key, AccessKeyID: cred.AccessKeyID, Expires: expiresAt}
	if err := v.body(r, u, payload); err != nil {
		return nil, err
	}
	return u, nil
}

// signedRequest is what a request says of its signature, from its query
// or its Authorization header.
type signedRequest struct {
	credential sigv4.Credential
	amzDate    string
	signed     []string
	signature  string
	token      string
	hasToken   bool
	payload    string
	query      []sigv4.Param // without X-Amz-Signature
}

// checkScope checks the credential scope against the signing time and the
// Verifier, answering with fail.
func (v *Verifier) checkScope(cred sigv4.Credential, amzDate string, fail func(string, ...postpolicy.Field) *S3Error) error {
	service := v.service()
	switch {
	case cred.Date != amzDate[:len(sigv4.DateLayout)]:
		return fail("Invalid credential date " + strconv.Quote(cred.Date) + ". This date is not the same as X-Amz-Date: " + strconv.Quote(amzDate[:len(sigv4.DateLayout)]) + ".")
	case cred.Region != v.Region:
		return fail("Error parsing the X-Amz-Credential parameter; the region "+strconv.Quote(cred.Region)+" is wrong; expecting "+strconv.Quote(v.Region),
			postpolicy.Field{Name: "Region", Value: v.Region})
	case cred.Service != service:
		return fail("Error parsing the X-Amz-Credential parameter; incorrect service " + strconv.Quote(cred.Service) + ". This endpoint belongs to " + strconv.Quote(service) + ".")
	}
	return nil
}

// checkSigned makes the checks both forms share: what is signed, the
// credentials, the signature.
func (v *Verifier) checkSigned(r *http.Request, sr *signedRequest) error {
	// What is signed: host, and every x-amz-* header.
	var notSigned []string
	for name := range r.Header {
		lower := strings.ToLower(name)
		if _, ok := slices.BinarySearch(sr.signed, lower); !ok && strings.HasPrefix(lower, "x-amz-") {
			notSigned = append(notSigned, lower)
		}
	}
	slices.Sort(notSigned)
	if _, ok := slices.BinarySearch(sr.signed, "host"); !ok {
		notSigned = slices.Insert(notSigned, 0, "host")
	}
	if len(notSigned) > 0 {
		return s3err(CodeAccessDenied, http.StatusForbidden, "There were headers present in the request which were not signed",
			postpolicy.Field{Name: "HeadersNotSigned", Value: strings.Join(notSigned, ", ")})
	}

	// The secret, and the session token of temporary credentials.
	id := sr.credential.AccessKeyID
	creds, err := v.Lookup(r.Context(), id)
	if errors.Is(err, ErrUnknownAccessKey) {
		return s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: id})
	}
	if err != nil {
		return fmt.Errorf("receiver: looking up access key %q: %w", id, err)
	}
	switch {
	case creds.SessionToken != "" && !sr.hasToken:
		return s3err(CodeInvalidAccessKeyID, http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: id})
	case sr.hasToken && !hmac.Equal([]byte(sr.token), []byte(creds.SessionToken)):
		return s3err(CodeInvalidToken, http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	}

	// The signature.
	req := sigv4.Request{
		Method: r.Method, Path: r.URL.Path, PathMode: sigv4.PathS3, Query: sr.query,
		Header: requestHeaders(r, sr.signed), SignedHeaders: sr.signed, PayloadHash: sr.payload,
	}
	canonical, canonErr := req.AppendCanonical(nil)
	c := sr.credential
	k := sigv4.NewKey(c.AccessKeyID, creds.SecretAccessKey, c.Date, c.Region, c.Service)
	want := k.SignCanonicalRequest(sr.amzDate, canonical)
	if canonErr != nil || !hmac.Equal(want[:], []byte(sr.signature)) {
		stringToSign := sigv4.AppendStringToSign(nil, sr.amzDate, k.Scope(), canonical)
		return s3err(CodeSignatureDoesNotMatch, http.StatusForbidden,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			postpolicy.Field{Name: "AWSAccessKeyId", Value: id}, postpolicy.Field{Name: "StringToSign", Value: string(stringToSign)},
			postpolicy.Field{Name: "SignatureProvided", Value: sr.signature}, postpolicy.Field{Name: "CanonicalRequest", Value: string(canonical)})
	}
	return nil
}

// body checks the body of a PUT or POST and sets u's Fields and File.
func (v *Verifier) body(r *http.Request, u *Upload, payload string) error {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return nil
	}
	u.Fields = storedHeaders(r)
	if r.ContentLength < 0 {
		return s3err(CodeMissingContentLength, http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	}
	if r.Method == http.MethodPut && r.ContentLength > maxFileSize {
		return tooLarge(r.ContentLength, maxFileSize)
	}
	var err error
	if u.sum, err = checkChecksumFields(u.Fields); err != nil {
		return err
	}
	f := &putReader{body: r.Body, size: r.ContentLength, sum: u.sum}
	if u.sum.alg != "" {
		f.hash = u.sum.alg.New()
	}
	if v := r.Header.Values("Content-Md5"); len(v) > 0 {
		md, err := base64.StdEncoding.DecodeString(v[0])
		if len(v) > 1 || err != nil || len(md) != md5.Size {
			return s3err(CodeInvalidDigest, http.StatusBadRequest, "The Content-MD5 you specified was invalid.",
				postpolicy.Field{Name: "Content-MD5", Value: v[0]})
		}
		f.md5, f.wantMD5 = md5.New(), md
	}
	if payload != sigv4.UnsignedPayload {
		want, _ := hex.DecodeString(payload) // checked: 64 lower-case hex digits
		f.sha256, f.wantSHA256 = sha256.New(), want
	}
	u.File = f
	return nil
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// authParams are the authentication parameters of a presigned request.
var authParams = [7]string{paramAlgorithm, paramCredential, paramDate, paramExpires, paramSignedHeaders, paramSignature, paramToken}

func queryParamsErr(msg string, extra ...postpolicy.Field) *S3Error {
	return s3err(CodeAuthorizationQueryParametersError, http.StatusBadRequest, msg, extra...)
}

func (v *Verifier) clockSkew() time.Duration {
	if v.ClockSkew == 0 {
		return 15 * time.Minute
	}
	return v.ClockSkew
}

// CheckKey applies S3's rules for an object key: valid UTF-8
// (InvalidArgument), 1 to 1,024 bytes (InvalidArgument, KeyTooLongError)
// ("Naming Amazon S3 objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
func CheckKey(key string) error {
	switch {
	case key == "":
		return s3err(CodeInvalidArgument, http.StatusBadRequest, "An object key must be at least one byte long.",
			postpolicy.Field{Name: "ArgumentName", Value: "key"})
	case !utf8.ValidString(key):
		return s3err(CodeInvalidArgument, http.StatusBadRequest, "Object keys must be valid UTF-8.",
			postpolicy.Field{Name: "ArgumentName", Value: "key"})
	case len(key) > maxKeyLen:
		return s3err(CodeKeyTooLong, http.StatusBadRequest, "Your key is too long",
			postpolicy.Field{Name: "Size", Value: strconv.Itoa(len(key))}, postpolicy.Field{Name: "MaxSizeAllowed", Value: strconv.Itoa(maxKeyLen)})
	}
	return nil
}

// requestHeaders returns the request's headers named in signed, Host
// first, for the canonical request. net/http keeps Host apart
// (Request.Host) and Content-Length in Request.ContentLength as well as
// in the header map.
func requestHeaders(r *http.Request, signed []string) []sigv4.Header {
	h := make([]sigv4.Header, 0, len(signed))
	h = append(h, sigv4.Header{Name: "host", Value: r.Host})
	for _, name := range signed {
		if name == "host" {
			continue
		}
		for _, v := range r.Header.Values(name) {
			h = append(h, sigv4.Header{Name: name, Value: v})
		}
	}
	return h
}

// storedHeaders are the headers of a PUT that S3 stores with the object
// ("PutObject" request headers,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html), as
// fields: the first value of each, names in canonical form, x-amz-* in
// lower case, sorted by name.
func storedHeaders(r *http.Request) []postpolicy.Field {
	var f []postpolicy.Field
	for name, values := range r.Header {
		switch {
		case postform.HasPrefixFold(name, "x-amz-"):
			f = append(f, postpolicy.Field{Name: strings.ToLower(name), Value: values[0]})
		case slices.Contains(storedEntityHeaders[:], name):
			f = append(f, postpolicy.Field{Name: name, Value: values[0]})
		}
	}
	slices.SortFunc(f, func(a, b postpolicy.Field) int { return strings.Compare(a.Name, b.Name) })
	return f
}

// storedEntityHeaders are the standard headers S3 keeps with an object,
// in net/http's canonical form.
var storedEntityHeaders = [...]string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Type", "Expires"}

// ResponseOverrides returns the headers a presigned GET asks S3 to answer
// with instead of the object's own, from the query parameters
// response-cache-control, response-content-disposition,
// response-content-encoding, response-content-language,
// response-content-type and response-expires ("GetObject", Overriding
// response header values,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), in
// that order, names in canonical form. A server applies them only to
// requests it has verified: S3 refuses them on anonymous requests.
func ResponseOverrides(r *http.Request) []postpolicy.Field {
	query, err := sigv4.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil
	}
	var f []postpolicy.Field
	for _, h := range storedEntityHeaders {
		name := "response-" + strings.ToLower(h)
		for _, p := range query {
			if p.Name == name {
				f = append(f, postpolicy.Field{Name: h, Value: p.Value})
				break
			}
		}
	}
	return f
}

// putReader streams the body of a signed PUT or POST: it ends with
// IncompleteBody when the body is shorter than its Content-Length, and
// checks the body's digests (Content-MD5, x-amz-checksum-*) at its end.
type putReader struct {
	body    io.Reader
	n, size int64
	err     error
	sum     checksum
	hash    hash.Hash // sum.alg's, or nil
	md5     hash.Hash // when Content-MD5 was sent
	wantMD5 []byte
	// sha256 hashes the body when x-amz-content-sha256 gives its hash.
	sha256     hash.Hash
	wantSHA256 []byte
}

func (p *putReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.body.Read(b)
	p.n += int64(n)
	if p.hash != nil {
		p.hash.Write(b[:n])
	}
	if p.md5 != nil {
		p.md5.Write(b[:n])
	}
	if p.sha256 != nil {
		p.sha256.Write(b[:n])
	}
	switch {
	case err == io.EOF && p.n != p.size, errors.Is(err, io.ErrUnexpectedEOF):
		// net/http ends a body shorter than its Content-Length so.
		p.err = s3err(CodeIncompleteBody, http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	case err == io.EOF && p.sha256 != nil && !bytes.Equal(p.sha256.Sum(nil), p.wantSHA256):
		p.err = s3err(CodeXAmzContentSHA256Mismatch, http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	case err == io.EOF && p.md5 != nil && !bytes.Equal(p.md5.Sum(nil), p.wantMD5):
		// Digests are not secret: plain comparisons of the bytes.
		p.err = s3err(CodeBadDigest, http.StatusBadRequest, "The Content-MD5 you specified did not match what we received.")
	case err == io.EOF && p.hash != nil && !bytes.Equal(p.hash.Sum(nil), p.sum.digest):
		p.err = badDigest(p.sum.alg)
	case err == io.EOF:
		p.err = io.EOF
	case err != nil:
		p.err = incompleteBody(err)
	}
	return n, p.err
}
