package postpolicy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
)

// The rule table is the only place a rule is defined: Validate, Signer.Sign,
// Signer.AppendFormJSON and a Template's Sign and AppendFormJSON all run
// it. These tests prove it by mutation: each warning is made an error and
// each check on values is turned off, one at a time, and every path must
// then change its verdict in the same way. A path that kept a copy of a
// rule (as a cache of checked shapes once did) would keep the old verdict
// and disagree with the others, which the agreement check reports
// (TestMutationCaughtWhenAPathIsStale shows it does).

// mutationCorpus has, for every check of the table, a policy that
// triggers it, on the fixed side or the per-request side of a Template.
func mutationCorpus() []split {
	b := postpolicy.Bucket("acme-user-uploads")
	k := postpolicy.Key("k")
	parsed, err := postpolicy.ParsePolicy([]byte(`{"expiration":"2015-12-30T00:00:00Z","conditions":[{"x-amz-meta-nobody":"sends it"}]}`))
	if err != nil {
		panic(err)
	}
	c := []split{
		{name: "no expiration", fixed: []postpolicy.Condition{b, k}, plain: true},
		{name: "expiration after 9999", fixed: []postpolicy.Condition{b, k}, plain: true, expiration: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "expiration passed", fixed: []postpolicy.Condition{b, k}, lifetime: -time.Minute},
		{name: "eight days", fixed: []postpolicy.Condition{b, k}, lifetime: 8 * 24 * time.Hour},
		{name: "field name with $", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.Eq("$x-amz-meta-a", "v")}},
		{name: "field name not UTF-8", fixed: []postpolicy.Condition{b}, perRq: []postpolicy.Condition{k, postpolicy.Meta("\xff", "v")}},
		{name: "condition on policy", fixed: []postpolicy.Condition{b, k, postpolicy.Eq("policy", "x")}},
		{name: "condition on x-amz-date", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.Eq("x-amz-date", "20151229T000000Z")}},
		{name: "line break", fixed: []postpolicy.Condition{b, postpolicy.Meta("note", "a\nb")}, perRq: []postpolicy.Condition{k}},
		{name: "line break per request", fixed: []postpolicy.Condition{b}, perRq: []postpolicy.Condition{k, postpolicy.Meta("note", "a\rb")}},
		{name: "status 202", fixed: []postpolicy.Condition{b, k, postpolicy.SuccessActionStatus(202)}},
		{name: "relative redirect", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.SuccessActionRedirect("/done")}},
		{name: "unknown storage class", fixed: []postpolicy.Condition{b, k, postpolicy.StorageClass("COLD")}},
		{name: "unknown storage class per request", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.StorageClass("BOGUS")}},
		{name: "unknown SSE", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.Eq("x-amz-server-side-encryption", "rot13")}},
		{name: "unknown checksum", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.Eq("x-amz-checksum-algorithm", "MD5")}},
		{name: "short digest", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.Eq("x-amz-checksum-sha256", "c2hvcnQ=")}},
		{name: "checksum without digest", fixed: []postpolicy.Condition{b, k, postpolicy.Eq("x-amz-checksum-algorithm", "SHA256")}},
		{name: "negative range", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.ContentLengthRange(-1, 10)}},
		{name: "inverted range", fixed: []postpolicy.Condition{b, k, postpolicy.ContentLengthRange(10, 1)}},
		{name: "over 5 GiB", fixed: []postpolicy.Condition{b, k}, perRq: []postpolicy.Condition{postpolicy.ContentLengthRange(0, 6<<30)}},
		{name: "key over 1024 bytes", fixed: []postpolicy.Condition{b}, perRq: []postpolicy.Condition{postpolicy.Key(strings.Repeat("k", 1025))}},
		{name: "bad bucket per request", perRq: []postpolicy.Condition{postpolicy.Bucket("Bad_Bucket"), k}},
		{name: "reserved bucket suffix", fixed: []postpolicy.Condition{postpolicy.Bucket("acme-s3alias"), k}},
		{name: "two exact values", fixed: []postpolicy.Condition{b, postpolicy.Eq("key", "a").FromPage()}, perRq: []postpolicy.Condition{postpolicy.Eq("key", "b").FromPage()}},
		{name: "form value fails", fixed: []postpolicy.Condition{b}, perRq: []postpolicy.Condition{postpolicy.KeyPrefix("u/").WithFormValue("x/y")}},
		{name: "prefix against exact", fixed: []postpolicy.Condition{b, postpolicy.Eq("key", "a").FromPage()}, perRq: []postpolicy.Condition{postpolicy.KeyPrefix("b")}},
		{name: "prefixes apart", fixed: []postpolicy.Condition{b, postpolicy.KeyPrefix("a")}, perRq: []postpolicy.Condition{postpolicy.KeyPrefix("b")}},
		{name: "condition nothing sends", fixed: []postpolicy.Condition{b, k}, perRq: parsed.Conditions},
	}
	return append(c, agreementSplits()...)
}

// TestMutationsReachEveryPath makes each warning an error and turns each
// check on values off, one at a time. Under each mutation every path must
// still agree on every policy of the corpus, and some verdict must change:
// the mutation reached every path, and the corpus notices it.
func TestMutationsReachEveryPath(t *testing.T) {
	corpus := mutationCorpus()
	run := func(r reporter) []outcome {
		at := lintAt
		p := newPaths(exampleCredentials, func() time.Time { return at })
		var out []outcome
		for round := range 2 {
			at = lintAt.Add(time.Duration(round) * time.Minute)
			for _, sp := range corpus {
				o := p.check(r, sp)
				if round == 1 {
					out = append(out, o)
				}
			}
		}
		return out
	}
	base := run(t)
	mutations := 0
	for i := range postpolicy.NumChecks {
		rule, warning, onValues := postpolicy.CheckInfo(i)
		for _, m := range []struct {
			name         string
			applies      bool
			warning, off bool
		}{
			{"warning made an error", warning, false, false},
			{"check on values turned off", onValues, warning, true},
		} {
			if !m.applies {
				continue
			}
			mutations++
			t.Run(fmt.Sprintf("check %d (%s): %s", i, rule, m.name), func(t *testing.T) {
				restore := postpolicy.MutateCheck(i, m.warning, m.off)
				defer restore()
				got := run(t)
				changed := 0
				for j := range got {
					if got[j] != base[j] {
						changed++
					}
				}
				if changed == 0 {
					t.Errorf("no policy of the corpus changed its verdict: the corpus does not exercise check %d", i)
				}
			})
		}
	}
	if mutations < 30 {
		t.Errorf("%d mutations; the table has fewer checks on values and warnings than expected", mutations)
	}
}

// recorder collects what check reports.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestMutationCaughtWhenAPathIsStale is the control of the mutation tests:
// a path that does not see a change to the table must be reported. A
// Template prepared before a warning becomes an error keeps the verdict of
// its fixed conditions (they were checked at Prepare, as designed), so it
// stands in for a path with a stale copy of the rule.
func TestMutationCaughtWhenAPathIsStale(t *testing.T) {
	at := lintAt
	p := newPaths(exampleCredentials, func() time.Time { return at })
	sp := split{name: "unknown storage class", fixed: []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k"), postpolicy.StorageClass("COLD")}}
	if o := p.check(t, sp); o.err != "" {
		t.Fatalf("before the mutation: %s", o.err)
	}
	storageClass := -1
	for i := range postpolicy.NumChecks {
		if rule, warning, _ := postpolicy.CheckInfo(i); rule == postpolicy.RuleFieldValue && warning {
			restore := postpolicy.MutateCheck(i, false, false)
			var r recorder
			p.check(&r, sp)
			restore()
			if len(r.errs) > 0 {
				storageClass = i
				if !strings.Contains(strings.Join(r.errs, "\n"), "warm Template") {
					t.Errorf("the stale path is not the one reported:\n%s", strings.Join(r.errs, "\n"))
				}
			}
		}
	}
	if storageClass < 0 {
		t.Error("no disagreement was reported for a Template prepared under the old table")
	}
}
