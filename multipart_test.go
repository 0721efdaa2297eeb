package postpolicy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// TestPresignUploadPart: the part's URL names the upload and the part,
// signs its exact size, and refuses numbers and sizes S3 refuses. The
// signature is checked against an independent computation (Python's hmac
// and hashlib, from the canonical request of "Authenticating Requests:
// Using Query Parameters").
func TestPresignUploadPart(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region:      "eu-west-1",
		Now:         func() time.Time { return now },
	}
	p, err := s.PresignUploadPart(context.Background(), "acme-user-uploads", "uploads/user-42/film.mp4", "VXBsb2FkIElE", 3, 8<<20, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/uploads/user-42/film.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20151229%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20151229T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=content-length%3Bhost&partNumber=3&uploadId=VXBsb2FkIElE&X-Amz-Signature=" + partSignature
	if p.URL != want {
		t.Errorf("URL\n got %s\nwant %s", p.URL, want)
	}
	if len(p.Header) != 1 || p.Header[0] != (postpolicy.Field{Name: "Content-Length", Value: "8388608"}) {
		t.Errorf("Header = %v", p.Header)
	}
	for _, tc := range []struct {
		part int
		size int64
		id   string
		msg  string
	}{
		{0, 1, "id", "part number 0"},
		{10001, 1, "id", "part number 10001"},
		{1, 0, "id", "part size 0"},
		{1, 5<<30 + 1, "id", "part size 5368709121"},
		{1, 1, "", "upload id is empty"},
	} {
		_, err := s.PresignUploadPart(context.Background(), "acme-user-uploads", "k", tc.id, tc.part, tc.size, now.Add(time.Hour))
		if !errors.Is(err, postpolicy.ErrInvalidPolicy) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("part %d size %d id %q: %v, want %q", tc.part, tc.size, tc.id, err, tc.msg)
		}
	}
	if _, err := s.PresignUploadPart(context.Background(), "acme-user-uploads", "k", "id", 1, 1, now.Add(8*24*time.Hour)); !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Errorf("8 days: %v", err)
	}
}

// partSignature was computed with Python's hmac and hashlib for the part
// of TestPresignUploadPart.
const partSignature = "64785e1b3fd540e69e3c6b985be343755f399f7a20607f97287d9ba6cb0f9e1e"
