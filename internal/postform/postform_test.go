package postform

import (
	"strings"
	"testing"
)

// IndexFilenameVar must agree with strings.Index, which it replaces.
func TestIndexFilenameVar(t *testing.T) {
	for _, s := range []string{"", "$", "$$", "${filename}", "${filenam", "$${filename}", "a/${filename}",
		"a/$x/${filename}", "${filename}${filename}", "${file${filename}", "x${filename", "no dollar", "$${filenam$"} {
		if got, want := IndexFilenameVar(s), strings.Index(s, FilenameVar); got != want {
			t.Errorf("IndexFilenameVar(%q) = %d, strings.Index says %d", s, got, want)
		}
	}
}

func FuzzIndexFilenameVar(f *testing.F) {
	f.Add("uploads/user-42/${filename}")
	f.Add("$${filename}$")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IndexFilenameVar(s), strings.Index(s, FilenameVar); got != want {
			t.Errorf("IndexFilenameVar(%q) = %d, strings.Index says %d", s, got, want)
		}
	})
}
