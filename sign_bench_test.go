package postpolicy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// benchPolicy is the scenario of the comparison benchmarks (benchmarks/):
// eu-west-1, a per-user key prefix, a size range, an image Content-Type,
// status 201, one metadata field, temporary credentials with a
// 356-character session token, 15 minutes.
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

func benchPolicy(now time.Time) postpolicy.Policy {
	return postpolicy.Policy{
		Expiration: now.Add(15 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key("uploads/user-42/${filename}"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", "user-42"),
		},
	}
}

func BenchmarkSign(b *testing.B) {
	s := benchSigner()
	now := s.Now()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(ctx, benchPolicy(now)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignParallel(b *testing.B) {
	s := benchSigner()
	now := s.Now()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Sign(ctx, benchPolicy(now)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
