package postpolicytest_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
)

// md5Hello is the MD5 of the 5 bytes "hello", the ETag S3 gives an object
// stored by one request (RFC 1321 test suite style value, widely quoted).
const md5Hello = "5d41402abc4b2a76b9719d911017c592"

func sign(t *testing.T, s *postpolicy.Signer, conds ...postpolicy.Condition) *postpolicy.Form {
	t.Helper()
	form, err := s.Sign(context.Background(), postpolicy.Policy{Expiration: time.Now().Add(5 * time.Minute), Conditions: conds})
	if err != nil {
		t.Fatal(err)
	}
	return form
}

func post(t *testing.T, srv *postpolicytest.Server, form *postpolicy.Form, page []postpolicy.Field, name, content string) (*http.Response, string) {
	t.Helper()
	req, err := postpolicytest.NewRequest(form, page, name, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://page.example")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func s3Code(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Code string }
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an S3 error document: %q", body)
	}
	return e.Code
}

func TestUploadAndReadBack(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	form := sign(t, srv.Signer(),
		postpolicy.Bucket("uploads"),
		postpolicy.Key("user-42/${filename}"),
		postpolicy.ContentTypePrefix("text/"),
		postpolicy.Meta("uploader", "user-42"),
		postpolicy.ContentLengthRange(1, 100),
	)
	if want := srv.URL + "/uploads"; form.URL != want {
		t.Fatalf("form URL %q, want %q", form.URL, want)
	}
	resp, body := post(t, srv, form, []postpolicy.Field{{Name: "Content-Type", Value: "text/plain"}}, "hello.txt", "hello")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") != `"`+md5Hello+`"` {
		t.Fatalf("upload answered %d ETag %q: %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("CORS headers missing on the upload answer: %v", resp.Header)
	}

	obj, ok := srv.Object("uploads", "user-42/hello.txt")
	if !ok || string(obj.Body) != "hello" || obj.ContentType != "text/plain" || obj.ETag != md5Hello || obj.Size != 5 {
		t.Fatalf("stored object = %+v, %v", obj, ok)
	}
	if diff := cmp.Diff([]postpolicy.Field{{Name: "x-amz-meta-uploader", Value: "user-42"}}, obj.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, srv.URL+"/uploads/user-42/hello.txt", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantBody := "hello"
		if method == http.MethodHead {
			wantBody = ""
		}
		got := []string{resp.Status, string(b), resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"), resp.Header.Get("ETag"), resp.Header.Get("X-Amz-Meta-Uploader")}
		want := []string{"200 OK", wantBody, "text/plain", "5", `"` + md5Hello + `"`, "user-42"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", method, diff)
		}
	}
}

func TestVirtualHostedStyle(t *testing.T) {
	srv := postpolicytest.NewServer("vhost-bucket")
	defer srv.Close()
	form := sign(t, srv.VirtualHostedSigner(), postpolicy.Bucket("vhost-bucket"), postpolicy.Key("a/b.txt"), postpolicy.SuccessActionStatus(201))
	u, _ := url.Parse(form.URL)
	if u.Hostname() != "vhost-bucket.localhost" || u.Path != "/" {
		t.Fatalf("form URL %q is not virtual-hosted", form.URL)
	}
	resp, body := post(t, srv, form, nil, "b.txt", "hello")
	var pr struct {
		Location, Bucket, Key, ETag string
	}
	if err := xml.Unmarshal([]byte(body), &pr); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload answered %d: %s (%v)", resp.StatusCode, body, err)
	}
	want := struct{ Location, Bucket, Key, ETag string }{u.Scheme + "://" + u.Host + "/a/b.txt", "vhost-bucket", "a/b.txt", `"` + md5Hello + `"`}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("PostResponse (-want +got):\n%s", diff)
	}
	if _, ok := srv.Object("vhost-bucket", "a/b.txt"); !ok {
		t.Error("object not stored")
	}
}

func TestRefusalsStoreNothing(t *testing.T) {
	srv := postpolicytest.NewServer()
	defer srv.Close()
	bucket := postpolicytest.DefaultBucket
	tests := []struct {
		name    string
		conds   []postpolicy.Condition
		page    []postpolicy.Field
		content string
		code    string
		status  int
	}{
		{"oversize", []postpolicy.Condition{postpolicy.ContentLengthRange(1, 4)}, nil, "hello", "EntityTooLarge", 400},
		{"undersize", []postpolicy.Condition{postpolicy.ContentLengthRange(6, 10)}, nil, "hello", "EntityTooSmall", 400},
		{"key outside prefix", []postpolicy.Condition{postpolicy.KeyPrefix("mine/")}, []postpolicy.Field{{Name: "key", Value: "yours/x"}}, "hello", "AccessDenied", 403},
		{"extra field", nil, []postpolicy.Field{{Name: "Cache-Control", Value: "no-cache"}}, "hello", "AccessDenied", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conds := append([]postpolicy.Condition{postpolicy.Bucket(bucket)}, tc.conds...)
			if len(tc.page) == 0 || tc.page[0].Name != "key" {
				conds = append(conds, postpolicy.Key("k/"+strings.ReplaceAll(tc.name, " ", "-")))
			}
			form := sign(t, srv.Signer(), conds...)
			resp, body := post(t, srv, form, tc.page, "f.txt", tc.content)
			if resp.StatusCode != tc.status || s3Code(t, body) != tc.code {
				t.Fatalf("answered %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
	if keys := srv.Store.Keys(bucket); len(keys) != 0 {
		t.Errorf("refused uploads stored %v", keys)
	}
}

func TestErrorsAndCORS(t *testing.T) {
	srv := postpolicytest.NewServer("b1")
	defer srv.Close()
	tests := []struct {
		method, path string
		header       map[string]string
		status       int
		code         string
	}{
		{"POST", "/nope", nil, 404, "NoSuchBucket"},
		{"GET", "/b1/missing", nil, 404, "NoSuchKey"},
		{"PUT", "/b1/k", nil, 403, "AccessDenied"}, // an anonymous PutObject
		{"PUT", "/b1", nil, 405, "MethodNotAllowed"},
		{"DELETE", "/b1/k", nil, 405, "MethodNotAllowed"},
		{"POST", "/b1/k?uploads", nil, 403, "AccessDenied"}, // an anonymous CreateMultipartUpload
		{"GET", "/b1", nil, 405, "MethodNotAllowed"},
		{"POST", "/b1", map[string]string{"Content-Type": "application/json"}, 412, "PreconditionFailed"},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("{}"))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || s3Code(t, string(b)) != tc.code {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.code)
		}
	}

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/b1", nil)
	req.Header.Set("Origin", "http://page.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "x-requested-with")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := []string{resp.Status, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Methods"), resp.Header.Get("Access-Control-Allow-Headers")}
	if diff := cmp.Diff([]string{"200 OK", "*", "POST", "x-requested-with"}, got); diff != "" {
		t.Errorf("preflight (-want +got):\n%s", diff)
	}
}

func TestRedirect(t *testing.T) {
	srv := postpolicytest.NewServer()
	defer srv.Close()
	form := sign(t, srv.Signer(), postpolicy.Bucket(postpolicytest.DefaultBucket), postpolicy.Key("dir/${filename}"),
		postpolicy.SuccessActionRedirect("https://app.example/done?from=upload"))
	resp, body := post(t, srv, form, nil, "a b.txt", "hello")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("answered %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	got := []string{loc.Host, loc.Path, q.Get("from"), q.Get("bucket"), q.Get("key"), q.Get("etag")}
	want := []string{"app.example", "/done", "upload", postpolicytest.DefaultBucket, "dir/a b.txt", `"` + md5Hello + `"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("redirect (-want +got):\n%s", diff)
	}
	if !strings.Contains(loc.RawQuery, "key=dir%2Fa+b.txt") {
		t.Errorf("key not form-encoded in %q", loc.RawQuery)
	}
}

// TestConcurrentUploads posts many uploads at once, half of them invalid:
// every valid one is stored intact, no invalid one is.
func TestConcurrentUploads(t *testing.T) {
	srv := postpolicytest.NewServer()
	defer srv.Close()
	signer := srv.Signer()
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("c/%d", i)
			form, err := signer.Sign(context.Background(), postpolicy.Policy{Expiration: time.Now().Add(time.Minute), Conditions: []postpolicy.Condition{
				postpolicy.Bucket(postpolicytest.DefaultBucket), postpolicy.Key(key), postpolicy.ContentLengthRange(0, 64)}})
			if err != nil {
				errs <- err
				return
			}
			content := strings.Repeat(fmt.Sprint(i%10), 32+(i%2)*64) // odd i: 96 bytes, over the limit
			req, _ := postpolicytest.NewRequest(form, nil, "f", strings.NewReader(content))
			resp, err := srv.Client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			obj, stored := srv.Object(postpolicytest.DefaultBucket, key)
			switch {
			case i%2 == 0 && (resp.StatusCode != 204 || string(obj.Body) != content):
				errs <- fmt.Errorf("%s: answered %d, stored %q", key, resp.StatusCode, obj.Body)
			case i%2 == 1 && (resp.StatusCode != 400 || stored):
				errs <- fmt.Errorf("%s: answered %d, stored %v", key, resp.StatusCode, stored)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(srv.Store.Keys(postpolicytest.DefaultBucket)); got != n/2 {
		t.Errorf("%d objects stored, want %d", got, n/2)
	}
}

// TestCORSOnlyForUploads checks that the Server lets pages of any origin
// upload and read the upload's answer, and no page of another origin read
// an object: GET and HEAD answers carry no CORS header, and a preflight
// for them is refused.
func TestCORSOnlyForUploads(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	form := sign(t, srv.Signer(), postpolicy.Bucket("uploads"), postpolicy.Key("k.txt"))
	resp, body := post(t, srv, form, nil, "k.txt", "hello")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("upload from another origin: %s, Access-Control-Allow-Origin %q: %s", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, srv.URL+"/uploads/k.txt", nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", method, resp.Status)
		}
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("%s from another origin: %s %q", method, h, v)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/uploads/k.txt", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of a GET: %s, Access-Control-Allow-Origin %q; want it refused", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestLocationDotSegments posts a key with ".." segments, which S3 stores
// as it is: the 201 answer's Location (header and PostResponse) must be a
// URL that a browser, which removes dot segments, still resolves to that
// object; a 303 redirect carries the key in its query, untouched.
func TestLocationDotSegments(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	const key = "user-42/../../other/x.txt"
	for _, tc := range []struct {
		name string
		cond postpolicy.Condition
	}{
		{"201", postpolicy.SuccessActionStatus(http.StatusCreated)},
		{"303", postpolicy.SuccessActionRedirect("https://app.example/done")},
	} {
		form := sign(t, srv.Signer(), postpolicy.Bucket("uploads"), postpolicy.KeyPrefix("user-42/"), tc.cond)
		resp, body := post(t, srv, form, []postpolicy.Field{{Name: "key", Value: key}}, "x.txt", "hello")
		loc := resp.Header.Get("Location")
		if tc.name == "303" {
			u, err := url.Parse(loc)
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("303: %s %q %v", resp.Status, loc, err)
			}
			base, _ := url.Parse("https://app.example/")
			if got := base.ResolveReference(u).Query().Get("key"); got != key {
				t.Errorf("the redirect's key, resolved: %q, want %q", got, key)
			}
			continue
		}
		var pr struct{ Location string }
		if err := xml.Unmarshal([]byte(body), &pr); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("201: %s %s", resp.Status, body)
		}
		for what, link := range map[string]string{"Location header": loc, "PostResponse Location": pr.Location} {
			ref, err := url.Parse(link)
			if err != nil {
				t.Fatalf("%s %q: %v", what, link, err)
			}
			base, _ := url.Parse(srv.URL + "/")
			u := base.ResolveReference(ref)
			if u.Path != "/uploads/"+key {
				t.Errorf("%s %q resolves to the path %q, want /uploads/%s", what, link, u.Path, key)
			}
			req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(b) != "hello" {
				t.Errorf("%s %q: GET %s answers %s %q", what, link, u, resp.Status, b)
			}
		}
	}
}
