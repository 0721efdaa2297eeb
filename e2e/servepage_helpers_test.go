package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The helpers here drive the page of "postpolicy serve"
// (cmd/postpolicy/web) by its element ids: #name and #signin to sign in,
// #method-post, #method-put and #method-multipart to choose how to
// upload, #file and #upload to upload, #cancel to cancel a multipart
// upload, #progress (in the row #progress-row, shown only while a file is
// being sent), #result (whose data-state is "busy", "ok", "error" or
// "cancelled"), #resumable (the interrupted multipart uploads) and
// #uploads.

// signIn opens the page at pageURL, signs in as user and waits for the
// upload form.
func signIn(t *testing.T, b *browser, pageURL, user string) {
	t.Helper()
	b.do(t, "opening "+pageURL,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), user),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("upload")),
	)
	if got := b.eval(t, `document.getElementById("user").textContent`); got != user {
		t.Fatalf("after signing in as %q the page says it is signed in as %q", user, got)
	}
	waitReady(t, b)
}

// waitReady waits until the page has loaded and run its script (which is
// deferred: the form shows before it runs, and a file chosen then would
// go unnoticed).
func waitReady(t *testing.T, b *browser) {
	t.Helper()
	b.poll(t, "the page to load", `document.readyState === "complete" ? "yes" : ""`)
}

// recorderJS instruments the signed-in page, for the test only: every
// XMLHttpRequest records its method, URL, the names of the headers the
// page set, its upload progress events and its final status, every change
// of the <progress> bar's value or max is recorded, and so is each time
// the bar's row is shown, in window.__e2e. Evaluated through the DevTools
// protocol, it is not subject to the page's Content-Security-Policy. The
// wrapper of fetch records the key of each form the page gets from
// /api/form, and each presigned PUT it gets from /api/put.
//
// A test tampers with the page's next uploads by setting
// window.__e2e.tamper (see setTamper): {extraBytes: N} sends a Blob body
// with N more bytes than the page gave, {header: NAME, value: V} sends V
// wherever the page sets the header NAME, and {holdPartsAfter: N} never
// sends the PUT of a part numbered over N (a network that stalls): the
// request stays pending, in window.__e2e.held, until the page aborts it
// (its abort event fires then) or the page goes away. Each record of an
// XMLHttpRequest names the part it PUTs (part), from partNumber in its
// URL.
const recorderJS = `(() => {
  if (window.__e2e) {
    return "already installed";
  }
  const rec = { xhrs: [], bar: [], forms: [], puts: [], mp: [], shown: 0, tamper: null, held: [] };
  window.__e2e = rec;
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__e2e = { method: method, url: String(url), headers: [] };
    return open.apply(this, arguments);
  };
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
    this.__e2e.headers.push(name);
    const t = rec.tamper;
    if (t && t.header && t.header.toLowerCase() === name.toLowerCase()) {
      value = t.value;
    }
    return setHeader.call(this, name, value);
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) {
    const x = { events: [], status: null, method: this.__e2e.method, url: this.__e2e.url, headers: this.__e2e.headers, size: null, part: null };
    rec.xhrs.push(x);
    const part = /[?&]partNumber=(\d+)/.exec(x.url);
    if (part) {
      x.part = Number(part[1]);
    }
    const t = rec.tamper;
    if (t && t.holdPartsAfter && x.part > t.holdPartsAfter) {
      x.held = true;
      rec.held.push(x);
      const xhr = this;
      xhr.abort = function () {
        x.status = 0;
        xhr.dispatchEvent(new ProgressEvent("abort"));
      };
      return;
    }
    if (t && t.extraBytes && body instanceof Blob) {
      body = new Blob([body, new Uint8Array(t.extraBytes)], { type: body.type });
    }
    if (body instanceof Blob) {
      x.size = body.size;
    }
    this.upload.addEventListener("progress", (e) => {
      x.events.push({ loaded: e.loaded, total: e.total, computable: e.lengthComputable });
    });
    this.addEventListener("loadend", () => { x.status = this.status; });
    return send.call(this, body);
  };
  const bar = document.getElementById("progress");
  new MutationObserver(() => rec.bar.push({ value: bar.value, max: bar.max }))
    .observe(bar, { attributes: true, attributeFilter: ["value", "max"] });
  const row = bar.closest(".progress");
  new MutationObserver(() => { if (!row.hidden) { rec.shown++; } })
    .observe(row, { attributes: true, attributeFilter: ["hidden"] });
  const fetch0 = window.fetch;
  window.fetch = async function (input, init) {
    const resp = await fetch0.call(window, input, init);
    const url = typeof input === "string" ? input : input.url;
    if (url.startsWith("/api/form") && resp.ok) {
      const body = await resp.clone().json();
      rec.forms.push({ key: body.fields.key });
    } else if (url.startsWith("/api/put")) {
      const body = await resp.clone().json();
      rec.puts.push({ status: resp.status, key: body.key || "", url: body.url || "", headers: body.headers || {}, error: body.error || "" });
    } else if (url.startsWith("/api/multipart/")) {
      rec.mp.push({ method: (init && init.method) || "GET", path: url.split("?")[0], status: resp.status });
    }
    return resp;
  };
  return "installed";
})()`

// The wrapper of fetch also records each call to the multipart backend
// (/api/multipart/...): its method, path without the query, and status.
//
// installRecorder evaluates recorderJS in the page; a navigation removes it.
func installRecorder(t *testing.T, b *browser) {
	t.Helper()
	if got := b.eval(t, recorderJS); got != "installed" {
		t.Fatalf("installing the recorder: %s", got)
	}
}

// xhrRecord is what the recorder saw of one XMLHttpRequest.
type xhrRecord struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers are the names of the headers the page set, in order.
	Headers []string `json:"headers"`
	// Size is the size of a Blob body (a PUT's file), after tampering.
	Size   *int64 `json:"size"`
	Events []struct {
		Loaded     int64 `json:"loaded"`
		Total      int64 `json:"total"`
		Computable bool  `json:"computable"`
	} `json:"events"`
	Status *int `json:"status"`
	// Part is the number of the part the request PUTs; Held is set for a
	// request the recorder held back (holdPartsAfter).
	Part int  `json:"part"`
	Held bool `json:"held"`
}

// barState is one recorded state of the progress bar.
type barState struct {
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
}

// formRecord is the key of a form the page got.
type formRecord struct {
	Key string `json:"key"`
}

// putRecord is an answer of /api/put the page got.
type putRecord struct {
	Status  int               `json:"status"`
	Key     string            `json:"key"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Error   string            `json:"error"`
}

// pageUpload is what the page showed after an upload.
type pageUpload struct {
	State string // #result's data-state: "ok" or "error"
	Text  string // #result's text
	// Value and Max are the <progress> bar's after the upload; Visible
	// whether its row shows then, and Shown how often it was shown
	// during the upload.
	Value, Max float64
	Visible    bool
	Shown      int
	XHRs       []xhrRecord
	Bar        []barState
	Forms      []formRecord
	Puts       []putRecord
	MP         []mpRecord
}

// mpRecord is a call of the page to the multipart backend.
type mpRecord struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// uploadFile chooses the file at path in #file, clicks #upload and waits
// until #result settles in "ok" or "error". It needs installRecorder.
func uploadFile(t *testing.T, b *browser, path string) pageUpload {
	t.Helper()
	return uploadFileWithin(t, b, path, browserStepTimeout)
}

// uploadFileWithin is uploadFile waiting up to d for the upload.
func uploadFileWithin(t *testing.T, b *browser, path string, d time.Duration) pageUpload {
	t.Helper()
	startUpload(t, b, path)
	b.pollWithin(t, "#result to settle after uploading "+filepath.Base(path), `(() => {
  const s = document.getElementById("result").dataset.state;
  return s === "ok" || s === "error" ? s : "";
})()`, d)
	return pageState(t, b)
}

// startUpload chooses the file at path in #file and clicks #upload,
// having reset the recorder's records and #result's state.
func startUpload(t *testing.T, b *browser, path string) {
	t.Helper()
	name := filepath.Base(path)
	// Reset the records, and mark #result so that the wait below cannot
	// see the previous upload's state.
	b.eval(t, `(() => {
  window.__e2e.xhrs = []; window.__e2e.bar = []; window.__e2e.forms = []; window.__e2e.puts = []; window.__e2e.shown = 0;
  window.__e2e.mp = []; window.__e2e.held = [];
  document.getElementById("result").dataset.state = "e2e-waiting";
  return "";
})()`)
	b.do(t, "choosing "+name,
		chromedp.WaitEnabled(chromedp.ID("upload")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}),
	)
	b.poll(t, "the page to show the chosen file "+name,
		`document.getElementById("chosen").textContent.includes(`+jsString(name)+`) ? "yes" : ""`)
	b.do(t, "clicking Upload", chromedp.Click(chromedp.ID("upload")))
}

// pageState returns what the page shows, and what the recorder saw, now.
func pageState(t *testing.T, b *browser) pageUpload {
	t.Helper()
	var got struct {
		State   string  `json:"state"`
		Text    string  `json:"text"`
		Value   float64 `json:"value"`
		Max     float64 `json:"max"`
		Visible bool    `json:"visible"`
		Rec     struct {
			XHRs  []xhrRecord  `json:"xhrs"`
			Bar   []barState   `json:"bar"`
			Forms []formRecord `json:"forms"`
			Puts  []putRecord  `json:"puts"`
			MP    []mpRecord   `json:"mp"`
			Shown int          `json:"shown"`
		} `json:"rec"`
	}
	b.evalJSON(t, `(() => {
  const r = document.getElementById("result");
  const p = document.getElementById("progress");
  const row = p.closest(".progress");
  const visible = !row.hidden && getComputedStyle(row).display !== "none";
  return JSON.stringify({ state: r.dataset.state, text: r.textContent, value: p.value, max: p.max, visible: visible, rec: window.__e2e });
})()`, &got)
	return pageUpload{
		State: got.State, Text: got.Text, Value: got.Value, Max: got.Max, Visible: got.Visible, Shown: got.Rec.Shown,
		XHRs: got.Rec.XHRs, Bar: got.Rec.Bar, Forms: got.Rec.Forms, Puts: got.Rec.Puts, MP: got.Rec.MP,
	}
}

// checkProgress asserts that the upload's progress bar was shown while the
// file was sent, ended full and was hidden once the store answered, and
// that the upload reported progress: at least one computable upload
// progress event, the last one complete. It logs what was seen.
func checkProgress(t *testing.T, u pageUpload, fileSize int) {
	t.Helper()
	if u.Max <= 0 || u.Value != u.Max {
		t.Errorf("progress bar after the upload: value %v of max %v, want full (100%%)", u.Value, u.Max)
	}
	if u.Shown == 0 || u.Visible {
		t.Errorf("progress bar: shown %d time(s) during the upload, visible after it %v; want shown while sending, hidden after", u.Shown, u.Visible)
	}
	if len(u.XHRs) != 1 {
		t.Fatalf("the page made %d XMLHttpRequests for one upload, want 1: %+v", len(u.XHRs), u.XHRs)
	}
	x := u.XHRs[0]
	if len(x.Events) == 0 {
		t.Fatalf("the upload fired no upload progress event")
	}
	last := x.Events[len(x.Events)-1]
	if !last.Computable || last.Loaded != last.Total || last.Total < int64(fileSize) {
		t.Errorf("last upload progress event: loaded %d of %d (computable %v), want all of a body of at least the file's %d bytes", last.Loaded, last.Total, last.Computable, fileSize)
	}
	var events []string
	for _, e := range x.Events {
		events = append(events, formatRatio(e.Loaded, e.Total))
	}
	var bar []string
	for _, s := range u.Bar {
		bar = append(bar, formatRatio(int64(s.Value), int64(s.Max)))
	}
	status := "none"
	if x.Status != nil {
		status = strconv.Itoa(*x.Status)
	}
	t.Logf("progress: %d upload progress event(s) [%s]; bar states [%s]; final bar %v/%v = 100%%; XHR status %s",
		len(x.Events), strings.Join(events, " "), strings.Join(bar, " "), u.Value, u.Max, status)
}

// listedUploads waits until #uploads lists name and returns the list's
// entries as text.
func listedUploads(t *testing.T, b *browser, name string) []string {
	t.Helper()
	b.poll(t, "#uploads to list "+name, `Array.from(document.querySelectorAll("#uploads li a")).some((a) => a.textContent === `+jsString(name)+`) ? "yes" : ""`)
	var items []string
	b.evalJSON(t, `JSON.stringify(Array.from(document.querySelectorAll("#uploads li")).map((li) => li.textContent))`, &items)
	return items
}

func formatRatio(a, b int64) string {
	return strconv.FormatInt(a, 10) + "/" + strconv.FormatInt(b, 10)
}

// checkRefusedProgress asserts that after an upload the store refused, the
// page shows no progress bar, and that its bar is back at zero: a full bar
// beside the error would say the file got somewhere.
func checkRefusedProgress(t *testing.T, what string, u pageUpload) {
	t.Helper()
	if u.Visible || u.Value != 0 {
		t.Errorf("%s: after the refusal the progress bar is visible %v at %v of %v; want it hidden and reset to 0", what, u.Visible, u.Value, u.Max)
	}
}

// pageFetch GETs url from the page, with the page's session cookie (as
// following a link does), and returns the status, the body and its
// Content-Type.
func pageFetch(t *testing.T, b *browser, url string) (int, []byte, string) {
	t.Helper()
	var got struct {
		Status int    `json:"status"`
		Body   []byte `json:"body"` // base64, which encoding/json decodes
		Type   string `json:"type"`
	}
	b.evalJSON(t, `(async () => {
  const resp = await fetch(`+jsString(url)+`, { credentials: "same-origin", cache: "no-store" });
  let s = "";
  for (const c of new Uint8Array(await resp.arrayBuffer())) {
    s += String.fromCharCode(c);
  }
  return JSON.stringify({ status: resp.status, body: btoa(s), type: resp.headers.get("Content-Type") });
})()`, &got)
	return got.Status, got.Body, got.Type
}

// chooseMethod clicks #method-post, #method-put or #method-multipart
// (method "post", "put" or "multipart") and checks that the page took the
// choice.
func chooseMethod(t *testing.T, b *browser, method string) {
	t.Helper()
	id := "method-" + method
	b.do(t, "choosing "+id, chromedp.Click(chromedp.ID(id)))
	if got := b.eval(t, `document.getElementById(`+jsString(id)+`).checked ? "checked" : "not checked"`); got != "checked" {
		t.Fatalf("#%s is %s after a click", id, got)
	}
}

// checkedMethod returns the method the page's radio buttons say: "post",
// "put", "multipart", or "none".
func checkedMethod(t *testing.T, b *browser) string {
	t.Helper()
	return b.eval(t, `(() => {
  const c = document.querySelector('input[name="method"]:checked');
  return c ? c.value : "none";
})()`)
}

// setTamper sets how the page's next uploads are tampered with (a
// JavaScript object literal, see recorderJS; "null" for none).
func setTamper(t *testing.T, b *browser, js string) {
	t.Helper()
	b.eval(t, `(() => { window.__e2e.tamper = `+js+`; return ""; })()`)
}
