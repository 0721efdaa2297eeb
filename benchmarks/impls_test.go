package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/postpolicy/postpolicy"
)

// impl is one implementation under comparison. Every benchmark and every
// check ranges over impls, so registering an implementation here is all it
// takes to include it.
type impl struct {
	name string
	// start builds what a backend builds once and shares between its
	// request handlers: a Signer, a client, a cached signing key.
	start func() (*instance, error)
}

var impls = []impl{
	{"postpolicy", startPostpolicy},
	{"postpolicy-json", startPostpolicyJSON},
	{"postpolicy-template", startPostpolicyTemplate},
	{"postpolicy-template-json", startPostpolicyTemplateJSON},
	{"minio-go", startMinio},
	{"aws-sdk-go-v2", startAWS},
	{"floor", startFloor},
	{"floor-prefix", startFloorPrefix},
}

// instance is a started implementation.
type instance struct {
	// newWorker returns what one goroutine signs with: the shared state
	// plus, for the floors, the goroutine's own buffers.
	newWorker func() worker
	// transport is the HTTP transport given to the implementation's
	// client, nil when it has none.
	transport *failingTransport
}

// worker signs for one goroutine.
type worker interface {
	// sign produces one fresh, complete signature of a freshly built
	// policy for userID, and keeps the result until the next call.
	sign(userID string) error
	// form returns the last result as a form: what the implementation
	// emitted and what the page must add before posting it.
	form() (formOut, error)
}

// formOut is an implementation's output in a common shape, for the checks.
type formOut struct {
	URL string
	// Fields are the fields the implementation emitted.
	Fields []postpolicy.Field
	// PageAdds are the fields the caller or the page must add, or
	// overwrite, before the file: those the implementation leaves to them.
	PageAdds []postpolicy.Field
}

// failingTransport fails every request and counts them: a signer must never
// touch the network.
type failingTransport struct{ requests atomic.Int64 }

func (t *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, fmt.Errorf("benchmarks: no network allowed: %s %s", r.Method, r.URL.Redacted())
}

// mapFields returns m's fields sorted by name.
func mapFields(m map[string]string) []postpolicy.Field {
	fs := make([]postpolicy.Field, 0, len(m))
	for k, v := range m {
		fs = append(fs, postpolicy.Field{Name: k, Value: v})
	}
	slices.SortFunc(fs, func(a, b postpolicy.Field) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

// --- postpolicy ---

// startPostpolicy builds one Signer, as a backend does, with the fixed
// clock of the floors.
func startPostpolicy() (*instance, error) {
	s := &postpolicy.Signer{
		Credentials: postpolicy.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken},
		Region:      region,
		Now:         fixedClock,
	}
	return &instance{newWorker: func() worker { return &postpolicyWorker{s: s} }}, nil
}

type postpolicyWorker struct {
	s      *postpolicy.Signer
	userID string
	last   *postpolicy.Form
}

func (w *postpolicyWorker) sign(userID string) error {
	var conds [6]postpolicy.Condition
	f, err := w.s.Sign(context.Background(), scenarioPolicy(&conds, userID))
	w.userID, w.last = userID, f
	return err
}

// scenarioPolicy returns the scenario's policy for userID, its conditions
// written into conds, an array on the caller's stack, as a Policy literal
// at the call would be, in the order the README's example writes them.
// Key with ${filename}: a starts-with on uploads/<user>/ in the policy,
// and the form carries the key uploads/<user>/${filename}.
func scenarioPolicy(conds *[6]postpolicy.Condition, userID string) postpolicy.Policy {
	*conds = [6]postpolicy.Condition{
		postpolicy.Bucket(bucket),
		postpolicy.Key(keyPrefix(userID) + "${filename}"),
		postpolicy.ContentTypePrefix(contentTypePfx),
		postpolicy.ContentLengthRange(minSize, maxSize),
		postpolicy.SuccessActionStatus(201),
		postpolicy.Meta("uploader", userID),
	}
	return postpolicy.Policy{Expiration: fixedClock().Add(expiresIn), Conditions: conds[:]}
}

func (w *postpolicyWorker) form() (formOut, error) {
	out := formOut{URL: w.last.URL, Fields: w.last.Fields}
	for _, c := range w.last.PageConditions {
		v, err := pageValue(c.Field(), w.userID)
		if err != nil {
			return formOut{}, err
		}
		out.PageAdds = append(out.PageAdds, postpolicy.Field{Name: c.Field(), Value: v})
	}
	return out, nil
}

// startPostpolicyJSON is startPostpolicy through Signer.AppendFormJSON: the
// form's JSON, what an endpoint answers the page (see FormHandler), into a
// buffer the worker reuses.
func startPostpolicyJSON() (*instance, error) {
	inst, err := startPostpolicy()
	if err != nil {
		return nil, err
	}
	s := inst.newWorker().(*postpolicyWorker).s
	return &instance{newWorker: func() worker { return &postpolicyJSONWorker{s: s} }}, nil
}

type postpolicyJSONWorker struct {
	s      *postpolicy.Signer
	userID string
	buf    []byte
}

func (w *postpolicyJSONWorker) sign(userID string) error {
	var conds [6]postpolicy.Condition
	var err error
	w.buf, err = w.s.AppendFormJSON(context.Background(), w.buf[:0], scenarioPolicy(&conds, userID))
	w.userID = userID
	return err
}

func (w *postpolicyJSONWorker) form() (formOut, error) {
	// The JSON's fields object keeps the order; a json.Decoder reads it
	// token by token.
	var doc struct {
		URL            string          `json:"url"`
		Method         string          `json:"method"`
		Fields         json.RawMessage `json:"fields"`
		PageConditions []struct {
			Field, Op, Value string
		} `json:"pageConditions"`
	}
	if err := json.Unmarshal(w.buf, &doc); err != nil {
		return formOut{}, err
	}
	if doc.Method != "POST" {
		return formOut{}, fmt.Errorf("method %q", doc.Method)
	}
	out := formOut{URL: doc.URL}
	dec := json.NewDecoder(bytes.NewReader(doc.Fields))
	if _, err := dec.Token(); err != nil {
		return formOut{}, err
	}
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			return formOut{}, err
		}
		var value string
		if err := dec.Decode(&value); err != nil {
			return formOut{}, err
		}
		out.Fields = append(out.Fields, postpolicy.Field{Name: name.(string), Value: value})
	}
	for _, c := range doc.PageConditions {
		v, err := pageValue(c.Field, w.userID)
		if err != nil {
			return formOut{}, err
		}
		out.PageAdds = append(out.PageAdds, postpolicy.Field{Name: c.Field, Value: v})
	}
	return out, nil
}

// startPostpolicyTemplate prepares, once, a Template of the scenario's
// conditions that are the same for every user, as the README's Template
// example does, on a Signer like startPostpolicy's; each signature gives
// the user's key and metadata.
func startPostpolicyTemplate() (*instance, error) {
	t, err := scenarioTemplate()
	if err != nil {
		return nil, err
	}
	return &instance{newWorker: func() worker { return &templateWorker{t: t} }}, nil
}

func scenarioTemplate() (*postpolicy.Template, error) {
	inst, err := startPostpolicy()
	if err != nil {
		return nil, err
	}
	s := inst.newWorker().(*postpolicyWorker).s
	return s.Prepare(expiresIn,
		postpolicy.Bucket(bucket),
		postpolicy.ContentTypePrefix(contentTypePfx),
		postpolicy.ContentLengthRange(minSize, maxSize),
		postpolicy.SuccessActionStatus(201),
	)
}

type templateWorker struct {
	t      *postpolicy.Template
	userID string
	last   *postpolicy.Form
}

func (w *templateWorker) sign(userID string) error {
	f, err := w.t.Sign(context.Background(),
		postpolicy.Key(keyPrefix(userID)+"${filename}"),
		postpolicy.Meta("uploader", userID))
	w.userID, w.last = userID, f
	return err
}

func (w *templateWorker) form() (formOut, error) {
	return (&postpolicyWorker{userID: w.userID, last: w.last}).form()
}

// startPostpolicyTemplateJSON is startPostpolicyTemplate through
// Template.AppendFormJSON into a buffer the worker reuses.
func startPostpolicyTemplateJSON() (*instance, error) {
	t, err := scenarioTemplate()
	if err != nil {
		return nil, err
	}
	return &instance{newWorker: func() worker { return &templateJSONWorker{t: t} }}, nil
}

type templateJSONWorker struct {
	t *postpolicy.Template
	postpolicyJSONWorker
}

func (w *templateJSONWorker) sign(userID string) error {
	var err error
	w.buf, err = w.t.AppendFormJSON(context.Background(), w.buf[:0],
		postpolicy.Key(keyPrefix(userID)+"${filename}"),
		postpolicy.Meta("uploader", userID))
	w.userID = userID
	return err
}

// pageValue is what the page sends for a field it must supply.
func pageValue(field, userID string) (string, error) {
	switch strings.ToLower(field) {
	case "content-type":
		return contentTypePfx + "png", nil
	case "key":
		return keyPrefix(userID) + "${filename}", nil
	}
	return "", fmt.Errorf("no page value for field %q", field)
}

// --- minio-go ---

// startMinio builds one Client. With Options.Region set, PresignedPostPolicy
// does not look the bucket's region up; the transport fails any request.
func startMinio() (*instance, error) {
	rt := &failingTransport{}
	c, err := minio.New("s3.amazonaws.com", &minio.Options{
		Creds:     miniocreds.NewStaticV4(accessKeyID, secretAccessKey, sessionToken),
		Secure:    true,
		Region:    region,
		Transport: rt,
	})
	if err != nil {
		return nil, err
	}
	return &instance{transport: rt, newWorker: func() worker { return &minioWorker{c: c} }}, nil
}

type minioWorker struct {
	c      *minio.Client
	userID string
	url    *url.URL
	fields map[string]string
}

func (w *minioWorker) sign(userID string) error {
	// A PostPolicy can be presigned once (it keeps the signer's conditions),
	// so a backend builds one per request.
	p := minio.NewPostPolicy()
	for _, err := range []error{
		p.SetBucket(bucket),
		p.SetKeyStartsWith(keyPrefix(userID)),
		p.SetContentLengthRange(minSize, maxSize),
		p.SetContentTypeStartsWith(contentTypePfx),
		p.SetSuccessStatusAction(successStatus),
		p.SetUserMetadata("uploader", userID),
		p.SetExpires(time.Now().UTC().Add(expiresIn)),
	} {
		if err != nil {
			return err
		}
	}
	u, fields, err := w.c.PresignedPostPolicy(context.Background(), p)
	w.userID, w.url, w.fields = userID, u, fields
	return err
}

func (w *minioWorker) form() (formOut, error) {
	// minio's form carries key and Content-Type set to the bare prefixes;
	// the page overwrites both.
	return formOut{
		URL:    w.url.String(),
		Fields: mapFields(w.fields),
		PageAdds: []postpolicy.Field{
			{Name: "key", Value: keyPrefix(w.userID) + "${filename}"},
			{Name: "Content-Type", Value: contentTypePfx + "png"},
		},
	}, nil
}

// --- aws-sdk-go-v2 ---

// startAWS builds one S3 client and PresignClient with static credentials
// and the region set. PresignPostObject replaces the HTTP client with a
// no-op one; the failing transport is there in case it did not.
func startAWS() (*instance, error) {
	rt := &failingTransport{}
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Source: "static"}
	client := s3.New(s3.Options{
		Region:      region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		HTTPClient:  &http.Client{Transport: rt},
	})
	pc := s3.NewPresignClient(client)
	return &instance{transport: rt, newWorker: func() worker { return &awsWorker{pc: pc} }}, nil
}

type awsWorker struct {
	pc     *s3.PresignClient
	userID string
	last   *s3.PresignedPostRequest
}

func (w *awsWorker) sign(userID string) error {
	prefix := keyPrefix(userID)
	// The SDK adds {"key": Key} unless a condition already covers key.
	out, err := w.pc.PresignPostObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(prefix + "${filename}"),
	}, func(o *s3.PresignPostOptions) {
		o.Expires = expiresIn
		o.Conditions = []any{
			[]any{"starts-with", "$key", prefix},
			[]any{"content-length-range", minSize, maxSize},
			[]any{"starts-with", "$Content-Type", contentTypePfx},
			map[string]string{"success_action_status": successStatus},
			map[string]string{"x-amz-meta-uploader": userID},
		}
	})
	w.userID, w.last = userID, out
	return err
}

func (w *awsWorker) form() (formOut, error) {
	// The SDK emits fields only for its own conditions and key; every extra
	// condition's field is the caller's to add.
	return formOut{
		URL:    w.last.URL,
		Fields: mapFields(w.last.Values),
		PageAdds: []postpolicy.Field{
			{Name: "Content-Type", Value: contentTypePfx + "png"},
			{Name: "success_action_status", Value: successStatus},
			{Name: "x-amz-meta-uploader", Value: w.userID},
		},
	}, nil
}
