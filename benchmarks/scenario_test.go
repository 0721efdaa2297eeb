package benchmarks

import (
	"fmt"
	"time"
)

// The scenario, the same for every implementation: a backend lets user
// userID upload one image of at most 10 MiB under uploads/<userID>/ in the
// next 15 minutes, signing with temporary (STS) credentials.
const (
	bucket          = "acme-user-uploads"
	region          = "eu-west-1"
	service         = "s3"
	accessKeyID     = "ASIAIOSFODNN7EXAMPLE" // AWS's documentation example, as a temporary key
	secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	minSize         = 1
	maxSize         = 10 << 20 // 10 MiB
	contentTypePfx  = "image/"
	successStatus   = "201"
	expiresIn       = 15 * time.Minute

	// testUser is the user the correctness checks sign for.
	testUser = "user-42"
	// sessionTokenLen is the length of the session token in the STS
	// documentation's example response.
	sessionTokenLen = 356
)

// sessionToken is a fake session token: sessionTokenLen characters of the
// base64 alphabet from a fixed-seed generator, so every run signs the same
// bytes. It is no real secret.
var sessionToken = fakeSessionToken(sessionTokenLen, 42)

func fakeSessionToken(n int, seed uint32) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	x := seed
	for i := range b {
		x = x*1664525 + 1013904223 // Numerical Recipes' LCG
		b[i] = alphabet[x>>26]
	}
	return string(b)
}

// signingTime is the fixed clock of postpolicy and of both floors (see
// README.md, "Clock"). The peers cannot be given a clock and read the real
// one.
var signingTime = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

func fixedClock() time.Time { return signingTime }

// keyPrefix is the prefix a user's keys must start with.
func keyPrefix(userID string) string { return "uploads/" + userID + "/" }

// userIDs are the users the benchmarks sign for, one after the other, so
// that the per-user values of the policy change with every signature as
// they do in a backend, and nothing can cache them. They all have the
// length of testUser, so the policy's size does not change.
var userIDs = func() []string {
	ids := make([]string, 0, 90)
	for i := 10; i < 100; i++ {
		ids = append(ids, fmt.Sprintf("user-%02d", i))
	}
	return ids
}()
