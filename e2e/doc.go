// Package e2e holds the end-to-end tests of postpolicy: forms signed by the
// library are posted to a real S3-compatible server, Versity S3 Gateway
// (versitygw) v1.8.0, started on a loopback port for each test, and the
// server's answers are checked: good uploads are stored and read back, and
// every restriction the policy expresses is refused with the server's error
// code, with no object stored.
//
// The browser tests (browser_test.go) drive headless Chromium through
// chromedp: the page of "postpolicy serve" (built from ../cmd/postpolicy
// once per test run and started as a subprocess on a loopback port), both
// against versitygw (serve -endpoint, with the bucket's CORS rule set) and
// against serve's embedded S3 POST endpoint: sign in, upload with the
// progress bar shown while sending and reaching 100%, the object read back
// (from the embedded endpoint, with the owner's session only), an oversize
// file and a file of the wrong type refused by the store with the page
// showing its error and no progress bar; and fetch/XMLHttpRequest uploads
// from a page of another origin,
// with and without a bucket CORS rule. put_test.go does the same with the
// page's other way to upload, a presigned PUT (POST /api/put, then an
// XMLHttpRequest PUT of the file with the signed headers, Content-Length
// left to the browser), against both targets (versitygw with the CORS rule
// serve prints): the object read back byte for byte, with the uploader's
// metadata; a PUT tampered with in the page (one byte more than signed,
// another Content-Type) refused by the store with SignatureDoesNotMatch and
// nothing stored (the embedded store's directory, versitygw's listing); and
// the list's link to a versitygw object, a presigned GET, opened by the
// browser. multipart_test.go drives the page's third way, a multipart
// upload through serve's /api/multipart, with a file of 300 MiB (written
// once per run from a seeded generator, with its SHA-256; never held in
// memory) against both targets, through a TCP proxy of the test
// (proxy_test.go) that breaks the connection of part 3's PUT midway: the
// page sends the part again with a fresh URL; the page is reloaded once 24
// parts are stored and, the same file chosen again, sends only the other
// 36 (ListParts); the object is read back and its SHA-256 compared with
// the file's; a part of one byte more than its URL signs is refused
// (SignatureDoesNotMatch) and nothing of it is stored; a cancelled upload
// leaves no part (the embedded target's part directory is empty,
// versitygw lists no upload in progress). uppy_test.go uploads the same
// file with Uppy v6 itself (@uppy/core and @uppy/aws-s3, pinned in
// uppy/package-lock.json, installed with npm ci and bundled by esbuild
// when the test runs), its companionEndpoint serve's /api/multipart, to
// both targets, and reads the objects back. They leave screenshots of the page
// after a successful upload in $E2E_ARTIFACTS, else in
// postpolicy-e2e-artifacts in the temporary directory, and log the paths.
//
// It is a module of its own so that the library's go.mod stays free of the
// AWS SDK and chromedp. Run it with
//
//	CGO_ENABLED=0 go install -ldflags="-s -w" github.com/versity/versitygw/cmd/versitygw@v1.8.0
//	apt-get install -y --no-install-recommends chromium
//	(cd e2e/uppy && npm ci)
//	cd e2e && go test -race -v ./...
//
// or with bash .ci/e2e from the repository root, which installs the server
// and Chromium when they are missing. The tests find the server binary at
// $VERSITYGW, on $PATH, or in $(go env GOPATH)/bin, and Chromium at
// $CHROME, /usr/bin/chromium, /usr/lib/chromium/chromium or on $PATH.
// Without them (or without e2e/uppy/node_modules) the tests that need
// them are skipped, saying why, except when the environment variable CI is
// set, where they fail.
package e2e
