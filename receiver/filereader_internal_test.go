package receiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// countReader yields left bytes without writing them: the caller's buffer
// keeps what it held. It stands for a file of that size whose content does
// not matter, so that 5 GiB can be counted without being made or sent.
type countReader struct{ left int64 }

func (c *countReader) Read(b []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), c.left)
	c.left -= n
	return int(n), nil
}

// TestFileReaderSizeCap checks that the File of an upload whose policy has
// no content-length-range stops at 5 GiB, the most S3 stores from one
// request ("Uploading objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
//
// What it proves: Verify gives the file reader the cap, and the reader
// counts a file of exactly 5 GiB through to its end (and then reads the
// real closing delimiter), and refuses the byte after it with
// EntityTooLarge. How: a real upload of a small file is verified, then
// the reader's source is swapped for a counter of 5 GiB (+ 1) bytes, read
// through 4 MiB buffers, so the test runs in seconds under -race. What it
// does not prove: that Go's multipart reader delivers 5 GiB of a real
// body intact; TestVerifyStreamsLargeUpload streams 1 GiB through it.
func TestFileReaderSizeCap(t *testing.T) {
	const fiveGiB = 5 << 30
	buf := make([]byte, 4<<20)
	for _, tc := range []struct {
		name string
		size int64
		want ErrorCode // "" for a file read to io.EOF
	}{
		{"5 GiB", fiveGiB, ""},
		{"5 GiB + 1", fiveGiB + 1, CodeEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := verifyUncapped(t)
			up.file.part = &countReader{left: tc.size}
			var n int64
			var err error
			for err == nil {
				var m int
				m, err = up.File.Read(buf)
				n += int64(m)
			}
			if tc.want == "" {
				if err != io.EOF || n != tc.size || up.Size() != tc.size {
					t.Fatalf("read %d bytes (Size %d), %v; want %d and io.EOF", n, up.Size(), err, tc.size)
				}
				return
			}
			var e *S3Error
			if !errors.As(err, &e) || e.Code != tc.want {
				t.Fatalf("read %d bytes, then %v; want %s", n, err, tc.want)
			}
			if n > fiveGiB {
				t.Errorf("File returned %d bytes, more than 5 GiB", n)
			}
			want := []postpolicy.Field{{Name: "ProposedSize", Value: strconv.FormatInt(tc.size, 10)}, {Name: "MaxSizeAllowed", Value: "5368709120"}}
			if len(e.Extra) != 2 || e.Extra[0] != want[0] || e.Extra[1] != want[1] {
				t.Errorf("Extra = %v, want %v", e.Extra, want)
			}
		})
	}
}

// verifyUncapped verifies a real upload of a 1-byte file whose policy has
// no content-length-range.
func verifyUncapped(t *testing.T) *Upload {
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
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range form.Fields {
		mw.WriteField(f.Name, f.Value)
	}
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write([]byte("x"))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "http://s3.example/cap", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	v := &Verifier{Lookup: StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	up, err := v.Verify(req, "cap")
	if err != nil {
		t.Fatal(err)
	}
	return up
}
