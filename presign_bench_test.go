package postpolicy_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// BenchmarkPresignPut measures one presigned PUT on the scenario of the
// comparison module's BenchmarkPresignPut (benchmarks/presign_test.go):
// user <id> may PUT users/<id>/avatar.png into acme-user-uploads, as
// image/png of exactly 1 MiB, with x-amz-meta-uploader=<id>, in the next
// 15 minutes; a different user every time. The sub-benchmarks sign with
// the AWS example's long-term key, as the comparison does, and with
// temporary credentials (benchSigner's 356-character session token),
// which lengthen the URL.
//
// The loop builds each user's key in a reused buffer and takes the user
// id out of it, and keeps the conditions in an array on its stack, so
// that the harness costs two allocations per call: the key's string and
// the field name Meta builds. PresignPut makes the other three
// (TestPresignAllocations).
func BenchmarkPresignPut(b *testing.B) {
	for _, tc := range []struct {
		name  string
		creds postpolicy.Credentials
	}{
		{"creds=long-term", postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"creds=session", benchSigner().Credentials.(postpolicy.Credentials)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := presignBenchSigner(tc.creds)
			now, ctx := s.Now(), context.Background()
			var keyBuf []byte
			var last *postpolicy.Presigned
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				key, user := presignBenchKey(&keyBuf, i)
				conds := [5]postpolicy.Condition{
					postpolicy.Bucket("acme-user-uploads"),
					postpolicy.Key(key),
					postpolicy.ContentType("image/png"),
					postpolicy.ContentLengthRange(1<<20, 1<<20),
					postpolicy.Meta("uploader", user),
				}
				var err error
				if last, err = s.PresignPut(ctx, postpolicy.Policy{Expiration: now.Add(15 * time.Minute), Conditions: conds[:]}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			// The last URL is the last user's (b.Loop stopped the timer).
			if _, user := presignBenchKey(&keyBuf, i-1); !strings.Contains(last.URL, "/users/"+user+"/avatar.png?") || len(last.Header) != 3 {
				b.Fatalf("the last URL %s does not name %s, or its headers are not 3: %v", last.URL, user, last.Header)
			}
		})
	}
}

// presignBenchSigner returns the Signer of BenchmarkPresignPut: us-east-1,
// at a fixed time.
func presignBenchSigner(creds postpolicy.Credentials) *postpolicy.Signer {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	return &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
}

// presignBenchKey returns the key of the i-th user, users/user-<i>/avatar.png,
// and the user's id, a substring of it; buf is reused from call to call.
func presignBenchKey(buf *[]byte, i int) (key, user string) {
	b := append((*buf)[:0], "users/user-"...)
	b = strconv.AppendInt(b, int64(i), 10)
	end := len(b)
	b = append(b, "/avatar.png"...)
	*buf = b
	key = string(b)
	return key, key[len("users/"):end]
}
