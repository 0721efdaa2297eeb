package postpolicy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// FormHandler is the backend endpoint a page calls to get a freshly signed
// upload form. For each request it asks the application for what to sign
// (the application authenticates the request there), signs it, and
// answers 200 with the form as JSON (the bytes of [Form.MarshalJSON]) and
// Cache-Control: no-store. It answers 401 when the application returns
// [ErrUnauthenticated], 403 when it returns an error wrapping
// [ErrForbidden] (with that error's text, "not allowed to upload: …",
// which the application writes for the user), 405 to methods other than
// GET and POST, and 500 for any other error. The bodies of 500 answers
// carry no details, so nothing about the credentials or the policy's
// problems leaks to the browser; ErrorLog receives them.
//
// A FormHandler signs in one of two ways: with a [Template] and
// Conditions, the request's conditions after the template's fixed ones
// (the fast path, for a backend whose policies share most conditions), or
// with a [Signer] and Policy, a whole policy per request.
type FormHandler struct {
	// Template signs the forms, with the conditions Conditions returns
	// for the request.
	Template *Template
	// Conditions returns the conditions of an authorised request, which
	// follow the Template's fixed ones.
	Conditions func(r *http.Request) ([]Condition, error)

	// Signer signs the forms, with the policy Policy returns for the
	// request, when Template is nil.
	Signer *Signer
	// Policy returns the policy of an authorised request.
	Policy func(r *http.Request) (Policy, error)

	// ErrorLog, when set, is called with the errors behind 500 answers.
	ErrorLog func(r *http.Request, err error)
}

// ServeHTTP answers one request for a form.
func (h *FormHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		jsonError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	buf := formBufs.Get().(*[]byte)
	defer formBufs.Put(buf)
	body, err := h.appendForm((*buf)[:0], r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		jsonError(w, http.StatusUnauthorized, "sign in to upload")
		return
	case errors.Is(err, ErrForbidden):
		// The application wrapped ErrForbidden to say why: that is for
		// the user.
		jsonError(w, http.StatusForbidden, strings.TrimPrefix(err.Error(), "postpolicy: "))
		return
	case err != nil:
		if h.ErrorLog != nil {
			h.ErrorLog(r, err)
		}
		jsonError(w, http.StatusInternalServerError, "could not sign an upload form")
		return
	}
	if cap(body) <= maxPooledForm {
		*buf = body[:0]
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// appendForm asks the application what to sign for r, signs it and
// appends the form's JSON to dst.
func (h *FormHandler) appendForm(dst []byte, r *http.Request) ([]byte, error) {
	switch {
	case h.Template != nil && h.Conditions != nil:
		conds, err := h.Conditions(r)
		if err != nil {
			return dst, err
		}
		return h.Template.AppendFormJSON(r.Context(), dst, conds...)
	case h.Template == nil && h.Signer != nil && h.Policy != nil:
		p, err := h.Policy(r)
		if err != nil {
			return dst, err
		}
		return h.Signer.AppendFormJSON(r.Context(), dst, p)
	}
	return dst, fmt.Errorf("postpolicy: a FormHandler needs Template and Conditions, or Signer and Policy")
}

// formBufs holds the buffers FormHandler writes forms into; one that grew
// past maxPooledForm (S3's 20 KB limit on the form makes that unusual) is
// not kept.
var formBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledForm = 64 << 10

// jsonError answers {"error": msg} with status.
func jsonError(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b := append(appendJSONString([]byte(`{"error":`), msg), '}')
	w.Write(b)
}
