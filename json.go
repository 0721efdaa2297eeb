package postpolicy

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds the package's JSON writer. The policy document is the
// string that gets signed, so it is produced by one small append-style
// encoder with a fixed member order instead of by reflection: the same input
// always gives the same bytes, and no value can ever leave its string
// literal (a quote or backslash in a key cannot add a condition, unlike
// Sprintf-built policies). Its escaping matches encoding/json with HTML
// escaping turned off; TestAppendJSONStringMatchesEncodingJSON and
// FuzzAppendJSONString hold it to that.

const hexDigits = "0123456789abcdef"

// plainJSON marks the bytes a JSON string holds as they are: printable ASCII
// except '"' and '\\'.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s to b as a JSON string literal.
//
// Escaped: '"' and '\\'; control characters below U+0020 (as \b, \f, \n,
// \r, \t or \u00XX); U+2028 and U+2029 (as encoding/json does, so the
// output is also valid JavaScript); bytes that are not valid UTF-8 become
// \ufffd. Everything else, including non-ASCII text, is written as UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONChars(b, s)
	return append(b, '"')
}

// appendJSONChars appends s escaped as the inside of a JSON string literal,
// without the surrounding quotes.
func appendJSONChars(b []byte, s string) []byte {
	if jsonPlain(s) {
		return append(b, s...)
	}
	start := 0
	for i := 0; i < len(s); {
		// Eight plain bytes at a time; the byte loop below handles the
		// group that holds something to escape, and the end.
		for len(s)-i >= 8 && plain8(load8(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// jsonPlain reports whether every byte of s is plainJSON, so that s is
// written as it is.
func jsonPlain(s string) bool {
	if len(s) < 8 {
		// Field names and short values: the table is quicker than
		// assembling a word.
		for i := 0; i < len(s); i++ {
			if !plainJSON[s[i]] {
				return false
			}
		}
		return true
	}
	return everyWord(s, plain8)
}

// asciiWithoutDollar reports whether s is ASCII and holds no '$': then it
// is valid UTF-8 and cannot hold ${filename}, which spares the shape check
// both scans.
func asciiWithoutDollar(s string) bool {
	return everyWord(s, func(v uint64) bool {
		d := v ^ (ones * '$')
		return (v|(d-ones)&^d)&highs == 0
	})
}

// everyWord reports whether ok holds for every 8-byte group of s, read as
// little-endian words. The last, partial group is tested as the string's
// last eight bytes, or, in a string shorter than eight, with the letter 'a'
// (which ok must accept) in the place of the missing bytes.
func everyWord(s string, ok func(uint64) bool) bool {
	if len(s) < 8 {
		v := uint64(ones * 'a')
		for i := 0; i < len(s); i++ {
			v = v&^(0xff<<(8*i)) | uint64(s[i])<<(8*i)
		}
		return ok(v)
	}
	for i := 0; len(s)-i > 8; i += 8 {
		if !ok(load8(s[i:])) {
			return false
		}
	}
	return ok(load8(s[len(s)-8:]))
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// load8 returns the first 8 bytes of s as a little-endian word.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether the 8 bytes of v are all plainJSON: none is below
// 0x20, '"', '\\' or above 0x7f. It tests them at once with the classic bit
// tricks on a 64-bit word: (x - 0x01…01) &^ x & 0x80…80 is non-zero
// exactly when some byte of x is zero (a borrow can only start at a zero
// byte), applied to v XOR '"' and v XOR '\\'; and once every byte is below
// 0x80, v - 0x20…20 borrows into a byte's high bit exactly when that byte,
// or one below it, is below 0x20.
func plain8(v uint64) bool {
	if v&highs != 0 {
		return false // non-ASCII
	}
	quote, backslash := v^(ones*'"'), v^(ones*'\\')
	special := (v - ones*0x20) | (quote-ones)&^quote | (backslash-ones)&^backslash
	return special&highs == 0
}

// appendJSONInt appends n as a JSON number.
func appendJSONInt(b []byte, n int64) []byte {
	return strconv.AppendInt(b, n, 10)
}

// ExpirationLayout is the layout this package writes a policy's expiration
// in: ISO 8601 in UTC with milliseconds, the form of every example on the
// AWS "POST Policy" page (for example 2013-08-01T12:00:00.000Z).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
const ExpirationLayout = "2006-01-02T15:04:05.000Z"

// appendExpiration appends t, in UTC, as a JSON string in ExpirationLayout.
// Anything below a millisecond is dropped, which can only make the policy
// expire earlier, never later.
func appendExpiration(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = append(b, '"')
	if y := t.Year(); y < 0 || y > 9999 {
		b = t.AppendFormat(b, ExpirationLayout) // not a valid policy: Validate reports RuleExpirationYear
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

// appendAmzDate appends t, in UTC, in the ISO 8601 basic format of
// x-amz-date: 20151229T000000Z. The signing time comes from a clock, so its
// year has four digits.
func appendAmzDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(b, int(mo), 2)
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = appendDigits(b, mi, 2)
	b = appendDigits(b, s, 2)
	return append(b, 'Z')
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
