package postpolicy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Policy is an S3 POST policy before signing: when it expires and the
// conditions every upload made with it must meet, in order.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
//
// A Policy is a plain value. [Signer.Sign] never modifies it or the array
// behind Conditions, so one Policy can be signed any number of times, from
// any number of goroutines.
type Policy struct {
	// Expiration is the instant after which S3 refuses uploads made with
	// the policy ("Policy expired."). It is written in UTC with millisecond
	// precision; anything finer is dropped. It is required.
	Expiration time.Time

	// Conditions are the policy's conditions in the order they are
	// written. Every policy needs a [Bucket] and a condition on the key
	// ([Key] or [KeyPrefix]). The Signer adds the x-amz-algorithm,
	// x-amz-credential, x-amz-date and (for temporary credentials)
	// x-amz-security-token conditions itself.
	Conditions []Condition
}

// MarshalJSON returns the policy document as this package writes it, without
// the conditions a Signer adds:
//
//	{"conditions":[…],"expiration":"2015-12-30T12:00:00.000Z"}
//
// Compact, conditions first (S3 does not care about member order, and the
// part that changes with each signature then comes last), exact matches as
// one-member objects, starts-with and content-length-range as arrays, strings
// escaped as encoding/json escapes them with HTML escaping off. The same
// Policy always gives the same bytes. MarshalJSON does not validate the
// policy; see [Policy.Validate].
func (p Policy) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+64*len(p.Conditions))
	b = append(b, `{"conditions":[`...)
	for i := range p.Conditions {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCondition(b, &p.Conditions[i])
	}
	b = append(b, `],"expiration":`...)
	b = appendExpiration(b, p.Expiration)
	return append(b, '}'), nil
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
// will send. [Signer.Sign] runs the same checks, plus those that need the
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

const (
	maxPolicyLifetime = 7 * 24 * time.Hour
	maxObjectSize     = 5 << 30 // 5 GiB
	// MaxPreFileSize is the most form data, boundaries included, that S3
	// accepts before the file ("cannot exceed 20 KB"; S3 reports
	// MaxPostPreDataLengthBytes 20480).
	MaxPreFileSize = 20 << 10
)

// linter collects problems. Its methods allocate only when they find one.
type linter struct {
	problems []Problem
	// trustedBucket is a bucket name known to pass the naming rules (the
	// Signer's last), so that its check can be skipped.
	trustedBucket string
	// sharedFields records that some field has several conditions.
	sharedFields bool
	// rules[i] is the value rule of condition i (see shape.go); noShape
	// records that the policy's shape cannot be kept.
	rules   [maxShape]valueRule
	noShape bool
}

func (l *linter) add(field string, rule Rule, format string, args ...any) {
	l.problems = append(l.problems, Problem{Field: field, Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

func (l *linter) warn(field string, rule Rule, format string, args ...any) {
	l.problems = append(l.problems, Problem{Field: field, Rule: rule, Detail: fmt.Sprintf(format, args...), Warning: true})
}

// policy checks an expiration and a list of conditions.
func (l *linter) policy(exp time.Time, conds []Condition, at time.Time) {
	l.expiration(exp, at)
	for i := range conds {
		l.condition(i, &conds[i])
	}
	l.crossChecks(conds)
}

// The expirations a policy can write: from year 0000 to year 9999, in UTC.
var (
	minExpiration = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxExpiration = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (l *linter) expiration(exp, at time.Time) {
	if exp.IsZero() {
		l.add("expiration", RuleExpirationMissing, "the policy has no expiration; every POST policy must have one")
		return
	}
	if exp.Before(minExpiration) || !exp.Before(maxExpiration) {
		l.add("expiration", RuleExpirationYear, "expiration %s is outside the years 0000 to 9999 that a policy can write", exp.UTC().Format(ExpirationLayout))
		return
	}
	if at.IsZero() {
		return
	}
	written := exp.Truncate(time.Millisecond)
	if !written.After(at) {
		l.add("expiration", RuleExpirationPassed, "expiration %s is not after the signing time %s; S3 would answer \"Invalid according to Policy: Policy expired.\"",
			exp.UTC().Format(ExpirationLayout), at.UTC().Format(ExpirationLayout))
		return
	}
	if d := written.Sub(at); d > maxPolicyLifetime {
		l.warn("expiration", RuleExpirationOverSevenDays, "expiration is %s after the signing time, more than the 7 days SigV4 allows presigned requests; S3 may refuse it, and a long-lived form is a long-lived credential", d.Round(time.Second))
	}
}

// condition checks one condition on its own.
func (l *linter) condition(i int, c *Condition) {
	switch c.op {
	case OpContentLengthRange:
		l.contentLengthRange(c)
		return
	case OpEq, OpStartsWith:
	default:
		l.add("", RuleInvalidCondition, "condition %d is not a valid condition (the zero Condition?); build conditions with Eq, StartsWith, ContentLengthRange or a field helper", i)
		return
	}
	f := c.field
	var buf [64]byte
	lf, ok := l.fieldName(f, &buf)
	if !ok {
		return
	}
	if !utf8.ValidString(c.value) || (c.source == SourceForm && c.formValue != c.value && !utf8.ValidString(c.formValue)) {
		l.add(f, RuleInvalidUTF8, "the value of %s is not valid UTF-8; the policy is a UTF-8 document", c)
		return
	}
	switch string(lf) {
	case "policy", "x-amz-signature", "file":
		l.add(f, RuleNotInPolicy, "%s is never checked against the policy; remove the condition", f)
		return
	case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token":
		l.add(f, RuleSignerField, "the Signer adds %s and its condition; remove this condition", f)
		return
	}
	if c.source == SourceForm && (strings.IndexByte(c.formValue, '\r') >= 0 || strings.IndexByte(c.formValue, '\n') >= 0) {
		l.warn(f, RuleFieldValue, "the form value of %s holds a line break; browsers may send it as CR LF, and the field would then fail its condition", f)
	}
	if c.op == OpStartsWith && !startsWithAllowed(f) {
		l.add(f, RuleExactMatchOnly, "%s allows only an exact match, not %s; S3 would reject the condition", f, c)
	}
	if strings.Contains(c.value, filenameVar) {
		l.add(f, RuleFilenameInCondition, "%s contains ${filename}, which S3 replaces with the file's name before checking, so the condition cannot match; use starts-with on the text before ${filename} (Key does this) and put ${filename} in the form value", c)
	}
	l.knownField(c, lf)
	if r := valueRuleOf(lf); i < maxShape && r != valueNoShape {
		l.rules[i] = r
	} else {
		l.noShape = true
	}
}

// fieldName checks a condition's field name and reports whether the other
// checks can go on; it returns the name with ASCII letters in lower case,
// in buf when it fits, so that switch string(lower) does not allocate.
func (l *linter) fieldName(f string, buf *[64]byte) (lower []byte, ok bool) {
	switch {
	case f == "":
		l.add("", RuleFieldName, "a condition has an empty field name")
		return nil, false
	case f[0] == '$':
		l.add(f, RuleFieldName, "field name %q starts with \"$\"; write it without, the policy adds it", f)
		return nil, false
	}
	lower = buf[:0]
	if len(f) > len(buf) {
		lower = make([]byte, 0, len(f))
	}
	ascii := true
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c >= 0x80:
			ascii = false
		case c < 0x21 || c == 0x7f || c == '"' || c == '\\':
			l.add(f, RuleFieldName, "field name %q holds a character (%q) that a multipart form field name cannot carry", f, c)
			return nil, false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	switch {
	case !ascii && !utf8.ValidString(f):
		l.add(f, RuleInvalidUTF8, "field name %q is not valid UTF-8", f)
		return nil, false
	case string(lower) == "content-length-range":
		l.add(f, RuleFieldName, "content-length-range is not a form field; use ContentLengthRange")
		return nil, false
	}
	return lower, true
}

func (l *linter) contentLengthRange(c *Condition) {
	switch {
	case c.min < 0 || c.max < 0:
		l.add("content-length-range", RuleRangeNegative, "%s has a negative bound; S3 would answer 400 InvalidPolicyDocument", c)
	case c.min > c.max:
		l.add("content-length-range", RuleRangeInverted, "%s has min > max; no file can satisfy it", c)
	case c.max > maxObjectSize:
		l.warn("content-length-range", RuleRangeOverFiveGiB, "%s allows more than 5 GiB, which S3 never stores from one request", c)
	}
}

var cannedACLs = []string{"private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control"}

var storageClasses = []string{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS"}

// knownField checks the values of exact matches on fields whose values S3
// restricts; lf is the field name in lower case.
func (l *linter) knownField(c *Condition, lf []byte) {
	if c.op != OpEq {
		return
	}
	f, v := c.field, c.value
	switch string(lf) {
	case "bucket":
		if v == l.trustedBucket && v != "" {
			break
		}
		if reason := bucketNameProblem(v); reason != "" {
			l.add(f, RuleBucketName, "bucket name %q %s", v, reason)
		}
	case "key":
		if v == "" {
			l.add(f, RuleKeyMissing, "the key is empty; S3 answers \"Bucket POST must contain a field named 'key'\"")
		}
	case "acl":
		if !contains(cannedACLs, v) {
			l.add(f, RuleFieldValue, "%q is not a canned ACL S3 knows (%s)", v, strings.Join(cannedACLs, ", "))
		}
	case "success_action_status":
		if v != "200" && v != "201" && v != "204" {
			l.warn(f, RuleFieldValue, "S3 ignores success_action_status %q and answers 204; use 200, 201 or 204", v)
		}
	case "success_action_redirect", "redirect":
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.warn(f, RuleFieldValue, "%q is not an absolute http(s) URL; S3 ignores such a redirect and answers with success_action_status instead", v)
		}
	case "x-amz-storage-class":
		if !contains(storageClasses, v) {
			l.warn(f, RuleFieldValue, "%q is not an S3 storage class (%s); S3 would reject it, though S3-compatible stores may have their own", v, strings.Join(storageClasses, ", "))
		}
	case "x-amz-server-side-encryption":
		if !knownSSE(v) {
			l.add(f, RuleFieldValue, "%q is not a server-side encryption S3 knows (AES256, aws:kms, aws:kms:dsse)", v)
		}
	case "x-amz-checksum-algorithm":
		if h, _ := ChecksumAlgorithm(v).newHash(); h == nil {
			l.add(f, RuleFieldValue, "%q is not a checksum algorithm S3 accepts on POST (CRC32, CRC32C, SHA1, SHA256)", v)
		}
	case "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256":
		alg := ChecksumAlgorithm(strings.ToUpper(f[len("x-amz-checksum-"):]))
		_, size := alg.newHash()
		if d, err := base64.StdEncoding.DecodeString(v); err != nil || len(d) != size {
			l.add(f, RuleFieldValue, "%q is not the base64 of a %d-byte %s digest", v, size, alg)
		}
	}
}

// knownSSE reports whether v is a server-side encryption S3 knows.
func knownSSE(v string) bool { return v == "AES256" || v == "aws:kms" || v == "aws:kms:dsse" }

// crossChecks checks what depends on several conditions: the bucket and key
// requirements, conflicts between conditions on one field, form values
// against the conditions on their field, and fields nothing sends.
func (l *linter) crossChecks(conds []Condition) {
	var groupBuf [32]int
	var hashBuf [32]uint64
	hashes := hashBuf[:0]
	for i := range conds {
		hashes = append(hashes, foldHash(conds[i].field))
	}
	group := groupByField(groupBuf[:0], conds, hashes)
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
		switch h := hashes[i]; {
		case h == hashBucket && strings.EqualFold(c.field, "bucket"):
			if c.op == OpEq {
				bucket++
			}
		case h == hashKey && strings.EqualFold(c.field, "key"):
			key++
		case h == hashChecksumAlgorithm && c.op == OpEq && strings.EqualFold(c.field, "x-amz-checksum-algorithm"):
			checksumAlg = i + 1
		}
		if group[i] == i {
			l.field(conds, group, i)
		}
	}
	if bucket == 0 {
		l.add("bucket", RuleBucketMissing, "the policy has no exact-match bucket condition; add Bucket(name): the Signer builds the form's URL from it, and S3-compatible servers answer \"Extra input fields: bucket\" without it")
	}
	if key == 0 {
		l.add("key", RuleKeyMissing, "the policy has no condition on key; S3 requires a key field and a condition for it; add Key, KeyPrefix or StartsWith(\"key\", …)")
	}
	if ranges > 1 && minLen > maxLen {
		l.add("content-length-range", RuleRangeInverted, "the content-length-range conditions do not overlap; no file can satisfy them all")
	}
	if checksumAlg > 0 {
		alg := ChecksumAlgorithm(conds[checksumAlg-1].value)
		if h, _ := alg.newHash(); h != nil && !hasField(conds, alg.field()) {
			l.add(alg.field(), RuleFieldValue, "x-amz-checksum-algorithm %s needs a condition on %s with the digest; S3 rejects the algorithm without it (use Checksum)", alg, alg.field())
		}
	}
}

// groupByField appends to group, for each eq or starts-with condition, the
// index of the first such condition on the same field (names compared
// case-insensitively), and -1 for the others. hashes are the foldHash of
// the conditions' names: names are compared through them first, so a
// policy of n conditions costs about n string comparisons, not n².
func groupByField(group []int, conds []Condition, hashes []uint64) []int {
	for i := range conds {
		c := &conds[i]
		g := -1
		if c.op == OpEq || c.op == OpStartsWith {
			g = i
			for j := range i {
				if hashes[j] == hashes[i] && group[j] == j && strings.EqualFold(conds[j].field, c.field) {
					g = j
					break
				}
			}
		}
		group = append(group, g)
	}
	return group
}

var (
	hashBucket            = foldHash("bucket")
	hashKey               = foldHash("key")
	hashChecksumAlgorithm = foldHash("x-amz-checksum-algorithm")
)

// foldHash is FNV-1a over s with ASCII letters in lower case.
func foldHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func hasField(conds []Condition, field string) bool {
	for _, c := range conds {
		if (c.op == OpEq || c.op == OpStartsWith) && strings.EqualFold(c.field, field) {
			return true
		}
	}
	return false
}

// field checks the conditions on the field of conds[first] together: those
// whose group is first.
func (l *linter) field(conds []Condition, group []int, first int) {
	if l.single(conds, group, first) {
		return
	}
	name := conds[first].field
	var formValue, eqValue string
	var hasForm, hasEq, sent bool
	for j := first; j < len(conds); j++ {
		if group[j] != first {
			continue
		}
		c := &conds[j]
		switch c.source {
		case SourceForm:
			if hasForm && c.formValue != formValue {
				l.add(name, RuleConflict, "the form would carry %s twice, as %q and as %q", name, formValue, c.formValue)
				return
			}
			formValue, hasForm, sent = c.formValue, true, true
		case SourcePage:
			sent = true
		}
		if c.op == OpEq {
			if hasEq && c.value != eqValue {
				l.add(name, RuleConflict, "%s must equal both %q and %q; no value can", name, eqValue, c.value)
				return
			}
			eqValue, hasEq = c.value, true
		}
	}
	for j := first; j < len(conds); j++ {
		if group[j] != first {
			continue
		}
		c := &conds[j]
		switch {
		case strings.Contains(c.value, filenameVar):
			// reported by RuleFilenameInCondition
		case hasForm && !formValueSatisfies(c, formValue):
			l.add(name, RuleConflict, "the form value %q does not satisfy %s", formValue, c)
		case !hasForm && hasEq && c.op == OpStartsWith && !startsWithMatch(c.field, eqValue, c.value):
			l.add(name, RuleConflict, "no value can satisfy both %s and the exact match %q", c, eqValue)
		}
	}
	if !hasForm && !hasEq {
		// Only starts-with conditions: a value can begin with all the
		// prefixes only when each is a prefix of the longest.
		longest := &conds[first]
		for j := first; j < len(conds); j++ {
			if group[j] == first && len(conds[j].value) > len(longest.value) {
				longest = &conds[j]
			}
		}
		for j := first; j < len(conds); j++ {
			if c := &conds[j]; group[j] == first && !strings.HasPrefix(longest.value, c.value) {
				l.add(name, RuleConflict, "no value can satisfy both %s and %s", c, longest)
				break
			}
		}
	}
	if !sent && !strings.EqualFold(name, "bucket") {
		l.add(name, RuleConditionWithoutField, "neither the form nor the page sends %s, so S3 would answer \"Invalid according to Policy: Policy Condition failed: %s\"; give the condition a form value or mark it FromPage", name, conds[first])
	}
}

// single checks the field of conds[first] when no other condition is on it,
// the common case, and reports whether it did.
func (l *linter) single(conds []Condition, group []int, first int) bool {
	for j := first + 1; j < len(conds); j++ {
		if group[j] == first {
			l.sharedFields = true
			return false
		}
	}
	c := &conds[first]
	switch c.source {
	case SourceForm:
		if !strings.Contains(c.value, filenameVar) && !formValueSatisfies(c, c.formValue) {
			l.add(c.field, RuleConflict, "the form value %q does not satisfy %s", c.formValue, c)
		}
	case SourceNone:
		if !strings.EqualFold(c.field, "bucket") {
			l.add(c.field, RuleConditionWithoutField, "neither the form nor the page sends %s, so S3 would answer \"Invalid according to Policy: Policy Condition failed: %s\"; give the condition a form value or mark it FromPage", c.field, c)
		}
	}
	return true
}

// formValueSatisfies reports whether the form value v meets c whatever the
// uploaded file is called: S3 replaces ${filename} in v before checking, so
// only the text before the first ${filename} is known in advance.
func formValueSatisfies(c *Condition, v string) bool {
	before, _, hasVar := strings.Cut(v, filenameVar)
	switch c.op {
	case OpEq:
		return !hasVar && v == c.value
	case OpStartsWith:
		if hasVar {
			return strings.HasPrefix(before, c.value)
		}
		return startsWithMatch(c.field, v, c.value)
	}
	return true
}

// startsWithMatch applies S3's starts-with rule: the value must begin with
// the prefix, except that on Content-Type a value holding commas is a list
// whose every element (spaces trimmed) must ("POST Policy", condition
// matching table).
func startsWithMatch(field, value, prefix string) bool {
	if strings.EqualFold(field, "Content-Type") && strings.Contains(value, ",") {
		for part := range strings.SplitSeq(value, ",") {
			if !strings.HasPrefix(strings.TrimSpace(part), prefix) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(value, prefix)
}

// startsWithAllowed reports whether S3 allows starts-with on field: all
// fields except bucket, success_action_status, and x-amz-* other than
// x-amz-meta-* ("POST Policy", condition matching table).
func startsWithAllowed(field string) bool {
	switch {
	case strings.EqualFold(field, "bucket"), strings.EqualFold(field, "success_action_status"):
		return false
	case hasPrefixFold(field, "x-amz-meta-"):
		return true
	case hasPrefixFold(field, "x-amz-"):
		return false
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
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return "must not start with the reserved prefix " + strconv.Quote(p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return "must not end with the reserved suffix " + strconv.Quote(s)
		}
	}
	return ""
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

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
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
