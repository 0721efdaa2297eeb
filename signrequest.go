package postpolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file signs S3 API requests in their Authorization header
// ("Authenticating Requests: Using the Authorization Header (AWS Signature
// Version 4)",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html):
// the calls a backend makes itself, such as starting, completing and
// aborting a multipart upload, which the browser then fills with presigned
// part uploads.

// UnsignedPayload is the payload hash of a request whose body the
// signature does not cover ("Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk": x-amz-content-sha256
// UNSIGNED-PAYLOAD). A body of a few kilobytes is better signed with
// [PayloadHash].
const UnsignedPayload = sigv4.UnsignedPayload

// PayloadHash returns the lower-case hex SHA-256 of body, the
// x-amz-content-sha256 of a request whose body the signature covers.
func PayloadHash(body []byte) string { return sigv4.HashPayload(body) }

// unsignedHeaders are headers SignRequest leaves out of the signature:
// hop-by-hop headers and those a proxy or the HTTP client may add or
// change on the way.
var unsignedHeaders = []string{
	"Authorization", "Connection", "Expect", "Keep-Alive", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "X-Amzn-Trace-Id",
}

// SignRequest signs r, an S3 request about to be sent, with the
// Signer's credentials at its clock's time: it sets X-Amz-Date,
// X-Amz-Content-Sha256 (payloadHash: [PayloadHash] of the body, or
// [UnsignedPayload]), X-Amz-Security-Token for temporary credentials, and
// Authorization, signing Host and every other header r carries (but
// hop-by-hop headers, User-Agent and X-Amzn-Trace-Id), so set them first.
// The canonical URI is r.URL.Path URI-encoded once with '/' kept, as S3
// requires, and r.URL.RawPath is set to that encoding so that the path
// sent is the path signed; the query is signed as r.URL.RawQuery holds
// it. The credential scope is the Signer's Region and Service; r's URL is
// not checked against the Signer's Endpoint.
//
// r.Host, when set, is the Host signed and sent; otherwise r.URL.Host.
// Errors match [ErrSignerConfig] or [ErrInvalidCredentials], or say which
// part of r cannot be signed; r is then unchanged.
func (s *Signer) SignRequest(ctx context.Context, r *http.Request, payloadHash string) error {
	if _, err := s.checkConfig(); err != nil {
		return err
	}
	if r == nil || r.URL == nil {
		return errors.New("postpolicy: SignRequest: the request or its URL is nil")
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if host == "" {
		return errors.New("postpolicy: SignRequest: the request has no host")
	}
	query, err := sigv4.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("postpolicy: SignRequest: %w", err)
	}
	creds, t, err := s.begin(ctx)
	if err != nil {
		return err
	}
	var sg signing
	if err := s.keyFor(creds, t, &sg); err != nil {
		return err
	}
	key := sg.key.key
	amzDate := string(sg.amzDate[:])

	// The headers to sign: those r has, with the ones SignRequest sets.
	header := r.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-Amz-Date", amzDate)
	header.Set("X-Amz-Content-Sha256", payloadHash)
	if creds.SessionToken != "" {
		header.Set("X-Amz-Security-Token", creds.SessionToken)
	} else {
		header.Del("X-Amz-Security-Token")
	}
	header.Del("Authorization")
	headers := []sigv4.Header{{Name: "host", Value: host}}
	signed := []string{"host"}
	for name, values := range header {
		if slices.Contains(unsignedHeaders, name) || strings.EqualFold(name, "host") {
			continue
		}
		lower := strings.ToLower(name)
		signed = append(signed, lower)
		for _, v := range values {
			headers = append(headers, sigv4.Header{Name: lower, Value: v})
		}
	}
	slices.Sort(signed)
	req := sigv4.Request{
		Method: r.Method, Path: r.URL.Path, PathMode: sigv4.PathS3, Query: query,
		Header: headers, SignedHeaders: signed, PayloadHash: payloadHash,
	}
	sig, err := req.Sign(key, amzDate)
	if err != nil {
		return fmt.Errorf("postpolicy: SignRequest: %w", err)
	}
	signedLine, _ := req.AppendSignedHeaders(nil) // Sign checked the names
	header.Set("Authorization", string(sigv4.AppendAuthorization(nil, key.Credential, string(signedLine), sig[:])))
	r.Header = header
	path := r.URL.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	r.URL.RawPath = string(sigv4.AppendURIEncode(nil, path, true))
	return nil
}
