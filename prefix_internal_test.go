package postpolicy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// The prefix cache (prefix.go) must never change what Sign returns: every
// form and every error of a long-lived Signer, whose caches hold whatever
// the policies before left there, must be those of a new Signer with the
// same configuration, which signs with no cache at all. The new Signer's
// path is the one the published vectors and the golden policies check
// (vectors_test.go, golden_test.go).

var prefixStart = time.Date(2026, 11, 28, 23, 59, 58, 0, time.UTC)

// prefixValues are the values the sequences draw from: per-user values,
// an empty one, invalid UTF-8, quotes, ${filename} and a non-ASCII one.
var prefixValues = []string{"user-10", "user-11", "user-12", "", "\xff\xfe", `a"b\c`, "x${filename}", "ü", "u/${filename}"}

// prefixCondition returns condition number op of a small palette, with
// value v where it takes one.
func prefixCondition(op byte, v string) Condition {
	switch op % 14 {
	case 0:
		return Bucket("acme-user-uploads")
	case 1:
		return Bucket("other-uploads")
	case 2:
		return ContentLengthRange(1, 10<<20)
	case 3:
		return ContentLengthRange(100, 200)
	case 4:
		return ContentTypePrefix("image/")
	case 5:
		return SuccessActionStatus(201)
	case 6:
		return Key("uploads/" + v + "/${filename}")
	case 7:
		return Meta("uploader", v)
	case 8:
		return KeyPrefix(v)
	case 9:
		return ACL("private")
	case 10:
		return Key(v)
	case 11:
		return ContentType(v)
	case 12:
		return Eq("x-amz-meta-note", v)
	}
	return StartsWith("x-amz-meta-tag", v)
}

// prefixStep is one signature of a sequence.
type prefixStep struct {
	conds []Condition
	// day moves the clock to the next day before signing; token switches
	// to the other credentials.
	day, token bool
	// expired signs a policy that expired a second ago.
	expired bool
}

// prefixRun signs steps with one long-lived Signer and compares each
// result with a new Signer's. It returns how many signatures used a cached
// prefix.
func prefixRun(t *testing.T, steps []prefixStep) (hits int) {
	t.Helper()
	now := prefixStart
	creds := []Credentials{
		{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"},
	}
	which := 0
	var current Credentials = creds[0]
	long := &Signer{Credentials: &current, Region: "eu-west-1", Now: func() time.Time { return now }}
	// longJSON signs the same sequence through AppendFormJSON.
	longJSON := &Signer{Credentials: &current, Region: "eu-west-1", Now: func() time.Time { return now }}
	var buf []byte
	for i, st := range steps {
		if st.day {
			now = now.Add(24 * time.Hour)
		}
		if st.token {
			which = 1 - which
			current = creds[which]
		}
		exp := now.Add(15 * time.Minute)
		if st.expired {
			exp = now.Add(-time.Second)
		}
		p := Policy{Expiration: exp, Conditions: st.conds}
		if hit, _ := long.cachedPrefix(&p, now, long.lastBucket()); hit != nil {
			hits++
		}
		got, gotErr := long.Sign(context.Background(), p)
		buf = append(buf[:0], "before:"...)
		var jsonErr error
		buf, jsonErr = longJSON.AppendFormJSON(context.Background(), buf, p)
		fresh := &Signer{Credentials: creds[which], Region: "eu-west-1", Now: func() time.Time { return now }}
		want, wantErr := fresh.Sign(context.Background(), p)
		for _, err := range []error{gotErr, jsonErr} {
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("step %d (%d conditions): error %v, a new Signer's %v", i, len(st.conds), err, wantErr)
			}
		}
		if gotErr != nil {
			if string(buf) != "before:" {
				t.Fatalf("step %d: AppendFormJSON failed and returned %q, want dst unchanged", i, buf)
			}
			continue
		}
		gj, _ := got.MarshalJSON()
		wj, _ := want.MarshalJSON()
		if !bytes.Equal(gj, wj) || !got.Expiration.Equal(want.Expiration) {
			t.Fatalf("step %d: form\n%s\na new Signer's\n%s", i, gj, wj)
		}
		if !bytes.Equal(buf, append([]byte("before:"), wj...)) {
			t.Fatalf("step %d: AppendFormJSON gave\n%s\nwant\nbefore:%s", i, buf, wj)
		}
	}
	return hits
}

func TestPrefixCacheSignsAsANewSigner(t *testing.T) {
	user := func(u string) []Condition {
		return []Condition{Bucket("acme-user-uploads"), ContentLengthRange(1, 10<<20), ContentTypePrefix("image/"),
			SuccessActionStatus(201), Key("uploads/" + u + "/${filename}"), Meta("uploader", u)}
	}
	sized := func(u string, lo, hi int64) []Condition {
		return []Condition{Bucket("acme-user-uploads"), ContentLengthRange(1, 10<<20), Key("uploads/" + u + "/${filename}"), ContentLengthRange(lo, hi)}
	}
	var steps []prefixStep
	for i := range 6 {
		steps = append(steps, prefixStep{conds: user(fmt.Sprintf("user-%d", i))})
	}
	odd := user("user-99")
	odd[0] = Bucket("other-uploads")
	steps = append(steps,
		// One policy for another bucket, then the usual ones again.
		prefixStep{conds: odd}, prefixStep{conds: user("user-6")}, prefixStep{conds: user("user-7")},
		// A new day, new credentials: the same prefix under new keys.
		prefixStep{conds: user("user-8"), day: true}, prefixStep{conds: user("user-9")},
		prefixStep{conds: user("user-10"), token: true}, prefixStep{conds: user("user-11")},
		// Refusals after the prefix: an empty key, invalid UTF-8, ${filename}
		// in an exact match, an expired policy.
		prefixStep{conds: append(user("u")[:4:4], Key(""), Meta("uploader", "u"))},
		prefixStep{conds: append(user("u")[:4:4], Key("k/${filename}"), Meta("uploader", "\xff"))},
		prefixStep{conds: append(user("u")[:4:4], Key("k/${filename}"), Eq("x-amz-meta-uploader", "${filename}"))},
		prefixStep{conds: user("user-12"), expired: true},
		// A size range after the prefix's that excludes it, and one within.
		prefixStep{conds: append(user("u")[:4:4], ContentLengthRange(20<<20, 30<<20), Meta("uploader", "u"))},
		prefixStep{conds: append(user("u")[:4:4], ContentLengthRange(5, 6), Meta("uploader", "u"))},
		// A second size range per user: within the prefix's, then one that
		// excludes it (refused), under the same shape.
		prefixStep{conds: sized("u1", 1, 5)}, prefixStep{conds: sized("u2", 2, 6)}, prefixStep{conds: sized("u3", 3, 7)},
		prefixStep{conds: sized("u4", 20<<20, 30<<20)}, prefixStep{conds: sized("u5", 0, 0)},
		// The same policy twice: the prefix covers every condition.
		prefixStep{conds: user("user-13")}, prefixStep{conds: user("user-13")}, prefixStep{conds: user("user-13")},
		prefixStep{conds: user("user-14")},
	)
	if hits := prefixRun(t, steps); hits < 10 {
		t.Errorf("%d of %d signatures used a cached prefix; the sequence should give at least 10", hits, len(steps))
	}
}

// TestPrefixCacheAlternatingKinds signs three kinds of policy in turn (two
// buckets of one shape, and a third shape): each keeps its cached prefix.
func TestPrefixCacheAlternatingKinds(t *testing.T) {
	kinds := []func(u string) []Condition{
		func(u string) []Condition {
			return []Condition{Bucket("acme-user-uploads"), ContentLengthRange(1, 10<<20), Key("uploads/" + u + "/${filename}")}
		},
		func(u string) []Condition {
			return []Condition{Bucket("acme-avatars"), ContentLengthRange(1, 1<<20), Key("avatars/" + u)}
		},
		func(u string) []Condition {
			return []Condition{Bucket("acme-documents"), ContentType("application/pdf"), ACL("private"), Key("docs/" + u + ".pdf"), Meta("owner", u)}
		},
	}
	var steps []prefixStep
	for i := range 30 {
		steps = append(steps, prefixStep{conds: kinds[i%3](fmt.Sprintf("user-%d", i))})
	}
	// Each kind needs two policies to find its prefix; every later one hits.
	if hits := prefixRun(t, steps); hits != 30-6 {
		t.Errorf("%d of 30 signatures used a cached prefix, want 24", hits)
	}
}

// cachedPrefixes describes the prefixes s holds, in slot order: each as
// its first condition's value and how many conditions it holds.
func cachedPrefixes(s *Signer) []string {
	var d []string
	for i := range s.prefixes.v {
		if pc := s.prefixes.v[i].Load(); pc != nil {
			d = append(d, fmt.Sprintf("%s:%d", pc.conds[0].value, len(pc.conds)))
		}
	}
	return d
}

// TestPrefixCacheBuildsFromRepeats checks which conditions the cache holds:
// those two policies in a row share, none when nothing repeats, an entry
// per kind of policy, the oldest replaced when the slots are full.
func TestPrefixCacheBuildsFromRepeats(t *testing.T) {
	now := prefixStart
	s := &Signer{Credentials: Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region: "eu-west-1", Now: func() time.Time { return now }}
	step := 0
	sign := func(want string, conds ...Condition) {
		t.Helper()
		step++
		if _, err := s.Sign(context.Background(), Policy{Expiration: now.Add(time.Hour), Conditions: conds}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cachedPrefixes(s), " "); got != want {
			t.Fatalf("after policy %d the cache holds [%s], want [%s]", step, got, want)
		}
	}
	sign("", Bucket("b-1"), Key("a"), Meta("m", "1"))
	sign("", Bucket("b-2"), Key("a"), Meta("m", "1"))            // the first condition differs
	sign("b-2:2", Bucket("b-2"), Key("a"), Meta("m", "2"))       // two in a row share two
	sign("b-2:2", Bucket("b-3"), Key("a"), Meta("m", "3"))       // an odd one is remembered
	sign("b-2:2", Bucket("b-2"), Key("a"), Meta("m", "4"))       // a hit
	sign("b-2:2 b-3:1", Bucket("b-3"), Key("c"), Meta("m", "5")) // shares one with the odd one
	sign("b-2:2 b-3:1", Bucket("b-3"), Key("d"), Meta("m", "6")) // a hit
	sign("b-2:2 b-3:1", Bucket("b-2"), Key("a"), Meta("m", "7")) // a hit
	// Two more kinds fill the slots; a fifth replaces the oldest.
	for _, b := range []string{"b-4", "b-5", "b-6"} {
		sign(strings.Join(cachedPrefixes(s), " "), Bucket(b), Key("x"), Meta("m", "1"))
		s.Sign(context.Background(), Policy{Expiration: prefixStart.Add(time.Hour), Conditions: []Condition{Bucket(b), Key("y"), Meta("m", "1")}})
	}
	if got, want := strings.Join(cachedPrefixes(s), " "), "b-6:1 b-3:1 b-4:1 b-5:1"; got != want {
		t.Fatalf("after five kinds the cache holds [%s], want [%s]", got, want)
	}
	// The next day, a hit is rebuilt under the new key, in its slot.
	before := s.prefixes.v[2].Load()
	now = now.Add(24 * time.Hour)
	sign("b-6:1 b-3:1 b-4:1 b-5:1", Bucket("b-4"), Key("z"), Meta("m", "2"))
	if after := s.prefixes.v[2].Load(); after == before || after.key == before.key || after.key != s.key.Load() {
		t.Fatalf("the next day's prefix for b-4 was not rebuilt under the new key in its slot")
	}
}

func FuzzPrefixCache(f *testing.F) {
	f.Add([]byte{6, 0, 2, 4, 5, 6, 7, 6, 0, 2, 4, 5, 6, 7, 6, 0, 2, 4, 5, 6, 7})
	f.Add([]byte{3, 0, 3, 8, 0x83, 1, 3, 10, 0x40, 0, 3, 10, 2, 12, 0x80, 0, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each step: a header byte (conditions count in the low 3 bits, a
		// new day, a credentials switch, an expired policy in the high
		// bits), then one byte per condition (the palette entry, and in its
		// high bits, with the step number, the value).
		var steps []prefixStep
		for i := 0; i < len(data) && len(steps) < 16; {
			h := data[i]
			i++
			st := prefixStep{day: h&0x08 != 0 && h&0x30 == 0x30, token: h&0x40 != 0 && h&0x80 != 0, expired: h == 0xff}
			for n := int(h & 7); n > 0 && i < len(data); n-- {
				c := data[i]
				i++
				st.conds = append(st.conds, prefixCondition(c&0x0f, prefixValues[int(c>>4+byte(len(steps)))%len(prefixValues)]))
			}
			steps = append(steps, st)
		}
		prefixRun(t, steps)
	})
}

// TestPrefixCacheConcurrent signs two kinds of policies from several
// goroutines on one Signer, so that the cache keeps changing under them;
// run with -race. Every form must be a new Signer's.
func TestPrefixCacheConcurrent(t *testing.T) {
	creds := Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"}
	now := func() time.Time { return prefixStart }
	s := &Signer{Credentials: creds, Region: "eu-west-1", Now: now}
	// Six buckets, more than the Signer keeps prefixes for, so that
	// prefixes are replaced while other goroutines sign from them.
	policy := func(g, i int) Policy {
		bucket := []string{"acme-user-uploads", "other-uploads", "b-3", "b-4", "b-5", "b-6"}[(g+i/3)%6]
		u := fmt.Sprintf("user-%d-%d", g, i)
		return Policy{Expiration: prefixStart.Add(time.Hour), Conditions: []Condition{
			Bucket(bucket), ContentLengthRange(1, 1<<20), Key("uploads/" + u + "/${filename}"), Meta("uploader", u)}}
	}
	const goroutines, each = 4, 200
	want := make([][][]byte, goroutines)
	for g := range want {
		for i := range each {
			f, err := (&Signer{Credentials: creds, Region: "eu-west-1", Now: now}).Sign(context.Background(), policy(g, i))
			if err != nil {
				t.Fatal(err)
			}
			j, _ := f.MarshalJSON()
			want[g] = append(want[g], j)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range each {
				var j []byte
				if i%2 == 0 {
					f, err := s.Sign(context.Background(), policy(g, i))
					if err != nil {
						errs <- err
						return
					}
					j, _ = f.MarshalJSON()
				} else {
					var err error
					if buf, err = s.AppendFormJSON(context.Background(), buf[:0], policy(g, i)); err != nil {
						errs <- err
						return
					}
					j = buf
				}
				if !bytes.Equal(j, want[g][i]) {
					errs <- fmt.Errorf("goroutine %d, policy %d: form\n%s\nwant\n%s", g, i, j, want[g][i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
