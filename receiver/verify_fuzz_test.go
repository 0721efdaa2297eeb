package receiver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// FuzzParsePolicy: the strict parser (postpolicy.ParsePolicy, through
// ParsePolicy) never panics, accepts nothing that is not JSON, is answered
// InvalidPolicyDocument for everything it refuses, and what it accepts
// survives a round trip through Policy.MarshalJSON.
func FuzzParsePolicy(f *testing.F) {
	vf := readVerifyCases(f)
	for _, c := range vf.Cases {
		vr := buildVerifyRequest(f, vf, c)
		if doc, err := base64.StdEncoding.DecodeString(vr.policy); err == nil {
			f.Add(doc)
		}
	}
	f.Add([]byte(`{"expiration":"2015-12-29T01:00:00Z","conditions":[]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := receiver.ParsePolicy(doc)
		if err != nil {
			if !errors.Is(err, receiver.CodeInvalidPolicyDocument) {
				t.Fatalf("error is not InvalidPolicyDocument: %v", err)
			}
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("accepted invalid JSON %q", doc)
		}
		again, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		q, err := postpolicy.ParsePolicy(again)
		if err != nil {
			t.Fatalf("re-encoded policy %q does not parse: %v", again, err)
		}
		p.Expiration = p.Expiration.Truncate(time.Millisecond)
		if diff := cmp.Diff(p, q, cmp.AllowUnexported(postpolicy.Condition{})); diff != "" {
			t.Fatalf("round trip changed the policy (-parsed +reparsed):\n%s", diff)
		}
	})
}

// FuzzVerify: Verify never panics on any body or Content-Type, every error
// it returns is an S3Error that WriteError can answer, and reading a
// verified upload's file never panics either.
func FuzzVerify(f *testing.F) {
	vf := readVerifyCases(f)
	for _, c := range vf.Cases {
		vr := buildVerifyRequest(f, vf, c)
		body, _ := io.ReadAll(vr.req.Body)
		f.Add(vr.req.Header.Get("Content-Type"), body)
	}
	v := newCaseVerifier(f, vf)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://s3.example/"+vf.Setup.Bucket, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		up, err := v.Verify(req, vf.Setup.Bucket)
		if err == nil {
			_, err = io.Copy(io.Discard, up.File)
			if err == nil {
				up.Respond(httptest.NewRecorder(), "etag", "")
				return
			}
		}
		var s3e *receiver.S3Error
		if !errors.As(err, &s3e) {
			t.Fatalf("not an S3Error: %v", err)
		}
		receiver.WriteError(httptest.NewRecorder(), err)
	})
}
