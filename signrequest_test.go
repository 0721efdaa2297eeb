package postpolicy_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// s3HeaderExamples are the requests of "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk (AWS
// Signature Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
// as transcribed in internal/sigv4/testdata/s3-sigv4-examples.json.
type s3HeaderExamples struct {
	HeaderAuth struct {
		Examples []struct {
			Name          string      `json:"name"`
			Method        string      `json:"method"`
			Path          string      `json:"path"`
			Query         string      `json:"query"`
			Headers       [][2]string `json:"headers"`
			Body          string      `json:"body"`
			Authorization string      `json:"authorization"`
			Creq          string      `json:"creq"`
		} `json:"examples"`
	} `json:"header_auth"`
}

// TestSignRequestAWSExamples signs the four published requests and gets
// the published Authorization header of each.
func TestSignRequestAWSExamples(t *testing.T) {
	var ex s3HeaderExamples
	testutil.ReadJSON(t, "internal/sigv4/testdata/s3-sigv4-examples.json", &ex)
	if len(ex.HeaderAuth.Examples) != 4 {
		t.Fatalf("%d examples, want 4", len(ex.HeaderAuth.Examples))
	}
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region:      "us-east-1",
		Now:         func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) },
	}
	for _, e := range ex.HeaderAuth.Examples {
		t.Run(e.Name, func(t *testing.T) {
			u := &url.URL{Scheme: "https", Host: "examplebucket.s3.amazonaws.com", Path: e.Path, RawQuery: e.Query}
			r, err := http.NewRequest(e.Method, u.String(), strings.NewReader(e.Body))
			if err != nil {
				t.Fatal(err)
			}
			var payload string
			for _, h := range e.Headers {
				switch strings.ToLower(h[0]) {
				case "host", "x-amz-date":
				case "x-amz-content-sha256":
					payload = h[1]
				default:
					r.Header.Set(h[0], h[1])
				}
			}
			if got := postpolicy.PayloadHash([]byte(e.Body)); got != payload {
				t.Errorf("PayloadHash = %s, the example's x-amz-content-sha256 is %s", got, payload)
			}
			if err := s.SignRequest(context.Background(), r, payload); err != nil {
				t.Fatal(err)
			}
			// AWS prints the header without spaces after its commas.
			if got := strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","); got != e.Authorization {
				t.Errorf("Authorization\n got %s\nwant %s", got, e.Authorization)
			}
			if r.Header.Get("X-Amz-Date") != "20130524T000000Z" || r.Header.Get("X-Amz-Content-Sha256") != payload {
				t.Errorf("headers set: %v", r.Header)
			}
			// The path sent is the canonical URI (the creq's second line).
			if want := strings.Split(e.Creq, "\n")[1]; r.URL.EscapedPath() != want {
				t.Errorf("path sent %q, canonical URI %q", r.URL.EscapedPath(), want)
			}
		})
	}
}

// TestSignRequestSessionToken: temporary credentials add and sign
// X-Amz-Security-Token; User-Agent is not signed; an unconfigured Signer
// is refused and leaves the request unchanged.
func TestSignRequestSessionToken(t *testing.T) {
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"},
		Region:      "us-east-1",
		Now:         func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) },
	}
	r, _ := http.NewRequest("POST", "https://examplebucket.s3.amazonaws.com/a%20b?uploads", nil)
	r.Header.Set("User-Agent", "test")
	if err := s.SignRequest(context.Background(), r, postpolicy.UnsignedPayload); err != nil {
		t.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	if r.Header.Get("X-Amz-Security-Token") != "FQoGZXIvYXdzEXAMPLETOKEN" ||
		!strings.Contains(auth, "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") {
		t.Errorf("Authorization %q, token %q", auth, r.Header.Get("X-Amz-Security-Token"))
	}
	if r.URL.EscapedPath() != "/a%20b" {
		t.Errorf("path sent %q", r.URL.EscapedPath())
	}

	bad := &postpolicy.Signer{Credentials: s.Credentials}
	r2, _ := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com/x", nil)
	if err := bad.SignRequest(context.Background(), r2, postpolicy.UnsignedPayload); err == nil || len(r2.Header) != 0 {
		t.Errorf("a Signer without Region: err %v, headers %v", err, r2.Header)
	}
}
