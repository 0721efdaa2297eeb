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
	n := (len(src) + 2) / 3 * 4
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	out := dst[len(dst) : len(dst)+n]
	i, o := 0, 0
	// Six bytes make eight characters, written as one 64-bit store.
	for ; len(src)-i >= 8 && len(out)-o >= 8; i, o = i+6, o+8 {
		v := binary.BigEndian.Uint64(src[i:]) // reads 8, uses the first 6
		binary.BigEndian.PutUint64(out[o:],
			uint64(base64Pairs[v>>52])<<48|uint64(base64Pairs[v>>40&0xfff])<<32|
				uint64(base64Pairs[v>>28&0xfff])<<16|uint64(base64Pairs[v>>16&0xfff]))
	}
	for ; i+3 <= len(src); i, o = i+3, o+4 {
		v := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		binary.BigEndian.PutUint16(out[o:], base64Pairs[v>>12])
		binary.BigEndian.PutUint16(out[o+2:], base64Pairs[v&0xfff])
	}
	switch len(src) - i {
	case 1:
		v := uint(src[i]) << 16
		binary.BigEndian.PutUint16(out[o:], base64Pairs[v>>12])
		out[o+2], out[o+3] = '=', '='
	case 2:
		v := uint(src[i])<<16 | uint(src[i+1])<<8
		binary.BigEndian.PutUint16(out[o:], base64Pairs[v>>12])
		out[o+2] = base64Alphabet[v>>6&0x3f]
		out[o+3] = '='
	}
	return dst[:len(dst)+n]
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Pairs[v] is the two characters that encode the 12 bits v, as a
// big-endian uint16.
var base64Pairs = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(base64Alphabet[v>>6])<<8 | uint16(base64Alphabet[v&0x3f])
	}
	return t
}()
