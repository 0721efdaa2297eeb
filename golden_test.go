package postpolicy_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// goldenPolicies builds the policy of each case in testdata/golden/signer.json.
// The expected bytes in that file were written by hand and signed with
// openssl (derive.sh), not by this package.
var goldenPolicies = map[string]func(now time.Time) postpolicy.Policy{
	"readme-example": func(now time.Time) postpolicy.Policy {
		return postpolicy.Policy{
			Expiration: now.Add(15 * time.Minute),
			Conditions: []postpolicy.Condition{
				postpolicy.Bucket("acme-user-uploads"),
				postpolicy.Key("uploads/user-42/${filename}"),
				postpolicy.ContentTypePrefix("image/"),
				postpolicy.ContentLengthRange(1, 10<<20),
				postpolicy.SuccessActionStatus(201),
				postpolicy.Meta("uploader", "user-42"),
			},
		}
	},
	"session-token-and-escaping": func(now time.Time) postpolicy.Policy {
		return postpolicy.Policy{
			Expiration: now.Add(time.Hour),
			Conditions: []postpolicy.Condition{
				postpolicy.Bucket("sigv4examplebucket"),
				postpolicy.Key("a\"b\\c/\u00e9\u2028$$.txt"),
				postpolicy.Meta("note", `x"],["starts-with","$acl","`),
			},
		}
	},
	"custom-endpoint-checksum-tagging-kms": func(now time.Time) postpolicy.Policy {
		digest, err := postpolicy.ChecksumDigest(postpolicy.ChecksumSHA256, strings.NewReader("hello"))
		if err != nil {
			panic(err)
		}
		conds := []postpolicy.Condition{
			postpolicy.Bucket("media.example.com"),
			postpolicy.Key("reports/2016/q1.csv"),
		}
		conds = append(conds, postpolicy.Checksum(postpolicy.ChecksumSHA256, digest)...)
		conds = append(conds, postpolicy.Tagging(postpolicy.Tag{Key: "team", Value: "R&D"}, postpolicy.Tag{Key: "quarter", Value: "Q1"}))
		conds = append(conds, postpolicy.ServerSideEncryptionKMS("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")...)
		conds = append(conds, postpolicy.StorageClass("STANDARD_IA"), postpolicy.ContentLengthRange(5, 5))
		return postpolicy.Policy{Expiration: now.Add(10 * time.Minute), Conditions: conds}
	},
}

func TestGoldenSigner(t *testing.T) {
	cases := testutil.GoldenCases(t, "testdata/golden/signer.json")
	if len(cases) != len(goldenPolicies) {
		t.Fatalf("%d cases in the file, %d built here", len(cases), len(goldenPolicies))
	}
	for _, tc := range cases {
		t.Run(tc.ID, func(t *testing.T) {
			build, ok := goldenPolicies[tc.ID]
			if !ok {
				t.Fatalf("no policy built for case %q", tc.ID)
			}
			now := mustDate(t, time.RFC3339Nano, tc.SigningTime)
			policy := build(now)
			before := clonePolicy(policy)
			s := &postpolicy.Signer{
				Credentials: postpolicy.Credentials{AccessKeyID: tc.AccessKeyID, SecretAccessKey: tc.SecretAccessKey, SessionToken: tc.SessionToken},
				Region:      tc.Region,
				Endpoint:    tc.Endpoint,
				Now:         func() time.Time { return now },
			}
			form, err := s.Sign(context.Background(), policy)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, policy, cmp.AllowUnexported(postpolicy.Condition{})); diff != "" {
				t.Errorf("Sign modified the policy (-before +after):\n%s", diff)
			}
			if form.URL != tc.URL {
				t.Errorf("URL = %q, want %q", form.URL, tc.URL)
			}
			want := append([][]string{}, tc.Fields...)
			want = append(want, []string{"policy", tc.Expected.PolicyBase64}, []string{"x-amz-signature", tc.Expected.Signature})
			var got [][]string
			for _, f := range form.Fields {
				got = append(got, []string{f.Name, f.Value})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if p, ok := form.Get("policy"); ok {
				raw, err := base64.StdEncoding.DecodeString(p)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.PolicyJSON, string(raw)); diff != "" {
					t.Errorf("policy document (-want +got):\n%s", diff)
				}
			}
			var page []string
			for _, c := range form.PageConditions {
				page = append(page, c.String())
			}
			if diff := cmp.Diff(tc.PageConditions, page, cmp.Comparer(func(a, b []string) bool {
				return strings.Join(a, "\n") == strings.Join(b, "\n")
			})); diff != "" {
				t.Errorf("page conditions (-want +got):\n%s", diff)
			}

			// Signing again gives the same bytes, from the cached key too.
			again, err := s.Sign(context.Background(), policy)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(form, again, cmp.AllowUnexported(postpolicy.Condition{})); diff != "" {
				t.Errorf("second signature differs (-first +second):\n%s", diff)
			}
		})
	}
}

func clonePolicy(p postpolicy.Policy) postpolicy.Policy {
	p.Conditions = append([]postpolicy.Condition(nil), p.Conditions...)
	return p
}
