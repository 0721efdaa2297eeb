package s3multipart_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy/s3multipart"
)

// FuzzKeyName checks that whatever a file is called, its key is under
// the prefix, one segment and a name below it, valid UTF-8 within S3's
// 1,024 bytes, without control or format characters, dot segments or
// ${ (which S3 would substitute in a form's key).
func FuzzKeyName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", `a\b`, "\xff", "${filename}", "..", "a\u202Eb", strings.Repeat("é", 300)} {
		f.Add("users/1/", s)
	}
	f.Add(strings.Repeat("p", 1100), "é")
	f.Fuzz(func(t *testing.T, prefix, filename string) {
		key := s3multipart.KeyName(prefix, filename)
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok || len(prefix) <= 900 && len(key) > 1024 {
			t.Fatalf("KeyName(%q, %q) = %q", prefix, filename, key)
		}
		id, name, ok := strings.Cut(rest, "/")
		if !ok || len(id) != 26 || name == "" || strings.Contains(name, "/") || name == "." || name == ".." ||
			!utf8.ValidString(name) || strings.Contains(name, "${") || len(name) > 255 {
			t.Fatalf("KeyName(%q, %q) = %q", prefix, filename, key)
		}
		for _, r := range name {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("KeyName(%q, %q) = %q holds %U", prefix, filename, key, r)
			}
		}
	})
}
