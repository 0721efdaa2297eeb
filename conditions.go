package postpolicy

import (
	"encoding/xml"
	"strconv"
	"time"

	"github.com/postpolicy/postpolicy/internal/postform"
)

// Op is the match type of a policy condition. The set is closed: the AWS
// "POST Policy" page defines exactly three, and this package has a constant
// for each.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html#sigv4-ConditionMatching
type Op uint8

const (
	// OpEq is an exact match: the form field's value must equal the
	// condition's value, byte for byte. It is written as a one-member
	// object, {"acl": "public-read"}, which S3 treats the same as
	// ["eq", "$acl", "public-read"].
	OpEq Op = iota + 1
	// OpStartsWith is a prefix match: the form field's value must start
	// with the condition's value; an empty prefix allows any value. It is
	// written ["starts-with", "$key", "user/user1/"]. S3 allows it only on
	// some fields; see [Policy.Validate].
	OpStartsWith
	// OpContentLengthRange bounds the size of the uploaded file in bytes,
	// both ends inclusive. It is written ["content-length-range", 1, 10485760]
	// and names no form field.
	OpContentLengthRange
)

// String returns the operator's name as the policy writes it: "eq",
// "starts-with" or "content-length-range".
func (o Op) String() string {
	switch o {
	case OpEq:
		return "eq"
	case OpStartsWith:
		return "starts-with"
	case OpContentLengthRange:
		return "content-length-range"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Source says where the value of a condition's form field comes from when
// the browser submits the form. The signed policy is the same in every case;
// the source decides which fields [Signer.Sign] puts in the [Form] and what
// the page is expected to add.
type Source uint8

const (
	// SourceNone: no form field carries the value. This is the case for
	// content-length-range (it constrains the file), for [Bucket] (S3 takes
	// the bucket from the URL), and for conditions read from an encoded
	// policy by [ParsePolicy].
	SourceNone Source = iota
	// SourceForm: the signed form carries the field with a fixed value
	// ([Condition.FormValue]).
	SourceForm
	// SourcePage: the page adds the field itself (for example a key or a
	// Content-Type chosen in the browser); the form carries no value, and
	// [Form.PageConditions] lists what the page's value must satisfy.
	SourcePage
)

// String returns "none", "form" or "page".
func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceForm:
		return "form"
	case SourcePage:
		return "page"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Condition is one element of a policy's conditions array, together with
// where its form field's value comes from.
//
// The set of conditions is closed: build them with [Eq], [StartsWith],
// [ContentLengthRange] or one of the field helpers ([Key], [ContentType],
// [Meta], ...). The zero Condition is invalid and [Policy.Validate] reports
// it. Field names are kept as written; S3 compares them case-insensitively,
// and so does this package. Values are compared byte for byte.
//
// A Condition is a small immutable value: methods that change it return a
// modified copy.
type Condition struct {
	field     string
	value     string
	formValue string
	min, max  int64
	op        Op
	source    Source
}

// Eq returns an exact-match condition on the form field named field
// (without the "$" the array form of the spec puts before it). The form
// carries field with the value value, so the field and its condition always
// agree.
//
// Eq writes exactly what it is given: a value containing ${filename} can
// never match, because S3 substitutes the file name into the field before
// checking it, and Validate reports it. [Key] and the other field helpers
// turn such values into a starts-with on the text before ${filename}.
func Eq(field, value string) Condition {
	return Condition{op: OpEq, field: field, value: value, source: SourceForm, formValue: value}
}

// StartsWith returns a starts-with condition: the value of the form field
// named field must begin with prefix, and an empty prefix allows any value.
// The page supplies the field (its source is [SourcePage]); use
// [Condition.WithFormValue] to have the form carry a value instead.
//
// S3 allows starts-with only on some fields: not on bucket,
// success_action_status, or x-amz-* fields other than x-amz-meta-*.
// Validate reports a starts-with on those.
func StartsWith(field, prefix string) Condition {
	return Condition{op: OpStartsWith, field: field, value: prefix, source: SourcePage}
}

// ContentLengthRange returns a content-length-range condition: the uploaded
// file must be at least min and at most max bytes long, both inclusive.
// S3 answers EntityTooSmall or EntityTooLarge otherwise.
func ContentLengthRange(min, max int64) Condition {
	return Condition{op: OpContentLengthRange, min: min, max: max}
}

// Op returns the condition's match type; 0 for the zero Condition.
func (c Condition) Op() Op { return c.op }

// Field returns the name of the form field the condition constrains, as
// written, without a leading "$". It is empty for content-length-range.
func (c Condition) Field() string { return c.field }

// Value returns the value of an exact match or the prefix of a starts-with.
// It is empty for content-length-range.
func (c Condition) Value() string { return c.value }

// Range returns the bounds of a content-length-range condition; both are 0
// for the other kinds.
func (c Condition) Range() (min, max int64) { return c.min, c.max }

// Source returns where the value of the condition's form field comes from.
func (c Condition) Source() Source { return c.source }

// FormValue returns the value the signed form carries for the condition's
// field, and whether it carries one (Source is [SourceForm]).
func (c Condition) FormValue() (value string, ok bool) {
	return c.formValue, c.source == SourceForm
}

// WithFormValue returns a copy of c whose field the form carries with the
// value v. For a starts-with, v must begin with the prefix; v may contain
// ${filename} after the prefix (S3 puts the file's name there before
// checking). Validate reports a form value that does not satisfy the
// field's conditions.
func (c Condition) WithFormValue(v string) Condition {
	c.source = SourceForm
	c.formValue = v
	return c
}

// FromPage returns a copy of c whose field the page supplies: the form
// carries no value for it, and [Form.PageConditions] lists it.
func (c Condition) FromPage() Condition {
	c.source = SourcePage
	c.formValue = ""
	return c
}

// String returns the condition in the array form S3 quotes it in when it
// fails, for example ["starts-with", "$key", "user/user1/"]; exact matches
// are shown as ["eq", "$acl", "public-read"]. It is meant for messages; the
// signed policy uses the compact forms.
func (c Condition) String() string {
	b := make([]byte, 0, 32+len(c.field)+len(c.value))
	return string(appendConditionText(b, c))
}

// appendConditionText appends c in the form of String.
func appendConditionText(b []byte, c Condition) []byte {
	switch c.op {
	case OpEq, OpStartsWith:
		b = append(b, '[')
		b = appendJSONString(b, c.op.String())
		b = append(b, ", "...)
		b = appendDollarField(b, c.field)
		b = append(b, ", "...)
		b = appendJSONString(b, c.value)
		return append(b, ']')
	case OpContentLengthRange:
		b = append(b, `["content-length-range", `...)
		b = appendJSONInt(b, c.min)
		b = append(b, ", "...)
		b = appendJSONInt(b, c.max)
		return append(b, ']')
	}
	return append(b, "[]"...)
}

// fixed returns the condition for a form field set to a fixed value by a
// helper. A value containing ${filename} becomes a starts-with on the text
// before it while the form keeps the literal value, since S3 expands the
// variable before checking; fields that allow only an exact match keep the
// exact match, and Validate reports it.
func fixed(field, value string) Condition {
	if i := postform.IndexFilenameVar(value); i >= 0 && postform.StartsWithAllowed(field) {
		return StartsWith(field, value[:i]).WithFormValue(value)
	}
	return Eq(field, value)
}

// Bucket returns the exact-match condition on the bucket. The form carries
// no bucket field: S3 takes the bucket from the URL, which [Signer.Sign]
// builds from this condition. Every policy needs exactly one; S3 allows only
// an exact match on bucket.
func Bucket(name string) Condition {
	return Condition{op: OpEq, field: "bucket", value: name}
}

// Key returns the condition for an object key set by the server. The form
// carries key. A key containing ${filename} (usually at the end, as in
// "uploads/user-42/${filename}") becomes a starts-with on the text before
// it, because S3 replaces ${filename} with the uploaded file's name before
// checking the policy; a key without it becomes an exact match.
func Key(key string) Condition { return fixed("key", key) }

// KeyPrefix returns a starts-with condition on the key: the page chooses the
// key, and it must begin with prefix. An empty prefix allows any key in the
// bucket.
func KeyPrefix(prefix string) Condition { return StartsWith("key", prefix) }

// ContentType returns an exact-match condition on Content-Type, which S3
// stores as the object's Content-Type; the form carries it.
func ContentType(contentType string) Condition { return fixed("Content-Type", contentType) }

// ContentTypePrefix returns a starts-with condition on Content-Type: the
// page sets the Content-Type field (browsers do not add it on their own),
// and it must begin with prefix, for example "image/". S3 treats a
// Content-Type value containing commas as a list and requires every element
// to match.
func ContentTypePrefix(prefix string) Condition { return StartsWith("Content-Type", prefix) }

// CacheControl returns an exact-match condition on Cache-Control, stored as
// the object's Cache-Control header.
func CacheControl(v string) Condition { return fixed("Cache-Control", v) }

// ContentDisposition returns an exact-match condition on
// Content-Disposition, stored as the object's Content-Disposition header.
func ContentDisposition(v string) Condition { return fixed("Content-Disposition", v) }

// ContentEncoding returns an exact-match condition on Content-Encoding,
// stored as the object's Content-Encoding header.
func ContentEncoding(v string) Condition { return fixed("Content-Encoding", v) }

// Expires returns an exact-match condition on the object's Expires header
// (an HTTP date, RFC 9110 IMF-fixdate, in GMT). It is unrelated to the
// policy's own expiration, [Policy.Expiration].
func Expires(t time.Time) Condition {
	return Eq("Expires", t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
}

// ACL returns an exact-match condition on acl, the canned ACL S3 applies to
// the new object: private, public-read, public-read-write, aws-exec-read,
// authenticated-read, bucket-owner-read or bucket-owner-full-control.
// Validate reports any other value.
func ACL(acl string) Condition { return Eq("acl", acl) }

// SuccessActionStatus returns an exact-match condition on
// success_action_status, the status S3 answers a successful upload with when
// there is no redirect: 200 or 204 with an empty body, or 201 with an XML
// document naming the object. S3 ignores other values and answers 204, and
// allows only an exact match on this field.
func SuccessActionStatus(code int) Condition {
	v := ""
	switch code { // the codes S3 knows, without allocating
	case 200:
		v = "200"
	case 201:
		v = "201"
	case 204:
		v = "204"
	default:
		v = strconv.Itoa(code)
	}
	return Eq("success_action_status", v)
}

// SuccessActionRedirect returns an exact-match condition on
// success_action_redirect: after a successful upload S3 answers 303 See
// Other to this absolute URL, with bucket, key and etag added to its query.
func SuccessActionRedirect(url string) Condition { return Eq("success_action_redirect", url) }

// Meta returns an exact-match condition on the user metadata field
// x-amz-meta-name, stored with the object. S3 stores metadata names in
// lower case.
func Meta(name, value string) Condition { return fixed("x-amz-meta-"+name, value) }

// MetaPrefix returns a starts-with condition on x-amz-meta-name: the page
// supplies the value, which must begin with prefix ("" allows any value).
func MetaPrefix(name, prefix string) Condition { return StartsWith("x-amz-meta-"+name, prefix) }

// StorageClass returns an exact-match condition on x-amz-storage-class
// (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ...).
func StorageClass(class string) Condition { return Eq("x-amz-storage-class", class) }

// WebsiteRedirectLocation returns an exact-match condition on
// x-amz-website-redirect-location, which makes a bucket configured as a
// website redirect requests for the object to another object or URL.
func WebsiteRedirectLocation(location string) Condition {
	return Eq("x-amz-website-redirect-location", location)
}

// A Tag is one object tag: a key and a value.
type Tag struct {
	Key   string
	Value string
}

// Tagging returns an exact-match condition on tagging, the tag set S3
// attaches to the new object, given in order. The form value is the XML
// document S3 expects (<Tagging><TagSet><Tag><Key>…</Key><Value>…</Value>
// </Tag>…</TagSet></Tagging>), written by encoding/xml.
func Tagging(tags ...Tag) Condition {
	type tag struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	}
	type tagging struct {
		XMLName xml.Name `xml:"Tagging"`
		Tags    []tag    `xml:"TagSet>Tag"`
	}
	t := tagging{Tags: make([]tag, len(tags))}
	for i, tg := range tags {
		t.Tags[i] = tag(tg)
	}
	b, err := xml.Marshal(t)
	if err != nil {
		// xml.Marshal of strings only fails for characters XML cannot hold;
		// the escaper replaces those, so this is unreachable in practice.
		// An empty tagging value is reported by Validate.
		return Eq("tagging", "")
	}
	return Eq("tagging", string(b))
}

// ServerSideEncryptionAES256 returns the exact-match condition that makes S3
// encrypt the object with S3-managed keys (SSE-S3):
// x-amz-server-side-encryption: AES256.
func ServerSideEncryptionAES256() Condition {
	return Eq("x-amz-server-side-encryption", "AES256")
}

// ServerSideEncryptionKMS returns the conditions that make S3 encrypt the
// object with AWS KMS (SSE-KMS): x-amz-server-side-encryption: aws:kms and,
// when keyID is not empty, x-amz-server-side-encryption-aws-kms-key-id:
// keyID (with an empty keyID S3 uses the account's default key). Append them
// to a policy's conditions with append(conds, ServerSideEncryptionKMS(id)...).
func ServerSideEncryptionKMS(keyID string) []Condition {
	c := []Condition{Eq("x-amz-server-side-encryption", "aws:kms")}
	if keyID != "" {
		c = append(c, Eq("x-amz-server-side-encryption-aws-kms-key-id", keyID))
	}
	return c
}
