package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
	"github.com/postpolicy/postpolicy/s3multipart"
)

// The multipart uploads of serve: an s3multipart.Backend for the signed-in
// user, at multipartPath, which is the companionEndpoint of Uppy's AwsS3
// plugin (its routes are multipartPath + "/s3/..."), and which the page's
// own multipart uploads call too.
//
// With the embedded target the Backend's S3 calls never leave the process
// (handlerTransport), the parts are kept in the store's part directory,
// and an upload's declared size counts against the quotas from its start
// (createMultipart): the store's quota is checked once, for the whole
// file, before any part is sent, and the store does not have to learn
// which part file is whose.

const (
	// multipartPath is where the Backend is mounted: Uppy's
	// companionEndpoint. Not /uploads, the embedded target's default
	// bucket: under /api, with the page's other endpoints.
	multipartPath = "/api/multipart"
	// multipartLifetime is how long a multipart upload may stay
	// incomplete, for the Backend, the embedded target and the
	// reservation of its bytes.
	multipartLifetime = 24 * time.Hour
	// holdSlack is how long a reservation outlives its upload's lifetime:
	// it must not end before the receiver's own expiry of the upload,
	// which counts from a moment slightly earlier.
	holdSlack = time.Minute
	// multipartSweepEvery is how often runSweeps aborts stale uploads.
	multipartSweepEvery = 10 * time.Minute
	// maxCreateBody is the most of a POST /s3/multipart body read to
	// learn the declared size: the Backend's own limit.
	maxCreateBody = 64 << 10
)

// newMultipart returns the Backend of multipart uploads, signing with
// signer: the page's origin for the embedded target, whose S3 calls it
// sends to the target in this process; the real store otherwise.
func (a *app) newMultipart(signer *postpolicy.Signer) *s3multipart.Backend {
	var client *http.Client
	if a.recv != nil {
		// The Backend's calls (the Backend's log lines are marked).
		internal := log.New(a.log.Writer(), "(backend) ", a.log.Flags()|log.Lmsgprefix)
		client = &http.Client{Transport: handlerTransport{logRequests(a.recv, internal)}}
	} else {
		client = a.o.bucketClient
		if client == nil {
			// S3 answers a request for the wrong region's endpoint with a
			// redirect, which must not be followed: its signature is for
			// this one.
			client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
	}
	var types []string
	for _, t := range a.o.types {
		if t == "" {
			types = nil // "*": any type
			break
		}
		types = append(types, string(t))
	}
	return &s3multipart.Backend{
		Signer: signer,
		Client: client,
		Rules: func(r *http.Request) (*s3multipart.Rules, error) {
			name, ok := a.sessions.user(r)
			if !ok {
				return nil, postpolicy.ErrUnauthenticated
			}
			rules := &s3multipart.Rules{
				Bucket:       a.o.bucket,
				KeyPrefix:    userPrefix(name),
				ContentTypes: types,
				MaxSize:      int64(a.o.maxMultipart),
				URLLifetime:  min(a.o.expires, 7*24*time.Hour),
			}
			if r.URL.Path == "/s3/params" {
				// A POST form, which Uppy uses for the files it does not
				// upload in parts: one request, -max-size.
				rules.MaxSize = int64(a.o.maxSize)
			}
			if size, ok := r.Context().Value(heldSize{}).(int64); ok {
				// The embedded target reserved this many bytes.
				rules.MaxSize = size
			}
			return rules, nil
		},
		UploadLifetime: multipartLifetime,
		Sweep:          []s3multipart.Location{{Bucket: a.o.bucket, KeyPrefix: "users/"}},
		ErrorLog: func(r *http.Request, err error) {
			a.log.Printf("%s %s: %v", r.Method, multipartPath+r.URL.EscapedPath(), err)
		},
	}
}

// heldSize is the context key of the bytes createMultipart reserved for
// an upload, which its Rules then accept at most.
type heldSize struct{}

// serveMultipart answers the Backend's routes (the request's path is
// relative to multipartPath). While the Backend works, the answer's write
// deadline keeps moving: completing a large upload takes the store a
// while, during which the page waits without reading or writing.
func (a *app) serveMultipart(w http.ResponseWriter, r *http.Request) {
	defer keepWriteDeadline(w, a.o.limits.withDefaults().ioTimeout)()
	if a.store != nil {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/s3/multipart":
			a.createMultipart(w, r)
			return
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/s3/multipart/"):
			// An abort: the upload's reservation ends with it.
			rec := newBufferedResponse()
			a.multipart.ServeHTTP(rec, r)
			if rec.status == http.StatusOK {
				a.store.releaseUpload(r.URL.Query().Get("key"))
			}
			rec.writeTo(w)
			return
		}
	}
	a.multipart.ServeHTTP(w, r)
}

// createMultipart starts a multipart upload on the embedded target, its
// declared size reserved against the user's and the store's quotas first:
// an upload that would go over is refused before it starts (400, saying
// how much room is left), and one that starts holds its bytes until it is
// completed (the object takes them over), aborted or expired. The Backend
// accepts no more than the bytes reserved.
func (a *app) createMultipart(w http.ResponseWriter, r *http.Request) {
	name, ok := a.sessions.user(r)
	if !ok {
		a.multipart.ServeHTTP(w, r) // 401
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "the request body could not be read")
		return
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	size, ok := s3multipart.DeclaredSize(body)
	if !ok || size < 1 || size > int64(a.o.maxMultipart) {
		// No size, or one the Backend refuses anyway, saying why.
		a.multipart.ServeHTTP(w, r)
		return
	}
	if err := a.store.reserveUpload(name, size); err != nil {
		writeMessage(w, http.StatusBadRequest, quotaMessage(err, size))
		return
	}
	rec := newBufferedResponse()
	a.multipart.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), heldSize{}, size)))
	var up s3multipart.Upload
	if rec.status == http.StatusOK && json.Unmarshal(rec.body.Bytes(), &up) == nil && up.Size == size && strings.HasPrefix(up.Key, userPrefix(name)) {
		a.store.holdUpload(name, up.Key, size, time.Now().Add(multipartLifetime+holdSlack))
	} else {
		a.store.release(name, size)
		if rec.status == http.StatusOK {
			// The Backend's answer always says the key and size it was
			// given; should it not, the upload holds nothing.
			a.log.Printf("POST %s/s3/multipart: an answer without the key or size reserved: %.200s", multipartPath, rec.body.String())
		}
	}
	rec.writeTo(w)
}

// quotaMessage words the store's refusal of a reservation of size bytes
// for the page: the quota and the room left.
func quotaMessage(err error, size int64) string {
	var e *receiver.S3Error
	if !errors.As(err, &e) {
		return "the file could not be reserved room in the store"
	}
	msg := strings.TrimSuffix(e.Message, ".")
	for _, f := range e.Extra {
		if f.Name == "MaxSizeAllowed" {
			if left, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
				return msg + " (the file is " + sizeText(size) + "; " + sizeText(left) + " left)"
			}
		}
	}
	return msg
}

// writeMessage answers status with {"message": msg}, as the Backend
// answers its refusals.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSONResponse(w, status, struct {
		Message string `json:"message"`
	}{msg})
}

// keepWriteDeadline moves the write deadline of w's connection d ahead
// now and every d/3 until the returned function is called, which waits
// for the last move. The server works for the client meanwhile; a client
// that stalls is still cut off by the reads and writes that follow.
func keepWriteDeadline(w http.ResponseWriter, d time.Duration) func() {
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(d)) != nil {
		return func() {} // not a connection's (tests' recorders)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rc.SetWriteDeadline(time.Now().Add(d))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// runSweeps aborts the multipart uploads left incomplete for
// multipartLifetime, every interval until ctx is done: the Backend's
// (and, listed in the bucket, those a previous run left), the embedded
// target's, and the reservations they held.
func (a *app) runSweeps(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			a.sweep(ctx, now)
		}
	}
}

// sweep is one round of runSweeps, at now.
func (a *app) sweep(ctx context.Context, now time.Time) {
	n, err := a.multipart.AbortStale(ctx, now)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Printf("multipart: aborted %d stale uploads; could not abort others: %v", n, err)
	case n > 0:
		a.log.Printf("multipart: aborted %d stale uploads", n)
	}
	if a.recvHandler != nil {
		if n := a.recvHandler.AbortStale(now); n > 0 {
			a.log.Printf("multipart: the embedded target removed the parts of %d expired uploads", n)
		}
	}
	if a.store != nil {
		a.store.expireUploads(now)
	}
}

// bufferedResponse is an http.ResponseWriter that keeps the answer in
// memory: the Backend's JSON answers, which serve reads before passing
// them on, and the embedded target's answers to the Backend's S3 calls
// (XML documents of at most a few hundred kilobytes).
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse { return &bufferedResponse{header: make(http.Header)} }

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 && code >= 200 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// writeTo sends the answer kept to w.
func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	for name, values := range b.header {
		w.Header()[name] = values
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// handlerTransport is an http.RoundTripper that answers each request with
// a handler of this process: the Backend's S3 calls to the embedded
// target, which thus leave neither the process nor its memory. None of
// the HTTP server's limits apply to them, nor the Host allow-list or
// -public-url (a proxy's address, which the Backend signs for), nor
// -max-uploads; and completing an upload, which writes the whole object
// before it answers, is not cut off by the server's write timeout.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	in := req.Clone(req.Context())
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	in.RequestURI = req.URL.RequestURI()
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/1.1", 1, 1
	in.RemoteAddr = "in-process"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := newBufferedResponse()
	t.h.ServeHTTP(rec, in)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}
