package postpolicy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// encodingJSONString is the reference for appendJSONString: encoding/json's
// encoding of s with HTML escaping off, without the Encoder's newline.
func encodingJSONString(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	type tc struct{ name, in string }
	var cases []tc
	// Every ASCII byte on its own, between letters, and all at once.
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		s := string(rune(c))
		all.WriteString(s)
		cases = append(cases, tc{"byte " + hex2(c), s}, tc{"byte " + hex2(c) + " inside", "a" + s + "b"})
	}
	cases = append(cases, tc{"all ASCII", all.String()})
	// Every byte 0x80-0xff on its own: none is valid UTF-8 alone.
	for c := 0x80; c < 0x100; c++ {
		cases = append(cases, tc{"lone byte " + hex2(c), "x" + string([]byte{byte(c)}) + "y"})
	}
	cases = append(cases, []tc{
		{"empty", ""},
		{"NUL", "\x00"},
		{"NULs", "a\x00\x00b"},
		{"U+2028", "\u2028"},
		{"U+2029", "a\u2029b"},
		{"U+2028 and U+2029 together", "\u2028\u2029"},
		{"U+2027 and U+202A are not escaped", "\u2027\u202a"},
		{"U+0085 NEL", "\u0085"},
		{"U+00A0", "\u00a0"},
		{"U+FEFF BOM", "\ufeff"},
		{"U+FFFD itself", "\ufffd"},
		{"U+FFFF", "\uffff"},
		{"U+10FFFF", "\U0010ffff"},
		{"non-ASCII text", "café ünïcödé 日本語"},
		{"emoji", "😀👍🏽🏳️‍🌈"},
		{"HTML", `<script>alert("x")</script> & 'y'`},
		{"JSON injection", `x"],["starts-with","$acl","`},
		{"backslashes", `\\\"\u0041\n`},
		{"overlong slash", "\xc0\xaf"},
		{"overlong NUL", "\xc0\x80"},
		{"overlong 3-byte", "\xe0\x80\xaf"},
		{"overlong 4-byte", "\xf0\x80\x80\xaf"},
		{"high surrogate as bytes", "\xed\xa0\x80"},
		{"low surrogate as bytes", "\xed\xbf\xbf"},
		{"surrogate pair as bytes", "\xed\xa0\xbd\xed\xb8\x80"},
		{"above U+10FFFF", "\xf4\x90\x80\x80"},
		{"5-byte form", "\xf8\x88\x80\x80\x80"},
		{"truncated 2-byte", "a\xc3"},
		{"truncated 3-byte", "\xe2\x82"},
		{"truncated 4-byte", "\xf0\x9f\x98"},
		{"truncated then valid", "\xe2\x82\xe2\x82\xac"},
		{"continuation bytes", "\x80\x81\xbf"},
		{"0xfe 0xff", "\xfe\xff"},
		{"invalid around U+2028", "\xff\u2028\xff"},
		{"long mixed", strings.Repeat("a\"\\\x01é\u2028\xff😀", 100)},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := encodingJSONString(t, c.in)
			got := string(appendJSONString(nil, c.in))
			if got != want {
				t.Errorf("appendJSONString(%q) = %s, want %s", c.in, got, want)
			}
			// Appending keeps what is already in the buffer.
			if got := string(appendJSONString([]byte("prefix:"), c.in)); got != "prefix:"+want {
				t.Errorf("appendJSONString with a prefix = %s", got)
			}
		})
	}
}

func hex2(c int) string {
	const digits = "0123456789abcdef"
	return "0x" + string(digits[c>>4]) + string(digits[c&0xf])
}

// The escapes the doc comment of appendJSONString promises, written out
// by hand from RFC 8259 §7 and encoding/json's documented behaviour.
func TestAppendJSONStringEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\"", `"\""`},
		{"\\", `"\\"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f", "\"\x7f\""},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\xff", `"\ufffd"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"<>&", `"<>&"`},
		{"é", "\"é\""},
		{"/", `"/"`},
		{"$", `"$"`},
	} {
		if got := string(appendJSONString(nil, c.in)); got != c.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// appendCondition writes the forms of "POST Policy": exact matches as
// one-member objects, starts-with and content-length-range as arrays, the
// field of an array condition after "$".
func TestAppendCondition(t *testing.T) {
	for _, c := range []struct {
		name string
		c    Condition
		want string
	}{
		{"eq", Eq("acl", "public-read"), `{"acl":"public-read"}`},
		{"starts-with", StartsWith("key", "user/user1/"), `["starts-with","$key","user/user1/"]`},
		{"range", ContentLengthRange(1, 10485760), `["content-length-range",1,10485760]`},
		{"negative range", ContentLengthRange(-5, -1), `["content-length-range",-5,-1]`},
		{"zero", Condition{}, `null`},
		{"quotes in field and value", Eq(`a"b`, `c"d`), `{"a\"b":"c\"d"}`},
		{"quote in a starts-with field", StartsWith(`a"b`, `\`), `["starts-with","$a\"b","\\"]`},
		{"field with U+2028", StartsWith("a\u2028", ""), `["starts-with","$a\u2028",""]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := appendCondition(nil, &c.c)
			if string(got) != c.want {
				t.Errorf("appendCondition = %s, want %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("%s is not valid JSON", got)
			}
		})
	}
}

// The expiration is written in UTC with exactly three fractional digits,
// truncated (ExpirationLayout; "POST Policy" example 2013-08-01T12:00:00.000Z).
func TestAppendExpiration(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2013, 8, 1, 12, 0, 0, 0, time.UTC), `"2013-08-01T12:00:00.000Z"`},
		{time.Date(2013, 8, 1, 12, 0, 0, 999999999, time.UTC), `"2013-08-01T12:00:00.999Z"`},
		{time.Date(2013, 8, 1, 12, 0, 0, 1000000, time.UTC), `"2013-08-01T12:00:00.001Z"`},
		{time.Date(2013, 8, 1, 12, 0, 0, 999999, time.UTC), `"2013-08-01T12:00:00.000Z"`},
		{time.Date(2013, 8, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)), `"2013-08-01T12:00:00.000Z"`},
		{time.Date(2013, 8, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 3600)), `"2013-07-31T23:30:00.000Z"`},
	} {
		if got := string(appendExpiration(nil, c.in)); got != c.want {
			t.Errorf("appendExpiration(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

// jsonStringRoundTrip checks what FuzzAppendJSONString checks for one
// input: the same bytes as encoding/json, valid JSON, and for valid UTF-8
// a string that decodes back to the input.
func jsonStringRoundTrip(t testing.TB, s string) {
	got := appendJSONString(nil, s)
	if want := encodingJSONString(t, s); string(got) != want {
		t.Fatalf("appendJSONString(%q) = %s, encoding/json gives %s", s, got, want)
	}
	if !json.Valid(got) {
		t.Fatalf("appendJSONString(%q) = %s is not valid JSON", s, got)
	}
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("decoding %s: %v", got, err)
	}
	if utf8.ValidString(s) && back != s {
		t.Fatalf("round trip of %q gave %q", s, back)
	}
	if !utf8.ValidString(back) {
		t.Fatalf("decoded %q is not valid UTF-8", back)
	}
}

// TestWordTests compares the word-at-a-time tests with byte loops for
// every byte value at every position of strings of 0 to 20 bytes: the
// boundaries of the 8-byte groups, the overlapping last group and the
// padded short strings.
func TestWordTests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      func(string) bool
		byteOK func(byte) bool
	}{
		{"jsonPlain", jsonPlain, func(c byte) bool { return plainJSON[c] }},
		{"plainValue", plainValue, func(c byte) bool { return c < 0x80 && c != '$' && c != '\r' && c != '\n' }},
	} {
		for n := 0; n <= 20; n++ {
			for pos := 0; pos < max(n, 1); pos++ {
				for c := 0; c < 256; c++ {
					b := []byte(strings.Repeat("k", n))
					if n > 0 {
						b[pos] = byte(c)
					}
					want := true
					for _, x := range b {
						want = want && tc.byteOK(x)
					}
					if got := tc.f(string(b)); got != want {
						t.Fatalf("%s(%q) = %v, a byte loop says %v", tc.name, b, got, want)
					}
				}
			}
		}
	}
}
