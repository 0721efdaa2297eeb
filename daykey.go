package postpolicy

import (
	"crypto/sha256"
	"encoding"
	"hash"
	"time"
)

// This file holds what a Signer computes once a day (or when its
// credentials change) so that each signature costs little more than
// encoding and hashing the part of the policy that changes:
//
//   - the SigV4 signing key and the credential string;
//   - the start of every policy it signs, which depends only on the
//     credentials: {"conditions":[{"x-amz-algorithm":…},
//     {"x-amz-credential":…},{"x-amz-security-token":…};
//   - the base64 of that start (up to a multiple of 3 bytes, so the rest of
//     the policy encodes on its own), and the state of the HMAC's inner
//     SHA-256 after the key block and that base64 (up to a multiple of the
//     64-byte block size): an encodedStart, which prefix.go extends over
//     the policy's leading conditions when they repeat.
//
// A signature then restores the midstate, hashes only the base64 of the
// rest, and finishes HMAC-SHA256 (RFC 2104) by hand: H((K^opad) ||
// H((K^ipad) || text)). The bytes of the policy are exactly those of
// appendSignedPolicy; only the work is shared. A session token, often over
// 1,000 characters, thus costs nothing per signature.

// dayKey is the cached per-day state. It is immutable once built and
// shared by concurrent signatures.
type dayKey struct {
	accessKeyID, secret, token, region, service string
	date                                        [8]byte
	credential                                  string

	key []byte // the signing key, for SignEncodedPolicy-compatible checks

	// For the form's JSON: the session token as a JSON string, and the
	// x-amz-algorithm and x-amz-credential members.
	tokenJSON, signerJSON []byte

	// start is the policy start, encoded and hashed; outerStart is the
	// state of the HMAC's outer SHA-256 after the outer key block.
	start      encodedStart
	outerStart []byte
}

// encodedStart is the beginning of a policy document, encoded and hashed
// as far as it can be on its own. The document's first bytes are encoded
// as enc; rest (0 to 2 bytes) is encoded with what follows, so that the
// whole encodes as enc followed by the encoding of rest and the remainder.
// The inner SHA-256 of the HMAC, after the inner key block, has absorbed
// enc[:hashed] (a multiple of the 64-byte block) and is saved as innerMid.
type encodedStart struct {
	enc      []byte
	rest     []byte
	hashed   int
	innerMid []byte
}

// extend returns the start that continues st with the JSON bytes more:
// encoded as far as whole 3-byte groups go, and hashed as far as whole
// blocks go. st is not modified.
func (st *encodedStart) extend(h hash.Hash, more []byte) encodedStart {
	doc := append(append([]byte(nil), st.rest...), more...)
	whole := len(doc) / 3 * 3
	enc := appendBase64(append(make([]byte, 0, len(st.enc)+(whole/3)*4), st.enc...), doc[:whole])
	next := encodedStart{enc: enc, rest: doc[whole:], hashed: len(enc) / sha256.BlockSize * sha256.BlockSize}
	restoreState(h, st.innerMid)
	h.Write(enc[st.hashed:next.hashed])
	next.innerMid = marshalState(h)
	return next
}

// digest is a SHA-256 state and room for its sum, reused across signatures.
type digest struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// newDayKey derives the state for credentials c on the UTC date of t.
func newDayKey(c Credentials, t time.Time, date [8]byte, region, service string) *dayKey {
	k := &dayKey{
		accessKeyID: c.AccessKeyID, secret: c.SecretAccessKey, token: c.SessionToken,
		region: region, service: service, date: date,
		credential: c.AccessKeyID + "/" + string(date[:]) + "/" + region + "/" + service + "/aws4_request",
		key:        DeriveSigningKey(c.SecretAccessKey, t, region, service),
	}
	if k.token != "" {
		k.tokenJSON = appendJSONString(nil, k.token)
	}
	k.signerJSON = appendFieldsJSON(nil, []Field{{"x-amz-algorithm", Algorithm}, {"x-amz-credential", k.credential}}, false)

	// HMAC key blocks: the 32-byte key padded with zeros to one block,
	// XORed with 0x36 (inner) and 0x5c (outer).
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], k.key)
	copy(opad[:], k.key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	h := sha256.New()
	h.Write(ipad[:])
	empty := encodedStart{innerMid: marshalState(h)}
	k.start = empty.extend(h, appendPolicyStart(nil, k.credential, k.token))
	h.Reset()
	h.Write(opad[:])
	k.outerStart = marshalState(h)
	return k
}

func marshalState(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("postpolicy: crypto/sha256 state cannot be saved: " + err.Error()) // never: sha256 implements it
	}
	return b
}

func restoreState(h hash.Hash, state []byte) {
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic("postpolicy: crypto/sha256 state cannot be restored: " + err.Error()) // never: the state came from MarshalBinary
	}
}

// matches reports whether k is the state for these inputs.
func (k *dayKey) matches(c Credentials, date [8]byte, region, service string) bool {
	return k.date == date && k.accessKeyID == c.AccessKeyID && k.secret == c.SecretAccessKey &&
		k.token == c.SessionToken && k.region == region && k.service == service
}

// appendPolicyStart appends the start of every policy signed with these
// credentials: the conditions that change at most daily.
func appendPolicyStart(b []byte, credential, token string) []byte {
	b = append(b, `{"conditions":[{"x-amz-algorithm":"`+Algorithm+`"},{"x-amz-credential":`...)
	b = appendJSONString(b, credential)
	b = append(b, '}')
	if token != "" {
		b = append(b, `,{"x-amz-security-token":`...)
		b = appendJSONString(b, token)
		b = append(b, '}')
	}
	return b
}

// appendConditions appends conds, each preceded by a comma: the policy's
// own conditions follow the signer's.
func appendConditions(b []byte, conds []Condition) []byte {
	for i := range conds {
		b = append(b, ',')
		b = appendCondition(b, &conds[i])
	}
	return b
}

// appendPolicyTail appends what follows the conditions: x-amz-date, the
// end of the array and the expiration.
func appendPolicyTail(b []byte, expiration time.Time, amzDate []byte) []byte {
	b = append(b, `,{"x-amz-date":"`...)
	b = append(b, amzDate...)
	b = append(b, `"}],"expiration":`...)
	b = appendExpiration(b, expiration)
	return append(b, '}')
}

// encodeAndSign appends to dst the base64 of end, the rest of a policy
// that starts with st (end's first len(st.rest) bytes must be st.rest),
// and returns it with the hex signature, under k's key, of the whole
// policy's base64 text: st.enc followed by the returned encoding. d is
// scratch space.
func (k *dayKey) encodeAndSign(st *encodedStart, d *digest, dst, end []byte) (encodedEnd []byte, signature [2 * sha256.Size]byte) {
	dst = appendBase64(dst, end)

	restoreState(d.h, st.innerMid)
	d.h.Write(st.enc[st.hashed:])
	d.h.Write(dst)
	inner := d.h.Sum(d.sum[:0])
	restoreState(d.h, k.outerStart)
	d.h.Write(inner)
	appendHex(signature[:0], d.h.Sum(d.sum[:0]))
	return dst, signature
}
