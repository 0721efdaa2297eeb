package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// fiveGiB is the most S3 stores from one request: "Upload an object in a
// single operation ... you can upload a single object up to 5 GB in size"
// ("Uploading objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html);
// S3 reports MaxSizeAllowed 5368709120 beyond it.
const fiveGiB = 5 << 30

// TestSizeCapWithoutRange: a policy without content-length-range still
// cannot get a file over 5 GiB stored. This test proves it for the two
// paths that take a size: Upload.CheckSize (after VerifyFields, for
// servers that read the file themselves) and Evaluate. That the streamed
// File enforces the same cap, at the 5 GiB + 1st byte, is
// TestFileReaderSizeCap (an internal test, which streams the count
// without sending 5 GiB through the multipart reader).
func TestSizeCapWithoutRange(t *testing.T) {
	form, v := sizeCapForm(t)
	up, err := v.VerifyFields(context.Background(), "cap", form.Fields, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.CheckSize(fiveGiB); err != nil {
		t.Errorf("CheckSize(5 GiB) = %v, want nil", err)
	}
	checkTooLarge(t, "CheckSize(5 GiB + 1)", up.CheckSize(fiveGiB+1))

	pol, err := receiver.DecodePolicy(mustGet(t, form, "policy"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2015, 12, 29, 0, 1, 0, 0, time.UTC)
	if err := receiver.Evaluate(pol, now, "cap", form.Fields, "big.bin", fiveGiB); err != nil {
		t.Errorf("Evaluate(5 GiB) = %v, want nil", err)
	}
	checkTooLarge(t, "Evaluate(5 GiB + 1)", receiver.Evaluate(pol, now, "cap", form.Fields, "big.bin", fiveGiB+1))
}

// sizeCapForm signs a form for bucket "cap" without content-length-range.
func sizeCapForm(t *testing.T) (*postpolicy.Form, *receiver.Verifier) {
	t.Helper()
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: []postpolicy.Condition{postpolicy.Bucket("cap"), postpolicy.Key("cap/${filename}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	return form, v
}

func checkTooLarge(t *testing.T, what string, err error) {
	t.Helper()
	var e *receiver.S3Error
	if !errors.As(err, &e) || e.Code != receiver.CodeEntityTooLarge {
		t.Errorf("%s = %v, want EntityTooLarge", what, err)
		return
	}
	want := []postpolicy.Field{{Name: "ProposedSize", Value: strconv.Itoa(fiveGiB + 1)}, {Name: "MaxSizeAllowed", Value: "5368709120"}}
	if len(e.Extra) != 2 || e.Extra[0] != want[0] || e.Extra[1] != want[1] {
		t.Errorf("%s: Extra = %v, want %v", what, e.Extra, want)
	}
}

func mustGet(t *testing.T, form *postpolicy.Form, name string) string {
	t.Helper()
	v, ok := form.Get(name)
	if !ok {
		t.Fatalf("the form has no %s field", name)
	}
	return v
}

// TestVerifyFilenameEmptiesKey: key=${filename} with a file name that
// ends in a slash or backslash has nothing to put in the key. The key
// would be empty, which S3 never stores; the Verifier answers 400
// InvalidArgument on the key, even though the policy allows any key.
func TestVerifyFilenameEmptiesKey(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: []postpolicy.Condition{postpolicy.Bucket("keys"), postpolicy.KeyPrefix(""), postpolicy.ContentLengthRange(1, 100)},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	for _, filename := range []string{"dir/", "/", `C:\dir\`, `a/b\`} {
		t.Run(filename, func(t *testing.T) {
			body := &rawBody{boundary: "b"}
			for _, f := range form.Fields {
				body.field(f.Name, f.Value)
			}
			body.field("key", "${filename}")
			// Quoted as RFC 7578 and Go's multipart.Writer quote it: a
			// backslash escaped by a backslash.
			body.part(`form-data; name="file"; filename="`+escapeQuoted(filename)+`"`, "content")
			body.end()
			req := httptest.NewRequest(http.MethodPost, "http://s3.example/keys", bytes.NewReader(body.b.Bytes()))
			req.Header.Set("Content-Type", body.contentType())
			up, err := v.Verify(req, "keys")
			var e *receiver.S3Error
			if !errors.As(err, &e) || e.Code != receiver.CodeInvalidArgument {
				key := "(none)"
				if up != nil {
					key = strconv.Quote(up.Key)
				}
				t.Fatalf("Verify = %v with key %s, want InvalidArgument", err, key)
			}
			if len(e.Extra) == 0 || e.Extra[0] != (postpolicy.Field{Name: "ArgumentName", Value: "key"}) {
				t.Errorf("Extra = %v, want ArgumentName key first", e.Extra)
			}
		})
	}
}

// escapeQuoted escapes s for a quoted-string: a backslash before each
// backslash and double quote.
func escapeQuoted(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
