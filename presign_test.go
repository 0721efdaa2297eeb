package postpolicy_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
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
		!strings.HasSuffix(string(b), `","headers":{"Content-Type":"image/png","x-amz-meta-uploader":"alice","x-amz-acl":"private","Cache-Control":"max-age=60","Content-Disposition":"attachment; filename=\"photo.png\"","x-amz-storage-class":"STANDARD_IA","x-amz-tagging":"team=R%26D&q=a+b","x-amz-server-side-encryption":"AES256","x-amz-checksum-sha256":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}}`) {
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

// TestPresignMatchesReference checks PresignPut and PresignGet against
// referencePresign, a plain implementation of "Authenticating Requests:
// Using Query Parameters", on keys, headers and configurations that
// exercise the encoding: spaces, '+', '~', reserved characters, '%',
// UTF-8, empty segments, a leading '/', metadata values with runs of
// spaces, a session token with '/', '+' and '=', path-style and
// virtual-hosted URLs, custom endpoints with and without a base path that
// needs decoding, more headers than the result preallocates, a signing
// time with a fraction of a second, and the 7-day cap. The URL must be the
// reference's byte for byte, and the headers those listed.
func TestPresignMatchesReference(t *testing.T) {
	at := lintAt.Add(12*time.Hour + 34*time.Minute + 56*time.Second)
	long := postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}
	session := postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey,
		SessionToken: "IQoJb3JpZ2luX2VjE/+ZXIvYXdz==/AbC~x_y-z." + strings.Repeat("Tok/en+", 40)}
	type header = postpolicy.Field
	manyConds := []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("many/headers.bin")}
	var many []header
	for i := range 10 {
		name, value := fmt.Sprintf("m%02d", i), fmt.Sprintf("value  %d ", i)
		manyConds = append(manyConds, postpolicy.Meta(name, value))
		many = append(many, header{Name: "x-amz-meta-" + name, Value: value})
	}
	for _, tc := range []struct {
		name     string
		signer   *postpolicy.Signer // Now is set to now
		now      time.Time          // at when zero
		exp      time.Duration      // from now; 15 minutes when zero
		conds    []postpolicy.Condition
		get      *postpolicy.GetOptions // PresignGet of conds' bucket and key when set
		scheme   string                 // https when empty
		host     string
		path     string // decoded
		headers  []header
		getQuery [][2]string
	}{{
		name:   "spaces",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("users/alice smith/my photo (1).png"),
			postpolicy.ContentType("image/png"), postpolicy.ContentLengthRange(1<<20, 1<<20), postpolicy.Meta("uploader", "alice smith")},
		host: "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/users/alice smith/my photo (1).png",
		headers: []header{{Name: "Content-Type", Value: "image/png"}, {Name: "Content-Length", Value: "1048576"}, {Name: "x-amz-meta-uploader", Value: "alice smith"}},
	}, {
		name:   "plus and tilde",
		signer: &postpolicy.Signer{Credentials: long, Region: "eu-west-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a+b/~c~/d+e.txt"), postpolicy.Meta("note", "1+1=2 ~ok~")},
		host:   "acme-user-uploads.s3.eu-west-1.amazonaws.com", path: "/a+b/~c~/d+e.txt",
		headers: []header{{Name: "x-amz-meta-note", Value: "1+1=2 ~ok~"}},
	}, {
		name:   "unicode",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("用户/фото/ü é.png"), postpolicy.ContentType("image/png")},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/用户/фото/ü é.png",
		headers: []header{{Name: "Content-Type", Value: "image/png"}},
	}, {
		name:   "empty segments",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a//b///c/./../d/")},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/a//b///c/./../d/",
	}, {
		name:   "leading slash",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("/leading/slash")},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "//leading/slash",
	}, {
		name:   "reserved characters and percent",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("q?x=1&y=2#frag;[]@!$'()*,:%25%/%2F"),
			postpolicy.ContentDisposition(`attachment; filename="a b.png"`), postpolicy.CacheControl("max-age=60, public")},
		host: "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/q?x=1&y=2#frag;[]@!$'()*,:%25%/%2F",
		headers: []header{{Name: "Content-Disposition", Value: `attachment; filename="a b.png"`}, {Name: "Cache-Control", Value: "max-age=60, public"}},
	}, {
		name:   "metadata with runs of spaces",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k"),
			postpolicy.Meta("note", "  two  spaces   inside  "), postpolicy.Meta("empty", "")},
		host: "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/k",
		headers: []header{{Name: "x-amz-meta-note", Value: "  two  spaces   inside  "}, {Name: "x-amz-meta-empty", Value: ""}},
	}, {
		name:   "session token",
		signer: &postpolicy.Signer{Credentials: session, Region: "us-east-1"},
		conds: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("users/u 1/avatar.png"),
			postpolicy.ContentType("image/png"), postpolicy.ContentLengthRange(1<<20, 1<<20), postpolicy.Meta("uploader", "u 1")},
		host: "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/users/u 1/avatar.png",
		headers: []header{{Name: "Content-Type", Value: "image/png"}, {Name: "Content-Length", Value: "1048576"}, {Name: "x-amz-meta-uploader", Value: "u 1"}},
	}, {
		name:   "bucket with dots, path style",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("my.bucket.example"), postpolicy.Key("x y+z")},
		host:   "s3.us-east-1.amazonaws.com", path: "/my.bucket.example/x y+z",
	}, {
		name:   "China region",
		signer: &postpolicy.Signer{Credentials: long, Region: "cn-north-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")},
		host:   "acme-user-uploads.s3.cn-north-1.amazonaws.com.cn", path: "/k",
	}, {
		name:   "custom endpoint, path style",
		signer: &postpolicy.Signer{Credentials: session, Region: "us-east-1", Endpoint: "http://127.0.0.1:9000"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a b/c"), postpolicy.ContentType("text/plain; charset=utf-8")},
		scheme: "http", host: "127.0.0.1:9000", path: "/acme-user-uploads/a b/c",
		headers: []header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
	}, {
		name:   "custom endpoint with a base path",
		signer: &postpolicy.Signer{Credentials: long, Region: "auto", Endpoint: "https://storage.example.com/s3/v1/"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k~1")},
		host:   "storage.example.com", path: "/s3/v1/acme-user-uploads/k~1",
	}, {
		name:   "custom endpoint with a base path to decode",
		signer: &postpolicy.Signer{Credentials: long, Region: "auto", Endpoint: "https://storage.example.com/s3%20api/a+b~c"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k l")},
		host:   "storage.example.com", path: "/s3 api/a+b~c/acme-user-uploads/k l",
	}, {
		name:   "custom endpoint, virtual-hosted",
		signer: &postpolicy.Signer{Credentials: long, Region: "nyc3", Endpoint: "https://nyc3.digitaloceanspaces.com", URLStyle: postpolicy.URLStyleVirtualHosted},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("ü/k")},
		host:   "acme-user-uploads.nyc3.digitaloceanspaces.com", path: "/ü/k",
	}, {
		name:   "every header kind",
		signer: &postpolicy.Signer{Credentials: session, Region: "us-east-1"},
		conds: append([]postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k"),
			postpolicy.ACL("private"), postpolicy.StorageClass("STANDARD_IA"), postpolicy.ServerSideEncryptionAES256(),
			postpolicy.Tagging(postpolicy.Tag{Key: "team", Value: "R&D"}, postpolicy.Tag{Key: "q", Value: "a b"}),
			postpolicy.Eq("Content-Encoding", "gzip"), postpolicy.Eq("expires", "Thu, 01 Dec 1994 16:00:00 GMT")},
			postpolicy.Checksum(postpolicy.ChecksumSHA256, "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")...),
		host: "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/k",
		headers: []header{{Name: "x-amz-acl", Value: "private"}, {Name: "x-amz-storage-class", Value: "STANDARD_IA"},
			{Name: "x-amz-server-side-encryption", Value: "AES256"}, {Name: "x-amz-tagging", Value: "team=R%26D&q=a+b"},
			{Name: "Content-Encoding", Value: "gzip"}, {Name: "Expires", Value: "Thu, 01 Dec 1994 16:00:00 GMT"},
			{Name: "x-amz-checksum-sha256", Value: "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}},
	}, {
		name:   "more headers than the arrays hold",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		conds:  manyConds,
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/many/headers.bin",
		headers: many,
	}, {
		name:   "fraction of a second",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1"},
		now:    at.Add(999*time.Millisecond + 12345),
		exp:    15*time.Minute + 500*time.Millisecond,
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/k",
	}, {
		name:   "seven days",
		signer: &postpolicy.Signer{Credentials: session, Region: "us-east-1"},
		exp:    7 * 24 * time.Hour,
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/k",
	}, {
		name:   "GET with response overrides",
		signer: &postpolicy.Signer{Credentials: session, Region: "us-east-1"},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("users/ü b/+file~.png")},
		get:    &postpolicy.GetOptions{ResponseContentType: "text/plain; charset=utf-8", ResponseContentDisposition: `attachment; filename="ü b.png"`},
		host:   "acme-user-uploads.s3.us-east-1.amazonaws.com", path: "/users/ü b/+file~.png",
		getQuery: [][2]string{{"response-content-type", "text/plain; charset=utf-8"}, {"response-content-disposition", `attachment; filename="ü b.png"`}},
	}, {
		name:   "GET, path style",
		signer: &postpolicy.Signer{Credentials: long, Region: "us-east-1", URLStyle: postpolicy.URLStylePath},
		conds:  []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a//b c")},
		get:    &postpolicy.GetOptions{},
		host:   "s3.us-east-1.amazonaws.com", path: "/acme-user-uploads/a//b c",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = at
			}
			exp := tc.exp
			if exp == 0 {
				exp = 15 * time.Minute
			}
			s := tc.signer
			s.Now = func() time.Time { return now }
			policy := postpolicy.Policy{Expiration: now.Add(exp), Conditions: tc.conds}
			method := "PUT"
			var got *postpolicy.Presigned
			var err error
			if tc.get != nil {
				method = "GET"
				var bucket, key string
				for _, c := range tc.conds {
					switch c.Field() {
					case "bucket":
						bucket = c.Value()
					case "key":
						key = c.Value()
					}
				}
				got, err = s.PresignGet(context.Background(), bucket, key, now.Add(exp), tc.get)
			} else {
				got, err = s.PresignPut(context.Background(), policy)
			}
			if err != nil {
				t.Fatal(err)
			}
			scheme := tc.scheme
			if scheme == "" {
				scheme = "https"
			}
			expires := min(int64(now.Add(exp).Sub(now.Truncate(time.Second))/time.Second), 7*24*60*60)
			want := referencePresign(method, scheme, tc.host, tc.path, tc.headers, tc.getQuery, s.Credentials.(postpolicy.Credentials), s.Region, now, expires)
			if got.URL != want {
				t.Errorf("URL\n got %s\nwant %s", got.URL, want)
			}
			if diff := cmp.Diff(tc.headers, got.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if wantExp := now.Truncate(time.Second).Add(time.Duration(expires) * time.Second); got.Method != method || !got.Expiration.Equal(wantExp) {
				t.Errorf("method %s, expiration %v; want %s, %v", got.Method, got.Expiration, method, wantExp)
			}
		})
	}
}

// referencePresign returns the presigned URL of a request, built plainly
// from "Authenticating Requests: Using Query Parameters (AWS Signature
// Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html,
// with crypto/hmac and crypto/sha256 and no code of the package: method,
// the URL's scheme and host, the decoded object path, the signed headers
// besides host (names as sent) and the query parameters besides the
// X-Amz-* ones, signed at now for expires seconds with UNSIGNED-PAYLOAD.
func referencePresign(method, scheme, host, path string, headers []postpolicy.Field, query [][2]string, creds postpolicy.Credentials, region string, now time.Time, expires int64) string {
	// UriEncode: the unreserved characters as they are, '/' too in a path,
	// every other byte as %XY in upper-case hex.
	uriEncode := func(s string, encodeSlash bool) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
				b.WriteByte(c)
			case c == '/' && !encodeSlash:
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	amzDate := now.UTC().Format("20060102T150405Z")
	scope := amzDate[:8] + "/" + region + "/s3/aws4_request"

	// CanonicalHeaders: lower-case names, sorted, each value trimmed and
	// its runs of spaces made one.
	type pair struct{ name, value string }
	hs := []pair{{"host", host}}
	for _, h := range headers {
		hs = append(hs, pair{strings.ToLower(h.Name), h.Value})
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	var canonicalHeaders strings.Builder
	var names []string
	for _, h := range hs {
		v := strings.Trim(h.value, " ")
		for strings.Contains(v, "  ") {
			v = strings.ReplaceAll(v, "  ", " ")
		}
		canonicalHeaders.WriteString(h.name + ":" + v + "\n")
		names = append(names, h.name)
	}
	signedHeaders := strings.Join(names, ";")

	// CanonicalQueryString: names and values encoded, sorted by name.
	params := []pair{
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		{"X-Amz-Credential", creds.AccessKeyID + "/" + scope},
		{"X-Amz-Date", amzDate},
		{"X-Amz-Expires", strconv.FormatInt(expires, 10)},
		{"X-Amz-SignedHeaders", signedHeaders},
	}
	if creds.SessionToken != "" {
		params = append(params, pair{"X-Amz-Security-Token", creds.SessionToken})
	}
	for _, q := range query {
		params = append(params, pair{q[0], q[1]})
	}
	for i := range params {
		params[i] = pair{uriEncode(params[i].name, true), uriEncode(params[i].value, true)}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].name != params[j].name {
			return params[i].name < params[j].name
		}
		return params[i].value < params[j].value
	})
	var pieces []string
	for _, p := range params {
		pieces = append(pieces, p.name+"="+p.value)
	}
	canonicalQuery := strings.Join(pieces, "&")
	canonicalURI := uriEncode(path, false)

	canonicalRequest := method + "\n" + canonicalURI + "\n" + canonicalQuery + "\n" +
		canonicalHeaders.String() + "\n" + signedHeaders + "\nUNSIGNED-PAYLOAD"
	hashed := sha256.Sum256([]byte(canonicalRequest))
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(hashed[:])
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	key := mac([]byte("AWS4"+creds.SecretAccessKey), amzDate[:8])
	key = mac(key, region)
	key = mac(key, "s3")
	key = mac(key, "aws4_request")
	signature := hex.EncodeToString(mac(key, stringToSign))
	return scheme + "://" + host + canonicalURI + "?" + canonicalQuery + "&X-Amz-Signature=" + signature
}

// TestPresignInvalidBucketURL checks that a bucket whose URL does not
// parse, virtual-hosted before an IPv6 Endpoint, is a configuration error
// (it used to make PresignPut and PresignGet dereference a nil URL).
func TestPresignInvalidBucketURL(t *testing.T) {
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "us-east-1", Endpoint: "http://[::1]:9000",
		URLStyle: postpolicy.URLStyleVirtualHosted, Now: func() time.Time { return lintAt }}
	_, err := s.PresignPut(context.Background(), lintPolicy())
	if !errors.Is(err, postpolicy.ErrSignerConfig) {
		t.Errorf("PresignPut: %v, want ErrSignerConfig", err)
	}
	if _, err := s.PresignGet(context.Background(), "acme-user-uploads", "k", lintAt.Add(time.Hour), nil); !errors.Is(err, postpolicy.ErrSignerConfig) {
		t.Errorf("PresignGet: %v, want ErrSignerConfig", err)
	}
	// Sign refuses it too, and so it does an IPv4 endpoint, rather than
	// write a form URL such as http://acme-user-uploads.[::1]:9000/.
	if _, err := s.Sign(context.Background(), lintPolicy()); !errors.Is(err, postpolicy.ErrSignerConfig) || !strings.Contains(err.Error(), "IP address") {
		t.Errorf("Sign: %v, want ErrSignerConfig naming the IP address", err)
	}
	s.Endpoint = "http://127.0.0.1:9000"
	if _, err := s.Sign(context.Background(), lintPolicy()); !errors.Is(err, postpolicy.ErrSignerConfig) {
		t.Errorf("Sign with an IPv4 endpoint: %v, want ErrSignerConfig", err)
	}
	// Path style puts the bucket in the path: the URL parses.
	s = &postpolicy.Signer{Credentials: exampleCredentials, Region: "us-east-1", Endpoint: "http://[::1]:9000", Now: func() time.Time { return lintAt }}
	if p, err := s.PresignGet(context.Background(), "acme-user-uploads", "k", lintAt.Add(time.Hour), nil); err != nil || !strings.HasPrefix(p.URL, "http://[::1]:9000/acme-user-uploads/k?") {
		t.Errorf("path style: %v, %v", p, err)
	}
}

// TestObjectURL: the URL of an object is that of its presigned GET less
// the query, in every style, and the bucket's URL ends in '/'.
func TestObjectURL(t *testing.T) {
	for _, s := range []*postpolicy.Signer{
		{Credentials: exampleCredentials, Region: "eu-west-1"},
		{Credentials: exampleCredentials, Region: "eu-west-1", URLStyle: postpolicy.URLStylePath},
		{Credentials: exampleCredentials, Region: "us-east-1", Endpoint: "http://127.0.0.1:9000/base"},
		{Credentials: exampleCredentials, Region: "nyc3", Endpoint: "https://nyc3.digitaloceanspaces.com", URLStyle: postpolicy.URLStyleVirtualHosted},
	} {
		for _, key := range []string{"users/alice/a b+c~é.png", "a//b/../c", ""} {
			got, err := s.ObjectURL("acme-user-uploads", key)
			if err != nil {
				t.Fatal(err)
			}
			if key == "" {
				if !strings.HasSuffix(got, "/") {
					t.Errorf("bucket URL %q does not end in '/'", got)
				}
				continue
			}
			p, err := s.PresignGet(context.Background(), "acme-user-uploads", key, time.Now().Add(time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			if want, _, _ := strings.Cut(p.URL, "?"); got != want {
				t.Errorf("ObjectURL = %q, the presigned GET's is %q", got, want)
			}
		}
	}
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "eu-west-1"}
	if _, err := s.ObjectURL("Bad_Bucket", "k"); !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Errorf("a bad bucket name: %v", err)
	}
}
