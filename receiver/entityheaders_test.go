package receiver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// TestHandlerEntityHeaders checks that the standard headers S3 stores with
// an object (Cache-Control, Content-Disposition, Content-Encoding,
// Content-Language, Expires; "PutObject", "CreateMultipartUpload" and
// "POST Object" in the S3 API reference) are kept by a form upload, a
// presigned PUT and a multipart upload, answered by GET and HEAD, and
// replaced by a presigned GET's response-* parameters.
func TestHandlerEntityHeaders(t *testing.T) {
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.MinPartSize = -1 })
	ctx := context.Background()
	exp := time.Now().Add(5 * time.Minute)
	headersOf := func(r response) map[string]string {
		got := map[string]string{}
		for _, name := range []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"} {
			if v := r.header.Get(name); v != "" {
				got[name] = v
			}
		}
		return got
	}

	// A form whose policy allows Content-Disposition and Cache-Control,
	// with the field names in another case than the canonical one.
	form, err := f.signer.Sign(ctx, postpolicy.Policy{Expiration: exp, Conditions: []postpolicy.Condition{
		postpolicy.Bucket("uploads"),
		postpolicy.Key("form.txt"),
		postpolicy.Eq("content-disposition", `attachment; filename="report.txt"`),
		postpolicy.StartsWith("CACHE-CONTROL", "max-age=").WithFormValue("max-age=60"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := postpolicytest.NewRequest(form, nil, "form.txt", strings.NewReader("form"))
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, req); r.status != 204 {
		t.Fatalf("form upload: %d %s", r.status, r.body)
	}

	// A presigned PUT pinning three of them.
	put, err := f.signer.PresignPut(ctx, postpolicy.Policy{Expiration: exp, Conditions: []postpolicy.Condition{
		postpolicy.Bucket("uploads"),
		postpolicy.Key("put.txt"),
		postpolicy.Eq("Content-Disposition", "inline"),
		postpolicy.Eq("Content-Language", "fr"),
		postpolicy.Eq("Expires", "Thu, 01 Dec 2044 16:00:00 GMT"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(t, presignedRequest(t, put, []byte("put"))); r.status != 200 {
		t.Fatalf("presigned PUT: %d %s", r.status, r.body)
	}

	// A multipart upload whose Create sets Cache-Control and
	// Content-Encoding.
	c := &mp{f: f, t: t}
	id := c.create("mp.txt", [2]string{"Cache-Control", "no-store"}, [2]string{"Content-Encoding", "identity"})
	etag := c.mustPart("mp.txt", id, 1, []byte("multipart"))
	if r := c.complete("mp.txt", id, completeBody(1, etag)); r.status != 200 {
		t.Fatalf("Complete: %d %s", r.status, r.body)
	}

	for key, want := range map[string]map[string]string{
		"form.txt": {"Content-Disposition": `attachment; filename="report.txt"`, "Cache-Control": "max-age=60"},
		"put.txt":  {"Content-Disposition": "inline", "Content-Language": "fr", "Expires": "Thu, 01 Dec 2044 16:00:00 GMT"},
		"mp.txt":   {"Cache-Control": "no-store", "Content-Encoding": "identity"},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			if diff := cmp.Diff(want, headersOf(f.anonymousGet(t, method, key))); diff != "" {
				t.Errorf("%s %s: headers (-want +got):\n%s", method, key, diff)
			}
		}
	}

	// A presigned GET's overrides replace the stored headers.
	g, err := f.signer.PresignGet(ctx, "uploads", "form.txt", exp, &postpolicy.GetOptions{ResponseContentDisposition: "inline"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.do(t, presignedRequest(t, g, nil))
	if got := headersOf(r); r.status != 200 || got["Content-Disposition"] != "inline" || got["Cache-Control"] != "max-age=60" {
		t.Errorf("presigned GET with response-content-disposition: %d %v", r.status, got)
	}

	// An object stored without any has none.
	f.store.Put(ctx, "uploads", "plain.txt", receiver.ObjectInfo{}, strings.NewReader("plain"))
	if got := headersOf(f.anonymousGet(t, http.MethodGet, "plain.txt")); len(got) != 0 {
		t.Errorf("plain object: %v", got)
	}
}
