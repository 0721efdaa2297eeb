package postpolicy

import (
	"slices"
	"sync"
)

// This file holds the Signer's second cache: the leading conditions that
// a backend's policies share. A backend signs the same kind of policy again
// and again, and most of its conditions (the bucket, the size range, the
// content type, the success status) are the same for every request; only a
// few (the user's key prefix, a metadata value) change. When two policies
// of the same shape signed one after the other begin with the same
// conditions, the Signer encodes and hashes the day's policy start
// (daykey.go) followed by those conditions once, as an encodedStart, and
// every later policy that begins with them costs only the encoding and
// hashing of what follows them. The bytes signed are those of the plain
// computation; only the work is shared. So a policy is signed fastest with
// its fixed conditions first and its per-request conditions last.
//
// The cache decides nothing: a policy is signed from a prefix only when its
// leading conditions are equal, field for field, to the prefix's, which
// passed every check under the same shape. Which conditions to cache is a
// guess from the last policies signed; a wrong guess costs speed, never
// bytes.

// maxPrefix is the most leading conditions a prefix holds.
const maxPrefix = 16

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
}

// recentConds holds the leading conditions of the last policy that was
// signed without a prefix, to find the conditions two policies share.
type recentConds struct {
	mu    sync.Mutex
	shape *policyShape
	n     int
	conds [maxPrefix]Condition
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

// cachedPrefix returns the cached prefix when p, whose shape is sh, begins
// with its conditions; nil otherwise.
func (s *Signer) cachedPrefix(p *Policy, sh *policyShape) *condPrefix {
	pc := s.prefix.Load()
	if pc == nil || sh == nil || pc.shape != sh || leadingEqual(p.Conditions, pc.conds) < len(pc.conds) {
		return nil
	}
	return pc
}

// startFor returns the encoded start to sign p with under key, and how many
// of p's conditions it holds. p passed the checks, under shape sh when sh
// is not nil; hit is the prefix it was checked with, or nil. Without a hit,
// p's leading conditions are compared with those of the last policy
// signed without one: when they share some, a prefix of them is built
// and cached, else p's are remembered for the next policy.
func (s *Signer) startFor(key *dayKey, p *Policy, hit *condPrefix, sh *policyShape) (*encodedStart, int) {
	if hit != nil {
		if hit.key != key {
			// The day or the credentials changed: the same conditions
			// still lead, under the new key.
			hit = s.buildPrefix(key, sh, p.Conditions[:len(hit.conds)])
		}
		return &hit.start, len(hit.conds)
	}
	if sh == nil || !s.recent.mu.TryLock() {
		return &key.start, 0
	}
	r := &s.recent
	n := 0
	if r.shape == sh {
		n = leadingEqual(p.Conditions, r.conds[:r.n])
	}
	if n == 0 {
		clear(r.conds[:r.n])
		r.shape, r.n = sh, copy(r.conds[:], p.Conditions)
	} else {
		clear(r.conds[:r.n])
		r.shape, r.n = nil, 0
	}
	r.mu.Unlock()
	if n == 0 {
		return &key.start, 0
	}
	pc := s.buildPrefix(key, sh, p.Conditions[:n])
	return &pc.start, n
}

// buildPrefix builds and caches the prefix of conds, which passed the
// checks under shape sh, for key.
func (s *Signer) buildPrefix(key *dayKey, sh *policyShape, conds []Condition) *condPrefix {
	pc := &condPrefix{key: key, shape: sh, conds: slices.Clone(conds), lo: 0, hi: maxInt64}
	for i := range pc.conds {
		if c := &pc.conds[i]; c.op == OpContentLengthRange {
			pc.lo, pc.hi = max(pc.lo, c.min), min(pc.hi, c.max)
		}
	}
	bufs := bufPool.Get().(*buffers)
	pc.start = key.start.extend(bufs.digest.h, appendConditions(nil, pc.conds))
	bufPool.Put(bufs)
	s.prefix.Store(pc)
	return pc
}
