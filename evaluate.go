package postpolicy

import (
	"strings"
	"time"
)

// Evaluate checks an upload against p as a [Verifier] does once the
// signature has passed: the expiration at now, ${filename} replaced by
// filename in the fields, every condition (bucket is the bucket posted to),
// the coverage rule, and, when size is not negative, content-length-range
// on a file of size bytes. It returns the [S3Error] S3 would answer, or
// nil. It checks neither the signature nor the authentication fields; it is
// for explaining and debugging policies (the inspect command uses it) and
// for tests. fields are the fields the browser sends before the file, in
// order.
func (p Policy) Evaluate(now time.Time, bucket string, fields []Field, filename string, size int64) error {
	if !now.Before(p.Expiration) {
		return policyFailed("Policy expired.")
	}
	expanded := expandFilename(fields, filename)
	lo, hi := int64(0), int64(maxInt64)
	if err := checkConditions(p.Conditions, bucket, expanded, &lo, &hi); err != nil {
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
		if v, ok := fieldValue(fields, c.field); ok && (c.op == OpEq || c.op == OpStartsWith) {
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
		n := strings.ToLower(f.Name)
		if n == "policy" || n == "x-amz-signature" || n == "file" || strings.HasPrefix(n, "x-ignore-") || hasField(p.Conditions, f.Name) {
			continue
		}
		out = append(out, Problem{Field: f.Name, Rule: RuleFieldWithoutCondition,
			Detail: "no condition covers " + f.Name + "; S3 would answer \"Invalid according to Policy: Extra input fields: " + n + "\""})
	}
	return out
}
