package s3multipart

import (
	"fmt"
	"net/http"
	"strconv"
)

// A Refusal is a request the Rules or the protocol refuse: a file too
// large or of a type not accepted, a key outside the user's prefix, an
// unknown upload, a wrong list of parts. Status is the HTTP status the
// Backend answers (400, 403, 404, 409) and Message, written for the user,
// the message of its JSON answer, {"message": "..."}. Uppy shows only
// the status text of a failed call; a page of one's own can show
// Message.
type Refusal struct {
	Status  int
	Message string
}

// Error returns "s3multipart: " and the message.
func (e *Refusal) Error() string { return "s3multipart: " + e.Message }

func refuse(status int, format string, args ...any) *Refusal {
	return &Refusal{Status: status, Message: fmt.Sprintf(format, args...)}
}

// An S3Error is S3's refusal of a call the Backend made ("Error
// responses", https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
// the operation, the HTTP status, and the Code, Message and RequestId of
// the XML error body. CompleteMultipartUpload can fail after S3 answered
// 200 OK, with an <Error> body
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html):
// Status is then 200. An answer without an XML error body has an empty
// Code and the status text as Message. Callers match it with errors.As.
type S3Error struct {
	// Operation is the S3 API call: CreateMultipartUpload, ListParts,
	// CompleteMultipartUpload, AbortMultipartUpload or
	// ListMultipartUploads.
	Operation string
	Status    int
	Code      string
	Message   string
	RequestID string
}

// Error returns "s3multipart: <Operation>: S3 <Code> (<Status>): <Message>".
func (e *S3Error) Error() string {
	return "s3multipart: " + e.Operation + ": S3 " + e.Code + " (" + strconv.Itoa(e.Status) + "): " + e.Message
}

// The S3 error codes the Backend tells the user about: the others are
// the backend's problem (credentials, permissions, the store), answered
// 502 without details.
var userCodes = map[string]int{
	"NoSuchUpload":     http.StatusNotFound,
	"InvalidPart":      http.StatusBadRequest,
	"InvalidPartOrder": http.StatusBadRequest,
	"EntityTooSmall":   http.StatusBadRequest,
	"EntityTooLarge":   http.StatusBadRequest,
}
