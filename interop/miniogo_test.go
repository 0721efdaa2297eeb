package interop

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// This file drives minio-go's PostPolicy and Client.PresignedPostPolicy
// (post-policy.go, api-presigned.go) and posts what they return to
// postpolicy's receiver.Verifier.

// minioClient returns a minio-go client for AWS S3 in eu-west-1. With
// Options.Region set, PresignedPostPolicy does not look the bucket's region
// up (GetBucketLocation); its transport fails every request, and the test
// fails if it is ever called.
func minioClient(t *testing.T, token string) *minio.Client {
	t.Helper()
	c, err := minio.New("s3.amazonaws.com", &minio.Options{
		Creds:     credentials.NewStaticV4(accessKeyID, secretAccessKey, token),
		Secure:    true,
		Region:    region,
		Transport: newNoNetwork(t, "minio-go transport"),
	})
	if err != nil {
		t.Fatalf("minio.New: %v", err)
	}
	return c
}

// presignMinio signs p with a fresh client (minio-go's signing clock is
// time.Now, which cannot be set).
func presignMinio(t *testing.T, token string, p *minio.PostPolicy) (string, []postpolicy.Field) {
	t.Helper()
	u, form, err := minioClient(t, token).PresignedPostPolicy(context.Background(), p)
	if err != nil {
		t.Fatalf("PresignedPostPolicy: %v", err)
	}
	return u.String(), fieldsFromMap(form)
}

// must fails the test on a builder error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// realisticMinioPolicy is the realistic policy with minio-go's builder. key
// is an exact key, or with keyPrefix the prefix of a starts-with.
func realisticMinioPolicy(t *testing.T, key string, keyPrefix bool, expires time.Time) *minio.PostPolicy {
	t.Helper()
	p := minio.NewPostPolicy()
	must(t, p.SetExpires(expires))
	must(t, p.SetBucket(bucket))
	if keyPrefix {
		must(t, p.SetKeyStartsWith(key))
	} else {
		must(t, p.SetKey(key))
	}
	must(t, p.SetContentLengthRange(1, 10<<20))
	must(t, p.SetContentTypeStartsWith("image/"))
	must(t, p.SetSuccessStatusAction("201"))
	must(t, p.SetUserMetadata("uploader", "user-42"))
	return p
}

// TestMinioFormsVerify: the realistic policy presigned by minio-go, posted
// with the page's own key and Content-Type, is accepted by our Verifier
// configured with the same credentials and region.
func TestMinioFormsVerify(t *testing.T) {
	keyCases := []struct {
		name      string
		key       string
		keyPrefix bool
		pageKey   string // what the page puts in the key field ("": minio-go's value)
		filename  string
		wantKey   string
	}{
		// minio-go writes the bare prefix into the key field; the page
		// replaces it, here with ${filename}, which S3 (and our Verifier)
		// expand before checking the starts-with.
		{"key prefix with ${filename}", "uploads/user-42/", true, "uploads/user-42/${filename}", "photo.png", "uploads/user-42/photo.png"},
		{"exact key", "uploads/user-42/avatar.png", false, "", "avatar-from-disk.png", "uploads/user-42/avatar.png"},
	}
	for _, cc := range credentialCases {
		for _, kc := range keyCases {
			t.Run(cc.name+"/"+kc.name, func(t *testing.T) {
				formURL, fields := presignMinio(t, cc.token, realisticMinioPolicy(t, kc.key, kc.keyPrefix, time.Now().Add(15*time.Minute)))

				// minio-go emits a field for every condition it wrote,
				// lower-case authentication fields, and a bucket field.
				want := []string{"bucket", "Content-Type", "key", "policy", "success_action_status",
					"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-meta-uploader", "x-amz-signature"}
				if cc.token != "" {
					want = slices.Insert(want, 9, "x-amz-security-token")
				}
				if got := fieldNames(fields); !slices.Equal(got, want) {
					t.Errorf("minio-go fields = %q, want %q", got, want)
				}
				if got, _ := getField(fields, "Content-Type"); got != "image/" {
					t.Errorf("Content-Type field = %q, want the prefix image/ as a placeholder", got)
				}
				if want := "https://" + bucket + ".s3.dualstack." + region + ".amazonaws.com/"; formURL != want {
					t.Errorf("URL = %q, want %q", formURL, want)
				}

				if kc.pageKey != "" {
					fields = setField(fields, "key", kc.pageKey)
				}
				fields = setField(fields, "Content-Type", "image/png")
				pol, err := postpolicy.DecodePolicy(mustGet(t, fields, "policy"))
				if err != nil {
					t.Fatalf("DecodePolicy: %v", err)
				}
				if got := lintErrors(pol, fields); len(got) != 0 {
					t.Errorf("LintForm on minio-go's form: %q, want nothing", got)
				}
				content := fileContent(4096)
				u := mustUpload(t, newVerifier(ourCredentials(cc.token)), formURL, fields, kc.filename, content, kc.wantKey)
				if u.ContentType() != "image/png" {
					t.Errorf("Content-Type = %q, want image/png", u.ContentType())
				}
				t.Logf("minio-go form accepted: key %q; policy %s", u.Key, decodedPolicy(t, mustGet(t, fields, "policy")))
			})
		}
	}
}

func mustGet(t *testing.T, fields []postpolicy.Field, name string) string {
	t.Helper()
	v, ok := getField(fields, name)
	if !ok {
		t.Fatalf("no %s field in %q", name, fieldNames(fields))
	}
	return v
}

// TestMinioSSEFieldsWithoutConditions: PostPolicy.SetEncryption adds the
// server-side-encryption headers as form fields but writes no condition
// for them (post-policy.go, SetEncryption).
//
// Which side is right: by S3's coverage rule ("Creating a POST Policy",
// sigv4-HTTPPOSTConstructPolicy) every form
// field other than x-amz-signature, file, policy and x-ignore-* needs a
// condition, and the SSE fields are ordinary x-amz-* fields that S3 allows
// only with an exact match (the same page's condition table): S3 answers
// 403 AccessDenied "Invalid
// according to Policy: Extra input fields: x-amz-server-side-encryption".
// MinIO's server exempts the SSE fields from the rule (§1.8), which is why
// minio-go works against MinIO; against S3, and against our Verifier, which
// applies S3's rule, the form fails. The fix on minio-go's side is an eq
// condition per SSE field; with postpolicy, ServerSideEncryptionAES256()
// writes both.
func TestMinioSSEFieldsWithoutConditions(t *testing.T) {
	ssec, err := encrypt.NewSSEC(fileContent(32)) // a made-up 32-byte customer key
	must(t, err)
	cases := []struct {
		name       string
		sse        encrypt.ServerSide
		wantFields []string
		wantErr    string
	}{
		{"SSE-S3", encrypt.NewSSE(), []string{"X-Amz-Server-Side-Encryption"},
			"Invalid according to Policy: Extra input fields: x-amz-server-side-encryption"},
		{"SSE-C", ssec, []string{
			"X-Amz-Server-Side-Encryption-Customer-Algorithm",
			"X-Amz-Server-Side-Encryption-Customer-Key",
			"X-Amz-Server-Side-Encryption-Customer-Key-Md5",
		}, "Invalid according to Policy: Extra input fields: x-amz-server-side-encryption-customer-algorithm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := realisticMinioPolicy(t, "uploads/user-42/avatar.png", false, time.Now().Add(15*time.Minute))
			p.SetEncryption(tc.sse)
			formURL, fields := presignMinio(t, "", p)
			doc := decodedPolicy(t, mustGet(t, fields, "policy"))
			for _, name := range tc.wantFields {
				if _, ok := getField(fields, name); !ok {
					t.Errorf("minio-go no longer emits %s; update this test", name)
				}
				if strings.Contains(strings.ToLower(doc), strings.ToLower(name)) {
					t.Errorf("minio-go now writes a condition on %s; update this test:\n%s", name, doc)
				}
			}
			fields = setField(fields, "Content-Type", "image/png")
			_, _, err := upload(t, newVerifier(ourCredentials("")), formURL, fields, "avatar.png", fileContent(10))
			wantS3Error(t, err, receiver.CodeAccessDenied, http.StatusForbidden, tc.wantErr)

			// Policy.LintForm explains it before any upload: every SSE
			// field, and nothing else, is a field without a condition.
			pol, err := postpolicy.DecodePolicy(mustGet(t, fields, "policy"))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, name := range tc.wantFields {
				want = append(want, name+": "+string(postpolicy.RuleFieldWithoutCondition))
			}
			if got := lintErrors(pol, fields); !slices.Equal(got, want) {
				t.Errorf("LintForm: %q, want %q", got, want)
			}
		})
	}
}

// TestMinioJSONInjection: minio-go writes each condition with
// fmt.Sprintf(`["%s","%s","%s"]`) and no JSON escaping (post-policy.go,
// marshalJSON; the bug class of minio/minio-java#1174). A key built from a
// user-supplied name, x"],["starts-with","$acl"," closes the key condition
// and opens a new one: the signed policy is still valid JSON, and it says
// more than the backend meant. It grants the uploader any ACL.
//
// This is minio-go's bug, not ours: our parser is strict (ParsePolicy) but
// the injected text is well-formed JSON, so it parses, as S3's parser
// would, into a valid, wider policy, and our Verifier, like S3, then
// enforces what the policy says. The same key through our Signer stays
// inside its JSON string (the encoder escapes it), and the acl field is
// refused.
func TestMinioJSONInjection(t *testing.T) {
	const userSuppliedName = `x"],["starts-with","$acl","`
	key := "uploads/user-42/" + userSuppliedName

	p := minio.NewPostPolicy()
	must(t, p.SetExpires(time.Now().Add(15*time.Minute)))
	must(t, p.SetBucket(bucket))
	must(t, p.SetKey(key))
	must(t, p.SetContentLengthRange(1, 10<<20))
	formURL, fields := presignMinio(t, "", p)
	encoded := mustGet(t, fields, "policy")
	doc := decodedPolicy(t, encoded)
	t.Logf("minio-go signed this policy for key %q:\n%s", key, doc)
	if !strings.Contains(doc, `["eq","$key","uploads/user-42/x"],["starts-with","$acl",""]`) {
		t.Fatalf("the injection no longer shows in minio-go's policy (fixed?); update this test:\n%s", doc)
	}

	// Our strict parser reads it as valid JSON: an exact key condition on
	// the truncated key, and a starts-with on $acl with an empty prefix.
	pol, err := postpolicy.DecodePolicy(encoded)
	if err != nil {
		t.Fatalf("DecodePolicy refused minio-go's injected policy: %v (the injected JSON is well-formed; a refusal here would be a parser bug)", err)
	}
	var conds []string
	for _, c := range pol.Conditions {
		conds = append(conds, c.String())
	}
	t.Logf("parsed conditions: %s", strings.Join(conds, ", "))
	if !slices.Contains(conds, `["eq", "$key", "uploads/user-42/x"]`) || !slices.Contains(conds, `["starts-with", "$acl", ""]`) {
		t.Errorf("parsed conditions %q: want the truncated key and the injected acl", conds)
	}
	v := newVerifier(ourCredentials(""))

	// minio-go's own form, key field as it wrote it: the key no longer
	// matches its own (truncated) condition.
	_, _, err = upload(t, v, formURL, fields, "a.txt", fileContent(10))
	wantS3Error(t, err, receiver.CodeAccessDenied, http.StatusForbidden,
		`Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/user-42/x"]`)

	// The uploader who chose the name posts the truncated key and an ACL
	// of their choice: the signature is minio-go's, the policy allows it,
	// and the upload is accepted, public.
	attack := setField(fields, "key", "uploads/user-42/x")
	attack = setField(attack, "acl", "public-read-write")
	u := mustUpload(t, v, formURL, attack, "a.txt", fileContent(10), "uploads/user-42/x")
	if acl, _ := u.Get("acl"); acl != "public-read-write" {
		t.Errorf("acl = %q", acl)
	}

	// The same key through our Signer: one key condition holding the
	// whole name, no acl condition; the acl field is refused.
	signer := &postpolicy.Signer{Credentials: ourCredentials(""), Region: region}
	form, err := signer.Sign(context.Background(), postpolicy.Policy{
		Expiration: time.Now().Add(15 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket(bucket), postpolicy.Key(key), postpolicy.ContentLengthRange(1, 10<<20),
		},
	})
	if err != nil {
		t.Fatalf("our Signer: %v", err)
	}
	ours, err := postpolicy.DecodePolicy(mustGet(t, form.Fields, "policy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ours.Conditions {
		if strings.EqualFold(c.Field(), "acl") {
			t.Errorf("our policy has a condition on acl: %s", c)
		}
		if strings.EqualFold(c.Field(), "key") && c.Value() != key {
			t.Errorf("our key condition %s: want the whole key %q", c, key)
		}
	}
	_, _, err = upload(t, v, form.URL, setField(form.Fields, "acl", "public-read-write"), "a.txt", fileContent(10))
	wantS3Error(t, err, receiver.CodeAccessDenied, http.StatusForbidden, "Invalid according to Policy: Extra input fields: acl")
	mustUpload(t, v, form.URL, form.Fields, "a.txt", fileContent(10), key)
}
