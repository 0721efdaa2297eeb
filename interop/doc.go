// Package interop proves that postpolicy interoperates with the two Go SDKs
// people already use to make S3 POST forms, aws-sdk-go-v2's
// PresignClient.PresignPostObject and minio-go's Client.PresignedPostPolicy:
// postpolicy's Verifier accepts the forms they sign (and refuses, with S3's
// answer, exactly what S3's rules refuse), and postpolicy's signing
// primitives and theirs give the same signature for the same policy text
// and scope; and postpolicy's presigned PUT and GET URLs are the SDKs'
// (PresignPutObject and PresignGetObject, PresignedPutObject, PresignHeader
// and PresignedGetObject) byte for byte. Everything is in the tests; see
// README.md for the list of what they prove.
//
// It is a module of its own so that importers of postpolicy never download
// either SDK. The tests make no network call: every HTTP transport and the
// default DNS resolver fail and count, and the counts are checked to be 0.
//
//	cd interop && go test -race ./...
package interop
