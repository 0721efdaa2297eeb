package postpolicy_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// TestAppendFormJSONMatchesSign checks that AppendFormJSON appends exactly
// the bytes of Form.MarshalJSON for Sign's form, on policies that exercise
// every part of the form: page conditions, a field with two conditions,
// more fields than the form's preallocated room, values to escape, a
// session token, and a dst that already holds bytes.
func TestAppendFormJSONMatchesSign(t *testing.T) {
	exp := lintAt.Add(time.Hour)
	many := []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
		many = append(many, postpolicy.Meta(n, "v-"+n))
	}
	policies := map[string][]postpolicy.Condition{
		"page conditions": {postpolicy.Bucket("acme-user-uploads"), postpolicy.KeyPrefix("u/"), postpolicy.ContentTypePrefix("image/"), postpolicy.StartsWith("x-amz-meta-tag", "")},
		"shared field":    {postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("u/${filename}"), postpolicy.KeyPrefix("u/")},
		"many fields":     many,
		"escapes":         {postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a\"b\\c\u2028/\x01"), postpolicy.Meta("note", "<html> & ü")},
	}
	for name, conds := range policies {
		for _, creds := range []postpolicy.Credentials{exampleCredentials, {AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken + "\"\\"}} {
			s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return lintAt }}
			p := postpolicy.Policy{Expiration: exp, Conditions: conds}
			f, err := s.Sign(context.Background(), p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, _ := f.MarshalJSON()
			got, err := s.AppendFormJSON(context.Background(), []byte("head"), p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, append([]byte("head"), want...)) {
				t.Errorf("%s, token %v: AppendFormJSON gave\n%s\nSign's form is\nhead%s", name, creds.SessionToken != "", got, want)
			}
		}
	}
}

// TestAppendFormJSONErrors checks that AppendFormJSON refuses what Sign
// refuses, with the same error, and returns dst untouched.
func TestAppendFormJSONErrors(t *testing.T) {
	s := newExampleSigner()
	for name, p := range map[string]postpolicy.Policy{
		"no expiration": {Conditions: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}},
		"no bucket":     {Expiration: lintAt.Add(time.Hour)},
		"too big":       {Expiration: lintAt.Add(time.Hour), Conditions: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Meta("big", strings.Repeat("x", 20<<10))}},
	} {
		_, signErr := s.Sign(context.Background(), p)
		dst := make([]byte, 3, 64)
		copy(dst, "abc")
		got, err := s.AppendFormJSON(context.Background(), dst, p)
		if err == nil || signErr == nil || err.Error() != signErr.Error() || !errors.Is(err, postpolicy.ErrInvalidPolicy) {
			t.Errorf("%s: AppendFormJSON error %v, Sign's %v", name, err, signErr)
		}
		if string(got) != "abc" || string(dst[:cap(dst)][3:6]) != "\x00\x00\x00" {
			t.Errorf("%s: dst is %q (room %q), want it unchanged", name, got, dst[3:6])
		}
	}
	var nilSigner postpolicy.Signer
	if _, err := nilSigner.AppendFormJSON(context.Background(), nil, postpolicy.Policy{}); !errors.Is(err, postpolicy.ErrSignerConfig) {
		t.Errorf("zero Signer: %v, want ErrSignerConfig", err)
	}
}

// TestAllocations checks the documented allocation counts of a warmed
// Signer and Template, signing for a different user each time, with room
// in dst: AppendFormJSON allocates only the copy of the HMAC state (three
// objects: crypto/hmac's Clone copies the HMAC and its two SHA-256
// states); Sign adds the Form and one string for its values. CI runs it
// without the race detector, which allocates on its own.
func TestAllocations(t *testing.T) {
	if testutil.Race {
		t.Skip("the race detector allocates")
	}
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken},
		Region:      "eu-west-1",
		Now:         func() time.Time { return lintAt },
	}
	tmpl, err := s.Prepare(15*time.Minute, postpolicy.Bucket("acme-user-uploads"), postpolicy.ContentLengthRange(1, 10<<20),
		postpolicy.ContentTypePrefix("image/"), postpolicy.SuccessActionStatus(201))
	if err != nil {
		t.Fatal(err)
	}
	users := []string{"user-10", "user-11", "user-12"}
	perUser := make([][]postpolicy.Condition, len(users))
	policies := make([]postpolicy.Policy, len(users))
	for i, u := range users {
		perUser[i] = []postpolicy.Condition{postpolicy.Key("uploads/" + u + "/${filename}"), postpolicy.Meta("uploader", u)}
		policies[i] = tmpl.Policy(lintAt, perUser[i]...)
	}
	buf := make([]byte, 0, 8192)
	i := 0
	for _, tc := range []struct {
		name string
		want float64
		sign func() error
	}{
		{"Signer.AppendFormJSON", 3, func() (err error) {
			buf, err = s.AppendFormJSON(context.Background(), buf[:0], policies[i%len(users)])
			return err
		}},
		{"Template.AppendFormJSON", 3, func() (err error) {
			buf, err = tmpl.AppendFormJSON(context.Background(), buf[:0], perUser[i%len(users)]...)
			return err
		}},
		{"Signer.Sign", 5, func() error { _, err := s.Sign(context.Background(), policies[i%len(users)]); return err }},
		{"Template.Sign", 5, func() error { _, err := tmpl.Sign(context.Background(), perUser[i%len(users)]...); return err }},
	} {
		sign := func() {
			if err := tc.sign(); err != nil {
				t.Fatal(err)
			}
			i++
		}
		for range 4 {
			sign() // the day key, the pools
		}
		if n := testing.AllocsPerRun(100, sign); n != tc.want {
			t.Errorf("%s allocated %v times per form, want %v", tc.name, n, tc.want)
		}
	}
}

// TestPresignAllocations checks the allocation counts of presigned URLs
// from a warmed Signer, for a different user each time, with long-term and
// temporary credentials: PresignPut and PresignGet allocate the result
// (which has room for four headers), one string for the object's path and
// Content-Length's value, and the URL. The lint allocates nothing for a
// policy without problems, and the signature nothing once the day's key
// has signed (the key keeps its HMAC state and scratch in a pool). CI runs
// it without the race detector, which allocates on its own.
func TestPresignAllocations(t *testing.T) {
	if testutil.Race {
		t.Skip("the race detector allocates")
	}
	users := []string{"user-10", "user-11", "user-12"}
	policies := make([]postpolicy.Policy, len(users))
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = "users/" + u + "/avatar.png"
		policies[i] = postpolicy.Policy{Expiration: lintAt.Add(15 * time.Minute), Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key(keys[i]),
			postpolicy.ContentType("image/png"),
			postpolicy.ContentLengthRange(1<<20, 1<<20),
			postpolicy.Meta("uploader", u),
		}}
	}
	opts := &postpolicy.GetOptions{ResponseContentType: "image/png", ResponseContentDisposition: `attachment; filename="avatar.png"`}
	for _, creds := range []postpolicy.Credentials{
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey},
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken},
	} {
		s := &postpolicy.Signer{Credentials: creds, Region: "eu-west-1", Now: func() time.Time { return lintAt }}
		i := 0
		for _, tc := range []struct {
			name    string
			want    float64
			presign func() (*postpolicy.Presigned, error)
		}{
			{"PresignPut", 3, func() (*postpolicy.Presigned, error) {
				return s.PresignPut(context.Background(), policies[i%len(users)])
			}},
			{"PresignGet", 3, func() (*postpolicy.Presigned, error) {
				return s.PresignGet(context.Background(), "acme-user-uploads", keys[i%len(users)], lintAt.Add(time.Hour), opts)
			}},
		} {
			presign := func() {
				if _, err := tc.presign(); err != nil {
					t.Fatal(err)
				}
				i++
			}
			for range 4 {
				presign() // the day key, the pools
			}
			if n := testing.AllocsPerRun(100, presign); n != tc.want {
				t.Errorf("%s, token %v: allocated %v times per URL, want %v", tc.name, creds.SessionToken != "", n, tc.want)
			}
		}
	}
}
