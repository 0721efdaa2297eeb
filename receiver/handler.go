package receiver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	// ContentType is the Content-Type field of the upload; empty when it
	// had none (GET then answers binary/octet-stream, as S3 does).
	ContentType string
	// Metadata are the upload's x-amz-meta-* fields, names in lower case.
	Metadata []postpolicy.Field
	// Headers are the other standard headers stored with the object and
	// answered with it (Upload.EntityHeaders): Cache-Control,
	// Content-Disposition, Content-Encoding, Content-Language and Expires,
	// those the upload set, names in that canonical form and order.
	Headers []postpolicy.Field
	// Size is the object's length in bytes.
	Size int64
	// ETag is the object's entity tag, without quotes: the hex MD5 of the
	// content, as S3 computes it for an object stored by a single request;
	// for an object assembled by CompleteMultipartUpload, S3's multipart
	// form, the hex MD5 of the concatenated binary MD5s of its parts,
	// then "-" and the number of parts ("Checking object integrity",
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
	ETag string
	// LastModified is when the object was stored.
	LastModified time.Time
}

// Store keeps the objects a Handler receives.
//
// Put must make the object visible only once body has been read to its end
// without error, replacing any object of the same key; when reading body
// fails (the upload broke content-length-range or the client went away),
// nothing may be stored and Put returns that error. Put stores info's
// ContentType, Metadata and Headers; it sets Size, LastModified and, when
// info.ETag is empty, ETag to the hex MD5 of the content. When info.ETag
// is set, Put stores it as it is: a Handler sets it for an object it
// assembles from the parts of a multipart upload, whose ETag is not the
// MD5 of its content. Put returns the stored object's ObjectInfo.
// Implementations must be safe for concurrent use.
type Store interface {
	Put(ctx context.Context, bucket, key string, info ObjectInfo, body io.Reader) (ObjectInfo, error)
	Get(ctx context.Context, bucket, key string) (ObjectInfo, io.ReadCloser, error)
}

// Handler is an S3 upload endpoint, with S3's semantics and answers, over
// a Store. Requests name the bucket path-style (http://HOST/BUCKET/KEY)
// or, when BaseHost is set, virtual-hosted style (http://BUCKET.BaseHost/KEY);
// the key is the request's path decoded, so EscapeKey(key) is the path
// that names it. It answers:
//
//   - POST /BUCKET with a multipart/form-data body: a browser form upload,
//     checked by Verifier.Verify ("POST Object",
//     https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html);
//   - PUT /BUCKET/KEY: PutObject
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html),
//     signed in its URL (a presigned PUT) or its Authorization header and
//     checked by Verifier.VerifyRequest; the object keeps the request's
//     Content-Type and x-amz-meta-* headers, and the answer is 200 with
//     the ETag header. A PUT with x-amz-copy-source (CopyObject) is
//     NotImplemented;
//   - GET and HEAD /BUCKET/KEY: GetObject and HeadObject
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
//     A request signed in its URL or Authorization header is verified,
//     and its response-* parameters override the answer's headers
//     (ResponseOverrides); an anonymous one is answered when PrivateReads
//     is false and refused with 403 AccessDenied when it is true, and one
//     with response-* parameters is refused with 400 InvalidRequest, as
//     S3 refuses them on anonymous requests;
//   - the multipart-upload calls, each signed: POST /BUCKET/KEY?uploads
//     (CreateMultipartUpload,
//     https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html),
//     PUT /BUCKET/KEY?partNumber=N&uploadId=ID (UploadPart,
//     API_UploadPart.html), GET /BUCKET/KEY?uploadId=ID (ListParts,
//     API_ListParts.html), POST /BUCKET/KEY?uploadId=ID
//     (CompleteMultipartUpload, API_CompleteMultipartUpload.html) and
//     DELETE /BUCKET/KEY?uploadId=ID (AbortMultipartUpload,
//     API_AbortMultipartUpload.html), and GET /BUCKET?uploads
//     (ListMultipartUploads, API_ListMultipartUploads.html, with prefix,
//     key-marker, upload-id-marker and max-uploads). Parts are kept in
//     memory or in PartDir until the upload ends: completed, when they are streamed in
//     order into Store.Put, which makes the object appear at once with
//     S3's multipart ETag; aborted; or expired, MultipartExpiry after its
//     creation. A Complete uses the parts it lists as they were when it
//     began (parts uploaded meanwhile are not in the object and are
//     deleted with the upload); while it runs, an Abort or another
//     Complete of the upload is 409 OperationAborted; when it fails (the
//     Store's error, the client gone) the upload and its parts stay for a
//     retry. Upload ids are 128 random bits; an id is only valid with the
//     bucket and key of its Create (NoSuchUpload otherwise);
//   - OPTIONS: the CORS preflight of the requests above from a page of an
//     origin in CORSOrigins.
//
// Anything else is 405 MethodNotAllowed; a bucket not in Buckets is 404
// NoSuchBucket.
//
// With PrivateReads false, the default, a Handler does not control who
// reads an object: any client that can reach it may GET any key. A server
// that keeps objects private sets PrivateReads, so that only signed reads
// (presigned GETs) are answered, or checks the request before passing a
// GET or HEAD to the Handler.
//
// A Handler is safe for concurrent use; it must not be copied after its
// first request.
type Handler struct {
	// Verifier checks every upload and every signed request. Required.
	Verifier *Verifier
	// Store keeps the objects. Required.
	Store Store
	// Buckets are the buckets the handler serves; other names answer 404
	// NoSuchBucket.
	Buckets []string
	// BaseHost, when set, enables virtual-hosted-style requests: a Host of
	// BUCKET.BaseHost (any port) names BUCKET.
	BaseHost string
	// Scheme is the scheme of the object URLs the Handler writes (the
	// Location of a form upload's answer and of CompleteMultipartUpload's
	// result): "https" for a Handler behind a proxy that ends TLS, so
	// that a browser is not sent on to plain http. Empty, the default, it
	// is the scheme the request arrived with: https over TLS, else http.
	Scheme string
	// CORSOrigins are the origins whose pages may send uploads with fetch
	// or XMLHttpRequest and read the answer, as a bucket's CORS rule
	// allowing them does on S3 ("Using cross-origin resource sharing
	// (CORS)", https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html):
	// each an origin as browsers send it in the Origin header
	// (https://app.example, http://127.0.0.1:8080), or "*" for any origin.
	// They apply to form uploads (POST /BUCKET), to PUT, POST and DELETE on
	// a key (PutObject and the multipart calls), whose answers then expose
	// ETag and Location (Uppy reads each part's ETag), to GET and HEAD
	// requests that are signed (presigned GETs, ListParts), and to the
	// preflight of these (OPTIONS with Access-Control-Request-Method POST
	// on the bucket; PUT, POST, GET, DELETE or HEAD on a key, GET and HEAD
	// only when the URL is presigned or the page sends an Authorization
	// header). They never apply to an anonymous GET or HEAD: no page of
	// another origin can read an object through the Handler without a
	// signature. Empty, the default, the Handler sends no CORS header and
	// refuses every preflight, as S3 does for a bucket without a CORS
	// configuration; a page on the Handler's own origin needs none.
	CORSOrigins []string
	// DrainLimit is how much of a refused upload's body the handler reads
	// and discards after answering, so that a browser still sending the
	// file reads S3's error instead of a reset connection; 0 means 64 MiB,
	// a negative value none. Larger bodies are cut off, as S3 does.
	DrainLimit int64
	// ErrorLog, when set, is called with the errors behind 500
	// InternalError answers (a Store's, or the Verifier's Lookup's), whose
	// text the answer leaves out. Refusals with an S3 code are not errors
	// of the server and are not passed to it.
	ErrorLog func(r *http.Request, err error)

	// PrivateReads, when true, refuses anonymous GET and HEAD requests
	// with 403 AccessDenied "Access Denied", S3's answer for a private
	// object; signed ones (a presigned GET, a request with a SigV4
	// Authorization header) are verified and answered. False, the
	// default, any client may read any object.
	PrivateReads bool
	// PartDir is the directory where the parts of multipart uploads are
	// kept, one file each (named part-*), so that memory does not grow
	// with their size; it must exist. Empty, the default, parts are kept
	// in memory, which suits tests and small uploads. Parts do not outlive
	// the process: the uploads in progress live in its memory, and part
	// files a stopped process left behind are not removed by the next.
	PartDir string
	// MinPartSize is the least size of every part of a completed
	// multipart upload but the last: 0 means 5 MiB, S3's; a negative
	// value, none. CompleteMultipartUpload answers EntityTooSmall below
	// it.
	MinPartSize int64
	// MultipartExpiry is how long after its creation, by the Verifier's
	// clock, a multipart upload not completed is aborted and its parts
	// deleted (see AbortStale), as a lifecycle rule with
	// AbortIncompleteMultipartUpload does on S3; 0 means 24 hours, a
	// negative value never.
	MultipartExpiry time.Duration

	mp multipartState
}

func (h *Handler) hasBucket(b string) bool {
	for _, name := range h.Buckets {
		if name == b {
			return true
		}
	}
	return false
}

// route returns the bucket and key a request names, and whether it names
// the bucket in its host.
func (h *Handler) route(r *http.Request) (bucket, key string, virtual bool) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if h.BaseHost != "" {
		host := r.Host
		if hst, _, err := net.SplitHostPort(host); err == nil {
			host = hst
		}
		if b, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(h.BaseHost)); ok && b != "" {
			return b, path, true
		}
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key, false
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, virtual := h.route(r)
	if h.corsApplies(r) {
		h.allowOrigin(w, r)
	}
	if bucket == "" || !h.hasBucket(bucket) {
		WriteError(w, &S3Error{Code: CodeNoSuchBucket, Status: http.StatusNotFound,
			Message: "The specified bucket does not exist", Extra: []postpolicy.Field{{Name: "BucketName", Value: bucket}}})
		return
	}
	if r.Method == http.MethodOptions {
		h.preflight(w, r, key)
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		// A refused upload is answered before its body has been read; with
		// full duplex the answer can go out while the rest is read and
		// discarded.
		if limit := h.drainLimit(); limit > 0 {
			http.NewResponseController(w).EnableFullDuplex()
			defer io.Copy(io.Discard, io.LimitReader(r.Body, limit))
		}
	}
	query := r.URL.Query()
	uploadID, multipart := query["uploadId"]
	switch {
	case r.Method == http.MethodPost && key == "":
		h.post(w, r, bucket, virtual)
	case r.Method == http.MethodGet && key == "" && query.Has("uploads"):
		h.listUploads(w, r, bucket)
	case key == "":
		h.notAllowed(w, r, key)
	case r.Method == http.MethodPut && multipart:
		h.uploadPart(w, r, bucket, key, uploadID[0], query.Get("partNumber"))
	case r.Method == http.MethodPut:
		h.put(w, r, bucket, key)
	case r.Method == http.MethodPost && multipart:
		h.completeUpload(w, r, bucket, key, uploadID[0], virtual)
	case r.Method == http.MethodPost && query.Has("uploads"):
		h.createUpload(w, r, bucket, key)
	case r.Method == http.MethodGet && multipart:
		h.listParts(w, r, bucket, key, uploadID[0])
	case r.Method == http.MethodDelete && multipart:
		h.abortUpload(w, r, bucket, key, uploadID[0])
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.read(w, r, bucket, key)
	default:
		h.notAllowed(w, r, key)
	}
}

func (h *Handler) notAllowed(w http.ResponseWriter, r *http.Request, key string) {
	allow := "POST, OPTIONS"
	if key != "" {
		allow = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
	}
	w.Header().Set("Allow", allow)
	WriteError(w, &S3Error{Code: CodeMethodNotAllowed, Status: http.StatusMethodNotAllowed,
		Message: "The specified method is not allowed against this resource.",
		Extra:   []postpolicy.Field{{Name: "Method", Value: r.Method}, {Name: "ResourceType", Value: resourceType(key)}}})
}

// signed reports whether r carries a SigV4 signature, in its query or its
// Authorization header.
func signed(r *http.Request) bool {
	return IsPresigned(r) || len(r.Header.Values("Authorization")) > 0
}

func (h *Handler) drainLimit() int64 {
	if h.DrainLimit == 0 {
		return 64 << 20
	}
	return h.DrainLimit
}

func resourceType(key string) string {
	if key == "" {
		return "BUCKET"
	}
	return "OBJECT"
}

// corsOrigin returns the Access-Control-Allow-Origin value for a request
// from origin, and whether CORSOrigins allow it: origin itself when it is
// listed, "*" when any origin is.
func (h *Handler) corsOrigin(origin string) (string, bool) {
	if origin == "" {
		return "", false
	}
	anyOrigin := false
	for _, o := range h.CORSOrigins {
		switch o {
		case origin:
			return origin, true
		case "*":
			anyOrigin = true
		}
	}
	if anyOrigin {
		return "*", true
	}
	return "", false
}

// corsApplies reports whether CORSOrigins apply to r's answer: uploads
// and the other calls that change something (POST, PUT, DELETE), and
// signed reads, never anonymous ones.
func (h *Handler) corsApplies(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodGet, http.MethodHead:
		return signed(r)
	}
	return false
}

// allowOrigin lets the page of an allowed origin read the answer to its
// request, with the ETag and Location headers it may want.
func (h *Handler) allowOrigin(w http.ResponseWriter, r *http.Request) {
	if len(h.CORSOrigins) == 0 {
		return
	}
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	if allow, ok := h.corsOrigin(r.Header.Get("Origin")); ok {
		hdr.Set("Access-Control-Allow-Origin", allow)
		hdr.Set("Access-Control-Expose-Headers", "ETag, Location")
	}
}

// preflight answers an OPTIONS request: the CORS preflight, from an
// allowed origin, of a form upload (POST to the bucket) or of a request
// on a key (PUT, POST, DELETE; GET and HEAD only when signed: the URL is
// presigned or the page will send an Authorization header) is allowed,
// with whatever headers the page asks to send; anything else is refused
// with S3's 403.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, key string) {
	hdr := w.Header()
	if len(h.CORSOrigins) > 0 {
		hdr.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	}
	allow, ok := h.corsOrigin(r.Header.Get("Origin"))
	method, methods := r.Header.Get("Access-Control-Request-Method"), "POST"
	if key == "" {
		ok = ok && method == http.MethodPost
	} else {
		methods = "PUT, POST, GET, DELETE, HEAD"
		switch method {
		case http.MethodPut, http.MethodPost, http.MethodDelete:
		case http.MethodGet, http.MethodHead:
			ok = ok && (IsPresigned(r) || requestsHeader(r, "authorization"))
		default:
			ok = false
		}
	}
	if !ok {
		WriteError(w, &S3Error{Code: CodeAccessDenied, Status: http.StatusForbidden,
			Message: "CORSResponse: This CORS request is not allowed."})
		return
	}
	hdr.Set("Access-Control-Allow-Origin", allow)
	hdr.Set("Access-Control-Allow-Methods", methods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hdr.Set("Access-Control-Allow-Headers", req)
	}
	hdr.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusOK)
}

// requestsHeader reports whether a preflight's Access-Control-Request-Headers
// name the header name (in lower case).
func requestsHeader(r *http.Request, name string) bool {
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for h := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				return true
			}
		}
	}
	return false
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, bucket string, virtual bool) {
	up, err := h.Verifier.Verify(r, bucket)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	info, err := h.Store.Put(r.Context(), bucket, up.Key, ObjectInfo{ContentType: up.ContentType(), Metadata: up.Metadata(), Headers: up.EntityHeaders()}, up.File)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	up.Respond(w, info.ETag, h.objectURL(r, bucket, up.Key, virtual))
}

// writeError answers err as S3 would, and passes it to ErrorLog when it is
// not an S3 refusal (and so is answered 500 InternalError).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var s3 *S3Error
	if h.ErrorLog != nil && !errors.As(err, &s3) {
		h.ErrorLog(r, err)
	}
	WriteError(w, err)
}

// objectURL returns the URL of bucket/key on the server r was sent to,
// its path escaped by EscapeKey, with the scheme h.Scheme or r's.
func (h *Handler) objectURL(r *http.Request, bucket, key string, virtual bool) string {
	scheme := h.Scheme
	switch {
	case scheme != "":
	case r.TLS != nil:
		scheme = "https"
	default:
		scheme = "http"
	}
	path, raw := "/"+key, "/"+EscapeKey(key)
	if !virtual {
		path, raw = "/"+bucket+path, "/"+url.PathEscape(bucket)+raw
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path, RawPath: raw}).String()
}

// EscapeKey returns key escaped for the path of an object's URL, the path
// a Handler maps back to key: http://HOST/BUCKET/ + EscapeKey(key), or
// http://BUCKET.HOST/ + EscapeKey(key). Each segment is escaped as
// url.PathEscape does. A key with a "." or ".." segment has its slashes
// escaped too, as %2F: browsers and URL libraries remove dot segments from
// a path before they send it (RFC 3986, section 5.2.4; the WHATWG URL
// standard, https://url.spec.whatwg.org/#path-state, also removes "%2e"
// and "%2e%2e"), so a link to the key "users/alice/../../users/bob/x",
// which S3 stores as it is, would lead to "users/bob/x"; as one segment,
// with no dot segment, it leads to its own object. The keys "." and ".."
// have no such path: no URL can name them.
func EscapeKey(key string) string {
	segments := strings.Split(key, "/")
	for _, seg := range segments {
		if seg == "." || seg == ".." {
			return url.PathEscape(key)
		}
	}
	for i, seg := range segments {
		segments[i] = url.PathEscape(seg)
	}
	return strings.Join(segments, "/")
}

// put answers PutObject: a signed PUT of the object key.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, bucket, key string) {
	u, err := h.Verifier.VerifyRequest(r, bucket, key)
	if err == nil {
		err = CheckKey(key)
	}
	if err == nil {
		err = refuseCopy(r)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	info, err := h.Store.Put(r.Context(), bucket, key, ObjectInfo{ContentType: u.ContentType(), Metadata: u.Metadata(), Headers: u.EntityHeaders()}, u.File)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+info.ETag+`"`)
	w.WriteHeader(http.StatusOK)
}

// read answers a GET or HEAD of an object: verified when it is signed,
// with its response-* overrides; refused when it is anonymous and asks
// for overrides or reads are private.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if !signed(r) {
		if len(ResponseOverrides(r)) > 0 {
			// GetObject: the response-* parameters "cannot be used with an
			// unsigned (anonymous) request"; S3 answers 400 InvalidRequest
			// (the message as S3 sends it, reproduced by Versity S3 Gateway,
			// versity/versitygw#2001).
			WriteError(w, s3err(CodeInvalidRequest, http.StatusBadRequest, "Request specific response headers cannot be used for anonymous GET requests."))
			return
		}
		if h.PrivateReads {
			WriteError(w, s3err(CodeAccessDenied, http.StatusForbidden, "Access Denied"))
			return
		}
		h.get(w, r, bucket, key, nil)
		return
	}
	if _, err := h.Verifier.VerifyRequest(r, bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.get(w, r, bucket, key, ResponseOverrides(r))
}

// get answers the object, with the headers of overrides replacing its own.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, bucket, key string, overrides []postpolicy.Field) {
	info, body, err := h.Store.Get(r.Context(), bucket, key)
	if errors.Is(err, ErrNoSuchKey) {
		WriteError(w, &S3Error{Code: CodeNoSuchKey, Status: http.StatusNotFound,
			Message: "The specified key does not exist.", Extra: []postpolicy.Field{{Name: "Key", Value: key}}})
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer body.Close()
	hdr := w.Header()
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	// Objects may be served from an application's own origin: sandboxed,
	// an uploaded HTML or SVG file cannot run script as that origin.
	hdr.Set("Content-Security-Policy", "sandbox")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	hdr.Set("ETag", `"`+info.ETag+`"`)
	hdr.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	for _, f := range info.Headers {
		hdr.Set(f.Name, f.Value)
	}
	for _, m := range info.Metadata {
		hdr.Set(m.Name, m.Value)
	}
	for _, f := range overrides {
		hdr.Set(f.Name, f.Value)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		io.Copy(w, body)
	}
}
