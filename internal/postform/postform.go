// Package postform holds the rules of S3's browser-upload form that the
// signing side (the lint) and the receiving side (the verifier) both
// apply, so that each is written once: ${filename} substitution,
// starts-with matching, which fields allow starts-with, and which fields
// need no condition.
//
// The rules come from the AWS pages "Creating an HTML Form"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html)
// and "Creating a POST Policy"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
package postform

import "strings"

// FilenameVar is the variable S3 replaces with the uploaded file's name in
// every form field before it checks the policy: "The variable ${filename}
// is automatically replaced with the name of the file provided by the user
// and is recognized by all form fields" ("Creating an HTML Form").
const FilenameVar = "${filename}"

// IndexFilenameVar is strings.Index(s, FilenameVar), quicker on the common
// value without a '$'.
func IndexFilenameVar(s string) int {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			return -1
		}
		i += j
		if strings.HasPrefix(s[i:], FilenameVar) {
			return i
		}
		i++
	}
}

// BaseName returns the name S3 substitutes for ${filename}: the file name
// the browser sent, after its last '/' or '\' (browsers on Windows used to
// send the whole path).
func BaseName(filename string) string {
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		return filename[i+1:]
	}
	return filename
}

// Expand returns value with every ${filename} replaced by base, the
// BaseName of the uploaded file.
func Expand(value, base string) string {
	if IndexFilenameVar(value) < 0 {
		return value
	}
	return strings.ReplaceAll(value, FilenameVar, base)
}

// StartsWith applies S3's starts-with rule to the value of field: the
// value must begin with prefix, except that on Content-Type a value holding
// commas is a list whose every element, spaces trimmed, must begin with it
// (the condition-matching table of "Creating a POST Policy").
func StartsWith(field, value, prefix string) bool {
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

// StartsWithAllowed reports whether S3 allows starts-with on field: every
// field except bucket, success_action_status, and the x-amz-* fields other
// than x-amz-meta-* (the condition-matching table of "Creating a POST
// Policy").
func StartsWithAllowed(field string) bool {
	switch {
	case EqualFold(field, "bucket"), EqualFold(field, "success_action_status"):
		return false
	case HasPrefixFold(field, "x-amz-meta-"):
		return true
	case HasPrefixFold(field, "x-amz-"):
		return false
	}
	return true
}

// Exempt reports whether a form field needs no condition: "Each form field
// that you specify in a form (except x-amz-signature, file, policy, and
// field names that have an x-ignore- prefix) must appear in the list of
// conditions" ("Creating a POST Policy"). Names compare case-insensitively.
func Exempt(name string) bool {
	return EqualFold(name, "policy") || EqualFold(name, "x-amz-signature") ||
		EqualFold(name, "file") || HasPrefixFold(name, "x-ignore-")
}

// EqualFold reports whether a and b are equal ignoring ASCII case.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if a == b {
		return true
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x != y && lower(x) != lower(y) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// HasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func HasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && EqualFold(s[:len(prefix)], prefix)
}
