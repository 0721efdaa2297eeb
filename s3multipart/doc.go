// Package s3multipart is the backend side of browser uploads of any size
// straight to S3 (or an S3-compatible store) in parts, under a policy the
// server decides for each signed-in user: the bucket, the user's key
// prefix, the accepted content types, the largest size. It answers
// Uppy's AwsS3 plugin in Companion mode, and offers the same operations
// as Go methods for other clients. It imports the standard library and
// postpolicy only.
//
// The browser sends the file's bytes to S3 only; the [Backend] makes the
// S3 API calls that start, list, complete and abort a multipart upload
// ("Uploading and copying objects using multipart upload",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html),
// each signed in its Authorization header with Signer.SignRequest, and
// signs, for the page, the URL of each part with
// Signer.PresignUploadPart. The total size is declared when the upload
// starts, and each part's URL signs its exact Content-Length (the part
// size, the rest for the last part), so that S3 refuses a part of any
// other size and the object cannot grow past the size the Rules accepted.
// Small files (those Uppy does not upload in parts) get a POST form
// signed by Signer.Sign, with the same rules as conditions the store
// enforces.
//
// # With Uppy
//
// Mount the Backend at the plugin's companionEndpoint, on the page's own
// origin (Uppy's fetch sends the session cookie to its own origin only):
//
//	mux.Handle("/uploads/", http.StripPrefix("/uploads", backend))
//
// and on the page (@uppy/aws-s3 6.3.1, @uppy/core 6.3.1):
//
//	import Uppy from '@uppy/core'
//	import AwsS3 from '@uppy/aws-s3'
//
//	const uppy = new Uppy()
//	// The backend needs each file's size to sign its parts.
//	uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }))
//	uppy.use(AwsS3, {
//	  companionEndpoint: '/uploads',
//	  shouldUseMultipart: (file) => file.size > 100 * 2 ** 20,
//	  // Only with a fixed Rules.PartSize, the same number of bytes:
//	  // getChunkSize: () => PART_SIZE,
//	})
//
// Uppy sends each file's meta fields as metadata (all of them, unless the
// plugin's allowedMetaFields lists some: it must then list "size"); the
// Backend reads the size there, and stores with the object only the
// fields Rules.Metadata names.
//
// # Part sizes
//
// In Companion mode Uppy cuts the file itself (src/S3Uploader.ts): parts
// of getChunkSize({size}) bytes or, without that option, ceil(size/10000),
// raised to at least 5 MiB (its MIN_CHUNK_SIZE), and grown to
// ceil(size/10000) should that make more than 10,000 parts. It reads only
// the key and the upload id from the answer that starts the upload, so
// the server cannot tell it a part size: both sides must compute the
// same one. With Rules.PartSize 0, the default, the Backend computes
// exactly Uppy's default ([Rules.PartSizeFor]), and the page needs no
// getChunkSize. With a fixed Rules.PartSize, the page's getChunkSize must
// return that number (at least 5 MiB: Uppy raises anything smaller), and
// Rules.MaxSize should not exceed PartSize × MaxParts (a larger file is
// refused, where Uppy would grow its parts). A page that cuts otherwise
// fails visibly: a part number past the last is refused with a message
// naming the part size, and a part of another size is refused by S3
// (SignatureDoesNotMatch), so no object of the wrong shape is made. The
// answer that starts an upload carries "partSize" and "parts" for clients
// that can read them.
//
// # What a user can do
//
// Every call asks Backend.Rules for the request's user. An upload's key
// is Rules.KeyPrefix + a random segment + the file's name made safe
// ([KeyName]), so users choose neither where their files go nor another
// user's key; every call that names an upload must name a key under the
// caller's KeyPrefix (403 otherwise) and an upload the Backend started
// for that key (404 otherwise). Complete must list exactly parts 1 to N,
// in order. The POST routes take only application/json bodies, which a
// page of another site cannot send without a CORS preflight the Backend
// never allows; its GET routes change nothing. Refusals are JSON,
// {"message": "..."}, naming the rule; they never hold a secret.
//
// # The bucket
//
// The bucket's CORS configuration must allow the page's origin to PUT
// (parts) and POST (forms), and expose the ETag header, which Uppy reads
// from each part's answer ("Using cross-origin resource sharing (CORS)",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html). The
// Backend's credentials need s3:PutObject, s3:AbortMultipartUpload,
// s3:ListMultipartUploadParts and s3:ListBucketMultipartUploads.
//
// # Abandoned uploads
//
// The parts of an upload that is never completed are billed until it is
// aborted. The Backend aborts an upload S3 started but that it could not
// record; Uppy aborts an upload the user cancels; [Backend.AbortStale],
// called from a timer, aborts the uploads older than
// Backend.UploadLifetime: those the Backend started and, listed with
// ListMultipartUploads under Backend.Sweep, those a previous process
// left. The second line of defence is a lifecycle rule on the bucket
// with AbortIncompleteMultipartUpload
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html),
// which S3 applies whether or not the Backend runs.
//
// The Backend keeps the uploads it started in memory: an upload is served
// only by the process that started it, until it ends or UploadLifetime
// passes. A page that resumes an upload after a restart of the server (or
// on another server) is refused with 404 and starts again.
package s3multipart
