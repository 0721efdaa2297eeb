package postpolicy

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file holds presigned URLs: S3 requests signed in their query
// string ("Authenticating Requests: Using Query Parameters (AWS Signature
// Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
// A presigned PUT uploads one object with one request, where POST Object
// is not available (Cloudflare R2 and Backblaze B2 do not implement it) or
// a client signs only URLs (Uppy's AwsS3 plugin from v6); a presigned GET
// downloads one object.

// Presigned is a request signed in its URL: the method, the URL, and the
// headers the request must carry with exactly these values, which the
// signature covers (besides Host, which the URL gives).
type Presigned struct {
	// Method is "PUT" or "GET".
	Method string
	// URL holds the signature in its query (X-Amz-Signature, last).
	URL string
	// Header are the signed headers other than Host, with their canonical
	// names (Content-Type, x-amz-meta-uploader), in the order of the
	// policy's conditions. The client must send each with this value; S3
	// answers SignatureDoesNotMatch otherwise.
	Header []Field
	// Expiration is when the URL expires: the signing time plus
	// X-Amz-Expires.
	Expiration time.Time
	// Warnings are the warnings of the policy's lint.
	Warnings []Problem
}

// MarshalJSON returns the request in the shape browser code can use as is
// (the answer of Uppy's AwsS3 signRequest, from v6: url and headers; fetch
// and XHR send the headers):
//
//	{"method":"PUT","url":"https://…","headers":{"Content-Type":"image/png",…}}
//
// The headers are those of Header but Content-Length, which a page may not
// set (the Fetch standard's forbidden request headers; Uppy's docs ask
// signers to leave it out): the browser sends the body's own length, which
// the signature requires to be the signed one. X-Amz-SignedHeaders in the
// URL still names it.
func (p *Presigned) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(p.URL))
	b = append(b, `{"method":`...)
	b = appendJSONString(b, p.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, p.URL)
	b = append(b, `,"headers":{`...)
	comma := false
	for _, h := range p.Header {
		if strings.EqualFold(h.Name, "Content-Length") {
			continue
		}
		b = appendFieldsJSON(b, []Field{h}, comma)
		comma = true
	}
	return append(b, "}}"...), nil
}

// PresignPut returns a presigned PUT of one object under p: the URL of the
// key p's exact key condition names in the bucket of its Bucket condition,
// and the headers its exact-match conditions pin, signed (SigV4 query
// authentication, with UNSIGNED-PAYLOAD): Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Expires, the canned ACL
// (x-amz-acl), user metadata (x-amz-meta-*), tagging (x-amz-tagging, as
// S3's PUT header writes it: key=value pairs, URL-encoded), storage class,
// server-side encryption, website redirect, the checksum digest
// (x-amz-checksum-<alg>; its algorithm follows from the header's name),
// and Content-Length for ContentLengthRange(n, n). The URL expires at p's
// Expiration, at most 7 days after the signing time.
//
// PresignPut runs the same lint as [Signer.Sign], for a PUT: a condition a
// PUT cannot express is an error ([RulePresignedPut]) rather than dropped:
// starts-with (a PUT names one key, one content type), a size range, the
// fields of POST forms. Errors match [ErrInvalidPolicy], [ErrSignerConfig]
// or [ErrInvalidCredentials], as Sign's.
func (s *Signer) PresignPut(ctx context.Context, p Policy) (*Presigned, error) {
	return s.presign(ctx, "PUT", p, nil)
}

// GetOptions are the response-* query parameters of a presigned GET, with
// which S3 overrides the headers of its answer ("GetObject", Overriding
// response header values: response-content-type,
// response-content-disposition).
type GetOptions struct {
	// ResponseContentType, when set, is the answer's Content-Type.
	ResponseContentType string
	// ResponseContentDisposition, when set, is the answer's
	// Content-Disposition, for example `attachment; filename="a.png"`.
	ResponseContentDisposition string
}

// PresignGet returns a presigned GET of the object key in bucket, valid
// until expiration (at most 7 days after the signing time), with the
// response overrides of opts (nil for none). Its errors are those of
// [Signer.PresignPut] for the bucket, the key and the expiration.
func (s *Signer) PresignGet(ctx context.Context, bucket, key string, expiration time.Time, opts *GetOptions) (*Presigned, error) {
	var queryArray [2]sigv4.Param
	query := queryArray[:0]
	if opts != nil {
		if opts.ResponseContentDisposition != "" {
			query = append(query, sigv4.Param{Name: "response-content-disposition", Value: opts.ResponseContentDisposition})
		}
		if opts.ResponseContentType != "" {
			query = append(query, sigv4.Param{Name: "response-content-type", Value: opts.ResponseContentType})
		}
	}
	conds := [...]Condition{Bucket(bucket), Eq("key", key)}
	return s.presign(ctx, "GET", Policy{Expiration: expiration, Conditions: conds[:]}, query)
}

// presignedAlloc holds a Presigned and room for the headers of a typical
// presigned PUT, so that both come in one allocation.
type presignedAlloc struct {
	p      Presigned
	header [4]Field
}

// presign signs a request of method for the object of p, with the extra
// query parameters query.
//
// Besides the result, it allocates one string for the object's path and
// Content-Length's value and one for the URL; the lint allocates only for
// the problems it finds, and the signature nothing once the day's key has
// signed (sigv4.Key.SignCanonicalRequest). The canonical request is
// written in pooled scratch space, and the URL copies its path and query
// from it (sigv4.Request.Presign), so that both are encoded once.
func (s *Signer) presign(ctx context.Context, method string, p Policy, query []sigv4.Param) (*Presigned, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return nil, err
	}
	creds, t, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	l := linter{put: true}
	l.policy(p.Expiration, p.Conditions, t)
	if l.hasErrors() {
		return nil, joinProblems(l.problems)
	}
	var sg signing
	if err := s.keyFor(creds, t, &sg); err != nil {
		return nil, err
	}

	bucket := bucketOf(p.Conditions)
	origin, host, base, ok := s.bucketLocation(cfg, bucket)
	if !ok {
		return nil, fmt.Errorf("%w: the URL of bucket %s under Endpoint is not a valid URL", ErrSignerConfig, bucket)
	}
	size := int64(-1)
	if method == "PUT" {
		size = contentLength(p.Conditions)
	}
	path, length := objectPath(base, keyOf(p.Conditions), size)
	var res *Presigned
	var headers []Field
	if method == "PUT" {
		a := new(presignedAlloc)
		res, headers = &a.p, putHeaders(a.header[:0], p.Conditions, length)
	} else {
		res = new(Presigned)
	}

	// The signed headers: Host and the policy's, and their lower-case
	// names in ascending order, the signed-headers line. The arrays hold
	// those of a typical PUT on the stack.
	var headerArray [8]sigv4.Header
	var nameArray [8]string
	signed := append(headerArray[:0], sigv4.Header{Name: "host", Value: host})
	names := append(nameArray[:0], "host")
	for _, h := range headers {
		signed = append(signed, sigv4.Header{Name: h.Name, Value: h.Value})
		names = insertSorted(names, lowerHeaderName(h.Name))
	}

	// X-Amz-Date is to the second: the URL lives whole seconds from it,
	// never past p's expiration (the lint checked there is one).
	since := t.Truncate(time.Second)
	expires := min(int64(p.Expiration.Sub(since)/time.Second), sigv4.MaxExpires)
	req := sigv4.Request{
		Method: method, Path: path, PathMode: sigv4.PathS3, Query: query,
		Header: signed, SignedHeaders: names, PayloadHash: sigv4.UnsignedPayload,
	}
	// The canonical request is written in the scratch space of POST
	// signatures, which the URL copies its path and query from.
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	signature, err := req.Presign(bufs.json[:0], &sigv4.QueryAuth{Key: sg.key.key, Time: t, Expires: expires, SecurityToken: creds.SessionToken})
	if err != nil {
		// The lint and checkConfig keep names and values fit to sign;
		// this would be a bug, said without any value.
		return nil, err
	}
	bufs.json = signature.Canonical[:0] // keeps the room it grew to

	// The URL, in one allocation of its exact size: the canonical URI is
	// the escaped path (PathS3), the canonical query the URL's query.
	const sigParam = "&X-Amz-Signature="
	var u strings.Builder
	u.Grow(len(origin) + len(signature.URI) + 1 + len(signature.Query) + len(sigParam) + len(signature.Signature))
	u.WriteString(origin)
	u.Write(signature.URI)
	u.WriteByte('?')
	u.Write(signature.Query)
	u.WriteString(sigParam)
	u.Write(signature.Signature[:])

	*res = Presigned{
		Method: method, URL: u.String(), Header: headers,
		Expiration: since.Add(time.Duration(expires) * time.Second),
		Warnings:   l.problems,
	}
	return res, nil
}

// keyOf returns the value of the first exact-match key condition.
func keyOf(conds []Condition) string {
	for i := range conds {
		if c := &conds[i]; c.op == OpEq && strings.EqualFold(c.field, "key") {
			return c.value
		}
	}
	return ""
}

// contentLength returns the size of the first content-length-range
// condition, which the lint accepted for a PUT only as one exact size:
// the value of Content-Length. It is -1 when there is none.
func contentLength(conds []Condition) int64 {
	for i := range conds {
		if c := &conds[i]; c.op == OpContentLengthRange {
			return c.max
		}
	}
	return -1
}

// putHeaders appends to h the headers a PUT signs for conds, the lint
// having accepted them: one per field of their exact matches, with the
// header's canonical name, in condition order; Content-Length has the
// value length (contentLength's, in decimal). It returns nil for none.
func putHeaders(h []Field, conds []Condition, length string) []Field {
	add := func(name, value string) {
		if _, ok := Fields(h).Get(name); !ok {
			h = append(h, Field{name, value})
		}
	}
	for i := range conds {
		c := &conds[i]
		switch {
		case c.op == OpContentLengthRange:
			add("Content-Length", length)
		case c.op != OpEq:
		case strings.EqualFold(c.field, "bucket"), strings.EqualFold(c.field, "key"),
			strings.EqualFold(c.field, "x-amz-checksum-algorithm"): // implied by the digest's header
		case strings.EqualFold(c.field, "acl"):
			add("x-amz-acl", c.value)
		case strings.EqualFold(c.field, "tagging"):
			add("x-amz-tagging", taggingHeader(c.value))
		default:
			add(headerName(c.field), c.value)
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// insertSorted returns names, in ascending order, with name added in its
// place. A PUT signs a handful of headers, for which inserting each beats
// sorting them all.
func insertSorted(names []string, name string) []string {
	i := len(names)
	names = append(names, name)
	for ; i > 0 && names[i-1] > name; i-- {
		names[i] = names[i-1]
	}
	names[i] = name
	return names
}

// standardHeaders are the headers HTTP writes in mixed case, as it writes
// them and in lower case, as they are signed. Every other header a PUT
// signs has its name in lower case already (headerName).
var standardHeaders = [...]struct{ name, lower string }{
	{"Content-Type", "content-type"},
	{"Cache-Control", "cache-control"},
	{"Content-Disposition", "content-disposition"},
	{"Content-Encoding", "content-encoding"},
	{"Expires", "expires"},
	{"Content-Length", "content-length"},
}

// headerName returns the canonical form of a field's name as a header:
// the standard headers as HTTP writes them, x-amz-* in lower case. A
// content-length field keeps the lower case: only the size range's
// header is Content-Length.
func headerName(field string) string {
	for _, h := range standardHeaders[:len(standardHeaders)-1] {
		if strings.EqualFold(field, h.name) {
			return h.name
		}
	}
	return strings.ToLower(field)
}

// lowerHeaderName returns a header name in lower case, the form a
// signature names it in, without allocating for the names putHeaders
// gives: those in lower case already, and the standard headers.
func lowerHeaderName(name string) string {
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			for _, h := range standardHeaders {
				if name == h.name {
					return h.lower
				}
			}
			return strings.ToLower(name)
		}
	}
	return name
}

// taggingHeader turns the tagging form field's XML (Tagging writes it) into
// the x-amz-tagging header's form: key=value pairs, URL-encoded and joined
// by '&' ("PutObject", x-amz-tagging). A value that is not such XML is
// passed on as it is.
func taggingHeader(v string) string {
	var t struct {
		Tags []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal([]byte(v), &t); err != nil {
		return v
	}
	q := make([]string, len(t.Tags))
	for i, tag := range t.Tags {
		q[i] = url.QueryEscape(tag.Key) + "=" + url.QueryEscape(tag.Value)
	}
	return strings.Join(q, "&")
}

// bucketLocation returns where the objects of bucket are under cfg: the
// origin of their URLs (scheme://host), the host, and the decoded path of
// the bucket's URL without its final '/', which the object's path
// continues with "/" + key (objectPath). Virtual-hosted style puts the
// bucket in the host, path style in the path, as the form URLs do
// (URLStyle). It reads the form URL the Signer keeps for bucket: when its
// host and path hold nothing url.Parse would change, it takes them as they
// are written; otherwise it parses the URL for the decoded path, and
// reports false when the URL does not parse (a virtual-hosted bucket
// before an IPv6 address).
func (s *Signer) bucketLocation(cfg *signerConfig, bucket string) (origin, host, base string, ok bool) {
	u := s.urls.get(cfg, bucket).url // built by buildFormURL from checked parts
	if i := strings.IndexByte(u, ':'); i >= 0 && strings.HasPrefix(u[i:], "://") {
		i += len("://")
		if j := strings.IndexByte(u[i:], '/'); j >= 0 && plainHost(u[i:i+j]) && plainPath(u[i+j:]) {
			return u[:i+j], u[i : i+j], strings.TrimSuffix(u[i+j:], "/"), true
		}
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", "", "", false
	}
	return cfg.scheme() + "://" + pu.Host, pu.Host, strings.TrimSuffix(pu.Path, "/"), true
}

// plainHost reports whether url.Parse takes host as it is written, as the
// host of a URL whose Endpoint it parsed: letters, digits and ".-_:" (an
// IPv6 address, in brackets, and escapes are left to url.Parse).
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}

// plainPath reports whether path decodes to itself and URI-encodes to
// itself: RFC 3986's unreserved characters and '/'.
func plainPath(path string) bool {
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '/':
		default:
			return false
		}
	}
	return true
}

// objectPath returns the decoded path of the object key under a bucket's
// base path, base + "/" + key, and, when size is not negative, size in
// decimal, the value of Content-Length: the strings a presigned request
// needs besides the policy's, in one allocation.
func objectPath(base, key string, size int64) (path, length string) {
	var digits [20]byte
	d := digits[:0]
	if size >= 0 {
		d = strconv.AppendInt(d, size, 10)
	}
	var b strings.Builder
	b.Grow(len(base) + 1 + len(key) + len(d))
	b.WriteString(base)
	b.WriteByte('/')
	b.WriteString(key)
	n := b.Len()
	b.Write(d)
	all := b.String()
	return all[:n], all[n:]
}

// scheme returns the scheme of the URLs cfg builds.
func (c *signerConfig) scheme() string {
	if c.endpoint == "" {
		return "https"
	}
	u, _ := parseEndpoint(c.endpoint)
	return u.Scheme
}
