package postpolicy

import (
	"errors"
	"net/http"
	"sync"
)

// ErrUnauthenticated, returned (or wrapped) by a [FormHandler]'s Policy
// function, makes the handler answer 401 Unauthorized.
var ErrUnauthenticated = errors.New("postpolicy: not signed in")

// ErrForbidden, returned (or wrapped) by a [FormHandler]'s Policy function,
// makes the handler answer 403 Forbidden.
var ErrForbidden = errors.New("postpolicy: not allowed to upload")

// FormHandler is the backend endpoint a page calls to get a freshly signed
// upload form. For each request it asks Policy for the policy of the
// signed-in user (the application authenticates the request there), signs
// it, and answers 200 with the form as JSON (the bytes of
// [Form.MarshalJSON], written by [Signer.AppendFormJSON]) and
// Cache-Control: no-store. It answers 401 or 403 when Policy returns
// [ErrUnauthenticated] or [ErrForbidden], 405 to methods other than GET and
// POST, and 500 for any other error. Response bodies never carry error
// details, so nothing about the credentials or the policy's problems leaks
// to the browser; ErrorLog receives them.
type FormHandler struct {
	// Signer signs the forms. Required.
	Signer *Signer
	// Policy returns the policy for an authorised request. Required.
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
	p, err := h.Policy(r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		jsonError(w, http.StatusUnauthorized, "sign in to upload")
		return
	case errors.Is(err, ErrForbidden):
		jsonError(w, http.StatusForbidden, "not allowed to upload")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	buf := formBufs.Get().(*[]byte)
	defer formBufs.Put(buf)
	body, err := h.Signer.AppendFormJSON(r.Context(), (*buf)[:0], p)
	if err != nil {
		h.fail(w, r, err)
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

// formBufs holds the buffers FormHandler writes forms into; one that grew
// past maxPooledForm (S3's 20 KB limit on the form makes that unusual) is
// not kept.
var formBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledForm = 64 << 10

func (h *FormHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.ErrorLog != nil {
		h.ErrorLog(r, err)
	}
	jsonError(w, http.StatusInternalServerError, "could not sign an upload form")
}

// jsonError answers {"error": msg} with status.
func jsonError(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b := append(appendJSONString([]byte(`{"error":`), msg), '}')
	w.Write(b)
}
