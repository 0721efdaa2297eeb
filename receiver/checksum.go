package receiver

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/postform"
)

// This file holds S3's rules for the x-amz-checksum-* fields of an upload
// ("Checking object integrity in Amazon S3",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html;
// the fields of "POST Object",
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html).
// A form names at most one digest of the file, in the field of its
// algorithm, x-amz-checksum-<algorithm>, holding the base64 of the
// digest's bytes; x-amz-checksum-algorithm, when sent, must name that same
// algorithm. S3 computes the digest as the file arrives and stores the
// file only when the two agree.

// checksumAlgorithms are the algorithms S3 computes, as
// [postpolicy.ChecksumAlgorithm] knows them.
var checksumAlgorithms = []postpolicy.ChecksumAlgorithm{
	postpolicy.ChecksumCRC32, postpolicy.ChecksumCRC32C, postpolicy.ChecksumCRC64NVME,
	postpolicy.ChecksumSHA1, postpolicy.ChecksumSHA256,
}

const (
	checksumPrefix       = "x-amz-checksum-"
	checksumAlgorithmFld = "x-amz-checksum-algorithm"
	checksumAlgorithmSet = "CRC32, CRC32C, CRC64NVME, SHA1 and SHA256"
)

// checksum is what an upload's x-amz-checksum-* fields ask of its file:
// the digest it must have under alg. The zero value asks nothing.
type checksum struct {
	alg    postpolicy.ChecksumAlgorithm
	digest []byte
}

// checkChecksumFields applies S3's rules to the x-amz-checksum-* fields
// and returns the digest the file must have. Names are compared as
// postpolicy.Fields.Get and the coverage rule compare them (Unicode case
// folding, strings.EqualFold), so that a field a condition accepts as a
// checksum field is one here too, and cannot slip past as another field.
// The rules:
//
//   - a field x-amz-checksum-<name> whose name is neither "algorithm" nor
//     an algorithm S3 computes is refused: a digest the receiver cannot
//     check is not stored unchecked;
//   - more than one digest field is refused, whatever their values;
//   - x-amz-checksum-algorithm must name an algorithm S3 computes (its
//     case does not matter, as S3 compares it) and come with that
//     algorithm's digest field;
//   - a digest field alone names its algorithm by its name;
//   - a digest field holds exactly the standard, padded base64 of a digest
//     of its algorithm's length, nothing else.
//
// Each refusal is 400 InvalidRequest, whose message names the field and
// the rule.
func checkChecksumFields(fields []postpolicy.Field) (checksum, error) {
	var (
		algValue  string
		hasAlg    bool
		digestFld string // the digest field's name, as sent
		digestVal string
		digestAlg postpolicy.ChecksumAlgorithm
	)
	for _, f := range fields {
		if !hasPrefixFold(f.Name, checksumPrefix) {
			continue
		}
		if strings.EqualFold(f.Name, checksumAlgorithmFld) {
			if !hasAlg {
				algValue, hasAlg = f.Value, true
			}
			continue
		}
		alg := algorithmOfField(f.Name)
		if alg == "" {
			return checksum{}, invalidRequest(strings.ToLower(f.Name) + " names no checksum algorithm S3 computes; the digest fields are x-amz-checksum-<algorithm> for " + checksumAlgorithmSet + ".")
		}
		if digestFld != "" {
			return checksum{}, invalidRequest("An upload may carry one x-amz-checksum-<algorithm> digest; this one carries " +
				strings.ToLower(digestFld) + " and " + strings.ToLower(f.Name) + ".")
		}
		digestFld, digestVal, digestAlg = f.Name, f.Value, alg
	}
	if hasAlg {
		alg := knownAlgorithm(algValue)
		switch {
		case alg == "":
			return checksum{}, invalidRequest(checksumAlgorithmFld + " " + strconv.Quote(algValue) + " is not a checksum algorithm S3 computes; use one of " + checksumAlgorithmSet + ".")
		case digestFld == "":
			return checksum{}, invalidRequest(checksumAlgorithmFld + " is " + string(alg) + ", but the upload carries no " + alg.Field() + " with the file's digest.")
		case digestAlg != alg:
			return checksum{}, invalidRequest(checksumAlgorithmFld + " is " + string(alg) + ", but the digest is in " + digestAlg.Field() +
				"; the algorithm and the digest field must name the same algorithm.")
		}
	}
	if digestFld == "" {
		return checksum{}, nil
	}
	digest, err := base64.StdEncoding.DecodeString(digestVal)
	if err != nil || len(digest) != digestAlg.DigestSize() || base64.StdEncoding.EncodeToString(digest) != digestVal {
		return checksum{}, invalidRequest(digestAlg.Field() + " must be the base64 of the " + strconv.Itoa(digestAlg.DigestSize()) +
			" bytes of a " + string(digestAlg) + " digest.")
	}
	return checksum{alg: digestAlg, digest: digest}, nil
}

// algorithmOfField returns the algorithm whose digest field name is
// (compared with strings.EqualFold, as field names are), or "".
func algorithmOfField(name string) postpolicy.ChecksumAlgorithm {
	for _, alg := range checksumAlgorithms {
		if strings.EqualFold(name, alg.Field()) {
			return alg
		}
	}
	return ""
}

// hasPrefixFold reports whether s begins with prefix, an ASCII string,
// under the case folding of strings.EqualFold: rune by rune, so that, for
// example, "x-amz-chec\u212Asum-" (a KELVIN SIGN for the k) has the prefix
// "x-amz-checksum-".
func hasPrefixFold(s, prefix string) bool {
	for i := 0; i < len(prefix); i++ {
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || !strings.EqualFold(string(r), prefix[i:i+1]) {
			return false
		}
		s = s[size:]
	}
	return true
}

// knownAlgorithm returns the algorithm named v (compared in ASCII without
// case: a value, not a field name), or "".
func knownAlgorithm(v string) postpolicy.ChecksumAlgorithm {
	for _, alg := range checksumAlgorithms {
		if postform.EqualFold(v, string(alg)) {
			return alg
		}
	}
	return ""
}

func invalidRequest(msg string) *S3Error {
	return s3err(CodeInvalidRequest, http.StatusBadRequest, msg)
}

// badDigest is S3's answer to a file whose digest under alg is not the
// one its form names.
func badDigest(alg postpolicy.ChecksumAlgorithm) *S3Error {
	return s3err(CodeBadDigest, http.StatusBadRequest, "The "+string(alg)+" you specified did not match the calculated checksum.")
}
