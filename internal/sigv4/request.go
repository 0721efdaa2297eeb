package sigv4

// The canonical request of header- and query-signed requests, the string
// to sign over it, and the Authorization header value, as the IAM User
// Guide's "Create a signed AWS API request" specifies them:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html
// with Amazon S3's rules from "Signature Calculations for the Authorization
// Header" and "Authenticating Requests: Using Query Parameters":
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UnsignedPayload is the hashed-payload line of a request whose body is
// not signed: what an S3 presigned URL signs ("Authenticating Requests:
// Using Query Parameters").
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// EmptyPayloadHash is the lower-case hex SHA-256 of an empty body, the
// hashed payload of a GET.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// HashPayload returns the lower-case hex SHA-256 of body, the last line of
// a canonical request that signs its body and the value of S3's
// x-amz-content-sha256 header.
func HashPayload(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

const upperHex = "0123456789ABCDEF"

// unreserved marks RFC 3986's unreserved characters (section 2.3), the
// bytes UriEncode leaves as they are.
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

// AppendURIEncode appends s URI-encoded as Signature Version 4 specifies
// ("UriEncode" in the S3 API Reference's "Signature Calculations for the
// Authorization Header"): every byte other than the RFC 3986 unreserved
// characters A-Z a-z 0-9 '-' '.' '_' '~' is written as %XY with upper-case
// hex, a space as %20 (never '+'). A '/' is kept as it is only when
// keepSlash is set, as for the path of an object key; in a query name or
// value it is %2F. s is taken byte by byte: a multi-byte UTF-8 character
// becomes one %XY per byte, and bytes that are not valid UTF-8 are encoded
// all the same.
func AppendURIEncode(dst []byte, s string, keepSlash bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] || c == '/' && keepSlash {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// A PathMode says how a Request's Path becomes the canonical URI, the
// second line of the canonical request.
type PathMode uint8

const (
	// PathS3 is Amazon S3's rule ("Signature Calculations for the
	// Authorization Header", CanonicalURI): Path is the decoded object
	// path, "/" + key for a virtual-hosted request or "/" + bucket + "/" +
	// key for a path-style one, and it is URI-encoded once with '/' kept.
	// Nothing is normalized: empty segments ("//"), "." and ".." stay as
	// they are, because object keys may contain them. The canonical URI is
	// then also the escaped path to put in the request's URL.
	PathS3 PathMode = iota

	// PathNormalized is the rule of the other services, the one the AWS
	// Signature Version 4 Test Suite's canonical requests show
	// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
	// Path is the path as sent, already percent-encoded (what
	// url.URL.EscapedPath returns); its "." and ".." segments are removed
	// as RFC 3986 section 5.2.4 removes dot segments, empty segments are
	// dropped, and the result is URI-encoded once more with '/' kept, so
	// a "%20" in the path becomes "%2520" (double encoding). Percent-encoded
	// dots ("%2E") are not dot segments.
	PathNormalized
)

// appendCanonicalURI appends the canonical URI of path under mode. A path
// that does not begin with '/' is taken as if it did; an empty path is "/".
func appendCanonicalURI(dst []byte, path string, mode PathMode) []byte {
	if mode == PathS3 {
		if path == "" || path[0] != '/' {
			dst = append(dst, '/')
		}
		return AppendURIEncode(dst, path, true)
	}
	// Each kept segment is written as '/' + its encoding, which has no
	// '/', so ".." can drop the last segment by cutting at the last '/'.
	out := len(dst)
	endSlash := false // the last segment was empty, "." or ".."
	rest := path
	for {
		seg, after, more := strings.Cut(rest, "/")
		switch seg {
		case "", ".":
			endSlash = true
		case "..":
			if k := bytes.LastIndexByte(dst[out:], '/'); k >= 0 {
				dst = dst[:out+k]
			}
			endSlash = true
		default:
			dst = append(dst, '/')
			dst = AppendURIEncode(dst, seg, false)
			endSlash = false
		}
		if !more {
			break
		}
		rest = after
	}
	if len(dst) == out || endSlash {
		dst = append(dst, '/')
	}
	return dst
}

// A Param is one query parameter, its name and value decoded (the value
// of "?a%20b=c" is Param{"a b", "c"}); a parameter written without '='
// has the empty value.
type Param struct {
	Name, Value string
}

// AppendCanonicalQuery appends the canonical query string of params: each
// name and value URI-encoded (AppendURIEncode, '/' encoded), the pairs
// sorted by encoded name and then by encoded value, written name=value
// (name= for an empty value) and joined by '&'. Nothing is appended for no
// parameters. The result is also a valid query for a URL, which is how a
// presigned URL carries its parameters; X-Amz-Signature is appended after
// it and is not part of it.
func AppendCanonicalQuery(dst []byte, params []Param) []byte {
	if len(params) == 0 {
		return dst
	}
	// Encode every pair once into scratch, then sort the pairs' spans. The
	// arrays hold a presigned URL's parameters without a heap allocation.
	type span struct{ name, eq, end int } // name = buf[name:eq], value = buf[eq:end]
	var bufArray [512]byte
	var spanArray [16]span
	buf, spans := bufArray[:0], spanArray[:0]
	for _, p := range params {
		s := len(buf)
		buf = AppendURIEncode(buf, p.Name, false)
		e := len(buf)
		buf = AppendURIEncode(buf, p.Value, false)
		spans = append(spans, span{s, e, len(buf)})
	}
	slices.SortFunc(spans, func(a, b span) int {
		if c := bytes.Compare(buf[a.name:a.eq], buf[b.name:b.eq]); c != 0 {
			return c
		}
		return bytes.Compare(buf[a.eq:a.end], buf[b.eq:b.end])
	})
	for i, s := range spans {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, buf[s.name:s.eq]...)
		dst = append(dst, '=')
		dst = append(dst, buf[s.eq:s.end]...)
	}
	return dst
}

// A Header is one header field as received or to be sent. A header
// repeated in a request is one Header per occurrence, in the order
// received; their values are joined with ',' in that order.
type Header struct {
	Name, Value string
}

// A Request holds what a canonical request is made of ("Create a canonical
// request" in the IAM User Guide's SigV4 page). A signer fills it with the
// request it is about to send, a verifier with the request it received and
// the signed-header list the request names. It is read, never changed.
type Request struct {
	// Method is the HTTP method, as sent: "GET", "PUT".
	Method string

	// Path is the path of the request, decoded or as sent depending on
	// PathMode; see PathS3 and PathNormalized.
	Path     string
	PathMode PathMode

	// Query is the request's query parameters, decoded (ParseQuery
	// decodes a raw query). A verifier of a presigned URL leaves out
	// X-Amz-Signature, which is not signed.
	Query []Param

	// Header is the request's header fields, Host included (net/http
	// keeps it apart in Request.Host). Names may be in any case.
	Header []Header

	// SignedHeaders is the list of signed header names: lower case,
	// ascending, without repeats, as the signed-headers line lists them
	// (ParseSignedHeaders gives it from a received line). Every name must
	// have at least one Header; headers not named are not signed. An
	// empty list signs every header in Header. AWS requires host among
	// them; requiring it is the verifier's policy, not checked here.
	SignedHeaders []string

	// PayloadHash is the last line of the canonical request: HashPayload
	// of the body, or a literal such as UnsignedPayload.
	PayloadHash string
}

// AppendCanonical appends r's canonical request: the method, canonical
// URI, canonical query string, canonical headers, signed-headers line and
// hashed payload, joined by "\n" ("Create a canonical request" in the IAM
// User Guide). Each signed header contributes "name:value\n" with the name
// lower-cased and its values joined by ',' in the order received, each
// value trimmed of surrounding spaces and tabs and with runs of spaces
// inside collapsed to one. A header value holding a control character
// other than tab (a line break could forge lines) is refused, as are a
// method or header name that is not an HTTP token, a malformed SignedHeaders
// list, a signed header the request lacks, and a payload hash with bytes
// other than letters, digits and '-'. On error dst is returned unchanged.
// Errors name the field at fault, never a header value.
func (r *Request) AppendCanonical(dst []byte) ([]byte, error) {
	out, _, err := r.appendCanonical(dst, nil)
	return out, err
}

// canonicalSpans locates the canonical URI and the canonical query string
// in a canonical request: they are creq[uri:query-1] and
// creq[query:headers-1], each followed by its '\n'.
type canonicalSpans struct{ uri, query, headers int }

// appendCanonical does the work of AppendCanonical, with the parameters of
// auth added to r.Query when auth is not nil, and says where the canonical
// URI and query are in what it appended.
func (r *Request) appendCanonical(dst []byte, auth *queryAuthText) ([]byte, canonicalSpans, error) {
	orig := len(dst)
	if !isToken(r.Method) {
		// Quoted by strconv, as %q would: handing a field of r itself to
		// fmt would move everything r points to to the heap, the arrays
		// of headers a caller keeps on its stack included.
		return dst, canonicalSpans{}, errors.New("sigv4: method " + strconv.Quote(r.Method) + " is not an HTTP token")
	}
	if r.PathMode > PathNormalized {
		return dst, canonicalSpans{}, fmt.Errorf("sigv4: unknown path mode %d", r.PathMode)
	}
	if err := checkPayloadHash(r.PayloadHash); err != nil {
		return dst, canonicalSpans{}, err
	}
	names, err := r.signedNames()
	if err != nil {
		return dst, canonicalSpans{}, err
	}
	var sp canonicalSpans
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	sp.uri = len(dst)
	dst = appendCanonicalURI(dst, r.Path, r.PathMode)
	dst = append(dst, '\n')
	sp.query = len(dst)
	if auth != nil {
		dst = auth.appendCanonicalQuery(dst, r.Query, names)
	} else {
		dst = AppendCanonicalQuery(dst, r.Query)
	}
	dst = append(dst, '\n')
	sp.headers = len(dst)
	for _, name := range names {
		dst = append(dst, name...)
		dst = append(dst, ':')
		found := false
		for _, h := range r.Header {
			if !equalFoldASCII(h.Name, name) {
				continue
			}
			if found {
				dst = append(dst, ',')
			}
			found = true
			var ok bool
			if dst, ok = appendHeaderValue(dst, h.Value); !ok {
				return dst[:orig], canonicalSpans{}, fmt.Errorf("sigv4: the value of header %q has a control character", name)
			}
		}
		if !found {
			return dst[:orig], canonicalSpans{}, fmt.Errorf("sigv4: signed header %q is not in the request", name)
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = appendSignedHeaders(dst, names)
	dst = append(dst, '\n')
	return append(dst, r.PayloadHash...), sp, nil
}

// AppendSignedHeaders appends r's signed-headers line, the names joined by
// ';': the value of X-Amz-SignedHeaders in a presigned URL and of
// SignedHeaders in an Authorization header. It fails as AppendCanonical
// does for a malformed SignedHeaders list or a header name that is not a
// token.
func (r *Request) AppendSignedHeaders(dst []byte) ([]byte, error) {
	names, err := r.signedNames()
	if err != nil {
		return dst, err
	}
	return appendSignedHeaders(dst, names), nil
}

func appendSignedHeaders(dst []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, n...)
	}
	return dst
}

// signedNames returns r.SignedHeaders once checked or, for an empty list,
// the lower-cased names of r.Header, sorted, without repeats.
func (r *Request) signedNames() ([]string, error) {
	if len(r.SignedHeaders) > 0 {
		if err := checkSignedHeaders(r.SignedHeaders); err != nil {
			return nil, err
		}
		return r.SignedHeaders, nil
	}
	if len(r.Header) == 0 {
		return nil, errors.New("sigv4: the request has no header to sign")
	}
	names := make([]string, len(r.Header))
	for i, h := range r.Header {
		if !isToken(h.Name) {
			return nil, fmt.Errorf("sigv4: header name %q is not an HTTP token", h.Name)
		}
		names[i] = strings.ToLower(h.Name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// checkSignedHeaders reports whether names is a well-formed signed-header
// list: lower-case tokens in strictly ascending order.
func checkSignedHeaders(names []string) error {
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("sigv4: signed header %d of %d is empty", i+1, len(names))
		}
		if !isLowerToken(n) {
			return fmt.Errorf("sigv4: signed header %q is not a lower-case HTTP token", n)
		}
		if i > 0 && names[i-1] >= n {
			return fmt.Errorf("sigv4: signed headers are not in ascending order without repeats at %q", n)
		}
	}
	return nil
}

// appendHeaderValue appends v trimmed of spaces and tabs at both ends and
// with runs of spaces collapsed to one ("Trimall" in the SigV4 pages). It
// reports false for a control character other than tab.
func appendHeaderValue(dst []byte, v string) ([]byte, bool) {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	// v is appended in pieces: up to each space that follows a space,
	// which is left out. Most values are one piece.
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case ' ' < c && c != 0x7f: // most bytes
		case c == ' ':
			if i > 0 && v[i-1] == ' ' {
				dst = append(dst, v[start:i]...)
				start = i + 1
			}
		case c != '\t':
			return dst, false
		}
	}
	return append(dst, v[start:]...), true
}

func checkPayloadHash(h string) error {
	if h == "" {
		return errors.New("sigv4: the payload hash is empty")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return errors.New("sigv4: the payload hash has a byte other than a letter, a digit or '-'")
		}
	}
	return nil
}

// token marks the characters of an HTTP token (RFC 9110, section 5.6.2),
// the syntax of methods and header names.
var token = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = unreserved[c]
	}
	for _, c := range []byte("!#$%&'*+^`|") {
		t[c] = true
	}
	return t
}()

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !token[s[i]] {
			return false
		}
	}
	return true
}

// isLowerToken reports whether s is an HTTP token without upper-case
// letters, as a signed header's name must be.
func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !token[c] || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return s != ""
}

// equalFoldASCII reports whether a and b are equal up to ASCII case.
// Unlike strings.EqualFold it folds no other characters (EqualFold takes
// the Kelvin sign for 'k').
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// AppendStringToSign appends the string to sign of a canonical request
// ("Create a string to sign" in the IAM User Guide):
//
//	AWS4-HMAC-SHA256
//	<amzDate>
//	<scope>
//	<lower-case hex SHA-256 of canonicalRequest>
//
// amzDate is the request's x-amz-date (20130524T000000Z) and scope its
// credential scope (Scope, Key.Scope).
func AppendStringToSign(dst []byte, amzDate, scope string, canonicalRequest []byte) []byte {
	dst = append(dst, Algorithm...)
	dst = append(dst, '\n')
	dst = append(dst, amzDate...)
	dst = append(dst, '\n')
	dst = append(dst, scope...)
	dst = append(dst, '\n')
	sum := sha256.Sum256(canonicalRequest)
	return hex.AppendEncode(dst, sum[:])
}

// SignCanonicalRequest returns the signature, lower-case hex, of a
// canonical request made at amzDate: the HMAC-SHA256 under k of the string
// to sign (AppendStringToSign with k's scope). It checks nothing; see
// Request.Sign. Once k has signed, it allocates nothing: the MAC and the
// room for the string to sign come from k's pool (signScratch).
func (k *Key) SignCanonicalRequest(amzDate string, canonicalRequest []byte) [2 * sha256.Size]byte {
	sc, _ := k.scratch.Get().(*signScratch)
	if sc == nil {
		sc = &signScratch{mac: k.MAC(), sts: make([]byte, 0, 256)}
	}
	sc.sts = AppendStringToSign(sc.sts[:0], amzDate, k.Scope(), canonicalRequest)
	sc.mac.Write(sc.sts)
	sig := sc.mac.HexSum(sc.sum[:])
	sc.mac.reset()
	k.scratch.Put(sc)
	return sig
}

// signScratch is what SignCanonicalRequest needs besides the canonical
// request: a MAC under the key, with nothing written between signatures,
// and room for the string to sign and the binary MAC. Both buffers go
// through the hash.Hash interface, so they would be on the heap anyway; a
// Key keeps its scratch in a pool rather than clone its MAC (three
// allocations) and allocate both buffers for every signature. It holds
// the key's MAC state and is as secret as the Key.
type signScratch struct {
	mac MAC
	sts []byte
	sum [sha256.Size]byte
}

// Sign returns the signature of r made at amzDate under k: the canonical
// request (AppendCanonical), its string to sign, and the HMAC-SHA256 of
// that under the key. amzDate must have x-amz-date's form (TimeLayout) and
// fall on the key's date, as AWS requires of the credential scope. A
// verifier computes the signature the same way and compares it with the
// received one using crypto/hmac.Equal.
func (r *Request) Sign(k *Key, amzDate string) ([2 * sha256.Size]byte, error) {
	if _, err := time.Parse(TimeLayout, amzDate); err != nil || len(amzDate) != len(TimeLayout) {
		return [2 * sha256.Size]byte{}, fmt.Errorf("sigv4: x-amz-date %q is not of the form %s", amzDate, TimeLayout)
	}
	if amzDate[:len(DateLayout)] != k.Date {
		return [2 * sha256.Size]byte{}, fmt.Errorf("sigv4: x-amz-date %s is not on the credential date %s", amzDate, k.Date)
	}
	var buf [1024]byte
	creq, err := r.AppendCanonical(buf[:0])
	if err != nil {
		return [2 * sha256.Size]byte{}, err
	}
	return k.SignCanonicalRequest(amzDate, creq), nil
}

// AppendAuthorization appends the value of an Authorization header
// ("Add the signature to the request" in the IAM User Guide):
//
//	AWS4-HMAC-SHA256 Credential=<credential>, SignedHeaders=<signedHeaders>, Signature=<signature>
//
// credential is access key ID + "/" + scope (Key.Credential),
// signedHeaders the signed-headers line (Request.AppendSignedHeaders) and
// signature the hex signature (Request.Sign).
func AppendAuthorization(dst []byte, credential, signedHeaders string, signature []byte) []byte {
	dst = append(dst, Algorithm...)
	dst = append(dst, " Credential="...)
	dst = append(dst, credential...)
	dst = append(dst, ", SignedHeaders="...)
	dst = append(dst, signedHeaders...)
	dst = append(dst, ", Signature="...)
	return append(dst, signature...)
}

// A Credential is the parsed value of X-Amz-Credential or of an
// Authorization header's Credential: access key ID, date, region and
// service, the scope a signing key is derived for.
type Credential struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
}

// String returns c as X-Amz-Credential writes it:
// AccessKeyID/Date/Region/Service/aws4_request.
func (c Credential) String() string {
	return c.AccessKeyID + "/" + Scope(c.Date, c.Region, c.Service)
}

// ParseCredential parses X-Amz-Credential's
// AccessKeyID/YYYYMMDD/region/service/aws4_request ("Authenticating
// Requests: Using Query Parameters"). Every part must be non-empty printable
// ASCII without spaces, the date eight digits and the last part
// aws4_request. Errors do not repeat the access key ID.
func ParseCredential(s string) (Credential, error) {
	var parts [5]string
	rest := s
	for i := range parts {
		var more bool
		parts[i], rest, more = strings.Cut(rest, "/")
		if more != (i < len(parts)-1) {
			return Credential{}, fmt.Errorf("sigv4: credential has %d parts separated by '/', want 5 (access key ID/date/region/service/%s)", strings.Count(s, "/")+1, Terminator)
		}
	}
	names := [...]string{"access key ID", "date", "region", "service", "terminator"}
	for i, p := range parts {
		if p == "" {
			return Credential{}, fmt.Errorf("sigv4: credential %s is empty", names[i])
		}
		for j := 0; j < len(p); j++ {
			if p[j] <= ' ' || p[j] >= 0x7f {
				return Credential{}, fmt.Errorf("sigv4: credential %s has a byte that is not printable ASCII", names[i])
			}
		}
	}
	c := Credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	if len(c.Date) != len(DateLayout) || strings.ContainsFunc(c.Date, func(r rune) bool { return r < '0' || r > '9' }) {
		return Credential{}, fmt.Errorf("sigv4: credential date %q is not YYYYMMDD", c.Date)
	}
	if parts[4] != Terminator {
		return Credential{}, fmt.Errorf("sigv4: credential ends in %q, want %s", parts[4], Terminator)
	}
	return c, nil
}

// ParseSignedHeaders parses a signed-headers line, the value of
// X-Amz-SignedHeaders or of an Authorization header's SignedHeaders: names
// joined by ';', each a lower-case HTTP token, in strictly ascending order
// as a signer writes them. The result is in the form Request.SignedHeaders
// takes.
func ParseSignedHeaders(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("sigv4: the signed-headers list is empty")
	}
	names := strings.Split(s, ";")
	if err := checkSignedHeaders(names); err != nil {
		return nil, err
	}
	return names, nil
}

// An Authorization is the parsed value of an Authorization header signed
// with AWS4-HMAC-SHA256.
type Authorization struct {
	Credential    Credential
	SignedHeaders []string
	Signature     string // 64 lower-case hex digits
}

// ParseAuthorization parses an Authorization header value of the form
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
// ("Authenticating Requests: Using the Authorization Header" in the S3 API
// Reference). The three components may come in any order, separated by ','
// with optional spaces around each (AWS's examples write both ", " and
// ","); each must appear exactly once and no other is allowed. The
// credential is parsed by ParseCredential, the list by ParseSignedHeaders,
// and the signature must be 64 lower-case hex digits.
func ParseAuthorization(v string) (Authorization, error) {
	rest, ok := strings.CutPrefix(v, Algorithm)
	if !ok {
		return Authorization{}, errors.New("sigv4: authorization does not begin with " + Algorithm)
	}
	trimmed := strings.TrimLeft(rest, " ")
	if len(trimmed) == len(rest) {
		return Authorization{}, errors.New("sigv4: authorization has no space after " + Algorithm)
	}
	rest = trimmed
	var (
		a                   Authorization
		cred, signed, sig   string
		seenC, seenH, seenS bool
		err                 error
	)
	for i, part := range strings.Split(rest, ",") {
		key, val, ok := strings.Cut(strings.Trim(part, " "), "=")
		if !ok {
			return Authorization{}, fmt.Errorf("sigv4: authorization component %d has no '='", i+1)
		}
		var seen *bool
		switch key {
		case "Credential":
			seen, cred = &seenC, val
		case "SignedHeaders":
			seen, signed = &seenH, val
		case "Signature":
			seen, sig = &seenS, val
		default:
			return Authorization{}, fmt.Errorf("sigv4: authorization component %d is not Credential, SignedHeaders or Signature", i+1)
		}
		if *seen {
			return Authorization{}, fmt.Errorf("sigv4: authorization repeats %s", key)
		}
		*seen = true
	}
	switch {
	case !seenC:
		return Authorization{}, errors.New("sigv4: authorization lacks Credential")
	case !seenH:
		return Authorization{}, errors.New("sigv4: authorization lacks SignedHeaders")
	case !seenS:
		return Authorization{}, errors.New("sigv4: authorization lacks Signature")
	}
	if a.Credential, err = ParseCredential(cred); err != nil {
		return Authorization{}, err
	}
	if a.SignedHeaders, err = ParseSignedHeaders(signed); err != nil {
		return Authorization{}, err
	}
	if !isLowerHex(sig, 2*sha256.Size) {
		return Authorization{}, errors.New("sigv4: authorization signature is not 64 lower-case hex digits")
	}
	a.Signature = sig
	return a, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ParseQuery decodes a raw query string (the part of a request target
// after '?') into parameters in the order given: pieces separated by '&',
// each split at its first '=' into name and value (no '=' means an empty
// value), each percent-decoded (RFC 3986, section 2.1; hex digits in
// either case). Empty pieces, as in "a=1&&b=2", are skipped. Unlike
// url.ParseQuery a '+' stays '+': RFC 3986 gives it no meaning of space,
// and SigV4 signers encode a space as %20. A '%' not followed by two hex
// digits is an error naming its byte offset.
func ParseQuery(raw string) ([]Param, error) {
	if raw == "" {
		return nil, nil
	}
	params := make([]Param, 0, strings.Count(raw, "&")+1)
	off := 0
	for piece := range strings.SplitSeq(raw, "&") {
		if piece != "" {
			name, value, _ := strings.Cut(piece, "=")
			n, err := unescape(name, off)
			if err != nil {
				return nil, err
			}
			v, err := unescape(value, off+len(name)+1)
			if err != nil {
				return nil, err
			}
			params = append(params, Param{n, v})
		}
		off += len(piece) + 1
	}
	if len(params) == 0 {
		return nil, nil
	}
	return params, nil
}

// unescape percent-decodes s, which starts at byte off of the query.
func unescape(s string, off int) (string, error) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", fmt.Errorf("sigv4: query has an invalid percent-encoding at byte %d", off+i)
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return string(b), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
