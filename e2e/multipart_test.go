package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"
)

// The browser tests of serve's multipart uploads: the page's third way to
// upload (#method-multipart), which makes the calls of Uppy's AwsS3
// plugin to serve's backend at /api/multipart and PUTs each part, of its
// exact signed size, straight to the store. A file of largeFileSize bytes
// is uploaded through a proxy (cutProxy) that breaks the connection of one
// part's PUT midway, so that the page sends the part again; the page is
// reloaded once holdAfter parts are stored, and the same file chosen again
// resumes from them (ListParts), not from zero; the object is read back
// and its SHA-256 compared with the file's. A part PUT with one byte more
// than its URL signs is refused (SignatureDoesNotMatch) and stores
// nothing, and a cancelled upload is aborted and leaves no part.

const (
	// largeFileSize is the size of the file uploaded in parts: 60 parts of
	// 5 MiB, Uppy's and serve's part size for it.
	largeFileSize = 300 << 20
	partSize      = 5 << 20
	largeParts    = largeFileSize / partSize
	// holdAfter is how many parts are stored before the page is reloaded.
	holdAfter = 24
	// cutPart is the part whose PUT the proxy breaks after cutAfter
	// bytes.
	cutPart  = 3
	cutAfter = 2 << 20
	// multipartBrowserLife bounds a multipart test in the browser, and
	// largeUploadTimeout one wait for the large file's parts.
	multipartBrowserLife = 8 * time.Minute
	largeUploadTimeout   = 4 * time.Minute
	// mpStorageKey is where the page remembers its multipart uploads.
	mpStorageKey = "postpolicy-serve.multipart"
)

var largeFileOnce struct {
	once sync.Once
	path string
	sum  [sha256.Size]byte
	err  error
}

// largeFile returns the path of a file of largeFileSize bytes of seeded
// noise, written once per test binary (in the CLI's directory, removed
// after the tests), and its SHA-256, computed as it was written: the file
// is never held in memory.
func largeFile(t *testing.T) (string, [sha256.Size]byte) {
	t.Helper()
	f := &largeFileOnce
	f.once.Do(func() {
		start := time.Now()
		path := filepath.Join(cliDir, "large.bin")
		out, err := os.Create(path)
		if err != nil {
			f.err = err
			return
		}
		defer out.Close()
		h := sha256.New()
		rng := rand.NewChaCha8([32]byte{'p', 'o', 's', 't', 'p', 'o', 'l', 'i', 'c', 'y'})
		buf := make([]byte, 1<<20)
		for written := 0; written < largeFileSize; written += len(buf) {
			rng.Read(buf)
			h.Write(buf)
			if _, err := out.Write(buf); err != nil {
				f.err = err
				return
			}
		}
		if f.err = out.Close(); f.err != nil {
			return
		}
		f.path = path
		h.Sum(f.sum[:0])
		fmt.Printf("e2e: wrote %s (%d MiB, SHA-256 %x) in %s\n", path, largeFileSize>>20, f.sum, time.Since(start).Round(time.Millisecond))
	})
	if f.err != nil {
		t.Fatalf("writing the large file: %v", f.err)
	}
	return f.path, f.sum
}

// mpStore is what a multipart test needs to know of the store.
type mpStore struct {
	name string
	// parts returns how many parts the store holds for the upload.
	parts func(t *testing.T, key, uploadID string) int
	// object returns the stored object's SHA-256, size, Content-Type and
	// ETag, streaming it.
	object func(t *testing.T, key string) (sum [sha256.Size]byte, size int64, contentType, etag string)
	// leftovers returns what is left of multipart uploads in progress.
	leftovers func(t *testing.T) []string
}

// savedUpload is what the page remembers of a multipart upload.
type savedUpload struct {
	UploadID     string `json:"uploadId"`
	Key          string `json:"key"`
	PartSize     int64  `json:"partSize"`
	Parts        int    `json:"parts"`
	Size         int64  `json:"size"`
	Name         string `json:"name"`
	LastModified int64  `json:"lastModified"`
	Prefix       string `json:"prefix"`
}

// savedUploads returns the multipart uploads the page remembers.
func savedUploads(t *testing.T, b *browser) []savedUpload {
	t.Helper()
	var list []savedUpload
	b.evalJSON(t, `localStorage.getItem(`+jsString(mpStorageKey)+`) || "[]"`, &list)
	return list
}

// partsPut returns the parts the page PUT and the store stored (200), in
// the order they were sent, and those it sent that failed.
func partsPut(u pageUpload) (stored, failed []int) {
	for _, x := range u.XHRs {
		switch {
		case x.Method != "PUT" || x.Part == 0 || x.Held:
		case x.Status != nil && *x.Status == 200:
			stored = append(stored, x.Part)
		default:
			failed = append(failed, x.Part)
		}
	}
	return stored, failed
}

// runMultipart drives the multipart upload of the large file from serve's
// page at pageURL as user, through proxy, to store: a part cut and sent
// again, a reload after holdAfter parts and the upload resumed, the
// object read back; a tampered part; a cancelled upload.
func runMultipart(t *testing.T, b *browser, pageURL, user string, proxy *cutProxy, store mpStore) {
	path, sum := largeFile(t)
	signIn(t, b, pageURL+"/", user)
	chooseMethod(t, b, "multipart")
	installRecorder(t, b)

	// The first part of the upload: holdAfter parts, part cutPart's
	// connection broken once.
	start := time.Now()
	setTamper(t, b, fmt.Sprintf(`{holdPartsAfter: %d}`, holdAfter))
	startUpload(t, b, path)
	b.pollWithin(t, fmt.Sprintf("%d parts stored, the next ones held back", holdAfter), fmt.Sprintf(`(() => {
  const r = window.__e2e;
  const stored = new Set(r.xhrs.filter((x) => x.part && x.status === 200).map((x) => x.part));
  return stored.size >= %d && r.held.length > 0 ? String(stored.size) : "";
})()`, holdAfter), largeUploadTimeout)
	first := pageState(t, b)
	firstTook := time.Since(start)
	stored, failed := partsPut(first)
	t.Logf("before the reload (%s): parts stored %v, failed %v, %d held back; #result %q", firstTook.Round(time.Millisecond), stored, failed, len(first.XHRs)-len(stored)-len(failed), first.Text)
	if first.State != "busy" || !strings.Contains(first.Text, fmt.Sprintf("%d of %d parts stored", holdAfter, largeParts)) {
		t.Errorf("before the reload #result is %q %q, want busy with %d of %d parts stored", first.State, first.Text, holdAfter, largeParts)
	}
	var firstParts []int
	for n := 1; n <= holdAfter; n++ {
		firstParts = append(firstParts, n)
	}
	if got := slices.Sorted(slices.Values(stored)); !slices.Equal(got, firstParts) {
		t.Errorf("before the reload the store stored parts %v, want 1 to %d once each", got, holdAfter)
	}
	cuts := proxy.Cuts()
	if len(cuts) == 0 {
		t.Fatalf("the proxy cut no connection; the page sent parts %v", stored)
	}
	t.Logf("the proxy cut %d connection(s) of part %d's first URL: %+v", len(cuts), cutPart, cuts)
	if !slices.Contains(failed, cutPart) || !slices.Contains(stored, cutPart) {
		t.Errorf("part %d: the page's requests that failed %v and stored %v; want it failed, then sent again and stored", cutPart, failed, stored)
	}
	if r := b.eval(t, `document.getElementById("result").dataset.retries || "0"`); r == "0" {
		t.Errorf("the page counts no retry")
	} else {
		t.Logf("the page retried %s time(s): part %d's cut connection, then its fresh URL went through", r, cutPart)
	}
	saved := savedUploads(t, b)
	if len(saved) != 1 || saved[0].Name != "large.bin" || saved[0].Size != largeFileSize || saved[0].Parts != largeParts || saved[0].PartSize != partSize ||
		!strings.HasPrefix(saved[0].Key, "users/"+user+"/") || saved[0].LastModified == 0 {
		t.Fatalf("the page remembers %+v, want the upload of large.bin", saved)
	}
	up := saved[0]
	if n := store.parts(t, up.Key, up.UploadID); n != holdAfter {
		t.Errorf("the store holds %d parts of the upload, want %d", n, holdAfter)
	}

	// A reload: the page's requests in flight end; it remembers the
	// upload, and the same file resumes it.
	b.do(t, "reloading the page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("upload")))
	waitReady(t, b)
	if got := b.eval(t, `(() => {
  const r = document.getElementById("resumable");
  return r.hidden ? "hidden" : r.textContent;
})()`); !strings.Contains(got, "large.bin (300 MiB)") {
		t.Errorf("after the reload #resumable is %q, want it to list large.bin", got)
	}
	if m := checkedMethod(t, b); m != "multipart" {
		t.Errorf("after the reload the method is %q, want multipart", m)
	}
	b.screenshot(t, "browser-"+store.name+"-multipart-resumable")
	installRecorder(t, b)
	start2 := time.Now()
	u := uploadFileWithin(t, b, path, largeUploadTimeout)
	secondTook := time.Since(start2)
	checkResult(t, "large.bin resumed", u, "ok", "Uploaded:", up.Key, "(300 MiB, 60 parts)")
	stored2, failed2 := partsPut(u)
	var want []int
	for n := holdAfter + 1; n <= largeParts; n++ {
		want = append(want, n)
	}
	if got := slices.Sorted(slices.Values(stored2)); !slices.Equal(got, want) || len(failed2) != 0 {
		t.Errorf("after the reload the page stored parts %v (failed %v), want only %d to %d", got, failed2, holdAfter+1, largeParts)
	}
	var calls []string
	signed := 0
	for _, c := range u.MP {
		call := fmt.Sprintf("%s %s %d", c.Method, strings.TrimPrefix(c.Path, "/api/multipart/s3/multipart"), c.Status)
		if c.Method == "GET" && strings.HasPrefix(c.Path, "/api/multipart/s3/multipart/"+up.UploadID+"/") && c.Status == 200 {
			signed++ // a part's URL
			continue
		}
		calls = append(calls, call)
	}
	if signed != largeParts-holdAfter {
		t.Errorf("after the reload the page asked for %d part URLs, want %d", signed, largeParts-holdAfter)
	}
	if len(calls) != 2 || calls[0] != "GET /"+up.UploadID+" 200" || calls[1] != "POST /"+up.UploadID+"/complete 200" {
		t.Errorf("after the reload the page called %q; want ListParts, the parts' URLs, then Complete, and no new upload", calls)
	}
	if u.Max != largeFileSize || u.Value != u.Max || u.Visible {
		t.Errorf("the progress bar after the upload: %v of %v, visible %v; want full, hidden", u.Value, u.Max, u.Visible)
	}
	// The bar's first state on the file's scale (the page resets it to 0
	// of 100 before it knows the upload).
	if i := slices.IndexFunc(u.Bar, func(s barState) bool { return s.Max == largeFileSize }); i < 0 || u.Bar[i].Value < holdAfter*partSize {
		t.Errorf("the resumed upload's bar went %+v, want it to start at the %d bytes stored before the reload", u.Bar[:min(5, len(u.Bar))], holdAfter*partSize)
	} else {
		t.Logf("the resumed upload's bar started at %.0f of %.0f bytes (the %d parts stored) and made %d steps to the end", u.Bar[i].Value, u.Bar[i].Max, holdAfter, len(u.Bar)-i)
	}
	if s := savedUploads(t, b); len(s) != 0 {
		t.Errorf("after the upload the page still remembers %+v", s)
	}
	b.screenshot(t, "browser-"+store.name+"-multipart")

	got, size, ct, etag := store.object(t, up.Key)
	if got != sum || size != largeFileSize || ct != "application/octet-stream" || !strings.HasSuffix(strings.Trim(etag, `"`), fmt.Sprintf("-%d", largeParts)) {
		t.Errorf("the object %s: %d bytes, SHA-256 %x, Content-Type %q, ETag %s; want %d bytes, SHA-256 %x, application/octet-stream, a multipart ETag of %d parts",
			up.Key, size, got, ct, etag, largeFileSize, sum, largeParts)
	} else {
		t.Logf("the object %s: %d bytes, SHA-256 %s (the file's), ETag %s", up.Key, size, hex.EncodeToString(got[:]), etag)
	}
	t.Logf("timings: %d parts before the reload in %s, %d after in %s (%.0f MiB/s)", holdAfter, firstTook.Round(time.Millisecond),
		largeParts-holdAfter, secondTook.Round(time.Millisecond), float64(largeFileSize-holdAfter*partSize)/(1<<20)/secondTook.Seconds())
	if left := store.leftovers(t); len(left) != 0 {
		t.Errorf("after the upload the store holds %q", left)
	}
	listedUploads(t, b, strings.TrimPrefix(up.Key, "users/"+user+"/"))

	// A part of one byte more than its URL signs: refused, nothing stored.
	// The page sends it; versitygw's refusal of a part carries no CORS
	// header (its refusal of a whole PUT does), so that the page cannot
	// read it: the test then sends the same bytes to the same URL itself.
	var tampered struct {
		Create   int             `json:"create"`
		Key      string          `json:"key"`
		UploadID string          `json:"uploadId"`
		PartSize int64           `json:"partSize"`
		Signed   int             `json:"signed"`
		URL      string          `json:"url"`
		Put      int             `json:"put"`
		PutBody  string          `json:"putBody"`
		Listed   json.RawMessage `json:"listed"`
	}
	b.evalJSON(t, `(async () => {
  const base = "/api/multipart/s3/multipart";
  const call = async (method, path, body) => {
    const init = { method: method, credentials: "same-origin" };
    if (body) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const c = await call("POST", base, { filename: "tampered.bin", type: "application/octet-stream", size: 2 * 5242880 + 1 });
  const up = c.body;
  const q = "?key=" + encodeURIComponent(up.key);
  const id = encodeURIComponent(up.uploadId);
  const s = await call("GET", base + "/" + id + "/1" + q);
  let put = 0;
  let putBody = "";
  try {
    // A slice of the file chosen (large.bin), not bytes in memory, which
    // Chromium would copy into its DevTools events.
    const body = document.getElementById("file").files[0].slice(0, up.partSize + 1);
    const resp = await fetch(s.body.url, { method: "PUT", body: body });
    put = resp.status;
    putBody = await resp.text();
  } catch (e) {
    putBody = String(e);
  }
  const listed = await call("GET", base + "/" + id + q);
  return JSON.stringify({ create: c.status, key: up.key, uploadId: up.uploadId, partSize: up.partSize, signed: s.status, url: s.body.url,
    put: put, putBody: putBody, listed: listed.body });
})()`, &tampered)
	if tampered.Create != 200 || tampered.Signed != 200 || tampered.PartSize != partSize {
		t.Fatalf("the tampered upload: %+v", tampered)
	}
	if tampered.Put != 403 && !(store.name == "versity" && tampered.Put == 0) || tampered.Put == 403 && !strings.Contains(tampered.PutBody, "<Code>SignatureDoesNotMatch</Code>") ||
		string(tampered.Listed) != "[]" {
		t.Errorf("the page's part of %d bytes for a URL signed for %d: %d %.200s; parts listed then %s; want 403 SignatureDoesNotMatch and none",
			partSize+1, partSize, tampered.Put, tampered.PutBody, tampered.Listed)
	} else {
		t.Logf("the page's part of %d bytes for a URL signed for %d: %d %.60q; ListParts then: %s", partSize+1, partSize, tampered.Put, tampered.PutBody, tampered.Listed)
	}
	if status, body := putBytes(t, tampered.URL, partSize+1); status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("the same part PUT by the test: %d %.300s, want 403 SignatureDoesNotMatch", status, body)
	} else {
		t.Logf("the same part PUT by the test: 403 SignatureDoesNotMatch")
	}
	if n := store.parts(t, tampered.Key, tampered.UploadID); n != 0 {
		t.Errorf("after the tampered part the store holds %d parts of its upload", n)
	}
	if status := b.eval(t, `fetch("/api/multipart/s3/multipart/`+tampered.UploadID+`?key="+encodeURIComponent(`+jsString(tampered.Key)+`), { method: "DELETE", credentials: "same-origin" }).then((r) => String(r.status))`); status != "200" {
		t.Errorf("aborting the tampered upload: %s", status)
	}
	if left := store.leftovers(t); len(left) != 0 {
		t.Errorf("after the abort of the tampered upload the store holds %q", left)
	}

	// A cancelled upload: aborted, nothing left.
	small := make([]byte, 4*partSize+1234)
	for i := range small {
		small[i] = byte(i * 7)
	}
	cancelPath := writeFile(t, t.TempDir(), "cancel.bin", small)
	setTamper(t, b, `{holdPartsAfter: 2}`)
	startUpload(t, b, cancelPath)
	b.poll(t, "2 parts of cancel.bin stored", `(() => {
  const r = window.__e2e;
  const stored = new Set(r.xhrs.filter((x) => x.part && x.status === 200).map((x) => x.part));
  return stored.size >= 2 && r.held.length > 0 ? "yes" : "";
})()`)
	if s := savedUploads(t, b); len(s) != 1 || store.parts(t, s[0].Key, s[0].UploadID) != 2 {
		t.Errorf("during the upload of cancel.bin the page remembers %+v", s)
	}
	b.do(t, "clicking Cancel", chromedp.Click(chromedp.ID("cancel")))
	b.poll(t, "the upload to be cancelled", `(() => {
  const s = document.getElementById("result").dataset.state;
  return s === "cancelled" || s === "error" ? s : "";
})()`)
	setTamper(t, b, "null")
	c := pageState(t, b)
	checkResult(t, "cancel.bin cancelled", c, "cancelled", "Cancelled:", "aborted and its parts deleted")
	if n := len(c.MP); n == 0 || c.MP[n-1].Method != "DELETE" || c.MP[n-1].Status != 200 {
		t.Errorf("the page's calls ended with %+v, want an abort (DELETE, 200)", c.MP[max(n-1, 0):])
	}
	if c.Visible {
		t.Error("after the cancel the progress bar is visible")
	}
	if s := savedUploads(t, b); len(s) != 0 {
		t.Errorf("after the cancel the page remembers %+v", s)
	}
	if left := store.leftovers(t); len(left) != 0 {
		t.Errorf("after the cancel the store holds %q", left)
	} else {
		t.Logf("after the cancel the store holds no upload in progress")
	}
}

// putBytes PUTs n zero bytes to url and returns the answer's status and
// body. It asks the store to answer before the body is sent (Expect:
// 100-continue): a store that refuses the request at once may otherwise
// close the connection while the body is still being written, and the
// answer be lost; it tries again when that happens all the same.
func putBytes(t *testing.T, url string, n int) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	defer client.CloseIdleConnections()
	var err error
	for range 5 {
		var req *http.Request
		req, err = http.NewRequest(http.MethodPut, url, bytes.NewReader(make([]byte, n)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Expect", "100-continue")
		var resp *http.Response
		if resp, err = client.Do(req); err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	t.Fatalf("PUT %s: %v", url, err)
	return 0, ""
}

// embeddedObject finds the object key in serve's embedded store under data
// and returns its metadata and the path of its content.
func embeddedObject(t *testing.T, data, bucketName, key string) (path string, size int64, contentType, etag string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, bucketName, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Key         string `json:"key"`
			Data        string `json:"data"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
			ETag        string `json:"etag"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("metadata file %s: %v", f, err)
		}
		if m.Key == key {
			return filepath.Join(data, bucketName, m.Data), m.Size, m.ContentType, m.ETag
		}
	}
	t.Fatalf("the embedded store has no object %s", key)
	return "", 0, "", ""
}

// sha256File returns the SHA-256 of the file at path and its size.
func sha256File(t *testing.T, path string) ([sha256.Size]byte, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, n
}

// partDirFiles returns the files in the embedded target's part directory.
func partDirFiles(t *testing.T, data string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, ".parts"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestBrowserMultipartEmbedded uploads a file of 300 MiB in parts from
// serve's page in headless Chromium to serve's embedded target, through
// cutProxy (serve's -public-url): the proxy breaks part 3's connection and
// the page sends it again; the page is reloaded after 24 parts and the
// same file resumes the upload from them; the object, assembled by the
// target from the part files under -data, is read back from the store and
// by the page (SHA-256 in the browser), identical; a tampered part is
// refused; a cancelled upload leaves no part file.
func TestBrowserMultipartEmbedded(t *testing.T) {
	chrome := requireChrome(t)
	const bucketName = "e2e-embedded"
	proxy := startCutProxy(t, cutPart, cutAfter)
	port := freeLoopbackPort(t)
	proxy.setTarget(fmt.Sprintf("127.0.0.1:%d", port))
	data := t.TempDir()
	sp := startServe(t, serveEnv(),
		"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-public-url", proxy.URL,
		"-bucket", bucketName, "-data", data,
		"-max-size", serveMaxSize, "-max-multipart-size", "1GiB", "-user-quota", "1GiB", "-data-quota", "2GiB",
		"-content-types", "image/,application/octet-stream")
	if !strings.Contains(sp.Stdout.String(), "multipart:   /api/multipart") {
		t.Errorf("serve's summary does not describe the multipart uploads:\n%s", sp.Stdout)
	}
	b := newBrowserFor(t, chrome, "multipart-embedded", multipartBrowserLife)
	const user = "erin"
	store := mpStore{
		name: "embedded",
		parts: func(t *testing.T, _, _ string) int {
			t.Helper()
			files := partDirFiles(t, data)
			for _, f := range files {
				if fi, err := os.Stat(filepath.Join(data, ".parts", f)); err != nil || fi.Size() != partSize {
					t.Errorf("the part file %s is not of %d bytes: %v", f, partSize, err)
				}
			}
			return len(files)
		},
		object: func(t *testing.T, key string) ([sha256.Size]byte, int64, string, string) {
			t.Helper()
			path, size, ct, etag := embeddedObject(t, data, bucketName, key)
			sum, n := sha256File(t, path)
			if n != size {
				t.Errorf("the content file of %s holds %d bytes, its metadata says %d", key, n, size)
			}
			return sum, size, ct, etag
		},
		leftovers: func(t *testing.T) []string { return partDirFiles(t, data) },
	}
	runMultipart(t, b, proxy.URL, user, proxy, store)

	// The page reads the object back through serve, as its owner.
	key := ""
	for _, k := range embeddedKeys(t, data, bucketName) {
		if strings.HasSuffix(k, "/large.bin") {
			key = k
		}
	}
	_, want := largeFile(t)
	start := time.Now()
	got := b.eval(t, `(async () => {
  const resp = await fetch(`+jsString("/"+bucketName+"/"+key)+`, { credentials: "same-origin", cache: "no-store" });
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", await resp.arrayBuffer()));
  return resp.status + " " + Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
})()`)
	if got != "200 "+hex.EncodeToString(want[:]) {
		t.Errorf("the page read the object back: %s, want 200 %x", got, want)
	} else {
		t.Logf("the page read the object back through serve in %s: 200, SHA-256 identical", time.Since(start).Round(time.Millisecond))
	}
	log := sp.Stderr.String()
	for _, w := range []string{"(backend) POST /" + bucketName + "/users/" + user + "/", "POST /api/multipart/s3/multipart 200 ", "DELETE /api/multipart/s3/multipart/"} {
		if !strings.Contains(log, w) {
			t.Errorf("serve's request log has no %q", w)
		}
	}
}

// TestBrowserMultipartVersity is TestBrowserMultipartEmbedded against
// versitygw (serve -endpoint, the cut proxy in front of versitygw, the
// bucket's CORS rule the one serve prints): the page PUTs the parts
// across origins and reads their ETags, serve starts, lists, completes
// and aborts the uploads with signed S3 calls; the object is read back
// with the SDK, and no upload is left in progress (ListMultipartUploads).
func TestBrowserMultipartVersity(t *testing.T) {
	chrome := requireChrome(t)
	srv := startVersity(t)
	proxy := startCutProxy(t, cutPart, cutAfter)
	proxy.setTarget(strings.TrimPrefix(srv.URL, "http://"))
	sp := startServe(t,
		serveEnv("AWS_ACCESS_KEY_ID="+rootAccessKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecretAccessKey),
		"-endpoint", proxy.URL, "-bucket", bucket, "-region", region,
		"-max-size", serveMaxSize, "-max-multipart-size", "1GiB", "-content-types", "image/,application/octet-stream")
	srv.putServeCORS(t, bucket, sp)
	b := newBrowserFor(t, chrome, "multipart-versity", multipartBrowserLife)
	const user = "frank"
	ctx := context.Background()
	store := mpStore{
		name: "versity",
		parts: func(t *testing.T, key, uploadID string) int {
			t.Helper()
			out, err := srv.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID)})
			if err != nil {
				t.Fatalf("ListParts %s: %v", key, err)
			}
			for _, p := range out.Parts {
				if aws.ToInt64(p.Size) != partSize {
					t.Errorf("part %d of %s is %d bytes, want %d", aws.ToInt32(p.PartNumber), key, aws.ToInt64(p.Size), partSize)
				}
			}
			return len(out.Parts)
		},
		object: func(t *testing.T, key string) ([sha256.Size]byte, int64, string, string) {
			t.Helper()
			out, err := srv.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GetObject %s: %v", key, err)
			}
			defer out.Body.Close()
			h := sha256.New()
			n, err := io.Copy(h, out.Body)
			if err != nil {
				t.Fatalf("reading %s: %v", key, err)
			}
			var sum [sha256.Size]byte
			h.Sum(sum[:0])
			return sum, n, aws.ToString(out.ContentType), aws.ToString(out.ETag)
		},
		leftovers: func(t *testing.T) []string {
			t.Helper()
			out, err := srv.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String("users/")})
			if err != nil {
				t.Fatalf("ListMultipartUploads: %v", err)
			}
			var left []string
			for _, u := range out.Uploads {
				left = append(left, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
			}
			return left
		},
	}
	runMultipart(t, b, sp.URL, user, proxy, store)
}
