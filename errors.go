package postpolicy

import "errors"

// ErrInvalidPolicy is matched (with [errors.Is]) by every error that
// [Policy.Validate] and [Signer.Sign] return for a policy that S3 would
// reject or that could never be satisfied. The details are [Problem] values;
// [Policy.Lint] lists them, warnings included.
var ErrInvalidPolicy = errors.New("postpolicy: invalid policy")

// Rule identifies the rule a [Problem] is about. The values are stable and
// meant for tests and programs; the problem's Detail is for people.
type Rule string

// The rules [Policy.Lint] checks. Each names the S3 behaviour it follows;
// the sources are the AWS pages "POST Policy" (sigv4-HTTPPOSTConstructPolicy),
// "Creating an HTML Form" (sigv4-HTTPPOSTForms) and "POST Object"
// (RESTObjectPOST), and S3 answers observed by others, as noted.
const (
	// RuleExpirationMissing: "The POST policy always contains the
	// expiration and conditions elements."
	RuleExpirationMissing Rule = "expiration-missing"
	// RuleExpirationPassed: the expiration is not after the signing time,
	// so S3 answers "Invalid according to Policy: Policy expired."
	RuleExpirationPassed Rule = "expiration-passed"
	// RuleExpirationOverSevenDays (a warning): the expiration is more than
	// 7 days after the signing time. SigV4 limits presigned URLs to 7 days
	// and the AWS Ruby SDK documents the same cap for POST; whether S3
	// enforces it on POST is not documented, so this is only a warning.
	RuleExpirationOverSevenDays Rule = "expiration-over-7-days"
	// RuleExpirationYear: the expiration's year (in UTC) is not between 0000
	// and 9999. The expiration's documented ISO 8601 form has a four-digit
	// year, and ParsePolicy refuses any other.
	RuleExpirationYear Rule = "expiration-year"
	// RuleInvalidCondition: a zero Condition, built without a constructor.
	RuleInvalidCondition Rule = "invalid-condition"
	// RuleFieldName: a field name that is empty, starts with "$" (the
	// encoder adds it), names content-length-range, or holds characters
	// that cannot appear in a multipart form field name.
	RuleFieldName Rule = "field-name"
	// RuleInvalidUTF8: the policy is a UTF-8 document; a name or value that
	// is not valid UTF-8 cannot be signed as given.
	RuleInvalidUTF8 Rule = "invalid-utf8"
	// RuleNotInPolicy: policy, x-amz-signature and file are never checked
	// against the policy ("Each form field that you specify in a form
	// (except x-amz-signature, file, policy, and field names that have an
	// x-ignore- prefix) must appear in the list of conditions"), so a
	// condition on them is a mistake.
	RuleNotInPolicy Rule = "not-in-policy"
	// RuleSignerField: x-amz-algorithm, x-amz-credential, x-amz-date and
	// x-amz-security-token are added by the Signer, with their conditions.
	RuleSignerField Rule = "signer-field"
	// RuleExactMatchOnly: starts-with on a field that allows only an exact
	// match: bucket, success_action_status, and the x-amz-* fields other
	// than x-amz-meta-* (the condition table of "POST Policy").
	RuleExactMatchOnly Rule = "exact-match-only"
	// RuleFilenameInCondition: ${filename} in a condition's value. S3
	// replaces ${filename} in the form field before checking the policy, so
	// the condition compares the file's real name with the literal text and
	// fails; constrain the text before it with starts-with ([Key] does).
	RuleFilenameInCondition Rule = "filename-in-condition"
	// RuleRangeNegative: a content-length-range bound below zero; S3 answers
	// 400 InvalidPolicyDocument (observed in ceph s3-tests' recordings).
	RuleRangeNegative Rule = "range-negative"
	// RuleRangeInverted: content-length-range with min > max, or two ranges
	// that do not overlap: no file can satisfy them.
	RuleRangeInverted Rule = "range-inverted"
	// RuleRangeOverFiveGiB (a warning): a maximum above 5 GiB. S3 stores at
	// most 5 GiB from a single request (documented for PUT; implied for
	// POST), so the larger bound promises uploads S3 will not take.
	RuleRangeOverFiveGiB Rule = "range-over-5gib"
	// RuleBucketMissing: no exact-match bucket condition. The Signer needs
	// the bucket for the form's URL, and S3-compatible servers such as MinIO
	// and Versity treat the bucket as a form field that must be covered
	// ("Extra input fields: bucket").
	RuleBucketMissing Rule = "bucket-missing"
	// RuleBucketName: the bucket name breaks S3's naming rules (3 to 63
	// characters of a-z, 0-9, '.' and '-', starting and ending with a letter
	// or digit, no "..", not an IP address, none of the reserved prefixes
	// and suffixes), from "General purpose bucket naming rules".
	RuleBucketName Rule = "bucket-name"
	// RuleKeyMissing: no condition on key. Every POST must carry a key field
	// ("Bucket POST must contain a field named 'key'") and every field needs
	// a condition.
	RuleKeyMissing Rule = "key-missing"
	// RuleConditionWithoutField: a condition on a field that neither the form
	// nor the page sends. S3 fails it even with an empty starts-with prefix:
	// "Invalid according to Policy: Policy Condition failed".
	RuleConditionWithoutField Rule = "condition-without-field"
	// RuleFieldWithoutCondition: a form field with no condition. S3 answers
	// "Invalid according to Policy: Extra input fields: <name>".
	RuleFieldWithoutCondition Rule = "field-without-condition"
	// RuleConflict: conditions on one field that no value can satisfy
	// together, or a form value that fails a condition on its own field.
	RuleConflict Rule = "conflict"
	// RuleFieldValue: a value S3 rejects or ignores for a known field: an
	// unknown canned ACL, server-side encryption or checksum algorithm, a
	// checksum digest of the wrong length (errors); a success_action_status
	// other than 200, 201 or 204, a success_action_redirect that is not an
	// absolute http(s) URL, an unknown storage class (warnings: S3 ignores
	// the first two, and S3-compatible stores have their own classes).
	RuleFieldValue Rule = "field-value"
	// RulePreFileSize: "The form data and boundaries (excluding the contents
	// of the file) cannot exceed 20 KB"; S3 answers
	// MaxPostPreDataLengthExceeded (20,480 bytes observed).
	RulePreFileSize Rule = "pre-file-size"
)

// A Problem is one reason S3 would reject a policy, or, when Warning is
// set, would accept it but probably not do what its author meant.
//
// [Policy.Validate] and [Signer.Sign] return the problems that are not
// warnings joined with [errors.Join]; each matches [ErrInvalidPolicy] with
// [errors.Is] and can be extracted with [errors.As]. Problems never contain
// secrets: they name fields and rules and quote policy values, which the
// policy sends to the browser anyway.
type Problem struct {
	// Field is the form field the problem is about, as written in the
	// policy, or a policy element such as "expiration"; empty when the
	// problem concerns no single field.
	Field string
	// Rule identifies the rule broken.
	Rule Rule
	// Detail explains the problem and, where known, what S3 would answer.
	Detail string
	// Warning marks a problem that does not make S3 reject the policy.
	Warning bool
}

// Error returns "postpolicy: <field>: <detail> (rule <rule>)", with
// "warning: " before the field for warnings.
func (p Problem) Error() string {
	s := "postpolicy: "
	if p.Warning {
		s += "warning: "
	}
	if p.Field != "" {
		s += p.Field + ": "
	}
	return s + p.Detail + " (rule " + string(p.Rule) + ")"
}

// Is reports whether target is [ErrInvalidPolicy] and p is not a warning.
func (p Problem) Is(target error) bool {
	return target == ErrInvalidPolicy && !p.Warning
}

// joinProblems returns the problems that are not warnings as one error, or
// nil when there are none.
func joinProblems(ps []Problem) error {
	var errs []error
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}
