package receiver_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// mp is a client of the multipart calls of a handlerFixture, signing each
// call with the test signer: in its URL (as Uppy does) or in its
// Authorization header (as a backend does), path-style or
// virtual-hosted.
type mp struct {
	f       *handlerFixture
	t       testing.TB
	header  bool // sign in the Authorization header
	virtual bool // BUCKET.localhost
}

func (c *mp) request(method, key string, query [][2]string, header [][2]string, body []byte) *http.Request {
	r := s3Request{method: method, base: c.f.ts.URL, path: "/uploads/" + key, query: query, header: header, body: body}
	if c.virtual {
		_, port, _ := net.SplitHostPort(c.f.ts.Listener.Addr().String())
		r.base, r.path = "http://uploads.localhost:"+port, "/"+key
	}
	if c.header {
		return c.f.ts4.headerSigned(c.t, r, "")
	}
	return c.f.ts4.presigned(c.t, r)
}

func (c *mp) do(req *http.Request) response { return c.f.do(c.t, req) }

// create starts an upload of key and returns its id.
func (c *mp) create(key string, header ...[2]string) string {
	c.t.Helper()
	r := c.do(c.request("POST", key, [][2]string{{"uploads", ""}}, header, nil))
	var res struct {
		XMLName  xml.Name
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal([]byte(r.body), &res); err != nil || r.status != 200 || res.XMLName.Local != "InitiateMultipartUploadResult" ||
		res.XMLName.Space != "http://s3.amazonaws.com/doc/2006-03-01/" || res.Bucket != "uploads" || res.Key != key || len(res.UploadID) < 20 {
		c.t.Fatalf("CreateMultipartUpload: %d %s (%v)", r.status, r.body, err)
	}
	return res.UploadID
}

func partQuery(id string, n int) [][2]string {
	return [][2]string{{"partNumber", strconv.Itoa(n)}, {"uploadId", id}}
}

// part uploads part n.
func (c *mp) part(key, id string, n int, body []byte) response {
	return c.do(c.request("PUT", key, partQuery(id, n), nil, body))
}

// mustPart uploads part n and checks its ETag.
func (c *mp) mustPart(key, id string, n int, body []byte) string {
	c.t.Helper()
	r := c.part(key, id, n, body)
	if want := `"` + md5Hex(body) + `"`; r.status != 200 || r.header.Get("ETag") != want {
		c.t.Fatalf("UploadPart %d: %d, ETag %q (want %q): %s", n, r.status, r.header.Get("ETag"), want, r.body)
	}
	return r.header.Get("ETag")
}

type listed struct {
	XMLName              xml.Name
	Bucket, Key          string
	UploadID             string `xml:"UploadId"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []listedPart `xml:"Part"`
}

type listedPart struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

func (c *mp) list(key, id string, params ...[2]string) (response, listed) {
	r := c.do(c.request("GET", key, append([][2]string{{"uploadId", id}}, params...), nil, nil))
	var l listed
	if r.status == 200 {
		if err := xml.Unmarshal([]byte(r.body), &l); err != nil {
			c.t.Fatalf("ListParts: %v: %s", err, r.body)
		}
	}
	return r, l
}

// completeBody is the body of a CompleteMultipartUpload, as the SDKs write
// it, of parts numbered and tagged.
func completeBody(parts ...any) []byte {
	var b strings.Builder
	b.WriteString(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for i := 0; i+1 < len(parts); i += 2 {
		fmt.Fprintf(&b, "<Part><ETag>%s</ETag><PartNumber>%d</PartNumber></Part>", strings.ReplaceAll(parts[i+1].(string), `"`, "&quot;"), parts[i].(int))
	}
	b.WriteString("</CompleteMultipartUpload>")
	return []byte(b.String())
}

func (c *mp) complete(key, id string, body []byte) response {
	return c.do(c.request("POST", key, [][2]string{{"uploadId", id}}, nil, body))
}

func (c *mp) abort(key, id string) response {
	return c.do(c.request("DELETE", key, [][2]string{{"uploadId", id}}, nil, nil))
}

// multipartETag computes S3's ETag of an object of parts, independently of
// the receiver: the MD5 of the parts' MD5s, "-", their number.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	s := md5.Sum(sums)
	return hex.EncodeToString(s[:]) + "-" + strconv.Itoa(len(parts))
}

func seeded(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

func partFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestMultipartFlow runs a whole multipart upload, signed by presigned URLs
// and by Authorization headers, path-style and virtual-hosted, parts in
// memory and in PartDir: three parts uploaded out of order and one
// uploaded again, listed (whole and by pages), completed; the object holds
// the parts' bytes in order, S3's multipart ETag (computed here
// independently), and the Content-Type and metadata of the Create; the
// upload is then gone, and so are its part files.
func TestMultipartFlow(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		header, virtual, onDisk bool
	}{
		{"presigned", false, false, false},
		{"header-signed", true, false, false},
		{"presigned virtual-hosted PartDir", false, true, true},
		{"header-signed virtual-hosted PartDir", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ""
			if tc.onDisk {
				dir = t.TempDir()
			}
			f := newHandlerFixture(t, func(h *receiver.Handler) { h.MinPartSize = 1000; h.PartDir = dir })
			c := &mp{f: f, t: t, header: tc.header, virtual: tc.virtual}
			const key = "videos/a b+c.mp4"
			id := c.create(key, [2]string{"Content-Type", "video/mp4"}, [2]string{"X-Amz-Meta-Owner", "alice"})
			p1, p2, p2b, p3 := seeded(1, 1000), seeded(2, 1500), seeded(9, 1200), seeded(3, 10)
			c.mustPart(key, id, 3, p3)
			c.mustPart(key, id, 1, p1)
			c.mustPart(key, id, 2, p2)
			if dir != "" && len(partFiles(t, dir)) != 3 {
				t.Errorf("part files: %v", partFiles(t, dir))
			}
			e2 := c.mustPart(key, id, 2, p2b) // replaces part 2
			if dir != "" && len(partFiles(t, dir)) != 3 {
				t.Errorf("part files after part 2 again: %v", partFiles(t, dir))
			}

			r, l := c.list(key, id)
			var got []string
			for _, p := range l.Parts {
				got = append(got, fmt.Sprintf("%d %s %d", p.PartNumber, p.ETag, p.Size))
				if _, err := time.Parse("2006-01-02T15:04:05.000Z", p.LastModified); err != nil {
					t.Errorf("LastModified %q: %v", p.LastModified, err)
				}
			}
			want := []string{`1 "` + md5Hex(p1) + `" 1000`, `2 "` + md5Hex(p2b) + `" 1200`, `3 "` + md5Hex(p3) + `" 10`}
			if diff := cmp.Diff(want, got); diff != "" || r.status != 200 || l.XMLName.Local != "ListPartsResult" || l.UploadID != id || l.Key != key ||
				l.MaxParts != 1000 || l.IsTruncated || l.NextPartNumberMarker != 3 {
				t.Errorf("ListParts %d %+v (-want +got):\n%s", r.status, l, diff)
			}
			_, page1 := c.list(key, id, [2]string{"max-parts", "2"})
			_, page2 := c.list(key, id, [2]string{"max-parts", "2"}, [2]string{"part-number-marker", strconv.Itoa(page1.NextPartNumberMarker)})
			if len(page1.Parts) != 2 || !page1.IsTruncated || page1.NextPartNumberMarker != 2 || page1.MaxParts != 2 ||
				len(page2.Parts) != 1 || page2.Parts[0].PartNumber != 3 || page2.IsTruncated || page2.PartNumberMarker != 2 {
				t.Errorf("pages: %+v, %+v", page1, page2)
			}

			// The ETags as listed (quoted) and bare.
			r = c.complete(key, id, completeBody(1, `"`+md5Hex(p1)+`"`, 2, strings.Trim(e2, `"`), 3, `"`+md5Hex(p3)+`"`))
			var res struct {
				XMLName                     xml.Name
				Location, Bucket, Key, ETag string
			}
			wantETag := multipartETag(p1, p2b, p3)
			if err := xml.Unmarshal([]byte(r.body), &res); err != nil || r.status != 200 || res.XMLName.Local != "CompleteMultipartUploadResult" ||
				res.Bucket != "uploads" || res.Key != key || res.ETag != `"`+wantETag+`"` {
				t.Fatalf("Complete: %d %s", r.status, r.body)
			}
			loc, err := url.Parse(res.Location)
			if err != nil || (loc.Path != "/uploads/"+key && loc.Path != "/"+key) {
				t.Errorf("Location %q", res.Location)
			}
			obj, ok := f.store.Object("uploads", key)
			whole := slices.Concat(p1, p2b, p3)
			if !ok || string(obj.Body) != string(whole) || obj.ETag != wantETag || obj.ContentType != "video/mp4" ||
				!cmp.Equal(obj.Metadata, []postpolicy.Field{{Name: "x-amz-meta-owner", Value: "alice"}}) {
				t.Errorf("object: %v, size %d, ETag %q, %q, %v", ok, len(obj.Body), obj.ETag, obj.ContentType, obj.Metadata)
			}
			g := f.anonymousGet(t, "GET", key)
			if g.status != 200 || g.body != string(whole) || g.header.Get("ETag") != `"`+wantETag+`"` {
				t.Errorf("GET: %d, ETag %q", g.status, g.header.Get("ETag"))
			}

			// Gone: every call naming the upload is NoSuchUpload.
			for what, r := range map[string]response{
				"UploadPart": c.part(key, id, 4, p3),
				"ListParts":  firstOf(c.list(key, id)),
				"Complete":   c.complete(key, id, completeBody(1, md5Hex(p1))),
				"Abort":      c.abort(key, id),
			} {
				if r.status != 404 || r.code() != "NoSuchUpload" || !strings.Contains(r.body, "<UploadId>"+id+"</UploadId>") {
					t.Errorf("%s after Complete: %d %s", what, r.status, r.body)
				}
			}
			if dir != "" && len(partFiles(t, dir)) != 0 {
				t.Errorf("part files after Complete: %v", partFiles(t, dir))
			}
		})
	}
}

func firstOf[A, B any](a A, _ B) A { return a }

// TestMultipartErrors checks S3's refusals of the multipart calls.
func TestMultipartErrors(t *testing.T) {
	dir := t.TempDir()
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.PartDir = dir }) // MinPartSize: S3's 5 MiB
	c := &mp{f: f, t: t}
	const key = "k.bin"
	id := c.create(key)
	small, big := seeded(1, 100), seeded(2, 5<<20)
	e1 := c.mustPart(key, id, 1, small)
	e2 := c.mustPart(key, id, 2, big)
	e3 := c.mustPart(key, id, 3, small)
	other := c.create("other.bin")

	for _, tc := range []struct {
		name   string
		r      response
		status int
		code   string
		detail string
	}{
		{"parts in descending order", c.complete(key, id, completeBody(2, e2, 1, e1)), 400, "InvalidPartOrder",
			"The list of parts was not in ascending order. The parts list must be specified in order by part number."},
		{"a part twice", c.complete(key, id, completeBody(2, e2, 2, e2)), 400, "InvalidPartOrder", ""},
		{"a wrong ETag", c.complete(key, id, completeBody(2, e2, 3, `"`+md5Hex(big)+`"`)), 400, "InvalidPart",
			"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
		{"a part not uploaded", c.complete(key, id, completeBody(2, e2, 4, e3)), 400, "InvalidPart", "<PartNumber>4</PartNumber>"},
		{"a small part before the last", c.complete(key, id, completeBody(1, e1, 2, e2)), 400, "EntityTooSmall", "<MinSizeAllowed>5242880</MinSizeAllowed>"},
		{"no part", c.complete(key, id, completeBody()), 400, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema"},
		{"not XML", c.complete(key, id, []byte("<CompleteMultipartUpload><Part>")), 400, "MalformedXML", ""},
		{"another root", c.complete(key, id, []byte("<Delete><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part></Delete>")), 400, "MalformedXML", ""},
		{"a part number that is not a number", c.complete(key, id, []byte("<CompleteMultipartUpload><Part><PartNumber>two</PartNumber></Part></CompleteMultipartUpload>")), 400, "MalformedXML", ""},
		{"part number 0", c.part(key, id, 0, small), 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"},
		{"part number 10001", c.part(key, id, 10001, small), 400, "InvalidArgument", ""},
		{"part number x", c.do(c.request("PUT", key, [][2]string{{"partNumber", "x"}, {"uploadId", id}}, nil, small)), 400, "InvalidArgument", ""},
		{"no part number", c.do(c.request("PUT", key, [][2]string{{"uploadId", id}}, nil, small)), 400, "InvalidArgument", ""},
		{"an unknown upload id", c.part(key, "nope", 1, small), 404, "NoSuchUpload",
			"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
		{"the id of another key's upload", c.part(key, other, 1, small), 404, "NoSuchUpload", "<UploadId>" + other + "</UploadId>"},
		{"listing another key's upload", firstOf(c.list(key, other)), 404, "NoSuchUpload", ""},
		{"completing another key's upload", c.complete(key, other, completeBody(1, e1)), 404, "NoSuchUpload", ""},
		{"aborting another key's upload", c.abort(key, other), 404, "NoSuchUpload", ""},
		{"max-parts negative", firstOf(c.list(key, id, [2]string{"max-parts", "-1"})), 400, "InvalidArgument", "Argument max-parts must be an integer between 0 and 2147483647"},
		{"max-parts not a number", firstOf(c.list(key, id, [2]string{"max-parts", "many"})), 400, "InvalidArgument", "Provided max-parts not an integer or within integer range"},
		{"part-number-marker too large", firstOf(c.list(key, id, [2]string{"part-number-marker", "2147483648"})), 400, "InvalidArgument", ""},
		{"an anonymous ListParts", f.do(t, must(http.NewRequest("GET", f.ts.URL+"/uploads/"+key+"?uploadId="+id, nil))), 403, "AccessDenied", ""},
		{"an anonymous UploadPart", f.do(t, must(http.NewRequest("PUT", f.ts.URL+"/uploads/"+key+"?partNumber=1&uploadId="+id, strings.NewReader("x")))), 403, "AccessDenied", ""},
		{"an anonymous Create", f.do(t, must(http.NewRequest("POST", f.ts.URL+"/uploads/"+key+"?uploads", nil))), 403, "AccessDenied", ""},
		{"an anonymous Abort", f.do(t, must(http.NewRequest("DELETE", f.ts.URL+"/uploads/"+key+"?uploadId="+id, nil))), 403, "AccessDenied", ""},
		{"a Create of another bucket", c.do(c.f.ts4.presigned(t, s3Request{method: "POST", base: f.ts.URL, path: "/elsewhere/k", query: [][2]string{{"uploads", ""}}})), 404, "NoSuchBucket", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.status != tc.status || tc.r.code() != tc.code || !strings.Contains(tc.r.body, tc.detail) && !strings.Contains(tc.r.message(), tc.detail) {
				t.Errorf("%d %s, want %d %s (%q): %s", tc.r.status, tc.r.code(), tc.status, tc.code, tc.detail, tc.r.body)
			}
		})
	}
	if len(f.store.Keys("uploads")) != 0 {
		t.Errorf("refused calls stored %v", f.store.Keys("uploads"))
	}
	if _, l := c.list(key, id); len(l.Parts) != 3 {
		t.Errorf("the refusals changed the parts: %+v", l)
	}

	// The last part may be small; then the upload is gone.
	if r := c.complete(key, id, completeBody(2, e2, 3, e3)); r.status != 200 {
		t.Fatalf("Complete: %d %s", r.status, r.body)
	}
	if obj, _ := f.store.Object("uploads", key); string(obj.Body) != string(slices.Concat(big, small)) || obj.ETag != multipartETag(big, small) {
		t.Errorf("object of %d bytes, ETag %s", len(obj.Body), obj.ETag)
	}

	// Aborted: its parts deleted, every call NoSuchUpload.
	c.mustPart("other.bin", other, 1, small)
	if r := c.abort("other.bin", other); r.status != 204 || r.body != "" {
		t.Errorf("Abort: %d %s", r.status, r.body)
	}
	for what, r := range map[string]response{
		"UploadPart": c.part("other.bin", other, 2, small),
		"ListParts":  firstOf(c.list("other.bin", other)),
		"Complete":   c.complete("other.bin", other, completeBody(1, md5Hex(small))),
		"Abort":      c.abort("other.bin", other),
	} {
		if r.status != 404 || r.code() != "NoSuchUpload" {
			t.Errorf("%s after Abort: %d %s", what, r.status, r.body)
		}
	}
	if files := partFiles(t, dir); len(files) != 0 {
		t.Errorf("part files left: %v", files)
	}
}

// TestMultipartPartCutShort uploads a part whose body ends before its
// Content-Length (the client went away): IncompleteBody, and the earlier
// part of that number stays as it was, in memory and in PartDir (where no
// file is left of the broken one).
func TestMultipartPartCutShort(t *testing.T) {
	for _, onDisk := range []bool{false, true} {
		t.Run(fmt.Sprint("PartDir ", onDisk), func(t *testing.T) {
			dir := ""
			if onDisk {
				dir = t.TempDir()
			}
			f := newHandlerFixture(t, func(h *receiver.Handler) { h.PartDir = dir; h.MinPartSize = -1 })
			c := &mp{f: f, t: t}
			id := c.create("k")
			good := seeded(5, 3000)
			e1 := c.mustPart("k", id, 1, good)

			u, _ := url.Parse(f.ts4.presignURL(s3Request{method: "PUT", base: f.ts.URL, path: "/uploads/k", query: partQuery(id, 1)}, 900))
			raw := "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 5000\r\n\r\n" + string(seeded(7, 2500))
			if r := rawExchange(t, f.ts.Listener.Addr().String(), raw); r.status != 400 || r.code() != "IncompleteBody" {
				t.Errorf("a part cut short: %d %s", r.status, r.body)
			}
			if _, l := c.list("k", id); len(l.Parts) != 1 || l.Parts[0].ETag != e1 || l.Parts[0].Size != 3000 {
				t.Errorf("after a broken part 1: %+v", l.Parts)
			}
			if onDisk && len(partFiles(t, dir)) != 1 {
				t.Errorf("part files: %v", partFiles(t, dir))
			}
			if r := c.complete("k", id, completeBody(1, e1)); r.status != 200 {
				t.Fatalf("Complete: %d %s", r.status, r.body)
			}
			if obj, _ := f.store.Object("uploads", "k"); string(obj.Body) != string(good) {
				t.Errorf("object of %d bytes", len(obj.Body))
			}
		})
	}
}

// TestMultipartParallelParts uploads the parts of one upload at once, each
// part number twice with different content, then completes with the parts
// as listed: the object is the listed parts' content. Run with -race.
func TestMultipartParallelParts(t *testing.T) {
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.PartDir = t.TempDir(); h.MinPartSize = 1 })
	c := &mp{f: f, t: t}
	id := c.create("p")
	const n = 12
	content := func(part, version int) []byte { return seeded(byte(part*7+version), 2000+part*100+version) }
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 1; i <= n; i++ {
		for v := range 2 {
			wg.Go(func() {
				cc := &mp{f: f, t: t, header: v == 1}
				body := content(i, v)
				if r := cc.part("p", id, i, body); r.status != 200 || r.header.Get("ETag") != `"`+md5Hex(body)+`"` {
					errs <- fmt.Errorf("part %d version %d: %d %s", i, v, r.status, r.body)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, l := c.list("p", id)
	if len(l.Parts) != n {
		t.Fatalf("%d parts listed", len(l.Parts))
	}
	var parts []any
	var whole [][]byte
	for _, p := range l.Parts {
		parts = append(parts, p.PartNumber, p.ETag)
		for v := range 2 {
			if b := content(p.PartNumber, v); `"`+md5Hex(b)+`"` == p.ETag && int64(len(b)) == p.Size {
				whole = append(whole, b)
			}
		}
	}
	if len(whole) != n {
		t.Fatalf("listed parts match %d of the uploaded contents", len(whole))
	}
	if r := c.complete("p", id, completeBody(parts...)); r.status != 200 {
		t.Fatalf("Complete: %d %s", r.status, r.body)
	}
	if obj, _ := f.store.Object("uploads", "p"); string(obj.Body) != string(slices.Concat(whole...)) || obj.ETag != multipartETag(whole...) {
		t.Errorf("object of %d bytes, ETag %s", len(obj.Body), obj.ETag)
	}
	if files := partFiles(t, f.h.PartDir); len(files) != 0 {
		t.Errorf("part files left: %v", files)
	}
}

// gateStore is a Store whose Put, once started, waits for its gate (or the
// request's end) before it stores through MemoryStore; fail makes Put
// fail instead.
type gateStore struct {
	*receiver.MemoryStore
	started chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	fail    error
}

func (s *gateStore) Put(ctx context.Context, bucket, key string, info receiver.ObjectInfo, body io.Reader) (receiver.ObjectInfo, error) {
	s.mu.Lock()
	fail, started, gate := s.fail, s.started, s.gate
	s.mu.Unlock()
	if fail != nil {
		io.Copy(io.Discard, body)
		return receiver.ObjectInfo{}, fail
	}
	if started != nil {
		started <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	return s.MemoryStore.Put(ctx, bucket, key, info, body)
}

// TestMultipartCompleteRace checks the rule for calls made while a
// Complete streams the parts into the Store: the object is made of the
// parts as they were when the Complete began; a part uploaded meanwhile
// (a new one, or one replacing a completed part) is accepted, listed, and
// deleted with the upload; an Abort or a second Complete is 409
// OperationAborted.
func TestMultipartCompleteRace(t *testing.T) {
	dir := t.TempDir()
	store := &gateStore{MemoryStore: receiver.NewMemoryStore(), started: make(chan struct{}), gate: make(chan struct{})}
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.Store = store; h.PartDir = dir; h.MinPartSize = 1 })
	c := &mp{f: f, t: t}
	id := c.create("r")
	p1, p2 := seeded(1, 4000), seeded(2, 3000)
	e1, e2 := c.mustPart("r", id, 1, p1), c.mustPart("r", id, 2, p2)

	done := make(chan response)
	go func() { done <- c.complete("r", id, completeBody(1, e1, 2, e2)) }()
	<-store.started

	c.mustPart("r", id, 1, seeded(8, 4000)) // replaces a part being read
	c.mustPart("r", id, 3, seeded(9, 10))
	if _, l := c.list("r", id); len(l.Parts) != 3 || l.Parts[0].ETag == e1 {
		t.Errorf("listed during the Complete: %+v", l.Parts)
	}
	for what, r := range map[string]response{"Abort": c.abort("r", id), "another Complete": c.complete("r", id, completeBody(1, e1))} {
		if r.status != 409 || r.code() != "OperationAborted" {
			t.Errorf("%s during the Complete: %d %s", what, r.status, r.body)
		}
	}
	close(store.gate)
	if r := <-done; r.status != 200 || !strings.Contains(r.body, multipartETag(p1, p2)) {
		t.Fatalf("Complete: %d %s", r.status, r.body)
	}
	if obj, _ := store.Object("uploads", "r"); string(obj.Body) != string(slices.Concat(p1, p2)) {
		t.Errorf("object of %d bytes, not the parts the Complete named", len(obj.Body))
	}
	if r, _ := c.list("r", id); r.code() != "NoSuchUpload" {
		t.Errorf("ListParts after Complete: %d %s", r.status, r.body)
	}
	if files := partFiles(t, dir); len(files) != 0 {
		t.Errorf("part files left: %v", files)
	}
}

// TestMultipartCompleteFails checks that a Complete that fails, by the
// Store's error or because its client went away, stores nothing and
// leaves the upload and its parts for a retry, which succeeds.
func TestMultipartCompleteFails(t *testing.T) {
	dir := t.TempDir()
	store := &gateStore{MemoryStore: receiver.NewMemoryStore(), fail: errors.New("disk full")}
	var logged []error
	var mu sync.Mutex
	f := newHandlerFixture(t, func(h *receiver.Handler) {
		h.Store = store
		h.PartDir = dir
		h.MinPartSize = 1
		h.ErrorLog = func(_ *http.Request, err error) { mu.Lock(); logged = append(logged, err); mu.Unlock() }
	})
	c := &mp{f: f, t: t}
	id := c.create("f")
	p1, p2 := seeded(1, 100), seeded(2, 50)
	body := completeBody(1, c.mustPart("f", id, 1, p1), 2, c.mustPart("f", id, 2, p2))
	if r := c.complete("f", id, body); r.status != 500 || r.code() != "InternalError" || strings.Contains(r.body, "disk") {
		t.Errorf("Complete with a failing store: %d %s", r.status, r.body)
	}
	mu.Lock()
	if len(logged) != 1 || logged[0].Error() != "disk full" {
		t.Errorf("ErrorLog got %v", logged)
	}
	mu.Unlock()
	if _, l := c.list("f", id); len(l.Parts) != 2 || len(partFiles(t, dir)) != 2 {
		t.Errorf("after a failed Complete: %+v, files %v", l.Parts, partFiles(t, dir))
	}

	// The client goes away while the store waits.
	store.mu.Lock()
	store.fail, store.started, store.gate = nil, make(chan struct{}), make(chan struct{})
	store.mu.Unlock()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := f.client().Do(c.request("POST", "f", [][2]string{{"uploadId", id}}, nil, body).WithContext(ctx))
		errc <- err
	}()
	<-store.started
	cancel()
	if err := <-errc; err == nil {
		t.Error("the cancelled Complete got an answer")
	}
	// The handler ends once the store returns; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, l := c.list("f", id)
		if r.status != 200 {
			t.Fatalf("ListParts after the client went away: %d %s", r.status, r.body)
		}
		if _, ok := store.Object("uploads", "f"); ok {
			t.Fatal("a Complete whose client went away stored the object")
		}
		// A second Complete is refused while the first runs; then it
		// succeeds.
		store.mu.Lock()
		store.started = nil
		store.mu.Unlock()
		r = c.complete("f", id, body)
		if r.status == 200 {
			if len(l.Parts) != 2 {
				t.Errorf("parts before the retry: %+v", l.Parts)
			}
			break
		}
		if r.code() != "OperationAborted" || time.Now().After(deadline) {
			t.Fatalf("retried Complete: %d %s", r.status, r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if obj, _ := store.Object("uploads", "f"); string(obj.Body) != string(slices.Concat(p1, p2)) {
		t.Errorf("object of %d bytes after the retry", len(obj.Body))
	}
}

// md5Store is a Store that keeps only the MD5, size and ETag of what it
// is given: it holds no content in memory.
type md5Store struct {
	mu   sync.Mutex
	info receiver.ObjectInfo
	sum  string
}

func (s *md5Store) Put(_ context.Context, _, _ string, info receiver.ObjectInfo, body io.Reader) (receiver.ObjectInfo, error) {
	h := md5.New()
	n, err := io.Copy(h, body)
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	info.Size = n
	s.mu.Lock()
	s.info, s.sum = info, hex.EncodeToString(h.Sum(nil))
	s.mu.Unlock()
	return info, nil
}

func (s *md5Store) Get(context.Context, string, string) (receiver.ObjectInfo, io.ReadCloser, error) {
	return receiver.ObjectInfo{}, nil, receiver.ErrNoSuchKey
}

// seededReader yields n bytes of seeded(seed, ·), without holding them.
type seededReader struct {
	seed byte
	i, n int
}

func (p *seededReader) Read(b []byte) (int, error) {
	if p.i >= p.n {
		return 0, io.EOF
	}
	k := min(len(b), p.n-p.i)
	for j := range k {
		b[j] = p.seed + byte((p.i+j)%251)
	}
	p.i += k
	return k, nil
}

// TestMultipartPartDirMemory completes a 64 MiB upload of 8 parts of 8 MiB
// with PartDir into a store that keeps no content, and checks that memory
// stays constant in the object's size: the bytes allocated on the heap
// during the whole upload, client and server, are a small fraction of it.
func TestMultipartPartDirMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB upload")
	}
	store := &md5Store{}
	f := newHandlerFixture(t, func(h *receiver.Handler) { h.Store = store; h.PartDir = t.TempDir() })
	c := &mp{f: f, t: t}
	const parts, partSize = 8, 8 << 20
	id := c.create("big.bin")
	c.mustPart("big.bin", id, 1, seeded(0, 10)) // warm up the connection and the code paths
	c.abort("big.bin", id)
	id = c.create("big.bin")

	whole, sums := md5.New(), make([][]byte, 0, parts)
	var etags []any
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 1; i <= parts; i++ {
		r := s3Request{method: "PUT", base: f.ts.URL, path: "/uploads/big.bin", query: partQuery(id, i), bodyReader: &seededReader{seed: byte(i), n: partSize}, size: partSize}
		resp := c.do(f.ts4.presigned(t, r))
		if resp.status != 200 {
			t.Fatalf("part %d: %d %s", i, resp.status, resp.body)
		}
		etags = append(etags, i, resp.header.Get("ETag"))
	}
	resp := c.complete("big.bin", id, completeBody(etags...))
	runtime.ReadMemStats(&after)
	if resp.status != 200 {
		t.Fatalf("Complete: %d %s", resp.status, resp.body)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for a %d MiB upload; heap in use %d → %d KiB", allocated>>10, parts*partSize>>20, before.HeapInuse>>10, after.HeapInuse>>10)
	if allocated > 8<<20 {
		t.Errorf("allocated %d MiB during a %d MiB upload with PartDir", allocated>>20, parts*partSize>>20)
	}

	// The content and the ETag, computed here.
	for i := 1; i <= parts; i++ {
		h := md5.New()
		io.Copy(io.MultiWriter(h, whole), &seededReader{seed: byte(i), n: partSize})
		sums = append(sums, h.Sum(nil))
	}
	all := md5.Sum(slices.Concat(sums...))
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.sum != hex.EncodeToString(whole.Sum(nil)) || store.info.Size != parts*partSize || store.info.ETag != hex.EncodeToString(all[:])+"-8" {
		t.Errorf("stored %d bytes of MD5 %s, ETag %s", store.info.Size, store.sum, store.info.ETag)
	}
	if files := partFiles(t, f.h.PartDir); len(files) != 0 {
		t.Errorf("part files left: %v", files)
	}
}

// TestMultipartAbortStale checks MultipartExpiry: AbortStale aborts the
// uploads older than it (not younger ones) and deletes their parts; an
// expired upload is NoSuchUpload even before any sweep; a multipart call
// sweeps the expired uploads of other keys.
func TestMultipartAbortStale(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newHandlerFixture(t, func(h *receiver.Handler) {
		h.PartDir = dir
		h.MultipartExpiry = time.Hour
		h.Verifier.ClockSkew = 24 * time.Hour // the signatures stay valid as the clock moves
		h.Verifier.Now = clock
	})
	f.ts4.now = clock
	c := &mp{f: f, t: t}
	files := func(want int) {
		t.Helper()
		if got := partFiles(t, dir); len(got) != want {
			t.Errorf("part files %v, want %d", got, want)
		}
	}
	a, b := c.create("a"), c.create("b")
	c.mustPart("a", a, 1, seeded(1, 10))
	c.mustPart("b", b, 1, seeded(2, 10))
	advance(40 * time.Minute)
	young := c.create("c")
	c.mustPart("c", young, 1, seeded(3, 10))

	if n := f.h.AbortStale(clock().Add(10 * time.Minute)); n != 0 {
		t.Errorf("AbortStale before the expiry aborted %d", n)
	}
	advance(20 * time.Minute) // a and b are an hour old, c 20 minutes
	if n := f.h.AbortStale(clock()); n != 2 {
		t.Errorf("AbortStale aborted %d, want 2", n)
	}
	files(1)
	if r := c.part("a", a, 2, seeded(4, 10)); r.status != 404 || r.code() != "NoSuchUpload" {
		t.Errorf("a part of an aborted upload: %d %s", r.status, r.body)
	}

	// Expired between two sweeps: NoSuchUpload all the same.
	advance(39*time.Minute + 30*time.Second) // c is 59.5 minutes old
	if r, l := c.list("c", young); r.status != 200 || len(l.Parts) != 1 {
		t.Errorf("ListParts of c before its expiry: %d %s", r.status, r.body)
	}
	advance(40 * time.Second) // less than a minute since that call's sweep
	if r, _ := c.list("c", young); r.code() != "NoSuchUpload" {
		t.Errorf("ListParts of c after its expiry: %d %s", r.status, r.body)
	}
	files(0)

	// A multipart call sweeps the expired uploads of other keys.
	d, e := c.create("d"), c.create("e")
	c.mustPart("d", d, 1, seeded(5, 10))
	c.mustPart("e", e, 1, seeded(6, 10))
	files(2)
	advance(61 * time.Minute)
	c.create("f")
	files(0)
	if n := f.h.AbortStale(clock()); n != 0 {
		t.Errorf("AbortStale after the sweep aborted %d", n)
	}
}
