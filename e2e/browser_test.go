package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"

	"github.com/postpolicy/postpolicy"
)

// The sizes the browser tests upload, against serve's -max-size 64KiB: a
// small PNG, and a PNG well over the limit.
const (
	serveMaxSize      = "64KiB"
	serveMaxSizeBytes = 64 << 10
)

// putCORS sets on bucketName the CORS rule a page on origin needs to post
// uploads to it and read the answer, as serve advises.
func (s *server) putCORS(t *testing.T, bucketName, origin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.S3.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: aws.String(bucketName),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedOrigins: []string{origin},
			AllowedMethods: []string{"POST", "GET", "HEAD"},
			AllowedHeaders: []string{"*"},
			ExposeHeaders:  []string{"ETag", "Location"},
			MaxAgeSeconds:  aws.Int32(600),
		}}},
	})
	if err != nil {
		t.Fatalf("setting the CORS rule of bucket %s for origin %s: %v", bucketName, origin, err)
	}
}

// createBucket creates another bucket on the server.
func (s *server) createBucket(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

// checkObject reads bucketName/key back with the SDK and compares its
// bytes and Content-Type.
func (s *server) checkObject(t *testing.T, bucketName, key string, content []byte, contentType string) {
	t.Helper()
	obj, err := s.getObject(bucketName, key)
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucketName, key, err)
	}
	if !bytes.Equal(obj.Body, content) {
		t.Errorf("GetObject %s/%s: %d bytes that differ from the %d uploaded", bucketName, key, len(obj.Body), len(content))
	}
	if obj.ContentType != contentType {
		t.Errorf("GetObject %s/%s: Content-Type %q, want %q", bucketName, key, obj.ContentType, contentType)
	}
	t.Logf("GetObject %s/%s: %d bytes, identical, Content-Type %s, ETag %s", bucketName, key, len(obj.Body), obj.ContentType, obj.ETag)
}

// checkAbsent asserts that HeadObject of bucketName/key answers 404: a
// refused upload stored nothing.
func (s *server) checkAbsent(t *testing.T, bucketName, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
	if err == nil {
		t.Errorf("HeadObject %s/%s: an object of %d bytes is stored, want none", bucketName, key, aws.ToInt64(out.ContentLength))
		return
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusNotFound {
		t.Errorf("HeadObject %s/%s: want 404, got %v", bucketName, key, err)
		return
	}
	t.Logf("HeadObject %s/%s: 404, nothing stored", bucketName, key)
}

// checkResult asserts that the page's #result is in state want and its
// text holds each of texts.
func checkResult(t *testing.T, what string, u pageUpload, want string, texts ...string) {
	t.Helper()
	t.Logf("%s: #result data-state=%q: %q", what, u.State, u.Text)
	if u.State != want {
		t.Fatalf("%s: #result is %q (%q), want %q", what, u.State, u.Text, want)
	}
	for _, s := range texts {
		if !strings.Contains(u.Text, s) {
			t.Errorf("%s: #result %q does not mention %q", what, u.Text, s)
		}
	}
}

// TestBrowserUploadVersity drives serve's page in headless Chromium
// against versitygw: serve -endpoint signs the forms, the page posts them
// cross-origin (hence the bucket's CORS rule) straight to versitygw, which
// checks the policy.
//
// versitygw v1.8.0 does not expand ${filename} in the key (it stores the
// key as sent; its auth/post_policy.go has no substitution), while serve's
// forms carry the
// key users/NAME/${filename}: serve's page therefore puts the file's name
// into the key itself, which the policy's starts-with on users/NAME/
// allows, so that each upload gets its own key on any store.
func TestBrowserUploadVersity(t *testing.T) {
	chrome := requireChrome(t)
	srv := startVersity(t)
	sp := startServe(t,
		serveEnv("AWS_ACCESS_KEY_ID="+rootAccessKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecretAccessKey),
		"-endpoint", srv.URL, "-bucket", bucket, "-region", region,
		"-max-size", serveMaxSize, "-content-types", "image/")
	if !strings.Contains(sp.Stdout.String(), `"`+sp.URL+`"`) {
		t.Errorf("serve's CORS advice does not name the page's origin %s:\n%s", sp.URL, sp.Stdout)
	}
	srv.putCORS(t, bucket, sp.URL)

	b := newBrowser(t, chrome, "versity")
	const user = "alice"
	signIn(t, b, sp.URL+"/", user)
	installRecorder(t, b)
	dir := t.TempDir()

	// 1. Two uploads, each under its own key: the page puts the file's
	// name where the form's key has ${filename}.
	var first []byte
	for i, name := range []string{"first.png", "photo.png"} {
		content := noisePNG(t, 40+8*i, 30+2*i, uint64(1+i))
		if i == 0 {
			first = content
		}
		u := uploadFile(t, b, writeFile(t, dir, name, content))
		key := "users/" + user + "/" + name
		if len(u.Forms) != 1 || u.Forms[0].Key != "users/"+user+"/${filename}" {
			t.Errorf("the page got forms %+v, want one with key users/%s/${filename}", u.Forms, user)
		}
		checkResult(t, name, u, "ok", "Uploaded:", key)
		checkProgress(t, u, len(content))
		srv.checkObject(t, bucket, key, content, "image/png")
		t.Logf("#uploads: %q", listedUploads(t, b, name))
	}
	srv.checkAbsent(t, bucket, "users/"+user+"/${filename}")
	b.screenshot(t, "browser-versity-upload")

	// 2. Over -max-size: versitygw answers EntityTooLarge.
	big := noisePNG(t, 200, 150, 3)
	if len(big) <= serveMaxSizeBytes {
		t.Fatalf("the oversize PNG has %d bytes, not over %s", len(big), serveMaxSize)
	}
	u := uploadFile(t, b, writeFile(t, dir, "big.png", big))
	checkResult(t, "big.png (oversize)", u, "error", "Refused by the store", "EntityTooLarge")
	checkRefusedProgress(t, "big.png (oversize)", u)
	srv.checkAbsent(t, bucket, "users/"+user+"/big.png")

	// 3. Not an image: versitygw answers AccessDenied.
	u = uploadFile(t, b, writeFile(t, dir, "notes.txt", []byte("not an image\n")))
	checkResult(t, "notes.txt (text/plain)", u, "error", "Refused by the store", "AccessDenied")
	checkRefusedProgress(t, "notes.txt (text/plain)", u)
	srv.checkAbsent(t, bucket, "users/"+user+"/notes.txt")

	// The refusals left the first upload alone.
	srv.checkObject(t, bucket, "users/"+user+"/first.png", first, "image/png")
}

// TestBrowserUploadEmbedded drives serve's page in headless Chromium
// against serve's embedded S3 POST endpoint, on the page's own origin. The
// objects are read back from the page, with its session: the endpoint
// lets only their owner read them.
func TestBrowserUploadEmbedded(t *testing.T) {
	chrome := requireChrome(t)
	const bucketName = "e2e-embedded"
	sp := startServe(t, serveEnv(),
		"-bucket", bucketName, "-data", t.TempDir(),
		"-max-size", serveMaxSize, "-content-types", "image/")

	b := newBrowser(t, chrome, "embedded")
	const user = "bob"
	signIn(t, b, sp.URL+"/", user)
	installRecorder(t, b)
	dir := t.TempDir()

	photo := noisePNG(t, 48, 32, 4)
	u := uploadFile(t, b, writeFile(t, dir, "photo.png", photo))
	key := "users/" + user + "/photo.png"
	checkResult(t, "photo.png", u, "ok", "Uploaded:", key)
	checkProgress(t, u, len(photo))
	items := listedUploads(t, b, "photo.png")
	t.Logf("#uploads: %q", items)
	objectURL := sp.URL + "/" + bucketName + "/" + key
	checkServedObject(t, b, objectURL, photo, "image/png")
	if link := b.eval(t, `document.querySelector("#uploads li a").href`); link != objectURL {
		t.Errorf("the list links to %s, want %s", link, objectURL)
	}
	// Without the owner's session, the object is not served.
	if resp, body := httpGet(t, objectURL); resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) {
		t.Errorf("GET %s without a session: %s, want 403 AccessDenied: %.200s", objectURL, resp.Status, body)
	} else {
		t.Logf("GET %s without a session: 403 AccessDenied", objectURL)
	}
	b.screenshot(t, "browser-embedded-upload")

	big := noisePNG(t, 200, 150, 5)
	if len(big) <= serveMaxSizeBytes {
		t.Fatalf("the oversize PNG has %d bytes, not over %s", len(big), serveMaxSize)
	}
	u = uploadFile(t, b, writeFile(t, dir, "big.png", big))
	checkResult(t, "big.png (oversize)", u, "error", "Refused by the store", "EntityTooLarge")
	checkRefusedProgress(t, "big.png (oversize)", u)
	checkServedAbsent(t, b, sp.URL+"/"+bucketName+"/users/"+user+"/big.png")

	u = uploadFile(t, b, writeFile(t, dir, "notes.txt", []byte("not an image\n")))
	checkResult(t, "notes.txt (text/plain)", u, "error", "Refused by the store", "AccessDenied")
	checkRefusedProgress(t, "notes.txt (text/plain)", u)
	checkServedAbsent(t, b, sp.URL+"/"+bucketName+"/users/"+user+"/notes.txt")

	// serve's request log has the three POSTs and their statuses.
	log := sp.Stderr.String()
	for _, want := range []string{"POST /" + bucketName + " 201 ", "POST /" + bucketName + " 400 ", "POST /" + bucketName + " 403 "} {
		if !strings.Contains(log, want) {
			t.Errorf("serve's request log has no %q:\n%s", want, log)
		}
	}
}

// checkServedObject GETs url from the page, as its signed-in user, and
// compares the body and Content-Type.
func checkServedObject(t *testing.T, b *browser, url string, content []byte, contentType string) {
	t.Helper()
	status, body, ct := pageFetch(t, b, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s from the page: %d, want 200: %.200s", url, status, body)
	}
	if !bytes.Equal(body, content) {
		t.Errorf("GET %s from the page: %d bytes that differ from the %d uploaded", url, len(body), len(content))
	}
	if ct != contentType {
		t.Errorf("GET %s from the page: Content-Type %q, want %q", url, ct, contentType)
	}
	t.Logf("GET %s from the page: 200, %d bytes, identical, Content-Type %s", url, len(body), ct)
}

// checkServedAbsent asserts that GET url, from the page as its signed-in
// user (the owner of the key), answers 404.
func checkServedAbsent(t *testing.T, b *browser, url string) {
	t.Helper()
	status, body, _ := pageFetch(t, b, url)
	if status != http.StatusNotFound {
		t.Errorf("GET %s from the page: %d, want 404 (a refused upload must store nothing): %.200s", url, status, body)
		return
	}
	t.Logf("GET %s from the page: 404, nothing stored", url)
}

func httpGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, body
}

// fetchPage is the page TestBrowserFetchUpload serves from its own origin:
// the signed forms as JSON, the file's bytes in base64, and a function
// that posts one form with fetch or XMLHttpRequest.
var fetchPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fetch upload</title></head>
<body>
<script>
"use strict";
// The signed forms, as Form.MarshalJSON gives them, by name.
const forms = {{.Forms}};
const fileBytes = Uint8Array.from(atob({{.File}}), (c) => c.charCodeAt(0));

// formData returns the form's fields in order, then the file, last.
function formData(form) {
  const data = new FormData();
  for (const [name, value] of Object.entries(form.fields)) {
    data.append(name, value);
  }
  data.append("file", new Blob([fileBytes], { type: "image/png" }), "pixel.png");
  return data;
}

// uploadFetch posts the form with fetch: a CORS "simple" request (POST of
// multipart/form-data with no custom header), sent without a preflight.
async function uploadFetch(name) {
  const form = forms[name];
  try {
    const resp = await fetch(form.url, { method: "POST", body: formData(form) });
    return JSON.stringify({ status: resp.status, body: await resp.text(),
      etag: resp.headers.get("ETag"), location: resp.headers.get("Location") });
  } catch (e) {
    return JSON.stringify({ error: e.name + ": " + e.message });
  }
}

// uploadXHR posts the form as serve's page does: XMLHttpRequest with an
// upload progress listener, which makes the request preflighted.
function uploadXHR(name) {
  const form = forms[name];
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    let events = 0;
    xhr.upload.addEventListener("progress", () => { events++; });
    xhr.open("POST", form.url);
    xhr.addEventListener("load", () => resolve(JSON.stringify({ status: xhr.status, body: xhr.responseText, events: events })));
    xhr.addEventListener("error", () => resolve(JSON.stringify({ status: xhr.status, error: "error event", events: events })));
    xhr.send(formData(form));
  });
}
</script>
</body></html>
`))

// fetchAnswer is what the page's upload functions return.
type fetchAnswer struct {
	Status   int     `json:"status"`
	Body     string  `json:"body"`
	ETag     *string `json:"etag"`
	Location *string `json:"location"`
	Error    string  `json:"error"`
	Events   int     `json:"events"`
}

func (a fetchAnswer) String() string {
	var b strings.Builder
	if a.Error != "" {
		fmt.Fprintf(&b, "error %q, ", a.Error)
	}
	fmt.Fprintf(&b, "status %d", a.Status)
	if a.ETag != nil {
		fmt.Fprintf(&b, ", ETag %s", *a.ETag)
	}
	if a.Location != nil {
		fmt.Fprintf(&b, ", Location %s", *a.Location)
	}
	if a.Events > 0 {
		fmt.Fprintf(&b, ", %d upload progress event(s)", a.Events)
	}
	if a.Body != "" {
		fmt.Fprintf(&b, ", body %q", a.Body)
	}
	return b.String()
}

// TestBrowserFetchUpload posts forms signed by the library for versitygw
// from a page of another origin (an httptest server), with fetch and
// FormData: to a bucket whose CORS rule allows the page's origin, and to
// one without a CORS rule.
func TestBrowserFetchUpload(t *testing.T) {
	chrome := requireChrome(t)
	srv := startVersity(t)
	const noCORS = "e2e-no-cors"
	srv.createBucket(t, noCORS)

	signer := &postpolicy.Signer{Credentials: rootCredentials(), Region: region, Endpoint: srv.URL}
	sign := func(bucketName, key string) *postpolicy.Form {
		t.Helper()
		form, err := signer.Sign(context.Background(), postpolicy.Policy{
			Expiration: time.Now().Add(10 * time.Minute),
			Conditions: []postpolicy.Condition{
				postpolicy.Bucket(bucketName),
				postpolicy.Key(key),
				postpolicy.ContentType("image/png"),
				postpolicy.ContentLengthRange(1, 1<<20),
				postpolicy.SuccessActionStatus(http.StatusCreated),
			},
		})
		if err != nil {
			t.Fatalf("signing a form for %s/%s: %v", bucketName, key, err)
		}
		return form
	}
	forms := map[string]*postpolicy.Form{
		"cors-fetch":   sign(bucket, "fetch/cors-fetch.png"),
		"cors-xhr":     sign(bucket, "fetch/cors-xhr.png"),
		"nocors-fetch": sign(noCORS, "fetch/nocors-fetch.png"),
		"nocors-xhr":   sign(noCORS, "fetch/nocors-xhr.png"),
	}
	formsJSON, err := json.Marshal(forms)
	if err != nil {
		t.Fatal(err)
	}
	pixel := noisePNG(t, 32, 24, 6)
	var page bytes.Buffer
	if err := fetchPage.Execute(&page, struct {
		Forms template.JS
		File  string
	}{template.JS(formsJSON), base64.StdEncoding.EncodeToString(pixel)}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	t.Cleanup(ts.Close)
	srv.putCORS(t, bucket, ts.URL)

	b := newBrowser(t, chrome, "fetch")
	b.do(t, "opening the page", chromedp.Navigate(ts.URL+"/"))
	if origin := b.eval(t, `location.origin`); origin == srv.URL {
		t.Fatalf("the page's origin %s is versitygw's: the uploads would not be cross-origin", origin)
	}
	post := func(t *testing.T, fn, name string) fetchAnswer {
		t.Helper()
		var a fetchAnswer
		b.evalJSON(t, fn+"("+jsString(name)+")", &a)
		t.Logf("%s(%q) from %s to %s: %s", fn, name, ts.URL, forms[name].URL, a)
		return a
	}

	t.Run("fetch with CORS", func(t *testing.T) {
		a := post(t, "uploadFetch", "cors-fetch")
		if a.Status != http.StatusCreated {
			t.Fatalf("status %d (%s), want 201", a.Status, a.Error)
		}
		if !strings.Contains(a.Body, "<Key>fetch/cors-fetch.png</Key>") {
			t.Errorf("the page cannot read the PostResponse: %q", a.Body)
		}
		if a.ETag == nil || *a.ETag == "" || a.Location == nil || *a.Location == "" {
			t.Errorf("the page cannot read the ETag and Location headers, which the rule exposes: %s", a)
		}
		srv.checkObject(t, bucket, "fetch/cors-fetch.png", pixel, "image/png")
	})
	t.Run("XMLHttpRequest with progress, with CORS", func(t *testing.T) {
		a := post(t, "uploadXHR", "cors-xhr")
		if a.Status != http.StatusCreated {
			t.Fatalf("status %d (%s), want 201", a.Status, a.Error)
		}
		srv.checkObject(t, bucket, "fetch/cors-xhr.png", pixel, "image/png")
	})
	t.Run("fetch without CORS", func(t *testing.T) {
		// A FormData POST is a CORS "simple" request: the browser sends it
		// without asking first and only hides the answer from the page. The
		// upload therefore happens, though the page sees a TypeError: CORS
		// protects the page's reading, not the bucket; the policy does.
		a := post(t, "uploadFetch", "nocors-fetch")
		if a.Error == "" || !strings.HasPrefix(a.Error, "TypeError") {
			t.Fatalf("fetch to a bucket without a CORS rule: %s, want a TypeError", a)
		}
		srv.checkObject(t, noCORS, "fetch/nocors-fetch.png", pixel, "image/png")
	})
	t.Run("XMLHttpRequest with progress, without CORS", func(t *testing.T) {
		// An upload listener makes the request preflighted, as on serve's
		// page: the preflight is refused, so nothing is sent.
		a := post(t, "uploadXHR", "nocors-xhr")
		if a.Status != 0 || a.Error == "" {
			t.Fatalf("XMLHttpRequest to a bucket without a CORS rule: %s, want status 0 and an error event", a)
		}
		srv.checkAbsent(t, noCORS, "fetch/nocors-xhr.png")
	})
}
