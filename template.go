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

	fixed  []Condition
	hashes []uint64 // foldHash of the fixed conditions' fields
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
	hashes := l.conditions(nil, fixed, 0)
	if l.hasErrors() {
		return nil, joinProblems(l.problems)
	}
	t := &Template{s: s, cfg: cfg, lifetime: lifetime, fixed: slices.Clone(fixed), hashes: hashes,
		warnings: l.problems, fixedWarnings: l.problems[fromCond:]}
	t.repeats = repeatsField(t.fixed, t.hashes)
	t.json = appendConditions(nil, t.fixed)
	t.fields, t.page = formFields(nil, nil, t.fixed, t.repeats)
	t.fields = slices.Clip(t.fields)
	t.fieldsJSON = appendFieldsJSON(nil, t.fields, false)
	t.pageJSON = appendPageConditionsJSON(nil, t.page, false)
	t.partsSize = partsSize(t.fields, t.page)
	if b := bucketOf(t.fixed); b != "" {
		t.url = newBucketURL(cfg, b)
	}
	return t, nil
}

// repeatsField reports whether two of conds constrain the same field.
func repeatsField(conds []Condition, hashes []uint64) bool {
	var buf [32]int
	group := groupByField(buf[:0], conds, hashes)
	for i, g := range group {
		if g >= 0 && g != i {
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
	a := new(formAlloc)
	var sg signing
	fields, page, _, err := t.sign(ctx, conds, a.fields[:0], a.page[:0], true, &sg)
	if err != nil {
		return nil, err
	}
	return sg.form(a, fields, page), nil
}

// AppendFormJSON signs as [Template.Sign] does and appends to dst the
// form's JSON, the bytes [Form.MarshalJSON] gives for Sign's form, without
// building the Form: the JSON of the fixed conditions' fields is written
// once, at Prepare. On error dst is returned unchanged, with Sign's error.
func (t *Template) AppendFormJSON(ctx context.Context, dst []byte, conds ...Condition) ([]byte, error) {
	var a formAlloc
	var sg signing
	fields, page, whole, err := t.sign(ctx, conds, a.fields[:0], a.page[:0], false, &sg)
	if err != nil {
		return dst, err
	}
	defer sg.release()
	b := append(dst, sg.url.headJSON...)
	if whole {
		b = appendFieldsJSON(b, fields, false)
		return sg.appendFormJSONEnd(b, len(fields) > 0, nil, page), nil
	}
	b = append(b, t.fieldsJSON...)
	b = appendFieldsJSON(b, fields, len(t.fields) > 0)
	return sg.appendFormJSONEnd(b, len(t.fields)+len(fields) > 0, t.pageJSON, page), nil
}

// sign does the work of Sign and AppendFormJSON: it checks the request's
// conditions and the rules of the whole policy, and signs it into sg. It
// returns the form's fields and page conditions appended to fields and
// page, and whether they are all of them (whole): they are when the
// caller asks for them all (all) or some field has several conditions;
// else they are those of conds alone, for the caller to write after the
// fixed ones. On success the caller must release sg.
func (t *Template) sign(ctx context.Context, conds []Condition, fields []Field, page []Condition, all bool, sg *signing) (_ []Field, _ []Condition, whole bool, _ error) {
	creds, now, err := t.s.begin(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	exp := now.Add(t.lifetime)
	var l linter
	var hashBuf [32]uint64
	l.expiration(exp, now)
	fromCond := len(l.problems)
	hashes := l.conditions(append(hashBuf[:0], t.hashes...), conds, len(t.fixed))
	// The rules of the whole policy, over the fixed conditions and conds.
	var condBuf [16]Condition
	policy := append(append(condBuf[:0], t.fixed...), conds...)
	l.crossChecks(policy, hashes)
	if l.hasErrors() {
		return nil, nil, false, joinProblems(l.problems)
	}
	if all && (len(l.problems) > 0 || len(t.fixedWarnings) > 0) {
		// The form's warnings, in the lint's order: the expiration's,
		// the fixed conditions', then those of conds and of the whole.
		sg.warnings = slices.Concat(l.problems[:fromCond], t.fixedWarnings, l.problems[fromCond:])
	}
	if err := t.s.keyFor(creds, now, sg); err != nil {
		return nil, nil, false, err
	}

	var parts int
	switch {
	case l.shared:
		// A field has several conditions: the form's fields come from all
		// of them together, as Signer.Sign builds them.
		fields, page = formFields(fields, page, policy, true)
		parts, whole = partsSize(fields, page), true
	case all:
		fields, page = formFields(append(fields, t.fields...), append(page, t.page...), conds, false)
		parts, whole = partsSize(fields, page), true
	default:
		fields, page = formFields(fields, page, conds, false)
		parts = t.partsSize + partsSize(fields, page)
	}
	sg.encode(t.startFor(sg.key), conds, exp)
	if err := sg.checkSize(&l, creds, parts); err != nil {
		return nil, nil, false, err
	}
	sg.url = t.url
	if sg.url == nil {
		sg.url = t.s.urls.get(t.cfg, bucketOf(policy))
	}
	return fields, page, whole, nil
}

// startFor returns t's policy start under key: the day's start followed by
// the fixed conditions, built once per key.
func (t *Template) startFor(key *dayKey) *encodedStart {
	if ts := t.start.Load(); ts != nil && ts.key == key {
		return &ts.start
	}
	ts := &templateStart{key: key, start: key.start.extend(t.json)}
	t.start.Store(ts)
	return &ts.start
}
