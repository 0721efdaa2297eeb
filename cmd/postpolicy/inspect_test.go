package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// awsExample is the AWS documentation's browser POST example
// (testdata/aws-s3-sigv4-post-example.json at the repository's root).
type awsExample struct {
	PolicyBase64 string     `json:"policy_base64"`
	PolicyJSON   string     `json:"policy_json"`
	FormAction   string     `json:"form_action"`
	FormFields   [][]string `json:"form_fields"`
	AmzDate      string     `json:"amz_date"`
}

func readAWSExample(t *testing.T) awsExample {
	t.Helper()
	b, err := os.ReadFile("../../testdata/aws-s3-sigv4-post-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var e awsExample
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// exampleNow is the AWS example's signing time.
const exampleNow = "2015-12-29T00:00:00Z"

// formJSON returns the example as a form in the shape of Form.MarshalJSON.
func (e awsExample) formJSON() string {
	var b strings.Builder
	b.WriteString(`{"url":` + jsonQuote(e.FormAction) + `,"method":"POST","fields":{`)
	for i, f := range e.FormFields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonQuote(f[0]) + ":" + jsonQuote(f[1]))
	}
	b.WriteString("}}")
	return b.String()
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pythonRepr returns the example as Python prints boto3's answer.
func (e awsExample) pythonRepr() string {
	q := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	var b strings.Builder
	b.WriteString("{'url': " + q(e.FormAction) + ", 'fields': {")
	for i, f := range e.FormFields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(f[0]) + ": " + q(f[1]))
	}
	b.WriteString("}}\n")
	return b.String()
}

// formHTML returns the example as the documentation's HTML page shows it:
// text and hidden inputs, the file input, a submit button, a script that
// an XML reader would choke on, and HTML entities.
func (e awsExample) formHTML() string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
  <script>if (1 < 2 && "<form>") { console.log("<input name=x>"); }</script>
  <style>p > b { color: red }</style>
</head>
<body>
<p>Search &amp; upload &nbsp; &copy; 2015<br>
<form action="` + e.FormAction + `" method="post" enctype="multipart/form-data">
`)
	for _, f := range e.FormFields {
		typ := "hidden"
		if f[0] == "key" || f[0] == "Content-Type" || f[0] == "x-amz-meta-tag" {
			typ = "text"
		}
		fmt.Fprintf(&b, "  %s: <input type=%s name=\"%s\" value=\"%s\" /><br />\n", f[0], typ, f[0], html.EscapeString(f[1]))
	}
	b.WriteString(`  File: <input type="file" name="file"> <br>
  <input type="submit" name="submit" value="Upload to Amazon S3">
</form>
</body>
</html>
`)
	return b.String()
}

// writeTemp writes content to a file in a test directory and returns its
// path.
func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// examplePolicyLines are lines of the pretty-printed AWS example policy.
var examplePolicyLines = []string{
	"Policy (648 bytes):\n{\n  \"expiration\": \"2015-12-30T12:00:00.000Z\",\n  \"conditions\": [\n    {\"bucket\": \"sigv4examplebucket\"},\n",
	`    ["starts-with", "$key", "user/user1/"],`,
	`    {"x-amz-date": "20151229T000000Z"}` + "\n  ]\n}\n",
	"It expires at 2015-12-30T12:00:00Z, 36h0m0s after the time checked, 2015-12-29T00:00:00Z.",
	`      key must start with "user/user1/"`,
	`      Content-Type must start with "image/"`,
	`      x-amz-meta-tag may hold anything, but it must be sent`,
	`      x-amz-credential must be "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request": signed with access key AKIAIOSFODNN7EXAMPLE for 20151229, region us-east-1, service s3`,
}

// TestInspectInputKinds reads the AWS example in each kind of INPUT.
func TestInspectInputKinds(t *testing.T) {
	e := readAWSExample(t)
	for _, tc := range []struct {
		name, input, kind string
		form              bool
	}{
		{"base64 argument", e.PolicyBase64, "a base64 policy, from the command line", false},
		{"base64 wrapped in a file", writeTestFile(t, "policy.b64", wrap(e.PolicyBase64, 76)), "a base64 policy, from ", false},
		{"policy JSON file", writeTestFile(t, "policy.json", e.PolicyJSON), "a policy document, from ", false},
		{"policy JSON argument", e.PolicyJSON, "a policy document, from the command line", false},
		{"form JSON", writeTestFile(t, "form.json", e.formJSON()), "a form as JSON, from ", true},
		{"form JSON as a list", writeTestFile(t, "list.json", `{"url":"`+e.FormAction+`","fields":`+mustMarshal(e.FormFields)+`}`), "a form as JSON, from ", true},
		{"boto3 as Python prints it", writeTestFile(t, "form.py", e.pythonRepr()), "a form as JSON (as Python prints it), from ", true},
		{"HTML form", writeTestFile(t, "form.html", e.formHTML()), "an HTML form, from ", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, "inspect", "-now", exampleNow, tc.input)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
			}
			if !strings.HasPrefix(r.stdout, "Input: "+tc.kind) {
				t.Errorf("stdout starts %q, want the kind %q", firstLine(r.stdout), tc.kind)
			}
			for _, want := range examplePolicyLines {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			if tc.form {
				for _, want := range []string{
					"posting to " + e.FormAction,
					"  key                           \"user/user1/${filename}\"\n",
					"  Policy                        (864 characters of base64: the policy above)\n",
					"Lint, with these fields, at 2015-12-29T00:00:00Z:\n  no problems found\n",
					"Signature: not checked; that needs the secret access key",
					"accepted, if the signature is valid",
				} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
					}
				}
			} else if !strings.Contains(r.stdout, "Lint, of the policy alone, at 2015-12-29T00:00:00Z:\n  no problems found\n") ||
				!strings.Contains(r.stdout, "inspect cannot say whether S3\nwould accept") {
				t.Errorf("a policy without fields:\n%s", r.stdout)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s + "\n"
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestInspectStdin reads INPUT and -fields from standard input.
func TestInspectStdin(t *testing.T) {
	e := readAWSExample(t)
	var stdout, stderr bytes.Buffer
	code := inspectMain([]string{"-now", exampleNow, "-"}, func(string) string { return "" }, strings.NewReader(e.formHTML()), &stdout, &stderr)
	if code != 0 || !strings.HasPrefix(stdout.String(), "Input: an HTML form, from standard input") {
		t.Errorf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	code = inspectMain([]string{"-now", exampleNow, "-fields", "-", e.PolicyBase64}, func(string) string { return "" },
		strings.NewReader("# the page's fields\nkey=user/user1/a.jpg\r\nContent-Type=image/jpeg\nacl=public-read\n"+
			"success_action_redirect=http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\n"+
			"x-amz-meta-uuid=14365123651274\nx-amz-server-side-encryption=AES256\nx-amz-meta-tag=\n"), &stdout, &stderr)
	out := stdout.String()
	if code != 0 || !strings.Contains(out, "(assumed from the policy, as a signed form carries them: x-amz-credential, x-amz-algorithm, x-amz-date)") ||
		!strings.Contains(out, "  accepted, if the signature is valid") {
		t.Errorf("a policy with -fields from stdin: exit %d\n%s%s", code, out, stderr.String())
	}
}

// TestInspectExplains checks the explanations of a form made by sign.
func TestInspectExplains(t *testing.T) {
	form := runCLI(t, longTermEnv, goldenArgs...)
	if form.code != 0 {
		t.Fatal(form.stderr)
	}
	file := writeTestFile(t, "form.json", form.stdout)
	r := runCLI(t, nil, "inspect", "-now", testNow, "-fields", writeTestFile(t, "page", "Content-Type=image/png\n"), file)
	for _, want := range []string{
		`      the form must be posted to the bucket "acme-user-uploads" (S3 takes the bucket from the URL)`,
		`      key must start with "uploads/user-42/"`,
		`      Content-Type must start with "image/"`,
		`      the file must be 1 to 10485760 bytes (at most 10 MiB)`,
		`      success_action_status must be "201": S3 answers a successful upload with 201 with an XML document naming the object`,
		`      x-amz-meta-uploader must be "user-42": the object's metadata "uploader"`,
		`      x-amz-algorithm must be "AWS4-HMAC-SHA256" (set by the signer)`,
		`      x-amz-date must be "20151229T000000Z": the form was signed at 2015-12-29T00:00:00Z`,
		"  (-fields added Content-Type after the form's fields)",
		"  accepted, if the signature is valid: every condition holds and every field is covered.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
}

// TestInspectVerdicts checks S3's answers to the form sign makes (whose
// page adds Content-Type) for the fields and sizes a browser could send.
func TestInspectVerdicts(t *testing.T) {
	form := runCLI(t, longTermEnv, goldenArgs...)
	file := writeTestFile(t, "form.json", form.stdout)
	// The same form without its pageConditions, as other signers write it.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(form.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "pageConditions")
	bare := writeTestFile(t, "bare.json", string(must(json.Marshal(doc))))
	page := func(lines ...string) string { return writeTestFile(t, "page.txt", strings.Join(lines, "\n")) }
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"accepted", []string{"-fields", page("Content-Type=image/png"), "-size", "10MiB", "-filename", "cat.png"}, 0,
			[]string{`S3's answer to a post to bucket "acme-user-uploads" (from the policy), file "cat.png", 10485760 bytes:`, "  accepted, if the signature is valid"}},
		{"oversize", []string{"-fields", page("Content-Type=image/png"), "-size", "11MiB"}, 1,
			[]string{"  refused: 400 EntityTooLarge: Your proposed upload exceeds the maximum allowed size\n", "  why: the file is 11534336 bytes; the policy allows at most 10485760\n"}},
		{"empty", []string{"-fields", page("Content-Type=image/png"), "-size", "0"}, 1,
			[]string{"  refused: 400 EntityTooSmall: ", "  why: the file is 0 bytes; the policy needs at least 1\n"}},
		// sign's form says in pageConditions that the page adds
		// Content-Type: inspect assumes it, with the least value allowed.
		{"the page's Content-Type", nil, 0, []string{
			`  (the form's pageConditions say the page adds Content-Type = "image/" (starts-with): assumed with the least value they allow;`,
			"  accepted, if the signature is valid: every condition holds and every field is covered."}},
		{"no Content-Type", []string{"-fields", page("Content-Type=")}, 1, []string{
			`  refused: 403 AccessDenied: Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]`,
			`  why: Content-Type must start with "image/" (a value with commas is a list, and every element must), but the form sends Content-Type = ""`}},
		{"no page conditions", nil, 1, []string{
			`  error   Content-Type: neither the form nor the page sends Content-Type`,
			`  refused: 403 AccessDenied: Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]`,
			`  why: Content-Type must start with "image/" (a value with commas is a list, and every element must), and the form does not send Content-Type`}},
		{"wrong type", []string{"-fields", page("Content-Type=image/png, text/html")}, 1, []string{
			`  why: Content-Type must start with "image/" (a value with commas is a list, and every element must), but the form sends Content-Type = "image/png, text/html"`}},
		{"wrong key", []string{"-fields", page("Content-Type=image/png", "key=uploads/user-43/cat.png")}, 1, []string{
			"  (-fields replaced the form's key)",
			`  error   key: the form value "uploads/user-43/cat.png" does not satisfy ["starts-with", "$key", "uploads/user-42/"] (rule conflict)`,
			`  refused: 403 AccessDenied: Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/user-42/"]`,
			`  why: key must start with "uploads/user-42/", but the form sends key = "uploads/user-43/cat.png"`}},
		{"extra field", []string{"-fields", page("Content-Type=image/png", "acl=public-read")}, 1, []string{
			`  error   acl: no condition covers acl; S3 would answer "Invalid according to Policy: Extra input fields: acl" (rule field-without-condition)`,
			"  refused: 403 AccessDenied: Invalid according to Policy: Extra input fields: acl\n",
			"  why: the form sends acl, which no condition covers"}},
		{"ignored extra field", []string{"-fields", page("Content-Type=image/png", "x-ignore-note=hi")}, 0, []string{"  accepted"}},
		{"expired", []string{"-fields", page("Content-Type=image/png"), "-now", "2015-12-29T00:15:00Z"}, 1, []string{
			"It expired at 2015-12-29T00:15:00Z, 0s before the time checked, 2015-12-29T00:15:00Z",
			"(rule expiration-passed)",
			"  refused: 403 AccessDenied: Invalid according to Policy: Policy expired.\n"}},
		{"another bucket", []string{"-fields", page("Content-Type=image/png"), "-bucket", "other-bucket"}, 1, []string{
			`  refused: 403 AccessDenied: Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "acme-user-uploads"]`,
			`  why: the form must be posted to the bucket "acme-user-uploads" (S3 takes the bucket from the URL), but the form posts to "other-bucket"`}},
		{"duplicate field", []string{"-fields", writeTestFile(t, "dup.json", `[["Content-Type","image/png"],["content-type","image/gif"]]`)}, 1, []string{
			`  refused: 400 InvalidArgument: POST form field "content-type" appears more than once; fields must be single-valued.`}},
		{"missing signature", []string{"-fields", page("Content-Type=image/png", "x-amz-signature=")}, 1, []string{
			"  refused: 400 InvalidArgument: Bucket POST must contain a field named 'x-amz-signature'."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"inspect", "-now", testNow}, tc.args...)
			r := runCLI(t, nil, append(args, file)...)
			if tc.name == "no page conditions" {
				r = runCLI(t, nil, append(args, bare)...)
			}
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

// TestInspectBrokenPolicy checks that the lint flags each mistake of a
// deliberately broken policy, with its rule.
func TestInspectBrokenPolicy(t *testing.T) {
	broken := `{"expiration": "2015-12-30T12:00:00Z",
 "conditions": [
   ["starts-with", "$bucket", "sigv4"],
   {"key": "user/user1/${filename}"},
   ["starts-with", "$success_action_status", "20"],
   ["content-length-range", 1048576, 1024],
   {"acl": "public-readable"},
   ["starts-with", "$Content-Type", "image/"],
   {"Content-Type": "text/plain"}
 ]}`
	r := runCLI(t, nil, "inspect", "-now", exampleNow, writeTestFile(t, "broken.json", broken))
	if b, _ := os.ReadFile("testdata/broken-policy.json"); strings.TrimSpace(string(b)) != broken {
		t.Error("testdata/broken-policy.json is not the policy of this test")
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	var rules []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "  error   ") {
			rules = append(rules, line[strings.LastIndex(line, "(rule ")+6:len(line)-1])
		}
	}
	want := []string{"exact-match-only", "filename-in-condition", "exact-match-only", "range-inverted", "field-value", "conflict", "bucket-missing"}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s\n%s", diff, r.stdout)
	}
	if !strings.Contains(r.stdout, "      the file must be 1048576 to 1024 bytes") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestInspectSignature checks the signature with the secret from the
// environment, and that neither the secret nor the expected signature is
// printed.
func TestInspectSignature(t *testing.T) {
	e := readAWSExample(t)
	html := writeTestFile(t, "form.html", e.formHTML())
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		want string
	}{
		{"no secret", nil, 0, "Signature: not checked; that needs the secret access key"},
		{"the secret", map[string]string{"AWS_SECRET_ACCESS_KEY": testSecret}, 0,
			"Signature: valid, made with the secret of AKIAIOSFODNN7EXAMPLE for 20151229, region us-east-1, service s3."},
		{"the key pair", longTermEnv, 0, "Signature: valid"},
		{"another secret", map[string]string{"AWS_SECRET_ACCESS_KEY": "another-secret-0123456789"}, 1,
			"Signature: does NOT match the secret in AWS_SECRET_ACCESS_KEY for AKIAIOSFODNN7EXAMPLE, 20151229, us-east-1, s3.\n  S3 would answer 403 SignatureDoesNotMatch."},
		{"another key id", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAOTHEREXAMPLE", "AWS_SECRET_ACCESS_KEY": testSecret}, 0,
			"Signature: not checked; the form was signed with access key AKIAIOSFODNN7EXAMPLE, and AWS_ACCESS_KEY_ID is AKIAOTHEREXAMPLE."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, "inspect", "-now", exampleNow, html)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("exit %d (want %d), stdout lacks %q:\n%s", r.code, tc.code, tc.want, r.stdout)
			}
			if s := tc.env["AWS_SECRET_ACCESS_KEY"]; s != "" && strings.Contains(r.stdout+r.stderr, s) {
				t.Error("the secret is printed")
			}
		})
	}
	r := runCLI(t, map[string]string{"AWS_SECRET_ACCESS_KEY": "another-secret-0123456789"}, "inspect", "-now", exampleNow, html)
	if !strings.Contains(r.stdout, "  refused: 403 SignatureDoesNotMatch") || !strings.Contains(r.stdout, "With a valid signature, every condition would hold.") {
		t.Errorf("the verdict of a bad signature:\n%s", r.stdout)
	}
}

// TestInspectSessionToken checks that a session token in a form and its
// policy is never printed.
func TestInspectSessionToken(t *testing.T) {
	form := runCLI(t, tokenEnv, goldenArgs...)
	if form.code != 0 {
		t.Fatal(form.stderr)
	}
	r := runCLI(t, tokenEnv, "inspect", "-now", testNow, "-fields", writeTestFile(t, "p", "Content-Type=image/png"), writeTestFile(t, "f.json", form.stdout))
	if strings.Contains(r.stdout+r.stderr, testToken) {
		t.Errorf("inspect printed the session token:\n%s", r.stdout)
	}
	for _, want := range []string{
		`    {"x-amz-security-token": "(the session token, not shown)"},`,
		"  x-amz-security-token   (the session token, 24 characters, not shown)",
		"Signature: valid",
		"  accepted: the signature is valid",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, nil, "inspect", "-now", testNow, "-fields", writeTestFile(t, "p", "Content-Type=image/png\nx-amz-security-token=wrong-token-value"), writeTestFile(t, "f.json", form.stdout))
	if strings.Contains(r.stdout, testToken) || !strings.Contains(r.stdout, "why: the session token differs from the one in the policy") {
		t.Errorf("a wrong token:\n%s", r.stdout)
	}
}

// TestInspectHTML checks details of reading an HTML form.
func TestInspectHTML(t *testing.T) {
	e := readAWSExample(t)
	page := e.formHTML()
	// A field after the file input, and a duplicate before it.
	after := strings.Replace(page, `<input type="submit"`, `<input type="hidden" name="late" value="1"><input type="submit"`, 1)
	r := runCLI(t, nil, "inspect", "-now", exampleNow, writeTestFile(t, "after.html", after))
	if r.code != 0 || !strings.Contains(r.stdout, "(after the file input the form also has late; S3 ignores fields after the file)") {
		t.Errorf("a field after the file: exit %d\n%s", r.code, r.stdout)
	}
	dup := strings.Replace(page, `<input type="file"`, `<input type="hidden" name="ACL" value="private"><input type="file"`, 1)
	r = runCLI(t, nil, "inspect", "-now", exampleNow, writeTestFile(t, "dup.html", dup))
	if r.code != 1 || !strings.Contains(r.stdout, `refused: 400 InvalidArgument: POST form field "ACL" appears more than once`) {
		t.Errorf("a duplicate field: exit %d\n%s", r.code, r.stdout)
	}
	nofile := strings.Replace(page, `<input type="file" name="file">`, "", 1)
	r = runCLI(t, nil, "inspect", "-now", exampleNow, writeTestFile(t, "nofile.html", nofile))
	if !strings.Contains(r.stdout, "(the form has no file input; S3 needs the file in a field named \"file\", last)") {
		t.Errorf("a form without a file input:\n%s", r.stdout)
	}
	two := "<form action=/search><input name=q value=x></form>" + page
	r = runCLI(t, nil, "inspect", "-now", exampleNow, writeTestFile(t, "two.html", two))
	if r.code != 0 || !strings.Contains(r.stdout, "posting to "+e.FormAction) {
		t.Errorf("the second of two forms: exit %d\n%s", r.code, r.stdout)
	}
}

func TestInspectUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "INPUT is missing"},
		{[]string{"a", "b"}, "one INPUT only, got 2"},
		{[]string{"-fields", "-", "-"}, "INPUT and -fields cannot both be standard input"},
		{[]string{"-now", "yesterday", "x"}, "want an RFC 3339 time"},
		{[]string{"-size", "-1", "x"}, "a size cannot be negative"},
		{[]string{"-nope", "x"}, "flag provided but not defined"},
	} {
		r := runCLI(t, nil, append([]string{"inspect"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "postpolicy inspect -h") {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestInspectBadInput checks that what is not a policy or a form is
// exit status 1, with a message saying why.
func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"not a policy!"}, "not a policy: neither base64, nor JSON (starting with {), nor HTML (starting with <)"},
		{[]string{"{nope"}, "starts with { but is not JSON"},
		{[]string{`{"a": 1}`}, "neither a policy (with expiration and conditions) nor a form (with url and fields)"},
		{[]string{`{"url": "x", "fields": {"key": "k"}}`}, "the form has no policy field"},
		{[]string{`{"url": "x", "fields": {"policy": "%%%"}}`}, "the form's policy field is not base64"},
		{[]string{`{"url": "x", "fields": [1, 2]}`}, "element 0 is neither [name, value]"},
		{[]string{"<html><form><input name=q></form></html>"}, "the HTML holds no form with a policy field"},
		{[]string{"   "}, "empty input"},
		{[]string{"missing-form.json"}, "INPUT is not a file, and as text it is not a policy"},
		{[]string{dir}, "is not a regular file"},
		{[]string{"-fields", filepath.Join(dir, "missing"), "eyJ9"}, "-fields: "},
		{[]string{"-fields", dir, "eyJ9"}, "is not a regular file"},
		{[]string{"-fields", writeTestFile(t, "bad", "no equals sign"), "eyJ9"}, "line 1: want name=value"},
	} {
		r := runCLI(t, nil, append([]string{"inspect"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A policy S3 cannot parse is reported with S3's answer.
	r := runCLI(t, nil, "inspect", `{"expiration": "2015-12-30T12:00:00+01:00", "conditions": []}`)
	if r.code != 1 || !strings.Contains(r.stdout, "400 InvalidPolicyDocument: Invalid Policy: Invalid 'expiration' value") {
		t.Errorf("an unparsable policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestInspectEscapes checks that characters a terminal could misread are
// escaped in the output.
func TestInspectEscapes(t *testing.T) {
	pol := `{"expiration": "2015-12-30T12:00:00Z", "conditions": [{"bucket": "b-1"}, ["starts-with", "$key", "a\u202eb\u001b[31m"]]}`
	r := runCLI(t, nil, "inspect", "-now", exampleNow, pol)
	if strings.ContainsAny(r.stdout, "\u202e\x1b") || !strings.Contains(r.stdout, `\u202E`) {
		t.Errorf("unescaped control characters:\n%q", r.stdout)
	}
}

func TestPythonToJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{'a': 'b'}`:                         `{"a":"b"}`,
		`{"a": 'it\'s', 'n': 1, 'f': 1.5}`:   `{"a":"it's","n":1,"f":1.5}`,
		`{'t': (True, False, None), }`:       `{"t":[true,false,null]}`,
		`{u'x': r'\d', 'y': '\x41\u00e9\n'}`: `{"x":"\\d","y":"Aé\n"}`,
		`{'l': [], 'd': {}}`:                 `{"l":[],"d":{}}`,
	} {
		got, err := pythonToJSON(in)
		if err != nil || string(got) != want {
			t.Errorf("pythonToJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{'a' 'b'}`, `{'a': 'b'`, `{1: 2}`, `{'a': x}`, `{'a': 'b'} extra`, `{'a': 'line` + "\n" + `'}`, strings.Repeat("[", 40) + strings.Repeat("]", 40)} {
		if got, err := pythonToJSON(in); err == nil {
			t.Errorf("pythonToJSON(%q) = %s, want an error", in, got)
		}
	}
}

func TestParseFieldsFile(t *testing.T) {
	for in, want := range map[string][][2]string{
		"a=1\n\n# comment\nb = x=y\r\n":             {{"a", "1"}, {"b", " x=y"}},
		`[["a", "1"], {"name": "b", "value": "2"}]`: {{"a", "1"}, {"b", "2"}},
		`{"z": "1", "a": "2"}`:                      {{"z", "1"}, {"a", "2"}},
		"\xef\xbb\xbfkey=users/x\n":                 {{"key", "users/x"}},
		"":                                          nil,
	} {
		fields, err := parseFieldsFile([]byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var got [][2]string
		for _, f := range fields {
			got = append(got, [2]string{f.Name, f.Value})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
}

// FuzzInspectInput checks that no INPUT makes inspect panic, and that it
// ends with 0 or 1.
func FuzzInspectInput(f *testing.F) {
	f.Add("eyJleHBpcmF0aW9uIjoiMjAxNS0xMi0zMFQxMjowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=")
	f.Add(`{"url":"u","fields":{"policy":"e30=","key":"k"}}`)
	f.Add(`{'url': 'u', 'fields': {'policy': 'e30='}}`)
	f.Add(`<form><input name=policy value="e30="><input type=file name=file></form>`)
	f.Add(`{"expiration": "2015-12-30T12:00:00Z", "conditions": [["content-length-range", 1, 2]]}`)
	f.Fuzz(func(t *testing.T, input string) {
		var stdout, stderr bytes.Buffer
		code := inspectMain([]string{"-now", exampleNow, "-"}, func(string) string { return "" }, strings.NewReader(input), &stdout, &stderr)
		if code != 0 && code != 1 {
			t.Errorf("exit %d", code)
		}
	})
}

func TestQuoteAttributes(t *testing.T) {
	for in, want := range map[string]string{
		`<form action=/upload method=post>`:          `<form action="/upload" method="post">`,
		`<input name=key value=users/a/${filename}>`: `<input name="key" value="users/a/${filename}">`,
		`<input value = a"b >`:                       `<input value ="a&quot;b" >`,
		`<input value="x y=z" title='a=b'>`:          `<input value="x y=z" title='a=b'>`,
		`<br/> a=b <p class=x>`:                      `<br/> a=b <p class="x">`,
		`<input required disabled=>`:                 `<input required disabled=>`,
		`<!-- <x a=b> -->`:                           `<!-- <x a="b"> -->`,
		`text < 3 and a=b`:                           `text < 3 and a=b`,
	} {
		if got := quoteAttributes(in); got != want {
			t.Errorf("quoteAttributes(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInspectFixtures checks the two files the README inspects: the AWS
// example's form, whose fields must be the vector's and which S3 accepts
// (with the secret, its signature checks), and the broken policy, whose
// every mistake the lint flags (see TestInspectBrokenPolicy).
func TestInspectFixtures(t *testing.T) {
	e := readAWSExample(t)
	r := runCLI(t, longTermEnv, "inspect", "-now", exampleNow, "-filename", "cat.jpg", "-size", "1MiB", "testdata/aws-post-example.html")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, list, _ := strings.Cut(r.stdout, "Fields a browser sends, in order, before the file:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var got [][]string
	for _, line := range strings.Split(list, "\n") {
		name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		got = append(got, []string{name, strings.TrimSpace(value)})
	}
	var want [][]string
	for _, f := range e.FormFields {
		v := jsonQuote(f[1])
		if f[0] == "Policy" {
			v = "(864 characters of base64: the policy above)"
		}
		want = append(want, []string{f[0], v})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the fixture's fields are not the vector's (-want +got):\n%s", diff)
	}
	for _, w := range []string{"Signature: valid", `file "cat.jpg", 1048576 bytes:` + "\n  accepted: the signature is valid"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	b, err := os.ReadFile("testdata/broken-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "inspect", "-now", exampleNow, string(b)); r.code != 1 || strings.Count(r.stdout, "  error   ") != 7 {
		t.Errorf("broken-policy.json: exit %d\n%s", r.code, r.stdout)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
