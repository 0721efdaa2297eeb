package postpolicy

import "github.com/postpolicy/postpolicy/internal/sigv4"

// This file holds what a Signer computes once a day (or when its
// credentials change), so that a signature costs little more than encoding
// and hashing the part of its policy that changes:
//
//   - the SigV4 signing key and the credential string (sigv4.Key);
//   - the start of every policy it signs, which depends only on the
//     credentials: {"conditions":[{"x-amz-algorithm":…},
//     {"x-amz-credential":…},{"x-amz-security-token":…} (policy.go);
//   - that start's base64, and the HMAC state after it: an encodedStart,
//     which a Template extends over its fixed conditions.
//
// A signature clones the HMAC state, encodes and hashes only the rest of
// its policy, and finishes the HMAC. The bytes signed are exactly those of
// a plain encoding of the whole document; only the work is shared. A
// session token, often over 1,000 characters, thus costs nothing per
// signature.

// dayKey is the cached per-day state. It is immutable once built and
// shared by concurrent signatures.
type dayKey struct {
	key    *sigv4.Key
	token  string
	region string // as configured, for matches
	// For the form's JSON: the session token as a JSON string, and the
	// x-amz-algorithm and x-amz-credential members followed by the start
	// of x-amz-date's.
	tokenJSON, signerJSON []byte
	start                 encodedStart
}

// newDayKey derives the state for credentials c on date (YYYYMMDD).
func newDayKey(c Credentials, date, region, service string) *dayKey {
	k := &dayKey{
		key:   sigv4.NewKey(c.AccessKeyID, c.SecretAccessKey, date, region, service),
		token: c.SessionToken, region: region,
	}
	if k.token != "" {
		k.tokenJSON = appendJSONString(nil, k.token)
	}
	k.signerJSON = appendFieldsJSON(nil, []Field{{"x-amz-algorithm", Algorithm}, {"x-amz-credential", k.key.Credential}}, false)
	k.signerJSON = append(k.signerJSON, `,"x-amz-date":"`...)
	empty := encodedStart{mac: k.key.MAC()}
	k.start = k.extend(&empty, appendPolicyStart(nil, k.key.Credential, k.token))
	return k
}

// extend returns the start that continues st with the JSON bytes more,
// under k. st is not modified.
func (k *dayKey) extend(st *encodedStart, more []byte) encodedStart {
	ext := st.extend(more)
	// The form's JSON from the end of x-amz-date's value to the start of
	// the policy's encoding after ext.enc.
	b := append(make([]byte, 0, 32+len(k.tokenJSON)+len(ext.enc)), '"')
	if k.token != "" {
		b = append(b, `,"x-amz-security-token":`...)
		b = append(b, k.tokenJSON...)
	}
	b = append(b, `,"policy":"`...)
	ext.formJSON = append(b, ext.enc...)
	return ext
}

// matches reports whether k is the state for these inputs; date is
// YYYYMMDD.
func (k *dayKey) matches(c Credentials, date []byte, region, service string) bool {
	return k.token == c.SessionToken && k.key.Matches(c.AccessKeyID, c.SecretAccessKey, date, region, service)
}

// encodedStart is the beginning of a policy document, encoded and hashed
// as far as it can be on its own. The document's first bytes are encoded
// as enc, a whole number of 3-byte groups; rest (0 to 2 bytes) is encoded
// with what follows, so that the whole document encodes as enc followed by
// the encoding of rest and the remainder. mac has absorbed enc.
type encodedStart struct {
	enc  []byte
	rest []byte
	mac  sigv4.MAC
	// formJSON is the form's JSON between x-amz-date's value and the
	// encoding that follows enc: the session token and the start of the
	// policy, enc included (dayKey.extend).
	formJSON []byte
}

// extend returns the start that continues st with the JSON bytes more.
// st is not modified.
func (st *encodedStart) extend(more []byte) encodedStart {
	doc := append(append([]byte(nil), st.rest...), more...)
	whole := len(doc) / 3 * 3
	enc := appendBase64(nil, doc[:whole])
	mac := st.mac.Clone()
	mac.Write(enc)
	return encodedStart{
		enc:  append(append(make([]byte, 0, len(st.enc)+len(enc)), st.enc...), enc...),
		rest: doc[whole:],
		mac:  mac,
	}
}

// sign appends to dst the base64 of end, the rest of a document that
// begins with st (end's first bytes must be st.rest), and returns it with
// the hex signature of the whole document's base64 text: st.enc followed
// by the encoding appended. A clone of st's HMAC state hashes the
// encoding where it is written, in dst; the room after it, when there is
// enough, holds the binary MAC on its way to hex.
func (st *encodedStart) sign(dst, end []byte) ([]byte, [64]byte) {
	n := len(dst)
	dst = appendBase64(dst, end)
	mac := st.mac.Clone()
	mac.Write(dst[n:])
	return dst, mac.HexSum(dst[len(dst):])
}
