package receiver_test

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// TestHandlerScheme checks Handler.Scheme: behind a proxy that ends TLS
// the requests arrive over plain http, and the object URLs the Handler
// writes (a form upload's Location header and PostResponse, and
// CompleteMultipartUpload's Location) must still be https. Without
// Scheme they keep the scheme the request arrived with.
func TestHandlerScheme(t *testing.T) {
	for _, tc := range []struct{ scheme, want string }{{"", "http://"}, {"https", "https://"}} {
		f := newHandlerFixture(t, func(h *receiver.Handler) { h.Scheme = tc.scheme; h.MinPartSize = -1 })
		host := strings.TrimPrefix(f.ts.URL, "http://")

		form, err := f.signer.Sign(context.Background(), postpolicy.Policy{
			Expiration: time.Now().Add(5 * time.Minute),
			Conditions: []postpolicy.Condition{
				postpolicy.Bucket("uploads"),
				postpolicy.Key("a/b.txt"),
				postpolicy.SuccessActionStatus(201),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		req, err := postpolicytest.NewRequest(form, nil, "b.txt", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		r := f.do(t, req)
		var pr struct{ Location string }
		xml.Unmarshal([]byte(r.body), &pr)
		want := tc.want + host + "/uploads/a/b.txt"
		if r.status != 201 || r.header.Get("Location") != want || pr.Location != want {
			t.Errorf("Scheme %q: POST %d, Location header %q, PostResponse %q; want %q", tc.scheme, r.status, r.header.Get("Location"), pr.Location, want)
		}

		c := &mp{f: f, t: t}
		id := c.create("m.bin")
		etag := c.mustPart("m.bin", id, 1, []byte("part one"))
		r = c.complete("m.bin", id, completeBody(1, etag))
		var res struct{ Location string }
		xml.Unmarshal([]byte(r.body), &res)
		if want := tc.want + host + "/uploads/m.bin"; r.status != 200 || res.Location != want {
			t.Errorf("Scheme %q: Complete %d, Location %q; want %q (%s)", tc.scheme, r.status, res.Location, want, r.body)
		}
	}
}
