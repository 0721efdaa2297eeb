package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"
)

// The browser test of Uppy v6 against serve's multipart backend: Uppy's
// AwsS3 plugin in Companion mode (@uppy/core and @uppy/aws-s3 6.3.1,
// pinned in uppy/package-lock.json, installed by .ci/e2e with npm ci and
// bundled into one script by esbuild when the test runs), its
// companionEndpoint serve's /api/multipart, uploads the large file in
// parts, to the embedded target and to versitygw; the object is read back
// and its SHA-256 compared with the file's.
//
// The test page (uppy/uppy.html and page.js) must be of serve's origin,
// whose session cookie Uppy's fetch sends: a server of the test's (the
// front) serves it and the bundle under /e2e-uppy/, and passes every other
// request on to serve, started with the front's URL as -public-url.

// uppyDir is the npm project of the test page.
const uppyDir = "uppy"

// uppyVersion is the version of @uppy/core and @uppy/aws-s3 in
// uppy/package.json.
const uppyVersion = "6.3.1"

// bundleUppy bundles uppy/entry.js with esbuild, from uppy/node_modules,
// into one script, and returns its path. Without node_modules the test is
// skipped (fails in CI).
func bundleUppy(t *testing.T) string {
	t.Helper()
	esbuild, err := filepath.Abs(filepath.Join(uppyDir, "node_modules", ".bin", "esbuild"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(esbuild); err != nil {
		msg := fmt.Sprintf("Uppy is not installed (%v): run npm ci in e2e/%s (bash .ci/e2e does)", err, uppyDir)
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip("skipping the Uppy test: " + msg)
	}
	for _, pkg := range []string{"@uppy/core", "@uppy/aws-s3"} {
		b, err := os.ReadFile(filepath.Join(uppyDir, "node_modules", pkg, "package.json"))
		var p struct{ Version string }
		if err != nil || json.Unmarshal(b, &p) != nil || p.Version != uppyVersion {
			t.Fatalf("%s in e2e/%s/node_modules is not version %s (%q, %v): run npm ci there", pkg, uppyDir, uppyVersion, p.Version, err)
		}
	}
	out := filepath.Join(t.TempDir(), "uppy.js")
	start := time.Now()
	cmd := exec.Command(esbuild, "entry.js", "--bundle", "--format=iife", "--target=chrome120", "--log-level=warning", "--outfile="+out)
	cmd.Dir = uppyDir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bundling Uppy with esbuild: %v\n%s", err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bundled @uppy/core and @uppy/aws-s3 %s with esbuild: %d bytes in %s", uppyVersion, fi.Size(), time.Since(start).Round(time.Millisecond))
	return out
}

// startFront starts the front server: the test page and the bundle under
// /e2e-uppy/, every other request passed on, with its Host, to the server
// at target (http://HOST:PORT).
func startFront(t *testing.T, bundle, target string) *httptest.Server {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(to)
		r.Out.Host = r.In.Host // the host serve answers to, and signs for
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /e2e-uppy/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch name := r.PathValue("name"); name {
		case "uppy.js":
			http.ServeFile(w, r, bundle)
		case "uppy.html", "page.js":
			http.ServeFile(w, r, filepath.Join(uppyDir, name))
		default:
			http.NotFound(w, r)
		}
	})
	mux.Handle("/", proxy)
	front := httptest.NewServer(mux)
	t.Cleanup(front.Close)
	return front
}

// uppyRecord is what the test page records of Uppy (window.__uppy).
type uppyRecord struct {
	Versions struct {
		Core  string `json:"core"`
		AwsS3 string `json:"awsS3"`
	} `json:"versions"`
	Parts    []int `json:"parts"`
	Progress struct {
		Events        int   `json:"events"`
		BytesUploaded int64 `json:"bytesUploaded"`
		BytesTotal    int64 `json:"bytesTotal"`
	} `json:"progress"`
	Success *struct {
		Key      string `json:"key"`
		Location string `json:"location"`
	} `json:"success"`
	Errors []string `json:"errors"`
	Result *struct {
		Successful int `json:"successful"`
		Failed     int `json:"failed"`
	} `json:"result"`
	Done bool `json:"done"`
}

// uploadWithUppy signs user in on the page at frontURL, opens the Uppy
// test page, chooses the large file and waits until Uppy is done. It
// returns the object's key.
func uploadWithUppy(t *testing.T, b *browser, frontURL, user string) string {
	t.Helper()
	path, _ := largeFile(t)
	signIn(t, b, frontURL+"/", user)
	b.do(t, "opening the Uppy page", chromedp.Navigate(frontURL+"/e2e-uppy/uppy.html"), chromedp.WaitVisible(chromedp.ID("file")))
	waitReady(t, b)
	if got := b.eval(t, `window.__uppy ? window.__uppy.versions.core + " " + window.__uppy.versions.awsS3 : "no Uppy"`); got != uppyVersion+" "+uppyVersion {
		t.Fatalf("the page runs Uppy %q, want @uppy/core and @uppy/aws-s3 %s", got, uppyVersion)
	}
	start := time.Now()
	b.do(t, "choosing large.bin", chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}))
	b.pollWithin(t, "Uppy to finish", `window.__uppy.done ? "yes" : ""`, largeUploadTimeout)
	took := time.Since(start)
	var rec uppyRecord
	b.evalJSON(t, `JSON.stringify(window.__uppy)`, &rec)
	var want []int
	for n := 1; n <= largeParts; n++ {
		want = append(want, n)
	}
	if rec.Success == nil || len(rec.Errors) != 0 || rec.Result == nil || rec.Result.Successful != 1 || rec.Result.Failed != 0 {
		t.Fatalf("Uppy's upload: %+v", rec)
	}
	if !slices.Equal(rec.Parts, want) {
		t.Errorf("Uppy uploaded parts %v, want 1 to %d in order", rec.Parts, largeParts)
	}
	if rec.Progress.BytesUploaded != largeFileSize || rec.Progress.BytesTotal != largeFileSize {
		t.Errorf("Uppy's last progress: %d of %d bytes, want all %d", rec.Progress.BytesUploaded, rec.Progress.BytesTotal, largeFileSize)
	}
	key := rec.Success.Key
	if !strings.HasPrefix(key, "users/"+user+"/") || !strings.HasSuffix(key, "/large.bin") {
		t.Errorf("Uppy stored %q, want users/%s/ID/large.bin", key, user)
	}
	t.Logf("Uppy %s uploaded large.bin (%d MiB) in %d parts in %s (%.0f MiB/s), %d progress events: %s at %s", rec.Versions.AwsS3, largeFileSize>>20,
		len(rec.Parts), took.Round(time.Millisecond), float64(largeFileSize)/(1<<20)/took.Seconds(), rec.Progress.Events, key, rec.Success.Location)
	b.screenshot(t, "browser-uppy-"+user)
	return key
}

// checkUppyLog checks that serve answered Uppy's calls: one upload
// started, a URL for each part, one completion.
func checkUppyLog(t *testing.T, sp *serveProc) {
	t.Helper()
	log := sp.Stderr.String()
	counts := map[string]int{}
	for line := range strings.Lines(log) {
		switch {
		case strings.Contains(line, " POST /api/multipart/s3/multipart 200 "):
			counts["create"]++
		case strings.Contains(line, " GET /api/multipart/s3/multipart/") && strings.Contains(line, " 200 "):
			counts["sign"]++
		case strings.Contains(line, " POST /api/multipart/s3/multipart/") && strings.Contains(line, "/complete 200 "):
			counts["complete"]++
		}
	}
	if counts["create"] != 1 || counts["sign"] != largeParts || counts["complete"] != 1 {
		t.Errorf("serve answered Uppy's calls %v, want one create, %d part URLs, one complete", counts, largeParts)
	}
}

// TestBrowserUppy uploads the large file with Uppy v6 in headless
// Chromium through serve's multipart backend: to the embedded target
// (through the front server, parts included) and to versitygw (the parts
// straight to it, across origins, with the CORS rule serve prints).
func TestBrowserUppy(t *testing.T) {
	chrome := requireChrome(t)
	bundle := bundleUppy(t)
	_, sum := largeFile(t)

	t.Run("embedded", func(t *testing.T) {
		const bucketName = "e2e-embedded"
		port := freeLoopbackPort(t)
		front := startFront(t, bundle, fmt.Sprintf("http://127.0.0.1:%d", port))
		data := t.TempDir()
		sp := startServe(t, serveEnv(),
			"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-public-url", front.URL,
			"-bucket", bucketName, "-data", data,
			"-max-multipart-size", "1GiB", "-user-quota", "1GiB", "-data-quota", "2GiB",
			"-content-types", "image/,application/octet-stream")
		b := newBrowserFor(t, chrome, "uppy-embedded", multipartBrowserLife)
		key := uploadWithUppy(t, b, front.URL, "grace")
		path, size, ct, etag := embeddedObject(t, data, bucketName, key)
		got, n := sha256File(t, path)
		if got != sum || n != largeFileSize || size != largeFileSize || ct != "application/octet-stream" || !strings.HasSuffix(etag, fmt.Sprintf("-%d", largeParts)) {
			t.Errorf("the object %s: %d bytes, SHA-256 %x, Content-Type %q, ETag %s; want the file's %d bytes, SHA-256 %x", key, n, got, ct, etag, largeFileSize, sum)
		} else {
			t.Logf("the object %s in the embedded store: %d bytes, SHA-256 %s (the file's), ETag %s", key, n, hex.EncodeToString(got[:]), etag)
		}
		if left := partDirFiles(t, data); len(left) != 0 {
			t.Errorf("after the upload the part directory holds %q", left)
		}
		checkUppyLog(t, sp)
	})

	t.Run("versity", func(t *testing.T) {
		srv := startVersity(t)
		port := freeLoopbackPort(t)
		front := startFront(t, bundle, fmt.Sprintf("http://127.0.0.1:%d", port))
		sp := startServe(t,
			serveEnv("AWS_ACCESS_KEY_ID="+rootAccessKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecretAccessKey),
			"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-public-url", front.URL,
			"-endpoint", srv.URL, "-bucket", bucket, "-region", region,
			"-max-multipart-size", "1GiB", "-content-types", "image/,application/octet-stream")
		srv.putServeCORS(t, bucket, sp)
		b := newBrowserFor(t, chrome, "uppy-versity", multipartBrowserLife)
		key := uploadWithUppy(t, b, front.URL, "heidi")
		out, err := srv.S3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		if err != nil {
			t.Fatalf("reading %s: %v", key, err)
		}
		var got [sha256.Size]byte
		h.Sum(got[:0])
		if got != sum || n != largeFileSize || aws.ToString(out.ContentType) != "application/octet-stream" {
			t.Errorf("the object %s: %d bytes, SHA-256 %x, Content-Type %q; want the file's %d bytes, SHA-256 %x", key, n, got, aws.ToString(out.ContentType), largeFileSize, sum)
		} else {
			t.Logf("the object %s on versitygw: %d bytes, SHA-256 %s (the file's), ETag %s", key, n, hex.EncodeToString(got[:]), aws.ToString(out.ETag))
		}
		ups, err := srv.S3.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil || len(ups.Uploads) != 0 {
			t.Errorf("after the upload versitygw lists uploads in progress: %v (%v)", ups, err)
		}
		checkUppyLog(t, sp)
	})
}
