package postpolicy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
)

// The expected problems below come from the rules as the AWS pages state
// them (quoted on the Rule constants, with S3's recorded answers), not from running
// the linter.

// lintAt is the signing time of every lint case: midnight, so that the
// millisecond arithmetic of the expiration cases is easy to follow.
var lintAt = time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)

// lintPolicy returns a policy with nothing wrong (an hour to live, a valid
// bucket and an exact key) followed by extra.
func lintPolicy(extra ...postpolicy.Condition) postpolicy.Policy {
	conds := []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key("uploads/photo.jpg")}
	return postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: append(conds, extra...)}
}

// bucketOnly returns a policy with a valid bucket and expiration and the
// given conditions, for cases that bring their own key condition.
func bucketOnly(conds ...postpolicy.Condition) postpolicy.Policy {
	return postpolicy.Policy{
		Expiration: lintAt.Add(time.Hour),
		Conditions: append([]postpolicy.Condition{postpolicy.Bucket("acme-uploads")}, conds...),
	}
}

// lintProblem is the part of a Problem a test asserts exactly; Detail is
// prose for people.
type lintProblem struct {
	Field   string
	Rule    postpolicy.Rule
	Warning bool
}

func projectProblems(ps []postpolicy.Problem) []lintProblem {
	if len(ps) == 0 {
		return nil
	}
	out := make([]lintProblem, len(ps))
	for i, p := range ps {
		out[i] = lintProblem{p.Field, p.Rule, p.Warning}
	}
	return out
}

func errorsOf(want []lintProblem) int {
	n := 0
	for _, w := range want {
		if !w.Warning {
			n++
		}
	}
	return n
}

// checkLint asserts Lint's problems exactly and that Validate agrees: nil
// when every problem is a warning, otherwise an ErrInvalidPolicy error
// joining exactly the non-warnings.
func checkLint(t *testing.T, p postpolicy.Policy, at time.Time, want []lintProblem) {
	t.Helper()
	got := p.Lint(at)
	if diff := cmp.Diff(want, projectProblems(got)); diff != "" {
		t.Errorf("Lint problems (-want +got):\n%s", diff)
		for _, pr := range got {
			t.Logf("  %v", pr)
		}
	}
	for _, pr := range got {
		if pr.Detail == "" {
			t.Errorf("problem %s/%s has no Detail", pr.Field, pr.Rule)
		}
	}
	err := p.Validate(at)
	n := errorsOf(want)
	if n == 0 {
		if err != nil {
			t.Errorf("Validate = %v, want nil (warnings only)", err)
		}
		return
	}
	if !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Fatalf("Validate = %v, want an error matching ErrInvalidPolicy", err)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Validate error %T does not unwrap to a list", err)
	}
	var gotErrs []lintProblem
	for _, e := range joined.Unwrap() {
		var pr postpolicy.Problem
		if !errors.As(e, &pr) {
			t.Fatalf("Validate joined %T, not a Problem", e)
		}
		gotErrs = append(gotErrs, lintProblem{pr.Field, pr.Rule, pr.Warning})
	}
	var wantErrs []lintProblem
	for _, w := range want {
		if !w.Warning {
			wantErrs = append(wantErrs, w)
		}
	}
	if diff := cmp.Diff(wantErrs, gotErrs); diff != "" {
		t.Errorf("Validate problems (-want +got):\n%s", diff)
	}
}

type lintCase struct {
	name   string
	policy postpolicy.Policy
	want   []lintProblem
}

func runLintCases(t *testing.T, cases []lintCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLint(t, tc.policy, lintAt, tc.want)
		})
	}
}

func withExpiration(exp time.Time) postpolicy.Policy {
	p := lintPolicy()
	p.Expiration = exp
	return p
}

func TestLintValidPolicy(t *testing.T) {
	runLintCases(t, []lintCase{
		{"bucket and exact key", lintPolicy(), nil},
		{"bucket and key prefix", bucketOnly(postpolicy.KeyPrefix("uploads/")), nil},
		{"bucket and empty key prefix", bucketOnly(postpolicy.KeyPrefix("")), nil},
		{"readme policy", bucketOnly(
			postpolicy.Key("uploads/user-42/${filename}"),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", "user-42"),
		), nil},
	})
}

func TestLintExpiration(t *testing.T) {
	const week = 7 * 24 * time.Hour
	passed := []lintProblem{{"expiration", postpolicy.RuleExpirationPassed, false}}
	overWeek := []lintProblem{{"expiration", postpolicy.RuleExpirationOverSevenDays, true}}
	runLintCases(t, []lintCase{
		{"zero", withExpiration(time.Time{}), []lintProblem{{"expiration", postpolicy.RuleExpirationMissing, false}}},
		{"before signing time", withExpiration(lintAt.Add(-time.Second)), passed},
		{"equal to signing time", withExpiration(lintAt), passed},
		{"1ms after", withExpiration(lintAt.Add(time.Millisecond)), nil},
		// The expiration is written with millisecond precision and the rest
		// dropped, so at+0.5ms is written as at itself: not after it.
		{"0.5ms after is written as the signing time", withExpiration(lintAt.Add(500 * time.Microsecond)), passed},
		{"0.999999ms after is written as the signing time", withExpiration(lintAt.Add(time.Millisecond - time.Nanosecond)), passed},
		{"1.5ms after", withExpiration(lintAt.Add(1500 * time.Microsecond)), nil},
		{"7 days exactly", withExpiration(lintAt.Add(week)), nil},
		// Written as exactly 7 days: the dropped half millisecond is not counted.
		{"7 days and 0.5ms is written as 7 days", withExpiration(lintAt.Add(week + 500*time.Microsecond)), nil},
		{"7 days and 1ms", withExpiration(lintAt.Add(week + time.Millisecond)), overWeek},
		{"7 days and 1s", withExpiration(lintAt.Add(week + time.Second)), overWeek},
		{"a year", withExpiration(lintAt.AddDate(1, 0, 0)), overWeek},
		{"same instant in another zone", withExpiration(lintAt.Add(time.Hour).In(time.FixedZone("UTC+14", 14*3600))), nil},
		{"passed in another zone", withExpiration(time.Date(2015, 12, 29, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))), passed},
		// ISO 8601's four-digit year: 9999 is the last a policy can write,
		// counted in UTC.
		{"last millisecond of 9999", withExpiration(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)), overWeek},
		{"year 10000", withExpiration(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), []lintProblem{{"expiration", postpolicy.RuleExpirationYear, false}}},
		{"year 10000 at UTC+2 is 9999 in UTC", withExpiration(time.Date(10000, 1, 1, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))), overWeek},
		{"year -1", withExpiration(time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)), []lintProblem{{"expiration", postpolicy.RuleExpirationYear, false}}},
	})
}

// A zero signing time skips the checks that need it; the expiration must
// still be there.
func TestLintZeroSigningTime(t *testing.T) {
	checkLint(t, withExpiration(lintAt.Add(-time.Hour)), time.Time{}, nil)
	checkLint(t, withExpiration(lintAt.AddDate(1, 0, 0)), time.Time{}, nil)
	checkLint(t, withExpiration(time.Time{}), time.Time{}, []lintProblem{{"expiration", postpolicy.RuleExpirationMissing, false}})
}

// "POST Policy", condition matching table: bucket, success_action_status
// and the x-amz-* fields other than x-amz-meta-* allow only an exact match.
// Field names are case-insensitive (§3.4), so the rule holds in any case.
func TestLintExactMatchOnly(t *testing.T) {
	exact := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleExactMatchOnly, false}} }
	sw := postpolicy.StartsWith
	runLintCases(t, []lintCase{
		{"bucket", lintPolicy(sw("bucket", "acme")), exact("bucket")},
		{"BUCKET", lintPolicy(sw("BUCKET", "")), exact("BUCKET")},
		{"success_action_status", lintPolicy(sw("success_action_status", "20")), exact("success_action_status")},
		{"Success_Action_Status", lintPolicy(sw("Success_Action_Status", "")), exact("Success_Action_Status")},
		{"x-amz-storage-class", lintPolicy(sw("x-amz-storage-class", "STANDARD")), exact("x-amz-storage-class")},
		{"X-Amz-Storage-Class", lintPolicy(sw("X-Amz-Storage-Class", "")), exact("X-Amz-Storage-Class")},
		{"x-amz-server-side-encryption", lintPolicy(sw("x-amz-server-side-encryption", "")), exact("x-amz-server-side-encryption")},
		{"X-AMZ-SERVER-SIDE-ENCRYPTION", lintPolicy(sw("X-AMZ-SERVER-SIDE-ENCRYPTION", "aws:")), exact("X-AMZ-SERVER-SIDE-ENCRYPTION")},
		{"x-amz-website-redirect-location", lintPolicy(sw("x-amz-website-redirect-location", "/")), exact("x-amz-website-redirect-location")},
		{"x-amz-checksum-algorithm", lintPolicy(sw("x-amz-checksum-algorithm", "")), exact("x-amz-checksum-algorithm")},
		{"starts-with with a form value", lintPolicy(sw("x-amz-storage-class", "STANDARD").WithFormValue("STANDARD_IA")), exact("x-amz-storage-class")},

		// Near misses: fields that allow starts-with.
		{"x-amz-meta-foo", lintPolicy(sw("x-amz-meta-foo", "")), nil},
		{"X-Amz-Meta-Foo", lintPolicy(sw("X-Amz-Meta-Foo", "bar")), nil},
		{"key", bucketOnly(sw("key", "uploads/")), nil},
		{"KEY", bucketOnly(sw("KEY", "uploads/")), nil},
		{"Content-Type", lintPolicy(sw("Content-Type", "image/")), nil},
		{"content-type", lintPolicy(sw("content-type", "")), nil},
		{"acl", lintPolicy(sw("acl", "public-")), nil},
		{"Cache-Control", lintPolicy(sw("Cache-Control", "max-age=")), nil},
		{"success_action_redirect", lintPolicy(sw("success_action_redirect", "https://example.com/")), nil},
		{"Expires", lintPolicy(sw("Expires", "")), nil},
		{"exact match on x-amz-storage-class", lintPolicy(postpolicy.StorageClass("STANDARD")), nil},
		{"exact match on bucket", lintPolicy(postpolicy.Bucket("acme-uploads")), nil},
	})
}

// "sigv4-HTTPPOSTForms": S3 replaces ${filename} in every field before
// checking, so a condition whose value holds it never matches.
func TestLintFilenameInCondition(t *testing.T) {
	fn := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleFilenameInCondition, false}} }
	runLintCases(t, []lintCase{
		{"Eq on key", bucketOnly(postpolicy.Eq("key", "uploads/${filename}")), fn("key")},
		{"Eq on metadata", lintPolicy(postpolicy.Eq("x-amz-meta-name", "${filename}")), fn("x-amz-meta-name")},
		{"in a starts-with prefix", bucketOnly(postpolicy.StartsWith("key", "uploads/${filename}")), fn("key")},
		{"in a starts-with prefix with a form value", bucketOnly(postpolicy.StartsWith("key", "u/${filename}").WithFormValue("u/${filename}")), fn("key")},

		{"Key with ${filename}", bucketOnly(postpolicy.Key("p/${filename}")), nil},
		{"Key with ${filename} mid-string", bucketOnly(postpolicy.Key("p/${filename}/original")), nil},
		{"Meta with ${filename}", lintPolicy(postpolicy.Meta("name", "${filename}")), nil},
		{"ContentDisposition with ${filename}", lintPolicy(postpolicy.ContentDisposition(`attachment; filename="${filename}"`)), nil},
		{"starts-with whose form value holds ${filename}", bucketOnly(postpolicy.KeyPrefix("u/").WithFormValue("u/${filename}")), nil},
		{"a lookalike is plain text", lintPolicy(postpolicy.Meta("name", "$filename {filename}")), nil},
	})
}

func TestLintContentLengthRange(t *testing.T) {
	const r = "content-length-range"
	clr := postpolicy.ContentLengthRange
	runLintCases(t, []lintCase{
		{"negative min", lintPolicy(clr(-1, 10)), []lintProblem{{r, postpolicy.RuleRangeNegative, false}}},
		{"negative max", lintPolicy(clr(0, -1)), []lintProblem{{r, postpolicy.RuleRangeNegative, false}}},
		{"most negative", lintPolicy(clr(math.MinInt64, math.MinInt64)), []lintProblem{{r, postpolicy.RuleRangeNegative, false}}},
		{"inverted", lintPolicy(clr(10, 1)), []lintProblem{{r, postpolicy.RuleRangeInverted, false}}},
		{"over 5 GiB", lintPolicy(clr(0, 5<<30+1)), []lintProblem{{r, postpolicy.RuleRangeOverFiveGiB, true}}},
		{"max int64", lintPolicy(clr(1, math.MaxInt64)), []lintProblem{{r, postpolicy.RuleRangeOverFiveGiB, true}}},
		{"two ranges that do not overlap", lintPolicy(clr(1, 10), clr(20, 30)), []lintProblem{{r, postpolicy.RuleRangeInverted, false}}},
		{"two ranges that do not overlap, reversed", lintPolicy(clr(20, 30), clr(1, 10)), []lintProblem{{r, postpolicy.RuleRangeInverted, false}}},

		{"exactly 5 GiB", lintPolicy(clr(0, 5<<30)), nil},
		{"zero to zero", lintPolicy(clr(0, 0)), nil},
		{"one exact size", lintPolicy(clr(5, 5)), nil},
		{"two ranges sharing one size", lintPolicy(clr(1, 10), clr(10, 20)), nil},
		{"nested ranges", lintPolicy(clr(1, 100), clr(5, 6)), nil},
	})
}

func TestLintBucket(t *testing.T) {
	runLintCases(t, []lintCase{
		{"missing", postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Key("k")}},
			[]lintProblem{{"bucket", postpolicy.RuleBucketMissing, false}}},
		{"only a starts-with", postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.StartsWith("bucket", "acme"), postpolicy.Key("k")}},
			[]lintProblem{{"bucket", postpolicy.RuleExactMatchOnly, false}, {"bucket", postpolicy.RuleBucketMissing, false}}},
		{"two different buckets", lintPolicy(postpolicy.Bucket("other-uploads")),
			[]lintProblem{{"bucket", postpolicy.RuleConflict, false}}},
		{"the same bucket twice", lintPolicy(postpolicy.Bucket("acme-uploads")), nil},
		{"an Eq on bucket counts", postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Eq("Bucket", "acme-uploads"), postpolicy.Key("k")}}, nil},
	})
}

// "General purpose bucket naming rules":
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func TestLintBucketName(t *testing.T) {
	for _, tc := range []struct {
		name, bucket string
		ok           bool
	}{
		{"empty", "", false},
		{"two characters", "ab", false},
		{"three characters", "abc", true},
		{"63 characters", strings.Repeat("a", 63), true},
		{"64 characters", strings.Repeat("a", 64), false},
		{"upper case", "Acme-Uploads", false},
		{"one upper-case letter", "acme-uploadS", false},
		{"underscore", "acme_uploads", false},
		{"space", "acme uploads", false},
		{"non-ASCII", "acmé-uploads", false},
		{"leading dash", "-acme", false},
		{"trailing dash", "acme-", false},
		{"leading dot", ".acme", false},
		{"trailing dot", "acme.", false},
		{"two adjacent dots", "acme..uploads", false},
		{"IPv4 address", "192.168.5.4", false},
		{"xn-- prefix", "xn--acme", false},
		{"sthree- prefix", "sthree-acme", false},
		{"amzn-s3-demo- prefix", "amzn-s3-demo-acme", false},
		// A directory bucket's name: BASE--ZONE-ID--x-s3 ("Directory bucket
		// naming rules"); anything else ending with --x-s3 is not one.
		{"directory bucket", "photos--usw2-az1--x-s3", true},
		{"directory bucket in a Local Zone", "photos--usw2-lax1-az1--x-s3", true},
		{"--x-s3 without a zone", "acme--x-s3", false},
		{"--x-s3 with a zone without -az", "photos--usw2--x-s3", false},
		{"--x-s3 with a zone without a number", "photos--usw2-az--x-s3", false},
		{"--x-s3 with a dot", "my.photos--usw2-az1--x-s3", false},

		{"dots", "media.example.com", true},
		{"digits", "2015-uploads-42", true},
		{"all digits", "123", true},
		{"dot and dash", "a.b-c", true},
		{"dashes inside", "a--b", true},
		{"IP-like with letters", "192.168.5.com", true},
		{"reserved word inside", "my-xn--bucket", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []lintProblem
			if !tc.ok {
				want = []lintProblem{{"bucket", postpolicy.RuleBucketName, false}}
			}
			p := postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket(tc.bucket), postpolicy.Key("k")}}
			checkLint(t, p, lintAt, want)
		})
	}
}

// The suffixes S3 reserves for access point aliases, Object Lambda access
// point aliases, Multi-Region Access Points and table buckets are warnings:
// such a name is no general purpose bucket's, but may be an alias that
// some uses accept.
func TestLintBucketNameReservedSuffix(t *testing.T) {
	for _, bucket := range []string{"acme-s3alias", "acme--ol-s3", "acme.mrap", "acme--table-s3"} {
		t.Run(bucket, func(t *testing.T) {
			p := postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket(bucket), postpolicy.Key("k")}}
			checkLint(t, p, lintAt, []lintProblem{{"bucket", postpolicy.RuleBucketName, true}})
		})
	}
}

func TestLintKeyMissing(t *testing.T) {
	missing := []lintProblem{{"key", postpolicy.RuleKeyMissing, false}}
	runLintCases(t, []lintCase{
		{"no key", bucketOnly(), missing},
		{"only metadata", bucketOnly(postpolicy.Meta("key", "v")), missing},
		{"$key is not key", bucketOnly(postpolicy.Eq("$key", "k")), []lintProblem{{"$key", postpolicy.RuleFieldName, false}, {"key", postpolicy.RuleKeyMissing, false}}},
		{"Key", bucketOnly(postpolicy.Key("k")), nil},
		{"KeyPrefix", bucketOnly(postpolicy.KeyPrefix("")), nil},
		{"Eq on KEY", bucketOnly(postpolicy.Eq("KEY", "k")), nil},
		{"1024 bytes", bucketOnly(postpolicy.Key(strings.Repeat("é", 512))), nil},
		{"1025 bytes", bucketOnly(postpolicy.Key(strings.Repeat("é", 512) + "k")), []lintProblem{{"key", postpolicy.RuleKeyTooLong, false}}},
		{"a 1024-byte prefix", bucketOnly(postpolicy.KeyPrefix(strings.Repeat("k", 1024))), nil},
		{"a 1025-byte prefix", bucketOnly(postpolicy.KeyPrefix(strings.Repeat("k", 1025))), []lintProblem{{"key", postpolicy.RuleKeyTooLong, false}}},
	})
}

func TestLintConflict(t *testing.T) {
	conflict := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleConflict, false}} }
	runLintCases(t, []lintCase{
		{"two keys", bucketOnly(postpolicy.Key("a"), postpolicy.Key("b")), conflict("key")},
		{"two keys differing in case of the name", bucketOnly(postpolicy.Key("a"), postpolicy.Eq("KEY", "b")), conflict("key")},
		{"exact key outside the prefix", bucketOnly(postpolicy.Key("a/x"), postpolicy.KeyPrefix("b/")), conflict("key")},
		{"prefix before the exact key", bucketOnly(postpolicy.KeyPrefix("b/"), postpolicy.Key("a/x")), conflict("key")},
		{"page-supplied exact value outside the prefix", lintPolicy(postpolicy.ContentType("text/plain").FromPage(), postpolicy.ContentTypePrefix("image/")), conflict("Content-Type")},
		{"two page-supplied exact values", lintPolicy(postpolicy.ACL("private").FromPage(), postpolicy.ACL("public-read").FromPage()), conflict("acl")},
		{"form value outside the prefix", bucketOnly(postpolicy.KeyPrefix("uploads/").WithFormValue("other/x")), conflict("key")},
		{"form value whose known part is outside the prefix", bucketOnly(postpolicy.KeyPrefix("uploads/").WithFormValue("up${filename}")), conflict("key")},
		{"form value that differs from the exact match", lintPolicy(postpolicy.ACL("private").WithFormValue("public-read")), conflict("acl")},
		{"form value with ${filename} for an exact match", lintPolicy(postpolicy.Meta("n", "x").WithFormValue("x${filename}")), conflict("x-amz-meta-n")},
		{"two page-supplied prefixes that exclude each other", bucketOnly(postpolicy.KeyPrefix("a/"), postpolicy.KeyPrefix("b/")), conflict("key")},
		{"two prefixes that exclude each other after a shared one", bucketOnly(postpolicy.KeyPrefix("a/"), postpolicy.KeyPrefix("a/b/"), postpolicy.KeyPrefix("a/c/")), conflict("key")},
		{"page-supplied prefixes on Content-Type", lintPolicy(postpolicy.ContentTypePrefix("image/"), postpolicy.ContentTypePrefix("text/")), conflict("Content-Type")},
		{"Content-Type list element outside the prefix", lintPolicy(postpolicy.ContentType("image/png, text/plain"), postpolicy.ContentTypePrefix("image/")), conflict("Content-Type")},

		{"same key twice", bucketOnly(postpolicy.Key("a"), postpolicy.Key("a")), nil},
		{"same key twice, name in another case", bucketOnly(postpolicy.Key("a"), postpolicy.Eq("KEY", "a")), nil},
		{"exact key inside the prefix", bucketOnly(postpolicy.Key("b/x"), postpolicy.KeyPrefix("b/")), nil},
		{"nested prefixes", bucketOnly(postpolicy.KeyPrefix("a/"), postpolicy.KeyPrefix("a/b/")), nil},
		{"form value inside the prefix", bucketOnly(postpolicy.KeyPrefix("uploads/").WithFormValue("uploads/x")), nil},
		{"Content-Type list inside the prefix", lintPolicy(postpolicy.ContentType("image/png, image/jpeg"), postpolicy.ContentTypePrefix("image/")), nil},
		{"a comma list is plain text outside Content-Type", lintPolicy(postpolicy.CacheControl("no-cache, max-age=0"), postpolicy.StartsWith("Cache-Control", "no-cache")), nil},
	})
}

// Sign carries a field that appears in two conditions with the same value
// once.
func TestSameFieldTwiceOnceInForm(t *testing.T) {
	s := newExampleSigner()
	form, err := s.Sign(context.Background(), bucketOnly(postpolicy.Key("a"), postpolicy.Eq("KEY", "a"), postpolicy.Meta("m", "v"), postpolicy.Meta("m", "v")))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range form.Fields {
		counts[strings.ToLower(f.Name)]++
	}
	if counts["key"] != 1 || counts["x-amz-meta-m"] != 1 {
		t.Errorf("fields %v: want key and x-amz-meta-m once each", form.Fields)
	}
	if v, _ := form.Get("key"); v != "a" {
		t.Errorf("key = %q, want %q", v, "a")
	}
}

func TestLintSignerAndNotInPolicyFields(t *testing.T) {
	one := func(f string, r postpolicy.Rule) []lintProblem { return []lintProblem{{f, r, false}} }
	runLintCases(t, []lintCase{
		{"x-amz-date", lintPolicy(postpolicy.Eq("x-amz-date", "20151229T000000Z")), one("x-amz-date", postpolicy.RuleSignerField)},
		{"X-Amz-Date", lintPolicy(postpolicy.Eq("X-Amz-Date", "20151229T000000Z")), one("X-Amz-Date", postpolicy.RuleSignerField)},
		{"x-amz-algorithm", lintPolicy(postpolicy.Eq("x-amz-algorithm", "AWS4-HMAC-SHA256")), one("x-amz-algorithm", postpolicy.RuleSignerField)},
		{"X-Amz-Credential", lintPolicy(postpolicy.Eq("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")), one("X-Amz-Credential", postpolicy.RuleSignerField)},
		{"X-AMZ-SECURITY-TOKEN", lintPolicy(postpolicy.Eq("X-AMZ-SECURITY-TOKEN", "FQoGZXIvYXdzEXAMPLETOKEN")), one("X-AMZ-SECURITY-TOKEN", postpolicy.RuleSignerField)},
		{"starts-with on x-amz-date", lintPolicy(postpolicy.StartsWith("x-amz-date", "")), one("x-amz-date", postpolicy.RuleSignerField)},

		{"policy", lintPolicy(postpolicy.Eq("policy", "eyJ9")), one("policy", postpolicy.RuleNotInPolicy)},
		{"Policy", lintPolicy(postpolicy.StartsWith("Policy", "")), one("Policy", postpolicy.RuleNotInPolicy)},
		{"x-amz-signature", lintPolicy(postpolicy.Eq("x-amz-signature", "00")), one("x-amz-signature", postpolicy.RuleNotInPolicy)},
		{"X-Amz-Signature", lintPolicy(postpolicy.Eq("X-Amz-Signature", "00")), one("X-Amz-Signature", postpolicy.RuleNotInPolicy)},
		{"file", lintPolicy(postpolicy.StartsWith("file", "")), one("file", postpolicy.RuleNotInPolicy)},
		{"FILE", lintPolicy(postpolicy.Eq("FILE", "x")), one("FILE", postpolicy.RuleNotInPolicy)},

		{"x-amz-date-like metadata", lintPolicy(postpolicy.Meta("date", "today")), nil},
		{"x-amz-signature-version", lintPolicy(postpolicy.Eq("x-amz-signature-version", "4")), nil},
		{"filename", lintPolicy(postpolicy.Eq("filename", "x")), nil},
		{"policy-id", lintPolicy(postpolicy.Eq("policy-id", "x")), nil},
	})
}

func TestLintFieldName(t *testing.T) {
	name := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleFieldName, false}} }
	runLintCases(t, []lintCase{
		{"leading $", lintPolicy(postpolicy.Eq("$x-amz-meta-a", "v")), name("$x-amz-meta-a")},
		{"leading $ on a starts-with", lintPolicy(postpolicy.StartsWith("$Content-Type", "")), name("$Content-Type")},
		{"empty", lintPolicy(postpolicy.Eq("", "v")), name("")},
		{"empty starts-with", lintPolicy(postpolicy.StartsWith("", "")), name("")},
		{"space", lintPolicy(postpolicy.Eq("x-amz-meta-my field", "v")), name("x-amz-meta-my field")},
		{"tab", lintPolicy(postpolicy.Eq("x-amz-meta-a\tb", "v")), name("x-amz-meta-a\tb")},
		{"line break", lintPolicy(postpolicy.Eq("x-amz-meta-a\r\nb", "v")), name("x-amz-meta-a\r\nb")},
		{"NUL", lintPolicy(postpolicy.Eq("x-amz-meta-a\x00", "v")), name("x-amz-meta-a\x00")},
		{"DEL", lintPolicy(postpolicy.Eq("x-amz-meta-a\x7f", "v")), name("x-amz-meta-a\x7f")},
		{"quote", lintPolicy(postpolicy.Eq(`x-amz-meta-a"b`, "v")), name(`x-amz-meta-a"b`)},
		{"backslash", lintPolicy(postpolicy.Eq(`x-amz-meta-a\b`, "v")), name(`x-amz-meta-a\b`)},
		{"Meta with a space", lintPolicy(postpolicy.Meta("a b", "v")), name("x-amz-meta-a b")},
		{"content-length-range", lintPolicy(postpolicy.Eq("content-length-range", "1")), name("content-length-range")},
		{"Content-Length-Range starts-with", lintPolicy(postpolicy.StartsWith("Content-Length-Range", "")), name("Content-Length-Range")},

		{"dots, underscores and digits", lintPolicy(postpolicy.Meta("a_b.c-1", "v")), nil},
		{"$ inside", lintPolicy(postpolicy.Meta("a$b", "v")), nil},
		{"content-length", lintPolicy(postpolicy.Eq("x-amz-meta-content-length-range", "1")), nil},
	})
}

func TestLintInvalidUTF8(t *testing.T) {
	bad := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleInvalidUTF8, false}} }
	runLintCases(t, []lintCase{
		{"value", lintPolicy(postpolicy.Meta("note", "caf\xe9")), bad("x-amz-meta-note")},
		{"starts-with prefix", lintPolicy(postpolicy.MetaPrefix("note", "\xff")), bad("x-amz-meta-note")},
		{"key", bucketOnly(postpolicy.Key("uploads/\xc0\xaf")), bad("key")},
		{"surrogate half", lintPolicy(postpolicy.Meta("note", "\xed\xa0\x80")), bad("x-amz-meta-note")},
		{"name", lintPolicy(postpolicy.Eq("x-amz-meta-\xff", "v")), bad("x-amz-meta-\xff")},
		{"form value only", bucketOnly(postpolicy.KeyPrefix("u/").WithFormValue("u/\xff")), bad("key")},

		{"valid non-ASCII", lintPolicy(postpolicy.Meta("note", "café ✓ 😀")), nil},
		{"U+FFFD itself", lintPolicy(postpolicy.Meta("note", "\ufffd")), nil},
	})
}

func TestLintInvalidCondition(t *testing.T) {
	runLintCases(t, []lintCase{
		{"zero Condition", lintPolicy(postpolicy.Condition{}), []lintProblem{{"", postpolicy.RuleInvalidCondition, false}}},
		{"two zero Conditions", lintPolicy(postpolicy.Condition{}, postpolicy.Condition{}), []lintProblem{{"", postpolicy.RuleInvalidCondition, false}, {"", postpolicy.RuleInvalidCondition, false}}},
		{"zero Condition made page-supplied", lintPolicy(postpolicy.Condition{}.FromPage()), []lintProblem{{"", postpolicy.RuleInvalidCondition, false}}},
	})
}

func TestLintFieldValue(t *testing.T) {
	val := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleFieldValue, false}} }
	warn := func(f string) []lintProblem { return []lintProblem{{f, postpolicy.RuleFieldValue, true}} }
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	cases := []lintCase{
		{"acl public", lintPolicy(postpolicy.ACL("public")), val("acl")},
		{"acl in upper case", lintPolicy(postpolicy.ACL("PUBLIC-READ")), val("acl")},
		{"sse aes256", lintPolicy(postpolicy.Eq("x-amz-server-side-encryption", "aes256")), val("x-amz-server-side-encryption")},
		{"sse kms in another case", lintPolicy(postpolicy.Eq("X-Amz-Server-Side-Encryption", "AWS:KMS")), val("X-Amz-Server-Side-Encryption")},
		// S3 knows five algorithms; another is a warning (S3-compatible
		// stores may know others).
		{"checksum algorithm MD5", lintPolicy(postpolicy.Eq("x-amz-checksum-algorithm", "MD5")), warn("x-amz-checksum-algorithm")},
		{"checksum algorithm in lower case", lintPolicy(postpolicy.Eq("x-amz-checksum-algorithm", "sha256")), warn("x-amz-checksum-algorithm")},
		{"checksum CRC64NVME", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC64NVME, b64(8))...), nil},
		{"crc64nvme digest of 4 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC64NVME, b64(4))...), val("x-amz-checksum-crc64nvme")},
		{"sha256 digest of 20 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumSHA256, b64(20))...), val("x-amz-checksum-sha256")},
		{"sha1 digest of 32 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumSHA1, b64(32))...), val("x-amz-checksum-sha1")},
		{"crc32 digest of 5 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC32, b64(5))...), val("x-amz-checksum-crc32")},
		{"crc32c digest not base64", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC32C, "not base64!")...), val("x-amz-checksum-crc32c")},
		{"digest in URL-safe base64", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumSHA256, "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")...), val("x-amz-checksum-sha256")},
		{"checksum algorithm without its digest", lintPolicy(postpolicy.Eq("x-amz-checksum-algorithm", "SHA256")), val("x-amz-checksum-sha256")},
		{"success_action_status 302", lintPolicy(postpolicy.SuccessActionStatus(302)), warn("success_action_status")},
		{"success_action_status 0", lintPolicy(postpolicy.SuccessActionStatus(0)), warn("success_action_status")},
		{"relative success_action_redirect", lintPolicy(postpolicy.SuccessActionRedirect("/done")), warn("success_action_redirect")},
		{"ftp success_action_redirect", lintPolicy(postpolicy.SuccessActionRedirect("ftp://example.com/done")), warn("success_action_redirect")},
		{"relative redirect", lintPolicy(postpolicy.Eq("redirect", "/done")), warn("redirect")},
		{"storage class FAST", lintPolicy(postpolicy.StorageClass("FAST")), warn("x-amz-storage-class")},
		{"storage class in lower case", lintPolicy(postpolicy.StorageClass("standard")), warn("x-amz-storage-class")},
		{"form value with a line break", lintPolicy(postpolicy.Meta("note", "a\r\nb")), warn("x-amz-meta-note")},

		{"SSE AES256", lintPolicy(postpolicy.ServerSideEncryptionAES256()), nil},
		{"SSE aws:kms:dsse", lintPolicy(postpolicy.Eq("x-amz-server-side-encryption", "aws:kms:dsse")), nil},
		{"SSE KMS with a key id", lintPolicy(postpolicy.ServerSideEncryptionKMS("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")...), nil},
		{"sha256 digest of 32 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumSHA256, b64(32))...), nil},
		{"sha1 digest of 20 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumSHA1, b64(20))...), nil},
		{"crc32 digest of 4 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC32, b64(4))...), nil},
		{"crc32c digest of 4 bytes", lintPolicy(postpolicy.Checksum(postpolicy.ChecksumCRC32C, b64(4))...), nil},
		{"absolute redirect", lintPolicy(postpolicy.SuccessActionRedirect("https://example.com/done?x=1")), nil},
		{"http redirect", lintPolicy(postpolicy.Eq("redirect", "http://example.com/")), nil},
		{"storage class GLACIER_IR", lintPolicy(postpolicy.StorageClass("GLACIER_IR")), nil},
	}
	for _, acl := range []string{"private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"} {
		cases = append(cases, lintCase{"acl " + acl, lintPolicy(postpolicy.ACL(acl)), nil})
	}
	for _, code := range []int{200, 201, 204} {
		cases = append(cases, lintCase{"success_action_status " + postpolicy.SuccessActionStatus(code).Value(), lintPolicy(postpolicy.SuccessActionStatus(code)), nil})
	}
	runLintCases(t, cases)
}

// Lint reports every problem in one pass, in condition order, with the
// cross-condition ones after.
func TestLintReportsAllProblems(t *testing.T) {
	p := postpolicy.Policy{
		Expiration: lintAt.Add(-time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("Acme_Uploads"),
			postpolicy.StartsWith("success_action_status", "20"),
			postpolicy.ACL("public"),
			postpolicy.ContentLengthRange(10<<20, 1),
			postpolicy.StorageClass("FAST"),
		},
	}
	want := []lintProblem{
		{"expiration", postpolicy.RuleExpirationPassed, false},
		{"bucket", postpolicy.RuleBucketName, false},
		{"success_action_status", postpolicy.RuleExactMatchOnly, false},
		{"acl", postpolicy.RuleFieldValue, false},
		{"content-length-range", postpolicy.RuleRangeInverted, false},
		{"x-amz-storage-class", postpolicy.RuleFieldValue, true},
		{"key", postpolicy.RuleKeyMissing, false},
	}
	checkLint(t, p, lintAt, want)
	if n := errorsOf(want); n != 6 {
		t.Fatalf("test is wrong: %d errors", n)
	}

	// The five distinct problems of the brief: five problems, no more.
	five := postpolicy.Policy{
		Expiration: lintAt,
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-uploads"),
			postpolicy.Eq("key", "u/${filename}"),
			postpolicy.StartsWith("x-amz-storage-class", ""),
			postpolicy.ContentLengthRange(-1, 10),
			postpolicy.Condition{},
		},
	}
	got := five.Lint(lintAt)
	if len(got) != 5 {
		t.Errorf("Lint found %d problems, want 5: %v", len(got), got)
	}
	var joined interface{ Unwrap() []error }
	if err := five.Validate(lintAt); !errors.As(err, &joined) || len(joined.Unwrap()) != 5 {
		t.Errorf("Validate = %v, want 5 joined problems", err)
	}
}

func TestValidateErrors(t *testing.T) {
	bad := lintPolicy(postpolicy.ACL("public"))
	err := bad.Validate(lintAt)
	if !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Fatalf("Validate = %v, want ErrInvalidPolicy", err)
	}
	var p postpolicy.Problem
	if !errors.As(err, &p) {
		t.Fatalf("Validate = %v, not a Problem", err)
	}
	if p.Field != "acl" || p.Rule != postpolicy.RuleFieldValue || p.Warning {
		t.Errorf("Problem = %+v", p)
	}
	if !strings.Contains(err.Error(), `"public"`) || !strings.Contains(err.Error(), "(rule field-value)") {
		t.Errorf("error %q does not quote the value and name the rule", err)
	}

	// Warnings only: Validate is nil, Lint is not.
	warned := lintPolicy(postpolicy.StorageClass("FAST"), postpolicy.ContentLengthRange(0, 6<<30))
	warned.Expiration = lintAt.Add(30 * 24 * time.Hour)
	if err := warned.Validate(lintAt); err != nil {
		t.Errorf("Validate = %v, want nil for warnings", err)
	}
	if n := len(warned.Lint(lintAt)); n != 3 {
		t.Errorf("Lint found %d problems, want 3 warnings", n)
	}
	if lintPolicy().Validate(lintAt) != nil || lintPolicy().Lint(lintAt) != nil {
		t.Errorf("a valid policy has problems")
	}
}

func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       postpolicy.Problem
		want    string
		invalid bool
	}{
		{"error", postpolicy.Problem{Field: "acl", Rule: postpolicy.RuleFieldValue, Detail: "bad"}, "postpolicy: acl: bad (rule field-value)", true},
		{"warning", postpolicy.Problem{Field: "acl", Rule: postpolicy.RuleFieldValue, Detail: "odd", Warning: true}, "postpolicy: warning: acl: odd (rule field-value)", false},
		{"no field", postpolicy.Problem{Rule: postpolicy.RuleInvalidCondition, Detail: "zero"}, "postpolicy: zero (rule invalid-condition)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if got := errors.Is(tc.p, postpolicy.ErrInvalidPolicy); got != tc.invalid {
				t.Errorf("errors.Is(p, ErrInvalidPolicy) = %v, want %v", got, tc.invalid)
			}
			if errors.Is(tc.p, errors.New("postpolicy: invalid policy")) {
				t.Errorf("Problem matches an error that only has the same text")
			}
		})
	}
}

// The Rule values are documented as stable; these are the names the README
// table and the Rule docs give.
func TestRuleValues(t *testing.T) {
	got := map[postpolicy.Rule]string{
		postpolicy.RuleExpirationMissing:       "expiration-missing",
		postpolicy.RuleExpirationPassed:        "expiration-passed",
		postpolicy.RuleExpirationOverSevenDays: "expiration-over-7-days",
		postpolicy.RuleExpirationYear:          "expiration-year",
		postpolicy.RuleInvalidCondition:        "invalid-condition",
		postpolicy.RuleFieldName:               "field-name",
		postpolicy.RuleInvalidUTF8:             "invalid-utf8",
		postpolicy.RuleNotInPolicy:             "not-in-policy",
		postpolicy.RuleSignerField:             "signer-field",
		postpolicy.RuleExactMatchOnly:          "exact-match-only",
		postpolicy.RuleFilenameInCondition:     "filename-in-condition",
		postpolicy.RuleRangeNegative:           "range-negative",
		postpolicy.RuleRangeInverted:           "range-inverted",
		postpolicy.RuleRangeOverFiveGiB:        "range-over-5gib",
		postpolicy.RuleBucketMissing:           "bucket-missing",
		postpolicy.RuleBucketName:              "bucket-name",
		postpolicy.RuleKeyMissing:              "key-missing",
		postpolicy.RuleKeyTooLong:              "key-too-long",
		postpolicy.RulePresignedPut:            "presigned-put",
		postpolicy.RuleConditionWithoutField:   "condition-without-field",
		postpolicy.RuleFieldWithoutCondition:   "field-without-condition",
		postpolicy.RuleConflict:                "conflict",
		postpolicy.RuleFieldValue:              "field-value",
		postpolicy.RulePreFileSize:             "pre-file-size",
	}
	if len(got) != 24 {
		t.Fatalf("%d distinct rules, want 24", len(got))
	}
	for r, s := range got {
		if string(r) != s {
			t.Errorf("rule %q, want %q", r, s)
		}
	}
}

// RuleConditionWithoutField: a condition on a field that neither the form
// nor the page sends fails on S3 even as starts-with ""
// (waynehoover/s3_direct_upload#107: "Policy Condition failed:
// [starts-with, $content-type, \"\"]" for a form without Content-Type).
// The builders give every condition but Bucket a form or page source, and
// the rule exempts bucket (S3 takes it from the URL), so the exported way to
// such conditions is a parsed policy: ParsePolicy's conditions have
// SourceNone.
func TestLintConditionWithoutField(t *testing.T) {
	parse := func(conds string) postpolicy.Policy {
		t.Helper()
		p, err := postpolicy.ParsePolicy([]byte(`{"conditions":[` + conds + `],"expiration":"2015-12-29T01:00:00.000Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	without := postpolicy.RuleConditionWithoutField
	runLintCases(t, []lintCase{
		{"parsed exact key", parse(`{"bucket":"acme-uploads"},{"key":"k"}`),
			[]lintProblem{{"key", without, false}}},
		{"parsed starts-with", parse(`{"bucket":"acme-uploads"},["starts-with","$key",""],["starts-with","$Content-Type",""]`),
			[]lintProblem{{"key", without, false}, {"Content-Type", without, false}}},
		{"named once for two conditions on a field", parse(`{"bucket":"acme-uploads"},["starts-with","$key","a/"],["eq","$KEY","a/b"]`),
			[]lintProblem{{"key", without, false}}},
		{"parsed bucket is exempt", parse(`["eq","$bucket","acme-uploads"]`),
			[]lintProblem{{"key", postpolicy.RuleKeyMissing, false}}},

		// Near misses through the builders.
		{"bucket sends no field and needs none", lintPolicy(), nil},
		{"page-supplied field", lintPolicy(postpolicy.MetaPrefix("tag", "")), nil},
		{"page-supplied exact match", lintPolicy(postpolicy.ACL("private").FromPage()), nil},
		{"a parsed condition with a form condition on its field", func() postpolicy.Policy {
			p := parse(`{"bucket":"acme-uploads"},["starts-with","$acl",""]`)
			p.Conditions = append(p.Conditions, postpolicy.Key("k"), postpolicy.ACL("private"))
			return p
		}(), nil},
	})
}

// RuleFieldWithoutCondition: "Each form field that you specify in a form
// (except x-amz-signature, file, policy, and field names that have an
// x-ignore- prefix) must appear in the list of conditions." Policy.Lint
// cannot see fields without conditions (the builders give each field its
// condition); LintForm, given the fields a browser sends, reports them.
func TestLintFormFieldWithoutCondition(t *testing.T) {
	p := lintPolicy(postpolicy.ACL("private"))
	fields := []postpolicy.Field{
		{Name: "key", Value: "uploads/photo.jpg"},
		{Name: "acl", Value: "private"},
		{Name: "Content-Type", Value: "image/png"},
		{Name: "x-ignore-tracking", Value: "1"},
		{Name: "X-Amz-Signature", Value: "00"},
		{Name: "Policy", Value: "eyJ9"},
		{Name: "file", Value: ""},
	}
	got := projectProblems(p.LintForm(lintAt, fields))
	want := []lintProblem{{"Content-Type", postpolicy.RuleFieldWithoutCondition, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LintForm (-want +got):\n%s", diff)
	}
	if got := p.LintForm(lintAt, fields[:2]); got != nil {
		t.Errorf("LintForm with covered fields = %v", got)
	}
}

// RulePreFileSize needs the whole form, so only Sign reports it: the form
// data before the file may not exceed 20 KB ("sigv4-HTTPPOSTForms").
func TestSignPreFileSizeManyFields(t *testing.T) {
	conds := []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key("k")}
	// 20 metadata fields of 1000 bytes: each value is in the policy (twice
	// its size in base64 terms: 4/3) and in the form, so well over 20,480.
	for i := range 20 {
		conds = append(conds, postpolicy.Meta("m"+string(rune('a'+i)), strings.Repeat("v", 1000)))
	}
	form, err := newExampleSigner().Sign(context.Background(), postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: conds})
	if form != nil {
		t.Errorf("Sign returned a form")
	}
	var p postpolicy.Problem
	if !errors.As(err, &p) || p.Rule != postpolicy.RulePreFileSize || p.Warning || !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Errorf("Sign error = %v, want a pre-file-size problem", err)
	}
	// Five such fields fit.
	form, err = newExampleSigner().Sign(context.Background(), postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: conds[:7]})
	if err != nil || form == nil {
		t.Errorf("Sign with 5 metadata fields: %v", err)
	}
}

// TestProblemsOfError checks that Problems finds every Problem in the
// errors Validate, Sign and a Template return, also wrapped again, and
// that Fix is set where the API fixes the problem and shown by Error.
func TestProblemsOfError(t *testing.T) {
	p := postpolicy.Policy{Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Meta("a", "b").FromPage(), {}}}
	want := projectProblems(p.Lint(lintAt))
	if len(want) < 3 {
		t.Fatalf("the policy has %d problems; the test wants several", len(want))
	}
	err := p.Validate(lintAt)
	_, signErr := newExampleSigner().Sign(context.Background(), p)
	for name, e := range map[string]error{"Validate": err, "Sign": signErr, "wrapped": fmt.Errorf("signing for alice: %w", err)} {
		if diff := cmp.Diff(want, projectProblems(postpolicy.Problems(e))); diff != "" {
			t.Errorf("Problems of %s's error (-want +got):\n%s", name, diff)
		}
	}
	if postpolicy.Problems(nil) != nil || postpolicy.Problems(errors.New("x")) != nil {
		t.Error("Problems of an error holding none is not nil")
	}
	var bucket postpolicy.Problem
	for _, pr := range postpolicy.Problems(err) {
		if pr.Rule == postpolicy.RuleBucketMissing {
			bucket = pr
		}
	}
	if bucket.Fix != "add Bucket(name)" || !strings.Contains(bucket.Error(), "; add Bucket(name) (rule bucket-missing)") || strings.Contains(bucket.Detail, "Bucket(") {
		t.Errorf("bucket-missing: Fix %q, Error %q; want the API's fix apart from the detail", bucket.Fix, bucket.Error())
	}
}
