package postpolicy_test

import (
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// FuzzPathsAgree builds policies of every shape from the fuzzer's bytes
// (which fields, in which case, with which operator, where the value comes
// from, how many conditions, which of them a Template prepares, the
// lifetime) with values from a palette and from the fuzzer, and checks
// that every path signs each the same way (paths.check): Validate, a new
// and a long-lived Signer, a new and a long-lived Template.
func FuzzPathsAgree(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 2, 3, 4, 2}, "user-42", "image/png")
	f.Add([]byte{3, 1, 0, 2, 2, 5, 4, 4, 7, 1, 9, 0, 2}, "u/${filename}", "\xff")
	f.Add([]byte{1, 0, 6, 0, 0, 14, 0, 5, 13, 1, 12, 0}, "COLD", "a\nb")
	f.Add([]byte{2, 2, 17, 0, 11, 4, 3, 21, 1, 8}, `x"],["starts-with","$acl","`, "")
	at := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, shape []byte, s1, s2 string) {
		sp, ok := splitFromShape(shape, s1, s2)
		if !ok {
			return
		}
		p := newPaths(exampleCredentials, func() time.Time { return at })
		p.check(t, sp)
		p.check(t, sp) // the long-lived paths, warm
	})
}

var (
	shapeFields = []string{"bucket", "key", "Key", "Content-Type", "acl", "success_action_status", "success_action_redirect",
		"x-amz-meta-a", "X-Amz-Meta-A", "x-amz-storage-class", "x-amz-server-side-encryption", "x-amz-checksum-algorithm",
		"x-amz-checksum-sha256", "tagging", "Cache-Control", "policy", "x-amz-date", "file", "x-ignore-a", "$key",
		"bad name", "content-length-range", "", "x-amz-meta-\xff"}
	shapeValues = []string{"", "acme-user-uploads", "u/", "u/${filename}", "image/", "image/png, text/plain", "private",
		"201", "STANDARD", "AES256", "SHA256", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", "https://example.com/done"}
	shapeLifetimes = []time.Duration{15 * time.Minute, 8 * 24 * time.Hour, -time.Minute, time.Millisecond}
)

// splitFromShape decodes a policy from shape: a byte for the lifetime, a
// byte for how many conditions are fixed, then three bytes per condition
// (its field, its kind, its value); s1 and s2 are values too.
func splitFromShape(shape []byte, s1, s2 string) (split, bool) {
	if len(shape) < 2 || len(shape) > 2+3*12 {
		return split{}, false
	}
	sp := split{name: "fuzzed", lifetime: shapeLifetimes[int(shape[0])%len(shapeLifetimes)]}
	nFixed := int(shape[1])
	values := append(append([]string(nil), shapeValues...), s1, s2)
	var conds []postpolicy.Condition
	for b := shape[2:]; len(b) >= 3; b = b[3:] {
		field := shapeFields[int(b[0])%len(shapeFields)]
		v := values[int(b[2])%len(values)]
		w := values[int(b[2]/16)%len(values)]
		var c postpolicy.Condition
		switch b[1] % 9 {
		case 0:
			c = postpolicy.Eq(field, v)
		case 1:
			c = postpolicy.StartsWith(field, v)
		case 2:
			c = postpolicy.StartsWith(field, v).WithFormValue(w)
		case 3:
			c = postpolicy.Eq(field, v).FromPage()
		case 4:
			c = postpolicy.Eq(field, v).WithFormValue(w)
		case 5:
			c = postpolicy.ContentLengthRange(int64(b[2])-8, int64(b[0])<<int(b[2]%40))
		case 6:
			c = postpolicy.Bucket(v)
		case 7:
			c = postpolicy.Key(v)
		case 8:
			// the zero Condition
		}
		conds = append(conds, c)
	}
	nFixed = min(nFixed, len(conds))
	sp.fixed, sp.perRq = conds[:nFixed], conds[nFixed:]
	return sp, true
}
