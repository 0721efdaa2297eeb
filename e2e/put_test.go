package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"
)

// The browser tests of serve's presigned PUT: the page asks POST /api/put
// for a URL signed for the file it describes (its name, exact type and
// exact size) and PUTs the file there with XMLHttpRequest, with the
// progress bar; the store refuses a PUT of other bytes than those signed.

// checkPut asserts that the page sent one PUT for the upload: to a URL of
// the object at objectURL, presigned, with the headers the backend signed
// set by the page except Content-Length (which a page may not set: the
// browser sent the file's length), and that the backend signed size bytes.
func checkPut(t *testing.T, u pageUpload, objectURL string, size int) {
	t.Helper()
	if len(u.Puts) != 1 || u.Puts[0].Status != http.StatusOK {
		t.Fatalf("the page got %d answers from /api/put, want one 200: %+v", len(u.Puts), u.Puts)
	}
	p := u.Puts[0]
	// The size is signed (X-Amz-SignedHeaders names content-length) but not
	// in the answer's headers, which a page sets: it may not set that one.
	if _, ok := p.Headers["Content-Length"]; ok || !strings.Contains(p.URL, "X-Amz-SignedHeaders=content-length%3B") {
		t.Errorf("/api/put answered headers %v and URL %s; want Content-Length signed in the URL, not in the headers", p.Headers, p.URL)
	}
	if len(u.XHRs) != 1 {
		t.Fatalf("the page made %d XMLHttpRequests for one upload, want 1", len(u.XHRs))
	}
	x := u.XHRs[0]
	if x.Method != http.MethodPut || x.URL != p.URL || !strings.HasPrefix(x.URL, objectURL+"?") || !strings.Contains(x.URL, "&X-Amz-Signature=") {
		t.Errorf("the page sent %s %s, want a PUT of the presigned %s?…", x.Method, x.URL, objectURL)
	}
	var want []string
	for name := range p.Headers {
		if !strings.EqualFold(name, "Content-Length") {
			want = append(want, strings.ToLower(name))
		}
	}
	var got []string
	for _, name := range x.Headers {
		got = append(got, strings.ToLower(name))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the page set the headers %q, want those signed but Content-Length: %q", got, want)
	}
	t.Logf("PUT: signed headers %v; the page set %q; the browser sent the %d bytes of the file", p.Headers, x.Headers, size)
}

// embeddedKeys returns the keys serve's embedded store holds in bucket
// under its -data directory data, read from the objects' metadata files
// (BUCKET/HASH.json, each with the object's "key").
func embeddedKeys(t *testing.T, data, bucket string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, bucket, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("metadata file %s: %v", f, err)
		}
		keys = append(keys, m.Key)
	}
	temps, _ := filepath.Glob(filepath.Join(data, bucket, ".tmp-*"))
	if len(temps) != 0 {
		t.Errorf("the embedded store holds temporary files: %q", temps)
	}
	slices.Sort(keys)
	return keys
}

// listKeys lists the keys of bucketName under prefix on versitygw.
func (s *server) listKeys(t *testing.T, bucketName, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucketName), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("ListObjectsV2 %s/%s: %v", bucketName, prefix, err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	slices.Sort(keys)
	return keys
}

// putServeCORS sets on bucketName the CORS rule serve printed at start,
// as its advice says: proof that the rule is enough for the page.
func (s *server) putServeCORS(t *testing.T, bucketName string, sp *serveProc) {
	t.Helper()
	out := sp.Stdout.String()
	i := strings.Index(out, "{\n  \"CORSRules\"")
	j := strings.Index(out[max(i, 0):], "\n}\n")
	if i < 0 || j < 0 {
		t.Fatalf("serve printed no CORS rule:\n%s", out)
	}
	var cfg struct {
		CORSRules []struct {
			AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders []string
			MaxAgeSeconds                                                 int32
		}
	}
	if err := json.Unmarshal([]byte(out[i:i+j+2]), &cfg); err != nil || len(cfg.CORSRules) != 1 {
		t.Fatalf("serve's CORS rule does not parse (%v):\n%s", err, out[i:i+j+2])
	}
	r := cfg.CORSRules[0]
	if !slices.Contains(r.AllowedMethods, "PUT") || !slices.Contains(r.ExposeHeaders, "ETag") || !slices.Contains(r.AllowedOrigins, sp.URL) {
		t.Errorf("serve's CORS rule %+v does not allow PUT from %s, or does not expose ETag", r, sp.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.S3.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: aws.String(bucketName),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposeHeaders,
			MaxAgeSeconds: aws.Int32(r.MaxAgeSeconds),
		}}},
	})
	if err != nil {
		t.Fatalf("setting serve's CORS rule on bucket %s: %v", bucketName, err)
	}
	t.Logf("bucket %s: serve's CORS rule, methods %v, exposing %v, for %v", bucketName, r.AllowedMethods, r.ExposeHeaders, r.AllowedOrigins)
}

// uploadTampered uploads the file at path with the page's PUT tampered as
// tamper says (see setTamper) and returns what the page showed.
func uploadTampered(t *testing.T, b *browser, path, tamper string) pageUpload {
	t.Helper()
	setTamper(t, b, tamper)
	defer setTamper(t, b, "null")
	return uploadFile(t, b, path)
}

// checkTamperedRefused asserts that the page's tampered PUT got a presigned
// URL, was sent, and was refused by the store with 403
// SignatureDoesNotMatch, which the page shows without a progress bar.
func checkTamperedRefused(t *testing.T, what string, u pageUpload) {
	t.Helper()
	if len(u.Puts) != 1 || u.Puts[0].Status != http.StatusOK || len(u.XHRs) != 1 || u.XHRs[0].Method != http.MethodPut {
		t.Fatalf("%s: the page did not get a presigned PUT and send it: %+v %+v", what, u.Puts, u.XHRs)
	}
	if st := u.XHRs[0].Status; st == nil || *st != http.StatusForbidden {
		t.Errorf("%s: the store answered the PUT with %v, want 403", what, st)
	}
	checkResult(t, what, u, "error", "Refused by the store", "SignatureDoesNotMatch")
	checkRefusedProgress(t, what, u)
}

// TestBrowserPutEmbedded uploads by presigned PUT from serve's page in
// headless Chromium to serve's embedded target: the choice of PUT is
// remembered, the file is sent with the progress bar and read back byte
// for byte; a PUT with one byte more than signed, or another Content-Type,
// is refused with SignatureDoesNotMatch and stores nothing; a file the
// backend will not sign for gets no URL.
func TestBrowserPutEmbedded(t *testing.T) {
	chrome := requireChrome(t)
	const bucketName = "e2e-embedded"
	data := t.TempDir()
	sp := startServe(t, serveEnv(),
		"-bucket", bucketName, "-data", data,
		"-max-size", serveMaxSize, "-content-types", "image/")

	b := newBrowser(t, chrome, "put-embedded")
	const user = "carol"
	signIn(t, b, sp.URL+"/", user)
	if m := checkedMethod(t, b); m != "post" {
		t.Errorf("the page starts with method %q, want post", m)
	}
	chooseMethod(t, b, "put")
	b.do(t, "reloading the page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("upload")))
	if m := checkedMethod(t, b); m != "put" {
		t.Fatalf("after a reload the page's method is %q, want put (remembered in localStorage)", m)
	}
	installRecorder(t, b)
	dir := t.TempDir()

	photo := noisePNG(t, 48, 40, 7)
	key := "users/" + user + "/photo.png"
	objectURL := sp.URL + "/" + bucketName + "/" + key
	u := uploadFile(t, b, writeFile(t, dir, "photo.png", photo))
	checkResult(t, "photo.png by PUT", u, "ok", "Uploaded:", key)
	checkProgress(t, u, len(photo))
	checkPut(t, u, objectURL, len(photo))
	checkServedObject(t, b, objectURL, photo, "image/png")
	t.Logf("#uploads: %q", listedUploads(t, b, "photo.png"))
	b.screenshot(t, "browser-embedded-put")

	// Tampered PUTs: the store refuses, and stores nothing.
	grown := noisePNG(t, 40, 40, 8)
	u = uploadTampered(t, b, writeFile(t, dir, "grown.png", grown), `{extraBytes: 1}`)
	checkTamperedRefused(t, "grown.png (one byte more than signed)", u)
	if s := u.XHRs[0].Size; s == nil || *s != int64(len(grown)+1) {
		t.Errorf("the tampered PUT sent %v bytes, want %d", s, len(grown)+1)
	}
	checkServedAbsent(t, b, sp.URL+"/"+bucketName+"/users/"+user+"/grown.png")
	u = uploadTampered(t, b, writeFile(t, dir, "retyped.png", grown), `{header: "Content-Type", value: "text/html"}`)
	checkTamperedRefused(t, "retyped.png (sent as text/html)", u)
	checkServedAbsent(t, b, sp.URL+"/"+bucketName+"/users/"+user+"/retyped.png")

	// Files the backend signs no URL for: the page says why, and sends
	// nothing.
	for _, f := range []struct {
		name    string
		content []byte
		says    string
	}{
		{"notes.txt", []byte("not an image\n"), "text/plain are not accepted here"},
		{"big.png", noisePNG(t, 200, 150, 9), "1 byte to 64 KiB"},
	} {
		u = uploadFile(t, b, writeFile(t, dir, f.name, f.content))
		checkResult(t, f.name, u, "error", "No upload URL:", f.says)
		if len(u.XHRs) != 0 || len(u.Puts) != 1 || u.Puts[0].Status != http.StatusBadRequest {
			t.Errorf("%s: /api/put answered %+v and the page sent %d requests; want 400 and none", f.name, u.Puts, len(u.XHRs))
		}
		checkRefusedProgress(t, f.name, u)
	}

	if keys := embeddedKeys(t, data, bucketName); !slices.Equal(keys, []string{key}) {
		t.Errorf("the embedded store holds %q, want only %s", keys, key)
	} else {
		t.Logf("the embedded store (%s) holds %q", filepath.Join(data, bucketName), keys)
	}

	// The choice goes back to POST, and the page posts again.
	chooseMethod(t, b, "post")
	second := noisePNG(t, 30, 30, 10)
	u = uploadFile(t, b, writeFile(t, dir, "second.png", second))
	checkResult(t, "second.png by POST", u, "ok", "Uploaded:", "users/"+user+"/second.png")
	if len(u.XHRs) != 1 || u.XHRs[0].Method != http.MethodPost || len(u.Puts) != 0 {
		t.Errorf("after choosing POST the page sent %+v", u.XHRs)
	}

	log := sp.Stderr.String()
	for _, want := range []string{"POST /api/put 200 ", "PUT /" + bucketName + "/" + key + " 200 ", "PUT /" + bucketName + "/users/" + user + "/grown.png 403 ",
		"POST /api/put 400 ", "POST /" + bucketName + " 201 "} {
		if !strings.Contains(log, want) {
			t.Errorf("serve's request log has no %q:\n%s", want, log)
		}
	}
}

// TestBrowserPutVersity uploads by presigned PUT from serve's page in
// headless Chromium to versitygw (serve -endpoint), across origins with
// the CORS rule serve prints: the file is stored with its type and the
// uploader's metadata and read back byte for byte; tampered PUTs are
// refused with SignatureDoesNotMatch and store nothing; and the list's
// link is a presigned GET that the browser opens.
func TestBrowserPutVersity(t *testing.T) {
	chrome := requireChrome(t)
	srv := startVersity(t)
	sp := startServe(t,
		serveEnv("AWS_ACCESS_KEY_ID="+rootAccessKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecretAccessKey),
		"-endpoint", srv.URL, "-bucket", bucket, "-region", region,
		"-max-size", serveMaxSize, "-content-types", "image/")
	srv.putServeCORS(t, bucket, sp)

	b := newBrowser(t, chrome, "put-versity")
	const user = "dave"
	signIn(t, b, sp.URL+"/", user)
	chooseMethod(t, b, "put")
	installRecorder(t, b)
	dir := t.TempDir()

	photo := noisePNG(t, 56, 40, 11)
	key := "users/" + user + "/photo.png"
	u := uploadFile(t, b, writeFile(t, dir, "photo.png", photo))
	checkResult(t, "photo.png by PUT", u, "ok", "Uploaded:", key)
	checkProgress(t, u, len(photo))
	checkPut(t, u, srv.URL+"/"+bucket+"/"+key, len(photo))
	srv.checkObject(t, bucket, key, photo, "image/png")
	if obj, err := srv.getObject(bucket, key); err != nil || obj.Metadata["uploader"] != user {
		t.Errorf("the object's metadata: %v (%v), want uploader %s", obj, err, user)
	}
	b.screenshot(t, "browser-versity-put")

	grown := noisePNG(t, 40, 40, 12)
	u = uploadTampered(t, b, writeFile(t, dir, "grown.png", grown), `{extraBytes: 1}`)
	checkTamperedRefused(t, "grown.png (one byte more than signed)", u)
	srv.checkAbsent(t, bucket, "users/"+user+"/grown.png")
	u = uploadTampered(t, b, writeFile(t, dir, "retyped.png", grown), `{header: "Content-Type", value: "image/gif"}`)
	checkTamperedRefused(t, "retyped.png (sent as image/gif)", u)
	srv.checkAbsent(t, bucket, "users/"+user+"/retyped.png")
	if keys := srv.listKeys(t, bucket, "users/"+user+"/"); !slices.Equal(keys, []string{key}) {
		t.Errorf("versitygw lists %q under users/%s/, want only %s", keys, user, key)
	} else {
		t.Logf("versitygw lists %q under users/%s/", keys, user)
	}

	// The list's link: a presigned GET of the object, which the browser
	// opens (as an image, the type serve's link asks for), and whose
	// bytes are the file's.
	listedUploads(t, b, "photo.png")
	link := b.eval(t, `Array.from(document.querySelectorAll("#uploads li a")).find((a) => a.textContent === "photo.png").href`)
	lu, err := url.Parse(link)
	if err != nil || lu.Scheme+"://"+lu.Host != srv.URL || lu.Path != "/"+bucket+"/"+key {
		t.Fatalf("the list links to %s, want versitygw's %s/%s/%s", link, srv.URL, bucket, key)
	}
	q := lu.Query()
	if q.Get("X-Amz-Expires") != "900" || q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Credential") == "" || q.Get("response-content-type") != "image/png" {
		t.Errorf("the link %s is not a presigned GET valid 900 s answering image/png", link)
	}
	if resp, _ := httpGet(t, srv.URL+lu.EscapedPath()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET of the object without the signature: %s, want 403", resp.Status)
	}
	b.do(t, "opening the link", chromedp.Navigate(link))
	if got := b.eval(t, `document.contentType`); got != "image/png" {
		t.Errorf("the browser opened the link as %q, want image/png", got)
	}
	if got := b.eval(t, `String(document.images.length && document.images[0].naturalWidth)`); got != "56" {
		t.Errorf("the browser shows an image %s pixels wide, want 56", got)
	}
	status, body, ct := pageFetch(t, b, link)
	if status != http.StatusOK || string(body) != string(photo) || ct != "image/png" {
		t.Errorf("GET of the link from its page: %d, %d bytes (identical %v), Content-Type %q", status, len(body), string(body) == string(photo), ct)
	} else {
		t.Logf("the link opens in the browser: 200, image/png, %d bytes, identical", len(body))
	}
	b.screenshot(t, "browser-versity-link")
}
