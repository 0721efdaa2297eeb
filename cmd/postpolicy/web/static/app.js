// The upload page of "postpolicy serve". For each upload it asks the
// backend for a freshly signed upload, then sends the file straight to the
// store, showing the upload's progress and the store's answer. The user
// chooses how (#method-post, #method-put or #method-multipart, remembered
// in localStorage):
//
//   - a POST form (GET /api/form): the page posts the form's fields, the
//     fields the page adds itself, and the file, last, to the form's URL;
//   - a presigned PUT (POST /api/put with the file's name, type and size):
//     the page PUTs the file to the URL with the signed headers, except
//     those a browser sets itself (Content-Length: the browser sends the
//     file's length, which is the signed size);
//   - a multipart upload, for files of any size (the calls of Uppy's
//     AwsS3 plugin to /api/multipart, its companionEndpoint): the page
//     starts the upload, PUTs each part to the URL the backend signs for
//     it, of the part's exact size, retries a part whose connection
//     broke, and completes the upload with the parts' ETags. The upload
//     is remembered in localStorage until it ends, so that after a reload
//     the user picks the same file again and the page sends only the
//     parts the store does not have (ListParts).
//
// Signing in and out are plain HTML forms and need no script.
"use strict";

(function () {
  const app = document.getElementById("app");
  const form = document.getElementById("upload-form");
  if (!app || !form) {
    return; // signed out
  }
  const fileInput = document.getElementById("file");
  const drop = document.getElementById("drop");
  const button = document.getElementById("upload");
  const progress = document.getElementById("progress");
  const progressRow = document.getElementById("progress-row");
  const result = document.getElementById("result");
  const list = document.getElementById("uploads");
  const chosen = document.getElementById("chosen");
  const remote = app.dataset.target === "remote";
  const methodPost = document.getElementById("method-post");
  const methodPut = document.getElementById("method-put");
  const methodMultipart = document.getElementById("method-multipart");
  const cancelButton = document.getElementById("cancel");
  const resumable = document.getElementById("resumable");
  const resumableList = document.getElementById("resumable-list");
  const prefix = app.dataset.prefix;

  // The chosen way to upload, "post", "put" or "multipart", is remembered
  // in localStorage (where storage is allowed); POST is the default.
  const methodStorageKey = "postpolicy-serve.method";
  const methods = { post: methodPost, put: methodPut, multipart: methodMultipart };
  try {
    const remembered = methods[localStorage.getItem(methodStorageKey)];
    if (remembered) {
      remembered.checked = true;
    }
  } catch (e) {
    // Storage is disabled: the default stays.
  }
  for (const input of Object.values(methods)) {
    input.addEventListener("change", () => {
      try {
        localStorage.setItem(methodStorageKey, input.value);
      } catch (e) {
        // Storage is disabled: the choice lasts as long as the page.
      }
    });
  }

  // show sets the result: state is "busy", "ok" or "error" (also set as
  // data-state, which tests wait for), title is shown in bold.
  function show(state, title, detail) {
    result.dataset.state = state;
    result.className = "result " + state;
    result.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = title;
    result.append(strong);
    if (detail) {
      result.append(" " + detail);
    }
  }

  function sizeText(n) {
    const units = ["bytes", "KiB", "MiB", "GiB"];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    if (i === 0) {
      return n === 1 ? "1 byte" : n + " bytes";
    }
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + " " + units[i];
  }

  // xmlText returns the text of the first element named tag in the XML
  // document text, or "".
  function xmlText(text, tag) {
    if (!text) {
      return "";
    }
    const doc = new DOMParser().parseFromString(text, "application/xml");
    const el = doc.getElementsByTagName(tag)[0];
    return el ? el.textContent : "";
  }

  // askBackend fetches a signed upload from the backend at path, with the
  // fetch options init, and resolves with its JSON.
  async function askBackend(path, init) {
    let resp;
    try {
      resp = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, init));
    } catch (e) {
      throw new Error("the server could not be reached.");
    }
    const body = await resp.json().catch(() => ({}));
    if (resp.status === 401) {
      throw new Error("you are signed out (the server may have restarted); reload the page and sign in again.");
    }
    if (!resp.ok) {
      throw new Error(body.error || "the server answered HTTP " + resp.status + ".");
    }
    return body;
  }

  // getForm asks the backend for a signed form for a file of type type.
  function getForm(type) {
    return askBackend("/api/form?content_type=" + encodeURIComponent(type), {
      headers: { Accept: "application/json" },
    });
  }

  // getPut asks the backend for a presigned PUT of file, of type type:
  // {method, url, headers, key}.
  function getPut(file, type) {
    return askBackend("/api/put", {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ filename: file.name, type: type, size: file.size }),
    });
  }

  // forbiddenHeaders are the headers a page may not set, which the
  // browser sets itself or refuses (the Fetch standard's forbidden request
  // headers, https://fetch.spec.whatwg.org/#forbidden-request-header), with
  // the prefixes proxy- and sec-. A presigned PUT signs Content-Length:
  // the browser sends the body's length, the file's, which is the size
  // signed.
  const forbiddenHeaders = new Set([
    "accept-charset", "accept-encoding", "access-control-request-headers",
    "access-control-request-method", "connection", "content-length", "cookie",
    "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer",
    "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via",
  ]);

  function forbiddenHeader(name) {
    const n = name.toLowerCase();
    return forbiddenHeaders.has(n) || n.startsWith("proxy-") || n.startsWith("sec-");
  }

  // send sends body to url with XMLHttpRequest, whose upload events give
  // a real progress bar, with the headers (but the forbidden ones), and
  // resolves with the status and body.
  function send(method, url, headers, body) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers || {})) {
        if (!forbiddenHeader(name)) {
          xhr.setRequestHeader(name, value);
        }
      }
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          progress.max = e.total;
          progress.value = e.loaded;
        }
      });
      xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.responseText }));
      xhr.addEventListener("error", () => resolve({ status: 0, body: "" }));
      xhr.addEventListener("abort", () => resolve({ status: 0, body: "" }));
      xhr.send(body);
    });
  }

  // prepare asks the backend for a signed upload of file, of type type,
  // by POST form or presigned PUT, and resolves with what to send:
  // {method, url, headers, body, key}, key being the object's key when
  // the store's answer does not give it. It throws an Error whose message
  // says why there is none.
  async function prepare(put, file, type) {
    if (put) {
      const signed = await getPut(file, type);
      return { method: "PUT", url: signed.url, headers: signed.headers, body: file, key: signed.key };
    }
    const signed = await getForm(type);

    // The signed fields in order, then the fields the form leaves to the
    // page (its pageConditions say which, and what they must satisfy),
    // then the file: the store ignores anything after the file.
    // S3 replaces ${filename} in the key with the file's name; the page
    // does it itself, which the policy (a starts-with on the user's
    // prefix) allows, so that stores that do not substitute it (Versity,
    // s3rver, gofakes3) store the same key instead of a literal one.
    const data = new FormData();
    for (const [name, value] of Object.entries(signed.fields)) {
      data.append(name, name.toLowerCase() === "key" ? value.split("${filename}").join(file.name) : value);
    }
    const added = new Set();
    for (const c of signed.pageConditions || []) {
      const field = c.field.toLowerCase();
      if (added.has(field)) {
        continue;
      }
      added.add(field);
      let value = c.value; // the required value, or the prefix
      if (field === "content-type") {
        value = type; // the store checks the file's real type
      } else if (field === "key" && c.op === "starts-with") {
        value = c.value + file.name;
      }
      data.append(c.field, value);
    }
    data.append("file", file);
    return { method: "POST", url: signed.url, headers: {}, body: data, key: signed.fields.key.replace("${filename}", file.name) };
  }

  async function upload(file) {
    // The policy checks Content-Type; browsers do not send it as a field on
    // their own, so the page adds the file's type.
    const type = file.type || "application/octet-stream";
    button.disabled = true;
    progress.max = 100;
    progress.value = 0;
    const put = methodPut.checked;
    let stored = false;
    try {
      if (methodMultipart.checked) {
        stored = await uploadMultipart(file, type);
        return;
      }
      show("busy", "Signing…", put ? "asking the server for an upload URL." : "asking the server for an upload form.");
      let request;
      try {
        request = await prepare(put, file, type);
      } catch (e) {
        show("error", put ? "No upload URL:" : "No upload form:", e.message);
        return;
      }

      show("busy", "Uploading…", file.name + " (" + sizeText(file.size) + ")");
      progressRow.hidden = false; // shown only while the file is being sent
      const answer = await send(request.method, request.url, request.headers, request.body);
      stored = answer.status >= 200 && answer.status < 300;
      endProgress(stored);
      if (stored) {
        // A POST's answer (status 201) names the key; a PUT's has no body.
        const key = xmlText(answer.body, "Key") || request.key;
        show("ok", "Uploaded:", key + " (" + sizeText(file.size) + ").");
        await report(key, file.size, type);
        await refresh();
        return;
      }
      if (answer.status === 0) {
        show("error", "Upload failed:", "the store could not be reached, or closed the connection " +
          "before answering (some stores do when a file is far over the size limit), " +
          "or it does not allow this page's origin (CORS).");
        return;
      }
      const code = xmlText(answer.body, "Code");
      const message = xmlText(answer.body, "Message");
      let detail = code ? code + ": " + message : "the store answered HTTP " + answer.status + ".";
      // ProposedSize may count only the bytes read before the store gave
      // up; the file's own size is what the user knows.
      const maxAllowed = xmlText(answer.body, "MaxSizeAllowed");
      if (code === "EntityTooLarge" && maxAllowed) {
        detail += " (the file is " + sizeText(file.size) + "; the limit is " + sizeText(Number(maxAllowed)) + ")";
      }
      show("error", "Refused by the store:", detail);
    } finally {
      endProgress(stored);
      button.disabled = false;
    }
  }

  // report tells the server, for a real target, of an upload the store
  // accepted, for the list of uploads.
  async function report(key, size, type) {
    if (!remote) {
      return;
    }
    await fetch("/api/uploads", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ key: key, size: size, content_type: type }),
    }).catch(() => {});
  }

  // ---- Multipart uploads ----
  //
  // The page makes the five calls Uppy's AwsS3 plugin makes in Companion
  // mode, to the backend at /api/multipart:
  //
  //   POST   /api/multipart/s3/multipart                   start the upload: {key, uploadId, partSize, parts}
  //   GET    /api/multipart/s3/multipart/ID/N?key=K         the signed URL of part N: {url}
  //   GET    /api/multipart/s3/multipart/ID?key=K           the parts stored: [{PartNumber, ETag, Size}]
  //   POST   /api/multipart/s3/multipart/ID/complete?key=K  complete it with every part's ETag
  //   DELETE /api/multipart/s3/multipart/ID?key=K           abort it (Cancel, Discard)
  //
  // and PUTs each part, a slice of the file of the part's exact size (the
  // size its URL signs), straight to the store with XMLHttpRequest, for
  // its progress events, reading the part's ETag from the answer.
  const mpBase = "/api/multipart/s3/multipart";
  const mpStorageKey = "postpolicy-serve.multipart";
  // partConcurrency is how many parts are sent at once: enough to keep a
  // connection busy while another waits for its URL or its answer, well
  // under the 6 connections a browser opens to one host.
  const partConcurrency = 3;
  // retryDelays are the waits before each new attempt of a part whose
  // connection broke, or that the store answered with a 5xx or 429: 31
  // seconds in all, then the upload is paused (resumable).
  const retryDelays = [1000, 2000, 4000, 8000, 16000];
  // maxSaved is how many interrupted uploads the page remembers.
  const maxSaved = 5;

  // current is the multipart upload being sent: {up, cancelled, active},
  // active holding its XMLHttpRequests in flight.
  let current = null;

  // savedUploads returns the interrupted multipart uploads remembered in
  // localStorage: {uploadId, key, partSize, parts, size, name,
  // lastModified, prefix}, prefix being the user's.
  function savedUploads() {
    try {
      const list = JSON.parse(localStorage.getItem(mpStorageKey) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  function writeSaved(list) {
    try {
      localStorage.setItem(mpStorageKey, JSON.stringify(list));
    } catch (e) {
      // Storage is disabled: the upload cannot be resumed after a reload.
    }
    showResumable();
  }

  function saveUpload(up) {
    const list = savedUploads().filter((u) => u.uploadId !== up.uploadId);
    list.push(up);
    writeSaved(list.slice(-maxSaved));
  }

  function forgetUpload(uploadId) {
    writeSaved(savedUploads().filter((u) => u.uploadId !== uploadId));
  }

  // findSaved returns the remembered upload of file, the same file as far
  // as the page can tell: its name, size and modification time.
  function findSaved(file) {
    return savedUploads().find((u) => u.prefix === prefix && u.name === file.name &&
      u.size === file.size && u.lastModified === file.lastModified);
  }

  // showResumable lists the user's interrupted uploads, each with a
  // Discard button that aborts it.
  function showResumable() {
    const mine = savedUploads().filter((u) => u.prefix === prefix);
    resumableList.textContent = "";
    resumable.hidden = mine.length === 0;
    for (const u of mine) {
      const li = document.createElement("li");
      li.dataset.uploadId = u.uploadId;
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary";
      discard.textContent = "Discard";
      discard.addEventListener("click", async () => {
        discard.disabled = true;
        try {
          await mpCall("DELETE", uploadPath(u));
        } catch (e) {
          if (e.status !== 404) {
            discard.disabled = false;
            show("error", "Not discarded:", e.message);
            return;
          }
        }
        forgetUpload(u.uploadId);
        show("cancelled", "Discarded:", "the upload of " + u.name + " was aborted and its parts deleted.");
      });
      li.append(u.name + " (" + sizeText(u.size) + ") ", discard);
      resumableList.append(li);
    }
  }

  // mpCall calls the multipart backend and resolves with its JSON answer.
  // It throws an Error with the backend's message and the answer's status
  // (0 when the server could not be reached).
  async function mpCall(method, path, body) {
    const init = { method: method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw Object.assign(new Error("the server could not be reached."), { status: 0 });
    }
    const answer = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      let msg = answer.message || answer.error || "the server answered HTTP " + resp.status + ".";
      if (resp.status === 401) {
        msg = "you are signed out (the server may have restarted); reload the page and sign in again.";
      }
      throw Object.assign(new Error(msg), { status: resp.status });
    }
    return answer;
  }

  // uploadPath returns the path of the upload up, followed by suffix.
  function uploadPath(up, suffix) {
    return mpBase + "/" + encodeURIComponent(up.uploadId) + (suffix || "") + "?key=" + encodeURIComponent(up.key);
  }

  // partSizeOf returns the size of part n of the upload up: its part
  // size, the rest for the last.
  function partSizeOf(up, n) {
    return n === up.parts ? up.size - (up.parts - 1) * up.partSize : up.partSize;
  }

  // retryable reports whether an answer of status may succeed if sent
  // again: no answer (the connection broke), 408, 429 or 5xx.
  function retryable(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // cancelledError ends the work of an upload the user cancelled.
  const cancelledError = new Error("cancelled");

  // sendPart PUTs blob to url, reporting its progress to onProgress, and
  // resolves with the answer's status, body and ETag (status 0 when the
  // connection broke or the request was aborted).
  function sendPart(run, url, blob, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      run.active.add(xhr);
      const done = (status, body, etag) => {
        run.active.delete(xhr);
        resolve({ status: status, body: body, etag: etag });
      };
      xhr.open("PUT", url);
      xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded));
      xhr.addEventListener("load", () => done(xhr.status, xhr.responseText, xhr.getResponseHeader("ETag")));
      xhr.addEventListener("error", () => done(0, "", null));
      xhr.addEventListener("abort", () => done(0, "", null));
      xhr.send(blob);
    });
  }

  // uploadPart sends part n of file for the upload up and resolves with
  // its ETag. A part whose connection broke, or that the store answered
  // with a 5xx or 429, is sent again (with a fresh URL) after each of
  // retryDelays; any other refusal, or the last failure, is thrown, as
  // an Error with a title for the page.
  async function uploadPart(run, file, up, n, onProgress) {
    const start = (n - 1) * up.partSize;
    const blob = file.slice(start, start + partSizeOf(up, n));
    for (let attempt = 0; ; attempt++) {
      let answer;
      let signed = null;
      try {
        signed = await mpCall("GET", uploadPath(up, "/" + n));
      } catch (e) {
        answer = { status: e.status, error: e };
      }
      if (run.cancelled) {
        throw cancelledError;
      }
      if (signed) {
        answer = await sendPart(run, signed.url, blob, onProgress);
        if (run.cancelled) {
          throw cancelledError;
        }
        if (answer.status >= 200 && answer.status < 300) {
          if (!answer.etag) {
            throw Object.assign(new Error("the store's answer to part " + n + " has no ETag header that this page may read " +
              "(the bucket's CORS rule must expose ETag)."), { title: "Upload failed:" });
          }
          return answer.etag;
        }
        onProgress(0);
      }
      if (!retryable(answer.status) || attempt >= retryDelays.length) {
        throw partError(n, answer);
      }
      run.retries++;
      result.dataset.retries = String(run.retries);
      const why = answer.status === 0 ? (answer.error ? "the server could not be reached" : "the connection was lost") :
        "the " + (answer.error ? "server" : "store") + " answered HTTP " + answer.status;
      show("busy", "Uploading…", "part " + n + ": " + why + "; trying again in " + retryDelays[attempt] / 1000 + " s.");
      await sleep(retryDelays[attempt]);
      if (run.cancelled) {
        throw cancelledError;
      }
    }
  }

  // partError is the Error of part n's final answer.
  function partError(n, answer) {
    if (answer.error) {
      return Object.assign(new Error(answer.error.message), { title: "No URL for part " + n + ":" });
    }
    if (answer.status === 0) {
      return Object.assign(new Error("the connection to the store was lost while sending part " + n + "."), { title: "Upload paused:" });
    }
    const code = xmlText(answer.body, "Code");
    const detail = code ? code + ": " + xmlText(answer.body, "Message") : "HTTP " + answer.status;
    return Object.assign(new Error("part " + n + ": " + detail), { title: "Refused by the store:" });
  }

  // uploadMultipart uploads file, of type type, in parts, resuming the
  // remembered upload of the same file if there is one, and resolves with
  // whether the object was stored.
  async function uploadMultipart(file, type) {
    const run = { up: null, cancelled: false, active: new Set(), retries: 0 };
    current = run;
    cancelButton.hidden = false;
    cancelButton.disabled = false;
    delete result.dataset.retries;
    try {
      return await sendMultipart(run, file, type);
    } finally {
      current = null;
      cancelButton.hidden = true;
    }
  }

  async function sendMultipart(run, file, type) {
    let up = null;
    const etags = new Map(); // part number → ETag, of the parts stored
    const saved = findSaved(file);
    if (saved) {
      run.up = saved; // Cancel aborts it
      show("busy", "Resuming…", "asking the server which parts of " + file.name + " are stored.");
      try {
        const listed = await mpCall("GET", uploadPath(saved));
        for (const p of listed) {
          if (p.PartNumber >= 1 && p.PartNumber <= saved.parts && p.Size === partSizeOf(saved, p.PartNumber)) {
            etags.set(p.PartNumber, p.ETag);
          }
        }
        up = saved;
      } catch (e) {
        if (e.status !== 404) {
          show("error", "Cannot resume:", e.message + " Choose the file again to try again.");
          return false;
        }
        // Completed, aborted or expired, or started by a server that has
        // restarted since: start again.
        forgetUpload(saved.uploadId);
        run.up = null;
      }
    }
    if (run.cancelled) {
      return cancelled(run);
    }
    if (!up) {
      show("busy", "Starting…", "asking the server to start a multipart upload.");
      let c;
      try {
        c = await mpCall("POST", mpBase, { filename: file.name, type: type, size: file.size, metadata: {} });
      } catch (e) {
        show("error", "No multipart upload:", e.message);
        return false;
      }
      up = {
        uploadId: c.uploadId, key: c.key, partSize: c.partSize, parts: c.parts, size: file.size,
        name: file.name, lastModified: file.lastModified, prefix: prefix,
      };
      saveUpload(up);
    }
    run.up = up;
    if (run.cancelled) {
      return cancelled(run);
    }

    // One progress bar for the whole file: the parts stored, and the
    // bytes sent of those in flight.
    let storedBytes = 0;
    for (const n of etags.keys()) {
      storedBytes += partSizeOf(up, n);
    }
    const resumedParts = etags.size;
    const inflight = new Map();
    const update = () => {
      let v = storedBytes;
      for (const sent of inflight.values()) {
        v += sent;
      }
      progress.value = Math.min(v, up.size);
    };
    const status = () => {
      let text = file.name + " (" + sizeText(file.size) + "): " + etags.size + " of " + up.parts + " parts stored";
      if (resumedParts > 0) {
        text += " (" + resumedParts + " before the page was reloaded)";
      }
      show("busy", resumedParts > 0 ? "Resuming…" : "Uploading…", text + ".");
    };
    progress.max = up.size;
    update();
    progressRow.hidden = false;
    status();

    const queue = [];
    for (let n = 1; n <= up.parts; n++) {
      if (!etags.has(n)) {
        queue.push(n);
      }
    }
    let failure = null;
    const worker = async () => {
      while (queue.length > 0 && !failure && !run.cancelled) {
        const n = queue.shift();
        try {
          const etag = await uploadPart(run, file, up, n, (sent) => {
            inflight.set(n, sent);
            update();
          });
          etags.set(n, etag);
          storedBytes += partSizeOf(up, n);
          status();
        } catch (e) {
          if (e !== cancelledError && !failure) {
            failure = e;
          }
        } finally {
          inflight.delete(n);
          update();
        }
      }
    };
    const workers = [];
    for (let i = 0; i < Math.min(partConcurrency, queue.length); i++) {
      workers.push(worker());
    }
    await Promise.all(workers);
    if (run.cancelled) {
      return cancelled(run);
    }
    if (failure) {
      endProgress(false);
      show("error", failure.title || "Upload failed:", failure.message + " The parts stored are kept: choose the same file again to resume.");
      return false;
    }

    cancelButton.disabled = true; // the store is assembling the object
    show("busy", "Completing…", "the store is assembling the " + up.parts + " parts of " + file.name + ".");
    const parts = [];
    for (let n = 1; n <= up.parts; n++) {
      parts.push({ PartNumber: n, ETag: etags.get(n) });
    }
    let done;
    for (let attempt = 0; ; attempt++) {
      try {
        done = await mpCall("POST", uploadPath(up, "/complete"), { parts: parts });
        break;
      } catch (e) {
        if (retryable(e.status) && attempt < 3) {
          await sleep(retryDelays[attempt]);
          continue;
        }
        if (e.status === 404) {
          forgetUpload(up.uploadId);
        }
        endProgress(false);
        show("error", "Not completed:", e.message);
        return false;
      }
    }
    forgetUpload(up.uploadId);
    endProgress(true);
    show("ok", "Uploaded:", done.key + " (" + sizeText(file.size) + ", " + up.parts + (up.parts === 1 ? " part" : " parts") + ").");
    await report(done.key, file.size, type);
    await refresh();
    return true;
  }

  // cancelled ends an upload the user cancelled: it aborts it on the
  // server, which deletes its parts, and forgets it.
  async function cancelled(run) {
    endProgress(false);
    if (!run.up) {
      show("cancelled", "Cancelled:", "nothing was uploaded.");
      return false;
    }
    show("busy", "Cancelling…", "aborting the upload.");
    try {
      await mpCall("DELETE", uploadPath(run.up));
    } catch (e) {
      if (e.status !== 404) {
        show("error", "Not cancelled:", e.message + " Choose the same file again to resume the upload, or discard it.");
        return false;
      }
    }
    forgetUpload(run.up.uploadId);
    show("cancelled", "Cancelled:", "the upload of " + run.up.name + " was aborted and its parts deleted.");
    return false;
  }

  cancelButton.addEventListener("click", () => {
    const run = current;
    if (!run || run.cancelled) {
      return;
    }
    run.cancelled = true;
    cancelButton.disabled = true;
    for (const xhr of run.active) {
      xhr.abort();
    }
  });

  // endProgress hides the progress bar once the store has answered: full
  // for a stored file, back at zero otherwise, since a refused or failed
  // upload stored nothing (its bar, full once the browser had sent the
  // file, would say otherwise).
  function endProgress(stored) {
    progress.value = stored ? progress.max : 0;
    progressRow.hidden = true;
  }

  async function refresh() {
    let body;
    try {
      const resp = await fetch("/api/uploads", { credentials: "same-origin", cache: "no-store" });
      if (!resp.ok) {
        return;
      }
      body = await resp.json();
    } catch (e) {
      return;
    }
    list.textContent = "";
    if (!body.uploads || body.uploads.length === 0) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No uploads yet.";
      list.append(li);
      return;
    }
    for (const u of body.uploads) {
      const li = document.createElement("li");
      // A link for each object: its owner's on the embedded store, a
      // presigned GET on a real one (none when it could not be signed).
      const a = document.createElement(u.url ? "a" : "span");
      if (u.url) {
        a.href = u.url;
      }
      a.textContent = u.name;
      a.title = u.key;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = sizeText(u.size) + (u.content_type ? ", " + u.content_type : "");
      li.append(a, " ", meta);
      list.append(li);
    }
  }

  function describe(file) {
    chosen.textContent = file ? "Chosen: " + file.name + " (" + sizeText(file.size) + ")" : "";
  }

  fileInput.addEventListener("change", () => describe(fileInput.files[0]));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      show("error", "No file:", "choose a file first.");
      fileInput.focus();
      return;
    }
    upload(file);
  });

  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file && !button.disabled) {
      describe(file);
      upload(file);
    }
  });

  showResumable();
  refresh();
})();
