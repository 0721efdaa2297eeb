// Package sigv4 is the AWS Signature Version 4 core that the postpolicy
// packages share: the signing key, the credential scope, the x-amz-date
// format, HMAC-SHA256 states that can be copied, and the canonical request
// of header- and query-signed requests.
//
// The algorithm is specified in the AWS IAM User Guide, "Create a signed
// AWS API request":
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html
// and, for browser uploads, in "Calculating a Signature" of the S3 POST
// authentication page:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
//
// Everything here handles secrets: the secret access key and the keys
// derived from it never appear in errors or strings.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
	"time"
)

// Algorithm is the value of x-amz-algorithm and the first line of a
// string to sign: Signature Version 4 with HMAC-SHA256.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every credential scope.
const Terminator = "aws4_request"

// DeriveKey returns the signing key for secret on date (YYYYMMDD), in
// region, for service:
//
//	kDate    = HMAC-SHA256("AWS4" + secret, date)
//	kRegion  = HMAC-SHA256(kDate, region)
//	kService = HMAC-SHA256(kRegion, service)
//	kSigning = HMAC-SHA256(kService, "aws4_request")
//
// ("Derive a signing key" in the IAM User Guide's SigV4 page). The result
// is secret.
func DeriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, Terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Signature returns the lower-case hex of HMAC-SHA256(key, stringToSign):
// the signature of a string to sign under a signing key.
func Signature(key []byte, stringToSign []byte) [2 * sha256.Size]byte {
	m := NewMAC(key)
	m.Write(stringToSign)
	return m.HexSum(nil)
}

// Scope returns the credential scope date/region/service/aws4_request.
func Scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/" + Terminator
}

// DateLayout and TimeLayout are the time.Format layouts of a credential
// scope's date and of x-amz-date (ISO 8601 basic format, UTC).
const (
	DateLayout = "20060102"
	TimeLayout = "20060102T150405Z"
)

// AppendTime appends t, in UTC, as x-amz-date writes it: 20151229T000000Z.
// It is time.AppendFormat with TimeLayout, written out because every
// signature formats it; the signing time comes from a clock, so its year
// has four digits.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	b = append(b, byte('0'+mo/10), byte('0'+mo%10), byte('0'+d/10), byte('0'+d%10), 'T')
	b = append(b, byte('0'+h/10), byte('0'+h%10), byte('0'+mi/10), byte('0'+mi%10), byte('0'+s/10), byte('0'+s%10))
	return append(b, 'Z')
}

// A MAC is an HMAC-SHA256 computation in progress. Its state can be copied
// with Clone, so that text shared by many messages (the start of every
// policy a signer signs that day) is hashed once: each message clones the
// state after the shared text and writes only its own rest. The zero MAC
// is not usable; a MAC's state is secret.
type MAC struct {
	h hash.Hash
}

// NewMAC returns a MAC under key that has absorbed nothing.
func NewMAC(key []byte) MAC {
	h := hmac.New(sha256.New, key)
	// Reset has crypto/hmac keep the SHA-256 states after the padded key
	// blocks, so that Sum restores the outer state instead of hashing its
	// block again (FIPS 198-1, section 6, allows this precomputation).
	h.Reset()
	return MAC{h}
}

// Write adds b to the message.
func (m MAC) Write(b []byte) { m.h.Write(b) }

// Clone returns an independent copy of m's state; writing to either does
// not change the other. It uses crypto/hmac's hash.Cloner (Go 1.25), which
// copies the HMAC and both SHA-256 states.
func (m MAC) Clone() MAC {
	c, err := m.h.(hash.Cloner).Clone()
	if err != nil {
		// crypto/hmac over crypto/sha256 always clones; only a FIPS or
		// BoringCrypto build without Cloner support would get here.
		panic("sigv4: crypto/hmac cannot clone a SHA-256 HMAC: " + err.Error())
	}
	return MAC{c}
}

// HexSum returns the lower-case hex of the MAC of what was written. It
// leaves m unusable for further writes: clone it first to go on. scratch,
// when it has room for 32 bytes, holds the binary MAC on the way, which
// spares an allocation (the hash writes it through an interface).
func (m MAC) HexSum(scratch []byte) [2 * sha256.Size]byte {
	var out [2 * sha256.Size]byte
	sum := m.h.Sum(scratch[:0])
	if len(sum) != sha256.Size {
		panic("sigv4: the MAC is not a SHA-256 HMAC")
	}
	for i := range sha256.Size {
		p := &hexPairs[sum[i]]
		out[2*i], out[2*i+1] = p[0], p[1]
	}
	return out
}

// hexPairs[b] is the lower-case hex of the byte b: two characters per
// lookup, the same as encoding/hex writes (TestHexPairs).
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for b := range t {
		t[b] = [2]byte{digits[b>>4], digits[b&0xf]}
	}
	return t
}()

// Sum returns the MAC of what was written, appended to b.
func (m MAC) Sum(b []byte) []byte { return m.h.Sum(b) }

// reset brings m back to the state NewMAC returned, nothing written, which
// crypto/hmac restores from its copy of the keyed SHA-256 states (NewMAC's
// Reset made it) without allocating.
func (m MAC) reset() { m.h.Reset() }

// A Key is a signing key with the scope it was derived for: one access
// key, one date, one region and one service. Deriving it takes four
// HMACs, so a signer keeps it for the day. A Key is immutable and safe
// for concurrent use.
type Key struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
	// Credential is AccessKeyID/Date/Region/Service/aws4_request, the
	// value of x-amz-credential and of an Authorization header's
	// Credential.
	Credential string

	// credentialQuery is Credential URI-encoded, as a presigned URL's
	// X-Amz-Credential carries it.
	credentialQuery string

	secret  string
	base    MAC       // under the signing key, nothing written
	scratch sync.Pool // of *signScratch, for SignCanonicalRequest
}

// NewKey derives the key of secret for accessKeyID on date (YYYYMMDD), in
// region, for service.
func NewKey(accessKeyID, secret, date, region, service string) *Key {
	credential := accessKeyID + "/" + Scope(date, region, service)
	return &Key{
		AccessKeyID: accessKeyID, Date: date, Region: region, Service: service,
		Credential:      credential,
		credentialQuery: string(AppendURIEncode(nil, credential, false)),
		secret:          secret,
		base:            NewMAC(DeriveKey(secret, date, region, service)),
	}
}

// Matches reports whether k is the key of these inputs; date is YYYYMMDD.
func (k *Key) Matches(accessKeyID, secret string, date []byte, region, service string) bool {
	return k.Date == string(date) && k.AccessKeyID == accessKeyID && k.secret == secret &&
		k.Region == region && k.Service == service
}

// MAC returns a new MAC under the key that has absorbed nothing.
func (k *Key) MAC() MAC { return k.base.Clone() }

// Scope returns the key's credential scope, date/region/service/aws4_request.
func (k *Key) Scope() string { return k.Credential[len(k.AccessKeyID)+1:] }
