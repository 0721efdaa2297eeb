// Package benchmarks compares postpolicy's Signer with minio-go,
// aws-sdk-go-v2 and two hand-written "floors" on one realistic S3 POST
// policy, and with minio-go and aws-sdk-go-v2 on one presigned PUT URL,
// checks that every implementation's output verifies, measures the
// Verifier on streamed uploads, and measures the memory of a
// receiver.Handler, in a process of its own, taking a multipart upload of
// gigabytes (multipart_mem_test.go).
//
// Everything is in the _test.go files; see README.md for the scenario, the
// method and how to run it (scripts/run.sh). The package itself is empty.
package benchmarks
