package receiver

import (
	"mime"
	"strings"
	"testing"
)

// dispositionTests are Content-Disposition values of form parts and what
// parseFormDisposition makes of them. The grammar is RFC 6266 section 4.1
// with RFC 9110's token and quoted-string; RFC 7578 section 4.2 names the
// parameters of a form-data part.
var dispositionTests = []struct {
	in          string
	name        string
	filename    string
	hasFilename bool
	ok          bool
}{
	{`form-data; name="a"`, "a", "", false, true},
	{`form-data; name="file"; filename="photo.jpg"`, "file", "photo.jpg", true, true},
	{`form-data; name=a; filename=b.txt`, "a", "b.txt", true, true},
	{`FORM-DATA; Name="a"; FILENAME="x"`, "a", "x", true, true},
	{`form-data; name="a"; filename=""`, "a", "", true, true},
	{`form-data ; name = a ;filename= "b" ;`, "a", "b", true, true},
	{"form-data;\tname=a", "a", "", false, true},
	{`form-data`, "", "", false, true},
	{`form-data; name="a\\b"`, `a\b`, "", false, true},
	{`form-data; name="a\"b"`, `a"b`, "", false, true},
	// A backslash escapes whatever follows it (RFC 9110 section 5.6.4);
	// mime.ParseMediaType would keep it here, for old Internet Explorer.
	{`form-data; name="a\b"`, "ab", "", false, true},
	{`form-data; name="C:\\dir\\"`, `C:\dir\`, "", false, true},
	{"form-data; name=\"a\tb c\"", "a\tb c", "", false, true},
	{"form-data; name=\"caf\xc3\xa9\"", "caf\xc3\xa9", "", false, true},
	{`form-data; name="a"; other="x"`, "a", "", false, true},

	// Starred parameters (RFC 2231, RFC 5987) are ignored.
	{`form-data; name="a"; name*=UTF-8''key`, "a", "", false, true},
	{`form-data; name*=UTF-8''key; name="a"`, "a", "", false, true},
	{`form-data; name="file"; filename="p.png"; filename*=UTF-8''evil%0D%0A%00.png`, "file", "p.png", true, true},
	{`form-data; name="file"; filename*=UTF-8''evil.png`, "file", "", false, true},
	{`form-data; name="file"; filename*0="ev"; filename*1*=il.png`, "file", "", false, true},
	{`form-data; name="a"; name*=x; name*=y`, "a", "", false, true},
	{`form-data; name="a"; name*="unclosed`, "", "", false, false},

	// Refused.
	{``, "", "", false, false},
	{`attachment; name="a"`, "", "", false, false},
	{`inline; name="a"`, "", "", false, false},
	{`form-data2; name="a"`, "", "", false, false},
	{`name="a"`, "", "", false, false},
	{`form-data, name="a"`, "", "", false, false},
	{`form-data; name`, "", "", false, false},
	{`form-data; name=`, "", "", false, false},
	{`form-data; =a`, "", "", false, false},
	{`form-data;; name=a`, "", "", false, false},
	{`form-data; name=a;;`, "", "", false, false},
	{`form-data; name=a b`, "", "", false, false},
	{`form-data; name={a}`, "", "", false, false},
	{`form-data; name=a"b"`, "", "", false, false},
	{`form-data; name="a`, "", "", false, false},
	{`form-data; name="a\`, "", "", false, false},
	{`form-data; name="a\"`, "", "", false, false},
	{`form-data; name="a"b`, "", "", false, false},
	{"form-data; name=\"a\x00\"", "", "", false, false},
	{"form-data; name=\"a\\\x00\"", "", "", false, false},
	{"form-data; name=\"a\r\nb\"", "", "", false, false},
	{"form-data; name=\"a\x7f\"", "", "", false, false},
	{"form-data; name=\"a\x1b\"", "", "", false, false},
	{"form-data;\x0bname=a", "", "", false, false},
	{"form-data; name=a\xc2\xa0", "", "", false, false},
	{`form-data; name=a; name=b`, "", "", false, false},
	{`form-data; name=a; NAME=a`, "", "", false, false},
	{`form-data; name="file"; filename="a"; filename="b"`, "", "", false, false},
	{`form-data; name=a; x=1; X=1`, "", "", false, false},
}

func TestParseFormDisposition(t *testing.T) {
	for _, tc := range dispositionTests {
		name, filename, has, ok := parseFormDisposition(tc.in)
		if ok != tc.ok || name != tc.name || filename != tc.filename || has != tc.hasFilename {
			t.Errorf("parseFormDisposition(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
				tc.in, name, filename, has, ok, tc.name, tc.filename, tc.hasFilename, tc.ok)
		}
	}
}

// FuzzFormDisposition: the parser never panics; what it accepts holds no
// control character but a tab; starred parameters added to an accepted
// value change nothing; and where neither the input has starred
// parameters nor a backslash before a byte that needs no escaping (the
// one place mime.ParseMediaType departs from RFC 9110 on purpose), it
// agrees with mime.ParseMediaType whenever both accept.
func FuzzFormDisposition(f *testing.F) {
	for _, tc := range dispositionTests {
		f.Add(tc.in)
	}
	f.Add(`form-data; name="x-amz-meta-a"; filename*=utf-8'en'%E2%82%AC.txt; filename="e.txt"`)
	f.Fuzz(func(t *testing.T, in string) {
		name, filename, has, ok := parseFormDisposition(in)
		if !ok {
			if name != "" || filename != "" || has {
				t.Fatalf("refused %q but returned %q, %q, %v", in, name, filename, has)
			}
			return
		}
		for _, s := range []string{name, filename} {
			for i := 0; i < len(s); i++ {
				if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
					t.Fatalf("%q gives a name with the control byte %#x: %q", in, c, s)
				}
			}
		}
		starred := `; name*=UTF-8''key; filename*=UTF-8''evil%0A.png; filename*0="x"`
		if strings.HasSuffix(strings.TrimRight(in, " \t"), ";") {
			starred = starred[1:] // after a trailing ';'
		}
		n2, f2, h2, ok2 := parseFormDisposition(in + starred)
		if !ok2 || n2 != name || f2 != filename || h2 != has {
			t.Fatalf("starred parameters after %q changed the result: %q, %q, %v, %v", in, n2, f2, h2, ok2)
		}

		typ, params, _ := parseDisposition(in)
		for _, p := range params {
			if strings.Contains(p.name, "*") {
				return
			}
		}
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && (i+1 == len(in) || !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(in[i+1]))) {
				return
			}
		}
		mt, mp, err := mime.ParseMediaType(in)
		if err != nil {
			return
		}
		if mt != strings.ToLower(typ) || len(mp) != len(params) {
			t.Fatalf("%q: mime.ParseMediaType gives %q %q, this parser %q %q", in, mt, mp, typ, params)
		}
		for _, p := range params {
			if v, found := mp[p.name]; !found || v != p.value {
				t.Fatalf("%q: parameter %q is %q here, %q (%v) for mime.ParseMediaType", in, p.name, p.value, v, found)
			}
		}
	})
}
