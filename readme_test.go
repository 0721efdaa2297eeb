package postpolicy_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEMirrorsExamples checks that the README's code is the body of the
// Example functions it copies, so that go test keeps the README true.
func TestREADMEMirrorsExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range []struct{ file, fn string }{
		{"example_test.go", "Example"},
		{"example_test.go", "ExampleSigner_Prepare"},
		{"example_test.go", "ExampleSigner_PresignPut"},
		{"receiver/example_test.go", "ExampleVerifier"},
		{"postpolicytest/example_test.go", "ExampleNewServer"},
		{"s3multipart/example_test.go", "Example"},
	} {
		src, err := os.ReadFile(ex.file)
		if err != nil {
			t.Fatal(err)
		}
		body, ok := exampleBody(string(src), ex.fn)
		if !ok {
			t.Fatalf("%s: no func %s", ex.file, ex.fn)
		}
		if ex.file == "example_test.go" && ex.fn == "Example" {
			// The README shows the main example's output apart from its code.
			body, _, _ = strings.Cut(body, "// Output:")
			body = strings.TrimRight(body, "\t\n") + "\n"
		}
		if !strings.Contains(string(readme), "```go\n"+body) {
			t.Errorf("README.md does not hold the body of %s in %s, as a Go code block:\n%s", ex.fn, ex.file, body)
		}
	}
}

// exampleBody returns the body of func fn in src, unindented by one tab.
func exampleBody(src, fn string) (string, bool) {
	_, rest, ok := strings.Cut(src, "\nfunc "+fn+"() {\n")
	if !ok {
		return "", false
	}
	body, _, ok := strings.Cut(rest, "\n}\n")
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		b.WriteString(strings.TrimPrefix(line, "\t"))
		b.WriteString("\n")
	}
	return b.String(), true
}
