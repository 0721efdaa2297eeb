package receiver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// The file's digest, named by the x-amz-checksum-* fields ("Checking
// object integrity in Amazon S3",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html):
// S3 hashes the file as it arrives and refuses one whose digest differs
// (400 BadDigest), storing nothing. The rules on the fields themselves
// are table cases in testdata/cases.json (flag Checksum).

// helloSHA256 is the base64 of the SHA-256 of "hello", computed with
// `printf hello | sha256sum | cut -d' ' -f1 | xxd -r -p | base64`.
const helloSHA256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="

// TestVerifyChecksumMismatchNotStored is the review's reproduction: a
// policy pins key, size and SHA-256 of "hello"; a browser posts "EVIL!",
// five bytes like "hello". The fake S3 must answer 400 BadDigest and
// store nothing, and still store "hello".
func TestVerifyChecksumMismatchNotStored(t *testing.T) {
	srv := postpolicytest.NewServer("pin")
	defer srv.Close()
	form, err := srv.Signer().Sign(context.Background(), postpolicy.Policy{
		Expiration: time.Now().Add(time.Hour),
		Conditions: append([]postpolicy.Condition{
			postpolicy.Bucket("pin"),
			postpolicy.Key("pinned.txt"),
			postpolicy.ContentLengthRange(5, 5),
		}, postpolicy.Checksum(postpolicy.ChecksumSHA256, helloSHA256)...),
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func(content string) (int, string) {
		t.Helper()
		req, err := postpolicytest.NewRequest(form, nil, "pinned.txt", strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct{ Code, Message string }
		body, _ := io.ReadAll(resp.Body)
		xml.Unmarshal(body, &doc)
		return resp.StatusCode, doc.Code
	}

	if status, code := post("EVIL!"); status != http.StatusBadRequest || code != string(receiver.CodeBadDigest) {
		t.Fatalf("EVIL! answered %d %q, want 400 BadDigest", status, code)
	}
	if obj, ok := srv.Object("pin", "pinned.txt"); ok {
		t.Fatalf("a file whose SHA-256 does not match was stored: %q", obj.Body)
	}
	if status, code := post("hello"); status != http.StatusNoContent {
		t.Fatalf("hello answered %d %q, want 204", status, code)
	}
	if obj, ok := srv.Object("pin", "pinned.txt"); !ok || string(obj.Body) != "hello" {
		t.Fatalf("hello was not stored (%v, %q)", ok, obj.Body)
	}
}

// checkValues are the digests of the nine bytes "123456789": for the CRCs
// the "check" values of the CRC catalogue
// (https://reveng.sourceforge.io/crc-catalogue/: CRC-32/ISO-HDLC,
// CRC-32/ISCSI, CRC-64/NVME), for SHA-1 and SHA-256 the output of
// `printf 123456789 | sha1sum` and `| sha256sum`. The form field carries
// the base64 of the digest's bytes, big-endian for the CRCs.
var checkValues = []struct {
	alg postpolicy.ChecksumAlgorithm
	hex string
}{
	{postpolicy.ChecksumCRC32, "cbf43926"},
	{postpolicy.ChecksumCRC32C, "e3069283"},
	{postpolicy.ChecksumCRC64NVME, "ae8b14860a799888"},
	{postpolicy.ChecksumSHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
	{postpolicy.ChecksumSHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
}

// checksumForm signs, for bucket "sum", a form whose policy adds conds to
// a key and a size range of 1 to 100 bytes, and returns it with a
// Verifier that accepts it.
func checksumForm(t *testing.T, conds ...postpolicy.Condition) (*postpolicy.Form, *receiver.Verifier) {
	t.Helper()
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: append([]postpolicy.Condition{postpolicy.Bucket("sum"), postpolicy.Key("sum.txt"), postpolicy.ContentLengthRange(1, 100)}, conds...),
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	return form, v
}

// TestVerifyChecksumKnownAnswers posts "123456789" under a policy that
// pins each algorithm's published check value: it is stored whole; one
// changed byte ("123456780") is refused with BadDigest, in S3's words,
// by the Read that would have returned io.EOF.
func TestVerifyChecksumKnownAnswers(t *testing.T) {
	for _, kv := range checkValues {
		t.Run(string(kv.alg), func(t *testing.T) {
			sum, err := hex.DecodeString(kv.hex)
			if err != nil || len(sum) != kv.alg.DigestSize() {
				t.Fatalf("check value %q: %v", kv.hex, err)
			}
			form, v := checksumForm(t, postpolicy.Checksum(kv.alg, base64.StdEncoding.EncodeToString(sum))...)
			read := func(content string) (string, error) {
				t.Helper()
				req, err := postpolicytest.NewRequest(form, nil, "sum.txt", strings.NewReader(content))
				if err != nil {
					t.Fatal(err)
				}
				up, err := v.Verify(req, "sum")
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				b, err := io.ReadAll(up.File)
				return string(b), err
			}
			if got, err := read("123456789"); err != nil || got != "123456789" {
				t.Fatalf("the matching file: %q, %v", got, err)
			}
			_, err = read("123456780")
			var e *receiver.S3Error
			if !errors.As(err, &e) || e.Code != receiver.CodeBadDigest || e.Status != http.StatusBadRequest {
				t.Fatalf("a changed byte: %v, want 400 BadDigest", err)
			}
			if want := "The " + string(kv.alg) + " you specified did not match the calculated checksum."; e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
		})
	}
}

// TestUploadChecksum: a server that reads the file itself (VerifyFields)
// learns from Checksum which digest the file must have, and CheckDigest
// answers BadDigest for any other. An upload that names no digest asks
// nothing.
func TestUploadChecksum(t *testing.T) {
	for _, kv := range checkValues {
		t.Run(string(kv.alg), func(t *testing.T) {
			want, _ := hex.DecodeString(kv.hex)
			form, v := checksumForm(t, postpolicy.Checksum(kv.alg, base64.StdEncoding.EncodeToString(want))...)
			up, err := v.VerifyFields(context.Background(), "sum", form.Fields, "sum.txt")
			if err != nil {
				t.Fatal(err)
			}
			alg, digest := up.Checksum()
			if alg != kv.alg || !bytes.Equal(digest, want) {
				t.Fatalf("Checksum() = %s %x, want %s %s", alg, digest, kv.alg, kv.hex)
			}
			digest[0] ^= 1 // a copy: changing it changes nothing
			h := alg.New()
			h.Write([]byte("123456789"))
			if err := up.CheckDigest(h.Sum(nil)); err != nil {
				t.Errorf("CheckDigest(digest of 123456789) = %v", err)
			}
			h.Reset()
			h.Write([]byte("123456780"))
			for _, sum := range [][]byte{h.Sum(nil), nil, want[:len(want)-1]} {
				if err := up.CheckDigest(sum); !errors.Is(err, receiver.CodeBadDigest) {
					t.Errorf("CheckDigest(%x) = %v, want BadDigest", sum, err)
				}
			}
		})
	}
	form, v := checksumForm(t)
	up, err := v.VerifyFields(context.Background(), "sum", form.Fields, "sum.txt")
	if err != nil {
		t.Fatal(err)
	}
	if alg, digest := up.Checksum(); alg != "" || digest != nil {
		t.Errorf("without checksum fields, Checksum() = %q %x", alg, digest)
	}
	if err := up.CheckDigest([]byte("anything")); err != nil {
		t.Errorf("without checksum fields, CheckDigest = %v", err)
	}
}

// TestEvaluateChecksumFields: Evaluate applies the rules on the
// x-amz-checksum-* fields (it cannot hash a file it does not have).
func TestEvaluateChecksumFields(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		fields []postpolicy.Field
		code   receiver.ErrorCode
	}{
		{"algorithm and digest", []postpolicy.Field{{Name: "x-amz-checksum-algorithm", Value: "SHA256"}, {Name: "x-amz-checksum-sha256", Value: helloSHA256}}, ""},
		{"algorithm alone", []postpolicy.Field{{Name: "x-amz-checksum-algorithm", Value: "SHA256"}}, receiver.CodeInvalidRequest},
		{"short digest", []postpolicy.Field{{Name: "x-amz-checksum-sha256", Value: "AAAA"}}, receiver.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conds := []postpolicy.Condition{postpolicy.Bucket("sum"), postpolicy.Key("k")}
			fields := []postpolicy.Field{{Name: "key", Value: "k"}}
			for _, f := range tc.fields {
				conds = append(conds, postpolicy.Eq(f.Name, f.Value))
				fields = append(fields, f)
			}
			err := receiver.Evaluate(postpolicy.Policy{Expiration: now.Add(time.Hour), Conditions: conds}, now, "sum", fields, "", 5)
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("Evaluate = %v, want nil", err)
			case tc.code != "" && !errors.Is(err, tc.code):
				t.Fatalf("Evaluate = %v, want %s", err, tc.code)
			}
		})
	}
}
