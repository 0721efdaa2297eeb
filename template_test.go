package postpolicy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/postpolicy/postpolicy"
)

// A Template must sign exactly what its Signer signs for Template.Policy:
// the same form, the same JSON, the same errors. The tests here compare
// every path that can sign a policy (Validate, a brand-new Signer, a
// long-lived one, a Template prepared for the case, a long-lived
// Template) on the same inputs; the mutation tests run the same
// comparison with each rule of the lint changed.

// split is a policy as a Template signs it: the conditions prepared once,
// and those of one request, expiring lifetime (default 15 minutes) after
// the signing time. A split marked plain has an expiration a Template
// cannot give (none, or one outside the years a policy can write): only
// the Signer's paths sign it.
type split struct {
	name         string
	fixed, perRq []postpolicy.Condition
	lifetime     time.Duration
	plain        bool
	expiration   time.Time
}

// mk returns the split named name of fixed and perRq.
func mk(name string, fixed, perRq []postpolicy.Condition) split {
	return split{name: name, fixed: fixed, perRq: perRq}
}

// agreementSplits are policies that exercise every part of the signing
// paths: fields from fixed and request conditions, page conditions, a
// field with conditions on both sides, escapes, a bucket given per
// request, checksums, sizes, and policies that every path must refuse.
func agreementSplits() []split {
	many := []postpolicy.Condition{postpolicy.Key("k")}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
		many = append(many, postpolicy.Meta(n, "v-"+n))
	}
	sum := "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=" // SHA-256 of "hello", from sha256sum
	return []split{
		mk("readme", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.ContentTypePrefix("image/"), postpolicy.ContentLengthRange(1, 10<<20), postpolicy.SuccessActionStatus(201)},
			[]postpolicy.Condition{postpolicy.Key("uploads/user-42/${filename}"), postpolicy.Meta("uploader", "user-42")}),
		mk("nothing fixed", nil, []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.KeyPrefix("u/")}),
		mk("nothing per request", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}, nil),
		mk("bucket per request", []postpolicy.Condition{postpolicy.ACL("private")}, []postpolicy.Condition{postpolicy.Bucket("other-bucket"), postpolicy.Key("k")}),
		mk("page conditions both sides", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.ContentTypePrefix("image/")},
			[]postpolicy.Condition{postpolicy.KeyPrefix("u/"), postpolicy.StartsWith("x-amz-meta-tag", "")}),
		mk("field on both sides", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.KeyPrefix("u/")}, []postpolicy.Condition{postpolicy.Key("u/${filename}")}),
		mk("field twice in fixed", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.KeyPrefix("u/"), postpolicy.Key("u/x")}, []postpolicy.Condition{postpolicy.Meta("a", "b")}),
		mk("many fields", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, many),
		mk("escapes", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Meta("note", "<html> & ü")},
			[]postpolicy.Condition{postpolicy.Key("a\"b\\c\u2028/\x01")}),
		mk("checksum", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")},
			append([]postpolicy.Condition{postpolicy.Key("pinned.txt"), postpolicy.ContentLengthRange(5, 5)}, postpolicy.Checksum(postpolicy.ChecksumSHA256, sum)...)),
		mk("two ranges", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.ContentLengthRange(1, 100)},
			[]postpolicy.Condition{postpolicy.Key("k"), postpolicy.ContentLengthRange(50, 200)}),
		// Refused by every path.
		mk("no key", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, []postpolicy.Condition{postpolicy.Meta("a", "b")}),
		mk("no bucket", []postpolicy.Condition{postpolicy.Key("k")}, nil),
		mk("conflict across sides", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("a")}, []postpolicy.Condition{postpolicy.Key("b")}),
		mk("ranges apart", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k"), postpolicy.ContentLengthRange(1, 10)}, []postpolicy.Condition{postpolicy.ContentLengthRange(20, 30)}),
		mk("empty key per request", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, []postpolicy.Condition{postpolicy.Key("")}),
		mk("invalid UTF-8 per request", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, []postpolicy.Condition{postpolicy.Key("k\xff")}),
		mk("${filename} in a condition", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, []postpolicy.Condition{postpolicy.Eq("key", "u/${filename}")}),
		mk("zero condition per request", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}, []postpolicy.Condition{{}}),
		mk("starts-with on an exact field", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}, []postpolicy.Condition{postpolicy.StartsWith("x-amz-storage-class", "S")}),
		mk("form too big", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}, []postpolicy.Condition{postpolicy.Meta("big", strings.Repeat("x", 20<<10))}),
		mk("page field on both sides", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.ContentTypePrefix("image/")},
			[]postpolicy.Condition{postpolicy.Key("k"), postpolicy.ContentTypePrefix("video/")}),
		// Refused by Prepare: a fixed condition's own problem.
		mk("bad fixed bucket name", []postpolicy.Condition{postpolicy.Bucket("Bad_Bucket")}, []postpolicy.Condition{postpolicy.Key("k")}),
		mk("bad fixed ACL", []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.ACL("everyone")}, []postpolicy.Condition{postpolicy.Key("k")}),
	}
}

// outcome is what one path made of a policy: the form's JSON, or the
// error's text; and, from check, the lint's warnings.
type outcome struct {
	json     string
	err      string
	warnings string
	put      string // PresignPut's URL and headers, or its error
}

func (o outcome) String() string {
	if o.err != "" {
		return "error: " + o.err
	}
	return o.json
}

func outcomeOf(b []byte, err error) outcome {
	if err != nil {
		return outcome{err: err.Error()}
	}
	return outcome{json: string(b)}
}

func formOutcome(f *postpolicy.Form, err error) outcome {
	if err != nil {
		return outcome{err: err.Error()}
	}
	b, _ := f.MarshalJSON()
	o := outcome{json: string(b)}
	for _, w := range f.Warnings {
		o.warnings += w.Error() + "\n"
	}
	return o
}

// paths holds the long-lived signing state the agreement checks reuse
// from case to case: a Signer and one Template per split, both warmed by
// the cases before.
type paths struct {
	creds     postpolicy.CredentialsSource
	now       func() time.Time
	lifetime  time.Duration
	warm      *postpolicy.Signer
	templates map[string]*postpolicy.Template
}

func newPaths(creds postpolicy.CredentialsSource, now func() time.Time) *paths {
	p := &paths{creds: creds, now: now, lifetime: 15 * time.Minute, templates: map[string]*postpolicy.Template{}}
	p.warm = p.signer()
	return p
}

func (p *paths) signer() *postpolicy.Signer {
	return &postpolicy.Signer{Credentials: p.creds, Region: "eu-west-1", Now: p.now}
}

// reporter is what check reports disagreements to: a *testing.T, or a
// recorder in the tests that check that disagreements are caught.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// check signs sp by every path and reports to t unless they agree; it
// returns the outcome of a brand-new Signer.
func (p *paths) check(t reporter, sp split) outcome {
	t.Helper()
	ctx := context.Background()
	at := p.now().UTC()
	lifetime := p.lifetime
	if sp.lifetime != 0 {
		lifetime = sp.lifetime
	}
	pol := postpolicy.Policy{Expiration: at.Add(lifetime), Conditions: append(append([]postpolicy.Condition(nil), sp.fixed...), sp.perRq...)}
	if sp.plain {
		pol.Expiration = sp.expiration
	}

	fresh := formOutcome(p.signer().Sign(ctx, pol))
	// A Form carries the lint's warnings (AppendFormJSON's JSON does not).
	var lintWarnings string
	for _, pr := range pol.Lint(at) {
		if pr.Warning {
			lintWarnings += pr.Error() + "\n"
		}
	}
	if fresh.err == "" && fresh.warnings != lintWarnings {
		t.Errorf("%s: the Form's warnings are\n%s; the lint's\n%s", sp.name, fresh.warnings, lintWarnings)
	}
	withWarnings := func(o outcome) outcome {
		if o.err == "" {
			o.warnings = lintWarnings
		}
		return o
	}
	got := map[string]outcome{
		"warm Signer.Sign":            formOutcome(p.warm.Sign(ctx, pol)),
		"fresh Signer.AppendFormJSON": withWarnings(outcomeOf(p.signer().AppendFormJSON(ctx, nil, pol))),
		"warm Signer.AppendFormJSON":  withWarnings(outcomeOf(p.warm.AppendFormJSON(ctx, []byte{}, pol))),
	}
	// Validate checks everything but the form's size before the file.
	if err := pol.Validate(at); (err == nil) != (fresh.err == "" || strings.Contains(fresh.err, "rule pre-file-size")) ||
		err != nil && err.Error() != fresh.err {
		t.Errorf("%s: Validate: %v; a new Signer: %v", sp.name, err, fresh)
	}

	if !sp.plain {
		p.checkTemplates(t, sp, got, fresh, pol, at, lifetime, withWarnings)
	}
	for path, o := range got {
		if o != fresh {
			t.Errorf("%s: %s disagrees with a new Signer.Sign:\n%s\n%s", sp.name, path, o, fresh)
		}
	}
	// The same policy as a presigned PUT, by a new and a long-lived
	// Signer: the lint in its PUT mode, from the same table.
	putFresh, putWarm := presignOutcome(p.signer().PresignPut(ctx, pol)), presignOutcome(p.warm.PresignPut(ctx, pol))
	if putFresh != putWarm {
		t.Errorf("%s: PresignPut by a long-lived Signer disagrees with a new one:\n%s\n%s", sp.name, putWarm, putFresh)
	}
	// The lint's warnings and the PUT are part of the outcome: what a
	// check that only warns, or only concerns PUT, changes.
	fresh.warnings, fresh.put = lintWarnings, putFresh
	return fresh
}

// presignOutcome is what PresignPut made of a policy, as text.
func presignOutcome(p *postpolicy.Presigned, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	b, _ := p.MarshalJSON()
	for _, w := range p.Warnings {
		b = append(b, "\nwarning: "+w.Error()...)
	}
	return string(b)
}

// checkTemplates adds to got the outcomes of a Template prepared for sp
// and of a long-lived one, and checks what Prepare refuses and warns of.
func (p *paths) checkTemplates(t reporter, sp split, got map[string]outcome, fresh outcome, pol postpolicy.Policy, at time.Time, lifetime time.Duration, withWarnings func(outcome) outcome) {
	t.Helper()
	ctx := context.Background()
	freshT, prepErr := p.signer().Prepare(lifetime, sp.fixed...)
	if prepErr != nil {
		// Prepare refuses only what every signature would refuse, and
		// each problem it names is one Sign names.
		if fresh.err == "" || !errors.Is(prepErr, postpolicy.ErrInvalidPolicy) {
			t.Errorf("%s: Prepare refused (%v), a new Signer: %v", sp.name, prepErr, fresh)
		}
		for _, line := range strings.Split(prepErr.Error(), "\n") {
			if !strings.Contains(fresh.err, line) {
				t.Errorf("%s: Prepare's problem %q is not among Sign's:\n%s", sp.name, line, fresh.err)
			}
		}
	} else {
		got["fresh Template.Sign"] = formOutcome(freshT.Sign(ctx, sp.perRq...))
		got["fresh Template.AppendFormJSON"] = withWarnings(outcomeOf(freshT.AppendFormJSON(ctx, nil, sp.perRq...)))
		// Its warnings are the lint's of its fixed conditions and
		// lifetime.
		var want []postpolicy.Problem
		for _, pr := range (postpolicy.Policy{Expiration: at.Add(lifetime), Conditions: sp.fixed}).Lint(at) {
			if pr.Warning {
				want = append(want, pr)
			}
		}
		if diff := cmp.Diff(want, freshT.Warnings()); diff != "" {
			t.Errorf("%s: Template.Warnings (-lint of the fixed conditions +got):\n%s", sp.name, diff)
		}
	}
	warmT := p.templates[sp.name]
	if warmT == nil && prepErr == nil {
		if warmT, prepErr = p.warm.Prepare(lifetime, sp.fixed...); prepErr == nil {
			p.templates[sp.name] = warmT
		}
	}
	if warmT != nil {
		got["warm Template.Sign"] = formOutcome(warmT.Sign(ctx, sp.perRq...))
		got["warm Template.AppendFormJSON"] = withWarnings(outcomeOf(warmT.AppendFormJSON(ctx, make([]byte, 0, 16), sp.perRq...)))
		if diff := cmp.Diff(pol, warmT.Policy(at, sp.perRq...), cmp.AllowUnexported(postpolicy.Condition{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: Template.Policy differs from the policy signed (-want +got):\n%s", sp.name, diff)
		}
	}
}

// TestTemplateAgreesWithSigner signs every split through every path, with
// and without a session token, twice (so the long-lived paths are warm),
// at two times.
func TestTemplateAgreesWithSigner(t *testing.T) {
	for _, creds := range []postpolicy.Credentials{
		exampleCredentials,
		{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey, SessionToken: exampleSessionToken + "\"\\"},
	} {
		at := lintAt
		p := newPaths(creds, func() time.Time { return at })
		accepted, refused := 0, 0
		for round := range 2 {
			at = lintAt.Add(time.Duration(round) * 90 * time.Second)
			for _, sp := range agreementSplits() {
				if p.check(t, sp).err == "" {
					accepted++
				} else {
					refused++
				}
			}
		}
		if accepted == 0 || refused == 0 {
			t.Errorf("%d accepted, %d refused: the splits do not exercise both", accepted, refused)
		}
	}
}

// TestTemplateAcrossDaysAndKeys moves the clock across midnight and
// rotates the credentials under a long-lived Template: its start is
// rebuilt for each day key, and every form equals a new Signer's.
func TestTemplateAcrossDaysAndKeys(t *testing.T) {
	at := time.Date(2015, 12, 29, 23, 59, 58, 0, time.UTC)
	creds := exampleCredentials
	src := sourceFunc(func(context.Context) (postpolicy.Credentials, error) { return creds, nil })
	p := newPaths(src, func() time.Time { return at })
	sp := agreementSplits()[0]
	for i, step := range []func(){
		func() {},
		func() { at = at.Add(time.Second) },
		func() { at = at.Add(2 * time.Second) }, // the next day
		func() { creds = postpolicy.Credentials{AccessKeyID: exampleAKID2, SecretAccessKey: exampleSecretKey2} },
		func() { creds.SessionToken = exampleSessionToken },
		func() { creds = exampleCredentials },
	} {
		step()
		before := p.check(t, sp)
		if before.err != "" {
			t.Fatalf("step %d: %s", i, before.err)
		}
		if !strings.Contains(before.json, creds.AccessKeyID+"/"+at.Format("20060102")) {
			t.Errorf("step %d: the form does not carry the credential of %s on %s", i, creds.AccessKeyID, at.Format("20060102"))
		}
	}
}

// TestTemplateConcurrent signs with one Template from several goroutines,
// for different users, across a change of day, and checks every form
// against a new Signer's (run under -race in CI).
func TestTemplateConcurrent(t *testing.T) {
	var mu sync.Mutex
	at := lintAt.Add(24*time.Hour - 50*time.Millisecond)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	s := &postpolicy.Signer{Credentials: exampleCredentials, Region: "eu-west-1", Now: now}
	sp := agreementSplits()[0]
	tmpl, err := s.Prepare(15*time.Minute, sp.fixed...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				user := fmt.Sprintf("user-%d-%d", g, i)
				conds := []postpolicy.Condition{postpolicy.Key("uploads/" + user + "/${filename}"), postpolicy.Meta("uploader", user)}
				if g == 0 && i == 25 {
					mu.Lock()
					at = at.Add(100 * time.Millisecond) // midnight
					mu.Unlock()
				}
				var got outcome
				if i%2 == 0 {
					got = formOutcome(tmpl.Sign(context.Background(), conds...))
				} else {
					got = outcomeOf(tmpl.AppendFormJSON(context.Background(), nil, conds...))
				}
				// The clock of the check is the one the form carries.
				var exp time.Time
				if strings.Contains(got.json, "20151229T") {
					exp = lintAt.Add(24*time.Hour - 50*time.Millisecond)
				} else {
					exp = lintAt.Add(24*time.Hour + 50*time.Millisecond)
				}
				want := formOutcome((&postpolicy.Signer{Credentials: exampleCredentials, Region: "eu-west-1", Now: func() time.Time { return exp }}).
					Sign(context.Background(), tmpl.Policy(exp, conds...)))
				if got != want {
					t.Errorf("goroutine %d, form %d:\n%s\nwant\n%s", g, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestPrepareErrors(t *testing.T) {
	s := newExampleSigner()
	for name, tc := range map[string]struct {
		lifetime time.Duration
		fixed    []postpolicy.Condition
		rule     postpolicy.Rule
	}{
		"zero lifetime":     {0, []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads")}, postpolicy.RuleExpirationPassed},
		"negative lifetime": {-time.Minute, nil, postpolicy.RuleExpirationPassed},
		"zero condition":    {time.Minute, []postpolicy.Condition{{}}, postpolicy.RuleInvalidCondition},
		"signer field":      {time.Minute, []postpolicy.Condition{postpolicy.Eq("x-amz-date", "20151229T000000Z")}, postpolicy.RuleSignerField},
		"exact match only":  {time.Minute, []postpolicy.Condition{postpolicy.StartsWith("bucket", "a")}, postpolicy.RuleExactMatchOnly},
	} {
		_, err := s.Prepare(tc.lifetime, tc.fixed...)
		var p postpolicy.Problem
		if !errors.Is(err, postpolicy.ErrInvalidPolicy) || !errors.As(err, &p) || p.Rule != tc.rule {
			t.Errorf("%s: %v, want a problem of rule %s", name, err, tc.rule)
		}
	}
	if _, err := (&postpolicy.Signer{Credentials: exampleCredentials}).Prepare(time.Minute); !errors.Is(err, postpolicy.ErrSignerConfig) {
		t.Errorf("no region: %v, want ErrSignerConfig", err)
	}
	tmpl, err := s.Prepare(8*24*time.Hour, postpolicy.Bucket("acme-user-uploads"), postpolicy.StorageClass("COLD"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []postpolicy.Rule
	for _, w := range tmpl.Warnings() {
		rules = append(rules, w.Rule)
	}
	if diff := cmp.Diff([]postpolicy.Rule{postpolicy.RuleExpirationOverSevenDays, postpolicy.RuleFieldValue}, rules); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestTemplateDoesNotKeepConditions checks that a Template copies its fixed
// conditions: changing the caller's slice after Prepare changes nothing.
func TestTemplateDoesNotKeepConditions(t *testing.T) {
	s := newExampleSigner()
	fixed := []postpolicy.Condition{postpolicy.Bucket("acme-user-uploads"), postpolicy.Key("k")}
	tmpl, err := s.Prepare(time.Hour, fixed...)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := tmpl.AppendFormJSON(context.Background(), nil)
	fixed[1] = postpolicy.Key("other")
	after, err := tmpl.AppendFormJSON(context.Background(), nil)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the form changed with the caller's slice: %v\n%s\n%s", err, before, after)
	}
}
