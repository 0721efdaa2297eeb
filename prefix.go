package postpolicy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the Signer's second cache: the leading conditions that
// a backend's policies share. A backend signs the same kind of policy again
// and again, and most of its conditions (the bucket, the size range, the
// content type, the success status) are the same for every request; only a
// few (the user's key prefix, a metadata value) change. When two policies
// of the same shape signed shortly one after the other begin with the same
// conditions, the Signer encodes and hashes the day's policy start
// (daykey.go) followed by those conditions once, as an encodedStart, and
// checks them and writes their form fields' JSON once; every later policy
// that begins with them costs only the checks, encoding and hashing of
// what follows them. The bytes signed are those of the plain
// computation; only the work is shared. So a policy is signed fastest with
// its fixed conditions first and its per-request conditions last.
//
// The cache decides nothing: a policy is signed from a prefix only when its
// leading conditions are equal, field for field, to the prefix's, which
// passed every check under the same shape. Which conditions to cache is a
// guess from the last policies signed; a wrong guess costs speed, never
// bytes. A Signer keeps a few prefixes (cacheSlots), so that a backend
// signing a few kinds of policy in turn (avatars to one bucket, documents
// to another) keeps one for each; it remembers the last few policies
// signed without a prefix, so that the second policy of a kind finds
// what it shares with the first even when other kinds came between.

// maxPrefix is the most leading conditions a prefix holds.
const maxPrefix = 8

// condPrefix is the start of the policies of one shape signed with one
// day key: the day's start, then conds. It is immutable once built.
type condPrefix struct {
	key   *dayKey
	shape *policyShape
	conds []Condition // 1 to maxPrefix conditions
	// lo and hi are the bounds conds put on the file's size (0 and
	// maxInt64 without a content-length-range), for the checks of the
	// conditions that follow.
	lo, hi int64
	start  encodedStart
	// The form's JSON for conds: the members of the fields object for the
	// first nFields fields, and the elements of the pageConditions array
	// for the first nPage page conditions.
	nFields, nPage       int
	fieldsJSON, pageJSON []byte
}

// recentConds holds the leading conditions of the last few policies
// signed without a prefix, to find the conditions two policies share, even
// when a few kinds of policy are signed in alternation.
type recentConds struct {
	mu   sync.Mutex
	next int // the entry the next policy replaces
	e    [cacheSlots]recentEntry
}

type recentEntry struct {
	shape *policyShape
	n     int
	conds [maxPrefix]Condition
}

// share returns the most leading conditions p, of shape sh, shares with a
// remembered policy, and forgets that policy; or, when it shares none with
// any, remembers p in place of the oldest and returns 0.
func (r *recentConds) share(p *Policy, sh *policyShape) int {
	best, at := 0, -1
	for i := range r.e {
		if e := &r.e[i]; e.shape == sh {
			if n := leadingEqual(p.Conditions, e.conds[:e.n]); n > best {
				best, at = n, i
			}
		}
	}
	if at >= 0 {
		e := &r.e[at]
		clear(e.conds[:e.n])
		e.shape, e.n = nil, 0
		return best
	}
	e := &r.e[r.next]
	r.next = (r.next + 1) % len(r.e)
	clear(e.conds[:e.n])
	e.shape, e.n = sh, copy(e.conds[:], p.Conditions)
	return 0
}

// leadingEqual returns how many leading conditions a and b have in common.
func leadingEqual(a, b []Condition) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// cachedPrefix finds what spares p, signed at at, some of the checks: a
// cached prefix that p begins with, whose shape p has, and whose
// conditions after the prefix pass the value checks (both results then);
// else a kept shape p has and whose value checks it passes (sh alone);
// else nothing, and p needs the full lint.
func (s *Signer) cachedPrefix(p *Policy, at time.Time, trustedBucket string) (hit *condPrefix, sh *policyShape) {
	for i := range s.prefixes.v {
		pc := s.prefixes.v[i].Load()
		if pc == nil || len(p.Conditions) != len(pc.shape.conds) || leadingEqual(p.Conditions, pc.conds) < len(pc.conds) {
			continue
		}
		if pc.shape.checkFrom(p, at, trustedBucket, len(pc.conds), pc.lo, pc.hi) {
			return pc, pc.shape
		}
	}
	for i := range s.shapes.v {
		if sh := s.shapes.v[i].Load(); sh != nil && sh.check(p, at, trustedBucket) {
			return nil, sh
		}
	}
	return nil, nil
}

// cacheSlots is how many shapes and prefixes a Signer keeps.
const cacheSlots = 4

// slots is a small cache of immutable values, so that a few kinds of
// policy signed in alternation each keep their entry. Once every slot is
// taken, the oldest value is replaced.
type slots[T any] struct {
	v    [cacheSlots]atomic.Pointer[T]
	next atomic.Uint32 // counts replacements
}

// add stores v in an empty slot, else in place of the oldest.
func (c *slots[T]) add(v *T) {
	for i := range c.v {
		if c.v[i].Load() == nil && c.v[i].CompareAndSwap(nil, v) {
			return
		}
	}
	c.v[(c.next.Add(1)-1)%cacheSlots].Store(v)
}

// replace stores v in old's slot, or adds it when old is nil or no longer
// cached.
func (c *slots[T]) replace(old, v *T) {
	if old != nil {
		for i := range c.v {
			if c.v[i].CompareAndSwap(old, v) {
				return
			}
		}
	}
	c.add(v)
}

// startFor returns the cached prefix to sign p with under key, nil to sign
// it from the day's start. p passed the checks, under shape sh when sh
// is not nil; hit is the prefix it was checked with, or nil. Without a hit,
// p's leading conditions are compared with those of the last few policies
// signed without one: when they share some, a prefix of them is built
// and cached, else p's are remembered.
func (s *Signer) startFor(key *dayKey, p *Policy, hit *condPrefix, sh *policyShape) *condPrefix {
	if hit != nil {
		if hit.key != key {
			// The day or the credentials changed: the same conditions
			// still lead, under the new key, in the same slot.
			hit = s.buildPrefix(key, sh, p.Conditions[:len(hit.conds)], hit)
		}
		return hit
	}
	if sh == nil || !s.recent.mu.TryLock() {
		return nil
	}
	n := s.recent.share(p, sh)
	s.recent.mu.Unlock()
	if n == 0 {
		return nil
	}
	return s.buildPrefix(key, sh, p.Conditions[:n], nil)
}

// buildPrefix builds the prefix of conds, which passed the checks under
// shape sh, for key, and caches it in place of old, or as a new entry when
// old is nil or gone.
func (s *Signer) buildPrefix(key *dayKey, sh *policyShape, conds []Condition, old *condPrefix) *condPrefix {
	pc := &condPrefix{key: key, shape: sh, conds: slices.Clone(conds), lo: 0, hi: maxInt64}
	for i := range pc.conds {
		if c := &pc.conds[i]; c.op == OpContentLengthRange {
			pc.lo, pc.hi = max(pc.lo, c.min), min(pc.hi, c.max)
		}
	}
	bufs := bufPool.Get().(*buffers)
	pc.start = key.start.extend(bufs.digest.h, appendConditions(nil, pc.conds))
	bufPool.Put(bufs)
	// A policy with a shape repeats no field (newShape), so its first
	// fields and page conditions are those of its leading conditions.
	fields, page := formFields(nil, nil, pc.conds, false)
	pc.nFields, pc.fieldsJSON = len(fields), appendFieldsJSON(nil, fields, false)
	pc.nPage, pc.pageJSON = len(page), appendPageConditionsJSON(nil, page, false)
	s.prefixes.replace(old, pc)
	return pc
}
