package postpolicy

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
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The minio-go injection (its post-policy.go builds conditions with
// Sprintf; the bug class of minio/minio-java#1174): a value that closes its string
// and array and opens a new condition when a policy is built with Sprintf.
const injection = `x"],["starts-with","$acl","`

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{
		"", "a", injection, `"`, `\`, "\x00", "\x1f", "\x7f", "\u2028", "\u2029",
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "😀", "<>&",
		"é\u2028\xff\"\\\n", `{"key":"v"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		jsonStringRoundTrip(t, s)
	})
}

// strictJSON decodes one JSON value with encoding/json's tokenizer,
// rejecting duplicate object keys (which json.Unmarshal would silently
// merge) and trailing data, so that an injected second member or condition
// cannot hide.
func strictJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := strictValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the value: %v", err)
	}
	return v, nil
}

func strictValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			if m[k], err = strictValue(dec); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token()
		return m, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := strictValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

// expectedFixed is the condition a field helper writes for a fixed value,
// derived from the rule in "sigv4-HTTPPOSTForms" (S3 expands ${filename}
// before checking, so a value holding it is constrained by starts-with on
// the text before it) rather than from the helper's code.
func expectedFixed(field, value string) any {
	if i := strings.Index(value, "${filename}"); i >= 0 {
		return []any{"starts-with", "$" + field, value[:i]}
	}
	return map[string]any{field: value}
}

// FuzzPolicyStrings puts arbitrary strings where an application puts user
// input. Signing may fail, with ErrInvalidPolicy, but never panic; when it
// succeeds the signed document holds exactly the expected conditions, each
// value exactly the input: no input can add, drop or change a condition.
func FuzzPolicyStrings(f *testing.F) {
	f.Add("uploads/photo.jpg", "uploader", "user-42", "image/png", "max-age=3600", "team", "R&D", "acme-uploads", false)
	f.Add(injection, "note", injection, injection, injection, injection, injection, "acme-uploads", true)
	f.Add("a\"b\\c/é\u2028$$.txt", "x", `"}],"expiration":"2099-01-01T00:00:00.000Z","conditions":[{"`, "text/plain", "no-cache", "<k>", "&amp;", "media.example.com", true)
	f.Add("u/${filename}", "n", "${filename}", "image/${filename}", "${filename}", "${filename}", "]]>", "acme-uploads", false)
	f.Add("\xff", "\x00", "\xed\xa0\x80", "\u2028", "\r\n", "\x01", "\xc0\xaf", "Acme_Uploads", false)
	f.Add("", "", "", "", "", "", "", "", false)
	f.Add(`\u0022`, "a b", `\"`, `"`, "\\", "</script>", "<!--", "192.168.5.4", true)

	at := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	key := []byte("AWS4" + secret)
	for _, part := range []string{"20151229", "us-east-1", "s3", "aws4_request"} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}

	f.Fuzz(func(t *testing.T, objKey, metaName, metaValue, contentType, cacheControl, tagKey, tagValue, bucket string, withToken bool) {
		creds := Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret}
		if withToken {
			creds.SessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
		}
		s := &Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return at }}
		tagging := Tagging(Tag{Key: tagKey, Value: tagValue})
		p := Policy{
			Expiration: at.Add(time.Hour),
			Conditions: []Condition{
				Bucket(bucket),
				Key(objKey),
				Meta(metaName, metaValue),
				ContentType(contentType),
				CacheControl(cacheControl),
				tagging,
			},
		}
		form, err := s.Sign(context.Background(), p)
		if err != nil {
			if form != nil || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Sign = %v, %v; want no form and ErrInvalidPolicy", form, err)
			}
			return
		}
		for _, in := range []string{objKey, metaName, metaValue, contentType, cacheControl, bucket} {
			if !utf8.ValidString(in) {
				t.Fatalf("signed a policy with invalid UTF-8 %q", in)
			}
		}

		// The signature covers the policy text.
		b64, _ := form.Get("policy")
		m := hmac.New(sha256.New, key)
		m.Write([]byte(b64))
		if sig, _ := form.Get("x-amz-signature"); sig != hex.EncodeToString(m.Sum(nil)) {
			t.Fatalf("signature does not verify")
		}

		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := strictJSON(raw)
		if err != nil {
			t.Fatalf("policy %s: %v", raw, err)
		}
		top, ok := doc.(map[string]any)
		if !ok || len(top) != 2 || top["expiration"] != "2015-12-29T01:00:00.000Z" {
			t.Fatalf("policy %s: want exactly conditions and the expiration", raw)
		}
		conds, ok := top["conditions"].([]any)
		if !ok {
			t.Fatalf("policy %s: conditions is not an array", raw)
		}
		want := []any{
			map[string]any{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
			map[string]any{"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
		}
		if withToken {
			want = append(want, map[string]any{"x-amz-security-token": "FQoGZXIvYXdzEXAMPLETOKEN"})
		}
		want = append(want,
			map[string]any{"bucket": bucket},
			expectedFixed("key", objKey),
			expectedFixed("x-amz-meta-"+metaName, metaValue),
			expectedFixed("Content-Type", contentType),
			expectedFixed("Cache-Control", cacheControl),
			map[string]any{"tagging": tagging.Value()},
			map[string]any{"x-amz-date": "20151229T000000Z"},
		)
		if n := 3 + len(p.Conditions); withToken && len(conds) != n+1 || !withToken && len(conds) != n {
			t.Fatalf("policy %s has %d conditions, want %d (+1 with a token)", raw, len(conds), n)
		}
		if len(conds) != len(want) {
			t.Fatalf("policy %s: %d conditions, want %d", raw, len(conds), len(want))
		}
		if diff := cmp.Diff(want, conds); diff != "" {
			t.Fatalf("policy %s: conditions (-want +got):\n%s", raw, diff)
		}

		// The form carries the inputs as given, each field once.
		seen := map[string]bool{}
		for _, fl := range form.Fields {
			ln := strings.ToLower(fl.Name)
			if seen[ln] {
				t.Fatalf("field %q twice", fl.Name)
			}
			seen[ln] = true
		}
		for name, v := range map[string]string{
			"key": objKey, "x-amz-meta-" + metaName: metaValue, "Content-Type": contentType,
			"Cache-Control": cacheControl, "tagging": tagging.Value(),
		} {
			if got, ok := form.Get(name); !ok || got != v {
				t.Fatalf("field %q = %q, %v; want %q", name, got, ok, v)
			}
		}
		if _, ok := form.Get("bucket"); ok {
			t.Fatalf("the form carries bucket")
		}
		out, err := form.MarshalJSON()
		if err != nil || !json.Valid(out) {
			t.Fatalf("Form.MarshalJSON = %s, %v", out, err)
		}
		var html strings.Builder
		if err := form.WriteHTML(&html); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzValidate: arbitrary expirations, ranges and conditions never make
// Lint, Validate, MarshalJSON or Sign panic; MarshalJSON is always valid
// JSON with one element per condition; Validate agrees with Lint; and a
// policy Validate accepts signs, unless the form would be too big.
func FuzzValidate(f *testing.F) {
	f.Add(int64(3600000), int64(1), int64(10), "x-amz-meta-a", "v", "v", uint8(0), false)
	f.Add(int64(0), int64(-1), int64(-2), "key", injection, injection, uint8(1), true)
	f.Add(int64(-1), int64(10), int64(1), "$key", "${filename}", "u/${filename}", uint8(2), false)
	f.Add(int64(604800001), int64(0), int64(5<<30+1), "bucket", "acme", "acme-uploads", uint8(3), false)
	f.Add(int64(1), int64(0), int64(0), "Content-Type", "image/", "image/png, text/plain", uint8(2), false)
	f.Add(int64(9223372036854775807), int64(-9223372036854775808), int64(9223372036854775807), "\xff", "\xff", "\xed\xa0\x80", uint8(4), true)
	f.Add(int64(1000), int64(0), int64(0), "x-amz-checksum-algorithm", "SHA256", "", uint8(0), false)
	f.Add(int64(1000), int64(0), int64(0), "X-Amz-Date", "20151229T000000Z", "", uint8(0), false)
	f.Add(int64(1000), int64(0), int64(0), "content-length-range", "1", "\r\n", uint8(1), false)

	at := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expMillis, lo, hi int64, field, value, formValue string, op uint8, zero bool) {
		var c Condition
		switch op % 5 {
		case 0:
			c = Eq(field, value)
		case 1:
			c = StartsWith(field, value)
		case 2:
			c = StartsWith(field, value).WithFormValue(formValue)
		case 3:
			c = Eq(field, value).FromPage()
		case 4:
			c = Eq(field, value).WithFormValue(formValue)
		}
		conds := []Condition{Bucket("acme-uploads"), Key("k"), ContentLengthRange(lo, hi), c}
		if zero {
			conds = append(conds, Condition{})
		}
		p := Policy{Expiration: at.Add(time.Duration(expMillis) * time.Millisecond), Conditions: conds}

		problems := p.Lint(at)
		err := p.Validate(at)
		var nErrors int
		for _, pr := range problems {
			if !pr.Warning {
				nErrors++
			}
		}
		if (err == nil) != (nErrors == 0) {
			t.Fatalf("Validate = %v, but Lint found %d errors: %v", err, nErrors, problems)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate = %v, not ErrInvalidPolicy", err)
			}
			var joined interface{ Unwrap() []error }
			if !errors.As(err, &joined) || len(joined.Unwrap()) != nErrors {
				t.Fatalf("Validate = %v, want %d joined problems", err, nErrors)
			}
		}

		out, jerr := p.MarshalJSON()
		if jerr != nil || !json.Valid(out) {
			t.Fatalf("MarshalJSON = %s, %v", out, jerr)
		}
		doc, jerr := strictJSON(out)
		if jerr != nil {
			t.Fatalf("MarshalJSON = %s: %v", out, jerr)
		}
		if got := doc.(map[string]any)["conditions"].([]any); len(got) != len(conds) {
			t.Fatalf("MarshalJSON = %s: %d conditions, want %d", out, len(got), len(conds))
		}
		for _, c := range conds {
			if !json.Valid([]byte(c.String())) {
				t.Fatalf("Condition.String = %s is not valid JSON", c.String())
			}
		}

		s := &Signer{Credentials: Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, Region: "us-east-1", Now: func() time.Time { return at }}
		form, serr := s.Sign(context.Background(), p)
		if err == nil && serr != nil {
			var pr Problem
			if !errors.As(serr, &pr) || pr.Rule != RulePreFileSize {
				t.Fatalf("Validate accepted the policy but Sign = %v", serr)
			}
		}
		if err != nil && (serr == nil || form != nil) {
			t.Fatalf("Validate = %v but Sign = %v, %v", err, form, serr)
		}
	})
}
