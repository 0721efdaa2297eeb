package main

import (
	"context"
	"crypto/hmac"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// fakeBucketStore answers HEAD /BUCKET (path-style) or HEAD / on
// BUCKET.HOST (virtual-hosted) as S3 does: it checks the request's
// Signature Version 4 Authorization header with internal/sigv4, then
// answers 200 for its buckets and 404 for others; 403 for a bad
// signature or an unknown key, and 301 with x-amz-bucket-region for a
// credential scope of another region.
type fakeBucketStore struct {
	id, secret, token, region string
	buckets                   []string

	mu   sync.Mutex
	seen []string // "METHOD HOST PATH" of each request
}

func (f *fakeBucketStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Method+" "+r.Host+" "+r.URL.Path)
	f.mu.Unlock()
	if r.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	auth, err := sigv4.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || auth.Credential.AccessKeyID != f.id || auth.Credential.Service != "s3" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	for _, need := range []string{"host", "x-amz-content-sha256", "x-amz-date"} {
		if !containsString(auth.SignedHeaders, need) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
	}
	if f.token != "" && (r.Header.Get("X-Amz-Security-Token") != f.token || !containsString(auth.SignedHeaders, "x-amz-security-token")) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var headers []sigv4.Header
	for _, name := range auth.SignedHeaders {
		if name == "host" {
			headers = append(headers, sigv4.Header{Name: "host", Value: r.Host})
			continue
		}
		for _, v := range r.Header.Values(name) {
			headers = append(headers, sigv4.Header{Name: name, Value: v})
		}
	}
	req := sigv4.Request{Method: r.Method, Path: r.URL.Path, PathMode: sigv4.PathS3, Header: headers,
		SignedHeaders: auth.SignedHeaders, PayloadHash: r.Header.Get("X-Amz-Content-Sha256")}
	key := sigv4.NewKey(f.id, f.secret, auth.Credential.Date, auth.Credential.Region, "s3")
	sig, err := req.Sign(key, r.Header.Get("X-Amz-Date"))
	if err != nil || !hmac.Equal(sig[:], []byte(auth.Signature)) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if auth.Credential.Region != f.region {
		w.Header().Set("X-Amz-Bucket-Region", f.region)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	bucket := strings.TrimPrefix(r.URL.Path, "/")
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ".s3.") {
		bucket, _, _ = strings.Cut(host, ".")
	}
	if !containsString(f.buckets, bucket) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Amz-Bucket-Region", f.region)
	w.WriteHeader(http.StatusOK)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// serveStarts runs serve with args (with -addr 127.0.0.1:0) and env, and
// returns nil once it listens (stopping it then) or the error it failed
// to start with; o, when set, adjusts the options before serve runs.
func serveStarts(t *testing.T, env map[string]string, adjust func(*serveOptions), args ...string) (stdout string, err error) {
	t.Helper()
	o, err := parseServeArgs(append([]string{"-addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(o)
	}
	ready := make(chan struct{})
	o.onListen = func(string) { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, func(k string) string { return env[k] }, out, errOut) }()
	select {
	case <-ready:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve, stopping: %v", err)
		}
		return out.String(), nil
	case err := <-done:
		return out.String() + errOut.String(), err
	case <-time.After(30 * time.Second):
		t.Fatal("serve neither started nor failed within 30 seconds")
		return "", nil
	}
}

// TestServeChecksBucket checks that serve -endpoint checks, with a signed
// HEAD request, that the bucket exists and that its credentials may use
// it, and refuses to start otherwise, saying what to do.
func TestServeChecksBucket(t *testing.T) {
	fake := &fakeBucketStore{id: testAccessKeyID, secret: testSecret, region: "eu-west-1", buckets: []string{"photos"}}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	if _, err := serveStarts(t, longTermEnv, nil, "-endpoint", ts.URL, "-bucket", "photos", "-region", "eu-west-1"); err != nil {
		t.Errorf("an existing bucket: %v", err)
	}
	fake.mu.Lock()
	seen := strings.Join(fake.seen, "\n")
	fake.mu.Unlock()
	if want := "HEAD " + strings.TrimPrefix(ts.URL, "http://") + " /photos"; seen != want {
		t.Errorf("the store saw %q, want %q", seen, want)
	}
	tokenFake := &fakeBucketStore{id: testAccessKeyID, secret: testSecret, token: testToken, region: "us-east-1", buckets: []string{"photos"}}
	tokenTS := httptest.NewServer(tokenFake)
	defer tokenTS.Close()
	if _, err := serveStarts(t, tokenEnv, nil, "-endpoint", tokenTS.URL, "-bucket", "photos"); err != nil {
		t.Errorf("temporary credentials: %v", err)
	}

	wrongSecret := map[string]string{"AWS_ACCESS_KEY_ID": testAccessKeyID, "AWS_SECRET_ACCESS_KEY": "not-the-secret-0123456789abcdefghijklmn"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"missing bucket", longTermEnv, []string{"-endpoint", ts.URL, "-bucket", "videos", "-region", "eu-west-1"},
			[]string{`bucket "videos"`, ts.URL, "does not exist", "create it", "aws s3api create-bucket --bucket videos", "--endpoint-url", "-bucket"}},
		{"wrong secret", wrongSecret, []string{"-endpoint", ts.URL, "-bucket", "photos", "-region", "eu-west-1"},
			[]string{`bucket "photos"`, ts.URL, "403", "access key id " + testAccessKeyID, "s3:ListBucket", "-check-bucket=false"}},
		{"wrong region", longTermEnv, []string{"-endpoint", ts.URL, "-bucket", "photos", "-region", "us-west-2"},
			[]string{`bucket "photos"`, "region eu-west-1", "-region eu-west-1"}},
		{"unreachable", longTermEnv, []string{"-endpoint", closedURL, "-bucket", "photos"},
			[]string{`bucket "photos"`, closedURL, "cannot reach", "-endpoint"}},
	} {
		out, err := serveStarts(t, tc.env, nil, tc.args...)
		if err == nil {
			t.Errorf("%s: serve started", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error lacks %q: %v", tc.name, w, err)
			}
		}
		if strings.Contains(err.Error()+out, "not-the-secret") || strings.Contains(err.Error()+out, testSecret) {
			t.Errorf("%s: serve said the secret key", tc.name)
		}
	}

	// -check-bucket=false starts without asking.
	if _, err := serveStarts(t, longTermEnv, nil, "-endpoint", closedURL, "-bucket", "photos", "-check-bucket=false"); err != nil {
		t.Errorf("-check-bucket=false: %v", err)
	}
}

// toFake sends every request to the fake store at its URL's host, over
// plain HTTP, keeping the Host header the request was signed for: -aws's
// check goes to BUCKET.s3.REGION.amazonaws.com, which tests must not reach.
type toFake struct{ host string }

func (f toFake) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme, r2.URL.Host = "http", f.host
	return http.DefaultTransport.RoundTrip(r2)
}

// TestServeChecksBucketAWS checks -aws's check: the signed HEAD goes to
// https://BUCKET.s3.REGION.amazonaws.com/ (here, to a fake store), and a
// missing bucket's error says how to create it in its region.
func TestServeChecksBucketAWS(t *testing.T) {
	fake := &fakeBucketStore{id: testAccessKeyID, secret: testSecret, region: "eu-west-1", buckets: []string{"photos", "my.photos"}}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	client := &http.Client{Transport: toFake{strings.TrimPrefix(ts.URL, "http://")}}
	viaFake := func(o *serveOptions) { o.bucketClient = client }
	for _, bucket := range []string{"photos", "my.photos"} {
		if _, err := serveStarts(t, longTermEnv, viaFake, "-aws", "-bucket", bucket, "-region", "eu-west-1"); err != nil {
			t.Errorf("-aws, bucket %s: %v", bucket, err)
		}
	}
	fake.mu.Lock()
	seen := strings.Join(fake.seen, "\n")
	fake.mu.Unlock()
	// A bucket name with dots is path-style, as its forms are.
	if want := "HEAD photos.s3.eu-west-1.amazonaws.com /\nHEAD s3.eu-west-1.amazonaws.com /my.photos"; seen != want {
		t.Errorf("the store saw %q, want %q", seen, want)
	}
	_, err := serveStarts(t, longTermEnv, viaFake, "-aws", "-bucket", "videos", "-region", "eu-west-1")
	for _, want := range []string{`bucket "videos" does not exist at Amazon S3 (https://videos.s3.eu-west-1.amazonaws.com)`,
		"aws s3api create-bucket --bucket videos --region eu-west-1 --create-bucket-configuration LocationConstraint=eu-west-1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("-aws, a missing bucket: %v; want %q", err, want)
		}
	}
}
