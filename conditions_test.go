package postpolicy_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
)

// condView is everything a Condition exposes.
type condView struct {
	Op        postpolicy.Op
	Field     string
	Value     string
	Min, Max  int64
	Source    postpolicy.Source
	FormValue string
	InForm    bool
}

func viewOf(c postpolicy.Condition) condView {
	v, ok := c.FormValue()
	lo, hi := c.Range()
	return condView{c.Op(), c.Field(), c.Value(), lo, hi, c.Source(), v, ok}
}

func TestConditionHelpers(t *testing.T) {
	eq, sw := postpolicy.OpEq, postpolicy.OpStartsWith
	form, page, none := postpolicy.SourceForm, postpolicy.SourcePage, postpolicy.SourceNone
	for _, tc := range []struct {
		name string
		c    postpolicy.Condition
		want condView
	}{
		{"Eq", postpolicy.Eq("acl", "public-read"), condView{eq, "acl", "public-read", 0, 0, form, "public-read", true}},
		{"Eq keeps ${filename}", postpolicy.Eq("key", "u/${filename}"), condView{eq, "key", "u/${filename}", 0, 0, form, "u/${filename}", true}},
		{"StartsWith", postpolicy.StartsWith("key", "user/user1/"), condView{sw, "key", "user/user1/", 0, 0, page, "", false}},
		{"StartsWith empty", postpolicy.StartsWith("x-amz-meta-tag", ""), condView{sw, "x-amz-meta-tag", "", 0, 0, page, "", false}},
		{"ContentLengthRange", postpolicy.ContentLengthRange(1, 10485760), condView{postpolicy.OpContentLengthRange, "", "", 1, 10485760, none, "", false}},
		{"Bucket", postpolicy.Bucket("acme-uploads"), condView{eq, "bucket", "acme-uploads", 0, 0, none, "", false}},
		{"Key", postpolicy.Key("uploads/a.png"), condView{eq, "key", "uploads/a.png", 0, 0, form, "uploads/a.png", true}},
		{"Key with ${filename} at the end", postpolicy.Key("uploads/${filename}"), condView{sw, "key", "uploads/", 0, 0, form, "uploads/${filename}", true}},
		{"Key with ${filename} mid-string", postpolicy.Key("uploads/${filename}/original.bin"), condView{sw, "key", "uploads/", 0, 0, form, "uploads/${filename}/original.bin", true}},
		{"Key with ${filename} twice", postpolicy.Key("a/${filename}/${filename}"), condView{sw, "key", "a/", 0, 0, form, "a/${filename}/${filename}", true}},
		{"Key of only ${filename}", postpolicy.Key("${filename}"), condView{sw, "key", "", 0, 0, form, "${filename}", true}},
		{"Key with a lookalike", postpolicy.Key("a/$filename"), condView{eq, "key", "a/$filename", 0, 0, form, "a/$filename", true}},
		{"KeyPrefix", postpolicy.KeyPrefix("uploads/"), condView{sw, "key", "uploads/", 0, 0, page, "", false}},
		{"ContentType", postpolicy.ContentType("image/png"), condView{eq, "Content-Type", "image/png", 0, 0, form, "image/png", true}},
		{"ContentTypePrefix", postpolicy.ContentTypePrefix("image/"), condView{sw, "Content-Type", "image/", 0, 0, page, "", false}},
		{"CacheControl", postpolicy.CacheControl("max-age=3600"), condView{eq, "Cache-Control", "max-age=3600", 0, 0, form, "max-age=3600", true}},
		{"ContentDisposition", postpolicy.ContentDisposition("inline"), condView{eq, "Content-Disposition", "inline", 0, 0, form, "inline", true}},
		{"ContentDisposition with ${filename}", postpolicy.ContentDisposition(`attachment; filename="${filename}"`), condView{sw, "Content-Disposition", `attachment; filename="`, 0, 0, form, `attachment; filename="${filename}"`, true}},
		{"ContentEncoding", postpolicy.ContentEncoding("gzip"), condView{eq, "Content-Encoding", "gzip", 0, 0, form, "gzip", true}},
		{"ACL", postpolicy.ACL("bucket-owner-full-control"), condView{eq, "acl", "bucket-owner-full-control", 0, 0, form, "bucket-owner-full-control", true}},
		{"SuccessActionStatus 201", postpolicy.SuccessActionStatus(201), condView{eq, "success_action_status", "201", 0, 0, form, "201", true}},
		{"SuccessActionStatus 200", postpolicy.SuccessActionStatus(200), condView{eq, "success_action_status", "200", 0, 0, form, "200", true}},
		{"SuccessActionRedirect", postpolicy.SuccessActionRedirect("https://example.com/done"), condView{eq, "success_action_redirect", "https://example.com/done", 0, 0, form, "https://example.com/done", true}},
		{"Meta", postpolicy.Meta("uploader", "user-42"), condView{eq, "x-amz-meta-uploader", "user-42", 0, 0, form, "user-42", true}},
		{"Meta with ${filename}", postpolicy.Meta("orig", "name: ${filename}"), condView{sw, "x-amz-meta-orig", "name: ", 0, 0, form, "name: ${filename}", true}},
		{"MetaPrefix", postpolicy.MetaPrefix("tag", ""), condView{sw, "x-amz-meta-tag", "", 0, 0, page, "", false}},
		{"StorageClass", postpolicy.StorageClass("STANDARD_IA"), condView{eq, "x-amz-storage-class", "STANDARD_IA", 0, 0, form, "STANDARD_IA", true}},
		{"WebsiteRedirectLocation", postpolicy.WebsiteRedirectLocation("/other"), condView{eq, "x-amz-website-redirect-location", "/other", 0, 0, form, "/other", true}},
		{"ServerSideEncryptionAES256", postpolicy.ServerSideEncryptionAES256(), condView{eq, "x-amz-server-side-encryption", "AES256", 0, 0, form, "AES256", true}},
		{"zero", postpolicy.Condition{}, condView{0, "", "", 0, 0, none, "", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, viewOf(tc.c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Expires is an HTTP date (RFC 9110 IMF-fixdate) in GMT, whatever the
// time's zone.
func TestExpires(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		// 2015-12-30 was a Wednesday; 14:00 at UTC+2 is 12:00 GMT.
		{time.Date(2015, 12, 30, 14, 0, 0, 0, time.FixedZone("EET", 2*3600)), "Wed, 30 Dec 2015 12:00:00 GMT"},
		// 1994-11-06 08:49:37 GMT is RFC 9110's own example (a Sunday);
		// 03:49:37 at UTC-5, with a fraction that is dropped.
		{time.Date(1994, 11, 6, 3, 49, 37, 999999999, time.FixedZone("EST", -5*3600)), "Sun, 06 Nov 1994 08:49:37 GMT"},
		// Crossing midnight backwards into another day and month.
		{time.Date(2016, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "Mon, 29 Feb 2016 23:30:00 GMT"},
	} {
		c := postpolicy.Expires(tc.in)
		want := condView{postpolicy.OpEq, "Expires", tc.want, 0, 0, postpolicy.SourceForm, tc.want, true}
		if diff := cmp.Diff(want, viewOf(c)); diff != "" {
			t.Errorf("Expires(%v) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestTagging(t *testing.T) {
	tags := []postpolicy.Tag{{Key: "team", Value: "R&D"}, {Key: "a<b", Value: "c>d"}, {Key: "quarter", Value: "Q1"}}
	c := postpolicy.Tagging(tags...)
	// XML 1.0 §2.4: & and < must be escaped; encoding/xml escapes > too.
	want := "<Tagging><TagSet>" +
		"<Tag><Key>team</Key><Value>R&amp;D</Value></Tag>" +
		"<Tag><Key>a&lt;b</Key><Value>c&gt;d</Value></Tag>" +
		"<Tag><Key>quarter</Key><Value>Q1</Value></Tag>" +
		"</TagSet></Tagging>"
	if diff := cmp.Diff(condView{postpolicy.OpEq, "tagging", want, 0, 0, postpolicy.SourceForm, want, true}, viewOf(c)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Any text, quotes and control characters included, parses back to the
	// same tags in the same order.
	tricky := []postpolicy.Tag{{Key: `"q"`, Value: "it's"}, {Key: "]]>", Value: "<!-- -->"}, {Key: "tab\tnl\n", Value: "é😀"}, {Key: "", Value: ""}}
	var parsed struct {
		Tags []postpolicy.Tag `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal([]byte(postpolicy.Tagging(tricky...).Value()), &parsed); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tricky, parsed.Tags); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := postpolicy.Tagging().Value(); got != "<Tagging><TagSet></TagSet></Tagging>" {
		t.Errorf("Tagging() = %s", got)
	}
}

func TestServerSideEncryptionKMS(t *testing.T) {
	const arn = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	form := postpolicy.SourceForm
	for _, tc := range []struct {
		name  string
		keyID string
		want  []condView
	}{
		{"default key", "", []condView{{postpolicy.OpEq, "x-amz-server-side-encryption", "aws:kms", 0, 0, form, "aws:kms", true}}},
		{"key id", arn, []condView{
			{postpolicy.OpEq, "x-amz-server-side-encryption", "aws:kms", 0, 0, form, "aws:kms", true},
			{postpolicy.OpEq, "x-amz-server-side-encryption-aws-kms-key-id", arn, 0, 0, form, arn, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []condView
			for _, c := range postpolicy.ServerSideEncryptionKMS(tc.keyID) {
				got = append(got, viewOf(c))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The digests of "hello", computed here with the standard library and
// checked against the well-known values: CRC32 (IEEE) 0x3610a686, CRC32C
// 0x9a71bb4c, SHA-1 aaf4c61d…434d, SHA-256 2cf24dba…9824. S3 wants the
// base64 of the digest bytes, the CRCs big-endian (RESTObjectPOST).
func TestChecksumDigest(t *testing.T) {
	data := []byte("hello")
	be := func(v uint32) string { return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, v)) }
	sha1Sum, sha256Sum := sha1.Sum(data), sha256.Sum256(data)
	for _, tc := range []struct {
		alg      postpolicy.ChecksumAlgorithm
		field    string
		computed string
		known    string
	}{
		{postpolicy.ChecksumCRC32, "x-amz-checksum-crc32", be(crc32.ChecksumIEEE(data)), "NhCmhg=="},
		{postpolicy.ChecksumCRC32C, "x-amz-checksum-crc32c", be(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))), "mnG7TA=="},
		{postpolicy.ChecksumSHA1, "x-amz-checksum-sha1", base64.StdEncoding.EncodeToString(sha1Sum[:]), "qvTGHdzF6KLavt4PO0gs2a6pQ00="},
		{postpolicy.ChecksumSHA256, "x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sha256Sum[:]), "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			if tc.computed != tc.known {
				t.Fatalf("test is wrong: computed %s, known %s", tc.computed, tc.known)
			}
			got, err := postpolicy.ChecksumDigest(tc.alg, bytes.NewReader(data))
			if err != nil || got != tc.known {
				t.Errorf("ChecksumDigest = %q, %v; want %q", got, err, tc.known)
			}
			// Read in one-byte pieces: the same digest.
			if got, _ := postpolicy.ChecksumDigest(tc.alg, iotest.OneByteReader(bytes.NewReader(data))); got != tc.known {
				t.Errorf("ChecksumDigest of a one-byte reader = %q", got)
			}
			cs := postpolicy.Checksum(tc.alg, got)
			var views []condView
			for _, c := range cs {
				views = append(views, viewOf(c))
			}
			want := []condView{
				{postpolicy.OpEq, "x-amz-checksum-algorithm", string(tc.alg), 0, 0, postpolicy.SourceForm, string(tc.alg), true},
				{postpolicy.OpEq, tc.field, tc.known, 0, 0, postpolicy.SourceForm, tc.known, true},
			}
			if diff := cmp.Diff(want, views); diff != "" {
				t.Errorf("Checksum (-want +got):\n%s", diff)
			}
			if err := lintPolicy(cs...).Validate(lintAt); err != nil {
				t.Errorf("a policy with Checksum: %v", err)
			}
		})
	}

	// The empty input: CRC32 0, SHA-256 e3b0c442…b855.
	if got, _ := postpolicy.ChecksumDigest(postpolicy.ChecksumCRC32, strings.NewReader("")); got != "AAAAAA==" {
		t.Errorf("CRC32 of nothing = %q", got)
	}
	if got, _ := postpolicy.ChecksumDigest(postpolicy.ChecksumSHA256, strings.NewReader("")); got != "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Errorf("SHA256 of nothing = %q", got)
	}

	for _, alg := range []postpolicy.ChecksumAlgorithm{"MD5", "crc32", "sha256", "crc64nvme", ""} {
		if got, err := postpolicy.ChecksumDigest(alg, strings.NewReader("hello")); !errors.Is(err, postpolicy.ErrUnknownChecksum) || got != "" {
			t.Errorf("ChecksumDigest(%q) = %q, %v; want ErrUnknownChecksum", alg, got, err)
		}
	}
	errRead := errors.New("read failed")
	if got, err := postpolicy.ChecksumDigest(postpolicy.ChecksumSHA256, iotest.ErrReader(errRead)); !errors.Is(err, errRead) || got != "" {
		t.Errorf("ChecksumDigest of a failing reader = %q, %v", got, err)
	}
}

// TestCRC64NVME checks CRC-64/NVME against published values: the CRC
// catalogue's check value for "123456789" (reveng.sourceforge.io,
// CRC-64/NVME, check=0xae8b14860a799888), awslabs/aws-checksums'
// KNOWN_CRC64NVME_32_ZEROES (tests/crc64_test.c, 0xCF3473434D4ECF3B), and
// SPDK's test_crc64_nvme for 4096 bytes of zeros and of ones
// (0x6482D367EB22B64E, 0xC0DDBA7302ECA3AC).
func TestCRC64NVME(t *testing.T) {
	ones := bytes.Repeat([]byte{0xff}, 4096)
	for _, tc := range []struct {
		data []byte
		want uint64
	}{
		{[]byte("123456789"), 0xae8b14860a799888},
		{make([]byte, 32), 0xCF3473434D4ECF3B},
		{make([]byte, 4096), 0x6482D367EB22B64E},
		{ones, 0xC0DDBA7302ECA3AC},
	} {
		want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, tc.want))
		if got, err := postpolicy.ChecksumDigest(postpolicy.ChecksumCRC64NVME, bytes.NewReader(tc.data)); err != nil || got != want {
			t.Errorf("CRC64NVME of %d bytes = %s, %v; want %s (%#x)", len(tc.data), got, err, want, tc.want)
		}
	}
	if postpolicy.ChecksumCRC64NVME.DigestSize() != 8 || postpolicy.ChecksumCRC64NVME.Field() != "x-amz-checksum-crc64nvme" {
		t.Error("CRC64NVME's digest size or field")
	}
}

// String gives the array form S3 quotes conditions in ("Policy Condition
// failed: [\"eq\", \"$key\", …]", as LocalStack's recordings of S3 in
// tests/aws/services/s3/test_s3.py show).
func TestConditionString(t *testing.T) {
	for _, tc := range []struct {
		c    postpolicy.Condition
		want string
	}{
		{postpolicy.ACL("public-read"), `["eq", "$acl", "public-read"]`},
		{postpolicy.KeyPrefix("user/user1/"), `["starts-with", "$key", "user/user1/"]`},
		{postpolicy.Key("uploads/${filename}"), `["starts-with", "$key", "uploads/"]`},
		{postpolicy.ContentLengthRange(1, 10485760), `["content-length-range", 1, 10485760]`},
		{postpolicy.ContentLengthRange(-1, 0), `["content-length-range", -1, 0]`},
		{postpolicy.Bucket("acme-uploads"), `["eq", "$bucket", "acme-uploads"]`},
		{postpolicy.Meta("a", `x"],["starts-with","$acl","`), `["eq", "$x-amz-meta-a", "x\"],[\"starts-with\",\"$acl\",\""]`},
		{postpolicy.Eq("f\"", "\\\n\u2028"), `["eq", "$f\"", "\\\n\u2028"]`},
		{postpolicy.Condition{}, `[]`},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
		if !json.Valid([]byte(tc.c.String())) {
			t.Errorf("String() = %s is not JSON", tc.c.String())
		}
	}
}

func TestWithFormValueAndFromPage(t *testing.T) {
	orig := postpolicy.KeyPrefix("uploads/")
	withValue := orig.WithFormValue("uploads/${filename}")
	if diff := cmp.Diff(condView{postpolicy.OpStartsWith, "key", "uploads/", 0, 0, postpolicy.SourceForm, "uploads/${filename}", true}, viewOf(withValue)); diff != "" {
		t.Errorf("WithFormValue (-want +got):\n%s", diff)
	}
	back := withValue.FromPage()
	if diff := cmp.Diff(condView{postpolicy.OpStartsWith, "key", "uploads/", 0, 0, postpolicy.SourcePage, "", false}, viewOf(back)); diff != "" {
		t.Errorf("FromPage (-want +got):\n%s", diff)
	}
	// The receivers are unchanged: methods return copies.
	if diff := cmp.Diff(condView{postpolicy.OpStartsWith, "key", "uploads/", 0, 0, postpolicy.SourcePage, "", false}, viewOf(orig)); diff != "" {
		t.Errorf("KeyPrefix changed (-want +got):\n%s", diff)
	}
	if v, ok := withValue.FormValue(); v != "uploads/${filename}" || !ok {
		t.Errorf("WithFormValue's result changed by FromPage")
	}

	// An exact match the page supplies: the form carries no key field and
	// lists the condition for the page.
	exactFromPage := postpolicy.ACL("private").FromPage()
	if diff := cmp.Diff(condView{postpolicy.OpEq, "acl", "private", 0, 0, postpolicy.SourcePage, "", false}, viewOf(exactFromPage)); diff != "" {
		t.Errorf("Eq FromPage (-want +got):\n%s", diff)
	}
	// An empty form value is still a form value.
	if v, ok := postpolicy.StartsWith("x-amz-meta-a", "").WithFormValue("").FormValue(); v != "" || !ok {
		t.Errorf("WithFormValue(\"\").FormValue() = %q, %v", v, ok)
	}

	form, err := newExampleSigner().Sign(context.Background(), bucketOnly(withValue, exactFromPage, postpolicy.MetaPrefix("t", "x").WithFormValue("xyz")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"key", "x-amz-meta-t", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"}, fieldNames(form)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if len(form.PageConditions) != 1 || form.PageConditions[0].Field() != "acl" {
		t.Errorf("PageConditions = %v, want the acl condition", form.PageConditions)
	}
}

func TestOpAndSourceString(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{postpolicy.OpEq.String(), "eq"},
		{postpolicy.OpStartsWith.String(), "starts-with"},
		{postpolicy.OpContentLengthRange.String(), "content-length-range"},
		{postpolicy.Op(0).String(), "Op(0)"},
		{postpolicy.Op(9).String(), "Op(9)"},
		{postpolicy.SourceNone.String(), "none"},
		{postpolicy.SourceForm.String(), "form"},
		{postpolicy.SourcePage.String(), "page"},
		{postpolicy.Source(7).String(), "Source(7)"},
	} {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

// Policy.MarshalJSON: the bytes its doc comment describes, written out by
// hand, and the same data encoding/json reads.
func TestPolicyMarshalJSON(t *testing.T) {
	p := postpolicy.Policy{
		Expiration: time.Date(2015, 12, 30, 13, 0, 0, 999999999, time.FixedZone("CET", 3600)),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("sigv4examplebucket"),
			postpolicy.KeyPrefix("user/user1/"),
			postpolicy.ACL("public-read"),
			postpolicy.ContentLengthRange(1, 10485760),
			postpolicy.Meta("note", "<a href=\"x\">&</a>\u2028"),
			{},
		},
	}
	want := `{"conditions":[{"bucket":"sigv4examplebucket"},["starts-with","$key","user/user1/"],{"acl":"public-read"},` +
		`["content-length-range",1,10485760],{"x-amz-meta-note":"<a href=\"x\">&</a>\u2028"},null],` +
		`"expiration":"2015-12-30T12:00:00.999Z"}`
	got, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
	var data struct {
		Conditions []any
		Expiration string
	}
	if err := json.Unmarshal(got, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Conditions) != len(p.Conditions) || data.Conditions[4].(map[string]any)["x-amz-meta-note"] != "<a href=\"x\">&</a>\u2028" {
		t.Errorf("decoded %v", data)
	}
	again, _ := p.MarshalJSON()
	if !bytes.Equal(got, again) {
		t.Errorf("MarshalJSON is not deterministic")
	}
	if got, _ := (postpolicy.Policy{}).MarshalJSON(); string(got) != `{"conditions":[],"expiration":"0001-01-01T00:00:00.000Z"}` {
		t.Errorf("zero Policy = %s", got)
	}
}
