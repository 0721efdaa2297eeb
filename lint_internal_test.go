package postpolicy

import (
	"strings"
	"testing"
)

// TestNameBytes compares nameHash's checks of the bytes with a byte loop for every byte value
// at every position of names of 1 to 20 bytes: the 8-byte words, the
// padded last word.
func TestNameBytes(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("k", n))
				b[pos] = byte(c)
				wantBad, wantASCII := false, true
				for _, x := range b {
					wantBad = wantBad || x < 0x21 || x == 0x7f || x == '"' || x == '\\'
					wantASCII = wantASCII && x < 0x80
				}
				if _, bad, ascii := nameHash(string(b)); bad != wantBad || ascii != wantASCII {
					t.Fatalf("nameHash(%q) = %v, %v; a byte loop says %v, %v", b, bad, ascii, wantBad, wantASCII)
				}
			}
		}
	}
}

// TestFoldWord compares foldWord with a byte loop that lower-cases ASCII
// letters, for every byte value at every position of a word.
func TestFoldWord(t *testing.T) {
	for pos := range 8 {
		for c := 0; c < 256; c++ {
			b := []byte("aZ@[`{\x80\xff")
			b[pos] = byte(c)
			want := []byte(string(b))
			for i, x := range want {
				if 'A' <= x && x <= 'Z' {
					want[i] = x + 'a' - 'A'
				}
			}
			if got, w := foldWord(load8(string(b))), load8(string(want)); got != w {
				t.Fatalf("foldWord(%q) = %x, a byte loop says %x", b, got, w)
			}
		}
	}
}

// TestFoldHash checks that names equal but for ASCII case hash alike, and
// that the names of the kind table do not collide with each other.
func TestFoldHash(t *testing.T) {
	for _, names := range kindNames {
		for _, n := range names {
			if foldHash(n) != foldHash(strings.ToUpper(n)) || foldHash(n) != foldHash(strings.ToTitle(n[:1])+n[1:]) {
				t.Errorf("%q: the hash depends on ASCII case", n)
			}
			if kindOf(foldHash(strings.ToUpper(n)), strings.ToUpper(n)) == kindOther {
				t.Errorf("%q in upper case has no kind", n)
			}
		}
	}
	seen := map[uint64]string{}
	for _, names := range kindNames {
		for _, n := range names {
			if m, ok := seen[foldHash(n)]; ok {
				t.Errorf("%q and %q hash alike", n, m)
			}
			seen[foldHash(n)] = n
		}
	}
	if foldHash("key") == foldHash("key\x00") || foldHash("") == foldHash("\x00") {
		t.Error("names of different lengths hash alike")
	}
}
