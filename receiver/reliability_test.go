package receiver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// The Verifier under faults and floods: bodies cut short, a flood of tiny
// or empty parts, and what its errors and answers may never hold.

// rawBody builds a multipart/form-data body by hand, with a boundary and
// headers as short as a hostile client may make them.
type rawBody struct {
	boundary string
	b        bytes.Buffer
}

func (r *rawBody) field(name, value string) {
	fmt.Fprintf(&r.b, "--%s\r\nContent-Disposition: form-data; name=%s\r\n\r\n%s\r\n", r.boundary, name, value)
}

func (r *rawBody) file(name, content string) {
	fmt.Fprintf(&r.b, "--%s\r\nContent-Disposition: form-data; name=file; filename=%s\r\n\r\n%s\r\n", r.boundary, name, content)
}

// part writes a part with the Content-Disposition header value
// disposition, as sent, and its content.
func (r *rawBody) part(disposition, content string) {
	fmt.Fprintf(&r.b, "--%s\r\nContent-Disposition: %s\r\n\r\n%s\r\n", r.boundary, disposition, content)
}

func (r *rawBody) end() { fmt.Fprintf(&r.b, "--%s--\r\n", r.boundary) }

func (r *rawBody) contentType() string { return "multipart/form-data; boundary=" + r.boundary }

// reliabilityForm signs a form for bucket "rel": any key under up/, a file
// of 1 to 100 bytes.
func reliabilityForm(t *testing.T) (*postpolicy.Form, *receiver.Verifier) {
	t.Helper()
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: []postpolicy.Condition{postpolicy.Bucket("rel"), postpolicy.Key("up/${filename}"), postpolicy.ContentLengthRange(1, 100)},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	return form, v
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// repeatReader yields unit n times, then the file part and the end, so
// that a flood of millions of parts is never held in memory.
func repeatReader(unit string, n int, tail string) io.Reader {
	return io.MultiReader(&patternUnit{unit: unit, left: n}, strings.NewReader(tail))
}

type patternUnit struct {
	unit string
	left int
	off  int
}

func (p *patternUnit) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) && p.left > 0 {
		c := copy(b[n:], p.unit[p.off:])
		n += c
		p.off += c
		if p.off == len(p.unit) {
			p.off = 0
			p.left--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestVerifyPreFileParts checks the cap on the fields before the file:
// MaxPreFileParts fields verify, one more is refused with
// MaxPostPreDataLengthExceeded, though the body is far under 20 KB.
func TestVerifyPreFileParts(t *testing.T) {
	form, v := reliabilityForm(t)
	build := func(fields int) *http.Request {
		body := &rawBody{boundary: "b"}
		for _, f := range form.Fields {
			body.field(f.Name, f.Value)
		}
		for i := len(form.Fields); i < fields; i++ {
			body.field("x-ignore-"+strconv.Itoa(i), "")
		}
		body.file("a.txt", "content")
		body.end()
		if body.b.Len() > postpolicy.MaxPreFileSize {
			t.Fatalf("the body of %d fields is %d bytes: over the 20 KB cap, so it cannot test the part cap", fields, body.b.Len())
		}
		req := httptest.NewRequest(http.MethodPost, "http://s3.example/rel", bytes.NewReader(body.b.Bytes()))
		req.Header.Set("Content-Type", body.contentType())
		return req
	}

	up, err := v.Verify(build(receiver.MaxPreFileParts), "rel")
	if err != nil {
		t.Fatalf("%d fields: %v", receiver.MaxPreFileParts, err)
	}
	if b, err := io.ReadAll(up.File); err != nil || string(b) != "content" || len(up.Fields) != receiver.MaxPreFileParts {
		t.Errorf("%d fields: file %q, %v; %d fields", receiver.MaxPreFileParts, b, err, len(up.Fields))
	}

	_, err = v.Verify(build(receiver.MaxPreFileParts+1), "rel")
	var e *receiver.S3Error
	if !errors.As(err, &e) || e.Code != receiver.CodeMaxPostPreDataLengthExceeded || e.Status != 400 {
		t.Fatalf("%d fields: %v, want 400 MaxPostPreDataLengthExceeded", receiver.MaxPreFileParts+1, err)
	}
	want := []postpolicy.Field{{Name: "MaxPostPreDataParts", Value: strconv.Itoa(receiver.MaxPreFileParts)}}
	if fmt.Sprint(e.Extra) != fmt.Sprint(want) {
		t.Errorf("Extra = %v, want %v", e.Extra, want)
	}
}

// TestVerifyPartFloods sends floods of parts that never reach a file: the
// Verifier refuses each after reading a bounded prefix of the body.
func TestVerifyPartFloods(t *testing.T) {
	_, v := reliabilityForm(t)
	const n = 1_000_000
	for _, tc := range []struct {
		name string
		unit string
		code receiver.ErrorCode
	}{
		// Named, empty fields: the part cap refuses them before 20 KB.
		{"tiny named parts", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n", receiver.CodeMaxPostPreDataLengthExceeded},
		// Named fields of 200 bytes: the 20 KB cap comes first.
		{"small named parts", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n" + strings.Repeat("v", 200) + "\r\n", receiver.CodeMaxPostPreDataLengthExceeded},
		// Parts without headers have no name: not a form field at all.
		{"empty parts", "--b\r\n\r\n\r\n", receiver.CodeMalformedPOSTRequest},
		// Header lines without end: the 20 KB (and slack) cap.
		{"endless headers", "X-A: b\r\n", receiver.CodeMaxPostPreDataLengthExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unit := tc.unit
			prefix := ""
			if tc.name == "endless headers" {
				prefix = "--b\r\nContent-Disposition: form-data; name=a\r\n"
			}
			src := &countingReader{r: io.MultiReader(strings.NewReader(prefix), repeatReader(unit, n, "--b\r\nContent-Disposition: form-data; name=file; filename=f\r\n\r\nx\r\n--b--\r\n"))}
			req := httptest.NewRequest(http.MethodPost, "http://s3.example/rel", src)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			_, err := v.Verify(req, "rel")
			if !errors.Is(err, tc.code) {
				t.Fatalf("Verify = %v, want %s", err, tc.code)
			}
			total := int64(len(prefix) + n*len(unit))
			if limit := int64(postpolicy.MaxPreFileSize + 16<<10); src.n > limit {
				t.Errorf("read %d bytes of a %d-byte flood; want at most %d", src.n, total, limit)
			}
			t.Logf("%s: %v after reading %d of %d bytes", tc.name, err, src.n, total)
		})
	}
}

// cutReader returns data, then err (io.EOF for a body that ends cleanly).
type cutReader struct {
	data []byte
	err  error
}

func (c *cutReader) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := copy(b, c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestVerifyBodyCutShort cuts a valid upload's body at several places,
// ending it with a clean io.EOF (the body the client declared), with
// io.ErrUnexpectedEOF (what net/http returns when the connection closes
// before Content-Length bytes came) or with a connection reset. Only a
// body whose file and closing delimiter arrived may verify; one that
// could not be read is IncompleteBody, one that ended cleanly but not
// well-formed is MalformedPOSTRequest, as S3 answers.
func TestVerifyBodyCutShort(t *testing.T) {
	form, v := reliabilityForm(t)
	body := &rawBody{boundary: "b"}
	for _, f := range form.Fields {
		body.field(f.Name, f.Value)
	}
	fieldsEnd := body.b.Len()
	content := strings.Repeat("0123456789", 8)
	body.file("a.txt", content)
	afterDelim := body.b.Len() // the file, its CRLF; then "--b--\r\n"
	body.end()
	full := body.b.Bytes()
	delimEnd := afterDelim + len("--b")
	reset := &netError{syscall.ECONNRESET}

	for _, tc := range []struct {
		name   string
		at     int // bytes of the body sent
		err    error
		verify receiver.ErrorCode // Verify's error, or "" for none
		file   receiver.ErrorCode // reading File's error, or "" for none
	}{
		{"in the fields, clean end", fieldsEnd - 10, io.EOF, receiver.CodeMalformedPOSTRequest, ""},
		{"in the fields, cut", fieldsEnd - 10, io.ErrUnexpectedEOF, receiver.CodeIncompleteBody, ""},
		{"in the fields, reset", fieldsEnd - 10, reset, receiver.CodeIncompleteBody, ""},
		{"in the file, clean end", fieldsEnd + 80, io.EOF, "", receiver.CodeMalformedPOSTRequest},
		{"in the file, cut", fieldsEnd + 80, io.ErrUnexpectedEOF, "", receiver.CodeIncompleteBody},
		{"in the file, reset", fieldsEnd + 80, reset, "", receiver.CodeIncompleteBody},
		{"after the file's delimiter, cut", delimEnd, io.ErrUnexpectedEOF, "", receiver.CodeIncompleteBody},
		{"after the file's delimiter, reset", delimEnd, reset, "", receiver.CodeIncompleteBody},
		{"in the closing delimiter, cut", delimEnd + 1, io.ErrUnexpectedEOF, "", receiver.CodeIncompleteBody},
		// The client declared this length: its body is complete as sent,
		// and the file ended at its delimiter.
		{"after the file's delimiter, clean end", delimEnd, io.EOF, "", ""},
		{"whole body", len(full), io.EOF, "", ""},
		{"whole body, then cut", len(full), io.ErrUnexpectedEOF, "", ""},
		{"whole body and fields after it", len(full), io.EOF, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := append([]byte(nil), full[:tc.at]...)
			if tc.name == "whole body and fields after it" {
				data = append(full[:afterDelim:afterDelim], "--b\r\nContent-Disposition: form-data; name=late\r\n\r\nignored\r\n--b--\r\n"...)
			}
			req := httptest.NewRequest(http.MethodPost, "http://s3.example/rel", &cutReader{data: data, err: tc.err})
			req.Header.Set("Content-Type", body.contentType())
			up, err := v.Verify(req, "rel")
			if tc.verify != "" {
				if !errors.Is(err, tc.verify) {
					t.Fatalf("Verify = %v, want %s", err, tc.verify)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(up.File)
			if tc.file != "" {
				if !errors.Is(err, tc.file) {
					t.Fatalf("reading File = %v, want %s", err, tc.file)
				}
				return
			}
			if err != nil || string(got) != content {
				t.Fatalf("reading File: %d bytes, %v; want the whole file", len(got), err)
			}
		})
	}
}

// netError is a network error, as a connection reset returns.
type netError struct{ err error }

func (e *netError) Error() string   { return "read tcp: " + e.err.Error() }
func (e *netError) Unwrap() error   { return e.err }
func (e *netError) Timeout() bool   { return false }
func (e *netError) Temporary() bool { return false }

// TestVerifyErrorsHoldNoSecrets forces every error of Verify and of
// reading File that a request can cause, and checks that neither the
// error (as %v, %+v and %#v) nor S3's answer (body and headers) holds the
// server's secret key, its signing key (hex or base64) or the signature
// the server expected.
func TestVerifyErrorsHoldNoSecrets(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	const token = "FQoGZXIvYXdzEXAMPLETOKEN"
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret}
	temp := postpolicy.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: secret, SessionToken: token}
	key := postpolicy.DeriveSigningKey(secret, now, "us-east-1", "s3")
	policy := postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: []postpolicy.Condition{postpolicy.Bucket("rel"), postpolicy.KeyPrefix("up/"), postpolicy.ContentLengthRange(2, 10)},
	}
	sign := func(c postpolicy.Credentials, at time.Time) *postpolicy.Form {
		s := &postpolicy.Signer{Credentials: c, Region: "us-east-1", Now: func() time.Time { return at }}
		p := policy
		p.Expiration = at.Add(time.Hour)
		f, err := s.Sign(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	verifier := func() *receiver.Verifier {
		return &receiver.Verifier{Lookup: receiver.StaticCredentials(creds, temp), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	}
	set := func(f *postpolicy.Form, name, value string) *postpolicy.Form {
		g := &postpolicy.Form{URL: f.URL, Fields: append([]postpolicy.Field(nil), f.Fields...)}
		for i := range g.Fields {
			if strings.EqualFold(g.Fields[i].Name, name) {
				g.Fields[i].Value = value
			}
		}
		return g
	}
	without := func(f *postpolicy.Form, name string) *postpolicy.Form {
		g := &postpolicy.Form{URL: f.URL}
		for _, fl := range f.Fields {
			if !strings.EqualFold(fl.Name, name) {
				g.Fields = append(g.Fields, fl)
			}
		}
		return g
	}
	good := sign(creds, now)
	goodPolicy, _ := good.Get("policy")
	tamperedPolicy := base64.StdEncoding.EncodeToString([]byte(strings.Replace(mustDecode(t, goodPolicy), `"up/"`, `"xx/"`, 1)))
	goodSig, _ := good.Get("x-amz-signature")

	type upload struct {
		form    *postpolicy.Form
		key     string
		content string
		ct      string // request Content-Type; "" for the form's
		cut     bool   // end the body in the file with io.ErrUnexpectedEOF
	}
	cases := []struct {
		name string
		v    func() *receiver.Verifier
		up   upload
		code receiver.ErrorCode // "" for a non-S3 error (500)
	}{
		{"wrong secret", verifier, upload{form: sign(postpolicy.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "another-secret-key-0123456789"}, now)}, receiver.CodeSignatureDoesNotMatch},
		{"tampered signature", verifier, upload{form: set(good, "x-amz-signature", strings.Repeat("0", 64))}, receiver.CodeSignatureDoesNotMatch},
		{"truncated signature", verifier, upload{form: set(good, "x-amz-signature", goodSig[:63])}, receiver.CodeSignatureDoesNotMatch},
		{"tampered policy", verifier, upload{form: set(good, "policy", tamperedPolicy)}, receiver.CodeSignatureDoesNotMatch},
		{"unknown key", verifier, upload{form: sign(postpolicy.Credentials{AccessKeyID: "AKIAUNKNOWNEXAMPLE", SecretAccessKey: secret}, now)}, receiver.CodeInvalidAccessKeyID},
		{"token missing", verifier, upload{form: without(sign(temp, now), "x-amz-security-token")}, receiver.CodeInvalidAccessKeyID},
		{"token mismatch", verifier, upload{form: set(sign(temp, now), "x-amz-security-token", "FQoGZXIvYXdzOTHERTOKEN")}, receiver.CodeInvalidToken},
		{"expired", func() *receiver.Verifier {
			v := verifier()
			v.Now = func() time.Time { return now.Add(2 * time.Hour) }
			return v
		}, upload{form: good}, receiver.CodeAccessDenied},
		{"signed in the future", verifier, upload{form: sign(creds, now.Add(time.Hour))}, receiver.CodeRequestTimeTooSkewed},
		{"condition failed", verifier, upload{form: good, key: "other/a"}, receiver.CodeAccessDenied},
		{"not multipart", verifier, upload{form: good, ct: "application/x-www-form-urlencoded"}, receiver.CodePreconditionFailed},
		{"malformed multipart", verifier, upload{form: good, ct: "multipart/form-data; boundary=notthere"}, receiver.CodeMalformedPOSTRequest},
		{"too large", verifier, upload{form: good, content: strings.Repeat("x", 11)}, receiver.CodeEntityTooLarge},
		{"too small", verifier, upload{form: good, content: "x"}, receiver.CodeEntityTooSmall},
		{"cut short", verifier, upload{form: good, cut: true}, receiver.CodeIncompleteBody},
		{"lookup error", func() *receiver.Verifier {
			v := verifier()
			v.Lookup = func(context.Context, string) (postpolicy.Credentials, error) {
				return postpolicy.Credentials{}, errors.New("credential backend unavailable")
			}
			return v
		}, upload{form: good}, ""},
		{"config error", func() *receiver.Verifier { return &receiver.Verifier{Lookup: receiver.StaticCredentials(creds)} }, upload{form: good}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.up
			if u.key == "" {
				u.key = "up/a.txt"
			}
			if u.content == "" {
				u.content = "hello"
			}
			body := &rawBody{boundary: "xyz"}
			for _, f := range u.form.Fields {
				v := f.Value
				if f.Name == "key" {
					v = u.key
				}
				body.field(f.Name, v)
			}
			if _, ok := u.form.Get("key"); !ok {
				body.field("key", u.key) // the page's field
			}
			body.file("a.txt", u.content)
			body.end()
			raw := body.b.Bytes()
			var r io.Reader = bytes.NewReader(raw)
			if u.cut {
				r = &cutReader{data: raw[:bytes.Index(raw, []byte(u.content))+2], err: io.ErrUnexpectedEOF}
			}
			req := httptest.NewRequest(http.MethodPost, "http://s3.example/rel", r)
			req.Header.Set("Content-Type", first(u.ct, body.contentType()))
			up, err := tc.v().Verify(req, "rel")
			if err == nil {
				_, err = io.ReadAll(up.File)
			}
			if err == nil {
				t.Fatal("the upload verified")
			}
			var e *receiver.S3Error
			switch {
			case tc.code == "" && errors.As(err, &e):
				t.Fatalf("got %v, want a non-S3 error", err)
			case tc.code != "" && !errors.Is(err, tc.code):
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			rec := httptest.NewRecorder()
			receiver.WriteError(rec, err)
			if tc.code == "" && rec.Code != http.StatusInternalServerError {
				t.Errorf("answered %d, want 500", rec.Code)
			}
			var out strings.Builder
			fmt.Fprintf(&out, "%v\n%+v\n%#v\n%s\n", err, err, err, rec.Body)
			for k, vs := range rec.Header() {
				fmt.Fprintf(&out, "%s: %s\n", k, strings.Join(vs, ", "))
			}
			// The signature the server computed for the policy as received.
			sent, _ := u.form.Get("policy")
			expected := postpolicy.SignEncodedPolicy(key, sent)
			forbidden := map[string]string{
				"the secret key":                   secret,
				"the signing key (hex)":            hex.EncodeToString(key),
				"the signing key (HEX)":            strings.ToUpper(hex.EncodeToString(key)),
				"the signing key (base64)":         base64.StdEncoding.EncodeToString(key),
				"the signing key (bytes)":          string(key),
				"the expected signature":           expected,
				"the expected signature (upper)":   strings.ToUpper(expected),
				"the session token, when not sent": "",
			}
			if _, sentToken := u.form.Get("x-amz-security-token"); !sentToken {
				forbidden["the session token, when not sent"] = token
			}
			if provided, _ := u.form.Get("x-amz-signature"); provided == expected {
				// The client sent the right signature itself: it is no
				// secret of the server's.
				delete(forbidden, "the expected signature")
				delete(forbidden, "the expected signature (upper)")
			}
			for what, s := range forbidden {
				if s != "" && strings.Contains(out.String(), s) {
					t.Errorf("%s appears in the error or the answer:\n%s", what, out.String())
				}
			}
			var doc struct{ Code string }
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Errorf("the answer is not S3's XML: %v", err)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
