package e2e

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// rootCredentials are the server's root credentials as the library takes
// them.
func rootCredentials() postpolicy.Credentials {
	return postpolicy.Credentials{AccessKeyID: rootAccessKeyID, SecretAccessKey: rootSecretAccessKey}
}

// signOptions are what a case changes in the Signer and the policy's timing.
type signOptions struct {
	// creds are the credentials to sign with; zero means the root ones.
	creds postpolicy.Credentials
	// region is the Signer's region; empty means the server's.
	region string
	// signedAgo moves the signing time (x-amz-date) into the past.
	signedAgo time.Duration
	// validFor is the policy's lifetime from the signing time; zero means
	// 10 minutes.
	validFor time.Duration
}

// sign signs a policy with conds for the server's bucket, as a backend
// would, and fails the test if the library refuses: every policy here is
// one S3 accepts.
func (s *server) sign(t *testing.T, conds []postpolicy.Condition, o signOptions) *postpolicy.Form {
	t.Helper()
	if o.creds == (postpolicy.Credentials{}) {
		o.creds = rootCredentials()
	}
	if o.region == "" {
		o.region = region
	}
	if o.validFor == 0 {
		o.validFor = 10 * time.Minute
	}
	at := time.Now().Add(-o.signedAgo)
	signer := &postpolicy.Signer{
		Credentials: o.creds,
		Region:      o.region,
		Endpoint:    s.URL,
		Now:         func() time.Time { return at },
	}
	policy := postpolicy.Policy{
		Expiration: at.Add(o.validFor),
		Conditions: append([]postpolicy.Condition{postpolicy.Bucket(bucket)}, conds...),
	}
	form, err := signer.Sign(context.Background(), policy)
	if err != nil {
		t.Fatalf("LIBRARY PROBLEM: Signer.Sign refused a policy the server accepts: %v", err)
	}
	if want := s.URL + "/" + bucket; form.URL != want {
		t.Fatalf("form URL = %q, want %q", form.URL, want)
	}
	return form
}

// setField changes the value of the form's field name, as a page (or an
// attacker) can; the field must exist.
func setField(t *testing.T, form *postpolicy.Form, name, value string) {
	t.Helper()
	for i, f := range form.Fields {
		if strings.EqualFold(f.Name, name) {
			form.Fields[i].Value = value
			return
		}
	}
	t.Fatalf("the signed form has no field %s to change", name)
}

// removeField deletes the form's field name; the field must exist.
func removeField(t *testing.T, form *postpolicy.Form, name string) {
	t.Helper()
	for i, f := range form.Fields {
		if strings.EqualFold(f.Name, name) {
			form.Fields = append(form.Fields[:i], form.Fields[i+1:]...)
			return
		}
	}
	t.Fatalf("the signed form has no field %s to remove", name)
}

// fieldValue returns the value the server sees for name: the last field of
// that name among the form's fields and then extra.
func fieldValue(form *postpolicy.Form, extra []postpolicy.Field, name string) string {
	var v string
	for _, f := range append(append([]postpolicy.Field(nil), form.Fields...), extra...) {
		if strings.EqualFold(f.Name, name) {
			v = f.Value
		}
	}
	return v
}

// flipChar returns s with the character at i replaced by another character
// that is in both the base64 and the hex alphabets.
func flipChar(s string, i int) string {
	c := byte('0')
	if s[i] == '0' {
		c = '1'
	}
	return s[:i] + string(c) + s[i+1:]
}

// checkStored reads key back and compares it with what was uploaded.
func (s *server) checkStored(t *testing.T, key string, content []byte, contentType string, meta map[string]string) *object {
	t.Helper()
	obj, err := s.getObject(bucket, key)
	if err != nil {
		t.Fatalf("GET %s/%s after a successful upload: %v", bucket, key, err)
	}
	if !bytes.Equal(obj.Body, content) {
		t.Errorf("GET %s/%s: body = %q, want %q", bucket, key, obj.Body, content)
	}
	if obj.ContentType != contentType {
		t.Errorf("GET %s/%s: Content-Type = %q, want %q", bucket, key, obj.ContentType, contentType)
	}
	for k, want := range meta {
		if got, ok := obj.Metadata[k]; !ok || got != want {
			t.Errorf("GET %s/%s: metadata %s = %q (present %v), want %q; all metadata: %v", bucket, key, k, got, ok, want, obj.Metadata)
		}
	}
	return obj
}

// postResponse is the XML document S3 answers a POST with when
// success_action_status is 201.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// TestUpload posts well-formed uploads and reads each object back: its
// bytes, its Content-Type and its x-amz-meta- field must be what the form
// carried, and the success answer must be the one the policy asked for.
func TestUpload(t *testing.T) {
	srv := startVersity(t)
	content := []byte("hello from a browser upload\n")

	t.Run("default status 204", func(t *testing.T) {
		const key, ctype = "good/default.txt", "text/plain; charset=utf-8"
		form := srv.sign(t, []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType(ctype),
			postpolicy.ContentLengthRange(1, 1024),
			postpolicy.Meta("uploader", "user-42"),
		}, signOptions{})
		status, body := postForm(t, form, nil, "hello.txt", content)
		t.Logf("default status 204: %d %q", status, body)
		if status != http.StatusNoContent {
			t.Fatalf("POST: status %d, want 204; body %q", status, body)
		}
		srv.checkStored(t, key, content, ctype, map[string]string{"uploader": "user-42"})
	})

	t.Run("success_action_status 201 with PostResponse", func(t *testing.T) {
		const key, ctype = "good/created.txt", "text/plain"
		form := srv.sign(t, []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType(ctype),
			postpolicy.ContentLengthRange(1, 1024),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", "user-42"),
		}, signOptions{})
		status, body := postForm(t, form, nil, "hello.txt", content)
		t.Logf("success_action_status 201: %d %q", status, body)
		if status != http.StatusCreated {
			t.Fatalf("POST: status %d, want 201; body %q", status, body)
		}
		var pr postResponse
		if err := xml.Unmarshal([]byte(body), &pr); err != nil {
			t.Fatalf("the 201 body is not a PostResponse: %v: %q", err, body)
		}
		if pr.Bucket != bucket || pr.Key != key {
			t.Errorf("PostResponse names %s/%s, want %s/%s", pr.Bucket, pr.Key, bucket, key)
		}
		// The key is escaped in Location (versitygw writes good%2Fcreated.txt).
		if loc, err := url.Parse(pr.Location); err != nil || loc.Path != "/"+bucket+"/"+key {
			t.Errorf("PostResponse Location = %q, want the URL of /%s/%s", pr.Location, bucket, key)
		}
		obj := srv.checkStored(t, key, content, ctype, map[string]string{"uploader": "user-42"})
		if pr.ETag == "" || pr.ETag != obj.ETag {
			t.Errorf("PostResponse ETag = %q, GET ETag = %q; want the same, non-empty", pr.ETag, obj.ETag)
		}
	})

	t.Run("success_action_status 200", func(t *testing.T) {
		const key, ctype = "good/ok.txt", "text/plain"
		form := srv.sign(t, []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType(ctype),
			postpolicy.ContentLengthRange(1, 1024),
			postpolicy.SuccessActionStatus(200),
		}, signOptions{})
		status, body := postForm(t, form, nil, "hello.txt", content)
		t.Logf("success_action_status 200: %d %q", status, body)
		if status != http.StatusOK {
			t.Fatalf("POST: status %d, want 200; body %q", status, body)
		}
		srv.checkStored(t, key, content, ctype, nil)
	})

	t.Run("success_action_redirect 303", func(t *testing.T) {
		const key, ctype = "good/redirected.txt", "text/plain"
		const redirect = "http://127.0.0.1:1/uploaded?from=e2e" // never followed
		form := srv.sign(t, []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType(ctype),
			postpolicy.ContentLengthRange(1, 1024),
			postpolicy.SuccessActionRedirect(redirect),
		}, signOptions{})
		status, header, body := postFormHeader(t, form, nil, "hello.txt", content)
		t.Logf("success_action_redirect 303: %d Location %s", status, header.Get("Location"))
		if status != http.StatusSeeOther {
			t.Fatalf("POST: status %d, want 303; body %q", status, body)
		}
		loc, err := url.Parse(header.Get("Location"))
		if err != nil {
			t.Fatalf("Location %q: %v", header.Get("Location"), err)
		}
		obj := srv.checkStored(t, key, content, ctype, nil)
		q := loc.Query()
		if loc.Host != "127.0.0.1:1" || loc.Path != "/uploaded" || q.Get("from") != "e2e" ||
			q.Get("bucket") != bucket || q.Get("key") != key || q.Get("etag") == "" {
			t.Errorf("Location = %q, want %s with from=e2e, bucket=%s, key=%s and the etag", loc, redirect, bucket, key)
		}
		if strings.Trim(q.Get("etag"), `"`) != strings.Trim(obj.ETag, `"`) {
			t.Errorf("redirect etag %q, GET ETag %q", q.Get("etag"), obj.ETag)
		}
	})

	t.Run("page supplies key and Content-Type", func(t *testing.T) {
		const key, ctype = "uploads/user-42/photo.png", "image/png"
		form := srv.sign(t, []postpolicy.Condition{
			postpolicy.KeyPrefix("uploads/user-42/"),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.ContentLengthRange(1, 1024),
			postpolicy.Meta("uploader", "user-42"),
		}, signOptions{})
		if len(form.PageConditions) != 2 {
			t.Fatalf("PageConditions = %v, want the key and Content-Type conditions", form.PageConditions)
		}
		page := []postpolicy.Field{{Name: "key", Value: key}, {Name: "Content-Type", Value: ctype}}
		status, body := postForm(t, form, page, "photo.png", content)
		t.Logf("page supplies key and Content-Type: %d %q", status, body)
		if status != http.StatusNoContent {
			t.Fatalf("POST: status %d, want 204; body %q", status, body)
		}
		srv.checkStored(t, key, content, ctype, map[string]string{"uploader": "user-42"})
	})
}

// restrictionCase is one upload made with a signed form, possibly changed
// on the way, and the server's expected answer.
type restrictionCase struct {
	name  string
	conds []postpolicy.Condition // the policy's conditions; Bucket is added
	sign  signOptions
	// tamper changes the signed form before it is posted.
	tamper func(t *testing.T, f *postpolicy.Form)
	// extra are the fields posted after the form's: those the page adds,
	// or fields the policy does not cover.
	extra []postpolicy.Field
	file  []byte
	// wantStatus is the expected HTTP status; wantCode the expected S3
	// error code, empty for an accepted upload.
	wantStatus int
	wantCode   string
	// contentType is the stored Content-Type to expect when accepted.
	contentType string
}

// bytesOf returns n bytes of text.
func bytesOf(n int) []byte {
	return bytes.Repeat([]byte("x"), n)
}

// TestRestrictions posts forms that break one restriction of their policy
// each, and checks that the server refuses them with the expected status and
// error code and stores nothing; the boundary cases that must pass are here
// too. Each case logs the server's answer.
func TestRestrictions(t *testing.T) {
	srv := startVersity(t)
	sized := func(key string) []postpolicy.Condition {
		return []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType("text/plain"),
			postpolicy.ContentLengthRange(8, 16),
		}
	}
	plain := func(key string) []postpolicy.Condition {
		return []postpolicy.Condition{
			postpolicy.Key(key),
			postpolicy.ContentType("text/plain"),
			postpolicy.ContentLengthRange(1, 1024),
		}
	}
	withToken := postpolicy.Credentials{
		AccessKeyID:     rootAccessKeyID,
		SecretAccessKey: rootSecretAccessKey,
		SessionToken:    "e2e-test-session-token", // not a real token
	}
	file := []byte("twelve bytes")

	cases := []restrictionCase{
		// The size bounds are inclusive.
		{name: "size exactly at min accepted", conds: sized("size/at-min.txt"), file: bytesOf(8), wantStatus: 204, contentType: "text/plain"},
		{name: "size exactly at max accepted", conds: sized("size/at-max.txt"), file: bytesOf(16), wantStatus: 204, contentType: "text/plain"},
		{name: "size one byte over max refused", conds: sized("size/over-max.txt"), file: bytesOf(17), wantStatus: 400, wantCode: "EntityTooLarge"},
		{name: "size one byte under min refused", conds: sized("size/under-min.txt"), file: bytesOf(7), wantStatus: 400, wantCode: "EntityTooSmall"},
		{name: "empty file under min 1 refused", conds: plain("size/empty.txt"), file: nil, wantStatus: 400, wantCode: "EntityTooSmall"},

		// The key and the Content-Type.
		{
			name:  "key outside KeyPrefix refused",
			conds: []postpolicy.Condition{postpolicy.KeyPrefix("uploads/user-42/"), postpolicy.ContentType("text/plain"), postpolicy.ContentLengthRange(1, 1024)},
			extra: []postpolicy.Field{{Name: "key", Value: "uploads/user-43/stolen.txt"}},
			file:  file, wantStatus: 403, wantCode: "AccessDenied",
		},
		{
			name:   "Content-Type changed from exact ContentType refused",
			conds:  plain("ctype/exact.txt"),
			tamper: func(t *testing.T, f *postpolicy.Form) { setField(t, f, "Content-Type", "text/html") },
			file:   file, wantStatus: 403, wantCode: "AccessDenied",
		},
		{
			name:  "Content-Type outside ContentTypePrefix refused",
			conds: []postpolicy.Condition{postpolicy.Key("ctype/prefix.txt"), postpolicy.ContentTypePrefix("image/"), postpolicy.ContentLengthRange(1, 1024)},
			extra: []postpolicy.Field{{Name: "Content-Type", Value: "text/html"}},
			file:  file, wantStatus: 403, wantCode: "AccessDenied",
		},
		{
			// S3 reads a Content-Type with commas as a list and checks every
			// element against starts-with.
			name:  "Content-Type list with one element outside ContentTypePrefix refused",
			conds: []postpolicy.Condition{postpolicy.Key("ctype/list.txt"), postpolicy.ContentTypePrefix("image/"), postpolicy.ContentLengthRange(1, 1024)},
			extra: []postpolicy.Field{{Name: "Content-Type", Value: "image/png, text/html"}},
			file:  file, wantStatus: 403, wantCode: "AccessDenied",
		},

		// Time. versitygw refuses an x-amz-date more than an hour old with
		// the same answer as an expired policy, so the expired case is signed
		// 30 minutes ago, well inside that hour, and the control case just
		// after it shows that such a date alone is accepted.
		{name: "signed 30 minutes ago and not expired accepted", conds: plain("time/recent.txt"), sign: signOptions{signedAgo: 30 * time.Minute, validFor: 40 * time.Minute}, file: file, wantStatus: 204, contentType: "text/plain"},
		{name: "policy expired 29 minutes ago refused", conds: plain("time/expired.txt"), sign: signOptions{signedAgo: 30 * time.Minute, validFor: time.Minute}, file: file, wantStatus: 403, wantCode: "AccessDenied"},
		{
			// A versitygw rule, not a policy condition: the form must be
			// signed (x-amz-date) less than an hour before the POST, even
			// though the policy is still valid.
			name:  "versitygw: x-amz-date over 1 hour old refused although the policy is valid",
			conds: plain("time/old-date.txt"), sign: signOptions{signedAgo: 70 * time.Minute, validFor: 2 * time.Hour},
			file: file, wantStatus: 403, wantCode: "AccessDenied",
		},

		// The signature.
		{
			name:  "signed with the wrong secret refused",
			conds: plain("sig/wrong-secret.txt"),
			sign:  signOptions{creds: postpolicy.Credentials{AccessKeyID: rootAccessKeyID, SecretAccessKey: "not-the-server-secret-000"}},
			file:  file, wantStatus: 403, wantCode: "SignatureDoesNotMatch",
		},
		{
			name:  "policy tampered (one base64 character changed) refused",
			conds: plain("sig/tampered-policy.txt"),
			tamper: func(t *testing.T, f *postpolicy.Form) {
				p, _ := f.Get("policy")
				setField(t, f, "policy", flipChar(p, len(p)/2))
			},
			file: file, wantStatus: 403, wantCode: "SignatureDoesNotMatch",
		},
		{
			name:  "signature tampered (one hex digit changed) refused",
			conds: plain("sig/tampered-signature.txt"),
			tamper: func(t *testing.T, f *postpolicy.Form) {
				s, _ := f.Get("x-amz-signature")
				setField(t, f, "x-amz-signature", flipChar(s, 0))
			},
			file: file, wantStatus: 403, wantCode: "SignatureDoesNotMatch",
		},
		{
			// The region is part of the credential scope; versitygw checks
			// it against its --region before the signature.
			name:  "credential scope in another region refused",
			conds: plain("sig/other-region.txt"), sign: signOptions{region: "eu-west-1"},
			file: file, wantStatus: 400, wantCode: "InvalidArgument",
		},

		// Every field needs a condition.
		{
			name:  "extra x-amz-meta-foo field without a condition refused",
			conds: plain("fields/extra-meta.txt"),
			extra: []postpolicy.Field{{Name: "x-amz-meta-foo", Value: "bar"}},
			file:  file, wantStatus: 403, wantCode: "AccessDenied",
		},
		{
			name:  "extra Cache-Control field without a condition refused",
			conds: plain("fields/extra-cache-control.txt"),
			extra: []postpolicy.Field{{Name: "Cache-Control", Value: "public, max-age=31536000"}},
			file:  file, wantStatus: 403, wantCode: "AccessDenied",
		},
		{
			// The documented exception: x-ignore- fields need no condition.
			name:  "extra x-ignore-note field accepted",
			conds: plain("fields/x-ignore.txt"),
			extra: []postpolicy.Field{{Name: "x-ignore-note", Value: "anything"}},
			file:  file, wantStatus: 204, contentType: "text/plain",
		},

		// Session tokens. versitygw's root account has no sessions, so a
		// form carrying any x-amz-security-token is refused with
		// InvalidToken before the signature is checked. Without the token
		// field the signature (derived from the root secret) is valid, and
		// what refuses the form is the policy's own condition on
		// x-amz-security-token, which the Signer adds: the token is bound
		// to the policy and cannot be dropped.
		{
			name:  "session token signed and sent refused (versitygw root has no sessions)",
			conds: plain("token/sent.txt"), sign: signOptions{creds: withToken},
			file: file, wantStatus: 400, wantCode: "InvalidToken",
		},
		{
			name:   "session token removed from the form refused",
			conds:  plain("token/removed.txt"),
			sign:   signOptions{creds: withToken},
			tamper: func(t *testing.T, f *postpolicy.Form) { removeField(t, f, "x-amz-security-token") },
			file:   file, wantStatus: 403, wantCode: "AccessDenied",
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := srv.sign(t, tc.conds, tc.sign)
			if tc.tamper != nil {
				tc.tamper(t, form)
			}
			key := fieldValue(form, tc.extra, "key")
			status, body := postForm(t, form, tc.extra, "upload.txt", tc.file)

			if tc.wantCode == "" {
				t.Logf("%s: %d (stored %s, %d bytes)", tc.name, status, key, len(tc.file))
				if status != tc.wantStatus {
					t.Fatalf("POST: status %d, want %d; body %q", status, tc.wantStatus, body)
				}
				srv.checkStored(t, key, tc.file, tc.contentType, nil)
				return
			}

			e, err := parseS3Error(body)
			if err != nil {
				t.Logf("%s: %d (no error document)", tc.name, status)
				t.Errorf("POST answered %d: %v", status, err)
			} else {
				t.Logf("%s: %d %s %q", tc.name, status, e.Code, e.Message)
				if status != tc.wantStatus || e.Code != tc.wantCode {
					t.Errorf("POST answered %d %s, want %d %s; message %q", status, e.Code, tc.wantStatus, tc.wantCode, e.Message)
				}
			}
			srv.assertNoObject(t, key)
		})
	}
}
