package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// A server that accepts browser uploads verifies each one as S3 does:
// the fields, the signature over the policy as received, every condition,
// then the file as it streams. The form here is signed by a Signer with
// the same credentials; a second upload is one byte over the policy's
// size range.
func ExampleVerifier() {
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	verifier := &receiver.Verifier{
		Lookup: receiver.StaticCredentials(creds),
		Region: "us-east-1",
		Now:    clock,
	}

	signer := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Endpoint: "http://127.0.0.1:9000", Now: clock}
	form, err := signer.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(5 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("uploads"),
			postpolicy.Key("user-42/${filename}"),
			postpolicy.ContentLengthRange(1, 5),
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, content := range []string{"hello", "hello!"} {
		req, err := postpolicytest.NewRequest(form, nil, "hello.txt", strings.NewReader(content))
		if err != nil {
			log.Fatal(err)
		}
		up, err := verifier.Verify(req, "uploads")
		if err != nil {
			log.Fatal(err)
		}
		// A server stores the object only once File has been read to its
		// end without error.
		body, err := io.ReadAll(up.File)
		var s3err *receiver.S3Error
		switch {
		case errors.As(err, &s3err):
			fmt.Println(up.Key, "refused:", string(s3err.Code), s3err.Status)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println(up.Key, "accepted:", string(body))
		}
	}
	// Output:
	// user-42/hello.txt accepted: hello
	// user-42/hello.txt refused: EntityTooLarge 400
}

// A server that parses the multipart body itself checks the fields with
// VerifyFields, then the file it read: its size with CheckSize and, when
// the form names a digest (x-amz-checksum-*), the file's digest with
// CheckDigest. The policy here pins the SHA-256 of "hello"; "EVIL!" has
// the same size but not the same digest.
func ExampleUpload_CheckDigest() {
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	verifier := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: clock}
	signer := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: clock}

	// The SHA-256 of "hello", as the base64 of its 32 bytes.
	digest, err := postpolicy.ChecksumDigest(postpolicy.ChecksumSHA256, strings.NewReader("hello"))
	if err != nil {
		log.Fatal(err)
	}
	form, err := signer.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(5 * time.Minute),
		Conditions: append([]postpolicy.Condition{
			postpolicy.Bucket("uploads"),
			postpolicy.Key("pinned.txt"),
			postpolicy.ContentLengthRange(5, 5),
		}, postpolicy.Checksum(postpolicy.ChecksumSHA256, digest)...),
	})
	if err != nil {
		log.Fatal(err)
	}

	// The fields as the server received them before the file.
	up, err := verifier.VerifyFields(context.Background(), "uploads", form.Fields, "pinned.txt")
	if err != nil {
		log.Fatal(err)
	}
	alg, _ := up.Checksum()
	for _, content := range []string{"hello", "EVIL!"} {
		h := alg.New()
		n, _ := io.Copy(h, strings.NewReader(content))
		err := up.CheckSize(n)
		if err == nil {
			err = up.CheckDigest(h.Sum(nil))
		}
		var s3err *receiver.S3Error
		if errors.As(err, &s3err) {
			fmt.Println(content, "refused:", string(s3err.Code), s3err.Message)
			continue
		}
		fmt.Println(content, "accepted with", alg)
	}
	// Output:
	// hello accepted with SHA256
	// EVIL! refused: BadDigest The SHA256 you specified did not match the calculated checksum.
}
