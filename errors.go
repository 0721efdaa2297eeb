package postpolicy

import "errors"

// The errors of this package. Each is matched with [errors.Is]; the errors
// returned wrap one of them and say what is wrong in their text, which
// never holds a secret.
var (
	// ErrInvalidPolicy is matched by every error that [Policy.Validate],
	// [Signer.Sign], [Signer.Prepare] and a [Template]'s methods return for
	// a policy that S3 would reject or that could never be satisfied. The
	// details are [Problem] values; [Policy.Lint] lists them, warnings
	// included.
	ErrInvalidPolicy = errors.New("postpolicy: invalid policy")

	// ErrSignerConfig is matched by the errors a [Signer] returns when its
	// own configuration cannot sign: no credentials source, a missing or
	// malformed region, service or endpoint.
	ErrSignerConfig = errors.New("postpolicy: invalid signer configuration")

	// ErrInvalidCredentials is matched by the errors returned for
	// credentials that cannot sign: a missing access key id or secret, or
	// characters that would break the credential scope.
	ErrInvalidCredentials = errors.New("postpolicy: invalid credentials")

	// ErrUnknownChecksum is returned by [ChecksumDigest] for an algorithm
	// other than those S3 accepts on POST.
	ErrUnknownChecksum = errors.New("postpolicy: unknown checksum algorithm")

	// ErrUnauthenticated, returned (or wrapped) by a [FormHandler]'s
	// callback, makes the handler answer 401 Unauthorized.
	ErrUnauthenticated = errors.New("postpolicy: not signed in")

	// ErrForbidden, returned (or wrapped) by a [FormHandler]'s callback,
	// makes the handler answer 403 Forbidden.
	ErrForbidden = errors.New("postpolicy: not allowed to upload")
)

// A DocumentError is why [ParsePolicy] or [DecodePolicy] refused a policy
// document. S3 answers such a document with 400 InvalidPolicyDocument and
// the message "Invalid Policy: " followed by Reason.
type DocumentError struct {
	// Reason says what is wrong, in S3's words where S3's are recorded:
	// "Invalid JSON.", "Invalid 'expiration' value: …", "Invalid
	// Simple-Condition: …".
	Reason string
}

// Error returns "postpolicy: invalid policy document: " and the reason.
func (e *DocumentError) Error() string { return "postpolicy: invalid policy document: " + e.Reason }
