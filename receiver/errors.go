package receiver

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"

	"github.com/postpolicy/postpolicy"
)

// The sentinel errors of this package.
var (
	// ErrUnknownAccessKey is returned by a Verifier's Lookup for an access
	// key id it does not know; the Verifier answers InvalidAccessKeyId.
	ErrUnknownAccessKey = errors.New("receiver: unknown access key id")

	// ErrVerifierConfig is returned by a Verifier without Lookup or
	// Region.
	ErrVerifierConfig = errors.New("receiver: invalid verifier configuration: Lookup and Region are required")

	// ErrNoSuchKey is returned by a Store's Get for an object it does not
	// hold.
	ErrNoSuchKey = errors.New("receiver: no such key")
)

// ErrorCode is an S3 error code, as S3 writes it in the <Code> element of
// an error response. ErrorCode values are errors themselves, so that
// errors.Is(err, receiver.CodeAccessDenied) tells whether a verification
// failed with that code.
type ErrorCode string

// Error returns "S3 error " followed by the code.
func (c ErrorCode) Error() string { return "S3 error " + string(c) }

// The S3 error codes a [Verifier] and a [Handler] answer with. The
// statuses and messages follow the AWS "Error responses" page
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and
// the POST answers S3 gives in public recordings (ceph/s3-tests'
// test_post_object_* cases, LocalStack's TestS3PresignedPost snapshots);
// where S3's behaviour is not recorded, they do what Versity S3 Gateway
// does.
const (
	CodeAccessDenied                      ErrorCode = "AccessDenied"                        // 403: a condition failed, an extra field, an expired policy
	CodeSignatureDoesNotMatch             ErrorCode = "SignatureDoesNotMatch"               // 403
	CodeInvalidAccessKeyID                ErrorCode = "InvalidAccessKeyId"                  // 403
	CodeInvalidToken                      ErrorCode = "InvalidToken"                        // 400: a session token that does not belong to the key
	CodeInvalidPolicyDocument             ErrorCode = "InvalidPolicyDocument"               // 400: the policy is not valid JSON of the documented shape
	CodeInvalidArgument                   ErrorCode = "InvalidArgument"                     // 400: a missing or malformed authentication field
	CodeEntityTooLarge                    ErrorCode = "EntityTooLarge"                      // 400
	CodeEntityTooSmall                    ErrorCode = "EntityTooSmall"                      // 400
	CodeMaxPostPreDataLengthExceeded      ErrorCode = "MaxPostPreDataLengthExceeded"        // 400: over 20 KB before the file
	CodeMalformedPOSTRequest              ErrorCode = "MalformedPOSTRequest"                // 400: not well-formed multipart/form-data
	CodeIncorrectNumberOfFilesInPOST      ErrorCode = "IncorrectNumberOfFilesInPostRequest" // 400: no file
	CodePreconditionFailed                ErrorCode = "PreconditionFailed"                  // 412: the body is not multipart/form-data
	CodeRequestTimeTooSkewed              ErrorCode = "RequestTimeTooSkewed"                // 403: x-amz-date too far in the future
	CodeRequestTimeout                    ErrorCode = "RequestTimeout"                      // 400: the client stopped sending within the server's read timeout
	CodeIncompleteBody                    ErrorCode = "IncompleteBody"                      // 400: the body ended before the form did
	CodeMethodNotAllowed                  ErrorCode = "MethodNotAllowed"                    // 405
	CodeNoSuchBucket                      ErrorCode = "NoSuchBucket"                        // 404
	CodeNoSuchKey                         ErrorCode = "NoSuchKey"                           // 404
	CodeKeyTooLong                        ErrorCode = "KeyTooLongError"                     // 400: a key over 1,024 bytes
	CodeInternalError                     ErrorCode = "InternalError"                       // 500
	CodeBadDigest                         ErrorCode = "BadDigest"                           // 400: the file does not match its x-amz-checksum-* digest
	CodeInvalidRequest                    ErrorCode = "InvalidRequest"                      // 400: a checksum algorithm without its digest, a malformed digest
	CodeSlowDown                          ErrorCode = "SlowDown"                            // 503: too many requests at once
	CodeAuthorizationQueryParametersError ErrorCode = "AuthorizationQueryParametersError"   // 400: a presigned URL's X-Amz-* parameters are missing or malformed
	CodeMissingContentLength              ErrorCode = "MissingContentLength"                // 411: a PUT without Content-Length
	CodeInvalidDigest                     ErrorCode = "InvalidDigest"                       // 400: a Content-MD5 that is not the base64 of 16 bytes
	CodeAuthorizationHeaderMalformed      ErrorCode = "AuthorizationHeaderMalformed"        // 400: an Authorization header that is not SigV4's form
	CodeXAmzContentSHA256Mismatch         ErrorCode = "XAmzContentSHA256Mismatch"           // 400: the body does not hash to x-amz-content-sha256
	CodeNotImplemented                    ErrorCode = "NotImplemented"                      // 501: a streaming (aws-chunked) payload, x-amz-copy-source
	CodeNoSuchUpload                      ErrorCode = "NoSuchUpload"                        // 404: an unknown, aborted, completed or expired multipart upload
	CodeInvalidPart                       ErrorCode = "InvalidPart"                         // 400: a completed part that was not uploaded, or has another ETag
	CodeInvalidPartOrder                  ErrorCode = "InvalidPartOrder"                    // 400: completed parts not in ascending order
	CodeMalformedXML                      ErrorCode = "MalformedXML"                        // 400: a CompleteMultipartUpload body that does not parse or lists no part
	CodeOperationAborted                  ErrorCode = "OperationAborted"                    // 409: an upload being completed is aborted or completed again
)

// S3Error is an error as S3 reports it: a code, an HTTP status, a message
// and, for some codes, extra elements (ProposedSize and MaxSizeAllowed for
// EntityTooLarge, for example). It matches its Code with [errors.Is].
//
// An S3Error never holds a secret, a signing key or an expected signature;
// what it quotes (field names, the received policy text, the received
// signature) came from the request.
type S3Error struct {
	Code    ErrorCode
	Status  int
	Message string
	// Extra are further elements of the XML body, in order.
	Extra []postpolicy.Field
	// Err is what failed, when the receiver knows more than S3's answer
	// says: a [*ConditionError] or an [*ExtraFieldError]; nil otherwise.
	// It is not written in the answer.
	Err error
}

// Error returns "receiver: S3 <Code> (<Status>): <Message>".
func (e *S3Error) Error() string {
	return "receiver: S3 " + string(e.Code) + " (" + strconv.Itoa(e.Status) + "): " + e.Message
}

// Is reports whether target is e's Code.
func (e *S3Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// Unwrap returns Err.
func (e *S3Error) Unwrap() error { return e.Err }

// A ConditionError is a condition of the policy that an upload failed. S3
// answers it with 403 AccessDenied "Invalid according to Policy: Policy
// Condition failed: " and the condition.
type ConditionError struct {
	Condition postpolicy.Condition
	// Value is the value of the condition's field as checked (after
	// ${filename} substitution; for bucket, the bucket posted to), and
	// Sent whether the form carried the field at all.
	Value string
	Sent  bool
}

func (e *ConditionError) Error() string {
	if !e.Sent {
		return "receiver: the form does not send the field of " + e.Condition.String()
	}
	return "receiver: " + strconv.Quote(e.Value) + " fails " + e.Condition.String()
}

// An ExtraFieldError is a form field no condition of the policy covers. S3
// answers it with 403 AccessDenied "Invalid according to Policy: Extra
// input fields: " and the field's name in lower case.
type ExtraFieldError struct {
	// Field is the field's name as sent.
	Field string
}

func (e *ExtraFieldError) Error() string {
	return "receiver: no condition covers the field " + strconv.Quote(e.Field)
}

func s3err(code ErrorCode, status int, msg string, extra ...postpolicy.Field) *S3Error {
	return &S3Error{Code: code, Status: status, Message: msg, Extra: extra}
}

// policyFailed is S3's answer to a failed condition, an extra field or an
// expired policy: 403 AccessDenied "Invalid according to Policy: …".
func policyFailed(reason string, cause error) *S3Error {
	e := s3err(CodeAccessDenied, http.StatusForbidden, "Invalid according to Policy: "+reason)
	e.Err = cause
	return e
}

// MarshalXML writes e as S3's error document:
// <Error><Code>…</Code><Message>…</Message>…</Error>.
func (e *S3Error) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Local: "Error"}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	elems := append([]postpolicy.Field{{Name: "Code", Value: string(e.Code)}, {Name: "Message", Value: e.Message}}, e.Extra...)
	for _, f := range elems {
		if err := enc.EncodeElement(f.Value, xml.StartElement{Name: xml.Name{Local: f.Name}}); err != nil {
			return err
		}
	}
	return enc.EncodeToken(root.End())
}

// WriteError writes err as S3 would answer it: the status and XML error
// document of an [S3Error] found with errors.As, or 500 InternalError
// for any other error, without its text (which could hold anything).
func WriteError(w http.ResponseWriter, err error) {
	var e *S3Error
	if !errors.As(err, &e) {
		e = s3err(CodeInternalError, http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	}
	body, merr := xml.Marshal(e)
	if merr != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
