package postpolicy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
)

func policyForBucket(bucket string) postpolicy.Policy {
	p := bucketOnly(postpolicy.Key("k"))
	p.Conditions[0] = postpolicy.Bucket(bucket)
	return p
}

// The expected URLs follow the AWS "Virtual hosting of buckets" and
// "Regions and endpoints" pages: virtual-hosted
// https://BUCKET.s3.REGION.amazonaws.com/, path style
// https://s3.REGION.amazonaws.com/BUCKET, and the amazonaws.com.cn domain
// of the China regions; custom endpoints as the Signer's docs state.
func TestFormURL(t *testing.T) {
	for _, tc := range []struct {
		name     string
		region   string
		endpoint string
		style    postpolicy.URLStyle
		bucket   string
		want     string
	}{
		{"us-east-1", "us-east-1", "", postpolicy.URLStyleAuto, "acme-uploads", "https://acme-uploads.s3.us-east-1.amazonaws.com/"},
		{"eu-west-1", "eu-west-1", "", postpolicy.URLStyleAuto, "acme-uploads", "https://acme-uploads.s3.eu-west-1.amazonaws.com/"},
		{"dotted bucket gets path style", "eu-west-1", "", postpolicy.URLStyleAuto, "media.example.com", "https://s3.eu-west-1.amazonaws.com/media.example.com"},
		{"path style", "eu-west-1", "", postpolicy.URLStylePath, "acme-uploads", "https://s3.eu-west-1.amazonaws.com/acme-uploads"},
		{"virtual-hosted dotted bucket", "eu-west-1", "", postpolicy.URLStyleVirtualHosted, "media.example.com", "https://media.example.com.s3.eu-west-1.amazonaws.com/"},
		{"cn-north-1", "cn-north-1", "", postpolicy.URLStyleAuto, "acme-uploads", "https://acme-uploads.s3.cn-north-1.amazonaws.com.cn/"},
		{"cn-northwest-1 path style", "cn-northwest-1", "", postpolicy.URLStylePath, "acme-uploads", "https://s3.cn-northwest-1.amazonaws.com.cn/acme-uploads"},
		{"custom endpoint", "us-east-1", "http://127.0.0.1:9000", postpolicy.URLStyleAuto, "acme-uploads", "http://127.0.0.1:9000/acme-uploads"},
		{"custom endpoint with a slash", "us-east-1", "http://127.0.0.1:9000/", postpolicy.URLStyleAuto, "acme-uploads", "http://127.0.0.1:9000/acme-uploads"},
		{"custom endpoint, path style", "us-east-1", "http://127.0.0.1:9000", postpolicy.URLStylePath, "acme-uploads", "http://127.0.0.1:9000/acme-uploads"},
		{"IPv6 endpoint", "us-east-1", "http://[::1]:9000", postpolicy.URLStyleAuto, "acme-uploads", "http://[::1]:9000/acme-uploads"},
		{"endpoint with a base path", "us-east-1", "https://storage.example.com/s3", postpolicy.URLStyleAuto, "acme-uploads", "https://storage.example.com/s3/acme-uploads"},
		{"endpoint with a base path and trailing slash", "us-east-1", "https://storage.example.com/s3/", postpolicy.URLStyleAuto, "acme-uploads", "https://storage.example.com/s3/acme-uploads"},
		{"endpoint with an escaped base path", "us-east-1", "https://storage.example.com/a%20b/c%2Fd/", postpolicy.URLStyleAuto, "acme-uploads", "https://storage.example.com/a%20b/c%2Fd/acme-uploads"},
		{"virtual-hosted endpoint", "nyc3", "https://nyc3.digitaloceanspaces.com", postpolicy.URLStyleVirtualHosted, "acme-uploads", "https://acme-uploads.nyc3.digitaloceanspaces.com/"},
		{"virtual-hosted endpoint with port and base path", "us-east-1", "http://localhost:9000/s3/", postpolicy.URLStyleVirtualHosted, "acme-uploads", "http://acme-uploads.localhost:9000/s3/"},
		{"dotted bucket on a custom endpoint", "us-east-1", "https://storage.example.com", postpolicy.URLStyleAuto, "media.example.com", "https://storage.example.com/media.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newExampleSigner()
			s.Region, s.Endpoint, s.URLStyle = tc.region, tc.endpoint, tc.style
			form, err := s.Sign(context.Background(), policyForBucket(tc.bucket))
			if err != nil {
				t.Fatal(err)
			}
			if form.URL != tc.want {
				t.Errorf("URL = %q, want %q", form.URL, tc.want)
			}
			if _, err := url.Parse(form.URL); err != nil {
				t.Errorf("URL %q does not parse: %v", form.URL, err)
			}
			// The region is the credential scope's region too.
			if cred, _ := form.Get("x-amz-credential"); !strings.Contains(cred, "/"+tc.region+"/s3/") {
				t.Errorf("credential %q is not for region %s", cred, tc.region)
			}
		})
	}
}

// The Signer caches the last bucket's URL: switching buckets must not
// reuse it.
func TestFormURLPerBucket(t *testing.T) {
	s := newExampleSigner()
	for _, b := range []string{"acme-uploads", "media.example.com", "acme-uploads", "other-uploads", "other-uploads"} {
		form, err := s.Sign(context.Background(), policyForBucket(b))
		if err != nil {
			t.Fatal(err)
		}
		want := "https://" + b + ".s3.us-east-1.amazonaws.com/"
		if strings.Contains(b, ".") {
			want = "https://s3.us-east-1.amazonaws.com/" + b
		}
		if form.URL != want {
			t.Errorf("bucket %s: URL = %q, want %q", b, form.URL, want)
		}
	}
}

func TestBadEndpoint(t *testing.T) {
	// Passwords in these endpoints use a part of the example secret, which
	// no error may repeat.
	const pw = "bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct{ name, endpoint string }{
		{"ftp", "ftp://storage.example.com"},
		{"no scheme", "storage.example.com"},
		{"no host", "http://"},
		{"path only", "/s3"},
		{"query", "https://storage.example.com/?region=x"},
		{"fragment", "https://storage.example.com/#x"},
		{"not a URL", "http://storage.example.com:port"},
		{"control character", "http://storage.example.com/\x00"},
		{"user and password", "https://AKIAIOSFODNN7EXAMPLE:" + pw + "@storage.example.com"},
		{"user only", "https://AKIAIOSFODNN7EXAMPLE@storage.example.com"},
		{"password and no host", "http://minio:" + pw + "@"},
		{"password and a bad scheme", "ftp://minio:" + pw + "@storage.example.com"},
		{"password and a query", "https://minio:" + pw + "@storage.example.com/?x=1"},
		{"password without a scheme", "minio:" + pw + "@localhost:9000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newExampleSigner()
			s.Endpoint = tc.endpoint
			form, err := s.Sign(context.Background(), lintPolicy())
			if form != nil || !errors.Is(err, postpolicy.ErrSignerConfig) {
				t.Fatalf("Sign = %v, %v; want ErrSignerConfig", form, err)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func signedTestForm(t *testing.T, conds ...postpolicy.Condition) *postpolicy.Form {
	t.Helper()
	s := newExampleSigner()
	s.Credentials = tempCredentials
	form, err := s.Sign(context.Background(), lintPolicy(conds...))
	if err != nil {
		t.Fatal(err)
	}
	return form
}

const hostile = `"><script>alert('x')</script>&amp;`

func TestFormMarshalJSON(t *testing.T) {
	form := signedTestForm(t,
		postpolicy.Meta("note", hostile),
		postpolicy.Meta("u", "\u2028é\"\\"),
		postpolicy.ContentTypePrefix("image/"),
	)
	b, err := form.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("MarshalJSON = %s, not valid JSON", b)
	}
	// json.Marshal re-escapes a Marshaler's output for HTML, so compare
	// as data.
	b2, err := json.Marshal(form)
	var v1, v2 any
	if err != nil || json.Unmarshal(b, &v1) != nil || json.Unmarshal(b2, &v2) != nil || !cmp.Equal(v1, v2) {
		t.Errorf("json.Marshal(form) = %s, %v; want the same data as MarshalJSON", b2, err)
	}

	// Walk the tokens: keys exactly url, method, fields in that order, and
	// the fields in the form's order.
	dec := json.NewDecoder(bytes.NewReader(b))
	tok := func() json.Token {
		t.Helper()
		tk, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	var top []string
	var fields []postpolicy.Field
	var page []map[string]string
	var method, u string
	if tok() != json.Delim('{') {
		t.Fatal("not an object")
	}
	for dec.More() {
		k := tok().(string)
		top = append(top, k)
		switch k {
		case "url":
			u = tok().(string)
		case "method":
			method = tok().(string)
		case "fields":
			if tok() != json.Delim('{') {
				t.Fatal("fields is not an object")
			}
			for dec.More() {
				name := tok().(string)
				value, ok := tok().(string)
				if !ok {
					t.Fatalf("field %s is not a string", name)
				}
				fields = append(fields, postpolicy.Field{Name: name, Value: value})
			}
			tok()
		case "pageConditions":
			if err := dec.Decode(&page); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected key %q", k)
		}
	}
	tok()
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("data after the object")
	}
	if diff := cmp.Diff([]string{"url", "method", "fields", "pageConditions"}, top); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The page must set Content-Type itself: the JSON says what to satisfy.
	if diff := cmp.Diff([]map[string]string{{"field": "Content-Type", "op": "starts-with", "value": "image/"}}, page); diff != "" {
		t.Errorf("pageConditions (-want +got):\n%s", diff)
	}
	if u != form.URL || method != "POST" {
		t.Errorf("url %q, method %q", u, method)
	}
	if diff := cmp.Diff(form.Fields, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if v, _ := form.Get("x-amz-meta-note"); v != hostile {
		t.Errorf("x-amz-meta-note = %q, want %q", v, hostile)
	}

	// The empty form.
	b, _ = (&postpolicy.Form{}).MarshalJSON()
	if string(b) != `{"url":"","method":"POST","fields":{}}` {
		t.Errorf("empty form = %s", b)
	}
}

func TestFormValuesAndGet(t *testing.T) {
	form := signedTestForm(t, postpolicy.Meta("Note", "a&b=c"), postpolicy.ACL("private"))
	want := url.Values{}
	for _, f := range form.Fields {
		want[f.Name] = []string{f.Value}
	}
	if diff := cmp.Diff(want, form.Values()); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	if len(want) != len(form.Fields) {
		t.Errorf("field names are not unique: %v", fieldNames(form))
	}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"key", "uploads/photo.jpg", true},
		{"KEY", "uploads/photo.jpg", true},
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256", true},
		{"x-amz-meta-note", "a&b=c", true},
		{"X-AMZ-META-NOTE", "a&b=c", true},
		{"X-Amz-Security-Token", exampleSessionToken, true},
		{"ACL", "private", true},
		{"bucket", "", false},
		{"file", "", false},
		{"", "", false},
	} {
		v, ok := form.Get(tc.name)
		if v != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	textInput   = regexp.MustCompile(`<input type="text" name="([^"]*)" value="([^"]*)" required>`)
)

func TestFormWriteHTML(t *testing.T) {
	for _, tc := range []struct {
		name string
		form *postpolicy.Form
	}{
		{"signed", signedTestForm(t,
			postpolicy.Meta("note", hostile),
			postpolicy.Meta("q", `it's "quoted" & <b>bold</b>`),
			postpolicy.MetaPrefix("page", hostile),
			postpolicy.ContentTypePrefix("image/"),
		)},
		{"built by hand", &postpolicy.Form{
			URL: `https://acme-uploads.s3.us-east-1.amazonaws.com/?a=1&b="2"`,
			Fields: []postpolicy.Field{
				{Name: `"><script>x</script>`, Value: hostile},
				{Name: "'", Value: "'"},
				{Name: "&", Value: "&"},
			},
			PageConditions: []postpolicy.Condition{postpolicy.StartsWith(`x"y`, `"><img src=x onerror=alert(1)>`)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf strings.Builder
			if err := tc.form.WriteHTML(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, bad := range []string{"<script", "<img", `"><`, "'>", "alert('x')"} {
				if strings.Contains(out, bad) {
					t.Errorf("output contains %q unescaped:\n%s", bad, out)
				}
			}
			// Each hidden input unescapes to its field, in order.
			var got []postpolicy.Field
			for _, m := range hiddenInput.FindAllStringSubmatch(out, -1) {
				got = append(got, postpolicy.Field{Name: html.UnescapeString(m[1]), Value: html.UnescapeString(m[2])})
			}
			if diff := cmp.Diff(tc.form.Fields, got); diff != "" {
				t.Errorf("hidden inputs (-want +got):\n%s\n%s", diff, out)
			}
			var page []string
			for _, m := range textInput.FindAllStringSubmatch(out, -1) {
				page = append(page, html.UnescapeString(m[1])+"="+html.UnescapeString(m[2]))
			}
			var wantPage []string
			for _, c := range tc.form.PageConditions {
				wantPage = append(wantPage, c.Field()+"="+c.Value())
			}
			if diff := cmp.Diff(wantPage, page); diff != "" {
				t.Errorf("page inputs (-want +got):\n%s", diff)
			}
			// One file input, after every other input ("file must be the
			// last field"; sigv4-HTTPPOSTForms).
			if n := strings.Count(out, `type="file"`); n != 1 {
				t.Fatalf("%d file inputs", n)
			}
			file := strings.Index(out, `<input type="file" name="file"`)
			if file < 0 || file < strings.LastIndex(out, `type="hidden"`) || file < strings.LastIndex(out, `type="text"`) {
				t.Errorf("the file input is not last:\n%s", out)
			}
			if !strings.HasPrefix(out, `<form action="`) || !strings.Contains(out, `method="post" enctype="multipart/form-data"`) {
				t.Errorf("form element:\n%s", out)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFormWriteHTMLError(t *testing.T) {
	if err := signedTestForm(t).WriteHTML(failingWriter{}); err == nil {
		t.Errorf("WriteHTML to a failing writer returned nil")
	}
}

// A field the form carries is not one the page must add, even when another
// condition on it is a starts-with from the page: otherwise WriteHTML (and
// browser code following PageConditions) would send the field twice.
func TestPageConditionsExcludeFormFields(t *testing.T) {
	form, err := newExampleSigner().Sign(context.Background(), bucketOnly(
		postpolicy.KeyPrefix("uploads/"),
		postpolicy.Key("uploads/a.png"),
		postpolicy.StartsWith("ACL", ""),
		postpolicy.ACL("private"),
		postpolicy.ContentTypePrefix("image/"),
	))
	if err != nil {
		t.Fatal(err)
	}
	var page []string
	for _, c := range form.PageConditions {
		page = append(page, c.String())
	}
	if diff := cmp.Diff([]string{`["starts-with", "$Content-Type", "image/"]`}, page); diff != "" {
		t.Errorf("PageConditions (-want +got):\n%s", diff)
	}
	var buf strings.Builder
	if err := form.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"key", "acl", "Content-Type"} {
		if n := strings.Count(buf.String(), `name="`+name+`"`); n != 1 {
			t.Errorf("%d inputs named %s:\n%s", n, name, buf.String())
		}
	}
	// The policy still holds every condition.
	p := decodeFormPolicy(t, form)
	if len(p.Conditions) != 3+6 {
		t.Errorf("%d conditions in the policy, want 9", len(p.Conditions))
	}
}
