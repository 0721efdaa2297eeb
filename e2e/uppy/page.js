// The e2e test page of Uppy v6 (uppy_test.go): @uppy/core and
// @uppy/aws-s3, from the bundle uppy.js, upload the file chosen in #file
// in parts through postpolicy serve's multipart backend, the plugin's
// companionEndpoint, configured as the s3multipart package's documentation
// says. What Uppy reports is recorded in window.__uppy for the test.
"use strict";

(function () {
  const rec = {
    versions: { core: Uppy.VERSION, awsS3: AwsS3.VERSION },
    parts: [],
    progress: { events: 0, bytesUploaded: 0, bytesTotal: 0 },
    success: null,
    errors: [],
    result: null,
    done: false,
  };
  window.__uppy = rec;
  const status = document.getElementById("status");

  const uppy = new Uppy({ autoProceed: false });
  // The backend needs each file's size to sign its parts.
  uppy.on("file-added", (file) => uppy.setFileMeta(file.id, { size: file.size }));
  uppy.use(AwsS3, {
    companionEndpoint: "/api/multipart",
    shouldUseMultipart: () => true,
  });

  uppy.on("upload-progress", (file, p) => {
    rec.progress.events++;
    rec.progress.bytesUploaded = p.bytesUploaded;
    rec.progress.bytesTotal = p.bytesTotal;
    status.textContent = "uploading: " + p.bytesUploaded + " of " + p.bytesTotal + " bytes";
  });
  uppy.on("s3-multipart:part-uploaded", (file, part) => rec.parts.push(part.PartNumber));
  uppy.on("upload-success", (file, response) => {
    rec.success = { key: response.body.key, location: response.uploadURL };
  });
  uppy.on("upload-error", (file, err) => rec.errors.push(String((err && err.message) || err)));
  uppy.on("complete", (result) => {
    rec.result = { successful: result.successful.length, failed: result.failed.length };
    rec.done = true;
    status.textContent = "done";
  });

  document.getElementById("file").addEventListener("change", (e) => {
    for (const f of e.target.files) {
      uppy.addFile({ name: f.name, type: f.type, data: f, source: "e2e" });
    }
    uppy.upload().catch((err) => {
      rec.errors.push(String(err));
      rec.done = true;
    });
  });
})();
