package postpolicy

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
)

// ErrorCode is an S3 error code, as S3 writes it in the <Code> element of
// an error response. ErrorCode values are errors themselves, so that
// errors.Is(err, postpolicy.CodeAccessDenied) tells whether a verification
// failed with that code.
type ErrorCode string

// Error returns "S3 error " followed by the code.
func (c ErrorCode) Error() string { return "S3 error " + string(c) }

// The S3 error codes a [Verifier] answers with. The statuses and messages
// follow what S3 answers for browser-based uploads, documented on the AWS
// "Error responses" page and observed in recorded S3 answers (anchors noted
// in the README); where S3's behaviour is not recorded, the Verifier does
// what Versity S3 Gateway does.
const (
	CodeAccessDenied                 ErrorCode = "AccessDenied"                        // 403: a condition failed, an extra field, an expired policy
	CodeSignatureDoesNotMatch        ErrorCode = "SignatureDoesNotMatch"               // 403
	CodeInvalidAccessKeyID           ErrorCode = "InvalidAccessKeyId"                  // 403
	CodeInvalidToken                 ErrorCode = "InvalidToken"                        // 400: a session token that does not belong to the key
	CodeInvalidPolicyDocument        ErrorCode = "InvalidPolicyDocument"               // 400: the policy is not valid JSON of the documented shape
	CodeInvalidArgument              ErrorCode = "InvalidArgument"                     // 400: a missing or malformed authentication field
	CodeEntityTooLarge               ErrorCode = "EntityTooLarge"                      // 400
	CodeEntityTooSmall               ErrorCode = "EntityTooSmall"                      // 400
	CodeMaxPostPreDataLengthExceeded ErrorCode = "MaxPostPreDataLengthExceeded"        // 400: over 20 KB before the file
	CodeMalformedPOSTRequest         ErrorCode = "MalformedPOSTRequest"                // 400: not well-formed multipart/form-data
	CodeIncorrectNumberOfFilesInPOST ErrorCode = "IncorrectNumberOfFilesInPostRequest" // 400: no file
	CodePreconditionFailed           ErrorCode = "PreconditionFailed"                  // 412: the body is not multipart/form-data
	CodeRequestTimeTooSkewed         ErrorCode = "RequestTimeTooSkewed"                // 403: x-amz-date too far in the future
	CodeRequestTimeout               ErrorCode = "RequestTimeout"                      // 400: the client stopped sending within the server's read timeout
	CodeIncompleteBody               ErrorCode = "IncompleteBody"                      // 400: the body ended before the form did
	CodeMethodNotAllowed             ErrorCode = "MethodNotAllowed"                    // 405
	CodeNoSuchBucket                 ErrorCode = "NoSuchBucket"                        // 404
	CodeNoSuchKey                    ErrorCode = "NoSuchKey"                           // 404
	CodeKeyTooLong                   ErrorCode = "KeyTooLongError"                     // 400: a key over 1,024 bytes
	CodeInternalError                ErrorCode = "InternalError"                       // 500
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
	Extra []Field
}

// Error returns "postpolicy: S3 <Code> (<Status>): <Message>".
func (e *S3Error) Error() string {
	return "postpolicy: S3 " + string(e.Code) + " (" + strconv.Itoa(e.Status) + "): " + e.Message
}

// Is reports whether target is e's Code.
func (e *S3Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

func s3err(code ErrorCode, status int, msg string, extra ...Field) *S3Error {
	return &S3Error{Code: code, Status: status, Message: msg, Extra: extra}
}

// policyFailed is S3's answer to a failed condition, an extra field or an
// expired policy: 403 AccessDenied "Invalid according to Policy: …".
func policyFailed(reason string) *S3Error {
	return s3err(CodeAccessDenied, http.StatusForbidden, "Invalid according to Policy: "+reason)
}

func invalidPolicy(reason string) *S3Error {
	return s3err(CodeInvalidPolicyDocument, http.StatusBadRequest, "Invalid Policy: "+reason)
}

// MarshalXML writes e as S3's error document:
// <Error><Code>…</Code><Message>…</Message>…</Error>.
func (e *S3Error) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Local: "Error"}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	elems := append([]Field{{"Code", string(e.Code)}, {"Message", e.Message}}, e.Extra...)
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
