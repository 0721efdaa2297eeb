package postpolicy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// The published AWS vectors, consumed as data (testdata/README.md names each
// source). Every expected value comes from AWS's pages or the AWS SigV4 test
// suite, never from this package.

func mustDate(t *testing.T, layout, s string) time.Time {
	t.Helper()
	d, err := time.Parse(layout, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAWSPostExample reproduces the signature of the AWS page "Example:
// Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)" by
// signing its base64 policy text exactly as published.
func TestAWSPostExample(t *testing.T) {
	var v struct {
		AccessKeyID     string     `json:"access_key_id"`
		SecretAccessKey string     `json:"secret_access_key"`
		Region          string     `json:"region"`
		Service         string     `json:"service"`
		Date            string     `json:"date"`
		AmzDate         string     `json:"amz_date"`
		Credential      string     `json:"credential"`
		PolicyBase64    string     `json:"policy_base64"`
		PolicyJSON      string     `json:"policy_json"`
		PolicySHA256    string     `json:"policy_json_sha256_hex"`
		FormFields      [][]string `json:"form_fields"`
		Derived         struct {
			SigningKey string `json:"signing_key_hex"`
		} `json:"derived_by_us_not_published"`
		Expected struct {
			Signature string `json:"signature_hex"`
		} `json:"expected"`
	}
	testutil.ReadJSON(t, "testdata/aws-s3-sigv4-post-example.json", &v)

	at := mustDate(t, "20060102T150405Z", v.AmzDate)
	key := postpolicy.DeriveSigningKey(v.SecretAccessKey, at, v.Region, v.Service)
	if got := hex.EncodeToString(key); got != v.Derived.SigningKey {
		t.Errorf("signing key = %s, want %s", got, v.Derived.SigningKey)
	}
	if got := postpolicy.SignEncodedPolicy(key, v.PolicyBase64); got != v.Expected.Signature {
		t.Errorf("signature = %s, want %s", got, v.Expected.Signature)
	}

	// The published form carries the same signature and policy text.
	fields := map[string]string{}
	for _, f := range v.FormFields {
		fields[f[0]] = f[1]
	}
	if fields["X-Amz-Signature"] != v.Expected.Signature || fields["Policy"] != v.PolicyBase64 {
		t.Errorf("vector file is inconsistent: form fields do not carry the expected signature and policy")
	}

	// The base64 text decodes to the published bytes (CR LF line ends).
	raw, err := base64.StdEncoding.DecodeString(v.PolicyBase64)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != v.PolicyJSON {
		t.Errorf("decoded policy differs from policy_json")
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != v.PolicySHA256 {
		t.Errorf("sha256(policy) = %x, want %s", sum, v.PolicySHA256)
	}

	// Signing a re-serialisation instead of the text as given must not
	// reproduce the signature: the string to sign is the base64 text.
	reencoded := base64.StdEncoding.EncodeToString([]byte(compactJSON(t, raw)))
	if postpolicy.SignEncodedPolicy(key, reencoded) == v.Expected.Signature {
		t.Errorf("a re-serialised policy signed to the published signature")
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestSigningKeyExample checks DeriveSigningKey against the AWS General
// Reference page "Examples of how to derive a signing key for Signature
// Version 4".
func TestSigningKeyExample(t *testing.T) {
	var v struct {
		Vectors []struct {
			Secret   string `json:"secret_access_key"`
			Date     string `json:"date"`
			Region   string `json:"region"`
			Service  string `json:"service"`
			Expected struct {
				KSigning string `json:"kSigning_hex"`
			} `json:"expected"`
		} `json:"vectors"`
	}
	testutil.ReadJSON(t, "testdata/aws-sigv4-signing-key-example.json", &v)
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range v.Vectors {
		// Any instant of the day gives the same key: only YYYYMMDD enters it.
		for _, clock := range []string{"000000", "235959"} {
			at := mustDate(t, "20060102150405", vec.Date+clock)
			got := hex.EncodeToString(postpolicy.DeriveSigningKey(vec.Secret, at, vec.Region, vec.Service))
			if got != vec.Expected.KSigning {
				t.Errorf("%s %s: kSigning = %s, want %s", vec.Date, clock, got, vec.Expected.KSigning)
			}
		}
	}
}

// TestSigV4Suite checks the signing primitive against all 31 cases of the
// AWS Signature Version 4 Test Suite: HMAC-SHA256 with the derived key over
// each case's string to sign, exactly as given.
func TestSigV4Suite(t *testing.T) {
	var v struct {
		AmzDate     string `json:"amz_date"`
		Region      string `json:"region"`
		Service     string `json:"service"`
		SigningKey  string `json:"signing_key_hex"`
		Credentials struct {
			Secret string `json:"secret_access_key"`
		} `json:"credentials"`
		Cases []struct {
			Name      string `json:"name"`
			STS       string `json:"sts"`
			Signature string `json:"expected_signature"`
		} `json:"cases"`
	}
	testutil.ReadJSON(t, filepath.Join("testdata", "aws-sig-v4-test-suite", "suite.json"), &v)
	if len(v.Cases) != 31 {
		t.Fatalf("suite has %d cases, want 31", len(v.Cases))
	}
	at := mustDate(t, "20060102T150405Z", v.AmzDate)
	key := postpolicy.DeriveSigningKey(v.Credentials.Secret, at, v.Region, v.Service)
	if got := hex.EncodeToString(key); got != v.SigningKey {
		t.Fatalf("signing key = %s, want %s", got, v.SigningKey)
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := postpolicy.SignEncodedPolicy(key, c.STS); got != c.Signature {
				t.Errorf("signature = %s, want %s", got, c.Signature)
			}
		})
	}
}

// TestSDKPostVectors signs the policy text pinned by aws-sdk-go-v2's
// TestSampleFromPublicDocs: a second exact POST signature over compact,
// SDK-made bytes.
func TestSDKPostVectors(t *testing.T) {
	var v struct {
		Vectors []struct {
			ID     string `json:"id"`
			Inputs struct {
				Secret      string `json:"secret_access_key"`
				Region      string `json:"region"`
				SigningTime string `json:"signing_time"`
			} `json:"inputs"`
			Expected struct {
				PolicyBase64 string `json:"policy_base64"`
				PolicyJSON   string `json:"policy_json"`
				Signature    string `json:"signature_hex"`
			} `json:"expected"`
		} `json:"vectors"`
	}
	testutil.ReadJSON(t, "testdata/sdk-post-vectors.json", &v)
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range v.Vectors {
		t.Run(vec.ID, func(t *testing.T) {
			at := mustDate(t, time.RFC3339, vec.Inputs.SigningTime)
			key := postpolicy.DeriveSigningKey(vec.Inputs.Secret, at, vec.Inputs.Region, "s3")
			if got := postpolicy.SignEncodedPolicy(key, vec.Expected.PolicyBase64); got != vec.Expected.Signature {
				t.Errorf("signature = %s, want %s", got, vec.Expected.Signature)
			}
			if raw, _ := base64.StdEncoding.DecodeString(vec.Expected.PolicyBase64); string(raw) != vec.Expected.PolicyJSON {
				t.Errorf("policy_base64 does not decode to policy_json")
			}
		})
	}
}
