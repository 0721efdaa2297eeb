package postpolicy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// The cached signing path (daykey.go) must give exactly the bytes and
// signature of the plain computation: base64 of the whole document, and
// crypto/hmac over that text. These tests vary the lengths that decide
// where the cached base64 stops and the HMAC state is cloned (token
// lengths 0 to 200 cover every remainder modulo 3 and 64).

// appendPolicyEnd appends the rest of the policy after appendPolicyStart,
// as Sign writes it from the day's start: p's conditions, then x-amz-date
// and the expiration.
func appendPolicyEnd(b []byte, p Policy, amzDate []byte) []byte {
	b = appendConditions(b, p.Conditions)
	return appendPolicyTail(b, p.Expiration, amzDate)
}

// plainSign signs doc with crypto/hmac directly, as the reference.
func plainSign(secret string, doc []byte) (string, string) {
	enc := base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha256.New, DeriveSigningKey(secret, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), "eu-west-1", "s3"))
	m.Write([]byte(enc))
	return enc, hex.EncodeToString(m.Sum(nil))
}

func checkDayKey(t *testing.T, token string, p Policy) {
	t.Helper()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	c := Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: token}
	k := newDayKey(c, "20261128", "eu-west-1", "s3")
	amzDate := at.Format("20060102T150405Z")

	// From the day's start, and from a start extended over the first
	// conditions, as a Template's is: every split of the conditions.
	doc := appendPolicyEnd(appendPolicyStart(nil, k.key.Credential, token), p, []byte(amzDate))
	wantEnc, wantSig := plainSign(c.SecretAccessKey, doc)
	for split := 0; split <= len(p.Conditions); split++ {
		start := &k.start
		if split > 0 {
			ext := k.start.extend(appendConditions(nil, p.Conditions[:split]))
			start = &ext
		}
		rest := Policy{Expiration: p.Expiration, Conditions: p.Conditions[split:]}
		end := appendPolicyEnd(append([]byte(nil), start.rest...), rest, []byte(amzDate))
		encodedEnd, sig := start.sign(nil, end)
		encoded := append(append([]byte(nil), start.enc...), encodedEnd...)
		if string(encoded) != wantEnc {
			t.Fatalf("token length %d, split %d: base64 differs from the plain encoding", len(token), split)
		}
		if string(sig[:]) != wantSig {
			t.Fatalf("token length %d, split %d: signature %s, plain HMAC %s", len(token), split, sig, wantSig)
		}
	}
}

func TestDayKeyMatchesPlainSigning(t *testing.T) {
	p := Policy{Expiration: time.Date(2026, 11, 28, 12, 15, 0, 0, time.UTC), Conditions: []Condition{
		Bucket("acme-user-uploads"), Key("uploads/user-42/${filename}"), ContentLengthRange(1, 10<<20),
	}}
	for n := 0; n <= 200; n++ {
		checkDayKey(t, strings.Repeat("T", n), p)
	}
	p.Conditions = append(p.Conditions, Meta("uploader", "user-42"), ContentTypePrefix("image/"))
	checkDayKey(t, strings.Repeat("FQoGZXIvYXdzEXAMPLETOKEN", 50), Policy{Expiration: p.Expiration})
}

func FuzzDayKey(f *testing.F) {
	f.Add("", "uploads/", int64(1), int64(10))
	f.Add("FQoGZXIvYXdzEXAMPLETOKEN", `x"],["starts-with","$acl","`, int64(0), int64(5<<30))
	f.Fuzz(func(t *testing.T, token, value string, lo, hi int64) {
		if strings.ContainsAny(token, "\r\n") {
			return
		}
		checkDayKey(t, token, Policy{
			Expiration: time.Date(2026, 11, 28, 12, 15, 0, 0, time.UTC),
			Conditions: []Condition{Bucket("b-" + value), Key(value), Meta(value, value), ContentLengthRange(lo, hi)},
		})
	})
}

func TestAppendExpirationLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2016, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC),
	} {
		if got, want := string(appendExpiration(nil, tm)), `"`+tm.UTC().Format(ExpirationLayout)+`"`; got != want {
			t.Errorf("appendExpiration(%v) = %s, want %s", tm, got, want)
		}
	}
	// appendExpiration against time.Format over many times: on
	// either side of midnight, before and after 1970, in and out of the
	// years a policy can write, one after the other.
	first, last := time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC).Unix(), time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	x := uint64(1)
	for i := range 20000 {
		x = x*6364136223846793005 + 1442695040888963407
		sec := first + int64(x>>11)%(last-first)
		switch i % 4 {
		case 1:
			sec -= sec % 86400 // midnight
		case 2:
			sec = sec - sec%86400 - 1 // a second before
		case 3:
			sec = int64(x>>20)%(4*86400) - 2*86400 // around 1970
		}
		tm := time.Unix(sec, int64(x%1e9)).In(time.FixedZone("x", int(x%7)*3600-3*3600))
		if got, want := string(appendExpiration(nil, tm)), `"`+tm.UTC().Format(ExpirationLayout)+`"`; got != want {
			t.Fatalf("appendExpiration(%v) = %s, want %s", tm, got, want)
		}
	}
}
