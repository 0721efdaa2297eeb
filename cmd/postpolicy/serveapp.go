package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/examples/backend"
	"github.com/postpolicy/postpolicy/receiver"
	"github.com/postpolicy/postpolicy/s3multipart"
)

// web holds the page's template and its static assets. The page loads
// nothing from anywhere else.
//
//go:embed web
var web embed.FS

// pageTemplate is the upload page.
var pageTemplate = template.Must(template.ParseFS(web, "web/index.html"))

// app is the HTTP side of serve: the page, sign-in, the form endpoint, the
// list of uploads and, for the embedded target, the S3 POST endpoint.
type app struct {
	o        *serveOptions
	creds    postpolicy.Credentials
	sessions *sessions
	log      *log.Logger
	mux      *http.ServeMux
	csp      string // the page's Content-Security-Policy

	// uploads answers GET /api/form and POST /api/put: one Signer and
	// one prepared Template for the process.
	uploads *backend.Uploads
	// signer is the Signer of uploads; for a real target it also signs
	// the list's links (presigned GETs).
	signer *postpolicy.Signer
	// targetURL is the URL forms post to.
	targetURL string
	// multipart answers the multipart routes under multipartPath, with
	// the signer of uploads; see servemultipart.go.
	multipart *s3multipart.Backend

	// origin is the page's own origin, scheme://host[:port]: -public-url
	// when given, else the address serve listens on. The embedded
	// target's forms post there, and so the page must be loaded from it
	// for its uploads to be same-origin; originKey is its host as
	// hostKey writes it.
	origin, originKey, originScheme string
	// base is the URL of the address serve listens on.
	base string
	// hosts are the Host header values the page answers to, in lower
	// case (see allowHosts); hostList the same with their ports, in the
	// order the summary shows them.
	hosts    map[string]bool
	hostList []string
	// secure marks session cookies Secure: the page is reached over
	// https (-public-url https://...), through a proxy that ends TLS.
	secure bool

	// The embedded target.
	store       *dirStore
	recv        http.Handler
	recvHandler *receiver.Handler // recv's Handler, whose stale uploads runSweeps aborts
	uploadSlots chan struct{}     // one token per upload being received (-max-uploads)

	// A real target: what the page reported.
	reports *uploadReports
}

// newApp returns the application for the options o, signing with creds,
// its page served at base (http://HOST:PORT). store is the embedded
// target's store; nil for a real target (-endpoint, -aws), whose
// configuration newApp checks by signing an example form.
func newApp(o *serveOptions, creds postpolicy.Credentials, store *dirStore, base string, logger *log.Logger) (*app, error) {
	a := &app{o: o, creds: creds, sessions: newSessions(12 * time.Hour), log: logger, store: store, origin: base, base: base}
	if o.public != nil {
		a.origin = o.public.String()
		a.secure = o.public.Scheme == "https"
	}
	if err := a.allowHosts(base); err != nil {
		return nil, err
	}
	signer := &postpolicy.Signer{Credentials: creds, Region: o.region, Endpoint: o.endpoint}
	if !o.remote() {
		if store == nil {
			return nil, errors.New("the embedded target needs a store")
		}
		// The form posts back to the page's own origin, path-style.
		signer.Endpoint, signer.URLStyle = a.origin, postpolicy.URLStylePath
		store.userQuota, store.dataQuota = int64(o.userQuota), int64(o.dataQuota)
		a.recvHandler = a.receiver()
		a.recv = a.recvHandler
		a.uploadSlots = make(chan struct{}, max(o.maxUploads, 1))
	}
	uploads, err := o.uploads(signer, a.sessions.user, func(r *http.Request, err error) {
		a.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	})
	if err != nil {
		return nil, fmt.Errorf("cannot sign upload forms: %v", flagError(err))
	}
	a.uploads, a.signer = uploads, signer
	a.multipart = a.newMultipart(signer)
	example, err := uploads.Sign(context.Background(), "example", exampleType(o.types[0]))
	if err != nil {
		return nil, fmt.Errorf("cannot sign upload forms: %v", flagError(err))
	}
	a.targetURL = example.URL
	connect := "'self'"
	if o.remote() {
		a.reports = &uploadReports{byUser: make(map[string][]uploadItem)}
		if u, err := url.Parse(example.URL); err == nil {
			connect += " " + u.Scheme + "://" + u.Host
		}
	}
	a.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src " + connect +
		"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

	static, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(static)
	csrf := http.NewCrossOriginProtection()
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", a.index)
	m.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	m.Handle("POST /signin", csrf.Handler(http.HandlerFunc(a.signIn)))
	m.Handle("POST /signout", csrf.Handler(http.HandlerFunc(a.signOut)))
	m.Handle("/api/form", csrf.Handler(a.uploads))
	m.Handle("/api/put", csrf.Handler(a.uploads.PutHandler()))
	m.Handle(multipartPath+"/", csrf.Handler(http.StripPrefix(multipartPath, http.HandlerFunc(a.serveMultipart))))
	m.HandleFunc("GET /api/uploads", a.listUploads)
	if a.reports != nil {
		m.Handle("POST /api/uploads", csrf.Handler(http.HandlerFunc(a.reportUpload)))
	}
	a.mux = m
	return a, nil
}

// allowHosts fills the hosts the page answers to, for a server listening
// at base (http://HOST:PORT): the loopback names 127.0.0.1, localhost and
// [::1] with the port, base's own host, and the host of -public-url. A
// host name that is not in this list is how a DNS rebinding attack shows
// itself: a page of the attacker's site, whose name now resolves to this
// machine, sends its own name as Host.
func (a *app) allowHosts(base string) error {
	b, err := url.Parse(base)
	if err != nil || b.Port() == "" {
		return fmt.Errorf("the server's base URL %q has no port", base)
	}
	a.hosts = make(map[string]bool)
	add := func(scheme, host, port string) {
		h := strings.ToLower(net.JoinHostPort(host, port))
		shown := h
		if port == defaultPort(scheme) {
			// Browsers leave out the scheme's default port.
			shown = strings.TrimSuffix(h, ":"+port)
			a.hosts[shown] = true
		}
		if !a.hosts[h] {
			a.hostList = append(a.hostList, shown)
		}
		a.hosts[h] = true
	}
	add(b.Scheme, b.Hostname(), b.Port())
	for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
		add(b.Scheme, name, b.Port())
	}
	o, _ := url.Parse(a.origin)
	port := o.Port()
	if port == "" {
		port = defaultPort(o.Scheme)
	}
	add(o.Scheme, o.Hostname(), port)
	a.originKey, a.originScheme = hostKey(o.Host, o.Scheme), o.Scheme
	return nil
}

// defaultPort returns the port a URL of scheme has when it names none.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// hostKey returns a Host header value in lower case and with its port,
// scheme's default when it has none, so that two ways of writing one host
// compare equal.
func hostKey(host, scheme string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err != nil {
		return net.JoinHostPort(strings.Trim(host, "[]"), defaultPort(scheme))
	}
	return host
}

// corsOrigins returns the origins a page of serve may post from, for a
// real target's CORS rule: the address serve listens on and, when it is a
// loopback address, the same with localhost; and -public-url's.
func (a *app) corsOrigins() []string {
	origins := []string{a.base}
	if b, err := url.Parse(a.base); err == nil {
		if ip := net.ParseIP(b.Hostname()); ip != nil && ip.IsLoopback() {
			origins = append(origins, "http://"+net.JoinHostPort("localhost", b.Port()))
		}
	}
	if !slices.Contains(origins, a.origin) {
		origins = append(origins, a.origin)
	}
	return origins
}

// ServeHTTP answers only to the hosts of allowHosts. For the embedded
// target, it sends a browser that loaded the page under another allowed
// name to the page's origin, then gives the page's own routes to its mux
// and every other request to the target: S3's answers, such as
// NoSuchBucket, for any path that is not the page's. The target's
// requests bypass ServeMux, which would clean paths and so change keys
// holding "//" or "..".
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !a.hosts[strings.ToLower(r.Host)] {
		// No page and no redirect: a rebinding page must learn nothing,
		// and a mistyped name gets a reason.
		http.Error(w, "Misdirected request: this server answers only to the host names it was started for; "+
			"to reach it under another name, start it with -public-url (see postpolicy serve -h).", http.StatusMisdirectedRequest)
		return
	}
	if a.recv != nil && hostKey(r.Host, a.originScheme) != a.originKey {
		// The embedded target's forms post to the page's origin: a page
		// loaded under another name would post across origins, which its
		// Content-Security-Policy forbids. Send the browser there.
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use "+a.origin+"/", http.StatusMisdirectedRequest)
			return
		}
		http.Redirect(w, r, a.origin+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	}
	if a.recv != nil && !pageRoute(r.URL.Path) {
		a.serveTarget(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// pageRoute reports whether path is the page's own: "/" or under one of
// reservedBuckets.
func pageRoute(path string) bool {
	if path == "/" {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/")
	first, _, _ := strings.Cut(rest, "/")
	return ok && slices.Contains(reservedBuckets, first)
}

// errReadDenied answers a read of an object by anyone but its owner, as
// S3 answers a GET without permission.
var errReadDenied = &receiver.S3Error{Code: receiver.CodeAccessDenied, Status: http.StatusForbidden, Message: "Access Denied"}

// errSlowDown answers an upload over -max-uploads: S3's answer to more
// requests than it takes at once ("Error responses",
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
var errSlowDown = &receiver.S3Error{Code: receiver.CodeSlowDown, Status: http.StatusServiceUnavailable, Message: "Please reduce your request rate."}

// serveTarget passes a request to the embedded target: a read of an
// object only for its owner, the signed-in user whose prefix holds the
// key; an upload (a POST form or a presigned PUT; the Handler also takes
// the other POST and PUT calls, signed, of a multipart upload) only when
// fewer than -max-uploads are being received, else 503 SlowDown at once,
// without reading the body (the connection is then closed). The store
// counts every body it keeps, POST or PUT, against the quotas
// (dirStore.Put).
func (a *app) serveTarget(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// The Handler's route: the key is the decoded path after the
		// bucket.
		if key, ok := strings.CutPrefix(r.URL.Path, "/"+a.o.bucket+"/"); ok && key != "" {
			if name, ok := a.sessions.user(r); !ok || !strings.HasPrefix(key, userPrefix(name)) {
				receiver.WriteError(w, errReadDenied)
				return
			}
		}
	case http.MethodPost, http.MethodPut:
		select {
		case a.uploadSlots <- struct{}{}:
			defer func() { <-a.uploadSlots }()
		default:
			w.Header().Set("Connection", "close")
			receiver.WriteError(w, errSlowDown)
			return
		}
	}
	a.recv.ServeHTTP(w, r)
}

// receiver returns the embedded S3 endpoint (POST forms, presigned PUTs,
// GETs, and the multipart calls: the Backend's, signed, and the parts'
// presigned PUTs): receiver.Handler with a Verifier for the credentials,
// the disk store, and the store's part directory.
func (a *app) receiver() *receiver.Handler {
	// The handler serves objects sandboxed (they share the page's origin)
	// and reads the rest of a refused upload, up to the size limit and
	// some, so that the browser reads S3's error rather than a reset. The
	// errors behind its 500 answers (a full disk, say) are logged: the
	// answer does not say them. They come from the store and name files
	// under -data, never a credential.
	return &receiver.Handler{
		Verifier:   &receiver.Verifier{Lookup: receiver.StaticCredentials(a.creds), Region: a.o.region},
		Store:      a.store,
		Buckets:    []string{a.o.bucket},
		DrainLimit: int64(a.o.maxSize) + 32<<20,
		// The Location of an upload's answer has the page's scheme: https
		// behind a proxy that ends TLS (-public-url https://...).
		Scheme: a.originScheme,
		// The parts of multipart uploads on disk, so that memory does not
		// grow with a file's size, for as long as the Backend keeps the
		// upload (runSweeps aborts both).
		PartDir:         a.store.partDir(),
		MultipartExpiry: multipartLifetime,
		ErrorLog: func(r *http.Request, err error) {
			a.log.Printf("%s %s: %v", r.Method, r.URL.EscapedPath(), err)
		},
	}
}

// pageData is what the page's template shows.
type pageData struct {
	User        string
	Error       string
	Prefix      string
	Types       string
	MaxSize     int64
	MaxSizeText string
	// MaxMultipartText is -max-multipart-size; QuotaText, for the
	// embedded target, the user's quota.
	MaxMultipartText string
	QuotaText        string
	Expires          string
	Target           string // "embedded" or "remote"
	Where            string
}

// index serves the page.
func (a *app) index(w http.ResponseWriter, r *http.Request) {
	name, _ := a.sessions.user(r)
	a.render(w, http.StatusOK, name, "")
}

// render writes the page with status, for the signed-in user name ("" for
// none), showing errMsg.
func (a *app) render(w http.ResponseWriter, status int, name, errMsg string) {
	d := pageData{
		User:             name,
		Error:            errMsg,
		Types:            a.o.types.String(),
		MaxSize:          int64(a.o.maxSize),
		MaxSizeText:      sizeText(int64(a.o.maxSize)),
		MaxMultipartText: sizeText(int64(a.o.maxMultipart)),
		Expires:          durationText(a.o.expires),
		Target:           "embedded",
		Where:            "the embedded S3 endpoint of this server, bucket " + a.o.bucket,
	}
	if name != "" {
		d.Prefix = userPrefix(name)
	}
	if a.recv == nil {
		d.Target = "remote"
		d.Where = a.targetURL
	} else if a.o.userQuota > 0 {
		d.QuotaText = sizeText(int64(a.o.userQuota))
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		a.log.Printf("rendering the page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", a.csp)
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// signIn starts a session for the name posted in the sign-in form.
func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		a.render(w, http.StatusBadRequest, "", "The sign-in form could not be read.")
		return
	}
	name := r.PostForm.Get("name")
	if !validUserName(name) {
		a.render(w, http.StatusBadRequest, "", "A name is 1 to 32 lower-case letters, digits, - or _.")
		return
	}
	http.SetCookie(w, a.sessions.cookie(name, r.TLS != nil || a.secure))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signOut ends the session.
func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// exampleType returns a content type that c accepts.
func exampleType(c backend.ContentType) string {
	switch {
	case c == "":
		return "application/octet-stream"
	case strings.HasSuffix(string(c), "/"):
		return string(c) + "example"
	}
	return string(c)
}

// uploadItem is one upload in the page's list.
type uploadItem struct {
	Key          string    `json:"key"`
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"content_type,omitempty"`
	LastModified time.Time `json:"last_modified"`
	URL          string    `json:"url,omitempty"`
}

// listUploads answers GET /api/uploads: the signed-in user's uploads,
// newest first. For the embedded target they are read from the store; for
// a real target they are what the page reported during this run.
func (a *app) listUploads(w http.ResponseWriter, r *http.Request) {
	name, ok := a.sessions.user(r)
	if !ok {
		writeJSONError(w, http.StatusUnauthorized, "sign in to see your uploads")
		return
	}
	prefix := userPrefix(name)
	var items []uploadItem
	if a.store != nil {
		objs, err := a.store.List(a.o.bucket, prefix)
		if err != nil {
			a.log.Printf("listing %s: %v", prefix, err)
			writeJSONError(w, http.StatusInternalServerError, "could not list the uploads")
			return
		}
		for _, o := range objs {
			items = append(items, uploadItem{
				Key: o.Key, Name: strings.TrimPrefix(o.Key, prefix), Size: o.Size,
				ContentType: o.ContentType, LastModified: o.LastModified,
				URL: "/" + a.o.bucket + "/" + receiver.EscapeKey(o.Key),
			})
		}
	} else {
		items = a.reports.list(name)
		a.signLinks(r.Context(), items)
	}
	slices.SortStableFunc(items, func(x, y uploadItem) int {
		if c := y.LastModified.Compare(x.LastModified); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	if items == nil {
		items = []uploadItem{}
	}
	writeJSONResponse(w, http.StatusOK, struct {
		Uploads  []uploadItem `json:"uploads"`
		Verified bool         `json:"verified"`
	}{items, a.store != nil})
}

// reportUpload answers POST /api/uploads, with which the page reports an
// upload a real target accepted: {"key": ..., "size": ...}. The report is
// not checked against the bucket; it only has to be under the user's
// prefix and within the size range of one of the ways to upload.
func (a *app) reportUpload(w http.ResponseWriter, r *http.Request) {
	name, ok := a.sessions.user(r)
	if !ok {
		writeJSONError(w, http.StatusUnauthorized, "sign in to report an upload")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	var in struct {
		Key         string `json:"key"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "want {\"key\": ..., \"size\": ...}")
		return
	}
	prefix := userPrefix(name)
	switch {
	case !strings.HasPrefix(in.Key, prefix) || len(in.Key) == len(prefix) || len(in.Key) > 1024 || !utf8.ValidString(in.Key):
		writeJSONError(w, http.StatusBadRequest, "the key must be under "+prefix)
		return
	case in.Size < 1 || in.Size > max(int64(a.o.maxSize), int64(a.o.maxMultipart)):
		writeJSONError(w, http.StatusBadRequest, "the size is outside the policy's range")
		return
	case in.ContentType != "" && !backend.ValidContentType(in.ContentType):
		in.ContentType = ""
	}
	a.reports.add(name, uploadItem{
		Key: in.Key, Name: strings.TrimPrefix(in.Key, prefix), Size: in.Size, ContentType: in.ContentType,
		LastModified: time.Now().UTC().Truncate(time.Second),
	})
	w.WriteHeader(http.StatusNoContent)
}

// linkLifetime is how long the list's links to a real target's objects
// (presigned GETs) stay valid: long enough to click them after the list
// was shown, short enough that a copied link soon stops working. The
// page gets fresh ones each time it lists the uploads.
const linkLifetime = 15 * time.Minute

// inlineTypes are the content types whose objects a link to a real
// target shows in the browser, in that type whatever the object was
// stored with (the page reported it; the store was not asked): raster
// images and plain text, which a browser never runs as a page. Any other
// object is downloaded (Content-Disposition: attachment), so that no
// uploaded HTML, SVG or script is opened as a page of the store's origin.
var inlineTypes = map[string]string{
	"image/png":  "image/png",
	"image/jpeg": "image/jpeg",
	"image/gif":  "image/gif",
	"image/webp": "image/webp",
	"image/avif": "image/avif",
	"text/plain": "text/plain; charset=utf-8",
}

// linkOptions returns the response overrides of the link to an object of
// content type ct, as the page reported it.
func linkOptions(ct string) *postpolicy.GetOptions {
	if t, ok := inlineTypes[ct]; ok {
		return &postpolicy.GetOptions{ResponseContentType: t}
	}
	return &postpolicy.GetOptions{ResponseContentDisposition: "attachment"}
}

// signLinks sets the URL of each of a real target's items to a presigned
// GET of its object, valid for linkLifetime (see linkOptions); an item
// whose link cannot be signed keeps none, and the error is logged.
func (a *app) signLinks(ctx context.Context, items []uploadItem) {
	exp := time.Now().Add(linkLifetime)
	for i := range items {
		p, err := a.signer.PresignGet(ctx, a.o.bucket, items[i].Key, exp, linkOptions(items[i].ContentType))
		if err != nil {
			a.log.Printf("signing the link to %s: %v", items[i].Key, err)
			continue
		}
		items[i].URL = p.URL
	}
}

// uploadReports keeps, in memory, the uploads the page reported to a real
// target, per user.
type uploadReports struct {
	mu     sync.Mutex
	byUser map[string][]uploadItem
}

// maxReports is how many uploads per user uploadReports keeps.
const maxReports = 100

func (u *uploadReports) add(name string, it uploadItem) {
	u.mu.Lock()
	defer u.mu.Unlock()
	items := slices.DeleteFunc(u.byUser[name], func(x uploadItem) bool { return x.Key == it.Key })
	items = append(items, it)
	if len(items) > maxReports {
		items = items[len(items)-maxReports:]
	}
	u.byUser[name] = items
}

func (u *uploadReports) list(name string) []uploadItem {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.byUser[name])
}

// writeJSONResponse answers v as JSON with status.
func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSONError answers {"error": msg} with status, as FormHandler does.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSONResponse(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// sessionCookieName is the name of the session cookie.
const sessionCookieName = "postpolicy_session"

// sessions issues and checks session cookies: NAME.EXPIRY.MAC, where MAC
// is the HMAC-SHA256 of the name and expiry (Unix seconds) under a key
// made at random for the process.
type sessions struct {
	key [32]byte
	ttl time.Duration
	now func() time.Time
}

func newSessions(ttl time.Duration) *sessions {
	s := &sessions{ttl: ttl, now: time.Now}
	rand.Read(s.key[:])
	return s
}

func (s *sessions) mac(name string, exp int64) string {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("postpolicy serve session\x00" + name + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// cookie returns the session cookie of name: HttpOnly, SameSite=Lax, and
// Secure when the request came over TLS.
func (s *sessions) cookie(name string, secure bool) *http.Cookie {
	exp := s.now().Add(s.ttl)
	return &http.Cookie{
		Name:     sessionCookieName,
		Value:    name + "." + strconv.FormatInt(exp.Unix(), 10) + "." + s.mac(name, exp.Unix()),
		Path:     "/",
		MaxAge:   int(s.ttl / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// user returns the name of the request's session, and whether it has a
// valid, unexpired one.
func (s *sessions) user(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookieName)
	if err != nil {
		return "", false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || !validUserName(parts[0]) {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !hmac.Equal([]byte(parts[2]), []byte(s.mac(parts[0], exp))) {
		return "", false
	}
	if s.now().Unix() >= exp {
		return "", false
	}
	return parts[0], true
}

// validUserName reports whether name is 1 to 32 of a-z, 0-9, '-' and '_':
// safe in a key prefix, a cookie and a log line.
func validUserName(name string) bool {
	if len(name) < 1 || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response for the log,
// and the start of an error answer's body, where S3's error code is.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	head   []byte // the first bytes of a body answered with status >= 400
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	if w.status >= 400 && len(w.head) < maxLoggedHead {
		w.head = append(w.head, b[:min(len(b), maxLoggedHead-len(w.head))]...)
	}
	return n, err
}

// maxLoggedHead is how much of an error answer statusWriter keeps: enough
// for the XML declaration and S3's <Error><Code>.
const maxLoggedHead = 256

// s3Code returns the S3 error code at the start of an error answer, or ""
// when it holds none. Codes are letters only; anything else is not
// logged.
func s3Code(head []byte) string {
	_, rest, ok := strings.Cut(string(head), "<Error><Code>")
	if !ok {
		return ""
	}
	code, _, ok := strings.Cut(rest, "</Code>")
	if !ok || code == "" || len(code) > 64 {
		return ""
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return ""
		}
	}
	return code
}

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, escaped path, status,
// bytes sent, duration and, for an S3 error answer, its code (so that the
// log says why an upload failed even when its client went away before the
// answer). It never logs the query string, headers, cookies or form
// values.
func logRequests(h http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if code := s3Code(sw.head); code != "" {
			l.Printf("%s %s %d %dB %s %s", r.Method, r.URL.EscapedPath(), status, sw.bytes, time.Since(start).Round(time.Microsecond), code)
			return
		}
		l.Printf("%s %s %d %dB %s", r.Method, r.URL.EscapedPath(), status, sw.bytes, time.Since(start).Round(time.Microsecond))
	})
}
