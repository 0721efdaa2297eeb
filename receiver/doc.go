// Package receiver is the receiving side of browser uploads to S3: it
// checks a multipart/form-data POST the way S3 does and answers as S3
// answers, for S3-compatible servers, gateways and fakes.
//
// A [Verifier] reads the upload as a stream and checks, in a documented
// order, the fields, the credential scope, the signature over the policy
// text as received (in constant time), then the policy itself, the clock,
// every condition and the coverage rule, all before it reads the file,
// which then streams through a counter enforcing content-length-range.
// Its errors are [*S3Error] values with S3's codes ([ErrorCode]), statuses
// and messages, and [WriteError] writes S3's XML.
// [Verifier.VerifyRequest] checks the other S3 requests a browser or a
// backend signs with Signature Version 4, in the query string (presigned
// URLs) or the Authorization header, and streams their bodies against
// Content-Length and their digests.
//
// [Handler] is an S3-style endpoint over a [Store]: POST form uploads;
// PutObject by a presigned or header-signed PUT
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html);
// GetObject and HeadObject, anonymous (unless PrivateReads) or signed,
// with the response-* overrides of presigned GETs
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html);
// the multipart-upload calls that browser uploaders such as Uppy make,
// CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload
// and AbortMultipartUpload
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html,
// API_UploadPart.html, API_ListParts.html,
// API_CompleteMultipartUpload.html, API_AbortMultipartUpload.html), with
// parts kept in memory or in files and streamed into the Store at the
// end; and the CORS preflight of all these. [MemoryStore] keeps objects in
// memory. [Evaluate] and [CheckFields] run the checks that need no
// secret, to explain what S3 would answer.
//
// The rules are those of the AWS pages "Creating a POST Policy"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html),
// "Creating an HTML Form" (sigv4-HTTPPOSTForms), "POST Object"
// (RESTObjectPOST), "Authenticating Requests (AWS Signature Version 4)"
// (sig-v4-authenticating-requests) and the API pages above, and the
// answers S3 gives in public recordings (LocalStack's TestS3PresignedPost
// snapshots, ceph/s3-tests); where S3's behaviour is not recorded, the
// package does what Versity S3 Gateway does.
//
// # Security
//
// Nothing here logs. Errors never hold a secret, a signing key or an
// expected signature; what they quote came from the request. Memory does
// not grow with the file: at most about 20 KB and 256 fields are read
// before it; a Handler streams PUT bodies into its Store, and keeps the
// parts of multipart uploads in files when its PartDir is set.
package receiver
