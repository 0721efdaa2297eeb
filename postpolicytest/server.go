// Package postpolicytest provides a fake S3 upload endpoint for tests, as
// net/http/httptest provides fake HTTP servers: start a [Server], point a
// [postpolicy.Signer] at it, post forms to it (from Go or from a browser),
// PUT to the URLs of [postpolicy.Signer.PresignPut], run multipart
// uploads (Uppy's AwsS3 plugin, a backend signing with
// [postpolicy.Signer.SignRequest]), and read back what it stored. Requests
// are verified by a [receiver.Verifier] with S3's semantics and S3's
// answers, so a test sees the same refusals a real bucket would give.
//
// A Server is a [receiver.Handler] over a [receiver.MemoryStore] on a
// loopback port, with the parts of multipart uploads in memory; servers
// that want the same endpoint over their own storage use the receiver
// package directly.
package postpolicytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// DefaultBucket is the bucket a Server serves when NewServer is given none.
const DefaultBucket = "test-bucket"

// Server is a fake S3 endpoint on a loopback port, with in-memory storage.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Region is the region the server answers for: us-east-1.
	Region string
	// Credentials are the only credentials the server accepts, generated
	// at random for each server.
	Credentials postpolicy.Credentials
	// Buckets are the buckets it serves.
	Buckets []string
	// Verifier is the server's verifier; tests may change its Now, for
	// example, before posting.
	Verifier *receiver.Verifier
	// Store holds the uploaded objects.
	Store *receiver.MemoryStore
	// Handler is the server's handler. Tests may change its settings
	// before sending requests: MinPartSize (MinPartSize by default, so
	// that multipart uploads of a few bytes work; 0 restores S3's 5 MiB),
	// PrivateReads (false by default, so that tests can read objects back
	// anonymously), MultipartExpiry.
	Handler *receiver.Handler

	srv *httptest.Server
}

// MinPartSize is the least size of every part but the last of a
// multipart upload that a Server completes, instead of S3's 5 MiB: parts
// may be small, but not empty.
const MinPartSize = 1

// NewServer starts a Server serving buckets (DefaultBucket when none are
// given). Call Close when done.
//
// Buckets are reachable path-style (URL/BUCKET) and virtual-hosted style
// (http://BUCKET.localhost:PORT/, which browsers resolve to the loopback
// address; Go clients can use Client). The server answers what a
// [receiver.Handler] answers: POST forms, presigned or header-signed PUT,
// GET and HEAD (anonymous ones too), and the multipart-upload calls
// (CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload,
// AbortMultipartUpload), every one but the anonymous reads signed with
// the server's Credentials. Pages of any origin may upload with fetch or
// XMLHttpRequest and read the answer, ETag included (CORS); no page of
// another origin can read an object back without a signature.
func NewServer(buckets ...string) *Server {
	if len(buckets) == 0 {
		buckets = []string{DefaultBucket}
	}
	s := &Server{
		Region:  "us-east-1",
		Buckets: buckets,
		Store:   receiver.NewMemoryStore(),
		Credentials: postpolicy.Credentials{
			AccessKeyID:     "AKIA" + strings.ToUpper(randomHex(8)),
			SecretAccessKey: randomHex(20),
		},
	}
	s.Verifier = &receiver.Verifier{Lookup: receiver.StaticCredentials(s.Credentials), Region: s.Region}
	// Pages of any origin may upload (a test's page is seldom on the
	// server's origin) and read the upload's answer; as with any
	// receiver.Handler, anonymous GET and HEAD answers carry no CORS
	// header.
	s.Handler = &receiver.Handler{Verifier: s.Verifier, Store: s.Store, Buckets: buckets, BaseHost: "localhost", CORSOrigins: []string{"*"},
		MinPartSize: MinPartSize}
	s.srv = httptest.NewServer(s.Handler)
	s.URL = s.srv.URL
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// Signer returns a Signer for the server: its credentials, region and URL,
// path-style.
func (s *Server) Signer() *postpolicy.Signer {
	return &postpolicy.Signer{Credentials: s.Credentials, Region: s.Region, Endpoint: s.URL, URLStyle: postpolicy.URLStylePath}
}

// VirtualHostedSigner returns a Signer whose forms post to
// http://BUCKET.localhost:PORT/.
func (s *Server) VirtualHostedSigner() *postpolicy.Signer {
	_, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	return &postpolicy.Signer{Credentials: s.Credentials, Region: s.Region, Endpoint: "http://localhost:" + port, URLStyle: postpolicy.URLStyleVirtualHosted}
}

// Client returns an HTTP client that sends every request to the server,
// whatever host its URL names, so virtual-hosted URLs work without DNS.
// It does not follow redirects, so tests see S3's 303 answers.
func (s *Server) Client() *http.Client {
	addr := s.srv.Listener.Addr().String()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Object returns the object stored under bucket and key, and whether there
// is one.
func (s *Server) Object(bucket, key string) (receiver.Object, bool) {
	return s.Store.Object(bucket, key)
}
