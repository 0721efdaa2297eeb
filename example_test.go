package postpolicy_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
)

// A backend signs, for one signed-in user, a form that lets the browser
// upload one image of at most 10 MiB under that user's prefix, for the next
// 15 minutes. The signature is the one in testdata/golden/signer.json
// (readme-example), computed there with openssl.
func Example() {
	// Fixed for the example's output; a real backend leaves Now nil and
	// reads credentials with postpolicy.EnvCredentials(os.Getenv).
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
			SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		},
		Region: "eu-west-1",
		Now:    func() time.Time { return now },
	}

	userID := "user-42"
	policy := postpolicy.Policy{
		Expiration: now.Add(15 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key("uploads/" + userID + "/${filename}"),
			postpolicy.ContentTypePrefix("image/"), // the page sets Content-Type
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", userID),
		},
	}

	form, err := signer.Sign(context.Background(), policy)
	if err != nil {
		log.Fatal(err) // names every problem: field, rule, what S3 would answer
	}
	fmt.Println("POST", form.URL)
	for _, f := range form.Fields {
		fmt.Printf("%s: %.60s\n", f.Name, f.Value)
	}
	for _, c := range form.PageConditions {
		fmt.Println("the page adds:", c)
	}
	fmt.Println("then the file, last")
	// Output:
	// POST https://acme-user-uploads.s3.eu-west-1.amazonaws.com/
	// key: uploads/user-42/${filename}
	// success_action_status: 201
	// x-amz-meta-uploader: user-42
	// x-amz-algorithm: AWS4-HMAC-SHA256
	// x-amz-credential: AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request
	// x-amz-date: 20151229T000000Z
	// policy: eyJjb25kaXRpb25zIjpbeyJ4LWFtei1hbGdvcml0aG0iOiJBV1M0LUhNQUMt
	// x-amz-signature: 325adf0101a239e8d15ed4363e71cd9018d396ff4c397c3dd626dae612f1
	// the page adds: ["starts-with", "$Content-Type", "image/"]
	// then the file, last
}

// Validate reports every problem at once, each naming the field and the S3
// rule, before anything is signed.
func ExamplePolicy_Validate() {
	signingTime := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	policy := postpolicy.Policy{
		Expiration: signingTime.Add(-time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("Acme_Uploads"),
			postpolicy.StartsWith("success_action_status", "20"),
			postpolicy.Eq("key", "uploads/${filename}"),
			postpolicy.ContentLengthRange(10<<20, 1),
		},
	}
	err := policy.Validate(signingTime)
	fmt.Println(errors.Is(err, postpolicy.ErrInvalidPolicy))
	for _, p := range policy.Lint(signingTime) {
		fmt.Printf("%s: %s\n", p.Field, p.Rule)
	}
	// Output:
	// true
	// expiration: expiration-passed
	// bucket: bucket-name
	// success_action_status: exact-match-only
	// key: filename-in-condition
	// content-length-range: range-inverted
}

// Credentials never print their secret or session token.
func ExampleCredentials() {
	c := postpolicy.Credentials{
		AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		SessionToken:    "FQoGZXIvYXdzEXAMPLETOKEN",
	}
	fmt.Println(c)
	fmt.Printf("%+v\n", c)
	fmt.Printf("%#v\n", c)
	// Output:
	// Credentials{AccessKeyID: AKIAIOSFODNN7EXAMPLE, SecretAccessKey: REDACTED, SessionToken: REDACTED}
	// Credentials{AccessKeyID: AKIAIOSFODNN7EXAMPLE, SecretAccessKey: REDACTED, SessionToken: REDACTED}
	// postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "REDACTED", SessionToken: "REDACTED"}
}

// A key ending in ${filename} becomes a starts-with on the prefix, because
// S3 substitutes the file's name before checking; the form keeps the literal.
func ExampleKey() {
	c := postpolicy.Key("uploads/user-42/${filename}")
	v, _ := c.FormValue()
	fmt.Println(c)
	fmt.Println("form value:", v)
	fmt.Println(postpolicy.Key("uploads/user-42/avatar.png"))
	// Output:
	// ["starts-with", "$key", "uploads/user-42/"]
	// form value: uploads/user-42/${filename}
	// ["eq", "$key", "uploads/user-42/avatar.png"]
}

// The form as HTML: hidden inputs, a text input for each field the page
// supplies, and the file input last.
func ExampleForm_WriteHTML() {
	form := &postpolicy.Form{
		URL: "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/",
		Fields: []postpolicy.Field{
			{Name: "key", Value: "uploads/user-42/${filename}"},
			{Name: "policy", Value: "eyJ…"},
			{Name: "x-amz-signature", Value: "325a…"},
		},
		PageConditions: []postpolicy.Condition{postpolicy.ContentTypePrefix("image/")},
	}
	if err := form.WriteHTML(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// <form action="https://acme-user-uploads.s3.eu-west-1.amazonaws.com/" method="post" enctype="multipart/form-data">
	//   <input type="hidden" name="key" value="uploads/user-42/${filename}">
	//   <input type="hidden" name="policy" value="eyJ…">
	//   <input type="hidden" name="x-amz-signature" value="325a…">
	//   <label>Content-Type <input type="text" name="Content-Type" value="image/" required></label>
	//   <input type="file" name="file" required>
	//   <button type="submit">Upload</button>
	// </form>
}

// A backend that lets every user upload the same kind of file prepares,
// once, the conditions all its forms share; each form then costs the
// checks, encoding and hashing of the user's own conditions only. The
// first form's signature is the one in testdata/golden/signer.json
// (template-example), computed there with openssl; the second was computed
// from the same text, with user-43, with Python's hmac module.
func ExampleSigner_Prepare() {
	// Fixed for the example's output; a real backend leaves Now nil.
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
			SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		},
		Region: "eu-west-1",
		Now:    func() time.Time { return now },
	}
	uploads, err := signer.Prepare(15*time.Minute,
		postpolicy.Bucket("acme-user-uploads"),
		postpolicy.ContentTypePrefix("image/"),
		postpolicy.ContentLengthRange(1, 10<<20),
		postpolicy.SuccessActionStatus(201),
	)
	if err != nil {
		log.Fatal(err)
	}

	for _, userID := range []string{"user-42", "user-43"} {
		form, err := uploads.Sign(context.Background(),
			postpolicy.Key("uploads/"+userID+"/${filename}"),
			postpolicy.Meta("uploader", userID),
		)
		if err != nil {
			log.Fatal(err)
		}
		key, _ := form.Get("key")
		sig, _ := form.Get("x-amz-signature")
		fmt.Println(key, sig)
	}
	// Output:
	// uploads/user-42/${filename} b6c227ea880beb87e50084dea0fbbea784c2e07b5d0ab6d435d31e4ad4e67cd5
	// uploads/user-43/${filename} a0b39e1a3bff5f0b529abbc89c3e7c60e310dc87acd0d802bf20c410689df06f
}

// An endpoint that answers the page with the form's JSON, as FormHandler
// does, can have it written into a buffer it reuses, with a Template's
// AppendFormJSON (or a Signer's, for a whole policy).
func ExampleTemplate_AppendFormJSON() {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
			SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		},
		Region: "eu-west-1",
		Now:    func() time.Time { return now },
	}
	uploads, err := signer.Prepare(15*time.Minute,
		postpolicy.Bucket("acme-user-uploads"),
		postpolicy.ContentLengthRange(1, 10<<20),
		postpolicy.SuccessActionStatus(201),
	)
	if err != nil {
		log.Fatal(err)
	}

	var buf []byte
	for _, userID := range []string{"user-42", "user-43"} {
		buf, err = uploads.AppendFormJSON(context.Background(), buf[:0],
			postpolicy.Key("uploads/"+userID+"/${filename}"),
			postpolicy.Meta("uploader", userID),
		)
		if err != nil {
			log.Fatal(err)
		}
		// The fields of the policy's conditions, in their order; then come
		// x-amz-algorithm, x-amz-credential, x-amz-date, policy and
		// x-amz-signature.
		head, _, _ := strings.Cut(string(buf), `,"x-amz-algorithm"`)
		fmt.Println(head)
	}
	// Output:
	// {"url":"https://acme-user-uploads.s3.eu-west-1.amazonaws.com/","method":"POST","fields":{"success_action_status":"201","key":"uploads/user-42/${filename}","x-amz-meta-uploader":"user-42"
	// {"url":"https://acme-user-uploads.s3.eu-west-1.amazonaws.com/","method":"POST","fields":{"success_action_status":"201","key":"uploads/user-43/${filename}","x-amz-meta-uploader":"user-43"
}

// Where POST Object is not available (Cloudflare R2, Backblaze B2) or a
// client signs only URLs, a presigned PUT uploads one file under the same
// kind of policy, with exact values only: the key, the type and the size
// the page announced. Its signature was computed independently with
// Python's hmac and hashlib from the canonical request of "Authenticating
// Requests: Using Query Parameters (AWS Signature Version 4)".
func ExampleSigner_PresignPut() {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	signer := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
			SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		},
		Region: "eu-west-1",
		Now:    func() time.Time { return now },
	}
	userID, size := "user-42", int64(48213) // the size the page sent
	put, err := signer.PresignPut(context.Background(), postpolicy.Policy{
		Expiration: now.Add(15 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key("uploads/" + userID + "/avatar.png"),
			postpolicy.ContentType("image/png"),
			postpolicy.ContentLengthRange(size, size),
			postpolicy.Meta("uploader", userID),
		},
	})
	if err != nil {
		log.Fatal(err) // a starts-with or a size range: rule presigned-put
	}
	u, _, _ := strings.Cut(put.URL, "?")
	fmt.Println(put.Method, u)
	for _, p := range strings.Split(put.URL[len(u)+1:], "&") {
		fmt.Println(" ", p)
	}
	for _, h := range put.Header {
		fmt.Printf("%s: %s\n", h.Name, h.Value)
	}
	// Output:
	// PUT https://acme-user-uploads.s3.eu-west-1.amazonaws.com/uploads/user-42/avatar.png
	//   X-Amz-Algorithm=AWS4-HMAC-SHA256
	//   X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20151229%2Feu-west-1%2Fs3%2Faws4_request
	//   X-Amz-Date=20151229T000000Z
	//   X-Amz-Expires=900
	//   X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-meta-uploader
	//   X-Amz-Signature=ae1f8331e6eb1b398e942892a9c845bbd371aac386308248fbb0aba80d241fb4
	// Content-Type: image/png
	// Content-Length: 48213
	// x-amz-meta-uploader: user-42
}
