package postpolicytest_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
)

// A test of an upload flow without a real bucket: sign with the fake
// server's Signer, post the form as a browser would, read the object back,
// and see the refusals S3 would give.
func ExampleNewServer() {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()

	policy := postpolicy.Policy{
		Expiration: time.Now().Add(5 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("uploads"),
			postpolicy.Key("user-42/${filename}"),
			postpolicy.ContentLengthRange(1, 10),
		},
	}
	form, err := srv.Signer().Sign(context.Background(), policy)
	if err != nil {
		log.Fatal(err)
	}

	for _, content := range []string{"hello", "far too long for the policy"} {
		req, err := postpolicytest.NewRequest(form, nil, "hello.txt", strings.NewReader(content))
		if err != nil {
			log.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	obj, ok := srv.Object("uploads", "user-42/hello.txt")
	fmt.Println(ok, string(obj.Body))
	// Output:
	// 204
	// 400
	// true hello
}

// A presigned PUT, as an app hands one to a browser or a mobile client:
// the Server stores the object and answers with its ETag; a PUT of
// another Content-Type than the signed one is refused, as S3 refuses it.
func ExampleNewPresignedRequest() {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()

	p, err := srv.Signer().PresignPut(context.Background(), postpolicy.Policy{
		Expiration: time.Now().Add(5 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("uploads"),
			postpolicy.Key("user-42/hello.txt"),
			postpolicy.ContentType("text/plain"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, contentType := range []string{"text/plain", "text/html"} {
		req, err := postpolicytest.NewPresignedRequest(p, strings.NewReader("hello"))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(resp.Status + " " + resp.Header.Get("ETag")))
	}
	obj, ok := srv.Object("uploads", "user-42/hello.txt")
	fmt.Println(ok, string(obj.Body), obj.ContentType)
	// Output:
	// 200 OK "5d41402abc4b2a76b9719d911017c592"
	// 403 Forbidden
	// true hello text/plain
}
