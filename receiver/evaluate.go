package receiver

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/postform"
	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file holds the checks of an upload that need no secret: the fields
// every signed POST carries, the policy document, the conditions and the
// coverage rule. The Verifier runs them in its numbered order; Evaluate
// and CheckFields run them alone, for tools that explain what S3 would
// answer (postpolicy inspect) and for tests.

// signedFields are the fields a signed POST must carry, in the order they
// are checked.
var signedFields = []string{"key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}

// CheckFields makes the checks S3 makes of a signed POST's fields before
// it looks at the secret or the policy (steps 1 and 2 of [Verifier]):
// every field sent once (names compared case-insensitively), the key and
// authentication fields present and not empty, x-amz-algorithm
// AWS4-HMAC-SHA256, x-amz-date in the ISO 8601 basic format, and the
// credential shaped ACCESSKEYID/YYYYMMDD/REGION/SERVICE/aws4_request with
// the date of x-amz-date. A form with none of the authentication fields is
// an anonymous upload, which S3 answers AccessDenied. Errors are *S3Error
// values with S3's codes and messages.
func CheckFields(fields []postpolicy.Field) error {
	for i, f := range fields {
		for _, g := range fields[:i] {
			if strings.EqualFold(f.Name, g.Name) {
				return s3err(CodeInvalidArgument, http.StatusBadRequest,
					"POST form field "+strconv.Quote(f.Name)+" appears more than once; fields must be single-valued.",
					postpolicy.Field{Name: "ArgumentName", Value: f.Name})
			}
		}
	}
	anonymous := true
	for _, name := range signedFields[1:] {
		if _, ok := postpolicy.Fields(fields).Get(name); ok {
			anonymous = false
		}
	}
	if anonymous {
		return s3err(CodeAccessDenied, http.StatusForbidden, "Access Denied")
	}
	for _, name := range signedFields {
		if val, ok := postpolicy.Fields(fields).Get(name); !ok || val == "" {
			return s3err(CodeInvalidArgument, http.StatusBadRequest,
				"Bucket POST must contain a field named '"+name+"'.  If it is specified, please check the order of the fields.",
				postpolicy.Field{Name: "ArgumentName", Value: name}, postpolicy.Field{Name: "ArgumentValue", Value: ""})
		}
	}
	get := func(name string) string { v, _ := postpolicy.Fields(fields).Get(name); return v }
	if alg := get("x-amz-algorithm"); alg != sigv4.Algorithm {
		return s3err(CodeInvalidArgument, http.StatusBadRequest, "X-Amz-Algorithm only supports \""+sigv4.Algorithm+"\"",
			postpolicy.Field{Name: "ArgumentName", Value: "x-amz-algorithm"}, postpolicy.Field{Name: "ArgumentValue", Value: alg})
	}
	amzDate := get("x-amz-date")
	if _, err := time.Parse(sigv4.TimeLayout, amzDate); err != nil {
		return s3err(CodeInvalidArgument, http.StatusBadRequest, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
			postpolicy.Field{Name: "ArgumentName", Value: "x-amz-date"}, postpolicy.Field{Name: "ArgumentValue", Value: amzDate})
	}
	credential := get("x-amz-credential")
	scope := strings.Split(credential, "/")
	switch {
	case len(scope) != 5 || scope[0] == "":
		return scopeErr(credential, "the credential must be ACCESSKEYID/YYYYMMDD/REGION/SERVICE/aws4_request")
	case scope[1] != amzDate[:8]:
		return scopeErr(credential, "the credential date "+strconv.Quote(scope[1])+" is not the date of x-amz-date "+strconv.Quote(amzDate))
	case scope[4] != sigv4.Terminator:
		return scopeErr(credential, "the credential must end with aws4_request")
	}
	return nil
}

// ParsePolicy parses a policy document with [postpolicy.ParsePolicy],
// answering a document S3 would refuse as S3 does: 400
// InvalidPolicyDocument "Invalid Policy: …".
func ParsePolicy(doc []byte) (postpolicy.Policy, error) {
	return documentAnswer(postpolicy.ParsePolicy(doc))
}

// DecodePolicy decodes and parses the policy field's text with
// [postpolicy.DecodePolicy], answering as ParsePolicy does.
func DecodePolicy(encoded string) (postpolicy.Policy, error) {
	return documentAnswer(postpolicy.DecodePolicy(encoded))
}

func documentAnswer(p postpolicy.Policy, err error) (postpolicy.Policy, error) {
	var de *postpolicy.DocumentError
	if errors.As(err, &de) {
		return postpolicy.Policy{}, s3err(CodeInvalidPolicyDocument, http.StatusBadRequest, "Invalid Policy: "+de.Reason)
	}
	return p, err
}

// ExpandFilename returns a copy of fields with ${filename} replaced by the
// file's name: the text after its last '/' or '\' ("The variable
// ${filename} is automatically replaced with the name of the file provided
// by the user and is recognized by all form fields", "Creating an HTML
// Form"). Without a file name the variable stays as it is, as S3 was
// recorded to do.
func ExpandFilename(fields []postpolicy.Field, filename string) []postpolicy.Field {
	out := make([]postpolicy.Field, len(fields))
	copy(out, fields)
	if filename == "" {
		return out
	}
	base := postform.BaseName(filename)
	for i := range out {
		out[i].Value = postform.Expand(out[i].Value, base)
	}
	return out
}

// Evaluate checks an upload against p as a [Verifier] does once the
// signature has passed: the expiration at now, ${filename} replaced by
// filename in the fields, every condition (bucket is the bucket posted
// to), the coverage rule, the x-amz-checksum-* fields (step 10 of
// [Verifier]) and, when size is not negative, content-length-range and the
// 5 GiB limit on a file of size bytes. It does not check the key (step 7)
// nor the file's digest, which needs its content. It returns the [*S3Error]
// S3 would answer, or nil; a failed condition or an uncovered field
// wraps a [*ConditionError] or an [*ExtraFieldError] that says which. It
// checks neither the signature nor the authentication fields
// ([CheckFields] does those); it is for explaining and debugging policies
// and for tests. fields are the fields the browser sends before the
// file, in order.
func Evaluate(p postpolicy.Policy, now time.Time, bucket string, fields []postpolicy.Field, filename string, size int64) error {
	if !now.Before(p.Expiration) {
		return policyFailed("Policy expired.", nil)
	}
	expanded := ExpandFilename(fields, filename)
	lo, hi, err := checkConditions(p.Conditions, bucket, expanded)
	if err != nil {
		return err
	}
	if _, err := checkChecksumFields(expanded); err != nil {
		return err
	}
	if size >= 0 {
		if size > hi {
			return tooLarge(size, hi)
		}
		if size < lo {
			return tooSmall(size, lo)
		}
	}
	return nil
}

// maxFileSize is the largest file S3 stores from one request, 5 GiB:
// "With a single PUT operation, you can upload a single object up to 5 GB
// in size" ("Uploading objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
// A POST is such a request; beyond it S3 answers EntityTooLarge with
// MaxSizeAllowed 5368709120, whatever content-length-range allows.
const maxFileSize = 5 << 30

// checkConditions checks every condition against the fields (${filename}
// already replaced) and then the coverage rule, and returns the file sizes
// the content-length-range conditions and maxFileSize allow.
func checkConditions(conds []postpolicy.Condition, bucket string, fields []postpolicy.Field) (lo, hi int64, err error) {
	lo, hi = 0, maxFileSize
	for _, c := range conds {
		switch c.Op() {
		case postpolicy.OpContentLengthRange:
			cmin, cmax := c.Range()
			lo, hi = max(lo, cmin), min(hi, cmax)
			continue
		case postpolicy.OpEq, postpolicy.OpStartsWith:
		default:
			continue
		}
		got, sent := postpolicy.Fields(fields).Get(c.Field())
		pass := false
		switch {
		case strings.EqualFold(c.Field(), "bucket"):
			// S3 takes the bucket from the URL; a bucket field, when
			// sent, must name the same bucket.
			if !sent || got == bucket {
				got, sent = bucket, true
				pass = matches(c, got)
			}
		case sent:
			pass = matches(c, got)
		}
		if !pass {
			return 0, 0, policyFailed("Policy Condition failed: "+c.String(), &ConditionError{Condition: c, Value: got, Sent: sent})
		}
	}
	covered := func(name string) bool {
		for _, c := range conds {
			if (c.Op() == postpolicy.OpEq || c.Op() == postpolicy.OpStartsWith) && strings.EqualFold(c.Field(), name) {
				return true
			}
		}
		return false
	}
	for _, f := range fields {
		if !postform.Exempt(f.Name) && !covered(f.Name) {
			return 0, 0, policyFailed("Extra input fields: "+strings.ToLower(f.Name), &ExtraFieldError{Field: f.Name})
		}
	}
	if !covered("bucket") {
		return 0, 0, policyFailed("Extra input fields: bucket", &ExtraFieldError{Field: "bucket"})
	}
	return lo, hi, nil
}

// matches reports whether the value v of c's field satisfies c.
func matches(c postpolicy.Condition, v string) bool {
	switch c.Op() {
	case postpolicy.OpEq:
		return v == c.Value()
	case postpolicy.OpStartsWith:
		return postform.StartsWith(c.Field(), v, c.Value())
	}
	return false
}
