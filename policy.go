package postpolicy

import (
	"time"
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

// The document a Signer signs is the one MarshalJSON writes with the
// Signer's conditions added: x-amz-algorithm, x-amz-credential and
// x-amz-security-token first (they change at most daily, so the start of
// the document can be encoded and hashed once a day), the policy's own
// conditions, then x-amz-date and the expiration, which change with every
// signature:
//
//	{"conditions":[{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":…},
//	{"x-amz-security-token":…},…,{"x-amz-date":…}],"expiration":…}

// appendPolicyStart appends the start of every policy signed with a
// credential and session token (empty for none).
func appendPolicyStart(b []byte, credential, token string) []byte {
	b = append(b, `{"conditions":[{"x-amz-algorithm":"`+Algorithm+`"},{"x-amz-credential":`...)
	b = appendJSONString(b, credential)
	b = append(b, '}')
	if token != "" {
		b = append(b, `,{"x-amz-security-token":`...)
		b = appendJSONString(b, token)
		b = append(b, '}')
	}
	return b
}

// appendConditions appends conds, each preceded by a comma: the policy's
// own conditions follow the signer's.
func appendConditions(b []byte, conds []Condition) []byte {
	for i := range conds {
		b = append(b, ',')
		b = appendCondition(b, &conds[i])
	}
	return b
}

// appendConditionsAs is appendConditions for conditions the lint has
// checked: facts are theirs, and the names and values they mark as
// written as they are (condFacts.json) are not scanned again.
func appendConditionsAs(b []byte, conds []Condition, facts []condFacts) []byte {
	for i := range conds {
		b = append(b, ',')
		b = appendConditionAs(b, &conds[i], facts[i].json)
	}
	return b
}

// appendConditionAs is appendCondition, with the field, the value or both
// written without escaping when asIs has nameJSON or valueJSON.
func appendConditionAs(b []byte, c *Condition, asIs uint8) []byte {
	switch c.op {
	case OpEq:
		b = append(b, '{', '"')
		b = appendJSONCharsAs(b, c.field, asIs&nameJSON != 0)
		b = append(b, '"', ':', '"')
		b = appendJSONCharsAs(b, c.value, asIs&valueJSON != 0)
		return append(b, '"', '}')
	case OpStartsWith:
		b = append(b, `["starts-with","$`...)
		b = appendJSONCharsAs(b, c.field, asIs&nameJSON != 0)
		b = append(b, '"', ',', '"')
		b = appendJSONCharsAs(b, c.value, asIs&valueJSON != 0)
		return append(b, '"', ']')
	}
	return appendCondition(b, c)
}

// appendJSONCharsAs is appendJSONChars, or a plain copy of s when asIs
// says that s needs no escaping.
func appendJSONCharsAs(b []byte, s string, asIs bool) []byte {
	if asIs {
		return append(b, s...)
	}
	return appendJSONChars(b, s)
}

// appendPolicyTail appends what follows the conditions: x-amz-date, the
// end of the array and the expiration.
func appendPolicyTail(b []byte, expiration time.Time, amzDate []byte) []byte {
	b = append(b, `,{"x-amz-date":"`...)
	b = append(b, amzDate...)
	b = append(b, `"}],"expiration":`...)
	b = appendExpiration(b, expiration)
	return append(b, '}')
}

// appendCondition appends c in the JSON form S3 documents for its kind:
// exact matches as one-member objects ({"acl":"public-read"}), starts-with
// and content-length-range as three-element arrays.
func appendCondition(b []byte, c *Condition) []byte {
	switch c.op {
	case OpEq:
		b = append(b, '{')
		b = appendJSONString(b, c.field)
		b = append(b, ':')
		b = appendJSONString(b, c.value)
		return append(b, '}')
	case OpStartsWith:
		b = append(b, `["starts-with",`...)
		b = appendDollarField(b, c.field)
		b = append(b, ',')
		b = appendJSONString(b, c.value)
		return append(b, ']')
	case OpContentLengthRange:
		b = append(b, `["content-length-range",`...)
		b = appendJSONInt(b, c.min)
		b = append(b, ',')
		b = appendJSONInt(b, c.max)
		return append(b, ']')
	}
	// The zero Condition: Validate reports it, so a signed policy never
	// contains one. Written as null so that Policy.MarshalJSON stays valid
	// JSON even for an invalid policy.
	return append(b, "null"...)
}

// appendDollarField appends "$field" as a JSON string: the spec names form
// fields in array conditions with a leading dollar sign.
func appendDollarField(b []byte, field string) []byte {
	b = append(b, '"', '$')
	b = appendJSONChars(b, field)
	return append(b, '"')
}

// ExpirationLayout is the layout this package writes a policy's expiration
// in: ISO 8601 in UTC with milliseconds, the form of every example on the
// AWS "Creating a POST Policy" page (for example 2013-08-01T12:00:00.000Z).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
const ExpirationLayout = "2006-01-02T15:04:05.000Z"

// appendExpiration appends t, in UTC, as a JSON string in ExpirationLayout.
// Anything below a millisecond is dropped, which can only make the policy
// expire earlier, never later.
func appendExpiration(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = append(b, '"')
	if y := t.Year(); y < 0 || y > 9999 {
		b = t.AppendFormat(b, ExpirationLayout) // not a valid policy: the lint reports RuleExpirationYear
		return append(b, '"')
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, 'Z', '"')
}

// appendDigits appends the last width (2 to 4) decimal digits of n >= 0,
// zero-padded.
func appendDigits(b []byte, n, width int) []byte {
	switch width {
	case 2:
		return append(b, byte('0'+n/10%10), byte('0'+n%10))
	case 3:
		return append(b, byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
	return append(b, byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
