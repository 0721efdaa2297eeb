package postpolicy

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// ChecksumAlgorithm names an additional checksum S3 verifies on an upload.
// The AWS POST Object reference lists CRC32, CRC32C, SHA1 and SHA256 for
// x-amz-checksum-algorithm.
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
type ChecksumAlgorithm string

// The checksum algorithms S3 accepts on a POST upload.
const (
	ChecksumCRC32  ChecksumAlgorithm = "CRC32"
	ChecksumCRC32C ChecksumAlgorithm = "CRC32C"
	ChecksumSHA1   ChecksumAlgorithm = "SHA1"
	ChecksumSHA256 ChecksumAlgorithm = "SHA256"
)

// newHash returns a hash for alg and the length of its digest.
func (alg ChecksumAlgorithm) newHash() (hash.Hash, int) {
	switch alg {
	case ChecksumCRC32:
		return crc32.NewIEEE(), crc32.Size
	case ChecksumCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli)), crc32.Size
	case ChecksumSHA1:
		return sha1.New(), sha1.Size
	case ChecksumSHA256:
		return sha256.New(), sha256.Size
	}
	return nil, 0
}

// digestSize returns the length of alg's digest, 0 for an algorithm S3
// does not accept on POST.
func (alg ChecksumAlgorithm) digestSize() int {
	switch alg {
	case ChecksumCRC32, ChecksumCRC32C:
		return crc32.Size
	case ChecksumSHA1:
		return sha1.Size
	case ChecksumSHA256:
		return sha256.Size
	}
	return 0
}

// field returns the form field that carries alg's digest, for example
// x-amz-checksum-sha256.
func (alg ChecksumAlgorithm) field() string {
	return "x-amz-checksum-" + strings.ToLower(string(alg))
}

// Checksum returns the two exact-match conditions that make S3 verify the
// uploaded file against a digest: x-amz-checksum-algorithm: alg and
// x-amz-checksum-<alg>: digest, where digest is the base64 of the digest's
// bytes (big-endian for the CRCs), as [ChecksumDigest] computes it. S3
// rejects an algorithm without its digest field, and both fields need a
// condition. Append them with append(conds, Checksum(alg, d)...).
func Checksum(alg ChecksumAlgorithm, digest string) []Condition {
	return []Condition{
		Eq("x-amz-checksum-algorithm", string(alg)),
		Eq(alg.field(), digest),
	}
}

// ChecksumDigest reads r to its end and returns the base64 digest of its
// content in the form S3 expects in x-amz-checksum-<alg>.
func ChecksumDigest(alg ChecksumAlgorithm, r io.Reader) (string, error) {
	h, _ := alg.newHash()
	if h == nil {
		return "", ErrUnknownChecksum
	}
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
