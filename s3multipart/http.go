package s3multipart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/postpolicy/postpolicy"
)

// Limits on the JSON bodies the Backend reads.
const (
	maxCreateBody = 64 << 10
	// maxCompleteBody holds 10,000 parts with their ETags.
	maxCompleteBody = 2 << 20
)

// ServeHTTP answers the routes Uppy's AwsS3 plugin calls in Companion
// mode (@uppy/aws-s3 6.3.1, src/s3-client/CompanionS3.ts), relative to
// its companionEndpoint, for the user whose Rules the request gets:
//
//	POST   /s3/multipart                          {"filename","type","metadata","size"} → {"key","uploadId","bucket","size","partSize","parts"}
//	GET    /s3/multipart/{uploadId}/{partNumber}?key=K → {"url","expires","method":"PUT","size"}
//	GET    /s3/multipart/{uploadId}?key=K         → [{"PartNumber","ETag","Size"}, …]
//	POST   /s3/multipart/{uploadId}/complete?key=K {"parts":[{"PartNumber","ETag"}, …]} → {"location","bucket","key"}
//	DELETE /s3/multipart/{uploadId}?key=K         → {}
//	GET    /s3/params?filename=F&type=T&metadata[NAME]=V… → {"url","method":"POST","fields":{…}}
//
// which are [Backend.Create], [Backend.SignPart] ("expires" is the URL's
// lifetime in seconds, "size" the exact size of the part),
// [Backend.ListParts], [Backend.Complete], [Backend.Abort] and a POST
// form for a small file (Uppy uploads files that do not use multipart
// with it): signed by Signer.Sign for the key [KeyName] chooses, the
// exact Content-Type, the allowed metadata, 1 byte to Rules.MaxSize
// (exactly metadata[size] bytes when it is sent), valid for
// Rules.URLLifetime. The file's size, which the multipart routes need,
// is the body's "size" or its metadata.size (a number or a string of
// digits), which Uppy sends when the page sets it:
// uppy.setFileMeta(file.id, {size: file.size}).
//
// Mount it under the companionEndpoint with http.StripPrefix, the
// endpoint without a trailing '/':
//
//	mux.Handle("/uploads/", http.StripPrefix("/uploads", backend))
//
// Every answer is JSON with Cache-Control: no-store. A refusal is
// {"message": "..."}, saying which rule the request broke, with status
// 400 (the file or the request), 401 (no session), 403 (another user's
// key, or Rules' ErrForbidden), 404 (an unknown or expired upload), 405,
// 409 (an upload being completed), 413 (a body too large) or 415 (a POST
// whose body is not application/json, which also keeps other sites'
// forms from posting to it); a failure of the server 500 and of S3 502,
// with a message that gives no details (ErrorLog receives them). Uppy
// shows only the status text, and retries 5xx answers. No answer holds
// the secret key, the session token or a signature other than that of
// the URL or form it signs.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimLeft(r.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "the path is not well-formed")
			return
		}
		segs[i] = u
	}
	method, allow := r.Method, ""
	switch {
	case len(segs) == 2 && segs[0] == "s3" && segs[1] == "params":
		if allow = "GET"; method == http.MethodGet {
			b.serveParams(w, r)
			return
		}
	case len(segs) >= 2 && segs[0] == "s3" && segs[1] == "multipart":
		switch len(segs) {
		case 2:
			if allow = "POST"; method == http.MethodPost {
				b.serveCreate(w, r)
				return
			}
		case 3:
			allow = "GET, DELETE"
			switch method {
			case http.MethodGet:
				b.serveListParts(w, r, segs[2])
				return
			case http.MethodDelete:
				b.serveAbort(w, r, segs[2])
				return
			}
		case 4:
			switch {
			case segs[3] == "complete" && method == http.MethodPost:
				b.serveComplete(w, r, segs[2])
				return
			case method == http.MethodGet:
				b.serveSignPart(w, r, segs[2], segs[3])
				return
			case segs[3] == "complete":
				allow = "POST"
			default:
				allow = "GET"
			}
		}
	}
	if allow == "" {
		writeMessage(w, http.StatusNotFound, "no such upload route: "+r.Method+" "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", allow)
	writeMessage(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+allow)
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"message":"the answer could not be written"}`)
	}
	writeBody(w, status, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeMessage answers status with {"message": msg}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Message string `json:"message"`
	}{msg})
}

func (b *Backend) logError(r *http.Request, err error) {
	if b.ErrorLog != nil {
		b.ErrorLog(r, err)
	}
}

// rules returns the Rules of r's user, or answers the refusal and
// returns nil.
func (b *Backend) rules(w http.ResponseWriter, r *http.Request) *Rules {
	if b.Rules == nil || b.Signer == nil {
		b.logError(r, errors.New("s3multipart: a Backend needs Signer and Rules"))
		writeMessage(w, http.StatusInternalServerError, "the upload service is not configured")
		return nil
	}
	rules, err := b.Rules(r)
	switch {
	case errors.Is(err, postpolicy.ErrUnauthenticated), err == nil && rules == nil:
		writeMessage(w, http.StatusUnauthorized, "sign in to upload")
	case errors.Is(err, postpolicy.ErrForbidden):
		writeMessage(w, http.StatusForbidden, strings.TrimPrefix(err.Error(), "postpolicy: "))
	case err != nil:
		b.logError(r, err)
		writeMessage(w, http.StatusInternalServerError, "could not tell what you may upload")
	default:
		return rules
	}
	return nil
}

// fail answers err: a Refusal as it says; S3's refusals of the user's
// parts and uploads with S3's code and message; every other failure with
// a message that gives no details, passing the error to ErrorLog.
func (b *Backend) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ref *Refusal
	var s3 *S3Error
	var st *storeError
	switch {
	case errors.As(err, &ref):
		writeMessage(w, ref.Status, ref.Message)
	case errors.As(err, &s3):
		status, ok := userCodes[s3.Code]
		switch {
		case s3.Code == "NoSuchUpload":
			writeMessage(w, status, "the upload no longer exists in the bucket: it was completed, aborted or expired; start it again")
		case ok:
			writeMessage(w, status, "the storage refused the upload: "+s3.Code+": "+s3.Message)
		default:
			b.logError(r, err)
			writeMessage(w, http.StatusBadGateway, "the storage refused the server's "+s3.Operation+" call ("+s3.Code+")")
		}
	case errors.As(err, &st):
		b.logError(r, err)
		writeMessage(w, http.StatusBadGateway, "the storage could not be reached ("+st.op+")")
	case errors.Is(err, ErrRules):
		b.logError(r, err)
		writeMessage(w, http.StatusInternalServerError, "the server's upload rules are not valid")
	default:
		b.logError(r, err)
		writeMessage(w, http.StatusInternalServerError, "the upload could not be signed")
	}
}

// readJSON decodes the JSON body of r, of at most limit bytes, into v, or
// answers the refusal and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeMessage(w, http.StatusUnsupportedMediaType, "send the request as JSON, with Content-Type: application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeMessage(w, http.StatusRequestEntityTooLarge, "the request body is over "+strconv.FormatInt(limit, 10)+" bytes")
		return false
	case err != nil:
		writeMessage(w, http.StatusBadRequest, "the request body could not be read")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeMessage(w, http.StatusBadRequest, "the request body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

// jsonScalar returns the text of a JSON string, number or boolean, and
// whether v is one (null, an object or an array are not).
func jsonScalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case 'n', '{', '[':
		return "", false
	}
	return string(v), true
}

// parseSize parses a declared size: digits, as a JSON number or string.
func parseSize(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

// createRequest is the body of POST /s3/multipart: Uppy's, and the size.
type createRequest struct {
	Filename string                     `json:"filename"`
	Type     string                     `json:"type"`
	Metadata map[string]json.RawMessage `json:"metadata"`
	Size     json.RawMessage            `json:"size"`
}

// declaredSize returns the size req declares: its "size", else its
// metadata's, each a JSON number or a string of digits, with the text
// declared. It is -1, with "", when req declares none; ok is false when
// the text is not a number of bytes.
func (req *createRequest) declaredSize() (size int64, declared string, ok bool) {
	declared, present := jsonScalar(req.Size)
	if !present {
		declared, present = jsonScalar(req.Metadata["size"])
	}
	if !present {
		return -1, "", true
	}
	size, ok = parseSize(declared)
	return size, declared, ok && size >= 0
}

// DeclaredSize returns the size of the file a POST /s3/multipart body
// declares, read as [Backend.ServeHTTP] reads it: its "size", else its
// metadata's "size", a JSON number or a string of digits. ok is false
// when body is not JSON, declares no size, or one that is not a number of
// bytes. An application that accounts for uploads (a quota, say) reads
// the size with it before it passes the request on.
func DeclaredSize(body []byte) (size int64, ok bool) {
	var req createRequest
	if json.Unmarshal(body, &req) != nil {
		return 0, false
	}
	size, declared, ok := req.declaredSize()
	return size, ok && declared != ""
}

func (b *Backend) serveCreate(w http.ResponseWriter, r *http.Request) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	var req createRequest
	if !readJSON(w, r, maxCreateBody, &req) {
		return
	}
	meta := make(map[string]string, len(req.Metadata))
	for name, raw := range req.Metadata {
		if v, ok := jsonScalar(raw); ok {
			meta[name] = v
		}
	}
	size, declared, ok := req.declaredSize()
	if !ok {
		writeMessage(w, http.StatusBadRequest, "the file's size "+strconv.Quote(declared)+" is not a number of bytes")
		return
	}
	up, err := b.Create(r.Context(), rules, req.Filename, req.Type, size, meta)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, up)
}

// keyParam returns the key query parameter, or answers the refusal.
func keyParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.URL.Query().Get("key")
	if key == "" {
		writeMessage(w, http.StatusBadRequest, "the key query parameter is missing")
		return "", false
	}
	return key, true
}

func (b *Backend) serveSignPart(w http.ResponseWriter, r *http.Request, uploadID, number string) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	key, ok := keyParam(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(number)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "the part number "+strconv.Quote(number)+" is not a number")
		return
	}
	p, size, err := b.signPart(r.Context(), rules, key, uploadID, n)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Method  string `json:"method"`
		URL     string `json:"url"`
		Expires int64  `json:"expires"`
		Size    int64  `json:"size"`
	}{p.Method, p.URL, int64(p.Expiration.Sub(b.now()).Seconds()), size})
}

func (b *Backend) serveListParts(w http.ResponseWriter, r *http.Request, uploadID string) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	key, ok := keyParam(w, r)
	if !ok {
		return
	}
	parts, err := b.ListParts(r.Context(), rules, key, uploadID)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, parts)
}

func (b *Backend) serveComplete(w http.ResponseWriter, r *http.Request, uploadID string) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	key, ok := keyParam(w, r)
	if !ok {
		return
	}
	var req struct {
		Parts []Part `json:"parts"`
	}
	if !readJSON(w, r, maxCompleteBody, &req) {
		return
	}
	location, err := b.Complete(r.Context(), rules, key, uploadID, req.Parts)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Location string `json:"location"`
		Bucket   string `json:"bucket"`
		Key      string `json:"key"`
	}{location, rules.Bucket, key})
}

func (b *Backend) serveAbort(w http.ResponseWriter, r *http.Request, uploadID string) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	key, ok := keyParam(w, r)
	if !ok {
		return
	}
	if err := b.Abort(r.Context(), rules, key, uploadID); err != nil {
		b.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, []byte("{}"))
}

// serveParams answers a form for the POST upload of a small file: Uppy's
// putObject in Companion mode.
func (b *Backend) serveParams(w http.ResponseWriter, r *http.Request) {
	rules := b.rules(w, r)
	if rules == nil {
		return
	}
	q := r.URL.Query()
	meta := make(map[string]string)
	for name, values := range q {
		if n, ok := strings.CutPrefix(name, "metadata["); ok && strings.HasSuffix(n, "]") && len(values) > 0 {
			meta[n[:len(n)-1]] = values[0]
		}
	}
	size := int64(-1)
	if v, ok := meta["size"]; ok {
		if size, ok = parseSize(v); !ok || size < 0 {
			writeMessage(w, http.StatusBadRequest, "the file's size "+strconv.Quote(v)+" is not a number of bytes")
			return
		}
	}
	form, err := b.FormFor(r.Context(), rules, q.Get("filename"), q.Get("type"), size, meta)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	body, err := form.MarshalJSON()
	if err != nil {
		b.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, body)
}

// FormFor signs the POST form of a small file for a user with rules, as
// GET /s3/params answers it: for the key [KeyName] chooses for filename,
// the exact Content-Type contentType (checked against rules; empty is
// [DefaultContentType]), the metadata rules allow, and a size of 1 byte
// to rules.MaxSize, or exactly size bytes when size is not negative,
// valid for rules.URLLifetime ("Browser-based uploads using POST",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html).
// Every condition is a field of the form, so that a page that posts the
// fields as they are, and the file last, as Uppy does, satisfies it; the
// store enforces it.
func (b *Backend) FormFor(ctx context.Context, rules *Rules, filename, contentType string, size int64, metadata map[string]string) (*postpolicy.Form, error) {
	if err := rules.check(); err != nil {
		return nil, err
	}
	ct, err := rules.contentType(contentType)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(1), rules.MaxSize
	if size >= 0 {
		if err := rules.checkTotal(size); err != nil {
			return nil, err
		}
		lo, hi = size, size
	}
	meta, err := rules.metadata(metadata)
	if err != nil {
		return nil, err
	}
	conds := []postpolicy.Condition{
		postpolicy.Bucket(rules.Bucket),
		postpolicy.Key(KeyName(rules.KeyPrefix, filename)),
		postpolicy.ContentType(ct),
		postpolicy.ContentLengthRange(lo, hi),
	}
	for _, m := range meta {
		conds = append(conds, postpolicy.Meta(m.Name, m.Value))
	}
	return b.Signer.Sign(ctx, postpolicy.Policy{Expiration: b.now().Add(rules.urlLifetime()), Conditions: conds})
}
