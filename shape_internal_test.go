package postpolicy

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The Signer's shortcut through the checks (shape.go) must never let
// through a policy Validate refuses, and must give the same form as the
// full path.

var shapeNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type shapeValues struct {
	bucket, key, contentType, meta, acl, sse string
	min, max                                 int64
	expires                                  time.Duration
}

var goodShapeValues = shapeValues{
	bucket: "acme-user-uploads", key: "uploads/user-42/${filename}", contentType: "image/",
	meta: "user-42", acl: "private", sse: "AES256", min: 1, max: 10 << 20, expires: 15 * time.Minute,
}

// shapePolicy is a policy of one fixed shape whose values come from v.
func shapePolicy(v shapeValues) Policy {
	return Policy{
		Expiration: shapeNow.Add(v.expires),
		Conditions: []Condition{
			Bucket(v.bucket),
			Key(v.key),
			ContentLengthRange(v.min, v.max),
			ContentTypePrefix(v.contentType),
			Meta("uploader", v.meta),
			ACL(v.acl),
			Eq("x-amz-server-side-encryption", v.sse),
		},
	}
}

func shapeSigner() *Signer {
	return &Signer{
		Credentials: Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region:      "eu-west-1",
		Now:         func() time.Time { return shapeNow },
	}
}

func TestShapeCheckAgreesWithLint(t *testing.T) {
	s := shapeSigner()
	ctx := context.Background()
	if _, err := s.Sign(ctx, shapePolicy(goodShapeValues)); err != nil {
		t.Fatal(err)
	}
	if keptShapes(s) == 0 {
		t.Fatal("no shape was kept after a policy passed every check")
	}
	bad := map[string]func(*shapeValues){
		"bucket name":             func(v *shapeValues) { v.bucket = "Bad_Bucket" },
		"empty key":               func(v *shapeValues) { v.key = "" },
		"filename in value":       func(v *shapeValues) { v.contentType = "image/${filename}" },
		"invalid UTF-8":           func(v *shapeValues) { v.meta = "\xff" },
		"negative range":          func(v *shapeValues) { v.min = -1 },
		"inverted range":          func(v *shapeValues) { v.min, v.max = 10, 1 },
		"expired":                 func(v *shapeValues) { v.expires = -time.Second },
		"expires now":             func(v *shapeValues) { v.expires = 0 },
		"unknown ACL":             func(v *shapeValues) { v.acl = "public" },
		"unknown SSE":             func(v *shapeValues) { v.sse = "aes256" },
		"filename key outside":    func(v *shapeValues) { v.key = "${filename}x" },
		"key with filename early": func(v *shapeValues) { v.key = "u/${filename}/x" },
	}
	for name, change := range bad {
		t.Run(name, func(t *testing.T) {
			v := goodShapeValues
			change(&v)
			p := shapePolicy(v)
			want := p.Validate(shapeNow)
			_, got := s.Sign(ctx, p)
			if (want == nil) != (got == nil) || (want != nil && got.Error() != want.Error()) {
				t.Errorf("Sign = %v\nValidate = %v", got, want)
			}
		})
	}

	// Good values of the same shape sign as a Signer without the shortcut
	// does.
	for _, v := range []shapeValues{
		goodShapeValues,
		{bucket: "acme-user-uploads", key: "uploads/user-99/${filename}", contentType: "", meta: "user-99", acl: "public-read", sse: "aws:kms", min: 0, max: 5, expires: time.Minute},
	} {
		p := shapePolicy(v)
		got, err := s.Sign(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := shapeSigner().Sign(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Condition{})); diff != "" {
			t.Errorf("forms differ (-fresh +shortcut):\n%s", diff)
		}
	}
}

// TestShapeNotKept: policies whose checks depend on more than values keep
// no shape.
func TestShapeNotKept(t *testing.T) {
	for name, conds := range map[string][]Condition{
		"repeated field": {Bucket("b-1"), KeyPrefix("a/"), KeyPrefix("a/b")},
		"checksum":       append([]Condition{Bucket("b-1"), Key("k")}, Checksum(ChecksumSHA256, "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")...),
	} {
		s := shapeSigner()
		if _, err := s.Sign(context.Background(), Policy{Expiration: shapeNow.Add(time.Minute), Conditions: conds}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if keptShapes(s) != 0 {
			t.Errorf("%s: a shape was kept", name)
		}
	}
}

// FuzzShapeCheck: whatever the values, when the shortcut accepts a policy
// of a kept shape, the full lint finds no error in it.
func FuzzShapeCheck(f *testing.F) {
	f.Add("acme-user-uploads", "uploads/u/${filename}", "image/", "m", "private", "AES256", int64(1), int64(10), int64(60))
	f.Add("Bad", "", "a,b", "\xff", "public", "x", int64(5), int64(1), int64(-1))
	var l linter
	base := shapePolicy(goodShapeValues)
	l.policy(base.Expiration, base.Conditions, shapeNow)
	sh := newShape(base.Conditions, &l)
	if sh == nil || hasErrors(l.problems) {
		f.Fatal("the base policy keeps no shape")
	}
	f.Fuzz(func(t *testing.T, bucket, key, ct, meta, acl, sse string, lo, hi, secs int64) {
		p := shapePolicy(shapeValues{bucket, key, ct, meta, acl, sse, lo, hi, time.Duration(secs) * time.Second})
		if sh.check(&p, shapeNow, "acme-user-uploads") {
			if err := p.Validate(shapeNow); err != nil {
				t.Fatalf("the shortcut accepted a policy Validate refuses: %v", err)
			}
		}
	})
}

// keptShapes returns how many shapes s keeps.
func keptShapes(s *Signer) int {
	n := 0
	for i := range s.shapes.v {
		if s.shapes.v[i].Load() != nil {
			n++
		}
	}
	return n
}
