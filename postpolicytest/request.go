package postpolicytest

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/postpolicy/postpolicy"
)

// NewRequest returns the request a browser sends to post form: a
// multipart/form-data POST to form.URL with the form's fields in order,
// then page (the fields the page adds, such as a key or Content-Type it
// chose), then the file, last, in a part named "file" with the file name
// filename. It reads content into memory; it is for tests.
func NewRequest(form *postpolicy.Form, page []postpolicy.Field, filename string, content io.Reader) (*http.Request, error) {
	fields := append(append(make([]postpolicy.Field, 0, len(form.Fields)+len(page)), form.Fields...), page...)
	return NewPostRequest(form.URL, fields, filename, content)
}

// NewPostRequest returns the multipart/form-data POST of fields, in
// order, then the file, last, in a part named "file" with the file name
// filename and Content-Type application/octet-stream, to url: what a
// browser sends for a form made by any signer (an SDK's field map, say).
// It reads content into memory; it is for tests.
func NewPostRequest(url string, fields []postpolicy.Field, filename string, content io.Reader) (*http.Request, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if err := mw.WriteField(f.Name, f.Value); err != nil {
			return nil, err
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(fw, content); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req, nil
}

// NewPresignedRequest returns the request a client sends for p, from
// [postpolicy.Signer.PresignPut] or PresignGet: p's method and URL, p's
// headers with their values, and content as the body (nil for none),
// whose length is sent as Content-Length. It reads
// content into memory; it is for tests.
func NewPresignedRequest(p *postpolicy.Presigned, content io.Reader) (*http.Request, error) {
	var body []byte
	if content != nil {
		var err error
		if body, err = io.ReadAll(content); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequest(p.Method, p.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	for _, h := range p.Header {
		if strings.EqualFold(h.Name, "Content-Length") {
			// net/http sends the body's length: a body of another size
			// than the signed one fails the signature, as it does on S3.
			continue
		}
		req.Header.Set(h.Name, h.Value)
	}
	return req, nil
}
