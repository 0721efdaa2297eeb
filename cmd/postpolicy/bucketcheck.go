package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// checkBucket asks the store whether the bucket exists and whether creds
// may use it, before serve sends users there: a HEAD request to formURL,
// the URL the forms post to (ENDPOINT/BUCKET for -endpoint,
// https://BUCKET.s3.REGION.amazonaws.com/ for -aws), which is S3's
// HeadBucket ("HeadBucket", https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html),
// signed with Signature Version 4 in the Authorization header ("Signature
// Calculations for the Authorization Header",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
// The error says what is wrong, with the bucket, the store and what to do;
// it never holds the secret key.
func checkBucket(ctx context.Context, client *http.Client, formURL string, o *serveOptions, creds postpolicy.Credentials, now time.Time) error {
	u, err := url.Parse(formURL)
	if err != nil {
		return fmt.Errorf("checking bucket %q: the form URL %q does not parse: %v", o.bucket, formURL, err)
	}
	store := o.endpoint
	if o.aws {
		store = "Amazon S3 (" + u.Scheme + "://" + u.Host + ")"
	}
	req, err := signedHead(ctx, u, o.region, creds, now)
	if err != nil {
		return fmt.Errorf("checking bucket %q at %s: %v", o.bucket, store, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = unwrapOpError(uerr.Err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", bucketCheckTimeout)
		}
		fix := "is the store running, and is -endpoint right?"
		if o.aws {
			fix = "is this machine online?"
		}
		return fmt.Errorf("cannot reach %s to check bucket %q: %v; %s (-check-bucket=false starts without checking)", store, o.bucket, err, fix)
	}
	resp.Body.Close()
	if region := resp.Header.Get("X-Amz-Bucket-Region"); region != "" && region != o.region {
		return fmt.Errorf("bucket %q at %s is in region %s, not %s: give -region %s", o.bucket, store, region, o.region, region)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		create := "aws s3api create-bucket --bucket " + o.bucket
		if o.aws && o.region != "us-east-1" {
			create += " --region " + o.region + " --create-bucket-configuration LocationConstraint=" + o.region
		}
		if o.endpoint != "" {
			create += " --endpoint-url " + shellQuote(o.endpoint)
		}
		return fmt.Errorf("bucket %q does not exist at %s: create it (%s), or give the name of an existing bucket with -bucket", o.bucket, store, create)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("bucket %q at %s answered 403 Forbidden to the credentials with access key id %s: check the secret key and -region, "+
			"and that the key may s3:ListBucket on the bucket (the check needs it; the uploads need s3:PutObject), "+
			"or -check-bucket=false starts without checking", o.bucket, store, creds.AccessKeyID)
	}
	return fmt.Errorf("bucket %q at %s: the check (HEAD %s) answered %s; -check-bucket=false starts without checking", o.bucket, store, formURL, resp.Status)
}

// signedHead returns a HEAD request for u signed with creds for region
// at now: the Authorization header over host, x-amz-content-sha256 (the
// hash of the empty body, which S3 requires), x-amz-date and, for
// temporary credentials, x-amz-security-token.
func signedHead(ctx context.Context, u *url.URL, region string, creds postpolicy.Credentials, now time.Time) (*http.Request, error) {
	amzDate := now.UTC().Format(sigv4.TimeLayout)
	headers := []sigv4.Header{
		{Name: "host", Value: u.Host},
		{Name: "x-amz-content-sha256", Value: sigv4.EmptyPayloadHash},
		{Name: "x-amz-date", Value: amzDate},
	}
	if creds.SessionToken != "" {
		headers = append(headers, sigv4.Header{Name: "x-amz-security-token", Value: creds.SessionToken})
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	sr := sigv4.Request{Method: http.MethodHead, Path: path, PathMode: sigv4.PathS3, Header: headers, PayloadHash: sigv4.EmptyPayloadHash}
	key := sigv4.NewKey(creds.AccessKeyID, creds.SecretAccessKey, amzDate[:len(sigv4.DateLayout)], region, "s3")
	sig, err := sr.Sign(key, amzDate)
	if err != nil {
		return nil, err
	}
	signed, err := sr.AppendSignedHeaders(nil)
	if err != nil {
		return nil, err
	}
	// The request's path is the canonical URI (PathS3 encodes it as S3
	// wants it sent), so what is signed is what is sent.
	target := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path, RawPath: string(sigv4.AppendURIEncode(nil, path, true))}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, target.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, h := range headers[1:] {
		req.Header.Set(h.Name, h.Value)
	}
	req.Header.Set("Authorization", string(sigv4.AppendAuthorization(nil, key.Credential, string(signed), sig[:])))
	return req, nil
}
