// The upload page of "postpolicy serve". For each upload it asks the
// backend for a freshly signed upload, then sends the file straight to the
// store, showing the upload's progress and the store's answer. The user
// chooses how (#method-post or #method-put, remembered in localStorage):
//
//   - a POST form (GET /api/form): the page posts the form's fields, the
//     fields the page adds itself, and the file, last, to the form's URL;
//   - a presigned PUT (POST /api/put with the file's name, type and size):
//     the page PUTs the file to the URL with the signed headers, except
//     those a browser sets itself (Content-Length: the browser sends the
//     file's length, which is the signed size).
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

  // The chosen way to upload, "post" or "put", is remembered in
  // localStorage (where storage is allowed); POST is the default.
  const methodStorageKey = "postpolicy-serve.method";
  try {
    if (localStorage.getItem(methodStorageKey) === "put") {
      methodPut.checked = true;
    }
  } catch (e) {
    // Storage is disabled: the default stays.
  }
  for (const input of [methodPost, methodPut]) {
    input.addEventListener("change", () => {
      try {
        localStorage.setItem(methodStorageKey, methodPut.checked ? "put" : "post");
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
        if (remote) {
          await fetch("/api/uploads", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            credentials: "same-origin",
            body: JSON.stringify({ key: key, size: file.size, content_type: type }),
          }).catch(() => {});
        }
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

  refresh();
})();
