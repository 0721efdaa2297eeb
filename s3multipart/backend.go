package s3multipart

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/postpolicy/postpolicy"
)

// Backend is the server side of browser uploads to S3 in parts: it
// starts, lists, completes and aborts multipart uploads with S3 API calls
// of its own, and signs, for the browser, the URL of each part, which
// holds exactly the part's size. It answers Uppy's AwsS3 plugin in
// Companion mode ([Backend.ServeHTTP]) and offers the same operations as
// methods for other clients.
//
// A Backend remembers the uploads it started, in memory: an upload is
// only served by the process that started it (a backend of several
// processes routes a user to one, or lets the page start again), and the
// uploads a stopped process left are aborted by [Backend.AbortStale] in
// the next. Set its fields before first use; it is then safe for
// concurrent use and must not be copied.
type Backend struct {
	// Signer signs the Backend's S3 calls (SignRequest), the part URLs
	// (PresignUploadPart) and the upload forms (Sign): its credentials,
	// region, Endpoint and URLStyle say where the buckets are. Required.
	Signer *postpolicy.Signer

	// Client sends the Backend's S3 calls; nil means http.DefaultClient.
	Client *http.Client

	// Rules returns what the user of a request may upload, from the
	// application's session. A nil *Rules, or an error wrapping
	// postpolicy.ErrUnauthenticated, is answered 401 "sign in to upload";
	// an error wrapping postpolicy.ErrForbidden 403, with the error's text
	// for the user; any other error 500, with no details (ErrorLog
	// receives it). Required by ServeHTTP.
	Rules func(r *http.Request) (*Rules, error)

	// UploadLifetime is how long an upload may stay incomplete: after it,
	// its part URLs are no longer signed, and AbortStale aborts it. 0
	// means [DefaultUploadLifetime], 24 hours.
	UploadLifetime time.Duration

	// Sweep are the places where AbortStale also looks for uploads the
	// Backend does not know, which a previous process left: every upload
	// in progress under one of these prefixes, initiated UploadLifetime
	// or longer ago, is aborted, whoever started it. List the prefixes
	// the Backend's uploads go to (those of Rules.KeyPrefix, such as
	// "users/"), not ones where other programs upload in parts.
	Sweep []Location

	// ErrorLog, when set, receives the errors behind 500 and 502 answers,
	// whose bodies carry no details. They never hold the secret key, the
	// session token or a signature.
	ErrorLog func(r *http.Request, err error)

	mu      sync.Mutex
	uploads map[string]*upload // by upload id
}

// Location is a key prefix in a bucket, where [Backend.AbortStale] looks
// for abandoned uploads: the bucket and prefix parameters of
// ListMultipartUploads
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html).
type Location struct {
	Bucket    string
	KeyPrefix string
}

// Upload is a multipart upload the Backend started.
type Upload struct {
	Bucket string `json:"bucket"`
	// Key is where the object will be: Rules.KeyPrefix, a unique segment
	// and the file's name made safe ([KeyName]).
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	// Size is the file's size, declared when the upload started: the
	// parts' sizes add up to it.
	Size int64 `json:"size"`
	// PartSize is the size of every part but the last, which holds the
	// rest; Parts is their number.
	PartSize int64 `json:"partSize"`
	Parts    int   `json:"parts"`
	// Created is when the upload started, by the Signer's clock.
	Created time.Time `json:"-"`
}

// PartSizeOf returns the size of part n (1 to Parts): PartSize, the rest
// for the last.
func (u *Upload) PartSizeOf(n int) int64 {
	if n == u.Parts {
		return u.Size - int64(u.Parts-1)*u.PartSize
	}
	return u.PartSize
}

// Part is a part of an upload, as ListParts reports it
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html)
// and CompleteMultipartUpload takes it, with the JSON names Uppy reads
// and sends (PartNumber, ETag).
type Part struct {
	PartNumber int `json:"PartNumber" xml:"PartNumber"`
	// ETag is the part's, as the answer to its PUT gave it: quoted, as S3
	// lists it, or not, as Uppy sends it back.
	ETag string `json:"ETag" xml:"ETag"`
	// Size is the part's size in bytes; ListParts sets it, Complete
	// ignores it.
	Size int64 `json:"Size" xml:"Size"`
}

// upload is an upload the Backend started. Its fields but completing
// never change; completing is guarded by Backend.mu.
type upload struct {
	Upload
	completing bool
}

func (b *Backend) client() *http.Client {
	if b.Client == nil {
		return http.DefaultClient
	}
	return b.Client
}

func (b *Backend) now() time.Time {
	if b.Signer != nil && b.Signer.Now != nil {
		return b.Signer.Now()
	}
	return time.Now()
}

func (b *Backend) uploadLifetime() time.Duration {
	if b.UploadLifetime == 0 {
		return DefaultUploadLifetime
	}
	return b.UploadLifetime
}

// Create starts the upload of a file of size bytes named filename, of
// type contentType, for a user with rules: it checks the type, the size
// and the number of parts against rules, chooses the key ([KeyName]),
// and starts a multipart upload there with an S3 CreateMultipartUpload
// call carrying the type and the metadata rules allow
// (x-amz-meta-NAME), which S3 gives the object
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html).
// An empty contentType is [DefaultContentType].
//
// A file rules refuse is a *[Refusal]; S3's refusal an *[S3Error]; rules
// that cannot be applied an error matching [ErrRules]. An upload S3
// started but Create cannot record (S3 answered another key, or an id in
// use) is aborted; one whose answer never arrived (the network, ctx) is
// left to AbortStale's Sweep.
func (b *Backend) Create(ctx context.Context, rules *Rules, filename, contentType string, size int64, metadata map[string]string) (*Upload, error) {
	if err := rules.check(); err != nil {
		return nil, err
	}
	ct, err := rules.contentType(contentType)
	if err != nil {
		return nil, err
	}
	partSize, parts, err := rules.checkSize(size)
	if err != nil {
		return nil, err
	}
	meta, err := rules.metadata(metadata)
	if err != nil {
		return nil, err
	}
	key := KeyName(rules.KeyPrefix, filename)
	id, err := b.createUpload(ctx, rules.Bucket, key, ct, meta)
	if err != nil {
		return nil, err
	}
	up := &upload{Upload: Upload{Bucket: rules.Bucket, Key: key, UploadID: id, Size: size, PartSize: partSize, Parts: parts, Created: b.now()}}
	b.mu.Lock()
	if b.uploads == nil {
		b.uploads = make(map[string]*upload)
	}
	_, taken := b.uploads[id]
	if !taken {
		b.uploads[id] = up
	}
	b.mu.Unlock()
	if taken {
		// S3 gave an id the Backend already has for another key: keep
		// neither state nor upload.
		b.abortUpload(context.WithoutCancel(ctx), rules.Bucket, key, id)
		return nil, &storeError{op: "CreateMultipartUpload", err: errors.New("the store returned an upload id already in use")}
	}
	u := up.Upload
	return &u, nil
}

// lookup returns the upload uploadID of key, for a user with rules: the
// key must be under rules.KeyPrefix (403 otherwise) and the upload one
// the Backend started for that key in rules.Bucket and not expired (404
// otherwise, saying nothing of other users' uploads).
func (b *Backend) lookup(rules *Rules, key, uploadID string) (*upload, error) {
	if err := rules.check(); err != nil {
		return nil, err
	}
	if len(key) < len(rules.KeyPrefix) || key[:len(rules.KeyPrefix)] != rules.KeyPrefix {
		return nil, refuse(http.StatusForbidden, "the key %q is not one of your uploads (under %q)", key, rules.KeyPrefix)
	}
	b.mu.Lock()
	up := b.uploads[uploadID]
	b.mu.Unlock()
	if up == nil || up.Key != key || up.Bucket != rules.Bucket {
		return nil, refuse(http.StatusNotFound, "there is no upload %q of %q in progress here: it was completed or aborted, or this server did not start it; start the upload again", uploadID, key)
	}
	if !b.now().Before(up.Created.Add(b.uploadLifetime())) {
		return nil, refuse(http.StatusNotFound, "the upload %q expired: uploads must be completed within %v; start the upload again", uploadID, b.uploadLifetime())
	}
	return up, nil
}

// forget removes the upload uploadID from those the Backend knows.
func (b *Backend) forget(uploadID string) {
	b.mu.Lock()
	delete(b.uploads, uploadID)
	b.mu.Unlock()
}

// forgetIfGone forgets the upload when err is S3's NoSuchUpload: it was
// completed, aborted or expired in the bucket.
func (b *Backend) forgetIfGone(uploadID string, err error) {
	var s3 *S3Error
	if errors.As(err, &s3) && s3.Code == "NoSuchUpload" {
		b.forget(uploadID)
	}
}

// SignPart returns the presigned PUT of part partNumber (1 to the
// upload's Parts) of the upload uploadID of key, for a user with rules
// ("UploadPart", https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html):
// Signer.PresignUploadPart, with Content-Length signed as the part's exact
// size ([Upload.PartSizeOf]), so that S3 refuses a part of any other size
// (SignatureDoesNotMatch) and the object cannot exceed the size declared
// at Create. It is valid for rules.URLLifetime, and never past the
// upload's lifetime. The answer to the PUT carries the part's ETag.
func (b *Backend) SignPart(ctx context.Context, rules *Rules, key, uploadID string, partNumber int) (*postpolicy.Presigned, error) {
	p, _, err := b.signPart(ctx, rules, key, uploadID, partNumber)
	return p, err
}

// signPart is SignPart, and returns the part's size too.
func (b *Backend) signPart(ctx context.Context, rules *Rules, key, uploadID string, partNumber int) (*postpolicy.Presigned, int64, error) {
	up, err := b.lookup(rules, key, uploadID)
	if err != nil {
		return nil, 0, err
	}
	if partNumber < 1 || partNumber > up.Parts {
		return nil, 0, refuse(http.StatusBadRequest,
			"part %d is not one of this upload's %d parts of %s: the page must cut the file as the server does (with Uppy, getChunkSize must return the server's PartSize)",
			partNumber, up.Parts, sizeText(up.PartSize))
	}
	expiration := b.now().Add(rules.urlLifetime())
	if end := up.Created.Add(b.uploadLifetime()); end.Before(expiration) {
		expiration = end
	}
	size := up.PartSizeOf(partNumber)
	p, err := b.Signer.PresignUploadPart(ctx, up.Bucket, up.Key, up.UploadID, partNumber, size, expiration)
	return p, size, err
}

// ListParts returns the parts of the upload uploadID of key uploaded so
// far, for a user with rules, from S3 ("ListParts",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html,
// every page): what a page resuming the upload needs to upload only the
// missing parts.
func (b *Backend) ListParts(ctx context.Context, rules *Rules, key, uploadID string) ([]Part, error) {
	up, err := b.lookup(rules, key, uploadID)
	if err != nil {
		return nil, err
	}
	parts, err := b.listParts(ctx, up.Bucket, up.Key, up.UploadID)
	if err != nil {
		b.forgetIfGone(uploadID, err)
		return nil, err
	}
	if parts == nil {
		parts = []Part{}
	}
	return parts, nil
}

// Complete completes the upload uploadID of key with parts, for a user
// with rules, and returns the object's location, S3's answer
// ("CompleteMultipartUpload",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html).
// parts must be exactly parts 1 to the upload's Parts, in order, each
// with the ETag the PUT of the part answered (S3 checks the ETags); since
// each part was signed with its exact size, the object has the size
// declared at Create. When S3 refuses (InvalidPart, a part not uploaded;
// an error in the body of a 200 answer), the upload stays for a retry,
// until AbortStale aborts it.
func (b *Backend) Complete(ctx context.Context, rules *Rules, key, uploadID string, parts []Part) (string, error) {
	up, err := b.lookup(rules, key, uploadID)
	if err != nil {
		return "", err
	}
	if err := checkParts(parts, up.Parts); err != nil {
		return "", err
	}
	b.mu.Lock()
	busy := up.completing
	up.completing = true
	b.mu.Unlock()
	if busy {
		return "", refuse(http.StatusConflict, "the upload %q is being completed already", uploadID)
	}
	location, _, err := b.completeUpload(ctx, up.Bucket, up.Key, up.UploadID, parts)
	b.mu.Lock()
	up.completing = false
	if err == nil {
		delete(b.uploads, uploadID)
	}
	b.mu.Unlock()
	if err != nil {
		b.forgetIfGone(uploadID, err)
		return "", err
	}
	return location, nil
}

// checkParts refuses a list of parts that is not parts 1 to n in order,
// each with an ETag, saying which part is wrong.
func checkParts(parts []Part, n int) error {
	for i, p := range parts {
		switch want := i + 1; {
		case p.PartNumber < 1 || p.PartNumber > n:
			return refuse(http.StatusBadRequest, "part %d is not one of this upload's %d parts", p.PartNumber, n)
		case p.PartNumber == want && p.ETag != "":
			continue
		case p.PartNumber == want:
			return refuse(http.StatusBadRequest, "part %d has no ETag: send the ETag its upload answered", want)
		case p.PartNumber < want:
			return refuse(http.StatusBadRequest, "part %d is listed twice or out of order (at position %d): list parts 1 to %d, in order", p.PartNumber, want, n)
		case slices.ContainsFunc(parts[i+1:], func(q Part) bool { return q.PartNumber == want }):
			return refuse(http.StatusBadRequest, "the parts are out of order (position %d lists part %d): list parts 1 to %d, in order", want, p.PartNumber, n)
		default:
			return refuse(http.StatusBadRequest, "part %d is missing: list parts 1 to %d, in order", want, n)
		}
	}
	if len(parts) != n {
		return refuse(http.StatusBadRequest, "the list has %d parts; the upload has %d: list parts 1 to %d, in order", len(parts), n, n)
	}
	return nil
}

// Abort aborts the upload uploadID of key, for a user with rules,
// deleting its parts ("AbortMultipartUpload",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html);
// Uppy calls it when the user cancels.
func (b *Backend) Abort(ctx context.Context, rules *Rules, key, uploadID string) error {
	up, err := b.lookup(rules, key, uploadID)
	if err != nil {
		return err
	}
	b.mu.Lock()
	busy := up.completing
	b.mu.Unlock()
	if busy {
		return refuse(http.StatusConflict, "the upload %q is being completed", uploadID)
	}
	err = b.abortUpload(ctx, up.Bucket, up.Key, up.UploadID)
	if err == nil {
		b.forget(uploadID)
	}
	b.forgetIfGone(uploadID, err)
	return err
}

// AbortStale aborts the uploads started UploadLifetime or longer before
// now and not completed, so that their parts stop being billed: those the
// Backend started, and those S3 lists under the Sweep locations
// (ListMultipartUploads,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html)
// that were initiated that long ago, which a previous process left. It
// returns how many it aborted, and the errors of those it could not
// abort or list, joined; it carries on past them. Call it from a timer
// (every hour, say). An upload S3 no longer has is forgotten.
//
// It is the first line of defence; the second is a lifecycle rule on the
// bucket with AbortIncompleteMultipartUpload, which S3 applies whether or
// not the Backend runs
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html).
func (b *Backend) AbortStale(ctx context.Context, now time.Time) (aborted int, err error) {
	lifetime := b.uploadLifetime()
	var stale []*upload
	b.mu.Lock()
	for _, up := range b.uploads {
		if !up.completing && !now.Before(up.Created.Add(lifetime)) {
			stale = append(stale, up)
		}
	}
	b.mu.Unlock()
	var errs []error
	for _, up := range stale {
		err := b.abortUpload(ctx, up.Bucket, up.Key, up.UploadID)
		var s3 *S3Error
		switch {
		case err == nil:
			aborted++
			b.forget(up.UploadID)
		case errors.As(err, &s3) && s3.Code == "NoSuchUpload":
			b.forget(up.UploadID)
		default:
			errs = append(errs, err)
		}
	}
	for _, loc := range b.Sweep {
		listed, err := b.listUploads(ctx, loc.Bucket, loc.KeyPrefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range listed {
			b.mu.Lock()
			_, known := b.uploads[l.UploadID]
			b.mu.Unlock()
			initiated, err := time.Parse(time.RFC3339Nano, l.Initiated)
			if known || err != nil || now.Before(initiated.Add(lifetime)) {
				continue // the Backend's own, or young
			}
			err = b.abortUpload(ctx, loc.Bucket, l.Key, l.UploadID)
			var s3 *S3Error
			switch {
			case err == nil:
				aborted++
			case errors.As(err, &s3) && s3.Code == "NoSuchUpload":
			default:
				errs = append(errs, err)
			}
		}
	}
	return aborted, errors.Join(errs...)
}
