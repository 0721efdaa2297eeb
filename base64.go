package postpolicy

import "encoding/binary"

// appendBase64 appends the standard base64 encoding (RFC 4648, with
// padding) of src to dst: the same bytes as
// base64.StdEncoding.AppendEncode, which TestAppendBase64 and
// FuzzAppendBase64 check. Base64 and SHA-256 are most of a signature's
// cost, and encoding/base64 looks up one 6-bit group at a time; this
// encoder looks up 12 bits at a time, two output characters per lookup,
// in a 4096-entry table built once.
func appendBase64(dst, src []byte) []byte {
	n := base64Len(len(src))
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	out := dst[len(dst) : len(dst)+n]
	t := &base64Pairs
	// Twelve bytes make sixteen characters, written as two 64-bit
	// stores: bytes 0-5 are the top of the word at 0, bytes 6-11 the
	// bottom of the word at 4.
	for len(src) >= 12 {
		v := binary.BigEndian.Uint64(src)
		w := binary.BigEndian.Uint64(src[4:])
		_ = out[15]
		binary.BigEndian.PutUint64(out,
			uint64(t[v>>52])<<48|uint64(t[v>>40&0xfff])<<32|uint64(t[v>>28&0xfff])<<16|uint64(t[v>>16&0xfff]))
		binary.BigEndian.PutUint64(out[8:],
			uint64(t[w>>36&0xfff])<<48|uint64(t[w>>24&0xfff])<<32|uint64(t[w>>12&0xfff])<<16|uint64(t[w&0xfff]))
		src, out = src[12:], out[16:]
	}
	for len(src) >= 3 && len(out) >= 4 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		binary.BigEndian.PutUint32(out, uint32(t[v>>12])<<16|uint32(t[v&0xfff]))
		src, out = src[3:], out[4:]
	}
	switch len(src) {
	case 1:
		v := uint(src[0]) << 16
		binary.BigEndian.PutUint32(out, uint32(t[v>>12])<<16|'='<<8|'=')
	case 2:
		v := uint(src[0])<<16 | uint(src[1])<<8
		binary.BigEndian.PutUint32(out, uint32(t[v>>12])<<16|uint32(base64Alphabet[v>>6&0x3f])<<8|'=')
	}
	return dst[:len(dst)+n]
}

// base64Len is the length of the padded base64 encoding of n bytes.
func base64Len(n int) int { return (n + 2) / 3 * 4 }

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Pairs[v] is the two characters that encode the 12 bits v, as a
// big-endian uint16.
var base64Pairs = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(base64Alphabet[v>>6])<<8 | uint16(base64Alphabet[v&0x3f])
	}
	return t
}()
