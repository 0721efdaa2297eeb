package postpolicy

import (
	"context"
	"encoding/xml"
	"net/url"
	"slices"
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
// (Uppy's AwsS3 plugin from v6 reads url from it; fetch and XHR send the
// headers):
//
//	{"method":"PUT","url":"https://…","headers":{"Content-Type":"image/png",…}}
func (p *Presigned) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(p.URL))
	b = append(b, `{"method":`...)
	b = appendJSONString(b, p.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, p.URL)
	b = append(b, `,"headers":{`...)
	b = appendFieldsJSON(b, p.Header, false)
	return append(b, "}}"...), nil
}

// maxPresignExpires is the most seconds X-Amz-Expires may say: 7 days.
const maxPresignExpires = 7 * 24 * 60 * 60

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
	var query []sigv4.Param
	if opts != nil {
		if opts.ResponseContentDisposition != "" {
			query = append(query, sigv4.Param{Name: "response-content-disposition", Value: opts.ResponseContentDisposition})
		}
		if opts.ResponseContentType != "" {
			query = append(query, sigv4.Param{Name: "response-content-type", Value: opts.ResponseContentType})
		}
	}
	return s.presign(ctx, "GET", Policy{Expiration: expiration, Conditions: []Condition{Bucket(bucket), Eq("key", key)}}, query)
}

// presign signs a request of method for the object of p, with the extra
// query parameters query.
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
	key := sg.key.key
	amzDate := string(sg.amzDate[:])

	bucket, objectKey := bucketOf(p.Conditions), keyOf(p.Conditions)
	var headers []Field
	if method == "PUT" {
		headers = putHeaders(p.Conditions)
	}
	host, path := objectLocation(cfg, bucket, objectKey)

	// X-Amz-Date is to the second: the URL lives whole seconds from it,
	// never past p's expiration (the lint checked there is one).
	since := t.Truncate(time.Second)
	expires := min(int64(p.Expiration.Sub(since)/time.Second), maxPresignExpires)
	signed := make([]string, 0, len(headers)+1)
	signed = append(signed, "host")
	for _, h := range headers {
		signed = append(signed, strings.ToLower(h.Name))
	}
	slices.Sort(signed)
	signedLine := strings.Join(signed, ";")

	query = append(query,
		sigv4.Param{Name: "X-Amz-Algorithm", Value: Algorithm},
		sigv4.Param{Name: "X-Amz-Credential", Value: key.Credential},
		sigv4.Param{Name: "X-Amz-Date", Value: amzDate},
		sigv4.Param{Name: "X-Amz-Expires", Value: strconv.FormatInt(expires, 10)},
		sigv4.Param{Name: "X-Amz-SignedHeaders", Value: signedLine})
	if creds.SessionToken != "" {
		query = append(query, sigv4.Param{Name: "X-Amz-Security-Token", Value: creds.SessionToken})
	}
	req := sigv4.Request{
		Method: method, Path: path, PathMode: sigv4.PathS3, Query: query,
		Header:        append([]sigv4.Header{{Name: "host", Value: host}}, fieldHeaders(headers)...),
		SignedHeaders: signed, PayloadHash: sigv4.UnsignedPayload,
	}
	sig, err := req.Sign(key, amzDate)
	if err != nil {
		// The lint and checkConfig keep names and values fit to sign;
		// this would be a bug, said without any value.
		return nil, err
	}

	u := make([]byte, 0, 256+len(path)+len(creds.SessionToken))
	u = append(u, cfg.scheme()...)
	u = append(u, "://"...)
	u = append(u, host...)
	u = sigv4.AppendURIEncode(u, path, true)
	u = append(u, '?')
	u = sigv4.AppendCanonicalQuery(u, query)
	u = append(u, "&X-Amz-Signature="...)
	u = append(u, sig[:]...)
	return &Presigned{
		Method: method, URL: string(u), Header: headers,
		Expiration: since.Add(time.Duration(expires) * time.Second),
		Warnings:   l.problems,
	}, nil
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

// putHeaders returns the headers a PUT signs for conds, the lint having
// accepted them: one per field of their exact matches, with the header's
// canonical name, in condition order.
func putHeaders(conds []Condition) []Field {
	var h []Field
	add := func(name, value string) {
		if _, ok := Fields(h).Get(name); !ok {
			h = append(h, Field{name, value})
		}
	}
	for i := range conds {
		c := &conds[i]
		switch {
		case c.op == OpContentLengthRange:
			add("Content-Length", strconv.FormatInt(c.max, 10))
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
	return h
}

// headerName returns the canonical form of a field's name as a header:
// the standard headers as HTTP writes them, x-amz-* in lower case.
func headerName(field string) string {
	for _, n := range []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Expires"} {
		if strings.EqualFold(field, n) {
			return n
		}
	}
	return strings.ToLower(field)
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

func fieldHeaders(fields []Field) []sigv4.Header {
	h := make([]sigv4.Header, len(fields))
	for i, f := range fields {
		h[i] = sigv4.Header{Name: f.Name, Value: f.Value}
	}
	return h
}

// objectLocation returns the host and the (decoded) path of an object's
// URL under cfg: virtual-hosted style puts the bucket in the host, path
// style in the path, as the form URLs do (URLStyle).
func objectLocation(cfg *signerConfig, bucket, key string) (host, path string) {
	bu := newBucketURL(cfg, bucket)
	u, _ := url.Parse(bu.url) // built by buildFormURL from checked parts
	base := strings.TrimSuffix(u.Path, "/")
	return u.Host, base + "/" + key
}

// scheme returns the scheme of the URLs cfg builds.
func (c *signerConfig) scheme() string {
	if c.endpoint == "" {
		return "https"
	}
	u, _ := parseEndpoint(c.endpoint)
	return u.Scheme
}
