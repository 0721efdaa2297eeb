package postpolicy

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strings"
)

// ChecksumAlgorithm names an additional checksum S3 verifies on an upload:
// the value of x-amz-checksum-algorithm. S3's checksum algorithms are
// CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 ("Checking object integrity
// in Amazon S3",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html;
// the POST Object reference lists the x-amz-checksum-* fields).
type ChecksumAlgorithm string

// The checksum algorithms S3 knows.
const (
	ChecksumCRC32     ChecksumAlgorithm = "CRC32"
	ChecksumCRC32C    ChecksumAlgorithm = "CRC32C"
	ChecksumCRC64NVME ChecksumAlgorithm = "CRC64NVME"
	ChecksumSHA1      ChecksumAlgorithm = "SHA1"
	ChecksumSHA256    ChecksumAlgorithm = "SHA256"
)

// crc64NVME is the table of CRC-64/NVME (the NVM Express NVM Command Set
// Specification's CRC, polynomial 0xAD93D23594C93659), given to hash/crc64
// in its bit-reflected form; hash/crc64's initial value and final
// inversion of all ones are the algorithm's.
var crc64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

// New returns a hash that computes alg's digest, whose Sum is the digest's
// bytes (big-endian for the CRCs), or nil for an algorithm S3 does not
// know. The form field carries the base64 of that sum.
func (alg ChecksumAlgorithm) New() hash.Hash {
	switch alg {
	case ChecksumCRC32:
		return crc32.NewIEEE()
	case ChecksumCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case ChecksumCRC64NVME:
		return crc64.New(crc64NVME)
	case ChecksumSHA1:
		return sha1.New()
	case ChecksumSHA256:
		return sha256.New()
	}
	return nil
}

// DigestSize returns the length in bytes of alg's digest, 0 for an
// algorithm S3 does not know.
func (alg ChecksumAlgorithm) DigestSize() int {
	switch alg {
	case ChecksumCRC32, ChecksumCRC32C:
		return crc32.Size
	case ChecksumCRC64NVME:
		return crc64.Size
	case ChecksumSHA1:
		return sha1.Size
	case ChecksumSHA256:
		return sha256.Size
	}
	return 0
}

// Field returns the form field that carries alg's digest, for example
// x-amz-checksum-sha256.
func (alg ChecksumAlgorithm) Field() string {
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
		Eq(alg.Field(), digest),
	}
}

// ChecksumDigest reads r to its end and returns the base64 digest of its
// content in the form S3 expects in x-amz-checksum-<alg>.
func ChecksumDigest(alg ChecksumAlgorithm, r io.Reader) (string, error) {
	h := alg.New()
	if h == nil {
		return "", ErrUnknownChecksum
	}
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
