package benchmarks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
	"github.com/postpolicy/postpolicy/receiver"
)

// cond is a policy condition as the checks compare it: field names in lower
// case (S3 compares them case-insensitively), exact matches in either of
// their two spellings as "eq".
type cond struct{ op, field, value string }

func (c cond) String() string { return fmt.Sprintf("[%s %s %q]", c.op, c.field, c.value) }

// TestVerify checks every implementation's output for testUser: the
// signature recomputed independently from its own base64 policy, the
// scenario's conditions all present and no others, the expiration, and a
// multipart upload built from its fields (plus those the page must add)
// accepted by receiver.Verifier.
func TestVerify(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inst, err := im.start()
			if err != nil {
				t.Fatal(err)
			}
			w := inst.newWorker()
			if err := w.sign(testUser); err != nil {
				t.Fatal(err)
			}
			out, err := w.form()
			if err != nil {
				t.Fatal(err)
			}
			checkForm(t, out)
		})
	}
}

func checkForm(t *testing.T, out formOut) {
	fields := withPageAdds(out.Fields, out.PageAdds)
	get := func(name string) string {
		for _, f := range fields {
			if strings.EqualFold(f.Name, name) {
				return f.Value
			}
		}
		t.Fatalf("no %s field in %v", name, names(fields))
		return ""
	}
	policyText, signature := get("policy"), get("x-amz-signature")
	credential, amzDate := get("x-amz-credential"), get("x-amz-date")

	// The credential scope and the signature, recomputed with crypto/hmac
	// and postpolicy.DeriveSigningKey from the base64 text as sent.
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[0] != accessKeyID || scope[1] != amzDate[:min(8, len(amzDate))] ||
		scope[2] != region || scope[3] != service || scope[4] != "aws4_request" {
		t.Fatalf("x-amz-credential %q does not match x-amz-date %q and the scenario", credential, amzDate)
	}
	day, err := time.Parse("20060102", scope[1])
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, postpolicy.DeriveSigningKey(secretAccessKey, day, region, service))
	mac.Write([]byte(policyText))
	if want := hex.EncodeToString(mac.Sum(nil)); signature != want {
		t.Fatalf("x-amz-signature %s, recomputed %s", signature, want)
	}
	if v := get("x-amz-algorithm"); v != postpolicy.Algorithm {
		t.Errorf("x-amz-algorithm %q", v)
	}
	if v := get("x-amz-security-token"); v != sessionToken {
		t.Errorf("x-amz-security-token is not the session token")
	}

	// The policy's conditions: exactly the scenario's and the signer's.
	doc, err := base64.StdEncoding.DecodeString(policyText)
	if err != nil {
		t.Fatal(err)
	}
	exp, conds, err := parseConditions(doc)
	if err != nil {
		t.Fatalf("%v in %s", err, doc)
	}
	want := []cond{
		{"eq", "bucket", bucket},
		{"starts-with", "key", keyPrefix(testUser)},
		{"content-length-range", "", fmt.Sprintf("%d..%d", minSize, maxSize)},
		{"starts-with", "content-type", contentTypePfx},
		{"eq", "success_action_status", successStatus},
		{"eq", "x-amz-meta-uploader", testUser},
		{"eq", "x-amz-algorithm", postpolicy.Algorithm},
		{"eq", "x-amz-credential", credential},
		{"eq", "x-amz-date", amzDate},
		{"eq", "x-amz-security-token", sessionToken},
	}
	for _, c := range want {
		if !slices.Contains(conds, c) {
			t.Errorf("condition %v missing from the policy %s", c, doc)
		}
	}
	for _, c := range conds {
		if !slices.Contains(want, c) {
			t.Errorf("unexpected condition %v in the policy %s", c, doc)
		}
	}
	signedAt, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		t.Fatal(err)
	}
	// minio-go reads the clock for the expiration before signing, and
	// writes whole seconds... so allow a little either way.
	if d := exp.Sub(signedAt); d < expiresIn-2*time.Second || d > expiresIn+2*time.Second {
		t.Errorf("expiration %v is %v after x-amz-date, want %v", exp, d, expiresIn)
	}

	// The URL names the bucket (virtual-hosted style, on AWS).
	u, err := url.Parse(out.URL)
	if err != nil || u.Scheme != "https" || !strings.HasPrefix(u.Host, bucket+".") {
		t.Errorf("URL %q is not the bucket's", out.URL)
	}

	// A browser's upload with these fields passes receiver.Verifier.
	v := &receiver.Verifier{
		Lookup: receiver.StaticCredentials(postpolicy.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken}),
		Region: region,
		Now:    func() time.Time { return signedAt.Add(time.Minute) },
	}
	file := bytes.Repeat([]byte("PNG!"), 256)
	req := multipartRequest(t, out.URL, fields, "cat.png", file)
	up, err := v.Verify(req, bucket)
	if err != nil {
		t.Fatalf("Verifier: %v", err)
	}
	got, err := io.ReadAll(up.File)
	if err != nil {
		t.Fatalf("Verifier, reading the file: %v", err)
	}
	if !bytes.Equal(got, file) || up.Key != keyPrefix(testUser)+"cat.png" || up.ContentType() != contentTypePfx+"png" {
		t.Errorf("verified upload: key %q, Content-Type %q, %d bytes", up.Key, up.ContentType(), len(got))
	}
	t.Logf("%d fields emitted %v; page adds %v; policy %d B of JSON, %d B of base64",
		len(out.Fields), names(out.Fields), names(out.PageAdds), len(doc), len(policyText))
}

// withPageAdds returns fields with adds overwriting the fields of the same
// name (compared case-insensitively) and appending the others.
func withPageAdds(fields, adds []postpolicy.Field) []postpolicy.Field {
	out := slices.Clone(fields)
next:
	for _, a := range adds {
		for i, f := range out {
			if strings.EqualFold(f.Name, a.Name) {
				out[i].Value = a.Value
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

func names(fields []postpolicy.Field) []string {
	var ns []string
	for _, f := range fields {
		ns = append(ns, f.Name)
	}
	return ns
}

// parseConditions parses a policy document with encoding/json, independently
// of the library's parser.
func parseConditions(doc []byte) (time.Time, []cond, error) {
	var p struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return time.Time{}, nil, err
	}
	exp, err := time.Parse(time.RFC3339Nano, p.Expiration)
	if err != nil {
		return time.Time{}, nil, err
	}
	var conds []cond
	for _, raw := range p.Conditions {
		var obj map[string]string
		if err := json.Unmarshal(raw, &obj); err == nil {
			if len(obj) != 1 {
				return exp, nil, fmt.Errorf("condition %s has %d members", raw, len(obj))
			}
			for k, v := range obj {
				conds = append(conds, cond{"eq", strings.ToLower(k), v})
			}
			continue
		}
		var arr []any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&arr); err != nil || len(arr) != 3 {
			return exp, nil, fmt.Errorf("condition %s is neither a one-member object nor a three-element array", raw)
		}
		op, _ := arr[0].(string)
		switch op {
		case "eq", "starts-with":
			field, _ := arr[1].(string)
			value, ok := arr[2].(string)
			if !strings.HasPrefix(field, "$") || !ok {
				return exp, nil, fmt.Errorf("condition %s", raw)
			}
			conds = append(conds, cond{op, strings.ToLower(field[1:]), value})
		case "content-length-range":
			conds = append(conds, cond{op, "", fmt.Sprintf("%v..%v", arr[1], arr[2])})
		default:
			return exp, nil, fmt.Errorf("condition %s has an unknown operator", raw)
		}
	}
	return exp, conds, nil
}

// multipartRequest returns a browser's POST of fields and then the file.
func multipartRequest(t *testing.T, target string, fields []postpolicy.Field, filename string, file []byte) *http.Request {
	t.Helper()
	req, err := postpolicytest.NewPostRequest(target, fields, filename, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestNoNetwork signs with every implementation, and presigns with every
// presign implementation, while http.DefaultTransport and
// net.DefaultResolver fail and count, and checks that neither they nor the
// implementations' own transports saw a request.
func TestNoNetwork(t *testing.T) {
	global := &failingTransport{}
	var lookups atomic.Int64
	oldTransport, oldResolver := http.DefaultTransport, net.DefaultResolver
	http.DefaultTransport = global
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		lookups.Add(1)
		return nil, errors.New("benchmarks: no network allowed")
	}}
	t.Cleanup(func() { http.DefaultTransport, net.DefaultResolver = oldTransport, oldResolver })

	for _, im := range impls {
		inst, err := im.start()
		if err != nil {
			t.Fatalf("%s: %v", im.name, err)
		}
		w := inst.newWorker()
		for _, id := range userIDs[:3] {
			if err := w.sign(id); err != nil {
				t.Fatalf("%s: %v", im.name, err)
			}
		}
		if inst.transport != nil {
			if n := inst.transport.requests.Load(); n != 0 {
				t.Errorf("%s: its transport saw %d requests", im.name, n)
			}
		}
	}
	for _, im := range presignImpls {
		inst, err := im.start()
		if err != nil {
			t.Fatalf("%s (presign): %v", im.name, err)
		}
		w := inst.newWorker()
		for _, id := range userIDs[:3] {
			if err := w.presign(id); err != nil {
				t.Fatalf("%s (presign): %v", im.name, err)
			}
		}
		if inst.transport != nil {
			if n := inst.transport.requests.Load(); n != 0 {
				t.Errorf("%s (presign): its transport saw %d requests", im.name, n)
			}
		}
	}
	if n := global.requests.Load(); n != 0 {
		t.Errorf("http.DefaultTransport saw %d requests", n)
	}
	if n := lookups.Load(); n != 0 {
		t.Errorf("net.DefaultResolver dialled %d times", n)
	}
}

// TestFloorJSONText checks the floors' escaping against encoding/json.
func TestFloorJSONText(t *testing.T) {
	for _, s := range []string{
		"", "user-42", `a"b\c`, "tab\there\nline\r\b\f", "\x00\x01\x1f\x7f", "<html>&amp;",
		"caf\u00e9 \U0001F600", "\u2028\u2029", "bad \xff\xfe utf-8", "\xe2\x82",
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := `"` + jsonText(s) + `"`; got != want {
			t.Errorf("appendJSONText(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestFloorEscaping signs with both floors for a user id that would inject
// a condition if it were not escaped, and checks the policy still says
// exactly what it should.
func TestFloorEscaping(t *testing.T) {
	const hostile = `x"],["starts-with","$acl","`
	for _, start := range []func() (*instance, error){startFloor, startFloorPrefix} {
		inst, err := start()
		if err != nil {
			t.Fatal(err)
		}
		w := inst.newWorker()
		if err := w.sign(hostile); err != nil {
			t.Fatal(err)
		}
		out, err := w.form()
		if err != nil {
			t.Fatal(err)
		}
		var policyText string
		for _, f := range out.Fields {
			if f.Name == "policy" {
				policyText = f.Value
			}
		}
		p, err := postpolicy.DecodePolicy(policyText)
		if err != nil {
			t.Fatal(err)
		}
		var meta []string
		for _, c := range p.Conditions {
			if strings.EqualFold(c.Field(), "acl") {
				t.Errorf("injected condition %v", c)
			}
			if c.Field() == "x-amz-meta-uploader" {
				meta = append(meta, c.Value())
			}
		}
		if len(meta) != 1 || meta[0] != hostile {
			t.Errorf("x-amz-meta-uploader conditions %q, want [%q]", meta, hostile)
		}
	}
}
