package postpolicy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// The library's own signing benchmarks, on the scenario of the comparison
// module (benchmarks/, which also measures the peers and the floors):
// eu-west-1, a per-user key prefix, a size range, an image Content-Type,
// status 201, one metadata field, temporary credentials with a
// 356-character session token, 15 minutes, a different user every time.
// Plain Sign caches nothing but the day's policy start, so the order of the
// conditions and the bucket should not change its cost; the three kinds
// show it does not:
//
//	static-first   the conditions that are the same for everyone first
//	per-user-first the user's key second
//	two-buckets    users of two buckets in turn
//
// (Signer.Prepare is the way to have the common conditions encoded once;
// benchmarks/ measures it as postpolicy-template.)
//
// The policies are built by functions, so their conditions are on the heap:
// one allocation (480 B) more than a Policy literal at the call, which
// stays on the caller's stack (as in benchmarks/).

func benchSigner() *postpolicy.Signer {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	return &postpolicy.Signer{
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "ASIAIOSFODNN7EXAMPLE",
			SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			SessionToken:    strings.Repeat("FQoGZXIvYXdzEXAMPLETOKEN", 15)[:356],
		},
		Region: "eu-west-1",
		Now:    func() time.Time { return now },
	}
}

var benchUsers = func() []string {
	u := make([]string, 90)
	for i := range u {
		u[i] = fmt.Sprintf("user-%02d", i+10)
	}
	return u
}()

// benchPolicies returns the policy for the i-th signature of each kind.
var benchPolicies = map[string]func(now time.Time, i int) postpolicy.Policy{
	"static-first": func(now time.Time, i int) postpolicy.Policy {
		u := benchUsers[i%len(benchUsers)]
		return postpolicy.Policy{Expiration: now.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Key("uploads/" + u + "/${filename}"),
			postpolicy.Meta("uploader", u),
		}}
	},
	"per-user-first": func(now time.Time, i int) postpolicy.Policy {
		u := benchUsers[i%len(benchUsers)]
		return postpolicy.Policy{Expiration: now.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key("uploads/" + u + "/${filename}"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", u),
		}}
	},
	"two-buckets": func(now time.Time, i int) postpolicy.Policy {
		u := benchUsers[i%len(benchUsers)]
		return postpolicy.Policy{Expiration: now.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket([]string{"acme-user-uploads", "acme-avatars"}[i%2]),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Key("uploads/" + u + "/${filename}"),
			postpolicy.Meta("uploader", u),
		}}
	},
}

func BenchmarkSign(b *testing.B) {
	for _, kind := range []string{"static-first", "per-user-first", "two-buckets"} {
		policy := benchPolicies[kind]
		b.Run("policy="+kind+"/api=Sign", func(b *testing.B) {
			s := benchSigner()
			now, ctx := s.Now(), context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Sign(ctx, policy(now, i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("policy="+kind+"/api=AppendFormJSON", func(b *testing.B) {
			s := benchSigner()
			now, ctx := s.Now(), context.Background()
			b.ReportAllocs()
			var buf []byte
			i := 0
			for b.Loop() {
				var err error
				if buf, err = s.AppendFormJSON(ctx, buf[:0], policy(now, i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkSignParallel(b *testing.B) {
	s := benchSigner()
	now, ctx := s.Now(), context.Background()
	policy := benchPolicies["static-first"]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Sign(ctx, policy(now, i)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
