package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
	"github.com/postpolicy/postpolicy/s3multipart"
)

// serveUsage is the text "postpolicy serve -h" prints before the flags.
const serveUsage = `Usage: postpolicy serve [flags]

Serve runs the browser upload demo on one address: a page where a user
signs in with a name, picks or drops a file and uploads it straight to the
bucket with a progress bar; the backend endpoints the page gets a freshly
signed upload from, 401 without a session: GET /api/form, a POST form
(answered by postpolicy.FormHandler), and POST /api/put, a presigned PUT
URL for the file the page describes ({"filename", "type", "size"}); and,
unless -endpoint or -aws is given, an embedded S3 endpoint that verifies
every upload (POST forms and presigned PUTs) as S3 does and keeps the
objects on disk. The page lets the user choose between the two ways, and a
third for files of any size: a multipart upload (below).

Each form lets its user upload one file under users/NAME/ with the file's
name, of 1 byte to -max-size, of a type in -content-types, for -expires.
With a single content type the page sends the file's type and the store
enforces the policy: a wrong type is refused by the store (AccessDenied),
an oversize file too (EntityTooLarge), and the page shows S3's answer.
With several types the page asks for a form for the file's type and the
backend answers 403 for a type not in the list.

Each presigned PUT lets its user upload the file described, under
users/NAME/ with the file's name (the part after its last / or \, without
control characters), of exactly its type (which must be in
-content-types) and exactly its size (1 byte to -max-size), with the
metadata x-amz-meta-uploader: NAME, for -expires; the backend answers 400
for a file that breaks these rules, and the store refuses a PUT of
another type or size (SignatureDoesNotMatch).

Multipart uploads: the backend at /api/multipart answers the calls of
Uppy's AwsS3 plugin in Companion mode (companionEndpoint: '/api/multipart';
POST /api/multipart/s3/multipart and the routes under it, see package
s3multipart), which the page's own third way to upload makes too. For the
signed-in user it starts an upload of a file under users/NAME/ID/ with the
file's name (ID being 26 random characters), of a type in -content-types
and of 1 byte to -max-multipart-size, declared when it starts, and signs,
for the browser, the URL of each part with its exact size (parts of at
least 5 MiB, as Uppy cuts them), so that the store refuses a part of any
other size; the browser sends the parts straight to the store, and serve
completes or aborts the upload with S3 API calls of its own. An upload
interrupted (a lost connection, a reload of the page) resumes from the
parts already stored; serve keeps its uploads in memory, so that after a
restart an upload starts again. Uploads not completed within 24 hours are
aborted, those a previous run left in the bucket under users/ included.
With the embedded target, the parts are kept in files under -data until
the upload ends, and the upload's declared size counts against the quotas
from its start: one that would go over is refused before any part is sent.

Targets:

  (default)      the embedded endpoint on -addr, path-style like S3:
                 POST http://ADDR/BUCKET uploads a form, PUT
                 http://ADDR/BUCKET/KEY a presigned PUT, GET or HEAD
                 http://ADDR/BUCKET/KEY reads an object back, for its
                 owner only (the signed-in user of users/NAME/; others
                 get 403 AccessDenied). Any other path outside the
                 page's own is the endpoint's: another bucket is 404
                 NoSuchBucket. Objects are kept under -data and survive
                 a restart. Credentials come from AWS_ACCESS_KEY_ID and
                 AWS_SECRET_ACCESS_KEY when both are set, else are
                 generated at start.
  -endpoint URL  an S3-compatible store at URL (MinIO, Versity, Ceph, ...),
                 path-style: the page posts to URL/BUCKET and puts to
                 URL/BUCKET/KEY.
  -aws           Amazon S3: the page posts to
                 https://BUCKET.s3.REGION.amazonaws.com/ and puts to
                 https://BUCKET.s3.REGION.amazonaws.com/KEY.

With -endpoint or -aws, credentials must be in the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary credentials,
AWS_SESSION_TOKEN). At start serve checks, with a signed HEAD request to
the bucket (S3's HeadBucket, which needs s3:ListBucket), that the bucket
exists and that the credentials may use it, and does not start otherwise
(-check-bucket=false skips the check). It prints the CORS rule the bucket
needs so that the page may post and put to it (parts included, whose
ETag the page reads). The list of uploads then
shows what the page reported after each success during this run: it is
not checked against the bucket, and is lost at exit. Its links are
presigned GETs, valid for 15 minutes: images (PNG, JPEG, GIF, WebP, AVIF)
and plain text open in the browser, in their reported type; any other
file is downloaded (Content-Disposition: attachment), so that no uploaded
HTML or SVG opens as a page of the bucket's origin.

The page answers only to the names of its own address: 127.0.0.1,
localhost and [::1] with -addr's port (or -addr's own address), and the
host of -public-url. Any other Host is answered 421 Misdirected Request,
so that a web site whose name an attacker points at this machine (DNS
rebinding) cannot use the page or its API. On -addr 0.0.0.0:PORT, give
the URL other machines use with -public-url: forms then post there, and
the loopback names are sent there.

The embedded endpoint keeps at most -user-quota bytes per user and
-data-quota bytes in all: an upload (POST or PUT) that would go over is
refused as it streams (400 EntityTooLarge, with the room left as
MaxSizeAllowed) and stores nothing. It receives at most -max-uploads
uploads (POST or PUT) at once; more are answered 503 SlowDown at once, as
S3 answers too many requests.

Only the access key id is printed, never the secret. Sessions are signed
with a key made at start, so a restart signs everyone out. Each request is
logged on stderr: method, path, status, bytes sent and duration (never a
query string, a cookie or a form value), and so is the cause of each 500
answer of the embedded endpoint (a full disk, say).

Slow and stalled clients are cut off: a request's headers must arrive
within 10s and be at most 64 KiB; an upload or download that stops for
30s ends (one that keeps moving, however slowly, does not); an idle
connection closes after 2m. An interrupted or refused upload stores
nothing.

Example:

  postpolicy serve -addr 127.0.0.1:8080 -max-size 10MiB -content-types image/,application/pdf

Flags:
`

// serveExitStatus ends the usage of serve.
const serveExitStatus = `
Exit status: 0 after a clean shutdown (Ctrl-C or SIGTERM); 1 when serve
cannot start (the address is in use, the data directory cannot be written,
credentials are missing for -endpoint or -aws, the bucket is missing or
the credentials may not use it); 2 for a usage error.
`

// Defaults of serve.
const (
	defaultServeAddr    = "127.0.0.1:8080"
	defaultServeBucket  = "uploads"
	defaultServeRegion  = "us-east-1"
	defaultServeMaxSize = 10 << 20
	// defaultMaxMultipartSize is the largest file uploaded in parts: S3's
	// largest single PUT, which multipart uploads exist to go beyond.
	defaultMaxMultipartSize = 5 << 30
	defaultServeExpires     = 10 * time.Minute
	defaultContentTypes     = "image/"
	shutdownTimeout         = 10 * time.Second

	// defaultUserQuota is ten files of the default -max-size: enough to
	// try the demo, little enough that a few names cannot fill a disk.
	defaultUserQuota = 100 << 20
	// defaultDataQuota is ten users at their quota, in the user's cache
	// directory (the default -data): small on any machine that runs a
	// browser.
	defaultDataQuota = 1 << 30
	// defaultMaxUploads bounds the uploads received at once. Each holds a
	// goroutine, a connection, an open temporary file and up to about
	// 20 KB of fields read before its file; 16 is more than the users of a
	// demo send at once (a browser opens at most 6 connections to a
	// host), and keeps the open files far below the common limit of 1024
	// per process.
	defaultMaxUploads = 16
	// longExpires is the -expires beyond which the summary says that the
	// forms' lifetime is unusually long: a form only has to last until
	// its user starts the upload, a matter of minutes.
	longExpires = 72 * time.Hour
	// bucketCheckTimeout bounds the check of the bucket at start.
	bucketCheckTimeout = 15 * time.Second
)

// The limits of serve's HTTP server, against slow and hostile clients.
// None bounds a request's total duration, which would cut off a legitimate
// large upload over a slow link: every timeout is about a client that
// stops, not one that is slow.
const (
	// defaultHeaderTimeout is how long a client may take to send a
	// request's line and headers: a few hundred bytes that browsers send
	// at once. A slowloris client trickling headers is cut off after it.
	defaultHeaderTimeout = 10 * time.Second
	// defaultIOTimeout is how long a request may go without progress:
	// before each read of its body, and each write of its answer, the
	// connection's deadline moves this far ahead, so a client that keeps
	// sending (or reading) is never cut off and one that stalls mid-body
	// (or stops reading the answer) is, after this long. nginx's
	// client_body_timeout and send_timeout follow the same rule with 60
	// seconds; 30 is still far beyond the pauses of a working connection
	// (TCP's retransmission timeouts start under a second and double), and
	// halves how long a stalled client holds a goroutine, a connection and
	// an open temporary file.
	defaultIOTimeout = 30 * time.Second
	// defaultKeepAliveTimeout is how long an idle keep-alive connection
	// stays open between requests; a browser that needs it later opens a
	// new one.
	defaultKeepAliveTimeout = 2 * time.Minute
	// defaultMaxHeaderBytes bounds a request's line and headers (Go adds
	// 4 KiB of slack): 64 KiB is several times what a browser sends, even
	// with the cookies of every other application on localhost, and one
	// sixteenth of Go's default (1 MiB). Larger headers are answered 431.
	defaultMaxHeaderBytes = 64 << 10
)

// serveLimits are the limits of serve's HTTP server; zero values take the
// defaults above. Tests shorten the timeouts.
type serveLimits struct {
	headerTimeout    time.Duration
	ioTimeout        time.Duration
	keepAliveTimeout time.Duration
	maxHeaderBytes   int
}

// withDefaults returns l with its zero values replaced by the defaults.
func (l serveLimits) withDefaults() serveLimits {
	if l.headerTimeout == 0 {
		l.headerTimeout = defaultHeaderTimeout
	}
	if l.ioTimeout == 0 {
		l.ioTimeout = defaultIOTimeout
	}
	if l.keepAliveTimeout == 0 {
		l.keepAliveTimeout = defaultKeepAliveTimeout
	}
	if l.maxHeaderBytes == 0 {
		l.maxHeaderBytes = defaultMaxHeaderBytes
	}
	return l
}

// reservedBuckets are the names the embedded target cannot serve, because
// the page's own routes use them.
var reservedBuckets = []string{"api", "static", "signin", "signout"}

// serveOptions holds the flags of serve, checked.
type serveOptions struct {
	addr         string
	bucket       string
	region       string
	data         string
	maxSize      byteSize
	maxMultipart byteSize
	contentTypes string
	expires      time.Duration
	endpoint     string
	aws          bool
	publicURL    string
	userQuota    byteSize
	dataQuota    byteSize
	maxUploads   int
	checkBucket  bool

	types  backend.ContentTypes // parsed from contentTypes
	public *url.URL             // parsed from publicURL; nil without it
	set    map[string]bool      // the flags given on the command line

	// onListen, when set, is called with the page's base URL once the
	// server listens (tests use it to learn the port of 127.0.0.1:0).
	onListen func(baseURL string)
	// limits are the HTTP server's timeouts and header limit; tests set
	// them, the zero value means the defaults.
	limits serveLimits
	// bucketClient, when set, sends the check of the bucket at start
	// (tests point it at a fake store).
	bucketClient *http.Client
}

// remote reports whether the page uploads to a real store.
func (o *serveOptions) remote() bool { return o.endpoint != "" || o.aws }

// newServeFlags returns the flag set of serve, storing into o.
func newServeFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("postpolicy serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	// -max-size stays 0 until parsed, so that PrintDefaults shows the
	// default as written below rather than in bytes.
	fs.StringVar(&o.addr, "addr", defaultServeAddr, "the `address` to listen on, host:port; port 0 picks a free port")
	fs.StringVar(&o.bucket, "bucket", defaultServeBucket, "the `name` of the bucket to upload to")
	fs.StringVar(&o.region, "region", defaultServeRegion, "the bucket's `region`")
	fs.StringVar(&o.data, "data", "", "the `directory` where the embedded target keeps objects\n(default "+defaultDataDirText+")")
	fs.Var(&o.maxSize, "max-size", "the largest file accepted by a POST form or a presigned PUT, as a `SIZE` such as 10MiB or 500KB\n(default 10MiB)")
	fs.Var(&o.maxMultipart, "max-multipart-size", "the largest file accepted by a multipart upload, as a `SIZE` (default 5GiB); with the\nembedded target, the user's quota limits it too")
	fs.StringVar(&o.contentTypes, "content-types", defaultContentTypes, "the accepted content types, a comma-separated `list` of prefixes ending in /\n(image/) or exact types (application/pdf); * accepts any type")
	fs.DurationVar(&o.expires, "expires", defaultServeExpires, "how long each signed form stays valid, as a Go `duration`")
	fs.StringVar(&o.endpoint, "endpoint", "", "upload to the S3-compatible store at this base `URL` instead of the embedded target")
	fs.BoolVar(&o.aws, "aws", false, "upload to the bucket on Amazon S3 instead of the embedded target")
	fs.StringVar(&o.publicURL, "public-url", "", "the `URL` browsers reach serve at, such as http://192.168.1.5:8080 when it listens on\nall interfaces; the page answers to its host too, and the embedded target's forms post to it")
	fs.Var(&o.userQuota, "user-quota", "the most each user may store on the embedded target, as a `SIZE` (default 100MiB)")
	fs.Var(&o.dataQuota, "data-quota", "the most the embedded target stores in all, under -data, as a `SIZE` (default 1GiB)")
	fs.IntVar(&o.maxUploads, "max-uploads", defaultMaxUploads, "the `number` of uploads the embedded target receives at once, at most; more are\nanswered 503 SlowDown")
	fs.BoolVar(&o.checkBucket, "check-bucket", true, "with -endpoint or -aws, check at start that the bucket exists and the credentials may use it")
	return fs
}

// defaultDataDir returns the default -data directory: a directory in the
// user's cache directory, which does not land in a source checkout.
func defaultDataDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "postpolicy", "serve")
	}
	return filepath.Join(os.TempDir(), "postpolicy-serve")
}

// defaultDataDirText describes defaultDataDir in the usage.
const defaultDataDirText = "postpolicy/serve in the user cache directory, such as ~/.cache/postpolicy/serve"

// writeServeUsage writes the usage of serve to w.
func writeServeUsage(w io.Writer) {
	var o serveOptions
	fs := newServeFlags(&o)
	var b strings.Builder
	b.WriteString(serveUsage)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	b.WriteString(serveExitStatus)
	io.WriteString(w, b.String())
}

// parseServeArgs parses and checks the flags of serve. A returned error is
// a usage error.
func parseServeArgs(args []string) (*serveOptions, error) {
	o := &serveOptions{}
	fs := newServeFlags(o)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.set = make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: serve takes flags only", fs.Arg(0))
	}
	if !o.set["max-size"] {
		o.maxSize = defaultServeMaxSize
	}
	if !o.set["max-multipart-size"] {
		o.maxMultipart = defaultMaxMultipartSize
	}
	if !o.set["user-quota"] {
		o.userQuota = defaultUserQuota
	}
	if !o.set["data-quota"] {
		o.dataQuota = defaultDataQuota
	}
	if o.aws && o.endpoint != "" {
		return nil, errors.New("-aws and -endpoint are mutually exclusive: -aws uploads to Amazon S3, -endpoint to another S3-compatible store")
	}
	for _, name := range []string{"data", "user-quota", "data-quota", "max-uploads"} {
		if o.remote() && o.set[name] {
			return nil, fmt.Errorf("-%s applies to the embedded target only; with -endpoint or -aws the objects are in the bucket", name)
		}
	}
	if !o.remote() && o.set["check-bucket"] {
		return nil, errors.New("-check-bucket applies to -endpoint and -aws only; the embedded target's bucket is made at start")
	}
	if o.publicURL != "" {
		u, err := parsePublicURL(o.publicURL)
		if err != nil {
			return nil, err
		}
		o.public = u
	}
	if !o.remote() {
		for _, r := range reservedBuckets {
			if o.bucket == r {
				return nil, fmt.Errorf("-bucket %q is taken by the page's own routes (/%s/...); the embedded target cannot serve the buckets %s: choose another name", o.bucket, r, strings.Join(reservedBuckets, ", "))
			}
		}
	}
	if o.maxSize < 1 {
		return nil, errors.New("-max-size must be at least 1 byte")
	}
	if o.maxMultipart < 1 || o.maxMultipart > s3multipart.MaxObjectSize {
		return nil, fmt.Errorf("-max-multipart-size must be between 1 byte and 5 TiB (5120GiB), S3's largest object, not %s", sizeText(int64(o.maxMultipart)))
	}
	if !o.remote() {
		for _, q := range []struct {
			name string
			size byteSize
		}{{"-user-quota", o.userQuota}, {"-data-quota", o.dataQuota}} {
			if q.size < o.maxSize {
				return nil, fmt.Errorf("%s (%s) is less than -max-size (%s): a file of the largest size could never be stored; raise %s or lower -max-size", q.name, sizeText(int64(q.size)), sizeText(int64(o.maxSize)), q.name)
			}
		}
		if o.maxUploads < 1 {
			return nil, fmt.Errorf("-max-uploads must be at least 1, not %d", o.maxUploads)
		}
	}
	if o.expires <= 0 {
		return nil, fmt.Errorf("-expires must be positive, not %s", o.expires)
	}
	types, err := parseContentTypes(o.contentTypes)
	if err != nil {
		return nil, fmt.Errorf("-content-types: %w", err)
	}
	o.types = types
	if o.data == "" {
		o.data = defaultDataDir()
	}
	// Prepare the upload endpoint once, with a throwaway Signer, so that a
	// region, endpoint, bucket name, size or lifetime S3 would refuse is a
	// usage error now rather than a 500 later.
	probe := &postpolicy.Signer{Credentials: generateCredentials(), Region: o.region, Endpoint: o.endpoint}
	if !o.remote() && o.public != nil {
		probe.Endpoint, probe.URLStyle = o.public.String(), postpolicy.URLStylePath
	}
	if _, err := o.uploads(probe, nil, nil); err != nil {
		return nil, flagError(err)
	}
	return o, nil
}

// parsePublicURL parses -public-url: an http or https URL of a host, with
// no path, query or user info (serve's routes are at the root). Like the
// library's endpoint check, its errors never quote a URL holding '@',
// which may carry a password.
func parsePublicURL(s string) (*url.URL, error) {
	shown := strconv.Quote(s)
	if strings.Contains(s, "@") {
		shown = "(not shown: it holds '@')"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Opaque != "":
		return nil, fmt.Errorf("-public-url %s is not a URL such as http://192.168.1.5:8080", shown)
	case u.User != nil:
		return nil, errors.New("-public-url must not carry user info")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("-public-url %s must start with http:// or https://", shown)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("-public-url %s has no host", shown)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("-public-url must not have a path (%s): serve's page is at the root of its host", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("-public-url must not have a query or a fragment (%s)", shown)
	}
	// Without the scheme's default port, as browsers write the origin.
	host := strings.ToLower(u.Host)
	if u.Port() == defaultPort(u.Scheme) {
		host = strings.TrimSuffix(host, ":"+u.Port())
	}
	return &url.URL{Scheme: u.Scheme, Host: host}, nil
}

// flagError words an error of the library about serve's configuration
// in the terms of its flags.
func flagError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if errors.Is(err, postpolicy.ErrSignerConfig) {
		msg = strings.TrimPrefix(msg, postpolicy.ErrSignerConfig.Error()+": ")
		msg = strings.NewReplacer("Region ", "-region ", "Endpoint ", "-endpoint ").Replace(msg)
		return errors.New(msg)
	}
	return errors.New(strings.TrimPrefix(msg, "postpolicy: "))
}

// uploads returns the form endpoint: each form lets a user upload one file
// under users/NAME/ with the file's name, of 1 byte to -max-size, of a
// type in -content-types, for -expires, with success_action_status 201 (so
// that the page reads the key back from S3's XML answer), signed by
// signer.
func (o *serveOptions) uploads(signer *postpolicy.Signer, user func(*http.Request) (string, bool), errorLog func(*http.Request, error)) (*backend.Uploads, error) {
	if user == nil {
		user = func(*http.Request) (string, bool) { return "", false }
	}
	return backend.New(backend.Config{
		Signer:       signer,
		Bucket:       o.bucket,
		MaxSize:      int64(o.maxSize),
		Lifetime:     o.expires,
		ContentTypes: o.types,
		KeyPrefix:    userPrefix,
		User:         user,
		ErrorLog:     errorLog,
	})
}

// userPrefix returns the key prefix of a user's uploads.
func userPrefix(name string) string { return "users/" + name + "/" }

// keyOwner returns the user whose prefix (userPrefix) key is under, or ""
// for a key under no user's prefix.
func keyOwner(key string) string {
	rest, ok := strings.CutPrefix(key, "users/")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "/")
	if !ok || !validUserName(name) {
		return ""
	}
	return name
}

// parseContentTypes parses -content-types: a comma-separated list of
// content type prefixes (ending in "/"), exact types, or "*" (any type).
// Entries are lower-cased, as browsers report file types in lower case.
func parseContentTypes(s string) (backend.ContentTypes, error) {
	var types backend.ContentTypes
	for entry := range strings.SplitSeq(s, ",") {
		e := strings.ToLower(strings.TrimSpace(entry))
		switch {
		case e == "":
			return nil, errors.New("an empty entry; give prefixes such as image/ or types such as application/pdf, separated by commas")
		case e == "*" || e == "*/*":
			types = append(types, "")
			continue
		}
		typ, sub, ok := strings.Cut(strings.TrimSuffix(e, "*"), "/")
		if !ok || !backend.MIMEToken(typ) || (sub != "" && !backend.MIMEToken(sub)) {
			return nil, fmt.Errorf("%q is neither a prefix such as image/ nor a type such as application/pdf", strings.TrimSpace(entry))
		}
		types = append(types, backend.ContentType(typ+"/"+sub))
	}
	return types, nil
}

// runServe is the serve subcommand.
func runServe(args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseServeArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		writeServeUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "postpolicy serve: %v\nRun 'postpolicy serve -h' for usage.\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	if err := serve(ctx, o, env, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "postpolicy serve: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the demo until ctx is done, then shuts the server down,
// waiting up to shutdownTimeout for requests in flight. It returns an
// error when it cannot start; the startup summary goes to stdout, the
// request log to stderr.
func serve(ctx context.Context, o *serveOptions, env func(string) string, stdout, stderr io.Writer) error {
	creds, credsFrom, err := serveCredentials(o, env)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen on %s: the address is already in use (is another server running?); stop it or choose another address with -addr, such as -addr %s", o.addr, nextAddr(o.addr))
		}
		return fmt.Errorf("cannot listen on %s: %v; choose another address with -addr", o.addr, unwrapOpError(err))
	}
	defer ln.Close()
	base := baseURL(ln.Addr())

	logger := log.New(stderr, "", log.LstdFlags)
	var store *dirStore
	removed := 0
	if !o.remote() {
		if store, removed, err = newDirStore(o.data, o.bucket); err != nil {
			return fmt.Errorf("data directory %s: %w", o.data, err)
		}
	}
	a, err := newApp(o, creds, store, base, logger)
	if err != nil {
		return err
	}
	if o.remote() && o.checkBucket {
		client := o.bucketClient
		if client == nil {
			client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		cctx, cancel := context.WithTimeout(ctx, bucketCheckTimeout)
		err := checkBucket(cctx, client, a.targetURL, o, creds, time.Now())
		cancel()
		if err != nil {
			return err
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "postpolicy serve: the browser upload demo\n")
	fmt.Fprintf(&b, "  page:        %s/\n", a.origin)
	if o.remote() {
		fmt.Fprintf(&b, "  target:      %s (bucket %q, region %s)\n", a.targetURL, o.bucket, o.region)
		if o.checkBucket {
			fmt.Fprintf(&b, "               (checked: the bucket exists and the credentials may use it)\n")
		}
	} else {
		fmt.Fprintf(&b, "  target:      the embedded S3 endpoint, bucket %q: POST %s/%s, PUT and GET %s/%s/KEY (GET its owner only)\n", o.bucket, a.origin, o.bucket, a.origin, o.bucket)
		objects, used := store.usage()
		fmt.Fprintf(&b, "  data:        %s (%d objects, %s)\n", store.root, objects, sizeText(used))
		if removed > 0 {
			fmt.Fprintf(&b, "               (removed %d files left by interrupted uploads)\n", removed)
		}
		fmt.Fprintf(&b, "  limits:      %s per user, %s in all, %d uploads at once\n", sizeText(int64(o.userQuota)), sizeText(int64(o.dataQuota)), o.maxUploads)
	}
	fmt.Fprintf(&b, "  credentials: %s, access key id %s\n", credsFrom, creds.AccessKeyID)
	fmt.Fprintf(&b, "  policy:      key users/NAME/${filename}, %s, 1 byte to %s, valid %s\n", o.types, sizeText(int64(o.maxSize)), durationText(o.expires))
	fmt.Fprintf(&b, "  put:         presigned PUT of users/NAME/FILE, its exact type and size, valid %s\n", durationText(o.expires))
	fmt.Fprintf(&b, "  multipart:   %s (Uppy's companionEndpoint): users/NAME/ID/FILE, %s, 1 byte to %s,\n", multipartPath, o.types, sizeText(int64(o.maxMultipart)))
	fmt.Fprintf(&b, "               in parts of 5 MiB or more, each URL signed for its exact size; resumable;\n")
	fmt.Fprintf(&b, "               uploads not completed within %s aborted\n", durationText(multipartLifetime))
	if !o.remote() {
		fmt.Fprintf(&b, "               (parts kept in %s until the upload ends; its size counts against the quotas)\n", store.partDir())
	}
	if o.expires > longExpires {
		fmt.Fprintf(&b, "  warning:     -expires %s is unusually long: whoever obtains a signed form may\n", durationText(o.expires))
		fmt.Fprintf(&b, "               upload with it until it expires, and a form only has to last until\n")
		fmt.Fprintf(&b, "               its user starts the upload (the default is %s)\n", durationText(defaultServeExpires))
	}
	fmt.Fprintf(&b, "  hosts:       %s; any other Host is answered 421\n", strings.Join(a.hostList, ", "))
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() && o.public == nil {
		fmt.Fprintf(&b, "  note:        listening on all interfaces, but answering to the loopback names only;\n")
		fmt.Fprintf(&b, "               for other machines, give the URL they reach this one at with -public-url\n")
	}
	if o.remote() {
		writeCORSAdvice(&b, o, a.corsOrigins())
	}
	fmt.Fprintf(&b, "listening on %s\n", base)
	fmt.Fprintf(&b, "Open %s/ in a browser; press Ctrl-C to stop.\n", a.origin)
	io.WriteString(stdout, b.String())

	srv := newHTTPServer(logRequests(idleTimeouts(a, o.limits.withDefaults().ioTimeout), logger), o.limits, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Abandoned multipart uploads are aborted from a timer, stopped
	// before serve returns.
	sweepCtx, stopSweeps := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		a.runSweeps(sweepCtx, multipartSweepEvery)
	}()
	defer func() {
		stopSweeps()
		<-sweepDone
	}()
	if o.onListen != nil {
		o.onListen(base)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", o.addr, err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutting down: requests still running after %s: %w", shutdownTimeout, err)
	}
	<-errc
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// newHTTPServer returns serve's HTTP server for h, with the limits l
// (zero values: the defaults).
//
// ReadTimeout and WriteTimeout are set to the I/O timeout so that the
// server itself bounds what no handler sees: the wait for a body a
// handler never reads (the server discards up to 256 KiB of it after the
// handler), and the writing of an answer the server makes itself (431,
// 400); within a handler, idleTimeouts moves these deadlines ahead at each
// read and write, which turns them into idle timeouts.
func newHTTPServer(h http.Handler, l serveLimits, logger *log.Logger) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.headerTimeout,
		ReadTimeout:       l.ioTimeout,
		WriteTimeout:      l.ioTimeout,
		IdleTimeout:       l.keepAliveTimeout,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          logger,
	}
}

// idleTimeouts makes d an idle timeout for the request's body and answer:
// before each read of the body the connection's read deadline moves to d
// from now, and before each write of the answer (and when the handler
// returns, for the server's last flush) its write deadline does. A client
// that sends or reads steadily is never cut off, whatever the size; one
// that stalls for d is: the read fails (the Verifier answers
// IncompleteBody) or the write does, and the server closes the
// connection.
//
// Once the body has returned an error or io.EOF the read deadline is left
// alone: the server then watches the connection for the client going away
// with a read of its own, which a deadline would end and so cancel the
// request's context.
func idleTimeouts(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{ReadCloser: r.Body, rc: rc, d: d}
		}
		iw := &idleWriter{ResponseWriter: w, rc: rc, d: d}
		defer iw.extend()
		h.ServeHTTP(iw, r)
	})
}

// idleBody is a request body whose every read moves the read deadline.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	d    time.Duration
	done bool // the body returned an error or io.EOF
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.done {
		b.rc.SetReadDeadline(time.Now().Add(b.d))
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

// idleWriter is a ResponseWriter whose every write moves the write
// deadline.
type idleWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *idleWriter) extend() { w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *idleWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *idleWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (w *idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unwrapOpError returns the innermost cause of a net.OpError, which names
// the address only once in the message serve builds around it.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// nextAddr suggests another address: addr with the next port.
func nextAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:8081"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		return net.JoinHostPort(host, "8081")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// baseURL returns the URL a browser on this machine reaches addr at: an
// unspecified address (0.0.0.0, ::) becomes localhost.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// serveCredentials returns the credentials serve signs with, and where
// they came from. The embedded target uses the environment's when both
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set, else generates a
// pair; a real target needs the environment's.
func serveCredentials(o *serveOptions, env func(string) string) (postpolicy.Credentials, string, error) {
	if o.remote() {
		c, err := postpolicy.EnvCredentials(env)
		if err != nil {
			return postpolicy.Credentials{}, "", fmt.Errorf("%s; -endpoint and -aws sign with the bucket owner's credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", strings.TrimPrefix(err.Error(), "postpolicy: "))
		}
		return c, "from the environment", nil
	}
	if env("AWS_ACCESS_KEY_ID") != "" && env("AWS_SECRET_ACCESS_KEY") != "" {
		c, err := postpolicy.EnvCredentials(env)
		if err != nil {
			return postpolicy.Credentials{}, "", errors.New(strings.TrimPrefix(err.Error(), "postpolicy: "))
		}
		return c, "from the environment", nil
	}
	return generateCredentials(), "generated at start", nil
}

// generateCredentials returns a random access key id and secret for the
// embedded target, shaped like AWS's: AKIA and 16 upper-case hex digits,
// and a 40-character secret.
func generateCredentials() postpolicy.Credentials {
	id := make([]byte, 8)
	secret := make([]byte, 30)
	rand.Read(id)
	rand.Read(secret)
	return postpolicy.Credentials{
		AccessKeyID:     "AKIA" + strings.ToUpper(hex.EncodeToString(id)),
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
	}
}

// corsRule is one rule of a bucket's CORS configuration, in the shape of
// "aws s3api put-bucket-cors --cors-configuration".
type corsRule struct {
	AllowedOrigins []string
	AllowedMethods []string
	AllowedHeaders []string
	ExposeHeaders  []string
	MaxAgeSeconds  int
}

// corsConfiguration returns the CORS configuration that lets pages on
// origins upload to the bucket, with a POST form, a presigned PUT (whose
// Content-Type and x-amz-meta-uploader headers make the browser ask
// first: AllowedHeaders) or the presigned PUTs of a multipart upload's
// parts, and read S3's answer, ETag included: the page (and Uppy) read
// each part's ETag to complete the upload.
func corsConfiguration(origins []string) []byte {
	cfg := struct{ CORSRules []corsRule }{[]corsRule{{
		AllowedOrigins: origins,
		AllowedMethods: []string{"POST", "PUT"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"ETag", "Location"},
		MaxAgeSeconds:  600,
	}}}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// writeCORSAdvice writes the CORS rule a real target needs, and how to
// apply it.
func writeCORSAdvice(b *strings.Builder, o *serveOptions, origins []string) {
	b.WriteString("\nThe page uploads straight to the bucket (POST and PUT, the parts of multipart\n")
	b.WriteString("uploads included, whose ETag it reads), from another origin, so the bucket\n")
	b.WriteString("needs a CORS rule that allows it. Save this as cors.json:\n\n")
	b.Write(corsConfiguration(origins))
	b.WriteString("\n\nand apply it with\n\n")
	fmt.Fprintf(b, "  aws s3api put-bucket-cors --bucket %s --cors-configuration file://cors.json", o.bucket)
	if o.endpoint != "" {
		fmt.Fprintf(b, " --endpoint-url %s", shellQuote(o.endpoint))
	}
	b.WriteString("\n\n")
	if o.endpoint != "" {
		b.WriteString("(Some S3-compatible servers set CORS for the whole server instead; see their\ndocumentation.)\n\n")
	}
	fmt.Fprintf(b, "Serve aborts the multipart uploads left incomplete for %s while it runs; a\n", durationText(multipartLifetime))
	b.WriteString("lifecycle rule with AbortIncompleteMultipartUpload on the bucket does it when\nit does not.\n\n")
}

// durationText returns d as a person reads it: "10 minutes", "2 hours 30
// minutes", "1 minute 30 seconds". It names at most two units, the
// largest one d holds and the next, and says "about" when it leaves out
// smaller ones: "about 1069 days 21 hours".
func durationText(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "less than a millisecond"
	case d < time.Second:
		return countText(int64(d/time.Millisecond), "millisecond", "milliseconds")
	}
	units := []struct {
		size      time.Duration
		one, many string
	}{{24 * time.Hour, "day", "days"}, {time.Hour, "hour", "hours"}, {time.Minute, "minute", "minutes"}, {time.Second, "second", "seconds"}}
	i := 0
	for d < units[i].size {
		i++
	}
	var parts []string
	rest := d
	for _, u := range units[i:min(i+2, len(units))] {
		n := rest / u.size
		rest -= n * u.size
		if n > 0 {
			parts = append(parts, countText(int64(n), u.one, u.many))
		}
	}
	text := strings.Join(parts, " ")
	if rest > 0 {
		text = "about " + text
	}
	return text
}

// countText returns "1 " + one, or n and many.
func countText(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// sizeText returns n bytes as a person reads them: "10 MiB" when exact in
// binary units, "500 KB" in decimal ones, else "12345 bytes".
func sizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
	}
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
