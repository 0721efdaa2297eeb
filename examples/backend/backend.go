// Package backend is the part of a web backend that lets its signed-in
// users upload files straight from the browser to an S3 bucket, with
// postpolicy: one Signer and one prepared Template for the whole process,
// and the endpoint the page calls for a freshly signed form before each
// upload. It is what "postpolicy serve" runs; copy it into your backend
// and give it your own sessions (Config.User).
//
// Each form lets one user upload one file under the user's key prefix,
// with the file's name, of 1 byte to Config.MaxSize, of an accepted
// content type, for Config.Lifetime. The store enforces the policy: a
// file that is too large or of another type is refused by S3, not by the
// page.
//
// PutHandler is the same for a presigned PUT, for stores without POST
// Object or clients that upload by URL: the page describes the file (its
// name, type and size), and gets a URL signed for exactly that file.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
)

// Config is what a backend decides about its uploads.
type Config struct {
	// Signer signs every form. A backend builds one at start and shares
	// it; it keeps the day's signing key.
	Signer *postpolicy.Signer
	// Bucket is the bucket the page uploads to.
	Bucket string
	// MaxSize is the largest file accepted, in bytes.
	MaxSize int64
	// Lifetime is how long each signed form stays valid.
	Lifetime time.Duration
	// ContentTypes are the accepted content types: prefixes ending in
	// "/" (image/), exact types (application/pdf), or "" for any type.
	ContentTypes ContentTypes
	// KeyPrefix returns the key prefix of a user's uploads, such as
	// "users/NAME/".
	KeyPrefix func(user string) string
	// User returns the signed-in user of a request, from the
	// application's sessions.
	User func(r *http.Request) (string, bool)
	// ErrorLog, when set, receives the errors behind 500 answers.
	ErrorLog func(r *http.Request, err error)
}

// Uploads is the form endpoint: GET with ?content_type=TYPE, the type of
// the file the page is about to upload, answers a form for the signed-in
// user as postpolicy.FormHandler does: 200 and the form's JSON, 401
// without a session, 403 for a type that is not accepted.
type Uploads struct {
	cfg      Config
	template *postpolicy.Template
	handler  postpolicy.FormHandler
}

// New prepares the conditions every form shares (the bucket, the size
// range, the success status and, with a single accepted type, the
// content type) and returns the endpoint. Its errors name what is wrong
// with cfg, as postpolicy's lint reports it.
func New(cfg Config) (*Uploads, error) {
	if len(cfg.ContentTypes) == 0 || cfg.KeyPrefix == nil || cfg.User == nil {
		return nil, errors.New("backend: Config needs ContentTypes, KeyPrefix and User")
	}
	fixed := []postpolicy.Condition{
		postpolicy.Bucket(cfg.Bucket),
		postpolicy.ContentLengthRange(1, cfg.MaxSize),
		// 201: S3 answers with XML naming the object, which the page reads.
		postpolicy.SuccessActionStatus(http.StatusCreated),
	}
	if len(cfg.ContentTypes) == 1 {
		fixed = append(fixed, cfg.ContentTypes[0].Condition())
	}
	t, err := cfg.Signer.Prepare(cfg.Lifetime, fixed...)
	if err != nil {
		return nil, err
	}
	u := &Uploads{cfg: cfg, template: t}
	u.handler = postpolicy.FormHandler{Template: t, Conditions: u.conditions, ErrorLog: cfg.ErrorLog}
	return u, nil
}

// ServeHTTP answers a request for a form.
func (u *Uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.handler.ServeHTTP(w, r) }

// conditions returns the conditions of the request's form.
func (u *Uploads) conditions(r *http.Request) ([]postpolicy.Condition, error) {
	user, ok := u.cfg.User(r)
	if !ok {
		return nil, postpolicy.ErrUnauthenticated
	}
	return u.conditionsFor(user, r.URL.Query().Get("content_type"))
}

// conditionsFor returns the conditions of a form for user and a file of
// type contentType: the user's key prefix with the file's name and, with
// several accepted types, the one the file's type matches.
func (u *Uploads) conditionsFor(user, contentType string) ([]postpolicy.Condition, error) {
	conds := []postpolicy.Condition{postpolicy.Key(u.cfg.KeyPrefix(user) + "${filename}")}
	if len(u.cfg.ContentTypes) > 1 {
		ct, err := u.cfg.ContentTypes.For(contentType)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", postpolicy.ErrForbidden, err)
		}
		conds = append(conds, ct.Condition())
	}
	return conds, nil
}

// Sign signs a form for user and a file of type contentType, as the
// endpoint does, for a backend that renders the form itself
// (postpolicy.Form's WriteHTML) instead of answering JSON.
func (u *Uploads) Sign(ctx context.Context, user, contentType string) (*postpolicy.Form, error) {
	conds, err := u.conditionsFor(user, contentType)
	if err != nil {
		return nil, err
	}
	return u.template.Sign(ctx, conds...)
}

// Policy returns the policy the endpoint signs at signingTime for user and
// a file of type contentType, for printing and linting.
func (u *Uploads) Policy(user, contentType string, signingTime time.Time) (postpolicy.Policy, error) {
	conds, err := u.conditionsFor(user, contentType)
	if err != nil {
		return postpolicy.Policy{}, err
	}
	return u.template.Policy(signingTime, conds...), nil
}

// A ContentType is an accepted content type: a prefix ending in "/"
// (image/), an exact type (application/pdf), or "" for any type.
type ContentType string

// Condition returns the policy condition on Content-Type. The page sends
// the file's type, so the store, not the page, enforces it.
func (c ContentType) Condition() postpolicy.Condition {
	if c == "" || strings.HasSuffix(string(c), "/") {
		return postpolicy.ContentTypePrefix(string(c))
	}
	return postpolicy.ContentType(string(c)).FromPage()
}

// Matches reports whether the content type ct is accepted by c.
func (c ContentType) Matches(ct string) bool {
	if c == "" || strings.HasSuffix(string(c), "/") {
		return strings.HasPrefix(ct, string(c))
	}
	return ct == string(c)
}

// String returns c as a person reads it: "image/*", "application/pdf" or
// "any type".
func (c ContentType) String() string {
	switch {
	case c == "":
		return "any type"
	case strings.HasSuffix(string(c), "/"):
		return string(c) + "*"
	}
	return string(c)
}

// ContentTypes are the accepted content types, in order.
type ContentTypes []ContentType

// String returns the types as a list: "image/*, application/pdf".
func (cs ContentTypes) String() string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// For returns the first accepted type that the type of a file, ct, matches,
// or an error that says why none does.
func (cs ContentTypes) For(ct string) (ContentType, error) {
	switch {
	case ct == "":
		return "", fmt.Errorf("say the file's type (content_type=...); accepted: %s", cs)
	case !ValidContentType(ct):
		return "", fmt.Errorf("%q is not a content type such as image/png; accepted: %s", ct, cs)
	}
	for _, c := range cs {
		if c.Matches(ct) {
			return c, nil
		}
	}
	return "", fmt.Errorf("files of type %s are not accepted here; accepted: %s", ct, cs)
}

// ValidContentType reports whether ct is a MIME type as a page may send
// it: type/subtype of tokens, without parameters or commas (S3 reads a
// Content-Type with commas as a list, "Creating a POST Policy").
func ValidContentType(ct string) bool {
	typ, sub, ok := strings.Cut(ct, "/")
	return ok && MIMEToken(typ) && MIMEToken(sub)
}

// MIMEToken reports whether s is a non-empty token of a MIME type as
// browsers write them: lower-case letters, digits and !#$&^_.+-.
func MIMEToken(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&^_.+-", c) >= 0) {
			return false
		}
	}
	return true
}
