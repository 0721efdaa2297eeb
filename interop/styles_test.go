package interop

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"

	"github.com/postpolicy/postpolicy"
)

// TestFieldAndJSONStyles records how the three implementations differ for
// the same inputs: bucket acme-user-uploads in eu-west-1, temporary
// credentials, key uploads/user-42/${filename} (a starts-with on
// uploads/user-42/), content-length-range 1..10485760, Content-Type
// starts-with image/, success_action_status 201, x-amz-meta-uploader
// user-42, and x-amz-meta-note "Zoë & <co>" (non-ASCII and HTML
// characters), valid 15 minutes from 2015-12-29T00:00:00Z. postpolicy and
// aws-sdk-go-v2 sign at that fixed time; minio-go signs with time.Now, so
// its x-amz-date and credential date are replaced by <AMZDATE> and <DATE>
// before comparing (its expiration is the fixed one: SetExpires).
//
// What the comparison shows (the README cites these), all accepted by S3
// because the signature covers the base64 text as sent ("Calculating a
// Signature", sigv4-authentication-HTTPPOST):
//
//   - Field names. postpolicy: lower case, in a fixed order (the policy's
//     fields in condition order, then x-amz-algorithm, x-amz-credential,
//     x-amz-date, x-amz-security-token, policy, x-amz-signature), with the
//     Content-Type prefix left to the page as a PageCondition. aws-sdk-go-v2:
//     a map with X-Amz-* capitalised and lower-case key and policy, and no
//     field for any extra condition: the caller must add Content-Type,
//     success_action_status and both x-amz-meta-* itself. minio-go: a map of
//     lower-case names plus Content-Type, a field for every condition, a
//     bucket field, and starts-with prefixes as placeholder values (key
//     uploads/user-42/, Content-Type image/) that the page must overwrite.
//   - JSON member order. postpolicy and aws-sdk-go-v2: conditions, then
//     expiration; minio-go: expiration first.
//   - Exact matches. postpolicy and aws-sdk-go-v2: one-member objects
//     {"success_action_status":"201"}; minio-go: arrays
//     ["eq","$success_action_status","201"], bucket included.
//   - Authentication conditions. postpolicy: x-amz-algorithm,
//     x-amz-credential, x-amz-security-token first, x-amz-date last, lower
//     case. aws-sdk-go-v2: X-Amz-Algorithm, bucket, X-Amz-Credential,
//     X-Amz-Date, X-Amz-Security-Token first, capitalised. minio-go:
//     x-amz-date, x-amz-algorithm, x-amz-credential, x-amz-security-token
//     after the caller's conditions, lower case.
//   - content-length-range. postpolicy and aws-sdk-go-v2: where the caller
//     put it, compact; minio-go: always last, with ", " between elements.
//   - Expiration. postpolicy and minio-go: milliseconds (.000Z);
//     aws-sdk-go-v2: whole seconds (RFC 3339, Z).
//   - Escaping. "Zoë & <co>": postpolicy and minio-go write it raw;
//     aws-sdk-go-v2 (encoding/json) HTML-escapes it as
//     "Zoë \u0026 \u003cco\u003e". All three write the ë as UTF-8. Only
//     minio-go does not escape quotes and backslashes at all
//     (TestMinioJSONInjection).
//   - URL. postpolicy: https://acme-user-uploads.s3.eu-west-1.amazonaws.com/;
//     aws-sdk-go-v2: the same without the trailing slash; minio-go: the
//     dual-stack host https://acme-user-uploads.s3.dualstack.eu-west-1.amazonaws.com/.
func TestFieldAndJSONStyles(t *testing.T) {
	signedAt := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	expires := signedAt.Add(15 * time.Minute)
	const note = "Zoë & <co>"

	type output struct {
		url    string
		fields []string // names as emitted; for the map outputs, sorted
		doc    string   // the decoded policy JSON
	}

	// postpolicy.
	s := &postpolicy.Signer{Credentials: ourCredentials(sessionToken), Region: region, Now: func() time.Time { return signedAt }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: expires,
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket(bucket),
			postpolicy.Key("uploads/user-42/${filename}"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", "user-42"),
			postpolicy.Meta("note", note),
		},
	})
	if err != nil {
		t.Fatalf("our Signer: %v", err)
	}
	ours := output{form.URL, fieldNames(form.Fields), decodedPolicy(t, mustGet(t, form.Fields, "policy"))}
	var page []string
	for _, c := range form.PageConditions {
		page = append(page, c.String())
	}

	// aws-sdk-go-v2, clock fixed.
	ao := presignAWS(t, awsPresign{
		input: &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/user-42/${filename}")},
		conditions: []any{
			[]any{"starts-with", "$key", "uploads/user-42/"},
			[]any{"content-length-range", 1, 10 << 20},
			[]any{"starts-with", "$Content-Type", "image/"},
			map[string]string{"success_action_status": "201"},
			map[string]string{"x-amz-meta-uploader": "user-42"},
			map[string]string{"x-amz-meta-note": note},
		},
		expires: 15 * time.Minute,
		token:   sessionToken,
		clock:   signedAt,
	})
	awsOut := output{ao.URL, fieldNames(fieldsFromMap(ao.Values)), decodedPolicy(t, ao.Values["policy"])}

	// minio-go, real clock, fixed expiration.
	p := minio.NewPostPolicy()
	must(t, p.SetExpires(expires))
	must(t, p.SetBucket(bucket))
	must(t, p.SetKeyStartsWith("uploads/user-42/"))
	must(t, p.SetContentLengthRange(1, 10<<20))
	must(t, p.SetContentTypeStartsWith("image/"))
	must(t, p.SetSuccessStatusAction("201"))
	must(t, p.SetUserMetadata("uploader", "user-42"))
	must(t, p.SetUserMetadata("note", note))
	mURL, mFields := presignMinio(t, sessionToken, p)
	sc := scopeOf(t, mFields)
	mDoc := decodedPolicy(t, mustGet(t, mFields, "policy"))
	mDoc = strings.ReplaceAll(mDoc, `"`+mustGet(t, mFields, "x-amz-date")+`"`, `"<AMZDATE>"`)
	mDoc = strings.ReplaceAll(mDoc, "/"+sc.date+"/", "/<DATE>/")
	minioOut := output{mURL, fieldNames(mFields), mDoc}

	want := map[string]output{
		"postpolicy": {
			url:    "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/",
			fields: []string{"key", "success_action_status", "x-amz-meta-uploader", "x-amz-meta-note", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token", "policy", "x-amz-signature"},
			doc: `{"conditions":[{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"},{"x-amz-security-token":"FQoGZXIvYXdzEXAMPLETOKEN"},` +
				`{"bucket":"acme-user-uploads"},["starts-with","$key","uploads/user-42/"],["content-length-range",1,10485760],["starts-with","$Content-Type","image/"],` +
				`{"success_action_status":"201"},{"x-amz-meta-uploader":"user-42"},{"x-amz-meta-note":"Zoë & <co>"},{"x-amz-date":"20151229T000000Z"}],"expiration":"2015-12-29T00:15:00.000Z"}`,
		},
		"aws-sdk-go-v2": {
			url:    "https://acme-user-uploads.s3.eu-west-1.amazonaws.com",
			fields: []string{"key", "policy", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Signature"},
			doc: `{"conditions":[{"X-Amz-Algorithm":"AWS4-HMAC-SHA256"},{"bucket":"acme-user-uploads"},{"X-Amz-Credential":"AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"},{"X-Amz-Date":"20151229T000000Z"},{"X-Amz-Security-Token":"FQoGZXIvYXdzEXAMPLETOKEN"},` +
				`["starts-with","$key","uploads/user-42/"],["content-length-range",1,10485760],["starts-with","$Content-Type","image/"],` +
				`{"success_action_status":"201"},{"x-amz-meta-uploader":"user-42"},{"x-amz-meta-note":"Zoë \u0026 \u003cco\u003e"}],"expiration":"2015-12-29T00:15:00Z"}`,
		},
		"minio-go": {
			url:    "https://acme-user-uploads.s3.dualstack.eu-west-1.amazonaws.com/",
			fields: []string{"bucket", "Content-Type", "key", "policy", "success_action_status", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-meta-note", "x-amz-meta-uploader", "x-amz-security-token", "x-amz-signature"},
			doc: `{"expiration":"2015-12-29T00:15:00.000Z","conditions":[["eq","$bucket","acme-user-uploads"],["starts-with","$key","uploads/user-42/"],["starts-with","$Content-Type","image/"],` +
				`["eq","$success_action_status","201"],["eq","$x-amz-meta-uploader","user-42"],["eq","$x-amz-meta-note","Zoë & <co>"],` +
				`["eq","$x-amz-date","<AMZDATE>"],["eq","$x-amz-algorithm","AWS4-HMAC-SHA256"],["eq","$x-amz-credential","AKIAIOSFODNN7EXAMPLE/<DATE>/eu-west-1/s3/aws4_request"],["eq","$x-amz-security-token","FQoGZXIvYXdzEXAMPLETOKEN"],` +
				`["content-length-range", 1, 10485760]]}`,
		},
	}
	got := map[string]output{"postpolicy": ours, "aws-sdk-go-v2": awsOut, "minio-go": minioOut}
	for _, name := range []string{"postpolicy", "aws-sdk-go-v2", "minio-go"} {
		g, w := got[name], want[name]
		if g.url != w.url {
			t.Errorf("%s URL:\n got %s\nwant %s", name, g.url, w.url)
		}
		if !slices.Equal(g.fields, w.fields) {
			t.Errorf("%s fields:\n got %q\nwant %q", name, g.fields, w.fields)
		}
		if g.doc != w.doc {
			t.Errorf("%s policy JSON:\n got %s\nwant %s", name, g.doc, w.doc)
		}
		t.Logf("%s\n  URL:    %s\n  fields: %s\n  policy: %s", name, g.url, strings.Join(g.fields, ", "), g.doc)
	}
	if want := []string{`["starts-with", "$Content-Type", "image/"]`}; !slices.Equal(page, want) {
		t.Errorf("postpolicy PageConditions = %q, want %q", page, want)
	}
	t.Logf("postpolicy leaves to the page: %s", strings.Join(page, ", "))

	// Values that differ, beyond the names.
	if v := ao.Values["key"]; v != "uploads/user-42/${filename}" {
		t.Errorf("aws-sdk-go-v2 key field %q", v)
	}
	for name, wantValue := range map[string]string{"key": "uploads/user-42/", "Content-Type": "image/", "bucket": bucket} {
		if v := mustGet(t, mFields, name); v != wantValue {
			t.Errorf("minio-go %s field = %q, want %q", name, v, wantValue)
		}
	}
	if v := mustGet(t, form.Fields, "key"); v != "uploads/user-42/${filename}" {
		t.Errorf("postpolicy key field %q", v)
	}
	// Every implementation's x-amz-date is the 16-character basic format.
	dateRE := regexp.MustCompile(`^\d{8}T\d{6}Z$`)
	for who, d := range map[string]string{"postpolicy": mustGet(t, form.Fields, "x-amz-date"), "aws-sdk-go-v2": ao.Values["X-Amz-Date"], "minio-go": mustGet(t, mFields, "x-amz-date")} {
		if !dateRE.MatchString(d) {
			t.Errorf("%s x-amz-date %q", who, d)
		}
	}
}
