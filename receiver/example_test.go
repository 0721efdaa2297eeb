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
