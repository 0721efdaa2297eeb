package postpolicy_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// TestPresignGetExample reproduces the presigned URL of AWS's example
// (GET examplebucket/test.txt, 86400 seconds, 20130524), published on
// "Authenticating Requests: Using Query Parameters" and kept in
// internal/sigv4/testdata/s3-sigv4-examples.json: the URL, byte for byte.
func TestPresignGetExample(t *testing.T) {
	var v struct {
		Credentials struct {
			AccessKeyID string `json:"access_key_id"`
			Secret      string `json:"secret_access_key"`
		} `json:"credentials"`
		AmzDate   string `json:"amz_date"`
		Region    string `json:"region"`
		Bucket    string `json:"bucket"`
		Presigned struct {
			Examples []struct {
				Path    string `json:"path"`
				Expires string `json:"expires"`
				URL     string `json:"url"`
			} `json:"examples"`
		} `json:"presigned"`
	}
	testutil.ReadJSON(t, "internal/sigv4/testdata/s3-sigv4-examples.json", &v)
	at := mustDate(t, "20060102T150405Z", v.AmzDate)
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: v.Credentials.AccessKeyID, SecretAccessKey: v.Credentials.Secret},
		Region:      v.Region,
		// The example's host is the global endpoint, virtual-hosted.
		Endpoint: "https://s3.amazonaws.com", URLStyle: postpolicy.URLStyleVirtualHosted,
		Now: func() time.Time { return at },
	}
	if len(v.Presigned.Examples) == 0 {
		t.Fatal("no example")
	}
	ex := v.Presigned.Examples[0]
	if ex.Expires != "86400" {
		t.Fatalf("the example lives %s seconds; the test signs 86400", ex.Expires)
	}
	got, err := s.PresignGet(context.Background(), v.Bucket, strings.TrimPrefix(ex.Path, "/"), at.Add(86400*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != ex.URL || got.Method != "GET" || len(got.Header) != 0 || !got.Expiration.Equal(at.Add(24*time.Hour)) {
		t.Errorf("PresignGet = %s %s %v %v\nwant GET %s", got.Method, got.URL, got.Header, got.Expiration, ex.URL)
	}
}

// TestPresignPutHeaders checks which conditions become which signed
// headers, with their values, and that the URL names them in
// X-Amz-SignedHeaders, in order; and the JSON a page reads.
func TestPresignPutHeaders(t *testing.T) {
	s := newExampleSigner()
	conds := []postpolicy.Condition{
		postpolicy.Bucket("acme-user-uploads"),
		postpolicy.Key("users/alice/photo.png"),
		postpolicy.ContentType("image/png"),
		postpolicy.ContentLengthRange(4321, 4321),
		postpolicy.Meta("uploader", "alice"),
		postpolicy.ACL("private"),
		postpolicy.CacheControl("max-age=60"),
		postpolicy.ContentDisposition(`attachment; filename="photo.png"`),
		postpolicy.StorageClass("STANDARD_IA"),
		postpolicy.Tagging(postpolicy.Tag{Key: "team", Value: "R&D"}, postpolicy.Tag{Key: "q", Value: "a b"}),
		postpolicy.ServerSideEncryptionAES256(),
	}
	conds = append(conds, postpolicy.Checksum(postpolicy.ChecksumSHA256, "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")...)
	p, err := s.PresignPut(context.Background(), postpolicy.Policy{Expiration: lintAt.Add(10 * time.Minute), Conditions: conds})
	if err != nil {
		t.Fatal(err)
	}
	want := []postpolicy.Field{
		{Name: "Content-Type", Value: "image/png"},
		{Name: "Content-Length", Value: "4321"},
		{Name: "x-amz-meta-uploader", Value: "alice"},
		{Name: "x-amz-acl", Value: "private"},
		{Name: "Cache-Control", Value: "max-age=60"},
		{Name: "Content-Disposition", Value: `attachment; filename="photo.png"`},
		{Name: "x-amz-storage-class", Value: "STANDARD_IA"},
		{Name: "x-amz-tagging", Value: "team=R%26D&q=a+b"},
		{Name: "x-amz-server-side-encryption", Value: "AES256"},
		{Name: "x-amz-checksum-sha256", Value: "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="},
	}
	if diff := cmp.Diff(want, p.Header); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := q.Get("X-Amz-SignedHeaders"); got != "cache-control;content-disposition;content-length;content-type;host;x-amz-acl;x-amz-checksum-sha256;x-amz-meta-uploader;x-amz-server-side-encryption;x-amz-storage-class;x-amz-tagging" {
		t.Errorf("X-Amz-SignedHeaders = %s", got)
	}
	if u.Host != "acme-user-uploads.s3.us-east-1.amazonaws.com" || u.EscapedPath() != "/users/alice/photo.png" || q.Get("X-Amz-Expires") != "600" {
		t.Errorf("URL %s", p.URL)
	}
	if !strings.HasSuffix(p.URL, "&X-Amz-Signature="+q.Get("X-Amz-Signature")) || len(q.Get("X-Amz-Signature")) != 64 {
		t.Errorf("the signature is not last, or not 64 hex digits: %s", p.URL)
	}
	b, _ := p.MarshalJSON()
	if !strings.HasPrefix(string(b), `{"method":"PUT","url":"https://acme-user-uploads.s3.us-east-1.amazonaws.com/users/alice/photo.png?`) ||
		!strings.HasSuffix(string(b), `","headers":{"Content-Type":"image/png","Content-Length":"4321","x-amz-meta-uploader":"alice","x-amz-acl":"private","Cache-Control":"max-age=60","Content-Disposition":"attachment; filename=\"photo.png\"","x-amz-storage-class":"STANDARD_IA","x-amz-tagging":"team=R%26D&q=a+b","x-amz-server-side-encryption":"AES256","x-amz-checksum-sha256":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}}`) {
		t.Errorf("MarshalJSON = %s", b)
	}
}

// TestPresignPutRefuses checks that a condition a PUT cannot express is
// an error naming the field and the rule, not dropped.
func TestPresignPutRefuses(t *testing.T) {
	s := newExampleSigner()
	base := []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}
	for _, tc := range []struct {
		name  string
		conds []postpolicy.Condition
		exp   time.Duration
		field string
		rule  postpolicy.Rule
	}{
		{"key prefix", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.KeyPrefix("u/")}, time.Hour, "key", postpolicy.RulePresignedPut},
		{"key with ${filename}", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("u/${filename}")}, time.Hour, "key", postpolicy.RulePresignedPut},
		{"content type prefix", append(base, postpolicy.ContentTypePrefix("image/")), time.Hour, "Content-Type", postpolicy.RulePresignedPut},
		{"size range", append(base, postpolicy.ContentLengthRange(1, 10)), time.Hour, "content-length-range", postpolicy.RulePresignedPut},
		{"success status", append(base, postpolicy.SuccessActionStatus(201)), time.Hour, "success_action_status", postpolicy.RulePresignedPut},
		{"redirect", append(base, postpolicy.SuccessActionRedirect("https://example.com/")), time.Hour, "success_action_redirect", postpolicy.RulePresignedPut},
		{"x-ignore field", append(base, postpolicy.Eq("x-ignore-note", "n")), time.Hour, "x-ignore-note", postpolicy.RulePresignedPut},
		{"eight days", base, 8 * 24 * time.Hour, "expiration", postpolicy.RuleExpirationOverSevenDays},
		{"less than a second", base, 999 * time.Millisecond, "expiration", postpolicy.RuleExpirationPassed},
		{"two content types", append(base, postpolicy.ContentType("a/b"), postpolicy.ContentType("c/d")), time.Hour, "Content-Type", postpolicy.RuleConflict},
		{"no key", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, time.Hour, "key", postpolicy.RuleKeyMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PresignPut(context.Background(), postpolicy.Policy{Expiration: lintAt.Add(tc.exp), Conditions: tc.conds})
			ps := postpolicy.Problems(err)
			if !errors.Is(err, postpolicy.ErrInvalidPolicy) || len(ps) == 0 || ps[0].Field != tc.field || ps[0].Rule != tc.rule {
				t.Errorf("PresignPut: %v; want a problem of %s, rule %s", err, tc.field, tc.rule)
			}
		})
	}
	// Seven days exactly is the longest a presigned URL lives.
	if p, err := s.PresignPut(context.Background(), postpolicy.Policy{Expiration: lintAt.Add(7 * 24 * time.Hour), Conditions: base}); err != nil || !strings.Contains(p.URL, "X-Amz-Expires=604800&") {
		t.Errorf("seven days: %v", err)
	}
}
