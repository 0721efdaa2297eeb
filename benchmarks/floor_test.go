package benchmarks

// The floors: hand-written, straight-line signers for exactly the scenario's
// policy, as a lower bound for any general library. Both take the per-user
// values (the user id in the key prefix and in x-amz-meta-uploader) on every
// call, write them with a JSON-escaping scan, format x-amz-date and the
// expiration, base64 the document into a reused buffer and compute one
// HMAC-SHA256 from cached pad states. Neither allocates per signature.
//
// floor writes and encodes the whole document on every call. floor-prefix
// (the "moonshot") writes the part that changes at most daily first — the
// signer's conditions with the session token, the bucket and the conditions
// that do not depend on the user — padded with JSON whitespace to a multiple
// of 48 bytes, so that its base64 is whole 64-byte SHA-256 blocks. That
// base64 and the HMAC's inner SHA-256 state after ipad+prefix are computed
// once; each call writes, encodes and hashes only the tail: the per-user
// conditions, x-amz-date and the expiration.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
)

const floorURL = "https://" + bucket + ".s3." + region + ".amazonaws.com/"

// floorKey is what both floors derive once per day and share read-only
// between goroutines: the date, the credential and the HMAC pad states.
type floorKey struct {
	now        func() time.Time
	y          int
	m          time.Month
	d          int
	credential string
	// innerState and outerState are the marshaled SHA-256 states after
	// absorbing the key XOR ipad and the key XOR opad blocks.
	innerState, outerState []byte
}

// errDayChanged is returned by a floor whose clock left the day its key was
// derived for. The floors sign on a fixed clock, so this never happens; a
// real signer would derive the next day's key here.
var errDayChanged = errors.New("floor: the signing day changed")

func newFloorKey(now func() time.Time) (*floorKey, error) {
	t := now().UTC()
	k := &floorKey{now: now}
	k.y, k.m, k.d = t.Date()
	date := t.Format("20060102")
	k.credential = accessKeyID + "/" + date + "/" + region + "/" + service + "/aws4_request"
	// The signing key, derived here with crypto/hmac rather than
	// postpolicy.DeriveSigningKey, so that TestVerify's recomputation
	// with the library's function is an independent check.
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+secretAccessKey), date), region), service), "aws4_request")

	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	var err error
	if k.innerState, err = stateAfter(ipad[:]); err != nil {
		return nil, err
	}
	if k.outerState, err = stateAfter(opad[:]); err != nil {
		return nil, err
	}
	return k, nil
}

// stateAfter returns the marshaled SHA-256 state after writing the blocks.
func stateAfter(blocks ...[]byte) ([]byte, error) {
	h := sha256.New()
	for _, b := range blocks {
		h.Write(b)
	}
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

// padMAC computes HMAC-SHA256 from marshaled pad states, without allocating.
type padMAC struct {
	inner, outer   hash.Hash
	innerU, outerU encoding.BinaryUnmarshaler
	sum            [sha256.Size]byte
}

func newPadMAC() *padMAC {
	m := &padMAC{inner: sha256.New(), outer: sha256.New()}
	m.innerU = m.inner.(encoding.BinaryUnmarshaler)
	m.outerU = m.outer.(encoding.BinaryUnmarshaler)
	return m
}

// hexMAC writes into dst the hex of the HMAC whose inner hash resumes from
// innerState and absorbs msg, and whose outer hash resumes from outerState.
func (m *padMAC) hexMAC(dst *[2 * sha256.Size]byte, innerState, outerState, msg []byte) error {
	if err := m.innerU.UnmarshalBinary(innerState); err != nil {
		return err
	}
	m.inner.Write(msg)
	m.inner.Sum(m.sum[:0])
	if err := m.outerU.UnmarshalBinary(outerState); err != nil {
		return err
	}
	m.outer.Write(m.sum[:])
	m.outer.Sum(m.sum[:0])
	hex.Encode(dst[:], m.sum[:])
	return nil
}

// clockDigits are the date and time fields a floor writes: x-amz-date's
// and the expiration's.
type clockDigits struct {
	y, mo, d, h, mi, s             int
	ey, emo, ed, eh, emi, es, emsc int
}

// read reads the floor's clock and returns the digits it writes, checking
// the day against the cached key's.
func (k *floorKey) read() (clockDigits, error) {
	t := k.now().UTC()
	y, m, d := t.Date()
	if y != k.y || m != k.m || d != k.d {
		return clockDigits{}, errDayChanged
	}
	var c clockDigits
	c.y, c.mo, c.d = y, int(m), d
	c.h, c.mi, c.s = t.Clock()
	e := t.Add(expiresIn)
	ey, em, ed := e.Date()
	c.ey, c.emo, c.ed = ey, int(em), ed
	c.eh, c.emi, c.es = e.Clock()
	c.emsc = e.Nanosecond() / int(time.Millisecond)
	return c, nil
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendAmzDate appends x-amz-date: 20060102T150405Z.
func (c *clockDigits) appendAmzDate(b []byte) []byte {
	b = append4(b, c.y)
	b = append2(b, c.mo)
	b = append2(b, c.d)
	b = append(b, 'T')
	b = append2(b, c.h)
	b = append2(b, c.mi)
	b = append2(b, c.s)
	return append(b, 'Z')
}

// appendExpiration appends the expiration: 2006-01-02T15:04:05.000Z.
func (c *clockDigits) appendExpiration(b []byte) []byte {
	b = append4(b, c.ey)
	b = append(b, '-')
	b = append2(b, c.emo)
	b = append(b, '-')
	b = append2(b, c.ed)
	b = append(b, 'T')
	b = append2(b, c.eh)
	b = append(b, ':')
	b = append2(b, c.emi)
	b = append(b, ':')
	b = append2(b, c.es)
	b = append(b, '.', byte('0'+c.emsc/100), byte('0'+c.emsc/10%10), byte('0'+c.emsc%10), 'Z')
	return b
}

// appendJSONText appends s as the inside of a JSON string, escaped as
// encoding/json escapes it with HTML escaping off. The scan finds nothing to
// escape in the common case and appends s whole.
func appendJSONText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendJSONTextSlow(b, s, i)
		}
	}
	return append(b, s...)
}

func appendJSONTextSlow(b []byte, s string, i int) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				b = append(b, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			default:
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return b
}

// jsonText returns s escaped for a JSON string, for the static parts.
func jsonText(s string) string { return string(appendJSONText(nil, s)) }

// floorForm returns the form a floor's signature belongs to.
func floorForm(userID, credential, amzDate, policy, signature string) formOut {
	return formOut{
		URL: floorURL,
		Fields: []postpolicy.Field{
			{Name: "key", Value: keyPrefix(userID) + "${filename}"},
			{Name: "success_action_status", Value: successStatus},
			{Name: "x-amz-meta-uploader", Value: userID},
			{Name: "x-amz-algorithm", Value: postpolicy.Algorithm},
			{Name: "x-amz-credential", Value: credential},
			{Name: "x-amz-date", Value: amzDate},
			{Name: "x-amz-security-token", Value: sessionToken},
			{Name: "policy", Value: policy},
			{Name: "x-amz-signature", Value: signature},
		},
		PageAdds: []postpolicy.Field{{Name: "Content-Type", Value: contentTypePfx + "png"}},
	}
}

// --- floor ---

// floorTemplate is the floor's policy document around its variable parts:
// p0 USER p1 USER p2 X-AMZ-DATE p3 EXPIRATION p4.
type floorTemplate struct {
	*floorKey
	p0, p1, p2, p3, p4 string
}

func startFloor() (*instance, error) {
	k, err := newFloorKey(fixedClock)
	if err != nil {
		return nil, err
	}
	t := &floorTemplate{
		floorKey: k,
		p0:       `{"conditions":[{"bucket":"` + jsonText(bucket) + `"},["starts-with","$key","uploads/`,
		p1:       `/"],["content-length-range",1,10485760],["starts-with","$Content-Type","` + jsonText(contentTypePfx) + `"],{"success_action_status":"` + successStatus + `"},{"x-amz-meta-uploader":"`,
		p2: `"},{"x-amz-algorithm":"` + postpolicy.Algorithm + `"},{"x-amz-credential":"` + jsonText(k.credential) +
			`"},{"x-amz-security-token":"` + jsonText(sessionToken) + `"},{"x-amz-date":"`,
		p3: `"}],"expiration":"`,
		p4: `"}`,
	}
	return &instance{newWorker: func() worker {
		return &floorWorker{t: t, mac: newPadMAC(), doc: make([]byte, 0, 2048), b64: make([]byte, 0, 4096)}
	}}, nil
}

type floorWorker struct {
	t        *floorTemplate
	mac      *padMAC
	doc, b64 []byte
	amzDate  [16]byte
	sig      [2 * sha256.Size]byte
	userID   string
}

func (w *floorWorker) sign(userID string) error {
	c, err := w.t.read()
	if err != nil {
		return err
	}
	t := w.t
	b := append(w.doc[:0], t.p0...)
	b = appendJSONText(b, userID)
	b = append(b, t.p1...)
	b = appendJSONText(b, userID)
	b = append(b, t.p2...)
	b = c.appendAmzDate(b)
	b = append(b, t.p3...)
	b = c.appendExpiration(b)
	b = append(b, t.p4...)
	w.doc = b
	c.appendAmzDate(w.amzDate[:0])

	n := base64.StdEncoding.EncodedLen(len(b))
	if cap(w.b64) < n {
		w.b64 = make([]byte, n)
	}
	w.b64 = w.b64[:n]
	base64.StdEncoding.Encode(w.b64, b)
	w.userID = userID
	return w.mac.hexMAC(&w.sig, t.innerState, t.outerState, w.b64)
}

func (w *floorWorker) form() (formOut, error) {
	return floorForm(w.userID, w.t.credential, string(w.amzDate[:]), string(w.b64), string(w.sig[:])), nil
}

// --- floor-prefix ---

// prefixTemplate is floor-prefix's cached prefix and its tail's template:
// q0 USER q1 USER q2 X-AMZ-DATE q3 EXPIRATION q4.
type prefixTemplate struct {
	*floorKey
	// prefixB64 is the base64 of the static prefix, a multiple of 64
	// bytes; innerPrefixState is the HMAC's inner SHA-256 state after
	// ipad and prefixB64.
	prefixB64        []byte
	innerPrefixState []byte
	q0, q1, q2, q3   string
	q4               string
}

// prefixPadding returns how many spaces make a prefix of n bytes a
// multiple of 48 bytes: 48 bytes of text are 64 bytes of base64, one
// SHA-256 block.
func prefixPadding(n int) int { return (48 - n%48) % 48 }

func startFloorPrefix() (*instance, error) {
	k, err := newFloorKey(fixedClock)
	if err != nil {
		return nil, err
	}
	prefix := `{"conditions":[{"x-amz-algorithm":"` + postpolicy.Algorithm + `"},{"x-amz-credential":"` + jsonText(k.credential) +
		`"},{"x-amz-security-token":"` + jsonText(sessionToken) + `"},{"bucket":"` + jsonText(bucket) +
		`"},["content-length-range",1,10485760],["starts-with","$Content-Type","` + jsonText(contentTypePfx) +
		`"],{"success_action_status":"` + successStatus + `"},`
	prefix += strings.Repeat(" ", prefixPadding(len(prefix)))
	t := &prefixTemplate{
		floorKey:  k,
		prefixB64: []byte(base64.StdEncoding.EncodeToString([]byte(prefix))),
		q0:        `["starts-with","$key","uploads/`,
		q1:        `/"],{"x-amz-meta-uploader":"`,
		q2:        `"},{"x-amz-date":"`,
		q3:        `"}],"expiration":"`,
		q4:        `"}`,
	}
	if len(t.prefixB64)%sha256.BlockSize != 0 {
		return nil, errors.New("floor-prefix: the prefix's base64 is not whole SHA-256 blocks")
	}
	// Resume from the key's inner state rather than rehash ipad, to show
	// that the states compose.
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.innerState); err != nil {
		return nil, err
	}
	h.Write(t.prefixB64)
	if t.innerPrefixState, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, err
	}
	return &instance{newWorker: func() worker {
		b64 := make([]byte, len(t.prefixB64), len(t.prefixB64)+1024)
		copy(b64, t.prefixB64)
		return &prefixWorker{t: t, mac: newPadMAC(), tail: make([]byte, 0, 512), b64: b64}
	}}, nil
}

type prefixWorker struct {
	t    *prefixTemplate
	mac  *padMAC
	tail []byte
	// b64 holds the prefix's base64 (copied once) followed by the tail's.
	b64     []byte
	amzDate [16]byte
	sig     [2 * sha256.Size]byte
	userID  string
}

func (w *prefixWorker) sign(userID string) error {
	c, err := w.t.read()
	if err != nil {
		return err
	}
	t := w.t
	b := append(w.tail[:0], t.q0...)
	b = appendJSONText(b, userID)
	b = append(b, t.q1...)
	b = appendJSONText(b, userID)
	b = append(b, t.q2...)
	b = c.appendAmzDate(b)
	b = append(b, t.q3...)
	b = c.appendExpiration(b)
	b = append(b, t.q4...)
	w.tail = b
	c.appendAmzDate(w.amzDate[:0])

	p := len(t.prefixB64)
	n := p + base64.StdEncoding.EncodedLen(len(b))
	if cap(w.b64) < n {
		nb := make([]byte, n)
		copy(nb, t.prefixB64)
		w.b64 = nb
	}
	w.b64 = w.b64[:n]
	base64.StdEncoding.Encode(w.b64[p:], b)
	w.userID = userID
	return w.mac.hexMAC(&w.sig, t.innerPrefixState, t.outerState, w.b64[p:])
}

func (w *prefixWorker) form() (formOut, error) {
	return floorForm(w.userID, w.t.credential, string(w.amzDate[:]), string(w.b64), string(w.sig[:])), nil
}
