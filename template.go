package postpolicy

import (
	"context"
	"slices"
	"sync/atomic"
	"time"
)

// A Template is a policy prepared for signing many times, the way
// database/sql prepares a statement or regexp compiles an expression. A
// backend that lets every user upload the same kind of file signs
// policies that differ only in a few conditions (the user's key prefix, a
// metadata value); the others (the bucket, the size range, the content
// type) are the same for every request. [Signer.Prepare] checks those
// fixed conditions once, and the Template keeps their JSON, their form
// fields and, for each day's signing key, the base64 and HMAC state of
// the policy up to their end. Each signature then checks, encodes and
// hashes only the conditions of its request, x-amz-date and the
// expiration.
//
// A Template signs exactly what its Signer signs for [Template.Policy]:
// the same bytes, the same form, the same errors. The checks are the same
// rules, from one table; the fixed conditions' own checks are not run
// again because a Condition cannot change. The rules that look at several
// conditions together (a missing key, conflicting conditions, the form's
// size) run on every signature, over the fixed conditions and the
// request's.
//
// A Template is safe for concurrent use. It signs with its Signer's
// credentials and clock at each signature, and with the Signer's region,
// service and endpoint as they were at Prepare.
type Template struct {
	s        *Signer
	cfg      *signerConfig
	lifetime time.Duration

	fixed []Condition
	facts []condFacts // the lint's facts of the fixed conditions
	// repeats records that a field has several fixed conditions: every
	// signature then builds its form fields from all its conditions.
	repeats bool

	// What the fixed conditions contribute to every form: their policy
	// JSON, their fields and page conditions, those as the form's JSON,
	// and their share of the form's size before the file.
	json                 []byte
	fields               []Field
	page                 []Condition
	fieldsJSON, pageJSON []byte
	partsSize            int
	url                  *bucketURL // when a fixed condition names the bucket
	headJSON             []byte     // with url: its form head, then fieldsJSON

	// warnings are Prepare's; fixedWarnings those of the fixed conditions
	// alone, which every Form carries.
	warnings, fixedWarnings []Problem
	start                   atomic.Pointer[templateStart]
}

// templateStart is a Template's policy start under one day key: the day's
// start followed by the fixed conditions.
type templateStart struct {
	key   *dayKey
	start encodedStart
}

// Prepare checks fixed, the conditions that are the same in every policy
// the returned Template signs, and prepares them for signing: each policy
// is fixed followed by the conditions given to the Template's Sign or
// AppendFormJSON, and expires lifetime after its signing time.
//
// Prepare reports, as an error matching [ErrInvalidPolicy], the problems
// of each fixed condition on its own and a lifetime that is not positive;
// the rules that need the whole policy (a bucket and a key condition, no
// conflicts) are checked at each signature, since the request's
// conditions may complete the policy. It returns an error matching
// [ErrSignerConfig] when the Signer's configuration cannot sign.
func (s *Signer) Prepare(lifetime time.Duration, fixed ...Condition) (*Template, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	at := now().UTC()
	var l linter
	l.expiration(at.Add(lifetime), at)
	fromCond := len(l.problems)
	facts := l.conditions(nil, fixed, 0)
	if l.hasErrors() {
		return nil, joinProblems(l.problems)
	}
	t := &Template{s: s, cfg: cfg, lifetime: lifetime, fixed: slices.Clone(fixed), facts: facts,
		warnings: l.problems, fixedWarnings: l.problems[fromCond:]}
	t.repeats = repeatsField(t.fixed, t.facts)
	t.json = appendConditionsAs(nil, t.fixed, t.facts)
	t.fields, t.page = formFields(nil, nil, t.fixed, t.repeats)
	t.fields = slices.Clip(t.fields)
	t.fieldsJSON = appendFieldsJSON(nil, t.fields, false)
	t.pageJSON = appendPageConditionsJSON(nil, t.page, false)
	t.partsSize = partsSize(t.fields, t.page)
	if b := bucketOf(t.fixed); b != "" {
		t.url = newBucketURL(cfg, b)
		t.headJSON = append(append([]byte(nil), t.url.headJSON...), t.fieldsJSON...)
	}
	return t, nil
}

// repeatsField reports whether two of conds constrain the same field.
func repeatsField(conds []Condition, facts []condFacts) bool {
	var buf [16]int32
	group := groupByField(buf[:0], conds, facts)
	for i, g := range group {
		if g >= 0 && int(g) != i {
			return true
		}
	}
	return false
}

// Policy returns the policy t signs at signingTime for a request with the
// conditions conds: t's fixed conditions followed by conds, expiring
// t's lifetime after signingTime. [Signer.Sign] of it gives the same form
// as t's Sign at that time.
func (t *Template) Policy(signingTime time.Time, conds ...Condition) Policy {
	all := make([]Condition, 0, len(t.fixed)+len(conds))
	all = append(append(all, t.fixed...), conds...)
	return Policy{Expiration: signingTime.Add(t.lifetime), Conditions: all}
}

// Warnings returns the warnings Prepare found in the fixed conditions and
// the lifetime ([Problem.Warning] set): what S3 accepts but probably not as
// meant. A Form from Sign carries all its policy's warnings
// (Form.Warnings).
func (t *Template) Warnings() []Problem { return slices.Clone(t.warnings) }

// Sign signs, as [Signer.Sign] does, the policy of t's fixed conditions
// followed by conds, expiring t's lifetime after the signing time, and
// returns the form a browser posts to S3. Only conds are checked on their
// own; the rules that need the whole policy are checked over all the
// conditions. Errors are those of [Signer.Sign].
func (t *Template) Sign(ctx context.Context, conds ...Condition) (*Form, error) {
	var sg signing
	var room endRoom
	var factBuf [16]condFacts
	_, end, exp, err := t.sign(ctx, conds, factBuf[:0], room[:0], true, &sg)
	if err != nil {
		return nil, err
	}
	a := new(formAlloc)
	var fields []Field
	var page []Condition
	if sg.shared {
		// A field has several conditions: the form's fields come from all
		// of them together, as Signer.Sign builds them.
		var condBuf [16]Condition
		fields, page = formFields(a.fields[:0], a.page[:0], append(append(condBuf[:0], t.fixed...), conds...), true)
	} else {
		fields, page = formFields(append(a.fields[:0], t.fields...), append(a.page[:0], t.page...), conds, false)
	}
	return sg.form(a, fields, page, end, exp), nil
}

// AppendFormJSON signs as [Template.Sign] does and appends to dst the
// form's JSON, the bytes [Form.MarshalJSON] gives for Sign's form, without
// building the Form: the JSON of the fixed conditions' fields is written
// once, at Prepare. On error dst is returned unchanged, with Sign's error.
func (t *Template) AppendFormJSON(ctx context.Context, dst []byte, conds ...Condition) ([]byte, error) {
	var sg signing
	var room endRoom
	var factBuf [16]condFacts
	facts, end, _, err := t.sign(ctx, conds, factBuf[:0], room[:0], false, &sg)
	if err != nil {
		return dst, err
	}
	if sg.shared {
		var a formAlloc
		var condBuf [16]Condition
		fields, page := formFields(a.fields[:0], a.page[:0], append(append(condBuf[:0], t.fixed...), conds...), true)
		b := append(dst, sg.url.headJSON...)
		b = appendFieldsJSON(b, fields, false)
		b = sg.appendFormJSONEnd(b, len(fields) > 0, end)
		return appendFormJSONPage(b, nil, page, nil), nil
	}
	// The fixed conditions' fields, then those of conds (formFields).
	var b []byte
	if t.url != nil {
		b = append(dst, t.headJSON...)
	} else {
		b = append(dst, sg.url.headJSON...)
		b = append(b, t.fieldsJSON...)
	}
	b, comma := appendFieldsJSONOf(b, conds, facts[len(t.fixed):], len(t.fields) > 0)
	b = sg.appendFormJSONEnd(b, comma, end)
	return appendFormJSONPage(b, t.pageJSON, nil, conds), nil
}

// sign does the work of Sign and AppendFormJSON: it checks the request's
// conditions and the rules of the whole policy, and prepares its
// signature in sg. It returns the lint's facts of the fixed conditions and
// conds appended to facts, the policy's JSON after sg.start appended to
// end, and the policy's expiration. The form's fields (formFields, from
// the conditions and sg.shared) and the base64 and HMAC of the end
// (encodedStart.sign) are the caller's to compute. all says whether the
// form's warnings are wanted (Sign's Form carries them).
func (t *Template) sign(ctx context.Context, conds []Condition, facts []condFacts, end []byte, all bool, sg *signing) (_ []condFacts, _ []byte, exp time.Time, _ error) {
	creds, now, err := t.s.begin(ctx)
	if err != nil {
		return nil, nil, exp, err
	}
	exp = now.Add(t.lifetime)
	var l linter
	l.expiration(exp, now)
	fromCond := len(l.problems)
	facts = l.conditions(append(facts, t.facts...), conds, len(t.fixed))
	// The rules of the whole policy, over the fixed conditions and conds.
	var condBuf [16]Condition
	policy := append(append(condBuf[:0], t.fixed...), conds...)
	l.crossChecks(policy, facts)
	if l.hasErrors() {
		return nil, nil, exp, joinProblems(l.problems)
	}
	if all && (len(l.problems) > 0 || len(t.fixedWarnings) > 0) {
		// The form's warnings, in the lint's order: the expiration's,
		// the fixed conditions', then those of conds and of the whole.
		sg.warnings = slices.Concat(l.problems[:fromCond], t.fixedWarnings, l.problems[fromCond:])
	}
	sg.shared = l.shared
	if err := t.s.keyFor(creds, now, sg); err != nil {
		return nil, nil, exp, err
	}
	parts := t.partsSize + formPartsSize(conds, false)
	if l.shared {
		parts = formPartsSize(policy, true)
	}
	end = sg.writeEnd(end, t.startFor(sg.key), conds, facts[len(t.fixed):], exp)
	if err := sg.checkSize(&l, creds, parts); err != nil {
		return nil, nil, exp, err
	}
	sg.url = t.url
	if sg.url == nil {
		sg.url = t.s.urls.get(t.cfg, bucketOf(policy))
	}
	return facts, end, exp, nil
}

// startFor returns t's policy start under key: the day's start followed by
// the fixed conditions, built once per key.
func (t *Template) startFor(key *dayKey) *encodedStart {
	if ts := t.start.Load(); ts != nil && ts.key == key {
		return &ts.start
	}
	ts := &templateStart{key: key, start: key.extend(&key.start, t.json)}
	t.start.Store(ts)
	return &ts.start
}
