package receiver_test

import (
	"encoding/xml"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy/receiver"
)

type listedUploads struct {
	XMLName            xml.Name
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Uploads            []struct {
		Key          string
		UploadID     string `xml:"UploadId"`
		StorageClass string
		Initiated    string
	} `xml:"Upload"`
}

// listUploads sends ListMultipartUploads with params.
func (c *mp) listUploads(params ...[2]string) (response, listedUploads) {
	c.t.Helper()
	r := c.do(c.request("GET", "", append([][2]string{{"uploads", ""}}, params...), nil, nil))
	var l listedUploads
	if r.status == 200 {
		if err := xml.Unmarshal([]byte(r.body), &l); err != nil {
			c.t.Fatalf("ListMultipartUploads: %v: %s", err, r.body)
		}
	}
	return r, l
}

// ids returns the "key id" pairs of a listing, in order.
func (l listedUploads) ids() [][2]string {
	var out [][2]string
	for _, u := range l.Uploads {
		out = append(out, [2]string{u.Key, u.UploadID})
	}
	return out
}

// TestListMultipartUploads lists the uploads in progress: by key, those
// of one key in the order they were initiated, under a prefix, by pages
// (max-uploads with key-marker and upload-id-marker), signed in the URL
// or the Authorization header, path-style or virtual-hosted; completed,
// aborted and expired uploads are not listed; delimiter is
// NotImplemented; an anonymous listing is AccessDenied.
func TestListMultipartUploads(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newHandlerFixture(t, func(h *receiver.Handler) {
		h.MinPartSize = -1
		h.MultipartExpiry = 2 * time.Hour
		h.Verifier.ClockSkew = 24 * time.Hour
		h.Verifier.Now = clock
	})
	f.ts4.now = clock
	c := &mp{f: f, t: t}

	old := c.create("users/bob/old")
	advance(90 * time.Minute)
	b1 := c.create("users/alice/b")
	advance(time.Second)
	a := c.create("users/alice/a")
	advance(time.Second)
	b2 := c.create("users/alice/b") // a second upload of the same key
	advance(time.Second)
	done := c.create("users/alice/done")
	gone := c.create("users/alice/gone")
	other := c.create("other")
	etag := c.mustPart("users/alice/done", done, 1, seeded(1, 10))
	if r := c.complete("users/alice/done", done, completeBody(1, etag)); r.status != 200 {
		t.Fatalf("Complete: %d %s", r.status, r.body)
	}
	if r := c.abort("users/alice/gone", gone); r.status != 204 {
		t.Fatalf("Abort: %d %s", r.status, r.body)
	}

	r, l := c.listUploads()
	want := [][2]string{{"other", other}, {"users/alice/a", a}, {"users/alice/b", b1}, {"users/alice/b", b2}, {"users/bob/old", old}}
	if r.status != 200 || l.XMLName.Local != "ListMultipartUploadsResult" || l.XMLName.Space != "http://s3.amazonaws.com/doc/2006-03-01/" ||
		l.Bucket != "uploads" || l.MaxUploads != 1000 || l.IsTruncated {
		t.Fatalf("ListMultipartUploads: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(want, l.ids()); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if u := l.Uploads[4]; u.Initiated != "2025-03-01T12:00:00.000Z" || u.StorageClass != "STANDARD" {
		t.Errorf("upload %+v", u)
	}

	// Under a prefix, by pages of two, signed in the header, virtual-hosted.
	h := &mp{f: f, t: t, header: true, virtual: true}
	var got [][2]string
	params := [][2]string{{"prefix", "users/alice/"}, {"max-uploads", "2"}}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("listing does not end")
		}
		r, l := h.listUploads(params...)
		if r.status != 200 || l.Prefix != "users/alice/" || l.MaxUploads != 2 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		got = append(got, l.ids()...)
		if !l.IsTruncated {
			break
		}
		params = [][2]string{{"prefix", "users/alice/"}, {"max-uploads", "2"}, {"key-marker", l.NextKeyMarker}, {"upload-id-marker", l.NextUploadIDMarker}}
	}
	if diff := cmp.Diff(want[1:4], got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	// key-marker alone skips every upload of that key.
	if _, l := c.listUploads([2]string{"key-marker", "users/alice/a"}); !cmp.Equal(l.ids(), want[2:]) {
		t.Errorf("after key-marker: %v", l.ids())
	}

	// Expired uploads are not listed.
	advance(31 * time.Minute) // old is two hours old
	if _, l := c.listUploads([2]string{"prefix", "users/bob/"}); len(l.Uploads) != 0 {
		t.Errorf("expired upload listed: %v", l.ids())
	}

	if r, _ := c.listUploads([2]string{"delimiter", "/"}); r.status != http.StatusNotImplemented || r.code() != "NotImplemented" {
		t.Errorf("delimiter: %d %s", r.status, r.body)
	}
	if r, _ := c.listUploads([2]string{"max-uploads", "x"}); r.status != 400 || r.code() != "InvalidArgument" {
		t.Errorf("max-uploads=x: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest("GET", f.ts.URL+"/uploads?uploads", nil)
	if r := f.do(t, req); r.status != 403 || r.code() != "AccessDenied" {
		t.Errorf("anonymous listing: %d %s", r.status, r.body)
	}
}
