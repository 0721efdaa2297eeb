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
// and messages, and [WriteError] writes S3's XML. [Handler] is an S3-style
// endpoint over a [Store] (POST uploads, GET and HEAD of objects, CORS
// preflight); [MemoryStore] keeps objects in memory. [Evaluate] and
// [CheckFields] run the checks that need no secret, to explain what S3
// would answer.
//
// The rules are those of the AWS pages "Creating a POST Policy"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html),
// "Creating an HTML Form" (sigv4-HTTPPOSTForms) and "POST Object"
// (RESTObjectPOST), and the answers S3 gives in public recordings
// (LocalStack's TestS3PresignedPost snapshots, ceph/s3-tests); where S3's
// behaviour is not recorded, the package does what Versity S3 Gateway
// does.
//
// # Security
//
// Nothing here logs. Errors never hold a secret, a signing key or an
// expected signature; what they quote came from the request. Memory does
// not grow with the file: at most about 20 KB and 256 fields are read
// before it.
package receiver
