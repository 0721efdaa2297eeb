package backend

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
)

// This file is the presigned PUT endpoint: where POST Object is not
// available, or a client uploads by URL only, the page describes the file
// it is about to send and gets a URL signed for exactly that file.

// PutRequest is what the page says of the file it is about to PUT: the
// JSON body of the endpoint, {"filename": …, "type": …, "size": …}.
type PutRequest struct {
	// Filename is the file's name, as File.name gives it.
	Filename string `json:"filename"`
	// Type is the file's content type, as File.type gives it.
	Type string `json:"type"`
	// Size is the file's size in bytes, as File.size gives it.
	Size int64 `json:"size"`
}

// A FileError says why a file cannot be uploaded: its name, type or size
// breaks one of the Config's rules. Its text is for the user.
type FileError struct{ Reason string }

func (e *FileError) Error() string { return e.Reason }

// maxFileName is the longest file name a key may end with, in bytes: the
// limit of common file systems, well within S3's 1,024-byte keys.
const maxFileName = 255

// FileName returns the name the key of a presigned PUT ends with for a
// file the page calls name: the part after its last '/' or '\' (browsers
// send a bare name; older ones sent a whole path, on Windows with '\'),
// which must be valid UTF-8, 1 to 255 bytes, without control characters,
// neither "." nor "..", and without "${filename}" (which postpolicy's lint
// refuses in a signed value). It is the name the POST form's ${filename}
// stands for, checked where S3 would take it as it comes; the error is a
// *FileError.
func FileName(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	switch {
	case name == "" || name == "." || name == "..":
		return "", &FileError{"the file needs a name (the part after the last / or \\), other than . or .."}
	case len(name) > maxFileName:
		return "", &FileError{"the file's name is longer than 255 bytes"}
	case !utf8.ValidString(name):
		return "", &FileError{"the file's name is not valid UTF-8"}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", &FileError{"the file's name holds a control character"}
	case strings.Contains(name, "${filename}"):
		return "", &FileError{"the file's name holds ${filename}"}
	}
	return name, nil
}

// PresignPut returns a presigned PUT for user's file described by f, and
// the key it uploads to: the user's key prefix and the file's name
// (FileName), Content-Type exactly f.Type (one of the accepted types),
// Content-Length exactly f.Size (1 byte to MaxSize), the metadata
// x-amz-meta-uploader: user, valid for Lifetime. The store refuses (403
// SignatureDoesNotMatch) a PUT with another type, another size or without
// these headers. A file that breaks a rule is a *FileError.
func (u *Uploads) PresignPut(ctx context.Context, user string, f PutRequest) (*postpolicy.Presigned, string, error) {
	name, err := FileName(f.Filename)
	if err != nil {
		return nil, "", err
	}
	key := u.cfg.KeyPrefix(user) + name
	switch {
	case len(key) > 1024:
		return nil, "", &FileError{"the file's name makes a key longer than S3's 1,024 bytes"}
	case f.Type == "":
		return nil, "", &FileError{"say the file's type; accepted: " + u.cfg.ContentTypes.String()}
	case f.Size < 1 || f.Size > u.cfg.MaxSize:
		return nil, "", &FileError{"a file must have 1 byte to " + sizeText(u.cfg.MaxSize) + "; this one has " + sizeText(f.Size)}
	}
	if _, err := u.cfg.ContentTypes.For(f.Type); err != nil {
		return nil, "", &FileError{err.Error()}
	}
	now := time.Now
	if u.cfg.Signer.Now != nil {
		now = u.cfg.Signer.Now
	}
	p, err := u.cfg.Signer.PresignPut(ctx, postpolicy.Policy{
		Expiration: now().Add(u.cfg.Lifetime),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket(u.cfg.Bucket),
			postpolicy.Eq("key", key),
			postpolicy.ContentType(f.Type),
			postpolicy.ContentLengthRange(f.Size, f.Size),
			postpolicy.Meta("uploader", user),
		},
	})
	return p, key, err
}

// PutHandler returns the presigned PUT endpoint: POST with a JSON
// PutRequest answers, for the signed-in user, 200 and the JSON of
// postpolicy.Presigned.MarshalJSON with the key added:
//
//	{"method":"PUT","url":"…","headers":{"Content-Length":"…","Content-Type":"…","x-amz-meta-uploader":"…"},"key":"users/NAME/photo.png"}
//
// The page sends the file with these headers, except those a browser sets
// itself (Content-Length, which fetch and XMLHttpRequest refuse to set:
// the browser sends the length of the file, the signed size). Errors are
// {"error": "…"}: 401 without a session, 400 for a file that breaks a
// rule (the text says which) or a body that is not such JSON, 415 for a
// body that is not application/json, 405 for other methods, 500 (with no
// detail; ErrorLog has it) when signing fails.
func (u *Uploads) PutHandler() http.Handler { return http.HandlerFunc(u.servePut) }

func (u *Uploads) servePut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	user, ok := u.cfg.User(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "sign in to upload")
		return
	}
	const want = `send the file's description as JSON: {"filename": …, "type": …, "size": …}`
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, want)
		return
	}
	var f PutRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&f); err != nil {
		writeError(w, http.StatusBadRequest, want)
		return
	}
	p, key, err := u.PresignPut(r.Context(), user, f)
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, fe.Reason)
		return
	case err != nil:
		if u.cfg.ErrorLog != nil {
			u.cfg.ErrorLog(r, err)
		}
		writeError(w, http.StatusInternalServerError, "could not sign an upload URL")
		return
	}
	b, err := p.MarshalJSON()
	if err != nil || len(b) == 0 || b[len(b)-1] != '}' {
		writeError(w, http.StatusInternalServerError, "could not sign an upload URL")
		return
	}
	k, _ := json.Marshal(key)
	b = append(append(append(b[:len(b)-1], `,"key":`...), k...), '}')
	writeJSON(w, http.StatusOK, b)
}

// writeJSON answers the JSON text b with status, never cached.
func writeJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers {"error": msg} with status, as postpolicy.FormHandler
// does.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeJSON(w, status, b)
}

// sizeText returns n bytes as a person reads them: "1 byte", "10 MiB" when
// exact in binary units, else "12345 bytes".
func sizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
