package postpolicy

import (
	"strconv"
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
// written as it is. Strings of eight bytes or more are tested a word at a
// time (plain8); the last word is the string's last eight bytes.
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
	for i := 0; len(s)-i > 8; i += 8 {
		if !plain8(load8(s[i:])) {
			return false
		}
	}
	return plain8(load8(s[len(s)-8:]))
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// loadPadded returns the bytes of s, shorter than 8, as a little-endian
// word, with pad in the place of the missing bytes.
func loadPadded(s string, pad byte) uint64 {
	v := ones * uint64(pad)
	for i := 0; i < len(s); i++ {
		v = v&^(0xff<<(8*i)) | uint64(s[i])<<(8*i)
	}
	return v
}

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
