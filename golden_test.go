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
	"template-example": func(now time.Time) postpolicy.Policy {
		return templateExample.Policy(now, templateExampleUser("user-42")...)
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

// templateExample is the Template of ExampleSigner_Prepare, whose
// conditions the template-example case holds; templateExampleUser gives a
// user's conditions.
var templateExample = func() *postpolicy.Template {
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "eu-west-1", Now: func() time.Time { return lintAt }}
	t, err := s.Prepare(15*time.Minute,
		postpolicy.Bucket("acme-user-uploads"),
		postpolicy.ContentTypePrefix("image/"),
		postpolicy.ContentLengthRange(1, 10<<20),
		postpolicy.SuccessActionStatus(201),
	)
	if err != nil {
		panic(err)
	}
	return t
}()

func templateExampleUser(userID string) []postpolicy.Condition {
	return []postpolicy.Condition{postpolicy.Key("uploads/" + userID + "/${filename}"), postpolicy.Meta("uploader", userID)}
}

// TestGoldenTemplate signs the template-example case through the Template
// itself: the policy text and signature computed with openssl.
func TestGoldenTemplate(t *testing.T) {
	for _, tc := range testutil.GoldenCases(t, "testdata/golden/signer.json") {
		if tc.ID != "template-example" {
			continue
		}
		if tc.SigningTime != lintAt.Format(time.RFC3339) {
			t.Fatalf("template-example is signed at %s, the Template's clock says %s", tc.SigningTime, lintAt.Format(time.RFC3339))
		}
		form, err := templateExample.Sign(context.Background(), templateExampleUser("user-42")...)
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := form.Get("policy"); p != tc.Expected.PolicyBase64 {
			t.Errorf("policy = %s, want %s", p, tc.Expected.PolicyBase64)
		}
		if sig, _ := form.Get("x-amz-signature"); sig != tc.Expected.Signature {
			t.Errorf("signature = %s, want %s", sig, tc.Expected.Signature)
		}
		return
	}
	t.Fatal("no template-example case")
}

func clonePolicy(p postpolicy.Policy) postpolicy.Policy {
	p.Conditions = append([]postpolicy.Condition(nil), p.Conditions...)
	return p
}
