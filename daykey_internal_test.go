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
// where the cached base64 and HMAC midstate stop (token lengths 0 to 200
// cover every remainder modulo 3 and 64).

// appendPolicyEnd appends the rest of the policy after appendPolicyStart,
// as Sign writes it from the day's start: p's conditions, then x-amz-date
// and the expiration.
func appendPolicyEnd(b []byte, p Policy, amzDate []byte) []byte {
	b = appendConditions(b, p.Conditions)
	return appendPolicyTail(b, p.Expiration, amzDate)
}

func plainSign(k *dayKey, doc []byte) (string, string) {
	enc := base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(enc))
	return enc, hex.EncodeToString(m.Sum(nil))
}

func checkDayKey(t *testing.T, token string, p Policy) {
	t.Helper()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var date [8]byte
	copy(date[:], "20261128")
	c := Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: token}
	k := newDayKey(c, at, date, "eu-west-1", "s3")
	amzDate := appendAmzDate(nil, at)

	end := appendPolicyEnd(append([]byte(nil), k.start.rest...), p, amzDate)
	encodedEnd, sig := k.encodeAndSign(&k.start, &digest{h: sha256.New()}, nil, end)
	encoded := append(append([]byte(nil), k.start.enc...), encodedEnd...)

	doc := appendPolicyEnd(appendPolicyStart(nil, k.credential, token), p, amzDate)
	wantEnc, wantSig := plainSign(k, doc)
	if string(encoded) != wantEnc {
		t.Fatalf("token length %d: base64 differs from the plain encoding", len(token))
	}
	if string(sig[:]) != wantSig {
		t.Fatalf("token length %d: signature %s, plain HMAC %s", len(token), sig, wantSig)
	}
	if got := SignEncodedPolicy(k.key, wantEnc); got != wantSig {
		t.Fatalf("SignEncodedPolicy disagrees")
	}
}

func TestDayKeyMatchesPlainSigning(t *testing.T) {
	p := Policy{Expiration: time.Date(2026, 11, 28, 12, 15, 0, 0, time.UTC), Conditions: []Condition{
		Bucket("acme-user-uploads"), Key("uploads/user-42/${filename}"), ContentLengthRange(1, 10<<20),
	}}
	for n := 0; n <= 200; n++ {
		checkDayKey(t, strings.Repeat("T", n), p)
	}
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

func TestAppendTimes(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2016, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC),
	} {
		if got, want := string(appendAmzDate(nil, tm)), tm.UTC().Format("20060102T150405Z"); got != want {
			t.Errorf("appendAmzDate(%v) = %s, want %s", tm, got, want)
		}
		if got, want := string(appendExpiration(nil, tm)), `"`+tm.UTC().Format(ExpirationLayout)+`"`; got != want {
			t.Errorf("appendExpiration(%v) = %s, want %s", tm, got, want)
		}
	}
}
