package postpolicy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy/internal/postform"
)

// This file holds the policy lint: the rules S3 applies to a POST policy,
// checked before signing, each defined once in the table checks below.
// Validate, Lint, LintForm, Signer.Sign and a Template's Sign all run the
// same table through the same linter; a Template only spares the checks
// of its fixed conditions on their own, which it ran when it was
// prepared and whose inputs cannot change.

// Rule identifies the rule a [Problem] is about. The values are stable and
// meant for tests and programs; the problem's Detail is for people.
type Rule string

// The rules the lint checks. Each names the S3 behaviour it follows; the
// sources are the AWS pages "Creating a POST Policy"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html),
// "Creating an HTML Form"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html)
// and "POST Object"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html), and
// S3 answers recorded in public test suites and issues, as noted.
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
	// than x-amz-meta-* (the condition table of "Creating a POST Policy").
	RuleExactMatchOnly Rule = "exact-match-only"
	// RuleFilenameInCondition: ${filename} in a condition's value. S3
	// replaces ${filename} in the form field before checking the policy, so
	// the condition compares the file's real name with the literal text and
	// fails; constrain the text before it with starts-with ([Key] does).
	RuleFilenameInCondition Rule = "filename-in-condition"
	// RuleRangeNegative: a content-length-range bound below zero; S3 answers
	// 400 InvalidPolicyDocument (recorded by ceph/s3-tests,
	// test_post_object_invalid_content_length_argument).
	RuleRangeNegative Rule = "range-negative"
	// RuleRangeInverted: content-length-range with min > max, or two ranges
	// that do not overlap: no file can satisfy them.
	RuleRangeInverted Rule = "range-inverted"
	// RuleRangeOverFiveGiB (a warning): a maximum above 5 GiB. S3 stores at
	// most 5 GiB from a single request ("Upload an object in a single
	// operation ... up to 5 GB", Uploading objects), so the larger bound
	// promises uploads S3 will not take.
	RuleRangeOverFiveGiB Rule = "range-over-5gib"
	// RuleBucketMissing: no exact-match bucket condition. The Signer needs
	// the bucket for the form's URL, and S3-compatible servers such as MinIO
	// and Versity treat the bucket as a form field that must be covered
	// ("Extra input fields: bucket").
	RuleBucketMissing Rule = "bucket-missing"
	// RuleBucketName: the bucket name breaks S3's naming rules (3 to 63
	// characters of a-z, 0-9, '.' and '-', starting and ending with a letter
	// or digit, no "..", not an IP address, none of the reserved prefixes),
	// from "General purpose bucket naming rules"; a name ending with --x-s3
	// must have the form of a directory bucket's ("Directory bucket naming
	// rules"). A name ending with a suffix S3 reserves for other things
	// (-s3alias, --ol-s3, .mrap, --table-s3) is a warning: it may name an
	// access point alias, which S3-compatible uses accept.
	RuleBucketName Rule = "bucket-name"
	// RuleKeyMissing: no condition on key. Every POST must carry a key field
	// ("Bucket POST must contain a field named 'key'") and every field needs
	// a condition.
	RuleKeyMissing Rule = "key-missing"
	// RuleKeyTooLong: an exact key longer than 1,024 bytes. "The name for a
	// key is a sequence of Unicode characters whose UTF-8 encoding is at
	// most 1,024 bytes long" ("Naming Amazon S3 objects",
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html);
	// S3 answers KeyTooLongError.
	RuleKeyTooLong Rule = "key-too-long"
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
	// unknown canned ACL or server-side encryption, a checksum digest of the
	// wrong length, a checksum algorithm without its digest's field
	// (errors); a success_action_status other than 200, 201 or 204, a
	// success_action_redirect that is not an absolute http(s) URL, an
	// unknown storage class or checksum algorithm (warnings: S3 ignores the
	// first two, and S3-compatible stores have their own classes and
	// algorithms).
	RuleFieldValue Rule = "field-value"
	// RulePresignedPut: a condition a presigned PUT cannot express. A PUT
	// signs headers with exact values ("Uploading objects with presigned
	// URLs", https://docs.aws.amazon.com/AmazonS3/latest/userguide/PresignedUrlUploadObject.html):
	// a starts-with, a size range (other than one exact size, signed as
	// Content-Length) and the fields of a POST form
	// (success_action_status, success_action_redirect, x-ignore-*) have
	// no header to sign, so [Signer.PresignPut] refuses them rather than
	// drop them.
	RulePresignedPut Rule = "presigned-put"
	// RulePreFileSize: "The form data and boundaries (excluding the contents
	// of the file) cannot exceed 20 KB"; S3 answers
	// MaxPostPreDataLengthExceeded (20,480 bytes recorded).
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
	// Detail explains the problem and, where known, what S3 would answer,
	// in terms of the policy (not of this package's API).
	Detail string
	// Fix, when set, says how to fix the problem with this package's API,
	// for example "add Bucket(name)".
	Fix string
	// Warning marks a problem that does not make S3 reject the policy.
	Warning bool
}

// Error returns "postpolicy: <field>: <detail>; <fix> (rule <rule>)", with
// "warning: " before the field for warnings and without the fix when
// there is none.
func (p Problem) Error() string {
	s := "postpolicy: "
	if p.Warning {
		s += "warning: "
	}
	if p.Field != "" {
		s += p.Field + ": "
	}
	s += p.Detail
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s + " (rule " + string(p.Rule) + ")"
}

// Problems returns the problems err holds: the Problem values in its tree
// of wrapped and joined errors ([errors.Join] joins those that
// [Policy.Validate], [Signer.Sign] and a [Template]'s methods return), in
// order; nil when it holds none.
func Problems(err error) []Problem {
	var out []Problem
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case Problem:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
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

// checkID names one check of the table.
type checkID uint8

// The checks. A Rule may be made of several checks (RuleFieldValue has one
// per field it knows), each with its own severity.
const (
	checkExpirationMissing checkID = iota
	checkExpirationYear
	checkExpirationPassed
	checkExpirationOverSevenDays
	checkInvalidCondition
	checkFieldName
	checkNameUTF8
	checkValueUTF8
	checkNotInPolicy
	checkSignerField
	checkFormValueLineBreak
	checkExactMatchOnly
	checkFilenameInCondition
	checkBucketName
	checkBucketNameReserved
	checkKeyEmpty
	checkKeyTooLong
	checkACL
	checkSuccessActionStatus
	checkRedirect
	checkStorageClass
	checkServerSideEncryption
	checkChecksumAlgorithm
	checkChecksumDigest
	checkRangeNegative
	checkRangeInverted
	checkRangeOverFiveGiB
	checkBucketMissing
	checkKeyMissing
	checkRangesDisjoint
	checkChecksumWithoutDigest
	checkFormValueTwice
	checkEqTwice
	checkFormValueFails
	checkPrefixAgainstEq
	checkPrefixesDisjoint
	checkConditionWithoutField
	checkPreFileSize
	checkPutStartsWith
	checkPutFormField
	checkPutRange
	checkPresignLifetime
	numChecks
)

// dependence says what a check looks at. A check on the shape looks only
// at the policy's structure: field names, operators, where values come
// from, which fields repeat. A check on values looks at the values too.
type dependence uint8

const (
	onShape dependence = iota + 1
	onValues
)

// checkDef is one check of the table.
type checkDef struct {
	rule    Rule
	warning bool
	on      dependence
	// off turns the check off. It is false in every check of the
	// package; the mutation tests set it, to show that every path runs
	// this table (TestMutationsReachEveryPath).
	off bool
	// fix is the Problem's Fix: how to fix it with this package's API.
	fix string
}

// checks is the rule table. Every problem the lint reports comes from
// report with one of these entries, which gives it its rule and severity.
var checks = [numChecks]checkDef{
	checkExpirationMissing:       {rule: RuleExpirationMissing, warning: false, on: onShape},
	checkExpirationYear:          {rule: RuleExpirationYear, warning: false, on: onValues},
	checkExpirationPassed:        {rule: RuleExpirationPassed, warning: false, on: onValues},
	checkExpirationOverSevenDays: {rule: RuleExpirationOverSevenDays, warning: true, on: onValues},
	checkInvalidCondition:        {rule: RuleInvalidCondition, warning: false, on: onShape, fix: "build conditions with Eq, StartsWith, ContentLengthRange or a field helper (the zero Condition is none)"},
	checkFieldName:               {rule: RuleFieldName, warning: false, on: onShape, fix: "write the field's name as the form sends it; a size limit is ContentLengthRange"},
	checkNameUTF8:                {rule: RuleInvalidUTF8, warning: false, on: onShape},
	checkValueUTF8:               {rule: RuleInvalidUTF8, warning: false, on: onValues},
	checkNotInPolicy:             {rule: RuleNotInPolicy, warning: false, on: onShape, fix: "remove the condition"},
	checkSignerField:             {rule: RuleSignerField, warning: false, on: onShape, fix: "remove the condition"},
	checkFormValueLineBreak:      {rule: RuleFieldValue, warning: true, on: onValues},
	checkExactMatchOnly:          {rule: RuleExactMatchOnly, warning: false, on: onShape},
	checkFilenameInCondition:     {rule: RuleFilenameInCondition, warning: false, on: onValues, fix: "put a starts-with on the text before ${filename} in the policy and ${filename} in the form value (Key does this)"},
	checkBucketName:              {rule: RuleBucketName, warning: false, on: onValues},
	checkBucketNameReserved:      {rule: RuleBucketName, warning: true, on: onValues},
	checkKeyEmpty:                {rule: RuleKeyMissing, warning: false, on: onValues},
	checkKeyTooLong:              {rule: RuleKeyTooLong, warning: false, on: onValues},
	checkACL:                     {rule: RuleFieldValue, warning: false, on: onValues},
	checkSuccessActionStatus:     {rule: RuleFieldValue, warning: true, on: onValues},
	checkRedirect:                {rule: RuleFieldValue, warning: true, on: onValues},
	checkStorageClass:            {rule: RuleFieldValue, warning: true, on: onValues},
	checkServerSideEncryption:    {rule: RuleFieldValue, warning: false, on: onValues},
	checkChecksumAlgorithm:       {rule: RuleFieldValue, warning: true, on: onValues},
	checkChecksumDigest:          {rule: RuleFieldValue, warning: false, on: onValues},
	checkRangeNegative:           {rule: RuleRangeNegative, warning: false, on: onValues},
	checkRangeInverted:           {rule: RuleRangeInverted, warning: false, on: onValues},
	checkRangeOverFiveGiB:        {rule: RuleRangeOverFiveGiB, warning: true, on: onValues},
	checkBucketMissing:           {rule: RuleBucketMissing, warning: false, on: onShape, fix: "add Bucket(name)"},
	checkKeyMissing:              {rule: RuleKeyMissing, warning: false, on: onShape, fix: "add Key, KeyPrefix or StartsWith(\"key\", …)"},
	checkRangesDisjoint:          {rule: RuleRangeInverted, warning: false, on: onValues},
	checkChecksumWithoutDigest:   {rule: RuleFieldValue, warning: false, on: onValues, fix: "use Checksum(algorithm, digest), which adds both"},
	checkFormValueTwice:          {rule: RuleConflict, warning: false, on: onValues},
	checkEqTwice:                 {rule: RuleConflict, warning: false, on: onValues},
	checkFormValueFails:          {rule: RuleConflict, warning: false, on: onValues},
	checkPrefixAgainstEq:         {rule: RuleConflict, warning: false, on: onValues},
	checkPrefixesDisjoint:        {rule: RuleConflict, warning: false, on: onValues},
	checkConditionWithoutField:   {rule: RuleConditionWithoutField, warning: false, on: onShape, fix: "give the condition a form value (WithFormValue) or mark it FromPage"},
	checkPreFileSize:             {rule: RulePreFileSize, warning: false, on: onValues},
	checkPutStartsWith:           {rule: RulePresignedPut, warning: false, on: onShape, fix: "sign the exact value, for example Key(the object's key); a prefix needs a POST form"},
	checkPutFormField:            {rule: RulePresignedPut, warning: false, on: onShape, fix: "remove the condition; it belongs to POST forms"},
	checkPutRange:                {rule: RulePresignedPut, warning: false, on: onValues, fix: "sign the file's exact size, ContentLengthRange(n, n); a range needs a POST form"},
	checkPresignLifetime:         {rule: RuleExpirationOverSevenDays, warning: false, on: onValues},
}

// Validate reports every reason S3 would reject p if it were signed at
// signingTime, or could never accept an upload made with it, as one error
// that matches [ErrInvalidPolicy]; nil when there is none. Each reason is a
// [Problem] naming the field and the [Rule]. Warnings are left out; use
// [Policy.Lint] to see them too. A zero signingTime skips the checks that
// depend on it.
//
// The checks, with the rules they follow, are listed with the [Rule]
// constants: among them, a missing or passed expiration, starts-with on a
// field that allows only an exact match, ${filename} in a condition, a bad
// content-length-range, a missing or malformed bucket, a missing key
// condition, conflicting conditions, and a condition on a field that nothing
// will send. [Signer.Sign] runs the same checks, plus the one that needs the
// whole signed form (its size before the file).
func (p Policy) Validate(signingTime time.Time) error {
	return joinProblems(p.Lint(signingTime))
}

// Lint returns every problem of p, signed at signingTime, including the
// warnings [Policy.Validate] leaves out, in the order of the conditions they
// concern. It returns nil for a policy with no problem.
func (p Policy) Lint(signingTime time.Time) []Problem {
	var l linter
	l.policy(p.Expiration, p.Conditions, signingTime)
	return l.problems
}

// LintForm lints a signed policy, such as one read back with
// [DecodePolicy], against the fields a browser will send before the file:
// each condition's field counts as sent with its value from fields, so the
// lint reports conditions on fields missing from fields
// ([RuleConditionWithoutField]), values that fail their conditions
// ([RuleConflict]) and fields no condition covers
// ([RuleFieldWithoutCondition]), besides every rule of [Policy.Lint]. The
// conditions a Signer adds (x-amz-algorithm, x-amz-credential, x-amz-date,
// x-amz-security-token) are expected here rather than reported. at is the
// time to check the expiration against; zero skips it.
func (p Policy) LintForm(at time.Time, fields []Field) []Problem {
	conds := make([]Condition, len(p.Conditions))
	for i, c := range p.Conditions {
		c.source, c.formValue = SourceNone, ""
		if v, ok := Fields(fields).Get(c.field); ok && (c.op == OpEq || c.op == OpStartsWith) {
			c.source, c.formValue = SourceForm, v
		}
		conds[i] = c
	}
	var l linter
	l.policy(p.Expiration, conds, at)
	var out []Problem
	for _, pr := range l.problems {
		if pr.Rule != RuleSignerField {
			out = append(out, pr)
		}
	}
	for _, f := range fields {
		if postform.Exempt(f.Name) || hasField(p.Conditions, f.Name) {
			continue
		}
		out = append(out, Problem{Field: f.Name, Rule: RuleFieldWithoutCondition,
			Detail: "no condition covers " + f.Name + "; S3 would answer \"Invalid according to Policy: Extra input fields: " + strings.ToLower(f.Name) + "\""})
	}
	return out
}

const (
	maxPolicyLifetime = 7 * 24 * time.Hour
	maxObjectSize     = 5 << 30 // 5 GiB
	maxKeyLength      = 1024
	// MaxPreFileSize is the most form data, boundaries included, that S3
	// accepts before the file ("cannot exceed 20 KB"; S3 reports
	// MaxPostPreDataLengthBytes 20480).
	MaxPreFileSize = 20 << 10
)

// linter collects problems. Its methods allocate only when they find one.
type linter struct {
	problems []Problem
	// shared records that some field has several conditions.
	shared bool
	// put lints a policy for a presigned PUT (or GET): its conditions
	// become signed headers, there is no form, and the URL lives at most
	// 7 days.
	put bool
}

// report adds a problem of check id, unless the check is off, and says
// whether it did.
func (l *linter) report(id checkID, field, format string, args ...any) bool {
	d := &checks[id]
	if d.off {
		return false
	}
	l.problems = append(l.problems, Problem{Field: field, Rule: d.rule, Detail: fmt.Sprintf(format, args...), Fix: d.fix, Warning: d.warning})
	return true
}

// hasErrors reports whether the linter found a problem that is not a
// warning.
func (l *linter) hasErrors() bool {
	for _, p := range l.problems {
		if !p.Warning {
			return true
		}
	}
	return false
}

// policy runs every check on a policy.
func (l *linter) policy(exp time.Time, conds []Condition, at time.Time) {
	var factBuf [16]condFacts
	l.policyFacts(factBuf[:0], exp, conds, at)
}

// policyFacts runs every check on a policy and returns the facts of its
// conditions appended to facts.
func (l *linter) policyFacts(facts []condFacts, exp time.Time, conds []Condition, at time.Time) []condFacts {
	l.expiration(exp, at)
	facts = l.conditions(facts, conds, 0)
	l.crossChecks(conds, facts)
	return facts
}

// The expirations a policy can write: from year 0000 to year 9999, in UTC.
var (
	minExpiration = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxExpiration = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (l *linter) expiration(exp, at time.Time) {
	if exp.IsZero() {
		l.report(checkExpirationMissing, "expiration", "the policy has no expiration; every POST policy must have one")
		return
	}
	if (exp.Before(minExpiration) || !exp.Before(maxExpiration)) &&
		l.report(checkExpirationYear, "expiration", "expiration %s is outside the years 0000 to 9999 that a policy can write", exp.UTC().Format(ExpirationLayout)) {
		return
	}
	if at.IsZero() {
		return
	}
	written := exp.Truncate(time.Millisecond)
	if l.put {
		// A presigned URL's expiry counts whole seconds from x-amz-date,
		// which is the signing time to the second.
		at = at.Truncate(time.Second).Add(time.Second - time.Millisecond)
	}
	if !written.After(at) &&
		l.report(checkExpirationPassed, "expiration", "expiration %s is not after the signing time %s; S3 would answer \"Invalid according to Policy: Policy expired.\"",
			exp.UTC().Format(ExpirationLayout), at.UTC().Format(ExpirationLayout)) {
		return
	}
	if d := written.Sub(at); d > maxPolicyLifetime {
		if l.put {
			l.report(checkPresignLifetime, "expiration", "expiration is %s after the signing time; a presigned URL lives at most 7 days (X-Amz-Expires at most 604800, \"Authenticating Requests: Using Query Parameters\")", d.Round(time.Second))
			return
		}
		l.report(checkExpirationOverSevenDays, "expiration", "expiration is %s after the signing time, more than the 7 days SigV4 allows presigned requests; S3 may refuse it, and a long-lived form is a long-lived credential", d.Round(time.Second))
	}
}

// condFacts is what checking a condition on its own learns that the
// checks of several conditions (crossChecks) use again: facts about the
// condition's text, never a verdict, so that they are the same whatever
// the rule table says.
type condFacts struct {
	hash uint64 // foldHash of the field
	// formVar is the index of ${filename} in the form value (SourceForm),
	// -1 when it holds none.
	formVar int32
	// kind is the field's kind for an eq or starts-with condition.
	kind fieldKind
	// valueVar: the value holds ${filename}.
	valueVar bool
	// json says which of the field, the value and the form value JSON
	// writes as they are (nameJSON, valueJSON, formJSON).
	json uint8
}

// The bits of condFacts.json.
const (
	nameJSON uint8 = 1 << iota
	valueJSON
	formJSON
)

// conditions checks each condition on its own, and appends to facts what
// crossChecks needs of each; conds follow from others in the policy, for
// messages.
func (l *linter) conditions(facts []condFacts, conds []Condition, from int) []condFacts {
	for i := range conds {
		facts = append(facts, l.condition(from+i, &conds[i]))
	}
	return facts
}

// emptyHash is the foldHash of "", the field of content-length-range.
var emptyHash = foldHash("")

// condition checks one condition on its own and returns its facts; i is
// its index, for messages.
func (l *linter) condition(i int, c *Condition) condFacts {
	switch c.op {
	case OpContentLengthRange:
		l.contentLengthRange(c)
		return condFacts{hash: emptyHash, formVar: -1}
	case OpEq, OpStartsWith:
	default:
		l.report(checkInvalidCondition, "", "condition %d is not a valid condition: it has no operator", i)
		return condFacts{hash: foldHash(c.field), formVar: -1}
	}
	// The facts first: they must not depend on which problems are found.
	// Most values are plain: ASCII without '$', CR or LF. They are valid
	// UTF-8, hold no ${filename} and no line break, which spares those
	// scans.
	f := c.field
	hash, kind, nameAsIs, stop := l.fieldName(f)
	plain, valueAsIs := scanValue(c.value)
	form := c.source == SourceForm
	formPlain, formAsIs := true, false
	if form {
		formPlain, formAsIs = plain, valueAsIs
		if c.formValue != c.value {
			formPlain, formAsIs = scanValue(c.formValue)
		}
	}
	facts := condFacts{hash: hash, kind: kind, formVar: -1}
	if nameAsIs {
		facts.json |= nameJSON
	}
	if valueAsIs {
		facts.json |= valueJSON
	}
	if formAsIs {
		facts.json |= formJSON
	}
	if !plain {
		facts.valueVar = postform.IndexFilenameVar(c.value) >= 0
	}
	// A form value that is not plain: whether it is ASCII (so valid
	// UTF-8) and holds a line break, in one scan.
	var formASCII, formBreak bool
	if !formPlain {
		facts.formVar = int32(postform.IndexFilenameVar(c.formValue))
		formASCII, formBreak = scanText(c.formValue)
	}
	if stop {
		return facts
	}
	if (!plain && !utf8.ValidString(c.value) || !formPlain && !formASCII && c.formValue != c.value && !utf8.ValidString(c.formValue)) &&
		l.report(checkValueUTF8, f, "the value of %s is not valid UTF-8; the policy is a UTF-8 document", *c) {
		return facts
	}
	switch kind {
	case kindNotInPolicy:
		if l.report(checkNotInPolicy, f, "%s is never checked against the policy", f) {
			return facts
		}
	case kindSignerField:
		if l.report(checkSignerField, f, "the signer adds %s and its condition", f) {
			return facts
		}
	}
	switch {
	case l.put && (kind == kindSuccessActionStatus || kind == kindRedirect || postform.HasPrefixFold(f, "x-ignore-")):
		l.report(checkPutFormField, f, "%s is a field of POST forms; a PUT has no header for it", f)
	case l.put && c.op == OpStartsWith:
		l.report(checkPutStartsWith, f, "a presigned PUT signs exact header values; %s is a prefix", *c)
	case l.put:
	case !formPlain && formBreak:
		l.report(checkFormValueLineBreak, f, "the form value of %s holds a line break; browsers may send it as CR LF, and the field would then fail its condition", f)
	}
	if !l.put && c.op == OpStartsWith && (kind == kindBucket || kind == kindSuccessActionStatus || !postform.StartsWithAllowed(f)) {
		l.report(checkExactMatchOnly, f, "%s allows only an exact match, not %s; S3 would reject the condition", f, *c)
	}
	if facts.valueVar {
		l.report(checkFilenameInCondition, f, "%s contains ${filename}, which S3 replaces with the file's name before checking, so the condition cannot match", *c)
	}
	if c.op == OpEq && kind != kindOther {
		l.knownField(c, kind)
	} else if kind == kindKey && len(c.value) > maxKeyLength {
		l.report(checkKeyTooLong, f, "the key prefix is %d bytes long, so every key it allows is longer than S3's %d bytes (KeyTooLongError)", len(c.value), maxKeyLength)
	}
	return facts
}

// plainValue reports whether s is ASCII and holds no '$', CR or LF.
func plainValue(s string) bool {
	plain, _ := scanValue(s)
	return plain
}

// scanValue reports whether s is plain, ASCII without '$', CR or LF, and
// whether JSON writes it as it is (jsonPlain), in one pass, eight bytes at
// a time (see plain8 in json.go for the bit tricks).
func scanValue(s string) (plain, asIs bool) {
	if len(s) < 8 {
		var m uint8
		for i := 0; i < len(s); i++ {
			m |= valueClass[s[i]]
		}
		return m&notPlain == 0, m&notAsIs == 0
	}
	var np, nj uint64
	for i := 0; len(s)-i > 8; i += 8 {
		p, j := valueWord(load8(s[i:]))
		np, nj = np|p, nj|j
	}
	p, j := valueWord(load8(s[len(s)-8:]))
	return (np|p)&highs == 0, (nj|j)&highs == 0
}

// valueWord returns, in the high bit of a byte, whether a byte of v is not
// plain and whether one is not written in JSON as it is (the bits of
// bytes above one that is set may be set too).
func valueWord(v uint64) (notPlainBits, notAsIsBits uint64) {
	dollar, cr, lf := v^(ones*'$'), v^(ones*'\r'), v^(ones*'\n')
	quote, backslash := v^(ones*'"'), v^(ones*'\\')
	notPlainBits = v | (dollar-ones)&^dollar | (cr-ones)&^cr | (lf-ones)&^lf
	notAsIsBits = v | (v - ones*0x20) | (quote-ones)&^quote | (backslash-ones)&^backslash
	return notPlainBits, notAsIsBits
}

// The bits of valueClass.
const (
	notPlain uint8 = 1 << iota
	notAsIs
)

// valueClass[c] says whether the byte c is not plain and whether JSON
// escapes it, for scanValue's short strings.
var valueClass = func() (t [256]uint8) {
	for c := range t {
		if c >= utf8.RuneSelf || c == '$' || c == '\r' || c == '\n' {
			t[c] |= notPlain
		}
		if !plainJSON[c] {
			t[c] |= notAsIs
		}
	}
	return t
}()

// scanText reports whether s is all ASCII and whether it holds a CR or an
// LF, eight bytes at a time.
func scanText(s string) (ascii, lineBreak bool) {
	var all, breaks uint64
	for ; len(s) >= 8; s = s[8:] {
		v := load8(s)
		cr, lf := v^(ones*'\r'), v^(ones*'\n')
		all |= v
		breaks |= (cr-ones)&^cr | (lf-ones)&^lf
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		all |= uint64(c)
		if c == '\r' || c == '\n' {
			breaks = highs
		}
	}
	return all&highs == 0, breaks&highs != 0
}

// fieldName checks a condition's field name and returns its foldHash,
// its kind, whether JSON writes it as it is, and whether the other checks
// of the condition stop there.
func (l *linter) fieldName(f string) (hash uint64, kind fieldKind, asIs, stop bool) {
	switch {
	case f == "":
		return emptyHash, kindOther, true, l.report(checkFieldName, "", "a condition has an empty field name")
	case f[0] == '$':
		if l.report(checkFieldName, f, "field name %q starts with \"$\"; write it without, the policy adds it", f) {
			return foldHash(f), kindOther, false, true
		}
	}
	hash, bad, ascii := nameHash(f)
	if bad {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c < 0x21 || c == 0x7f || c == '"' || c == '\\' {
				if l.report(checkFieldName, f, "field name %q holds a character (%q) that a multipart form field name cannot carry", f, c) {
					return hash, kindOther, false, true
				}
				break
			}
		}
	}
	// Printable ASCII without '"' or '\\' needs no escaping.
	asIs = ascii && !bad
	kind = kindOf(hash, f)
	switch {
	case !ascii && !utf8.ValidString(f):
		if l.report(checkNameUTF8, f, "field name %q is not valid UTF-8", f) {
			return hash, kindOther, false, true
		}
	case kind == kindContentLengthRange:
		if l.report(checkFieldName, f, "content-length-range is not a form field but a condition of its own") {
			return hash, kindOther, asIs, true
		}
	}
	return hash, kind, asIs, false
}

// nameHash returns foldHash(f), and reports whether the field name f
// holds a byte a multipart form field name cannot carry (a control
// character, a space, DEL, '"' or '\\') and whether it is all ASCII, in
// one pass over f, eight bytes at a time.
func nameHash(f string) (hash uint64, bad, ascii bool) {
	hash = (fnvOffset ^ uint64(len(f))) * fnvPrime
	var all uint64
	s := f
	for ; len(s) >= 8; s = s[8:] {
		w := load8(s)
		bad = bad || badName8(w)
		all |= w
		hash = (hash ^ foldWord(w)) * fnvPrime
	}
	if r := len(s); r > 0 {
		var w uint64
		if len(f) >= 8 {
			w = load8(f[len(f)-8:]) >> (8 * (8 - r)) // the last r bytes
		} else {
			w = loadPadded(s, 0)
		}
		beyond := ^uint64(0) << (8 * r)
		bad = bad || badName8(w|ones*'a'&beyond)
		all |= w
		hash = (hash ^ foldWord(w)) * fnvPrime
	}
	return hash ^ hash>>32, bad, all&highs == 0
}

// badName8 reports whether one of the bytes of v is below 0x21, DEL, '"'
// or '\\' (the bit tricks of plain8 in json.go; bytes from 0x80 up are
// none of them).
func badName8(v uint64) bool {
	del, quote, backslash := v^(ones*0x7f), v^(ones*'"'), v^(ones*'\\')
	return ((v-ones*0x21)|(del-ones)&^del|(quote-ones)&^quote|(backslash-ones)&^backslash)&^v&highs != 0
}

// fieldKind sorts the field names whose conditions have checks of their
// own.
type fieldKind uint8

const (
	kindOther fieldKind = iota
	kindBucket
	kindKey
	kindACL
	kindSuccessActionStatus
	kindRedirect
	kindStorageClass
	kindServerSideEncryption
	kindChecksumAlgorithm
	kindChecksumDigest
	kindNotInPolicy
	kindSignerField
	kindContentLengthRange
)

// kindNames are the field names of each kind, in lower case.
var kindNames = map[fieldKind][]string{
	kindBucket:               {"bucket"},
	kindKey:                  {"key"},
	kindACL:                  {"acl"},
	kindSuccessActionStatus:  {"success_action_status"},
	kindRedirect:             {"success_action_redirect", "redirect"},
	kindStorageClass:         {"x-amz-storage-class"},
	kindServerSideEncryption: {"x-amz-server-side-encryption"},
	kindChecksumAlgorithm:    {"x-amz-checksum-algorithm"},
	kindChecksumDigest:       {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256"},
	kindNotInPolicy:          {"policy", "x-amz-signature", "file"},
	kindSignerField:          {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token"},
	kindContentLengthRange:   {"content-length-range"},
}

// kindTable finds a name's kind from its foldHash: an open-addressing
// table, each hit confirmed by comparing the names.
var kindTable = func() (t [64]struct {
	hash uint64
	name string
	kind fieldKind
}) {
	for kind, names := range kindNames {
		for _, n := range names {
			h := foldHash(n)
			i := h % uint64(len(t))
			for t[i].name != "" {
				i = (i + 1) % uint64(len(t))
			}
			t[i].hash, t[i].name, t[i].kind = h, n, kind
		}
	}
	return t
}()

// kindOf returns the kind of field f, whose foldHash is hash.
func kindOf(hash uint64, f string) fieldKind {
	for i := hash % uint64(len(kindTable)); kindTable[i].name != ""; i = (i + 1) % uint64(len(kindTable)) {
		if e := &kindTable[i]; e.hash == hash && postform.EqualFold(e.name, f) {
			return e.kind
		}
	}
	return kindOther
}

func (l *linter) contentLengthRange(c *Condition) {
	switch {
	case l.put && c.min != c.max && c.min >= 0:
		l.report(checkPutRange, "content-length-range", "a presigned PUT signs one Content-Length; %s is a range", *c)
	case c.min < 0 || c.max < 0:
		l.report(checkRangeNegative, "content-length-range", "%s has a negative bound; S3 would answer 400 InvalidPolicyDocument", *c)
	case c.min > c.max:
		l.report(checkRangeInverted, "content-length-range", "%s has min > max; no file can satisfy it", *c)
	case c.max > maxObjectSize:
		l.report(checkRangeOverFiveGiB, "content-length-range", "%s allows more than 5 GiB, which S3 never stores from one request", *c)
	}
}

var cannedACLs = []string{"private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"}

var storageClasses = []string{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS"}

// knownField checks the value of an exact match on a field whose values S3
// restricts; kind is the field's.
func (l *linter) knownField(c *Condition, kind fieldKind) {
	f, v := c.field, c.value
	switch kind {
	case kindBucket:
		if reason := bucketNameProblem(v); reason != "" {
			l.report(checkBucketName, f, "bucket name %q %s", v, reason)
		} else if suffix := reservedSuffix(v); suffix != "" {
			l.report(checkBucketNameReserved, f, "bucket name %q ends with %q, which S3 reserves for access point aliases, Multi-Region Access Points and table buckets; a general purpose bucket cannot have it", v, suffix)
		}
	case kindKey:
		if v == "" {
			l.report(checkKeyEmpty, f, "the key is empty; S3 answers \"Bucket POST must contain a field named 'key'\"")
		} else if len(v) > maxKeyLength {
			l.report(checkKeyTooLong, f, "the key is %d bytes long; S3 keys are at most %d bytes (KeyTooLongError)", len(v), maxKeyLength)
		}
	case kindACL:
		if !contains(cannedACLs, v) {
			l.report(checkACL, f, "%q is not a canned ACL S3 knows (%s)", v, strings.Join(cannedACLs, ", "))
		}
	case kindSuccessActionStatus:
		if v != "200" && v != "201" && v != "204" {
			l.report(checkSuccessActionStatus, f, "S3 ignores success_action_status %q and answers 204; use 200, 201 or 204", v)
		}
	case kindRedirect:
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.report(checkRedirect, f, "%q is not an absolute http(s) URL; S3 ignores such a redirect and answers with success_action_status instead", v)
		}
	case kindStorageClass:
		if !contains(storageClasses, v) {
			l.report(checkStorageClass, f, "%q is not an S3 storage class (%s); S3 would reject it, though S3-compatible stores may have their own", v, strings.Join(storageClasses, ", "))
		}
	case kindServerSideEncryption:
		if !knownSSE(v) {
			l.report(checkServerSideEncryption, f, "%q is not a server-side encryption S3 knows (AES256, aws:kms, aws:kms:dsse)", v)
		}
	case kindChecksumAlgorithm:
		if ChecksumAlgorithm(v).DigestSize() == 0 {
			l.report(checkChecksumAlgorithm, f, "%q is not a checksum algorithm S3 knows (CRC32, CRC32C, CRC64NVME, SHA1, SHA256); S3 would refuse the upload, though S3-compatible stores may know others", v)
		}
	case kindChecksumDigest:
		alg := ChecksumAlgorithm(strings.ToUpper(f[len("x-amz-checksum-"):]))
		size := alg.DigestSize()
		if n, ok := decodedLen(v); !ok || n != size {
			l.report(checkChecksumDigest, f, "%q is not the base64 of a %d-byte %s digest", v, size, alg)
		}
	}
}

// decodedLen returns the length of the standard base64 (with padding) v
// decodes to, and whether it is such base64; digests are short, and a
// longer v is reported as not a digest without decoding it.
func decodedLen(v string) (int, bool) {
	var d [64]byte
	if len(v) > base64.StdEncoding.EncodedLen(len(d)) {
		return 0, false
	}
	n, err := base64.StdEncoding.Decode(d[:], []byte(v))
	return n, err == nil
}

// knownSSE reports whether v is a server-side encryption S3 knows.
func knownSSE(v string) bool { return v == "AES256" || v == "aws:kms" || v == "aws:kms:dsse" }

// crossChecks checks what depends on several conditions: the bucket and key
// requirements, conflicts between conditions on one field, form values
// against the conditions on their field, and fields nothing sends. facts
// are the conditions' (as conditions records them).
func (l *linter) crossChecks(conds []Condition, facts []condFacts) {
	var groupBuf [16]int32
	group := groupByField(groupBuf[:0], conds, facts)
	var bucket, key, checksumAlg int
	minLen, maxLen, ranges := int64(0), int64(math.MaxInt64), 0
	for i := range conds {
		c := &conds[i]
		switch c.op {
		case OpContentLengthRange:
			ranges++
			minLen, maxLen = max(minLen, c.min), min(maxLen, c.max)
			continue
		case OpEq, OpStartsWith:
		default:
			continue
		}
		switch facts[i].kind {
		case kindBucket:
			if c.op == OpEq {
				bucket++
			}
		case kindKey:
			key++
		case kindChecksumAlgorithm:
			if c.op == OpEq {
				checksumAlg = i + 1
			}
		}
		if int(group[i]) == i {
			l.field(conds, facts, group, i)
		}
	}
	if bucket == 0 {
		l.report(checkBucketMissing, "bucket", "the policy has no exact-match bucket condition: the form's URL names the bucket from it, and S3-compatible servers answer \"Extra input fields: bucket\" without it")
	}
	if key == 0 {
		l.report(checkKeyMissing, "key", "the policy has no condition on key; S3 requires a key field and a condition for it")
	}
	if ranges > 1 && minLen > maxLen {
		l.report(checkRangesDisjoint, "content-length-range", "the content-length-range conditions do not overlap; no file can satisfy them all")
	}
	if checksumAlg > 0 {
		alg := ChecksumAlgorithm(conds[checksumAlg-1].value)
		if alg.DigestSize() > 0 && !hasField(conds, alg.Field()) {
			l.report(checkChecksumWithoutDigest, alg.Field(), "x-amz-checksum-algorithm %s needs a condition on %s with the digest; S3 rejects the algorithm without it", alg, alg.Field())
		}
	}
}

// groupByField appends to group, for each eq or starts-with condition, the
// index of the first such condition on the same field (names compared
// case-insensitively), and -1 for the others. facts hold the foldHash of
// the conditions' names: names are compared through them first, so a
// policy of n conditions costs about n string comparisons, not n².
func groupByField(group []int32, conds []Condition, facts []condFacts) []int32 {
	for i := range conds {
		c := &conds[i]
		g := int32(-1)
		if c.op == OpEq || c.op == OpStartsWith {
			g = int32(i)
			h := facts[i].hash
			for j := range i {
				if facts[j].hash == h && int(group[j]) == j && postform.EqualFold(conds[j].field, c.field) {
					g = int32(j)
					break
				}
			}
		}
		group = append(group, g)
	}
	return group
}

// The FNV-1a constants.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// foldHash hashes s with its ASCII letters in lower case, so that names
// that compare equal ignoring ASCII case hash alike: FNV-1a over 8-byte
// words (the last one padded with zeros), seeded with the length
// (nameHash).
func foldHash(s string) uint64 {
	h, _, _ := nameHash(s)
	return h
}

// foldWord returns v with its ASCII upper-case letters in lower case.
func foldWord(v uint64) uint64 {
	x := v &^ highs
	ge := x + ones*(0x80-'A')   // high bit set where x >= 'A'
	gt := x + ones*(0x80-'Z'-1) // high bit set where x > 'Z'
	upper := ge &^ gt &^ v & highs
	return v | upper>>2
}

func hasField(conds []Condition, field string) bool {
	for _, c := range conds {
		if (c.op == OpEq || c.op == OpStartsWith) && postform.EqualFold(c.field, field) {
			return true
		}
	}
	return false
}

// field checks the conditions on the field of conds[first] together: those
// whose group is first.
func (l *linter) field(conds []Condition, facts []condFacts, group []int32, first int) {
	if l.put {
		l.headerField(conds, group, first)
		return
	}
	if l.single(conds, facts, group, first) {
		return
	}
	name := conds[first].field
	var formValue, eqValue string
	var hasForm, hasEq, sent bool
	for j := first; j < len(conds); j++ {
		if int(group[j]) != first {
			continue
		}
		c := &conds[j]
		switch c.source {
		case SourceForm:
			if hasForm && c.formValue != formValue &&
				l.report(checkFormValueTwice, name, "the form would carry %s twice, as %q and as %q", name, formValue, c.formValue) {
				return
			}
			formValue, hasForm, sent = c.formValue, true, true
		case SourcePage:
			sent = true
		}
		if c.op == OpEq {
			if hasEq && c.value != eqValue &&
				l.report(checkEqTwice, name, "%s must equal both %q and %q; no value can", name, eqValue, c.value) {
				return
			}
			eqValue, hasEq = c.value, true
		}
	}
	for j := first; j < len(conds); j++ {
		if int(group[j]) != first {
			continue
		}
		c := &conds[j]
		switch {
		case postform.IndexFilenameVar(c.value) >= 0:
			// reported by RuleFilenameInCondition
		case hasForm && !formValueSatisfies(c, formValue):
			l.report(checkFormValueFails, name, "the form value %q does not satisfy %s", formValue, *c)
		case !hasForm && hasEq && c.op == OpStartsWith && !postform.StartsWith(c.field, eqValue, c.value):
			l.report(checkPrefixAgainstEq, name, "no value can satisfy both %s and the exact match %q", *c, eqValue)
		}
	}
	if !hasForm && !hasEq {
		// Only starts-with conditions: a value can begin with all the
		// prefixes only when each is a prefix of the longest.
		longest := &conds[first]
		for j := first; j < len(conds); j++ {
			if int(group[j]) == first && len(conds[j].value) > len(longest.value) {
				longest = &conds[j]
			}
		}
		for j := first; j < len(conds); j++ {
			if c := &conds[j]; int(group[j]) == first && !strings.HasPrefix(longest.value, c.value) {
				l.report(checkPrefixesDisjoint, name, "no value can satisfy both %s and %s", *c, *longest)
				break
			}
		}
	}
	if !sent && !postform.EqualFold(name, "bucket") {
		l.conditionWithoutField(name, conds[first])
	}
}

// single checks the field of conds[first] when no other condition is on it,
// the common case, and reports whether it did.
func (l *linter) single(conds []Condition, facts []condFacts, group []int32, first int) bool {
	for j := first + 1; j < len(conds); j++ {
		if int(group[j]) == first {
			l.shared = true
			return false
		}
	}
	c, fc := &conds[first], &facts[first]
	switch c.source {
	case SourceForm:
		if !fc.valueVar && !formValueSatisfiesAt(c, c.formValue, int(fc.formVar)) {
			l.report(checkFormValueFails, c.field, "the form value %q does not satisfy %s", c.formValue, *c)
		}
	case SourceNone:
		if fc.kind != kindBucket {
			l.conditionWithoutField(c.field, *c)
		}
	}
	return true
}

// headerField checks, for a presigned PUT, the conditions on the field of
// conds[first] together: each exact match becomes a signed header, so two
// of them must agree.
func (l *linter) headerField(conds []Condition, group []int32, first int) {
	name, eq := conds[first].field, -1
	for j := first; j < len(conds); j++ {
		if c := &conds[j]; int(group[j]) == first && c.op == OpEq {
			if j != first {
				l.shared = true
			}
			if eq >= 0 && c.value != conds[eq].value &&
				l.report(checkEqTwice, name, "%s must equal both %q and %q; no value can", name, conds[eq].value, c.value) {
				return
			}
			eq = j
		}
	}
}

func (l *linter) conditionWithoutField(name string, c Condition) {
	l.report(checkConditionWithoutField, name, "neither the form nor the page sends %s, so S3 would answer \"Invalid according to Policy: Policy Condition failed: %s\"", name, c)
}

// formValueSatisfies reports whether the form value v meets c whatever the
// uploaded file is called: S3 replaces ${filename} in v before checking, so
// only the text before the first ${filename} is known in advance.
func formValueSatisfies(c *Condition, v string) bool {
	return formValueSatisfiesAt(c, v, postform.IndexFilenameVar(v))
}

// formValueSatisfiesAt is formValueSatisfies with i the index of the first
// ${filename} in v, -1 for none.
func formValueSatisfiesAt(c *Condition, v string, i int) bool {
	switch c.op {
	case OpEq:
		return i < 0 && v == c.value
	case OpStartsWith:
		if i >= 0 {
			return strings.HasPrefix(v[:i], c.value)
		}
		return postform.StartsWith(c.field, v, c.value)
	}
	return true
}

// bucketNameProblem returns why name breaks S3's general purpose bucket
// naming rules, or "" when it does not.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func bucketNameProblem(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "must be 3 to 63 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return "may hold only lower-case letters, digits, '.' and '-'"
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return "must start and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "must not contain two adjacent periods"
	}
	if looksNumeric(name) && isIPAddress(name) {
		return "must not be formatted as an IP address"
	}
	// The reserved prefixes all begin with one of a few letters; most
	// names are spared the comparisons.
	if c := name[0]; c == 'x' || c == 's' || c == 'a' {
		for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
			if strings.HasPrefix(name, p) {
				return "must not start with the reserved prefix " + strconv.Quote(p)
			}
		}
	}
	if strings.HasSuffix(name, "--x-s3") && !directoryBucketName(name) {
		return "ends with --x-s3, the suffix of S3 Express One Zone directory buckets, but is not BASE--ZONE-ID--x-s3 (for example photos--usw2-az1--x-s3)"
	}
	return ""
}

// reservedSuffix returns the suffix S3 reserves for names of other things
// than general purpose buckets (access point aliases, Object Lambda access
// point aliases, Multi-Region Access Points, table buckets) that name
// ends with, or "".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func reservedSuffix(name string) string {
	if c := name[len(name)-1]; c == 's' || c == '3' || c == 'p' {
		for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--table-s3"} {
			if strings.HasSuffix(name, s) {
				return s
			}
		}
	}
	return ""
}

// directoryBucketName reports whether name has the form of an S3 Express
// One Zone directory bucket's name, BASE--ZONE-ID--x-s3, where the zone id
// is an Availability Zone or Local Zone id such as usw2-az1 or
// usw2-lax1-az1, and there is no '.' ("Directory bucket naming rules",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/directory-bucket-naming-rules.html).
func directoryBucketName(name string) bool {
	rest := strings.TrimSuffix(name, "--x-s3")
	i := strings.LastIndex(rest, "--")
	if i <= 0 || strings.Contains(name, ".") {
		return false
	}
	zone := rest[i+2:]
	j := strings.LastIndex(zone, "-az")
	if j <= 0 || j+3 == len(zone) {
		return false
	}
	for k := 0; k < len(zone); k++ {
		if c := zone[k]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	for _, c := range zone[j+3:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// looksNumeric reports whether s holds only digits, dots and colons, the
// only names that can be IP addresses in a valid bucket name's alphabet.
func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func isIPAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
