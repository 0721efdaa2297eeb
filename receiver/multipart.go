package receiver

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postpolicy/postpolicy"
)

// This file is the multipart-upload subset of the S3 API that browser
// uploaders use (Uppy's AwsS3 plugin, the SDKs' managed uploaders):
// CreateMultipartUpload
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html),
// UploadPart (API_UploadPart.html), ListParts (API_ListParts.html),
// CompleteMultipartUpload (API_CompleteMultipartUpload.html),
// AbortMultipartUpload (API_AbortMultipartUpload.html) and
// ListMultipartUploads (API_ListMultipartUploads.html), with which a
// backend finds the uploads a previous process left.
//
// The uploads in progress live in the Handler's memory: a restart forgets
// them. Their parts are kept in memory or, with PartDir, in files, and are
// streamed in order into Store.Put when the upload is completed.
//
// Concurrency. One mutex guards the uploads, their part tables and the
// parts' pins; no file is read or written while it is held (part files are
// removed after it is released). Parts are immutable once stored: an
// UploadPart writes its part apart, then installs it in the table under
// the lock, replacing an earlier part of that number, which is deleted
// then or, when a Complete is reading it, once that Complete is done.
// A Complete checks the list it is sent against the part table under the
// lock and pins the parts it names: that snapshot is the object, whatever
// UploadPart calls install meanwhile. Then:
//
//   - when Store.Put succeeds, the upload ends: its parts, those of the
//     snapshot and any uploaded during the Complete, are deleted, and
//     every later call naming it is NoSuchUpload;
//   - when it fails (a Store error, the client gone), the upload stays as
//     it is, with the parts uploaded meanwhile, for a retry.
//
// While a Complete runs, another Complete or an Abort of the same upload
// is refused with 409 OperationAborted, S3's answer to a conflicting
// operation in progress, rather than waited for.

// Limits of S3's multipart uploads ("Amazon S3 multipart upload limits",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const (
	maxPartNumber      = 10000
	defaultMinPartSize = 5 << 20
	maxObjectSize      = 5 << 40
	// maxCompleteBody is the most of a CompleteMultipartUpload body read:
	// 10,000 parts listed with their ETags and a checksum each fit.
	maxCompleteBody = 2 << 20
	// maxListParts is the most parts ListParts returns at once.
	maxListParts = 1000
	// sweepEvery is how often, at most, a multipart call looks for
	// expired uploads (lookups check the expiry of the upload they find
	// themselves).
	sweepEvery = time.Minute
)

// multipartState is a Handler's uploads in progress.
type multipartState struct {
	mu        sync.Mutex
	uploads   map[string]*mpUpload // by upload id
	lastSweep time.Time
}

// mpUpload is a multipart upload in progress. Its fields are guarded by
// multipartState.mu.
type mpUpload struct {
	id, bucket, key string
	info            ObjectInfo // ContentType and Metadata of the Create
	initiated       time.Time
	parts           map[int]*part
	completing      bool
}

// part is a stored part. Its content and description never change once
// it is installed; pins and dropped are guarded by multipartState.mu.
type part struct {
	number       int
	size         int64
	md5          [md5.Size]byte
	lastModified time.Time
	mem          []byte // the content, when kept in memory
	path         string // its file, when kept in PartDir

	pins    int  // Completes reading it
	dropped bool // replaced, or its upload ended: deleted when unpinned
}

func (p *part) etag() string { return hex.EncodeToString(p.md5[:]) }

// drop marks p for deletion and adds its file to trash when no Complete
// reads it.
func (p *part) drop(trash *[]string) {
	if p.dropped {
		return
	}
	p.dropped = true
	if p.pins == 0 && p.path != "" {
		*trash = append(*trash, p.path)
	}
}

// unpin releases a Complete's hold on p, adding its file to trash when p
// was dropped meanwhile.
func (p *part) unpin(trash *[]string) {
	p.pins--
	if p.pins == 0 && p.dropped && p.path != "" {
		*trash = append(*trash, p.path)
	}
}

func removeFiles(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

func (h *Handler) minPartSize() int64 {
	switch {
	case h.MinPartSize == 0:
		return defaultMinPartSize
	case h.MinPartSize < 0:
		return 0
	}
	return h.MinPartSize
}

func (h *Handler) multipartExpiry() time.Duration {
	if h.MultipartExpiry == 0 {
		return 24 * time.Hour
	}
	return h.MultipartExpiry
}

// expired reports whether up, initiated at its time, has outlived the
// expiry at now.
func (h *Handler) expired(up *mpUpload, now time.Time) bool {
	exp := h.multipartExpiry()
	return exp > 0 && !up.completing && now.Sub(up.initiated) >= exp
}

// AbortStale aborts the multipart uploads initiated MultipartExpiry or
// longer before now and not being completed, deleting their parts, as an
// S3 lifecycle rule with AbortIncompleteMultipartUpload does, and returns
// how many it aborted. The Handler calls it itself, at most once a minute,
// from its multipart calls, and never answers a call naming an expired
// upload, whether or not it was removed yet; a server that wants the
// parts of abandoned uploads deleted without waiting for a call may call
// it from a timer. It is safe to call concurrently with requests.
func (h *Handler) AbortStale(now time.Time) int {
	m := &h.mp
	var trash []string
	m.mu.Lock()
	n := h.abortStaleLocked(now, &trash)
	m.mu.Unlock()
	removeFiles(trash)
	return n
}

func (h *Handler) abortStaleLocked(now time.Time, trash *[]string) int {
	m := &h.mp
	m.lastSweep = now
	n := 0
	for id, up := range m.uploads {
		if h.expired(up, now) {
			h.endLocked(up, trash)
			delete(m.uploads, id)
			n++
		}
	}
	return n
}

// endLocked drops every part of up.
func (h *Handler) endLocked(up *mpUpload, trash *[]string) {
	for _, p := range up.parts {
		p.drop(trash)
	}
}

// begin starts a multipart call at now: it takes the lock and, at most
// once per sweepEvery, aborts expired uploads. The caller unlocks and
// then removes the files of trash.
func (h *Handler) begin(now time.Time, trash *[]string) {
	m := &h.mp
	m.mu.Lock()
	if m.uploads == nil {
		m.uploads = make(map[string]*mpUpload)
	}
	if d := now.Sub(m.lastSweep); d >= sweepEvery || d < 0 {
		h.abortStaleLocked(now, trash)
	}
}

func noSuchUpload(id string) *S3Error {
	return s3err(CodeNoSuchUpload, http.StatusNotFound,
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		postpolicy.Field{Name: "UploadId", Value: id})
}

func operationAborted() *S3Error {
	return s3err(CodeOperationAborted, http.StatusConflict,
		"A conflicting conditional operation is currently in progress against this resource. Please try again.")
}

// lookupLocked returns the upload id of bucket and key, or NoSuchUpload:
// for an unknown id, the id of another object's upload (which the answer
// does not tell apart), and an expired upload, which it removes.
func (h *Handler) lookupLocked(id, bucket, key string, now time.Time, trash *[]string) (*mpUpload, error) {
	m := &h.mp
	up := m.uploads[id]
	if up == nil || up.bucket != bucket || up.key != key {
		return nil, noSuchUpload(id)
	}
	if h.expired(up, now) {
		h.endLocked(up, trash)
		delete(m.uploads, id)
		return nil, noSuchUpload(id)
	}
	return up, nil
}

// writeXML answers status with v as an XML document.
func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		WriteError(w, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createUpload answers CreateMultipartUpload: POST /BUCKET/KEY?uploads.
// The upload keeps the request's Content-Type and x-amz-meta-* headers for
// the object.
func (h *Handler) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	u, err := h.Verifier.VerifyRequest(r, bucket, key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := CheckKey(key); err != nil {
		h.writeError(w, r, err)
		return
	}
	// The body is empty; reading it checks the digests it was signed with.
	if _, err := io.Copy(io.Discard, io.LimitReader(u.File, maxCompleteBody)); err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.Verifier.now()
	up := &mpUpload{
		id:        rand.Text(), // 128 random bits, base32
		bucket:    bucket,
		key:       key,
		info:      ObjectInfo{ContentType: u.ContentType(), Metadata: u.Metadata(), Headers: u.EntityHeaders()},
		initiated: now,
		parts:     make(map[int]*part),
	}
	var trash []string
	h.begin(now, &trash)
	h.mp.uploads[up.id] = up
	h.mp.mu.Unlock()
	removeFiles(trash)
	writeXML(w, http.StatusOK, initiateResult{Bucket: bucket, Key: key, UploadID: up.id})
}

// partNumber parses the partNumber parameter of an UploadPart.
func partNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, s3err(CodeInvalidArgument, http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive",
			postpolicy.Field{Name: "ArgumentName", Value: "partNumber"}, postpolicy.Field{Name: "ArgumentValue", Value: v})
	}
	return n, nil
}

// uploadPart answers UploadPart: PUT /BUCKET/KEY?partNumber=N&uploadId=ID.
// The part is written apart and installed only once its body has been
// read to its end and checked; an earlier part N stays until then.
func (h *Handler) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key, id, number string) {
	u, err := h.Verifier.VerifyRequest(r, bucket, key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	n, err := partNumber(number)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := refuseCopy(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Known before the body is read, and again once it is stored.
	var trash []string
	now := h.Verifier.now()
	h.begin(now, &trash)
	up, err := h.lookupLocked(id, bucket, key, now, &trash)
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}

	p, err := h.writePart(u.File, r.ContentLength)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p.number, p.lastModified = n, h.Verifier.now()

	trash = trash[:0]
	h.begin(p.lastModified, &trash)
	cur, err := h.lookupLocked(id, bucket, key, p.lastModified, &trash)
	if err == nil && cur != up {
		err = noSuchUpload(id)
	}
	if err != nil {
		p.drop(&trash)
	} else {
		if old := up.parts[n]; old != nil {
			old.drop(&trash)
		}
		up.parts[n] = p
	}
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+p.etag()+`"`)
	w.WriteHeader(http.StatusOK)
}

// refuseCopy answers NotImplemented to a PUT with x-amz-copy-source (a
// CopyObject or UploadPartCopy), which would otherwise store its empty
// body.
func refuseCopy(r *http.Request) error {
	if len(r.Header.Values("X-Amz-Copy-Source")) > 0 {
		return s3err(CodeNotImplemented, http.StatusNotImplemented, "A header you provided implies functionality that is not implemented",
			postpolicy.Field{Name: "Header", Value: "x-amz-copy-source"})
	}
	return nil
}

// writePart stores a part's body, of size bytes when known (a hint), in
// memory or in a new file of PartDir, and returns it with its size and
// MD5. When reading body fails nothing is kept.
func (h *Handler) writePart(body io.Reader, size int64) (*part, error) {
	hash := md5.New()
	p := new(part)
	if h.PartDir == "" {
		// Room for the signed size and the MinRead bytes ReadFrom wants
		// free before each read, so that the buffer is not doubled at
		// the end; the first 64 MiB only, since the size is the client's.
		var buf bytes.Buffer
		buf.Grow(int(min(max(size, 0), 64<<20)) + bytes.MinRead)
		n, err := buf.ReadFrom(io.TeeReader(body, hash))
		if err != nil {
			return nil, err
		}
		p.mem, p.size = buf.Bytes(), n
	} else {
		f, err := os.CreateTemp(h.PartDir, "part-*")
		if err != nil {
			return nil, fmt.Errorf("receiver: storing a part: %w", err)
		}
		n, err := io.Copy(io.MultiWriter(f, hash), body)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("receiver: storing a part: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
			return nil, err
		}
		p.path, p.size = f.Name(), n
	}
	hash.Sum(p.md5[:0])
	return p, nil
}

type listPartsResult struct {
	XMLName              xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string       `xml:"Bucket"`
	Key                  string       `xml:"Key"`
	UploadID             string       `xml:"UploadId"`
	PartNumberMarker     int          `xml:"PartNumberMarker"`
	NextPartNumberMarker int          `xml:"NextPartNumberMarker"`
	MaxParts             int          `xml:"MaxParts"`
	IsTruncated          bool         `xml:"IsTruncated"`
	Parts                []listedPart `xml:"Part"`
	StorageClass         string       `xml:"StorageClass"`
}

type listedPart struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

// s3Time is the form of S3's XML timestamps.
const s3Time = "2006-01-02T15:04:05.000Z"

// listParam parses the max-parts or part-number-marker parameter of a
// ListParts, def when it is absent, with S3's answers (as LocalStack and
// moto record them).
func listParam(r *http.Request, name string, def int) (int, error) {
	v, ok := r.URL.Query()[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	switch {
	case err != nil || n > math.MaxInt32:
		return 0, s3err(CodeInvalidArgument, http.StatusBadRequest, "Provided "+name+" not an integer or within integer range",
			postpolicy.Field{Name: "ArgumentName", Value: name}, postpolicy.Field{Name: "ArgumentValue", Value: v[0]})
	case n < 0:
		return 0, s3err(CodeInvalidArgument, http.StatusBadRequest, "Argument "+name+" must be an integer between 0 and 2147483647",
			postpolicy.Field{Name: "ArgumentName", Value: name}, postpolicy.Field{Name: "ArgumentValue", Value: v[0]})
	}
	return int(n), nil
}

// listParts answers ListParts: GET /BUCKET/KEY?uploadId=ID, with the
// max-parts (at most 1,000, the default) and part-number-marker
// parameters.
func (h *Handler) listParts(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	if _, err := h.Verifier.VerifyRequest(r, bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	maxParts, err := listParam(r, "max-parts", maxListParts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	marker, err := listParam(r, "part-number-marker", 0)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	maxParts = min(maxParts, maxListParts)
	res := listPartsResult{Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker, MaxParts: maxParts, StorageClass: "STANDARD"}

	var trash []string
	now := h.Verifier.now()
	h.begin(now, &trash)
	up, err := h.lookupLocked(id, bucket, key, now, &trash)
	if err == nil {
		numbers := make([]int, 0, len(up.parts))
		for n := range up.parts {
			if n > marker {
				numbers = append(numbers, n)
			}
		}
		slices.Sort(numbers)
		if len(numbers) > maxParts {
			numbers, res.IsTruncated = numbers[:maxParts], true
		}
		for _, n := range numbers {
			p := up.parts[n]
			res.Parts = append(res.Parts, listedPart{PartNumber: n, LastModified: p.lastModified.UTC().Format(s3Time), ETag: `"` + p.etag() + `"`, Size: p.size})
		}
	}
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(res.Parts) > 0 {
		res.NextPartNumberMarker = res.Parts[len(res.Parts)-1].PartNumber
	}
	writeXML(w, http.StatusOK, res)
}

// completeRequest is the body of a CompleteMultipartUpload; elements it
// does not name (the parts' checksums) are ignored.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func malformedXML() *S3Error {
	return s3err(CodeMalformedXML, http.StatusBadRequest,
		"The XML you provided was not well-formed or did not validate against our published schema")
}

// sameETag reports whether the ETag a client sent names the part whose
// ETag is etag: quoted or not, hex digits in either case.
func sameETag(sent, etag string) bool {
	sent = strings.TrimSpace(sent)
	if len(sent) >= 2 && sent[0] == '"' && sent[len(sent)-1] == '"' {
		sent = sent[1 : len(sent)-1]
	}
	return strings.EqualFold(sent, etag)
}

// multipartETag returns S3's ETag of an object made of parts: the hex MD5
// of their binary MD5s, "-", their number.
func multipartETag(parts []*part) string {
	h := md5.New()
	for _, p := range parts {
		h.Write(p.md5[:])
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}

// completeUpload answers CompleteMultipartUpload: POST
// /BUCKET/KEY?uploadId=ID with the list of parts. The parts are checked
// and pinned under the lock, then streamed in order into Store.Put.
func (h *Handler) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key, id string, virtual bool) {
	u, err := h.Verifier.VerifyRequest(r, bucket, key)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if r.ContentLength > maxCompleteBody {
		h.writeError(w, r, malformedXML())
		return
	}
	body, err := io.ReadAll(io.LimitReader(u.File, maxCompleteBody+1))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req completeRequest
	if len(body) > maxCompleteBody || xml.Unmarshal(body, &req) != nil || len(req.Parts) == 0 {
		h.writeError(w, r, malformedXML())
		return
	}
	for i := 1; i < len(req.Parts); i++ {
		if req.Parts[i].PartNumber <= req.Parts[i-1].PartNumber {
			h.writeError(w, r, s3err(CodeInvalidPartOrder, http.StatusBadRequest,
				"The list of parts was not in ascending order. The parts list must be specified in order by part number.",
				postpolicy.Field{Name: "UploadId", Value: id}))
			return
		}
	}

	var trash []string
	now := h.Verifier.now()
	h.begin(now, &trash)
	up, parts, info, err := h.snapshotLocked(id, bucket, key, now, &req, &trash)
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}

	info.ETag = multipartETag(parts)
	content := &partsReader{ctx: r.Context(), parts: parts}
	stored, err := h.Store.Put(r.Context(), bucket, key, info, content)
	content.Close()

	trash = trash[:0]
	h.mp.mu.Lock()
	up.completing = false
	for _, p := range parts {
		p.unpin(&trash)
	}
	if err == nil {
		h.endLocked(up, &trash)
		if h.mp.uploads[id] == up {
			delete(h.mp.uploads, id)
		}
	}
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	etag := stored.ETag
	if etag == "" {
		etag = info.ETag
	}
	writeXML(w, http.StatusOK, completeResult{Location: h.objectURL(r, bucket, key, virtual), Bucket: bucket, Key: key, ETag: `"` + etag + `"`})
}

// snapshotLocked checks the parts req lists against the upload's and, when
// they are right, marks the upload completing and pins them. It returns
// the upload, the parts in order and the object's ObjectInfo.
func (h *Handler) snapshotLocked(id, bucket, key string, now time.Time, req *completeRequest, trash *[]string) (*mpUpload, []*part, ObjectInfo, error) {
	up, err := h.lookupLocked(id, bucket, key, now, trash)
	if err != nil {
		return nil, nil, ObjectInfo{}, err
	}
	if up.completing {
		return nil, nil, ObjectInfo{}, operationAborted()
	}
	parts := make([]*part, len(req.Parts))
	var total int64
	for i, rp := range req.Parts {
		p := up.parts[rp.PartNumber]
		if p == nil || !sameETag(rp.ETag, p.etag()) {
			return nil, nil, ObjectInfo{}, s3err(CodeInvalidPart, http.StatusBadRequest,
				"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
				postpolicy.Field{Name: "UploadId", Value: id}, postpolicy.Field{Name: "PartNumber", Value: strconv.Itoa(rp.PartNumber)},
				postpolicy.Field{Name: "ETag", Value: rp.ETag})
		}
		parts[i] = p
		total += p.size
	}
	minSize := h.minPartSize()
	for _, p := range parts[:len(parts)-1] {
		if p.size < minSize {
			e := tooSmall(p.size, minSize)
			e.Extra = append(e.Extra, postpolicy.Field{Name: "PartNumber", Value: strconv.Itoa(p.number)}, postpolicy.Field{Name: "ETag", Value: p.etag()})
			return nil, nil, ObjectInfo{}, e
		}
	}
	if total > maxObjectSize {
		return nil, nil, ObjectInfo{}, tooLarge(total, maxObjectSize)
	}
	up.completing = true
	for _, p := range parts {
		p.pins++
	}
	return up, parts, up.info, nil
}

// abortUpload answers AbortMultipartUpload: DELETE /BUCKET/KEY?uploadId=ID.
func (h *Handler) abortUpload(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	if _, err := h.Verifier.VerifyRequest(r, bucket, key); err != nil {
		h.writeError(w, r, err)
		return
	}
	var trash []string
	now := h.Verifier.now()
	h.begin(now, &trash)
	up, err := h.lookupLocked(id, bucket, key, now, &trash)
	switch {
	case err != nil:
	case up.completing:
		err = operationAborted()
	default:
		h.endLocked(up, &trash)
		delete(h.mp.uploads, id)
	}
	h.mp.mu.Unlock()
	removeFiles(trash)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// partsReader reads parts one after the other, opening each part's file
// only when it is reached, and fails when ctx is done (the client of the
// Complete went away) or a part file does not hold its part's size.
type partsReader struct {
	ctx   context.Context
	parts []*part
	cur   io.ReadCloser
	n     int64 // bytes read from cur
	err   error
}

var errPartChanged = errors.New("receiver: a part file does not hold the part's size")

func (p *partsReader) Read(b []byte) (int, error) {
	for p.err == nil {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			break
		}
		if p.cur == nil {
			if len(p.parts) == 0 {
				p.err = io.EOF
				break
			}
			if pt := p.parts[0]; pt.path != "" {
				f, err := os.Open(pt.path)
				if err != nil {
					p.err = fmt.Errorf("receiver: reading a part: %w", err)
					break
				}
				p.cur = f
			} else {
				p.cur = io.NopCloser(bytes.NewReader(pt.mem))
			}
			p.n = 0
		}
		n, err := p.cur.Read(b)
		p.n += int64(n)
		switch {
		case err == io.EOF:
			p.cur.Close()
			p.cur = nil
			if p.n != p.parts[0].size {
				p.err = errPartChanged
			}
			p.parts = p.parts[1:]
		case err != nil:
			p.err = fmt.Errorf("receiver: reading a part: %w", err)
		}
		if p.err != nil {
			return n, p.err
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, p.err
}

// Close closes the file being read.
func (p *partsReader) Close() error {
	if p.cur != nil {
		p.cur.Close()
		p.cur = nil
	}
	return nil
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Prefix             string         `xml:"Prefix"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []listedUpload `xml:"Upload"`
}

type listedUpload struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

// maxListUploads is the most uploads ListMultipartUploads returns at once.
const maxListUploads = 1000

// listUploads answers ListMultipartUploads: GET /BUCKET?uploads
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html),
// with the prefix, key-marker, upload-id-marker and max-uploads (at most
// 1,000, the default) parameters. Uploads are listed by key, and those of
// one key in the order they were initiated, as S3 lists them for a
// general purpose bucket. upload-id-marker, with key-marker, continues
// after that upload of the key-marker's key (an upload id that is no
// longer listed: after the ids lexicographically smaller or equal, S3's
// wording). Expired uploads are not listed. The delimiter and
// encoding-type parameters are NotImplemented.
func (h *Handler) listUploads(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, err := h.Verifier.VerifyRequest(r, bucket, ""); err != nil {
		h.writeError(w, r, err)
		return
	}
	query := r.URL.Query()
	for _, name := range []string{"delimiter", "encoding-type"} {
		if query.Has(name) {
			h.writeError(w, r, s3err(CodeNotImplemented, http.StatusNotImplemented, "A parameter you provided implies functionality that is not implemented",
				postpolicy.Field{Name: "ArgumentName", Value: name}))
			return
		}
	}
	maxUploads, err := listParam(r, "max-uploads", maxListUploads)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	maxUploads = min(maxUploads, maxListUploads)
	prefix, keyMarker, idMarker := query.Get("prefix"), query.Get("key-marker"), query.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = "" // ignored without key-marker
	}
	res := listUploadsResult{Bucket: bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxUploads}

	var trash []string
	now := h.Verifier.now()
	h.begin(now, &trash)
	var ups []*mpUpload
	for _, up := range h.mp.uploads {
		if up.bucket == bucket && strings.HasPrefix(up.key, prefix) && up.key >= keyMarker && !h.expired(up, now) {
			ups = append(ups, up)
		}
	}
	slices.SortFunc(ups, func(a, b *mpUpload) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := a.initiated.Compare(b.initiated); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	// Past the markers: keys after key-marker and, with upload-id-marker,
	// the key-marker's uploads after that one.
	n := 0
	for n < len(ups) && ups[n].key == keyMarker {
		n++
	}
	same, rest := ups[:n], ups[n:]
	var listed []*mpUpload
	if idMarker != "" {
		if i := slices.IndexFunc(same, func(up *mpUpload) bool { return up.id == idMarker }); i >= 0 {
			listed = append(listed, same[i+1:]...)
		} else {
			for _, up := range same {
				if up.id > idMarker {
					listed = append(listed, up)
				}
			}
		}
	}
	ups = append(listed, rest...)
	if len(ups) > maxUploads {
		ups, res.IsTruncated = ups[:maxUploads], true
	}
	for _, up := range ups {
		res.Uploads = append(res.Uploads, listedUpload{Key: up.key, UploadID: up.id, StorageClass: "STANDARD", Initiated: up.initiated.UTC().Format(s3Time)})
	}
	h.mp.mu.Unlock()
	removeFiles(trash)
	if n := len(res.Uploads); n > 0 {
		res.NextKeyMarker, res.NextUploadIDMarker = res.Uploads[n-1].Key, res.Uploads[n-1].UploadID
	}
	writeXML(w, http.StatusOK, res)
}
