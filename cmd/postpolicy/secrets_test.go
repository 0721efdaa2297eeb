package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// TestSecretsUnderFailure forces the error paths of serve (its receiver,
// its store, its configuration) and of inspect, and checks that nothing
// they answer, log or print holds the secret access key, a signing key
// derived from it (hex, upper-case hex, base64) or the signature the
// server expected for a refused upload. The Verifier's own errors are
// checked the same way in the library's TestVerifyErrorsHoldNoSecrets,
// and postpolicytest's answers in its TestSecretsInAnswers.
func TestSecretsUnderFailure(t *testing.T) {
	s := startLiveServe(t, serveLimits{}, "-max-size", "1KiB")
	var said strings.Builder // everything the server and the commands said
	record := func(a answer) {
		said.WriteString(a.body + "\n")
		for k, vs := range a.header {
			said.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
		}
	}
	forbidden := map[string]string{"the secret key": testSecret}
	// forbid adds the signing key of the form's day, and the signature a
	// server with the secret computes for the form's policy unless the
	// form carries it (then it is the client's, not a secret).
	forbid := func(name string, f *postpolicy.Form) {
		date, _ := f.Get("x-amz-date")
		day, err := time.Parse("20060102T150405Z", date)
		if err != nil {
			t.Fatal(err)
		}
		key := postpolicy.DeriveSigningKey(testSecret, day, s.o.region, "s3")
		forbidden["the signing key of "+date[:8]] = hex.EncodeToString(key)
		forbidden["the signing key of "+date[:8]+" (upper case)"] = strings.ToUpper(hex.EncodeToString(key))
		forbidden["the signing key of "+date[:8]+" (base64)"] = base64.StdEncoding.EncodeToString(key)
		p, _ := f.Get("policy")
		sent, _ := f.Get("x-amz-signature")
		if want := postpolicy.SignEncodedPolicy(key, p); want != sent {
			forbidden["the expected signature ("+name+")"] = want
		}
	}
	edited := func(f *postpolicy.Form, name, value string) *postpolicy.Form {
		g := &postpolicy.Form{URL: f.URL, Fields: append([]postpolicy.Field(nil), f.Fields...)}
		setField(g, name, value)
		return g
	}
	// Each form is for a user of its own, so that no two share a policy
	// text, and no request sends the signature another one's server
	// expects.
	users := 0
	signWith := func(c postpolicy.Credentials, now time.Time) *postpolicy.Form {
		users++
		signer := &postpolicy.Signer{Credentials: c, Region: s.o.region, Endpoint: s.base, URLStyle: postpolicy.URLStylePath, Now: func() time.Time { return now }}
		uploads, err := s.o.uploads(signer, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := uploads.Sign(context.Background(), fmt.Sprintf("sec%d", users), exampleType(s.o.types[0]))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	creds := postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}
	fresh := func() *postpolicy.Form { return signWith(creds, time.Now()) }
	tamperPolicy := func(f *postpolicy.Form) *postpolicy.Form {
		policy, _ := f.Get("policy")
		decoded, _ := base64.StdEncoding.DecodeString(policy)
		return edited(f, "policy", base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(decoded), "users/sec", "users/all", 1))))
	}
	good := fresh()

	for _, tc := range []struct {
		name    string
		form    *postpolicy.Form
		ct      string
		content string
		status  int
		code    string
	}{
		{"tampered signature", edited(fresh(), "x-amz-signature", strings.Repeat("0", 64)), "image/png", "x", 403, "SignatureDoesNotMatch"},
		{"tampered policy", tamperPolicy(fresh()), "image/png", "x", 403, "SignatureDoesNotMatch"},
		{"wrong secret", signWith(postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: "not-the-secret-0123456789"}, time.Now()), "image/png", "x", 403, "SignatureDoesNotMatch"},
		{"unknown key", signWith(postpolicy.Credentials{AccessKeyID: "AKIAUNKNOWNEXAMPLE", SecretAccessKey: testSecret}, time.Now()), "image/png", "x", 403, "InvalidAccessKeyId"},
		{"session token the key has not", signWith(postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret, SessionToken: testToken}, time.Now()), "image/png", "x", 400, "InvalidToken"},
		{"expired", signWith(postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}, time.Now().Add(-time.Hour)), "image/png", "x", 403, "AccessDenied"},
		{"wrong type", good, "text/plain", "x", 403, "AccessDenied"},
		{"too large", good, "image/png", strings.Repeat("x", 2000), 400, "EntityTooLarge"},
		{"too small", good, "image/png", "", 400, "EntityTooSmall"},
	} {
		forbid(tc.name, tc.form)
		a := s.post(t, tc.form, tc.ct, "s.png", strings.NewReader(tc.content))
		if a.status != tc.status || a.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.code, tc.status, tc.code)
		}
		record(a)
	}
	// Broken bodies, over a raw connection.
	body, boundary := multipartBody(t, good, "image/png", "s.png", strings.NewReader("content"))
	for _, tc := range []struct {
		name string
		raw  []byte
		cut  int
		code string
	}{
		{"malformed", testutil.RawPost(s.addr, "/uploads", "X"+boundary[1:], body), 0, "MalformedPOSTRequest"},
		{"cut short", testutil.RawPost(s.addr, "/uploads", boundary, body), 20, "IncompleteBody"},
	} {
		c := s.dial(t)
		c.Write(tc.raw[:len(tc.raw)-tc.cut])
		c.CloseWrite()
		a := readAnswer(t, c)
		c.Close()
		if a.code != tc.code {
			t.Errorf("%s: %d %s, want %s", tc.name, a.status, a.code, tc.code)
		}
		record(a)
	}
	for _, path := range []string{"/uploads/users/sec/none.png", "/uploads", "/api/form", "/api/uploads"} {
		req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
		req.Close = true
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprint(&b, resp.Status)
		resp.Write(&b)
		resp.Body.Close()
		said.WriteString(b.String())
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	said.WriteString(s.stdout.String() + s.stderr.String())

	// A full disk, with the same credentials.
	ts := newTestServer(t, &creds, "-max-size", "1MiB")
	ts.app.store.wrapWriter = (&fullDisk{room: 100}).wrap
	c := ts.signIn(t, "sec")
	f := ts.form(t, c, "image/png")
	forbid("disk full", f)
	resp, b := ts.upload(t, f, "image/png", "s.png", strings.Repeat("x", 1000))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("disk full: %s", resp.Status)
	}
	said.WriteString(b + ts.log.String())

	// Configuration errors of serve, with the secret in the environment.
	env := map[string]string{"AWS_ACCESS_KEY_ID": testAccessKeyID, "AWS_SECRET_ACCESS_KEY": testSecret}
	for _, args := range [][]string{
		{"serve", "-region", "not a region"},
		{"serve", "-endpoint", "http://" + testAccessKeyID + ":" + testSecret + "@[::1"},
		{"serve", "-endpoint", "ftp://" + testAccessKeyID + ":" + testSecret + "@example.com"},
		{"serve", "-aws", "-data", "x"},
		{"serve", "-bucket", "api"},
		{"serve", "-addr", "127.0.0.1:0", "-data", "/proc/self/not-a-directory"},
	} {
		r := runCLI(t, env, args...)
		if r.code == 0 {
			t.Errorf("%q succeeded", args)
		}
		said.WriteString(r.stdout + r.stderr)
	}
	r := runCLI(t, map[string]string{"AWS_SECRET_ACCESS_KEY": testSecret}, "serve", "-aws")
	said.WriteString(r.stdout + r.stderr)

	// inspect, with the secret in the environment, on forms it refuses.
	for _, tc := range []struct {
		name string
		form *postpolicy.Form
	}{
		{"tampered signature", edited(fresh(), "x-amz-signature", strings.Repeat("0", 64))},
		{"tampered policy", tamperPolicy(fresh())},
		{"wrong secret", signWith(postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: "not-the-secret-0123456789"}, time.Now())},
		{"expired", signWith(postpolicy.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecret}, time.Now().Add(-time.Hour))},
	} {
		forbid("inspect "+tc.name, tc.form)
		j, err := tc.form.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		fields := writeTestFile(t, "page", "Content-Type=image/png")
		r := runCLI(t, env, "inspect", "-fields", fields, writeTestFile(t, "form.json", string(j)))
		if r.code != 1 || !strings.Contains(r.stdout, "refused") {
			t.Errorf("inspect of the %s form: exit %d\n%s%s", tc.name, r.code, r.stdout, r.stderr)
		}
		said.WriteString(r.stdout + r.stderr)
	}

	all := said.String()
	if !strings.Contains(all, "SignatureDoesNotMatch") || !strings.Contains(all, "InvalidToken") || !strings.Contains(all, "no space left on device") {
		t.Fatalf("the failures did not happen as planned:\n%s", all)
	}
	for what, v := range forbidden {
		if v != "" && strings.Contains(all, v) {
			i := strings.Index(all, v)
			t.Errorf("%s appears in what was said: …%s…", what, all[max(0, i-200):min(len(all), i+len(v)+50)])
		}
	}
	t.Logf("checked %d bytes of answers, logs and output against %d secrets", len(all), len(forbidden))
}
