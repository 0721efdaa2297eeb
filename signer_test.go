package postpolicy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
)

// The published AWS example credentials (the POST example page and the
// IAM user guide), and the fake session token of the AWS STS docs.
const (
	exampleAKID         = "AKIAIOSFODNN7EXAMPLE"
	exampleSecretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleSessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
	// The second example key pair of the AWS docs ("Managing access keys
	// for IAM users", the CLI configuration pages), for rotation tests.
	exampleAKID2      = "AKIAI44QH8DHBEXAMPLE"
	exampleSecretKey2 = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
)

var exampleCredentials = postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}

// newExampleSigner returns a Signer in us-east-1 with the example keys and
// a clock fixed at lintAt.
func newExampleSigner() *postpolicy.Signer {
	return &postpolicy.Signer{
		Credentials: exampleCredentials,
		Region:      "us-east-1",
		Now:         func() time.Time { return lintAt },
	}
}

// awsSigningKey computes the SigV4 signing key with crypto/hmac directly,
// as "Calculating a Signature" (sigv4-authentication-HTTPPOST) lists it:
// kDate = HMAC("AWS4"+secret, date), then region, service, "aws4_request".
// It shares no code with DeriveSigningKey; TestAWSSigningKeyHelper checks it
// against the published value.
func awsSigningKey(secret, yyyymmdd, region, service string) []byte {
	k := []byte("AWS4" + secret)
	for _, part := range []string{yyyymmdd, region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	return k
}

// awsSignature is hex(HMAC-SHA256(key, policyBase64)).
func awsSignature(key []byte, policyBase64 string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(policyBase64))
	return hex.EncodeToString(m.Sum(nil))
}

// The signing key of the AWS POST example (sigv4-post-example, 20151229,
// us-east-1, s3), derived independently when the vectors were collected
// (testdata/aws-s3-sigv4-post-example.json, derived_by_us_not_published).
func TestAWSSigningKeyHelper(t *testing.T) {
	const want = "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
	if got := hex.EncodeToString(awsSigningKey(exampleSecretKey, "20151229", "us-east-1", "s3")); got != want {
		t.Fatalf("test helper key = %s, want %s", got, want)
	}
}

// signedPolicy is a signed form's policy document, decoded with
// encoding/json.
type signedPolicy struct {
	Conditions []any  `json:"conditions"`
	Expiration string `json:"expiration"`
}

func decodeFormPolicy(t *testing.T, form *postpolicy.Form) signedPolicy {
	t.Helper()
	b64, ok := form.Get("policy")
	if !ok {
		t.Fatal("form has no policy field")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("policy is not base64: %v", err)
	}
	if !json.Valid(raw) {
		t.Fatalf("policy is not JSON: %s", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p signedPolicy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return p
}

// verifyForm checks the form's signature with the key computed in the test.
func verifyForm(form *postpolicy.Form, secret, region string) error {
	cred, _ := form.Get("x-amz-credential")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return fmt.Errorf("x-amz-credential %q has %d parts", cred, len(parts))
	}
	p, _ := form.Get("policy")
	sig, _ := form.Get("x-amz-signature")
	if want := awsSignature(awsSigningKey(secret, parts[1], region, "s3"), p); sig != want {
		return fmt.Errorf("signature %s, want %s", sig, want)
	}
	return nil
}

func fieldNames(form *postpolicy.Form) []string {
	var names []string
	for _, f := range form.Fields {
		names = append(names, f.Name)
	}
	return names
}

func TestSignerConfigErrors(t *testing.T) {
	policy := lintPolicy()
	// config returns a Signer with the example credentials in us-east-1,
	// changed by edit.
	config := func(edit func(s *postpolicy.Signer)) func() *postpolicy.Signer {
		return func() *postpolicy.Signer {
			s := newExampleSigner()
			edit(s)
			return s
		}
	}
	for _, tc := range []struct {
		name   string
		signer func() *postpolicy.Signer
	}{
		{"nil Credentials", config(func(s *postpolicy.Signer) { s.Credentials = nil })},
		{"empty Region", config(func(s *postpolicy.Signer) { s.Region = "" })},
		{"Region with a slash", config(func(s *postpolicy.Signer) { s.Region = "us-east-1/x" })},
		{"Region with a space", config(func(s *postpolicy.Signer) { s.Region = "us east 1" })},
		{"Region with a line break", config(func(s *postpolicy.Signer) { s.Region = "us-east-1\n" })},
		{"Service with a slash", config(func(s *postpolicy.Signer) { s.Service = "s3/x" })},
		{"Service with a quote", config(func(s *postpolicy.Signer) { s.Service = `s3"` })},
		{"URLStyle 3", config(func(s *postpolicy.Signer) { s.URLStyle = 3 })},
		{"URLStyle 255", config(func(s *postpolicy.Signer) { s.URLStyle = 255 })},
		{"Endpoint ftp", config(func(s *postpolicy.Signer) { s.Endpoint = "ftp://example.com" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, err := tc.signer().Sign(context.Background(), policy)
			if form != nil {
				t.Errorf("Sign returned a form")
			}
			if !errors.Is(err, postpolicy.ErrSignerConfig) {
				t.Errorf("Sign error = %v, want ErrSignerConfig", err)
			}
			if errors.Is(err, postpolicy.ErrInvalidPolicy) || errors.Is(err, postpolicy.ErrInvalidCredentials) {
				t.Errorf("Sign error %v matches another sentinel", err)
			}
		})
	}
}

func TestSignerInvalidCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds postpolicy.Credentials
	}{
		{"empty access key id", postpolicy.Credentials{SecretAccessKey: exampleSecretKey}},
		{"access key id with a slash", postpolicy.Credentials{AccessKeyID: "AKIA/IOSFODNN7EXAMPLE", SecretAccessKey: exampleSecretKey}},
		{"access key id with a space", postpolicy.Credentials{AccessKeyID: "AKIA IOSFODNN7EXAMPLE", SecretAccessKey: exampleSecretKey}},
		{"access key id with a quote", postpolicy.Credentials{AccessKeyID: `AKIA"`, SecretAccessKey: exampleSecretKey}},
		{"empty secret", postpolicy.Credentials{AccessKeyID: exampleAKID}},
		{"empty secret with a token", postpolicy.Credentials{AccessKeyID: exampleAKID, SessionToken: exampleSessionToken}},
		{"token with a line break", postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken + "\r\n" + exampleSessionToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &postpolicy.Signer{Credentials: tc.creds, Region: "us-east-1", Now: func() time.Time { return lintAt }}
			form, err := s.Sign(context.Background(), lintPolicy())
			if form != nil {
				t.Errorf("Sign returned a form")
			}
			if !errors.Is(err, postpolicy.ErrInvalidCredentials) {
				t.Fatalf("Sign error = %v, want ErrInvalidCredentials", err)
			}
			msg := err.Error()
			for _, secret := range []string{exampleSecretKey, exampleSessionToken} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains a secret", msg)
				}
			}
		})
	}
}

// sourceFunc adapts a function to CredentialsSource.
type sourceFunc func(context.Context) (postpolicy.Credentials, error)

func (f sourceFunc) Retrieve(ctx context.Context) (postpolicy.Credentials, error) { return f(ctx) }

func TestSignerCredentialsSourceError(t *testing.T) {
	errExpired := errors.New("token expired")
	s := &postpolicy.Signer{
		Credentials: sourceFunc(func(context.Context) (postpolicy.Credentials, error) {
			return postpolicy.Credentials{}, errExpired
		}),
		Region: "us-east-1",
		Now:    func() time.Time { return lintAt },
	}
	form, err := s.Sign(context.Background(), lintPolicy())
	if form != nil || !errors.Is(err, errExpired) {
		t.Errorf("Sign = %v, %v; want the source's error wrapped", form, err)
	}

	// The context reaches the source.
	type ctxKey struct{}
	var got any
	s.Credentials = sourceFunc(func(ctx context.Context) (postpolicy.Credentials, error) {
		got = ctx.Value(ctxKey{})
		return exampleCredentials, nil
	})
	if _, err := s.Sign(context.WithValue(context.Background(), ctxKey{}, "marker"), lintPolicy()); err != nil {
		t.Fatal(err)
	}
	if got != "marker" {
		t.Errorf("the source saw context value %v", got)
	}
}

// Temporary credentials: "x-amz-security-token ... when using temporary
// credentials (also needs a condition)" ("Creating a POST Policy",
// sigv4-HTTPPOSTConstructPolicy).
func TestSignSessionToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"with token", exampleSessionToken},
		{"without token", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newExampleSigner()
			s.Credentials = postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: tc.token}
			form, err := s.Sign(context.Background(), lintPolicy())
			if err != nil {
				t.Fatal(err)
			}
			wantFields := []string{"key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"}
			wantConds := []any{
				map[string]any{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
				map[string]any{"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
			}
			if tc.token != "" {
				wantFields = []string{"key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token", "policy", "x-amz-signature"}
				wantConds = append(wantConds, map[string]any{"x-amz-security-token": tc.token})
			}
			wantConds = append(wantConds,
				map[string]any{"bucket": "acme-uploads"},
				map[string]any{"key": "uploads/photo.jpg"},
				map[string]any{"x-amz-date": "20151229T000000Z"},
			)
			if diff := cmp.Diff(wantFields, fieldNames(form)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if v, ok := form.Get("x-amz-security-token"); ok != (tc.token != "") || v != tc.token {
				t.Errorf("x-amz-security-token = %q, %v", v, ok)
			}
			p := decodeFormPolicy(t, form)
			if diff := cmp.Diff(wantConds, p.Conditions); diff != "" {
				t.Errorf("policy conditions (-want +got):\n%s", diff)
			}
			if err := verifyForm(form, exampleSecretKey, "us-east-1"); err != nil {
				t.Error(err)
			}
		})
	}
}

// The credential date and the signing key follow the signing time's UTC
// day, even when one Signer (with its cached key) signs on both sides of
// midnight.
func TestSignAcrossMidnight(t *testing.T) {
	times := []time.Time{
		time.Date(2015, 12, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2015, 12, 30, 0, 0, 1, 0, time.UTC),
		// The same instants seen from UTC-8: still the UTC days.
		time.Date(2015, 12, 29, 15, 59, 59, 0, time.FixedZone("PST", -8*3600)),
		time.Date(2015, 12, 29, 16, 0, 1, 0, time.FixedZone("PST", -8*3600)),
	}
	wantDates := []string{"20151229T235959Z", "20151230T000001Z", "20151229T235959Z", "20151230T000001Z"}
	var i int
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "eu-west-1", Now: func() time.Time { return times[i] }}
	for ; i < len(times); i++ {
		policy := postpolicy.Policy{Expiration: times[i].Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key("k")}}
		form, err := s.Sign(context.Background(), policy)
		if err != nil {
			t.Fatal(err)
		}
		day := wantDates[i][:8]
		wantCred := exampleAKID + "/" + day + "/eu-west-1/s3/aws4_request"
		if got, _ := form.Get("x-amz-credential"); got != wantCred {
			t.Errorf("%d: x-amz-credential = %q, want %q", i, got, wantCred)
		}
		if got, _ := form.Get("x-amz-date"); got != wantDates[i] {
			t.Errorf("%d: x-amz-date = %q, want %q", i, got, wantDates[i])
		}
		p, _ := form.Get("policy")
		sig, _ := form.Get("x-amz-signature")
		// Recomputed here with crypto/hmac, and once more with the
		// package's DeriveSigningKey (checked against AWS's vectors).
		if want := awsSignature(awsSigningKey(exampleSecretKey, day, "eu-west-1", "s3"), p); sig != want {
			t.Errorf("%d: signature %s, want %s", i, sig, want)
		}
		m := hmac.New(sha256.New, postpolicy.DeriveSigningKey(exampleSecretKey, times[i], "eu-west-1", "s3"))
		m.Write([]byte(p))
		if want := hex.EncodeToString(m.Sum(nil)); sig != want {
			t.Errorf("%d: signature %s, want %s (DeriveSigningKey)", i, sig, want)
		}
	}
}

// A source that rotates its keys: each form must verify with the secret it
// was signed with, so a Signer caching the signing key may not keep a stale
// one.
func TestSignRotatingCredentials(t *testing.T) {
	seq := []postpolicy.Credentials{
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey},
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey2}, // same id, new secret
		{AccessKeyID: exampleAKID2, SecretAccessKey: exampleSecretKey2},
		{AccessKeyID: exampleAKID2, SecretAccessKey: exampleSecretKey2, SessionToken: exampleSessionToken},
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey},
	}
	var n int
	s := &postpolicy.Signer{
		Credentials: sourceFunc(func(context.Context) (postpolicy.Credentials, error) {
			c := seq[n]
			n++
			return c, nil
		}),
		Region: "us-east-1",
		Now:    func() time.Time { return lintAt },
	}
	for i, c := range seq {
		form, err := s.Sign(context.Background(), lintPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyForm(form, c.SecretAccessKey, "us-east-1"); err != nil {
			t.Errorf("form %d: %v", i, err)
		}
		wantCred := c.AccessKeyID + "/20151229/us-east-1/s3/" + "aws4_request"
		if got, _ := form.Get("x-amz-credential"); got != wantCred {
			t.Errorf("form %d: x-amz-credential = %q, want %q", i, got, wantCred)
		}
		if got, _ := form.Get("x-amz-security-token"); got != c.SessionToken {
			t.Errorf("form %d: x-amz-security-token = %q, want %q", i, got, c.SessionToken)
		}
	}
	if n != len(seq) {
		t.Errorf("Retrieve called %d times for %d signatures", n, len(seq))
	}
}

// One Signer, many goroutines, a clock that flips between two days (so the
// cached key is replaced under contention) and two buckets (so is the cached
// URL). Run with -race.
func TestSignConcurrent(t *testing.T) {
	const goroutines, perGoroutine = 50, 200
	days := []time.Time{
		time.Date(2015, 12, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2015, 12, 30, 0, 0, 1, 0, time.UTC),
	}
	keys := map[string][]byte{
		"20151229": awsSigningKey(exampleSecretKey, "20151229", "eu-west-1", "s3"),
		"20151230": awsSigningKey(exampleSecretKey, "20151230", "eu-west-1", "s3"),
	}
	var tick atomic.Uint64
	s := &postpolicy.Signer{
		Credentials: exampleCredentials,
		Region:      "eu-west-1",
		Now:         func() time.Time { return days[tick.Add(1)%2] },
	}
	policies := []postpolicy.Policy{
		{Expiration: days[1].Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.KeyPrefix("a/")}},
		{Expiration: days[1].Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket("media.example.com"), postpolicy.Key("b/${filename}")}},
	}
	wantURL := []string{"https://acme-uploads.s3.eu-west-1.amazonaws.com/", "https://s3.eu-west-1.amazonaws.com/media.example.com"}
	var failures atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				which := (g + i) % 2
				form, err := s.Sign(context.Background(), policies[which])
				if err != nil {
					failures.Add(1)
					t.Errorf("Sign: %v", err)
					return
				}
				cred, _ := form.Get("x-amz-credential")
				day := strings.Split(cred, "/")[1]
				p, _ := form.Get("policy")
				sig, _ := form.Get("x-amz-signature")
				date, _ := form.Get("x-amz-date")
				if sig != awsSignature(keys[day], p) || !strings.HasPrefix(date, day) || form.URL != wantURL[which] {
					if failures.Add(1) < 5 {
						t.Errorf("bad form: day %s, date %s, URL %s", day, date, form.URL)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d forms failed", n, goroutines*perGoroutine)
	}
}

// "Sign ... never modifies p": neither its conditions nor the array behind
// them, spare capacity included, whether signing succeeds or fails.
func TestSignDoesNotMutatePolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conds []postpolicy.Condition
		ok    bool
	}{
		{"valid", []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key("u/${filename}"), postpolicy.ContentTypePrefix("image/"), postpolicy.ContentLengthRange(1, 10)}, true},
		{"invalid", []postpolicy.Condition{postpolicy.Bucket("Acme"), postpolicy.Key("a"), postpolicy.Key("b"), {}}, false},
		{"too big", []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key(strings.Repeat("k", 30000))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backing := make([]postpolicy.Condition, len(tc.conds), len(tc.conds)+8)
			copy(backing, tc.conds)
			for i := len(tc.conds); i < cap(backing); i++ {
				backing[:cap(backing)][i] = postpolicy.Meta("sentinel", "untouched")
			}
			exp := time.Date(2015, 12, 29, 1, 2, 3, 456789012, time.FixedZone("X", 3600))
			p := postpolicy.Policy{Expiration: exp, Conditions: backing}
			before := append([]postpolicy.Condition(nil), backing[:cap(backing)]...)

			s := newExampleSigner()
			s.Credentials = postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken}
			for range 2 {
				form, err := s.Sign(context.Background(), p)
				if (err == nil) != tc.ok || (form != nil) != tc.ok {
					t.Fatalf("Sign = %v, %v; want ok=%v", form, err, tc.ok)
				}
			}
			opt := cmp.AllowUnexported(postpolicy.Condition{})
			if diff := cmp.Diff(before, backing[:cap(backing)], opt); diff != "" {
				t.Errorf("Sign modified the conditions' array (-before +after):\n%s", diff)
			}
			if len(p.Conditions) != len(tc.conds) || !p.Expiration.Equal(exp) || p.Expiration.Location() != exp.Location() {
				t.Errorf("Sign modified the policy")
			}
		})
	}
}

// "The form data and boundaries (excluding the contents of the file)
// cannot exceed 20 KB" ("sigv4-HTTPPOSTForms"): a session token of 21,000
// characters alone is over it; the error names the rule, not the token.
func TestSignPreFileSizeSessionToken(t *testing.T) {
	token := strings.Repeat(exampleSessionToken, 875) // 21,000 characters
	s := newExampleSigner()
	s.Credentials = postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: token}
	form, err := s.Sign(context.Background(), lintPolicy())
	if form != nil {
		t.Errorf("Sign returned a form")
	}
	var p postpolicy.Problem
	if !errors.As(err, &p) || p.Rule != postpolicy.RulePreFileSize || p.Warning || !errors.Is(err, postpolicy.ErrInvalidPolicy) {
		t.Fatalf("Sign error = %v, want a pre-file-size problem", err)
	}
	if msg := err.Error(); strings.Contains(msg, exampleSessionToken) || strings.Contains(msg, exampleSecretKey) {
		t.Errorf("error %q contains the token or secret", msg)
	}

	// A 4,000-character token (STS tokens run to about 1-2 KB) fits.
	s.Credentials = postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: token[:4000]}
	if _, err := s.Sign(context.Background(), lintPolicy()); err != nil {
		t.Errorf("Sign with a 4,000-character token: %v", err)
	}
}

// The signed document as data: the Signer's conditions first, the policy's
// in order, x-amz-date last, equal to the form's field; the expiration in
// UTC with milliseconds, the rest dropped.
func TestSignedPolicyDocument(t *testing.T) {
	at := time.Date(2015, 12, 29, 12, 34, 56, 987654321, time.UTC)
	exp := time.Date(2015, 12, 29, 14, 0, 0, 123999999, time.FixedZone("UTC+1", 3600)) // 13:00:00.123999999Z
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "ap-southeast-2", Now: func() time.Time { return at }}
	policy := postpolicy.Policy{
		Expiration: exp,
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-uploads"),
			postpolicy.Key("uploads/${filename}"),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.ContentLengthRange(1, 10485760),
			postpolicy.ACL("private"),
			postpolicy.Meta("note", `a "quoted" <b>&</b> \ é`),
		},
	}
	form, err := s.Sign(context.Background(), policy)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeFormPolicy(t, form)
	if p.Expiration != "2015-12-29T13:00:00.123Z" {
		t.Errorf("expiration = %q, want 2015-12-29T13:00:00.123Z", p.Expiration)
	}
	date, _ := form.Get("x-amz-date")
	if date != "20151229T123456Z" {
		t.Errorf("x-amz-date = %q, want 20151229T123456Z", date)
	}
	cred, _ := form.Get("x-amz-credential")
	if want := exampleAKID + "/" + date[:8] + "/ap-southeast-2/s3/aws4_request"; cred != want {
		t.Errorf("x-amz-credential = %q, want %q", cred, want)
	}
	want := []any{
		map[string]any{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]any{"x-amz-credential": cred},
		map[string]any{"bucket": "acme-uploads"},
		[]any{"starts-with", "$key", "uploads/"},
		[]any{"starts-with", "$Content-Type", "image/"},
		[]any{"content-length-range", float64(1), float64(10485760)},
		map[string]any{"acl": "private"},
		map[string]any{"x-amz-meta-note": `a "quoted" <b>&</b> \ é`},
		map[string]any{"x-amz-date": date},
	}
	if diff := cmp.Diff(want, p.Conditions); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	wantFields := []postpolicy.Field{
		{Name: "key", Value: "uploads/${filename}"},
		{Name: "acl", Value: "private"},
		{Name: "x-amz-meta-note", Value: `a "quoted" <b>&</b> \ é`},
		{Name: "x-amz-algorithm", Value: "AWS4-HMAC-SHA256"},
		{Name: "x-amz-credential", Value: cred},
		{Name: "x-amz-date", Value: date},
	}
	if diff := cmp.Diff(wantFields, form.Fields[:len(wantFields)]); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"policy", "x-amz-signature"}, fieldNames(form)[len(wantFields):]); diff != "" {
		t.Errorf("last fields (-want +got):\n%s", diff)
	}
	if len(form.PageConditions) != 1 || form.PageConditions[0].Field() != "Content-Type" {
		t.Errorf("PageConditions = %v", form.PageConditions)
	}
	// The form reports the expiration as the policy writes it: UTC, to the
	// millisecond.
	if want := exp.Truncate(time.Millisecond); !form.Expiration.Equal(want) || form.Expiration.Location() != time.UTC {
		t.Errorf("form.Expiration = %v, want %v in UTC", form.Expiration, want)
	}
	if form.URL != "https://acme-uploads.s3.ap-southeast-2.amazonaws.com/" {
		t.Errorf("URL = %q", form.URL)
	}
	if err := verifyForm(form, exampleSecretKey, "ap-southeast-2"); err != nil {
		t.Error(err)
	}
}

// Service names the credential scope's service; empty means s3.
func TestSignerService(t *testing.T) {
	for _, tc := range []struct{ service, want string }{{"", "s3"}, {"s3", "s3"}, {"s3-object-lambda", "s3-object-lambda"}} {
		s := newExampleSigner()
		s.Service = tc.service
		form, err := s.Sign(context.Background(), lintPolicy())
		if err != nil {
			t.Fatal(err)
		}
		cred, _ := form.Get("x-amz-credential")
		if want := exampleAKID + "/20151229/us-east-1/" + tc.want + "/aws4_request"; cred != want {
			t.Errorf("Service %q: credential %q, want %q", tc.service, cred, want)
		}
		p, _ := form.Get("policy")
		sig, _ := form.Get("x-amz-signature")
		if want := awsSignature(awsSigningKey(exampleSecretKey, "20151229", "us-east-1", tc.want), p); sig != want {
			t.Errorf("Service %q: signature %s, want %s", tc.service, sig, want)
		}
	}
}

// With Now nil the Signer reads the system clock: x-amz-date falls between
// the readings taken around the call.
func TestSignerDefaultClock(t *testing.T) {
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "us-east-1"}
	before := time.Now().UTC().Truncate(time.Second)
	form, err := s.Sign(context.Background(), postpolicy.Policy{Expiration: time.Now().Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket("acme-uploads"), postpolicy.Key("k")}})
	after := time.Now().UTC()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := form.Get("x-amz-date")
	got, err := time.Parse("20060102T150405Z", d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Before(before) || got.After(after) {
		t.Errorf("x-amz-date %s is not between %s and %s", d, before, after)
	}
}

// An invalid policy gives no form and every problem.
func TestSignInvalidPolicy(t *testing.T) {
	form, err := newExampleSigner().Sign(context.Background(), postpolicy.Policy{
		Expiration: lintAt,
		Conditions: []postpolicy.Condition{postpolicy.StartsWith("bucket", "x"), postpolicy.ACL("public")},
	})
	if form != nil {
		t.Errorf("Sign returned a form")
	}
	var joined interface{ Unwrap() []error }
	if !errors.Is(err, postpolicy.ErrInvalidPolicy) || !errors.As(err, &joined) {
		t.Fatalf("Sign error = %v", err)
	}
	var rules []postpolicy.Rule
	for _, e := range joined.Unwrap() {
		var p postpolicy.Problem
		if errors.As(e, &p) {
			rules = append(rules, p.Rule)
		}
	}
	want := []postpolicy.Rule{postpolicy.RuleExpirationPassed, postpolicy.RuleExactMatchOnly, postpolicy.RuleFieldValue, postpolicy.RuleBucketMissing, postpolicy.RuleKeyMissing}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	// Warnings alone do not stop signing.
	p := lintPolicy(postpolicy.StorageClass("FAST"))
	p.Expiration = lintAt.Add(8 * 24 * time.Hour)
	if _, err := newExampleSigner().Sign(context.Background(), p); err != nil {
		t.Errorf("Sign with warnings only: %v", err)
	}
}
