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
	// Size is the object's length in bytes.
	Size int64
	// ETag is the hex MD5 of the content, without quotes, as S3 computes it
	// for an object stored by a single request.
	ETag string
	// LastModified is when the object was stored.
	LastModified time.Time
}

// Store keeps the objects a Handler receives.
//
// Put must make the object visible only once body has been read to its end
// without error, replacing any object of the same key; when reading body
// fails (the upload broke content-length-range or the client went away),
// nothing may be stored and Put returns that error. Implementations must be
// safe for concurrent use.
type Store interface {
	Put(ctx context.Context, bucket, key string, info ObjectInfo, body io.Reader) (ObjectInfo, error)
	Get(ctx context.Context, bucket, key string) (ObjectInfo, io.ReadCloser, error)
}

// Handler is an S3 browser-upload endpoint: POST /BUCKET with a
// multipart/form-data body is verified by Verifier, with S3's semantics and
// answers, and stored in Store; GET and HEAD /BUCKET/KEY read objects back;
// OPTIONS answers the CORS preflight of an upload from a page of an origin
// in CORSOrigins. Requests name the bucket path-style
// (http://HOST/BUCKET/KEY) or, when BaseHost is set, virtual-hosted style
// (http://BUCKET.BaseHost/KEY); the key is the request's path decoded, so
// EscapeKey(key) is the path that names it.
//
// A Handler does not control who reads an object: any client that can
// reach it may GET any key. A server that keeps objects private checks the
// request before passing a GET or HEAD to the Handler.
type Handler struct {
	// Verifier checks every upload. Required.
	Verifier *Verifier
	// Store keeps the objects. Required.
	Store Store
	// Buckets are the buckets the handler serves; other names answer 404
	// NoSuchBucket.
	Buckets []string
	// BaseHost, when set, enables virtual-hosted-style requests: a Host of
	// BUCKET.BaseHost (any port) names BUCKET.
	BaseHost string
	// CORSOrigins are the origins whose pages may upload with fetch or
	// XMLHttpRequest and read the answer, as a bucket's CORS rule allowing
	// POST from them does on S3 ("Using cross-origin resource sharing
	// (CORS)", https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html):
	// each an origin as browsers send it in the Origin header
	// (https://app.example, http://127.0.0.1:8080), or "*" for any origin.
	// They apply to uploads (POST, whose answers then expose ETag and
	// Location) and to their preflight (OPTIONS /BUCKET with
	// Access-Control-Request-Method: POST), never to GET or HEAD: no page of
	// another origin can read an object through the Handler. Empty, the
	// default, the Handler sends no CORS header and refuses every
	// preflight, as S3 does for a bucket without a CORS configuration; a
	// page on the Handler's own origin needs none.
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
	if r.Method == http.MethodPost {
		h.allowUploadOrigin(w, r)
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
	switch {
	case r.Method == http.MethodPost && key == "":
		h.post(w, r, bucket, virtual)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && key != "":
		h.get(w, r, bucket, key)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		WriteError(w, &S3Error{Code: CodeMethodNotAllowed, Status: http.StatusMethodNotAllowed,
			Message: "The specified method is not allowed against this resource.",
			Extra:   []postpolicy.Field{{Name: "Method", Value: r.Method}, {Name: "ResourceType", Value: resourceType(key)}}})
	}
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

// allowUploadOrigin lets the page of an allowed origin read the answer to
// its upload, with the ETag and Location headers it may want.
func (h *Handler) allowUploadOrigin(w http.ResponseWriter, r *http.Request) {
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

// preflight answers an OPTIONS request: the CORS preflight of an upload
// (to the bucket, not a key) from an allowed origin is allowed, with
// whatever headers the page asks to send; anything else is refused with
// S3's 403.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, key string) {
	hdr := w.Header()
	if len(h.CORSOrigins) > 0 {
		hdr.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	}
	allow, ok := h.corsOrigin(r.Header.Get("Origin"))
	if !ok || key != "" || r.Header.Get("Access-Control-Request-Method") != http.MethodPost {
		WriteError(w, &S3Error{Code: CodeAccessDenied, Status: http.StatusForbidden,
			Message: "CORSResponse: This CORS request is not allowed."})
		return
	}
	hdr.Set("Access-Control-Allow-Origin", allow)
	hdr.Set("Access-Control-Allow-Methods", "POST")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hdr.Set("Access-Control-Allow-Headers", req)
	}
	hdr.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, bucket string, virtual bool) {
	// A refused upload is answered before its file has been read; with full
	// duplex the answer can go out while the rest is read and discarded.
	if limit := h.drainLimit(); limit > 0 {
		http.NewResponseController(w).EnableFullDuplex()
		defer io.Copy(io.Discard, io.LimitReader(r.Body, limit))
	}
	up, err := h.Verifier.Verify(r, bucket)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	info, err := h.Store.Put(r.Context(), bucket, up.Key, ObjectInfo{ContentType: up.ContentType(), Metadata: up.Metadata()}, up.File)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	up.Respond(w, info.ETag, objectURL(r, bucket, up.Key, virtual))
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
// its path escaped by EscapeKey.
func objectURL(r *http.Request, bucket, key string, virtual bool) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
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

func (h *Handler) get(w http.ResponseWriter, r *http.Request, bucket, key string) {
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
	for _, m := range info.Metadata {
		hdr.Set(m.Name, m.Value)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		io.Copy(w, body)
	}
}
