// Package postpolicy signs Amazon S3 POST policies with AWS Signature
// Version 4, so that a browser can upload a file straight to an S3 bucket
// (or an S3-compatible store) under the limits a backend chose: this bucket,
// this key prefix, this content type, at most this size, for the next few
// minutes.
//
// A backend builds a [Policy] from typed conditions ([Bucket], [KeyPrefix],
// [ContentTypePrefix], [ContentLengthRange], ...), and a [Signer] turns it
// into a [Form]: the URL to post to and the fields to send, in order, with
// the file last. Before signing, the policy is checked against the rules S3
// applies ([Policy.Validate]), so a mistake shows up as an error naming the
// field and the rule instead of an opaque 403 in the browser. An endpoint
// that answers the page with the form as JSON can use
// [Signer.AppendFormJSON], which writes the same bytes into a buffer it
// reuses, or [FormHandler], which does that for each request.
//
// A Signer is meant to be built once and shared: it keeps per day what
// every signature shares (the signing key, and the start of every policy
// with its base64 and HMAC state). A backend that signs the same kind of
// policy for every request prepares the conditions they share once, with
// [Signer.Prepare]; the [Template] it returns checks, encodes and hashes
// only each request's own conditions, and signs the same bytes the Signer
// would.
//
// The server side (a verifier of browser uploads with S3's semantics and
// answers, and an S3-style endpoint over a store) is the package receiver;
// a fake endpoint for tests is the package postpolicytest.
//
// The specification is the AWS documentation on browser-based uploads with
// POST and Signature Version 4:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html
//
// # Security
//
// The secret access key, the session token and the signing key never
// appear in errors, in fmt or log/slog output of [Credentials], or in
// panics; this package does no logging. The policy document is written by
// an encoder, never by string concatenation, so user input in a key or a
// metadata value cannot add or change a condition. A signed form is a
// bearer credential for the uploads its policy allows until it expires:
// keep expirations short and scope keys per user. Signing is offline: it
// cannot check that the credentials may write to the bucket.
//
// # Backwards compatibility
//
// This package follows semantic versioning once it reaches v1. Until then,
// exported names may change between minor versions, and the release notes
// say how. The bytes of a signed policy (member order, condition order,
// escaping, expiration format) are part of the API: they change only with a
// minor version and a note, because users snapshot them in tests. Rule
// identifiers never change meaning.
package postpolicy
