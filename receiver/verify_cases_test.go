package receiver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// The Verifier's table of attacks and edge cases, Wycheproof-style, lives in
// testdata/cases.json: each case has an id, a name, a comment, flags,
// the request's inputs, the expected result and the expected S3 code.
// readVerifyCases refuses unknown flags and members so the format cannot
// drift silently.

type verifyFile struct {
	Schema      string            `json:"schema"`
	About       string            `json:"about"`
	Flags       map[string]string `json:"flags"`
	Setup       verifySetup       `json:"setup"`
	BasePolicy  string            `json:"base_policy_json"`
	BaseFields  [][]string        `json:"base_fields"`
	BaseFile    verifyFilePart    `json:"base_file"`
	Cases       []verifyCase      `json:"cases"`
	Sources     []string          `json:"sources"`
	Conventions []string          `json:"conventions"`
}

type verifySetup struct {
	Now         string `json:"now"`
	Region      string `json:"region"`
	Bucket      string `json:"bucket"`
	Credentials []struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		SessionToken    string `json:"session_token"`
	} `json:"credentials"`
	AmzDate    string `json:"amz_date"`
	Credential string `json:"credential"`
}

type verifyFilePart struct {
	Name     *string `json:"name"`
	Size     int     `json:"size"`
	FormName string  `json:"form_name"`
}

type verifyCase struct {
	ID          int        `json:"id"`
	Name        string     `json:"name"`
	Comment     string     `json:"comment"`
	Flags       []string   `json:"flags"`
	PolicyJSON  *string    `json:"policy_json"`
	ExtraConds  string     `json:"extra_conditions"`
	SentPolicy  *string    `json:"sent_policy_json"`
	PolicyText  *string    `json:"policy_text"`
	AmzDate     string     `json:"amz_date"`
	Credential  string     `json:"credential"`
	SignSecret  string     `json:"sign_secret"`
	Signature   string     `json:"signature"`
	Fields      [][]string `json:"fields"`
	ExtraFields [][]string `json:"extra_fields"`
	Remove      []string   `json:"remove_fields"`
	Replace     [][]string `json:"replace_fields"`
	RawParts    [][]string `json:"raw_parts"`
	File        *struct {
		verifyFilePart
		Absent      bool   `json:"absent"`
		NoFilename  bool   `json:"no_filename"`
		Disposition string `json:"disposition"`
	} `json:"file"`
	AfterFile   [][]string `json:"after_file"`
	ContentType string     `json:"request_content_type"`
	TruncateAt  int        `json:"truncate_body_at"`
	Result      string     `json:"result"`
	Code        string     `json:"code"`
	Key         string     `json:"key"`
	Status      int        `json:"status"`
	StoredSize  *int       `json:"stored_size"`
}

func readVerifyCases(t testing.TB) verifyFile {
	t.Helper()
	b, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var f verifyFile
	dec := jsonStrictDecoder(b)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	if f.Schema != "postpolicy-verify-cases/1" {
		t.Fatalf("unknown schema %q", f.Schema)
	}
	seen := map[int]bool{}
	for _, c := range f.Cases {
		if seen[c.ID] {
			t.Fatalf("duplicate case id %d", c.ID)
		}
		seen[c.ID] = true
		for _, fl := range c.Flags {
			if _, ok := f.Flags[fl]; !ok {
				t.Fatalf("case %d uses unknown flag %q", c.ID, fl)
			}
		}
		if c.Result != "valid" && c.Result != "invalid" {
			t.Fatalf("case %d: result %q", c.ID, c.Result)
		}
		if (c.Result == "invalid") != (c.Code != "") {
			t.Fatalf("case %d: an invalid case needs a code, a valid one none", c.ID)
		}
	}
	return f
}

// verifyRequest is a case's request, built from the file's base values.
type verifyRequest struct {
	req    *http.Request
	policy string // the policy text as sent
}

func buildVerifyRequest(t testing.TB, f verifyFile, c verifyCase) verifyRequest {
	t.Helper()
	amzDate := first(c.AmzDate, f.Setup.AmzDate)
	credential := first(c.Credential, f.Setup.Credential)
	expand := func(s string) string {
		s = strings.ReplaceAll(s, "{{extra_conditions}}", c.ExtraConds)
		return strings.NewReplacer("{{credential}}", credential, "{{amz_date}}", amzDate, "{{token}}", f.Setup.Credentials[1].SessionToken).Replace(s)
	}
	policyJSON := expand(f.BasePolicy)
	if c.PolicyJSON != nil {
		policyJSON = expand(*c.PolicyJSON)
	}
	policyText := base64.StdEncoding.EncodeToString([]byte(policyJSON))
	if c.PolicyText != nil {
		policyText = *c.PolicyText
	}

	// The signature a client with the secret of the credential's key (or
	// sign_secret) computes for the credential's own scope.
	scope := strings.Split(credential, "/")
	secret := c.SignSecret
	if secret == "" {
		for _, k := range f.Setup.Credentials {
			if k.AccessKeyID == scope[0] {
				secret = k.SecretAccessKey
			}
		}
	}
	signature := c.Signature
	if signature == "" || signature == "UPPER" {
		date, region, service := "20151229", "us-east-1", "s3"
		if len(scope) == 5 {
			date, region, service = scope[1], scope[2], scope[3]
		}
		day, err := time.Parse("20060102", date)
		if err != nil {
			day = time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
		}
		sig := postpolicy.SignEncodedPolicy(postpolicy.DeriveSigningKey(secret, day, region, service), policyText)
		if signature == "UPPER" {
			sig = strings.ToUpper(sig)
		}
		signature = sig
	}
	sent := policyText
	if c.SentPolicy != nil {
		sent = base64.StdEncoding.EncodeToString([]byte(expand(*c.SentPolicy)))
	}
	fill := func(s string) string {
		return strings.NewReplacer("{{credential}}", credential, "{{amz_date}}", amzDate, "{{policy}}", sent,
			"{{signature}}", signature, "{{token}}", f.Setup.Credentials[1].SessionToken).Replace(s)
	}

	fields := f.BaseFields
	if c.Fields != nil {
		fields = c.Fields
	}
	var out [][]string
	for _, fl := range fields {
		if contains(c.Remove, fl[0]) {
			continue
		}
		v := fl[1]
		for _, r := range c.Replace {
			if r[0] == fl[0] {
				v = r[1]
			}
		}
		out = append(out, []string{fl[0], fill(v)})
	}
	for _, fl := range c.ExtraFields {
		out = append(out, []string{fl[0], fill(fl[1])})
	}
	for _, rp := range c.RawParts {
		if len(rp) != 2 {
			t.Fatalf("case %d: a raw part is [Content-Disposition, value]", c.ID)
		}
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, fl := range out {
		if err := mw.WriteField(fl[0], fl[1]); err != nil {
			t.Fatal(err)
		}
	}
	// Parts whose Content-Disposition the case gives as sent, after the
	// fields.
	for _, rp := range c.RawParts {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {rp[0]}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(fill(rp[1])))
	}
	file := f.BaseFile
	absent := false
	disposition := ""
	if c.File != nil {
		absent = c.File.Absent
		disposition = c.File.Disposition
		if c.File.Name != nil {
			file.Name = c.File.Name
		}
		if c.File.NoFilename {
			file.Name = nil
		}
		if c.File.FormName != "" {
			file.FormName = c.File.FormName
		}
		file.Size = c.File.Size
	}
	switch {
	case absent:
	case disposition != "":
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {disposition}, "Content-Type": {"application/octet-stream"}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte{'a'}, file.Size))
	default:
		writeFilePart(t, mw, first(file.FormName, "file"), file.Name, bytes.Repeat([]byte{'a'}, file.Size))
	}
	for _, fl := range c.AfterFile {
		if strings.EqualFold(fl[0], "file") {
			name := "second.jpg"
			writeFilePart(t, mw, fl[0], &name, []byte(fl[1]))
			continue
		}
		if err := mw.WriteField(fl[0], fill(fl[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := body.Bytes()
	if c.TruncateAt > 0 {
		raw = raw[:c.TruncateAt]
	}
	req := httptest.NewRequest(http.MethodPost, "http://s3.example/"+f.Setup.Bucket, bytes.NewReader(raw))
	req.Header.Set("Content-Type", first(c.ContentType, mw.FormDataContentType()))
	return verifyRequest{req: req, policy: sent}
}

func writeFilePart(t testing.TB, mw *multipart.Writer, formName string, filename *string, content []byte) {
	t.Helper()
	h := textproto.MIMEHeader{}
	cd := fmt.Sprintf(`form-data; name=%q`, formName)
	if filename != nil {
		cd += fmt.Sprintf(`; filename=%q`, *filename)
	}
	h.Set("Content-Disposition", cd)
	h.Set("Content-Type", "application/octet-stream")
	w, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func newCaseVerifier(t testing.TB, f verifyFile) *receiver.Verifier {
	t.Helper()
	now, err := time.Parse(time.RFC3339, f.Setup.Now)
	if err != nil {
		t.Fatal(err)
	}
	var creds []postpolicy.Credentials
	for _, k := range f.Setup.Credentials {
		creds = append(creds, postpolicy.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken})
	}
	return &receiver.Verifier{
		Lookup: receiver.StaticCredentials(creds...),
		Region: f.Setup.Region,
		Now:    func() time.Time { return now },
	}
}

// runVerifyCase posts the case's request through Verify, reads the file and,
// for a verified upload, writes the success response. It returns the
// upload (nil on error), the stored file size, the response and the error.
func runVerifyCase(t testing.TB, v *receiver.Verifier, f verifyFile, vr verifyRequest) (*receiver.Upload, int64, *httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	up, err := v.Verify(vr.req, f.Setup.Bucket)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, up.File)
		if err == nil {
			up.Respond(rec, "d41d8cd98f00b204e9800998ecf8427e", "http://s3.example/"+f.Setup.Bucket+"/"+up.Key)
			return up, n, rec, nil
		}
	}
	receiver.WriteError(rec, err)
	return nil, 0, rec, err
}

func TestVerifyCases(t *testing.T) {
	f := readVerifyCases(t)
	v := newCaseVerifier(t, f)
	secrets := []string{}
	for _, k := range f.Setup.Credentials {
		secrets = append(secrets, k.SecretAccessKey, hexSigningKey(t, k.SecretAccessKey))
	}
	for _, c := range f.Cases {
		t.Run(fmt.Sprintf("%d-%s", c.ID, c.Name), func(t *testing.T) {
			vr := buildVerifyRequest(t, f, c)
			up, n, rec, err := runVerifyCase(t, v, f, vr)
			if c.Result == "valid" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if c.Key != "" && up.Key != c.Key {
					t.Errorf("key = %q, want %q", up.Key, c.Key)
				}
				if want := c.Status; want != 0 && rec.Code != want {
					t.Errorf("status = %d, want %d", rec.Code, want)
				}
				if c.StoredSize != nil && n != int64(*c.StoredSize) {
					t.Errorf("stored %d bytes, want %d", n, *c.StoredSize)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %s, got a verified upload of key %q", c.Code, up.Key)
			}
			if !errors.Is(err, receiver.ErrorCode(c.Code)) {
				t.Fatalf("want code %s, got %v", c.Code, err)
			}
			var s3e *receiver.S3Error
			if !errors.As(err, &s3e) || rec.Code != s3e.Status {
				t.Fatalf("response status %d for %v", rec.Code, err)
			}
			// The XML body carries the code, and no secret or signing key.
			var doc struct {
				Code string `xml:"Code"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code != c.Code {
				t.Errorf("XML body code %q (%v), want %s:\n%s", doc.Code, err, c.Code, rec.Body)
			}
			for _, s := range secrets {
				if strings.Contains(rec.Body.String(), s) || strings.Contains(err.Error(), s) {
					t.Errorf("a secret or signing key appears in the answer")
				}
			}
			t.Logf("%s: %d %s", c.Name, rec.Code, s3e.Message)
		})
	}
}

func hexSigningKey(t testing.TB, secret string) string {
	t.Helper()
	return fmt.Sprintf("%x", postpolicy.DeriveSigningKey(secret, time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC), "us-east-1", "s3"))
}

// TestVerifyRoundTrip: everything the Signer produces verifies, through a
// real multipart body, including a session token, ${filename} and a page
// field.
func TestVerifyRoundTrip(t *testing.T) {
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"}
	s := &postpolicy.Signer{Credentials: creds, Region: "eu-west-1", Now: func() time.Time { return now }}
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "eu-west-1", Now: func() time.Time { return now.Add(time.Minute) }}
	policy := postpolicy.Policy{
		Expiration: now.Add(15 * time.Minute),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("acme-user-uploads"),
			postpolicy.Key("uploads/user-42/${filename}"),
			postpolicy.ContentTypePrefix("image/"),
			postpolicy.ContentLengthRange(1, 10<<20),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", "user-42"),
			postpolicy.Tagging(postpolicy.Tag{Key: "a", Value: "b"}),
		},
	}
	form, err := s.Sign(context.Background(), policy)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, fl := range form.Fields {
		mw.WriteField(fl.Name, fl.Value)
	}
	mw.WriteField("Content-Type", "image/png")
	name := "holiday photo.png"
	writeFilePart(t, mw, "file", &name, []byte("png bytes"))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, form.URL, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	up, err := v.Verify(req, "acme-user-uploads")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(up.File)
	if err != nil || string(got) != "png bytes" {
		t.Fatalf("file = %q, %v", got, err)
	}
	if up.Key != "uploads/user-42/holiday photo.png" || up.ContentType() != "image/png" || up.AccessKeyID != creds.AccessKeyID {
		t.Errorf("upload = key %q, type %q, access key %q", up.Key, up.ContentType(), up.AccessKeyID)
	}
	if md := up.Metadata(); len(md) != 1 || md[0] != (postpolicy.Field{Name: "x-amz-meta-uploader", Value: "user-42"}) {
		t.Errorf("metadata = %v", md)
	}
	rec := httptest.NewRecorder()
	up.Respond(rec, "abc", "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/uploads/user-42/holiday%20photo.png")
	var pr struct {
		XMLName xml.Name `xml:"PostResponse"`
		Bucket  string
		Key     string
		ETag    string
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &pr); err != nil || rec.Code != 201 || pr.Key != up.Key || pr.ETag != `"abc"` || pr.Bucket != "acme-user-uploads" {
		t.Errorf("201 response %d %q (%v)", rec.Code, rec.Body, err)
	}
}

func jsonStrictDecoder(b []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec
}
