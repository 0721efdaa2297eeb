package receiver

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/postform"
)

// Upload is a browser upload that passed every check that can be made
// before its file is read.
type Upload struct {
	// Method is POST for a form from Verifier.Verify or VerifyFields; the
	// request's method (PUT, GET, HEAD, POST, DELETE) for a signed request
	// from Verifier.VerifyRequest or VerifyPresigned.
	Method string
	// Bucket is the bucket the upload was posted to.
	Bucket string
	// Key is the object key, with ${filename} replaced.
	Key string
	// AccessKeyID is the access key that signed the policy.
	AccessKeyID string
	// Policy is the verified, parsed policy of a form; zero for a
	// presigned request.
	Policy postpolicy.Policy
	// Expires is when the policy or the presigned URL expires.
	Expires time.Time
	// Fields are the fields received before the file, in order, names as
	// sent and ${filename} replaced in the values.
	Fields []postpolicy.Field
	// Filename is the file name the browser sent with the file part, as
	// sent (it may hold a path); empty when it sent none.
	Filename string
	// File is the file's content, from Verifier.Verify (nil from
	// VerifyFields). Reading it enforces content-length-range, the 5 GiB
	// limit and the x-amz-checksum-* digest: it returns an *S3Error
	// (EntityTooLarge, EntityTooSmall, BadDigest, IncompleteBody,
	// MalformedPOSTRequest) instead of the last bytes or io.EOF when the
	// file breaks them or the body ends before the file does. A server
	// must read File to io.EOF, and store the object only then. The
	// EntityTooLarge error's ProposedSize is the number of bytes read when
	// the maximum was passed: a lower bound of the file's size, since the
	// rest is never read.
	File io.Reader

	minSize, maxSize int64
	sum              checksum
	file             *fileReader
}

// Get returns the value of the field named name (compared
// case-insensitively, as S3 does) and whether it was sent.
func (u *Upload) Get(name string) (string, bool) {
	return postpolicy.Fields(u.Fields).Get(name)
}

// ContentType returns the Content-Type field, which S3 stores as the
// object's Content-Type, or "" when none was sent (S3 then stores
// binary/octet-stream).
func (u *Upload) ContentType() string {
	v, _ := u.Get("Content-Type")
	return v
}

// EntityHeaders returns the standard headers besides Content-Type that S3
// stores with the object and answers with it: Cache-Control,
// Content-Disposition, Content-Encoding, Content-Language and Expires
// ("PutObject" and "CreateMultipartUpload" request headers,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html; a
// form's fields of those names, compared case-insensitively, "POST
// Object", https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html),
// those sent, names in that canonical form and order.
func (u *Upload) EntityHeaders() []postpolicy.Field {
	var h []postpolicy.Field
	for _, name := range storedEntityHeaders {
		if name == "Content-Type" {
			continue
		}
		if v, ok := u.Get(name); ok {
			h = append(h, postpolicy.Field{Name: name, Value: v})
		}
	}
	return h
}

// Metadata returns the x-amz-meta-* fields, in order, with their names in
// lower case as S3 stores them.
func (u *Upload) Metadata() []postpolicy.Field {
	var m []postpolicy.Field
	for _, f := range u.Fields {
		if postform.HasPrefixFold(f.Name, "x-amz-meta-") {
			m = append(m, postpolicy.Field{Name: strings.ToLower(f.Name), Value: f.Value})
		}
	}
	return m
}

// Size returns the number of file bytes read from File so far.
func (u *Upload) Size() int64 {
	if u.file == nil {
		return 0
	}
	return u.file.n
}

// CheckSize checks a file size against the policy's content-length-range
// conditions and the 5 GiB that S3 stores at most from one request
// ("Uploading objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html),
// for servers that read the file themselves (after VerifyFields):
// EntityTooLarge or EntityTooSmall, or nil.
func (u *Upload) CheckSize(n int64) error {
	if n > u.maxSize {
		return tooLarge(n, u.maxSize)
	}
	if n < u.minSize {
		return tooSmall(n, u.minSize)
	}
	return nil
}

// Checksum returns the algorithm and the digest the file must have, from
// the upload's x-amz-checksum-* fields (checked by VerifyFields), or ""
// and nil when it names none ("Checking object integrity in Amazon S3",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
// A server that reads the file itself hashes it with alg.New() and passes
// the Sum to CheckDigest. The digest is a copy.
func (u *Upload) Checksum() (alg postpolicy.ChecksumAlgorithm, digest []byte) {
	return u.sum.alg, bytes.Clone(u.sum.digest)
}

// CheckDigest checks a digest of the whole file, computed with the
// algorithm of Checksum (the bytes of the hash's Sum, not base64), for
// servers that read the file themselves (after VerifyFields): S3's
// BadDigest when it is not the digest the upload's x-amz-checksum-* field
// names, nil when it is or when the upload names no digest. Store the file
// only when it returns nil. The digest is not secret; the bytes are
// compared plainly.
func (u *Upload) CheckDigest(sum []byte) error {
	if u.sum.alg != "" && !bytes.Equal(sum, u.sum.digest) {
		return badDigest(u.sum.alg)
	}
	return nil
}

func tooLarge(n, max int64) *S3Error {
	return s3err(CodeEntityTooLarge, http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size",
		postpolicy.Field{Name: "ProposedSize", Value: strconv.FormatInt(n, 10)}, postpolicy.Field{Name: "MaxSizeAllowed", Value: strconv.FormatInt(max, 10)})
}

func tooSmall(n, min int64) *S3Error {
	return s3err(CodeEntityTooSmall, http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size",
		postpolicy.Field{Name: "ProposedSize", Value: strconv.FormatInt(n, 10)}, postpolicy.Field{Name: "MinSizeAllowed", Value: strconv.FormatInt(min, 10)})
}

// Respond writes S3's answer to a stored upload: a 303 See Other to
// success_action_redirect, with bucket, key and etag added to its query,
// when that field holds an absolute http(s) URL; otherwise the status of
// success_action_status: 200 with an empty body, 201 with a PostResponse
// XML document (Location, Bucket, Key, ETag), or, by default and for any
// other value, 204 No Content. etag is the stored object's ETag without
// quotes; location its URL.
func (u *Upload) Respond(w http.ResponseWriter, etag, location string) {
	quoted := `"` + etag + `"`
	h := w.Header()
	h.Set("ETag", quoted)
	if location != "" {
		h.Set("Location", location)
	}
	redirect, ok := u.Get("success_action_redirect")
	if !ok {
		redirect, ok = u.Get("redirect")
	}
	if ok {
		if to, err := url.Parse(redirect); err == nil && (to.Scheme == "http" || to.Scheme == "https") && to.Host != "" {
			q := url.Values{"bucket": {u.Bucket}, "key": {u.Key}, "etag": {quoted}}.Encode()
			if to.RawQuery != "" {
				to.RawQuery += "&" + q
			} else {
				to.RawQuery = q
			}
			h.Set("Location", to.String())
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	status, _ := u.Get("success_action_status")
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		body, err := xml.Marshal(postResponse{Location: location, Bucket: u.Bucket, Key: u.Key, ETag: quoted})
		if err != nil {
			w.WriteHeader(http.StatusCreated)
			return
		}
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(xml.Header))
		w.Write(body)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}
