package postpolicy

import (
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the Signer's shortcut through the checks. A backend signs
// the same kind of policy again and again: the same conditions on the same
// fields, with values that change per user (a key prefix, a metadata
// value). Most of the checks look only at that structure (field names,
// operators, sources, which fields repeat), so once a policy of a given
// shape has passed them all, a policy of the same shape needs only the
// checks that look at values. check is a conservative test that every
// value rule that can make an error holds; when it says no, or the shape
// differs, Sign runs the full lint, which alone writes problems. So the
// shortcut can make Sign faster, never more permissive or less precise.
// TestShapeCheckAgreesWithLint and FuzzShapeCheck hold it to that.

// valueRule says which value-dependent error rule an exact match on a
// field is subject to, beyond those every condition has (valid UTF-8, no
// ${filename}, a form value that satisfies it).
type valueRule uint8

const (
	valueAny     valueRule = iota // no rule on the value
	valueBucket                   // RuleBucketName
	valueKey                      // RuleKeyMissing for an empty key
	valueACL                      // a canned ACL
	valueSSE                      // a known server-side encryption
	valueNoShape                  // rules the shortcut does not cover: no shape is kept
)

// valueRuleOf returns the value rule of a field, given its lower-case name.
func valueRuleOf(lf []byte) valueRule {
	switch string(lf) {
	case "bucket":
		return valueBucket
	case "key":
		return valueKey
	case "acl":
		return valueACL
	case "x-amz-server-side-encryption":
		return valueSSE
	}
	if len(lf) >= len("x-amz-checksum-") && string(lf[:len("x-amz-checksum-")]) == "x-amz-checksum-" {
		return valueNoShape // the digest field's name depends on a value
	}
	return valueAny
}

// maxShape is the most conditions a kept shape has.
const maxShape = 32

// policyShape is the structure of a policy that passed every check.
type policyShape struct {
	conds []shapeCond
}

type shapeCond struct {
	op     Op
	source Source
	rule   valueRule
	field  string
}

// newShape returns the shape of conds, whose value rules the linter
// recorded while it found no error; nil when no shape can be kept.
func newShape(conds []Condition, l *linter) *policyShape {
	if l.noShape || l.sharedFields || len(conds) > maxShape {
		return nil
	}
	sh := &policyShape{conds: make([]shapeCond, len(conds))}
	for i := range conds {
		c := &conds[i]
		sh.conds[i] = shapeCond{op: c.op, source: c.source, rule: l.rules[i], field: c.field}
	}
	return sh
}

// check reports whether p, signed at at, has sh's shape and passes every
// check that depends on values, so that Policy.Validate would report no
// error. trustedBucket is a bucket name known to be valid.
func (sh *policyShape) check(p *Policy, at time.Time, trustedBucket string) bool {
	return sh.checkFrom(p, at, trustedBucket, 0, 0, maxInt64)
}

// checkFrom is check for a policy whose first from conditions are known to
// pass (they are those of a prefix, prefix.go) and allow sizes lo to hi.
func (sh *policyShape) checkFrom(p *Policy, at time.Time, trustedBucket string, from int, lo, hi int64) bool {
	conds := p.Conditions
	if len(conds) != len(sh.conds) || from > len(conds) || p.Expiration.IsZero() || !p.Expiration.Before(maxExpiration) || !p.Expiration.Truncate(time.Millisecond).After(at) {
		return false
	}
	for i := from; i < len(conds); i++ {
		c, s := &conds[i], &sh.conds[i]
		if c.op != s.op || c.source != s.source || c.field != s.field {
			return false
		}
		if c.op == OpContentLengthRange {
			if c.min < 0 || c.max < 0 || c.min > c.max {
				return false
			}
			lo, hi = max(lo, c.min), min(hi, c.max)
			continue
		}
		plain := asciiWithoutDollar(c.value)
		if !plain && (!utf8.ValidString(c.value) || strings.Contains(c.value, filenameVar)) {
			return false
		}
		// An exact match whose form value is its value satisfies itself
		// unless that value holds ${filename}, which plain rules out.
		if c.source == SourceForm && !(plain && c.op == OpEq && c.formValue == c.value) &&
			((c.formValue != c.value && !utf8.ValidString(c.formValue)) || !formValueSatisfies(c, c.formValue)) {
			return false
		}
		if c.op != OpEq {
			continue
		}
		switch s.rule {
		case valueBucket:
			if c.value != trustedBucket && bucketNameProblem(c.value) != "" {
				return false
			}
		case valueKey:
			if c.value == "" {
				return false
			}
		case valueACL:
			if !contains(cannedACLs, c.value) {
				return false
			}
		case valueSSE:
			if !knownSSE(c.value) {
				return false
			}
		case valueNoShape:
			return false
		}
	}
	return lo <= hi
}
