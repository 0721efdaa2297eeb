package receiver_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/postpolicy/postpolicy/receiver"
)

// TestVerifyPartDisposition posts parts whose Content-Disposition tries to
// change a field's name or the file's name: RFC 2231 / RFC 5987 starred
// parameters (name*, filename*), which RFC 7578 section 4.2 tells senders
// not to use for file names and which the Verifier ignores; a disposition
// other than form-data; a NUL in a file name; a second Content-Disposition
// header. Only the plain name and filename parameters of a part's one
// form-data disposition name it.
func TestVerifyPartDisposition(t *testing.T) {
	form, v := reliabilityForm(t) // key up/${filename}, 1 to 100 bytes
	const file = `form-data; name="file"; filename="a.txt"`
	for _, tc := range []struct {
		name  string
		parts []string // Content-Disposition values, before the file part unless one names it
		raw   string   // a part as sent, headers and all, before the file part
		key   string   // the key of a verified upload
		code  receiver.ErrorCode
	}{
		{name: "filename* after filename", parts: []string{`form-data; name="file"; filename="plain.png"; filename*=UTF-8''evil%0D%0A%00.png`}, key: "up/plain.png"},
		{name: "filename* before filename", parts: []string{`form-data; name="file"; filename*=UTF-8''evil%0D%0A%00.png; filename="plain.png"`}, key: "up/plain.png"},
		{name: "filename* alone", parts: []string{`form-data; name="file"; filename*=UTF-8''evil%0D%0A%00.png`}, key: "up/${filename}"},
		{name: "filename continuation", parts: []string{`form-data; name="file"; filename="plain.png"; filename*0="ev"; filename*1="il.png"`}, key: "up/plain.png"},
		{name: "name* makes an ignored field the key", parts: []string{`form-data; name="x-ignore-a"; name*=UTF-8''key`, file}, key: "up/a.txt"},
		{name: "name* makes a field the file", parts: []string{`form-data; name="x-ignore-f"; name*=UTF-8''file; filename="a.txt"`}, code: receiver.CodeIncorrectNumberOfFilesInPOST},
		{name: "parameter names in upper case", parts: []string{`form-data; NAME="file"; FileName="b.txt"`}, key: "up/b.txt"},
		{name: "tokens and spaces", parts: []string{`Form-Data ;name=file ; filename = b.txt`}, key: "up/b.txt"},
		{name: "escaped quote", parts: []string{`form-data; name="file"; filename="b\"c.txt"`}, key: `up/b"c.txt`},
		{name: "attachment", parts: []string{`attachment; name="file"; filename="a.txt"`}, code: receiver.CodeMalformedPOSTRequest},
		{name: "no disposition type", parts: []string{`name="file"; filename="a.txt"`}, code: receiver.CodeMalformedPOSTRequest},
		{name: "NUL in the file name", parts: []string{"form-data; name=\"file\"; filename=\"a\x00.txt\""}, code: receiver.CodeMalformedPOSTRequest},
		{name: "unterminated quote", parts: []string{`form-data; name="file"; filename="a.txt`}, code: receiver.CodeMalformedPOSTRequest},
		{name: "duplicate name", parts: []string{`form-data; name="x-ignore-a"; name="key"`, file}, code: receiver.CodeMalformedPOSTRequest},
		{name: "duplicate filename", parts: []string{`form-data; name="file"; filename="a.txt"; FILENAME="b.txt"`}, code: receiver.CodeMalformedPOSTRequest},
		{name: "empty name", parts: []string{`form-data; name=""`, file}, code: receiver.CodeMalformedPOSTRequest},
		{name: "two Content-Disposition headers", raw: "Content-Disposition: form-data; name=\"x-ignore-a\"\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nother/x\r\n", code: receiver.CodeMalformedPOSTRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &rawBody{boundary: "b"}
			for _, f := range form.Fields {
				body.field(f.Name, f.Value)
			}
			if tc.raw != "" {
				fmt.Fprintf(&body.b, "--%s\r\n%s", body.boundary, tc.raw)
			}
			parts := tc.parts
			if len(parts) == 0 {
				parts = []string{file}
			}
			for _, p := range parts {
				body.part(p, "content")
			}
			body.end()
			req := httptest.NewRequest(http.MethodPost, "http://s3.example/rel", bytes.NewReader(body.b.Bytes()))
			req.Header.Set("Content-Type", body.contentType())
			up, err := v.Verify(req, "rel")
			if err == nil {
				_, err = io.ReadAll(up.File)
			}
			if tc.code != "" {
				if !errors.Is(err, tc.code) {
					key := ""
					if up != nil {
						key = up.Key
					}
					t.Fatalf("got %v (key %q), want %s", err, key, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want the key %q", err, tc.key)
			}
			if up.Key != tc.key {
				t.Errorf("key %q, want %q", up.Key, tc.key)
			}
		})
	}
}
