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
// OPTIONS answers CORS preflight requests so pages can upload with fetch.
// Requests name the bucket path-style (http://HOST/BUCKET/KEY) or, when
// BaseHost is set, virtual-hosted style (http://BUCKET.BaseHost/KEY).
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
	setCORS(w, r)
	if r.Method == http.MethodOptions {
		// A CORS preflight: allow what a page's upload or read sends.
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, POST")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			hdr.Set("Access-Control-Allow-Headers", req)
		}
		hdr.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusOK)
		return
	}
	bucket, key, virtual := h.route(r)
	if bucket == "" || !h.hasBucket(bucket) {
		WriteError(w, &S3Error{Code: CodeNoSuchBucket, Status: http.StatusNotFound,
			Message: "The specified bucket does not exist", Extra: []postpolicy.Field{{Name: "BucketName", Value: bucket}}})
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

// setCORS lets any origin read the answers, including the ETag and
// Location headers a page may want after an upload.
func setCORS(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "ETag, Location")
	}
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

// objectURL returns the URL of bucket/key on the server r was sent to.
func objectURL(r *http.Request, bucket, key string, virtual bool) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := "/" + bucket + "/" + key
	if virtual {
		path = "/" + key
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String()
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
