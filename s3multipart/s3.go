package s3multipart

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/postpolicy/postpolicy"
)

// This file is the S3 API calls the Backend makes itself, each signed in
// its Authorization header with Signer.SignRequest: CreateMultipartUpload,
// ListParts, CompleteMultipartUpload, AbortMultipartUpload and
// ListMultipartUploads.

// maxAnswer is the most of an S3 answer read: a ListParts page of 1,000
// parts is about 200 KB.
const maxAnswer = 4 << 20

// objectURL returns the URL of key in bucket as the Signer addresses it
// (Signer.ObjectURL: its Endpoint and URLStyle), without a query.
func (b *Backend) objectURL(_ context.Context, bucket, key string) (*url.URL, error) {
	raw, err := b.Signer.ObjectURL(bucket, key)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("s3multipart: the Signer's URL of an object does not parse: %w", err)
	}
	return u, nil
}

// bucketURL returns the URL of bucket, ending in '/'.
func (b *Backend) bucketURL(ctx context.Context, bucket string) (*url.URL, error) {
	return b.objectURL(ctx, bucket, "")
}

// s3Escape encodes a query parameter as SigV4 canonicalises it (RFC 3986:
// every byte but A-Z a-z 0-9 - . _ ~ as %XY), so that the query sent is
// the query signed.
func s3Escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// query builds a query string of name and value pairs; a pair with an
// empty value is the bare name (?uploads).
func query(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			parts = append(parts, s3Escape(pairs[i]))
		} else {
			parts = append(parts, s3Escape(pairs[i])+"="+s3Escape(pairs[i+1]))
		}
	}
	return strings.Join(parts, "&")
}

// call sends the S3 call op: method on u with rawQuery, headers and body,
// signed with the SHA-256 of the body. It returns S3's answer when it is
// 2xx, and an *S3Error otherwise.
func (b *Backend) call(ctx context.Context, op, method string, u *url.URL, rawQuery string, header http.Header, body []byte) (int, []byte, error) {
	target := *u
	target.RawQuery = rawQuery
	req, err := http.NewRequestWithContext(ctx, method, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("s3multipart: %s: %w", op, err)
	}
	req.URL.Path, req.URL.RawPath = u.Path, "" // SignRequest encodes it
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if err := b.Signer.SignRequest(ctx, req, postpolicy.PayloadHash(body)); err != nil {
		return 0, nil, err
	}
	resp, err := b.client().Do(req)
	if err != nil {
		return 0, nil, &storeError{op: op, err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, &storeError{op: op, err: err}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, nil, s3Error(op, resp.StatusCode, answer)
	}
	return resp.StatusCode, answer, nil
}

// storeError is a call that got no answer from S3: the network, a
// timeout, a cancelled context.
type storeError struct {
	op  string
	err error
}

func (e *storeError) Error() string { return "s3multipart: " + e.op + ": " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// s3Error returns the S3Error of an answer of status with body.
func s3Error(op string, status int, body []byte) *S3Error {
	e := &S3Error{Operation: op, Status: status, Message: http.StatusText(status)}
	var x struct {
		XMLName   xml.Name
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(bytes.TrimSpace(body), &x) == nil && x.XMLName.Local == "Error" {
		e.Code, e.RequestID = x.Code, x.RequestID
		if x.Message != "" {
			e.Message = x.Message
		}
	}
	return e
}

// decode parses an XML answer of op into v, whose root element must be
// root; an <Error> document is S3's error (CompleteMultipartUpload's 200
// with an error body).
func decode(op string, status int, body []byte, root string, v any) error {
	body = bytes.TrimSpace(body) // S3 may send whitespace while it works
	var head struct{ XMLName xml.Name }
	if err := xml.Unmarshal(body, &head); err != nil {
		return &storeError{op: op, err: fmt.Errorf("the answer is not XML: %w", err)}
	}
	switch head.XMLName.Local {
	case "Error":
		return s3Error(op, status, body)
	case root:
		if err := xml.Unmarshal(body, v); err != nil {
			return &storeError{op: op, err: fmt.Errorf("the answer does not parse: %w", err)}
		}
		return nil
	}
	return &storeError{op: op, err: fmt.Errorf("the answer is a %s, not a %s", head.XMLName.Local, root)}
}

// createUpload starts a multipart upload of key in bucket, the object to
// have contentType and the metadata meta ("CreateMultipartUpload",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html),
// and returns its upload id.
func (b *Backend) createUpload(ctx context.Context, bucket, key, contentType string, meta []postpolicy.Field) (string, error) {
	const op = "CreateMultipartUpload"
	u, err := b.objectURL(ctx, bucket, key)
	if err != nil {
		return "", err
	}
	header := http.Header{"Content-Type": {contentType}}
	for _, m := range meta {
		header["X-Amz-Meta-"+m.Name] = []string{m.Value} // signed and sent in lower case
	}
	status, body, err := b.call(ctx, op, http.MethodPost, u, query("uploads", ""), header, nil)
	if err != nil {
		return "", err
	}
	var res struct {
		Bucket   string `xml:"Bucket"`
		Key      string `xml:"Key"`
		UploadID string `xml:"UploadId"`
	}
	if err := decode(op, status, body, "InitiateMultipartUploadResult", &res); err != nil {
		return "", err
	}
	if res.UploadID == "" {
		return "", &storeError{op: op, err: errors.New("the answer has no UploadId")}
	}
	if res.Key != "" && res.Key != key || res.Bucket != "" && res.Bucket != bucket {
		// Not the upload asked for: abort it rather than leave it.
		b.abortUpload(context.WithoutCancel(ctx), bucket, res.Key, res.UploadID)
		return "", &storeError{op: op, err: errors.New("the answer names another bucket or key")}
	}
	return res.UploadID, nil
}

// listParts returns the parts of an upload, every page of them
// ("ListParts", https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html).
func (b *Backend) listParts(ctx context.Context, bucket, key, uploadID string) ([]Part, error) {
	const op = "ListParts"
	u, err := b.objectURL(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	var parts []Part
	marker := 0
	for {
		q := query("uploadId", uploadID)
		if marker > 0 {
			q = query("part-number-marker", strconv.Itoa(marker), "uploadId", uploadID)
		}
		status, body, err := b.call(ctx, op, http.MethodGet, u, q, nil, nil)
		if err != nil {
			return nil, err
		}
		var res struct {
			IsTruncated          bool   `xml:"IsTruncated"`
			NextPartNumberMarker int    `xml:"NextPartNumberMarker"`
			Parts                []Part `xml:"Part"`
		}
		if err := decode(op, status, body, "ListPartsResult", &res); err != nil {
			return nil, err
		}
		parts = append(parts, res.Parts...)
		if !res.IsTruncated {
			return parts, nil
		}
		if res.NextPartNumberMarker <= marker {
			return nil, &storeError{op: op, err: errors.New("a truncated answer does not move its NextPartNumberMarker forward")}
		}
		marker = res.NextPartNumberMarker
	}
}

// completeRequest is the body of a CompleteMultipartUpload.
type completeRequest struct {
	XMLName xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUpload"`
	Parts   []completePart `xml:"Part"`
}

type completePart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

// completeUpload completes an upload with parts, in order
// ("CompleteMultipartUpload",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html),
// and returns the object's Location and ETag. S3 can answer 200 and fail
// in the body, an <Error> document, which is returned as an *S3Error.
func (b *Backend) completeUpload(ctx context.Context, bucket, key, uploadID string, parts []Part) (location, etag string, err error) {
	const op = "CompleteMultipartUpload"
	u, err := b.objectURL(ctx, bucket, key)
	if err != nil {
		return "", "", err
	}
	req := completeRequest{Parts: make([]completePart, len(parts))}
	for i, p := range parts {
		tag := p.ETag
		if !strings.HasPrefix(tag, `"`) {
			tag = `"` + tag + `"` // Uppy sends ETags without their quotes
		}
		req.Parts[i] = completePart{PartNumber: p.PartNumber, ETag: tag}
	}
	body, err := xml.Marshal(req)
	if err != nil {
		return "", "", fmt.Errorf("s3multipart: %s: %w", op, err)
	}
	header := http.Header{"Content-Type": {"application/xml"}}
	status, answer, err := b.call(ctx, op, http.MethodPost, u, query("uploadId", uploadID), header, body)
	if err != nil {
		return "", "", err
	}
	var res struct {
		Location string `xml:"Location"`
		ETag     string `xml:"ETag"`
	}
	if err := decode(op, status, answer, "CompleteMultipartUploadResult", &res); err != nil {
		return "", "", err
	}
	if res.Location == "" {
		res.Location = u.String()
	}
	return res.Location, res.ETag, nil
}

// abortUpload aborts an upload, deleting its parts
// ("AbortMultipartUpload",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html).
func (b *Backend) abortUpload(ctx context.Context, bucket, key, uploadID string) error {
	u, err := b.objectURL(ctx, bucket, key)
	if err != nil {
		return err
	}
	_, _, err = b.call(ctx, "AbortMultipartUpload", http.MethodDelete, u, query("uploadId", uploadID), nil, nil)
	return err
}

// listedUpload is an upload in progress that ListMultipartUploads lists.
type listedUpload struct {
	Key       string `xml:"Key"`
	UploadID  string `xml:"UploadId"`
	Initiated string `xml:"Initiated"`
}

// listUploads returns the uploads in progress in bucket under prefix,
// every page of them ("ListMultipartUploads",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html).
func (b *Backend) listUploads(ctx context.Context, bucket, prefix string) ([]listedUpload, error) {
	const op = "ListMultipartUploads"
	u, err := b.bucketURL(ctx, bucket)
	if err != nil {
		return nil, err
	}
	var all []listedUpload
	keyMarker, idMarker := "", ""
	for {
		pairs := []string{"uploads", "", "prefix", prefix}
		if keyMarker != "" {
			pairs = append(pairs, "key-marker", keyMarker, "upload-id-marker", idMarker)
		}
		status, body, err := b.call(ctx, op, http.MethodGet, u, query(pairs...), nil, nil)
		if err != nil {
			return nil, err
		}
		var res struct {
			IsTruncated        bool           `xml:"IsTruncated"`
			NextKeyMarker      string         `xml:"NextKeyMarker"`
			NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
			Uploads            []listedUpload `xml:"Upload"`
		}
		if err := decode(op, status, body, "ListMultipartUploadsResult", &res); err != nil {
			return nil, err
		}
		all = append(all, res.Uploads...)
		if !res.IsTruncated {
			return all, nil
		}
		if res.NextKeyMarker == "" || res.NextKeyMarker == keyMarker && res.NextUploadIDMarker == idMarker {
			return nil, &storeError{op: op, err: errors.New("a truncated answer does not move its markers forward")}
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}
