package postpolicy

import (
	"time"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file is the POST signature in a few lines, the reference that the
// Signer's faster path is tested against. A browser upload is signed in
// four steps ("Calculating a Signature", S3 API reference,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html):
//
//  1. write the policy document as UTF-8 JSON (Policy.MarshalJSON, with the
//     x-amz-algorithm, x-amz-credential, x-amz-date and, for temporary
//     credentials, x-amz-security-token conditions added);
//  2. encode it as base64: that text is the form's policy field and, byte
//     for byte, the string to sign;
//  3. derive the signing key from the secret, the date, the region and the
//     service (DeriveSigningKey);
//  4. the signature is the lower-case hex of HMAC-SHA256(signing key,
//     base64 text) (SignEncodedPolicy): the form's x-amz-signature field.

// Algorithm is the only signing algorithm this package implements, the
// value of x-amz-algorithm: AWS Signature Version 4 with HMAC-SHA256.
const Algorithm = sigv4.Algorithm

// DeriveSigningKey returns the SigV4 signing key for secretAccessKey on the
// UTC date of t, in region, for service ("s3" for POST uploads):
//
//	kDate    = HMAC-SHA256("AWS4" + secretAccessKey, YYYYMMDD)
//	kRegion  = HMAC-SHA256(kDate, region)
//	kService = HMAC-SHA256(kRegion, service)
//	kSigning = HMAC-SHA256(kService, "aws4_request")
//
// as specified in "Calculating a Signature" of the SigV4 POST
// authentication page. The result is secret. A [Signer] derives it once a
// day and keeps it.
func DeriveSigningKey(secretAccessKey string, t time.Time, region, service string) []byte {
	return sigv4.DeriveKey(secretAccessKey, t.UTC().Format(sigv4.DateLayout), region, service)
}

// SignEncodedPolicy returns the POST signature of encodedPolicy, the base64
// text of a policy document exactly as the form carries it: the lower-case
// hex of HMAC-SHA256(signingKey, encodedPolicy). The string to sign of a
// POST upload is the base64 text itself, byte for byte, never a
// re-serialisation of the JSON inside it.
func SignEncodedPolicy(signingKey []byte, encodedPolicy string) string {
	sig := sigv4.Signature(signingKey, []byte(encodedPolicy))
	return string(sig[:])
}
