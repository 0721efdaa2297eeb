package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// The AWS documentation's published example keys, and a made-up session
// token. No other credentials appear in these tests.
const (
	testAccessKeyID = "AKIAIOSFODNN7EXAMPLE"
	testSecret      = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken       = "FQoGZXIvYXdzEXAMPLETOKEN"
)

// testNow is the signing time of the readme-example golden vector.
const testNow = "2015-12-29T00:00:00Z"

// longTermEnv holds long-term credentials; tokenEnv adds a session token.
var (
	longTermEnv = map[string]string{
		"AWS_ACCESS_KEY_ID":     testAccessKeyID,
		"AWS_SECRET_ACCESS_KEY": testSecret,
	}
	tokenEnv = map[string]string{
		"AWS_ACCESS_KEY_ID":     testAccessKeyID,
		"AWS_SECRET_ACCESS_KEY": testSecret,
		"AWS_SESSION_TOKEN":     testToken,
	}
)

// readmeArgs are the flags of the README's first command (checked against
// README.md by TestREADMECommand).
var readmeArgs = []string{
	"sign", "-bucket", "acme-user-uploads", "-region", "eu-west-1",
	"-key", "uploads/user-42/${filename}", "-content-type-prefix", "image/", "-max-size", "10MiB",
}

// goldenArgs reproduce the readme-example golden vector: the README's
// flags, plus the three conditions the vector has and the command leaves
// out, at the vector's signing time.
var goldenArgs = concat(readmeArgs,
	"-min-size", "1", "-success-action-status", "201", "-meta", "uploader=user-42", "-now", testNow)

// concat returns a new slice holding a followed by more.
func concat(a []string, more ...string) []string {
	return append(append([]string(nil), a...), more...)
}

// result is what one run of the program produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the program with args and env. Whatever the test, it fails if
// the secret key appears anywhere, if the session token appears on stderr,
// or if it appears on stdout more than once (its one legitimate place is
// the form's x-amz-security-token field).
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, func(k string) string { return env[k] }, &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	if strings.Contains(r.stdout, testSecret) || strings.Contains(r.stderr, testSecret) {
		t.Errorf("run %q printed the secret access key", args)
	}
	if strings.Contains(r.stderr, testToken) {
		t.Errorf("run %q printed the session token on stderr", args)
	}
	if n := strings.Count(r.stdout, testToken); n > 1 {
		t.Errorf("run %q printed the session token %d times on stdout", args, n)
	}
	return r
}

// readmeGolden returns the readme-example case of the golden vectors, whose
// expected values were computed with openssl, independently of the library.
func readmeGolden(t *testing.T) testutil.GoldenCase {
	t.Helper()
	for _, c := range testutil.GoldenCases(t, "../../testdata/golden/signer.json") {
		if c.ID == "readme-example" {
			if c.AccessKeyID != testAccessKeyID || c.SecretAccessKey != testSecret || c.SessionToken != "" {
				t.Fatal("readme-example no longer uses the published example keys without a token")
			}
			if c.SigningTime != testNow {
				t.Fatalf("readme-example signing time is %s, the tests use %s", c.SigningTime, testNow)
			}
			return c
		}
	}
	t.Fatal("no readme-example case in signer.json")
	return testutil.GoldenCase{}
}

// decodeForm reads the JSON form sign prints, keeping the order of its
// members and of its fields.
func decodeForm(t *testing.T, out string) (keys []string, url string, fields [][]string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	next := func() json.Token {
		t.Helper()
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("decoding the form: %v\n%s", err, out)
		}
		return tok
	}
	if next() != json.Delim('{') {
		t.Fatalf("the form is not a JSON object:\n%s", out)
	}
	for dec.More() {
		k, _ := next().(string)
		keys = append(keys, k)
		switch k {
		case "url":
			url, _ = next().(string)
		case "fields":
			if next() != json.Delim('{') {
				t.Fatalf("fields is not an object:\n%s", out)
			}
			for dec.More() {
				name, _ := next().(string)
				value, ok := next().(string)
				if !ok {
					t.Fatalf("field %s is not a string", name)
				}
				fields = append(fields, []string{name, value})
			}
			next()
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatalf("decoding the form's %s: %v", k, err)
			}
		}
	}
	next()
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("data after the form: %v", err)
	}
	return keys, url, fields
}

// fieldValue returns the value of the field named name.
func fieldValue(fields [][]string, name string) (string, bool) {
	for _, f := range fields {
		if f[0] == name {
			return f[1], true
		}
	}
	return "", false
}

// decodedPolicy returns the policy document of a form's fields.
func decodedPolicy(t *testing.T, fields [][]string) string {
	t.Helper()
	p, ok := fieldValue(fields, "policy")
	if !ok {
		t.Fatal("the form has no policy field")
	}
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// jsonString returns s as a JSON string literal without HTML escaping, as
// the library writes strings.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// shellWords splits a README command line into words. It understands the
// quoting the README uses (single quotes) and fails on anything a shell
// would treat specially outside them, so a README change that needs a real
// shell to read shows up here.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, inQuote := false, false
	for _, r := range line {
		switch {
		case inQuote:
			if r == '\'' {
				inQuote = false
			} else {
				cur.WriteRune(r)
			}
		case r == '\'':
			inQuote, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`;&|<>()*?[]{}~#", r):
			t.Fatalf("the README command uses %q outside single quotes; update shellWords: %s", r, line)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		t.Fatalf("unterminated quote in the README command: %s", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestREADMECommand runs the README's first command exactly as written
// (plus -now, to fix the clock) and checks its form against a signature
// computed here from a hand-written policy document, with the signing key
// that openssl derived for the golden vectors (same date, region and
// service).
func TestREADMECommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "go run ./cmd/postpolicy sign") {
			line = sc.Text()
			break
		}
	}
	if line == "" {
		t.Fatal("README.md has no go run ./cmd/postpolicy sign command")
	}
	words := shellWords(t, line)
	env := map[string]string{}
	for len(words) > 0 && strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	if diff := cmp.Diff(longTermEnv, env); diff != "" {
		t.Fatalf("the README's environment is not the published example keys (-want +got):\n%s", diff)
	}
	if len(words) < 3 || words[0] != "go" || words[1] != "run" || words[2] != "./cmd/postpolicy" {
		t.Fatalf("the README command does not start with go run ./cmd/postpolicy: %q", words)
	}
	args := words[3:]
	if diff := cmp.Diff(readmeArgs, args); diff != "" {
		t.Errorf("the README command's arguments changed; update readmeArgs (-want +got):\n%s", diff)
	}

	r := runCLI(t, env, concat(args, "-now", testNow)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	g := readmeGolden(t)
	const wantPolicy = `{"conditions":[{"x-amz-algorithm":"AWS4-HMAC-SHA256"},` +
		`{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"},` +
		`{"bucket":"acme-user-uploads"},["starts-with","$key","uploads/user-42/"],` +
		`["starts-with","$Content-Type","image/"],["content-length-range",0,10485760],` +
		`{"x-amz-date":"20151229T000000Z"}],"expiration":"2015-12-29T00:15:00.000Z"}`
	encoded := base64.StdEncoding.EncodeToString([]byte(wantPolicy))
	key, err := hex.DecodeString(g.Expected.SigningKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(encoded))
	wantSignature := hex.EncodeToString(mac.Sum(nil))

	keys, url, fields := decodeForm(t, r.stdout)
	if diff := cmp.Diff([]string{"url", "method", "fields", "pageConditions"}, keys); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if url != g.URL {
		t.Errorf("url = %q, want %q", url, g.URL)
	}
	want := [][]string{
		{"key", "uploads/user-42/${filename}"},
		{"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"},
		{"x-amz-date", "20151229T000000Z"},
		{"policy", encoded},
		{"x-amz-signature", wantSignature},
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPolicy, decodedPolicy(t, fields)); diff != "" {
		t.Errorf("policy document (-want +got):\n%s", diff)
	}
}

// TestSignGoldenJSON checks that sign reproduces the readme-example golden
// vector byte for byte: the fields, their order, the policy and the
// signature, indented by two spaces with a final newline.
func TestSignGoldenJSON(t *testing.T) {
	g := readmeGolden(t)
	r := runCLI(t, longTermEnv, goldenArgs...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	wantFields := append(append([][]string(nil), g.Fields...),
		[]string{"policy", g.Expected.PolicyBase64},
		[]string{"x-amz-signature", g.Expected.Signature})

	_, url, fields := decodeForm(t, r.stdout)
	if url != g.URL {
		t.Errorf("url = %q, want %q", url, g.URL)
	}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(g.PolicyJSON, decodedPolicy(t, fields)); diff != "" {
		t.Errorf("policy document (-want +got):\n%s", diff)
	}

	var text strings.Builder
	text.WriteString("{\n  \"url\": " + jsonString(t, g.URL) + ",\n  \"method\": \"POST\",\n  \"fields\": {\n")
	for i, f := range wantFields {
		text.WriteString("    " + jsonString(t, f[0]) + ": " + jsonString(t, f[1]))
		if i < len(wantFields)-1 {
			text.WriteString(",")
		}
		text.WriteString("\n")
	}
	// The page sets Content-Type; the JSON says what it must start with.
	text.WriteString("  },\n  \"pageConditions\": [\n    {\n      \"field\": \"Content-Type\",\n      \"op\": \"starts-with\",\n      \"value\": \"image/\"\n    }\n  ]\n}\n")
	if diff := cmp.Diff(text.String(), r.stdout); diff != "" {
		t.Errorf("output text (-want +got):\n%s", diff)
	}
}

// curlArgs runs a curl command line with sh, with curl replaced by a shell
// function that prints each argument on its own line, and returns the
// arguments the shell passed. It skips the test when there is no sh.
func curlArgs(t *testing.T, command string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the curl command with")
	}
	if out, err := exec.Command(sh, "-n", "-c", command).CombinedOutput(); err != nil {
		t.Fatalf("sh -n rejects the curl command: %v\n%s\n%s", err, out, command)
	}
	script := "curl() { for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }\n" + command
	out, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, command)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// TestSignCurl checks the curl format: one --form-string per field in the
// form's order, then the page's fields, then the file, last, then the URL,
// every value single-quoted so that sh passes it through unchanged, even a
// value holding a single quote.
func TestSignCurl(t *testing.T) {
	args := concat(goldenArgs, "-meta", "note=it's $HOME `x` \"q\" @a <b")
	j := runCLI(t, longTermEnv, args...)
	c := runCLI(t, longTermEnv, concat(args, "-format", "curl")...)
	if j.code != 0 || c.code != 0 || c.stderr != "" {
		t.Fatalf("exit %d and %d, stderr:\n%s%s", j.code, c.code, j.stderr, c.stderr)
	}
	_, url, fields := decodeForm(t, j.stdout)

	if !strings.Contains(c.stdout, `--form-string 'x-amz-meta-note=it'\''s $HOME `+"`x`"+` "q" @a <b'`) {
		t.Errorf("the metadata value is not quoted as expected:\n%s", c.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(c.stdout, "\n"), "\n")
	if lines[0] != `curl -sS -i \` {
		t.Errorf("first line = %q", lines[0])
	}
	for i, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, ` \`) {
			t.Errorf("line %d does not continue: %q", i+1, l)
		}
	}
	if got, want := lines[len(lines)-2], `  -F 'file=@FILE' \`; got != want {
		t.Errorf("next-to-last line = %q, want %q", got, want)
	}
	if got, want := lines[len(lines)-1], "  "+shellQuote(url); got != want {
		t.Errorf("last line = %q, want %q", got, want)
	}
	if n := strings.Count(c.stdout, "-F "); n != 1 {
		t.Errorf("%d -F arguments, want only the file's", n)
	}

	want := []string{"-sS", "-i"}
	for _, f := range fields {
		want = append(want, "--form-string", f[0]+"="+f[1])
	}
	want = append(want, "--form-string", "Content-Type=image/", "-F", "file=@FILE", url)
	if diff := cmp.Diff(want, curlArgs(t, c.stdout)); diff != "" {
		t.Errorf("arguments sh passes to curl (-want +got):\n%s", diff)
	}
}

// TestShellQuote checks single-quoting, including embedded single quotes.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":         `''`,
		"plain":    `'plain'`,
		"it's":     `'it'\''s'`,
		"''":       `''\'''\'''`,
		"a\nb $x":  "'a\nb $x'",
		`back\sl`:  `'back\sl'`,
		"${x}`y`":  "'${x}`y`'",
		"@file <f": `'@file <f'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestSignHTML checks the HTML format: a hidden input per field in order,
// the page's fields, and the file input after all of them.
func TestSignHTML(t *testing.T) {
	g := readmeGolden(t)
	r := runCLI(t, longTermEnv, concat(goldenArgs, "-format", "html")...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	out := r.stdout
	if !strings.HasPrefix(out, `<form action="`+g.URL+`" method="post" enctype="multipart/form-data">`) {
		t.Errorf("the output does not start with the form element:\n%s", out)
	}
	hidden := regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllStringSubmatchIndex(out, -1)
	if len(hidden) != len(g.Fields)+2 {
		t.Errorf("%d hidden inputs, want %d", len(hidden), len(g.Fields)+2)
	}
	var names []string
	for _, m := range hidden {
		names = append(names, out[m[2]:m[3]])
	}
	wantNames := []string{"key", "success_action_status", "x-amz-meta-uploader", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("hidden inputs (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, `value="`+g.Expected.Signature+`"`) {
		t.Error("the signature is not in the form")
	}
	file := strings.Index(out, `<input type="file" name="file"`)
	page := strings.Index(out, `name="Content-Type" value="image/"`)
	switch {
	case file < 0:
		t.Fatalf("no file input:\n%s", out)
	case len(hidden) > 0 && file < hidden[len(hidden)-1][1]:
		t.Errorf("the file input comes before a hidden input:\n%s", out)
	case page < 0 || page > file:
		t.Errorf("the page's Content-Type input is missing or after the file:\n%s", out)
	case strings.Count(out, `type="file"`) != 1:
		t.Errorf("more than one file input:\n%s", out)
	case strings.LastIndex(out, "<input") != file:
		t.Errorf("an input comes after the file input:\n%s", out)
	}
}

// usageErrorCases are runs that must fail with exit status 2 and a message
// naming the flag (or subcommand) at fault.
var usageErrorCases = []struct {
	name string
	env  map[string]string
	args []string
	want string
}{
	{"missing bucket", tokenEnv, []string{"sign", "-region", "eu-west-1", "-key", "k"}, "-bucket"},
	{"empty bucket", tokenEnv, []string{"sign", "-bucket", "", "-region", "eu-west-1", "-key", "k"}, "-bucket"},
	{"key and key-prefix", tokenEnv, []string{"sign", "-bucket", "b-1", "-region", "eu-west-1", "-key", "k", "-key-prefix", "p/"}, "-key-prefix"},
	{"no key", tokenEnv, []string{"sign", "-bucket", "b-1", "-region", "eu-west-1"}, "-key"},
	{"bad size unit", tokenEnv, concat(readmeArgs[:9], "-max-size", "10XB"), "-max-size"},
	{"negative size", tokenEnv, concat(readmeArgs[:9], "-max-size", "-5"), "-max-size"},
	{"fractional size", tokenEnv, concat(readmeArgs[:9], "-max-size", "1.5MB"), "-max-size"},
	{"garbage min-size", tokenEnv, concat(readmeArgs, "-min-size", "lots"), "-min-size"},
	{"min-size alone", tokenEnv, concat(readmeArgs[:9], "-min-size", "1"), "-min-size"},
	{"meta without =", tokenEnv, concat(readmeArgs, "-meta", "uploader"), "-meta"},
	{"meta without name", tokenEnv, concat(readmeArgs, "-meta", "=x"), "-meta"},
	{"bad now", tokenEnv, concat(readmeArgs, "-now", "yesterday"), "-now"},
	{"now without zone", tokenEnv, concat(readmeArgs, "-now", "2015-12-29T00:00:00"), "-now"},
	{"bad format", tokenEnv, concat(readmeArgs, "-format", "xml"), "-format"},
	{"unknown flag", tokenEnv, concat(readmeArgs, "-bogus"), "-bogus"},
	{"content-type and prefix", tokenEnv, concat(readmeArgs, "-content-type", "image/png"), "-content-type"},
	{"path-style and virtual-hosted", tokenEnv, concat(readmeArgs, "-path-style", "-virtual-hosted"), "-virtual-hosted"},
	{"zero expires", tokenEnv, concat(readmeArgs, "-expires", "0s"), "-expires"},
	{"negative expires", tokenEnv, concat(readmeArgs, "-expires", "-5m"), "-expires"},
	{"garbage expires", tokenEnv, concat(readmeArgs, "-expires", "soon"), "-expires"},
	{"bad status", tokenEnv, concat(readmeArgs, "-success-action-status", "created"), "-success-action-status"},
	{"no region", tokenEnv, []string{"sign", "-bucket", "b-1", "-key", "k"}, "-region"},
	{"positional argument", tokenEnv, concat(readmeArgs, "extra"), `unexpected argument "extra"`},
	{"usage error before credentials", nil, []string{"sign", "-region", "eu-west-1", "-key", "k"}, "-bucket"},
	{"unknown subcommand", tokenEnv, []string{"frobnicate"}, `unknown command "frobnicate"`},
	{"help for unknown subcommand", tokenEnv, []string{"help", "frobnicate"}, `unknown command "frobnicate"`},
	{"no subcommand", tokenEnv, nil, "Usage: postpolicy <command>"},
}

// TestUsageErrors checks that each usage error exits 2, prints nothing on
// stdout, and names the flag at fault on stderr.
func TestUsageErrors(t *testing.T) {
	for _, tc := range usageErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not name %q:\n%s", tc.want, r.stderr)
			}
			if len(tc.args) > 0 && tc.args[0] == "sign" && !strings.HasPrefix(r.stderr, "postpolicy sign: ") {
				t.Errorf("stderr does not start with the command's prefix:\n%s", r.stderr)
			}
		})
	}
}

// problemCases are runs whose policy, signer configuration or credentials
// cannot be signed: exit status 1, and stderr names the rule or the cause.
var problemCases = []struct {
	name string
	env  map[string]string
	args []string
	want []string // each on its own line of stderr
}{
	{"bucket name", tokenEnv, concat(goldenArgs, "-bucket", "Bad_Name"), []string{"bucket: ", "(rule bucket-name)"}},
	{"inverted range", tokenEnv, concat(readmeArgs, "-min-size", "2KB", "-max-size", "1KB"), []string{"content-length-range: ", "(rule range-inverted)"}},
	{"two problems", tokenEnv, concat(goldenArgs, "-bucket", "Bad_Name", "-acl", "world-writable"), []string{"(rule bucket-name)", "acl: ", "(rule field-value)"}},
	{"bad region", tokenEnv, concat(readmeArgs, "-region", "eu west 1"), []string{"invalid signer configuration", "Region"}},
	{"bad endpoint", tokenEnv, concat(readmeArgs, "-endpoint", "ftp://example.com"), []string{"invalid signer configuration", "Endpoint"}},
	{"no credentials", nil, readmeArgs, []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "not set"}},
	{"no secret", map[string]string{"AWS_ACCESS_KEY_ID": testAccessKeyID, "AWS_SESSION_TOKEN": testToken}, readmeArgs, []string{"AWS_SECRET_ACCESS_KEY", "not set"}},
	{"no access key id", map[string]string{"AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": testToken}, readmeArgs, []string{"AWS_ACCESS_KEY_ID", "not set"}},
}

// TestProblems checks that policy, configuration and credential problems
// exit 1 and name their rule or cause, one prefixed line each.
func TestProblems(t *testing.T) {
	for _, tc := range problemCases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, r.stderr)
				}
			}
			for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
				if !strings.HasPrefix(l, "postpolicy sign: ") && !strings.HasPrefix(l, "warning: ") {
					t.Errorf("stderr line without the command's prefix: %q", l)
				}
			}
		})
	}
}

// TestProblemsOnePerLine checks that each problem of a policy with several
// gets its own line.
func TestProblemsOnePerLine(t *testing.T) {
	r := runCLI(t, tokenEnv, concat(goldenArgs, "-bucket", "Bad_Name", "-acl", "world-writable", "-min-size", "9", "-max-size", "8")...)
	var rules []string
	for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		if m := regexp.MustCompile(`^postpolicy sign: .*\(rule ([a-z0-9-]+)\)$`).FindStringSubmatch(l); m != nil {
			rules = append(rules, m[1])
		}
	}
	if diff := cmp.Diff([]string{"bucket-name", "range-inverted", "field-value"}, rules); diff != "" {
		t.Errorf("rules on stderr (-want +got):\n%s\nstderr:\n%s", diff, r.stderr)
	}
}

// TestNoSecretsInOutput runs every failing case and a success in each
// format with temporary credentials, and checks that the secret never
// appears and the session token appears only as the form's
// x-amz-security-token field.
func TestNoSecretsInOutput(t *testing.T) {
	check := func(t *testing.T, args []string, r result, tokenAllowed bool) {
		t.Helper()
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if strings.Contains(out, testSecret) {
				t.Errorf("%q: the secret key is on %s", args, name)
			}
			if strings.Contains(out, testToken) && !(tokenAllowed && name == "stdout") {
				t.Errorf("%q: the session token is on %s", args, name)
			}
		}
	}
	for _, tc := range usageErrorCases {
		check(t, tc.args, runCLI(t, tc.env, tc.args...), false)
	}
	for _, tc := range problemCases {
		check(t, tc.args, runCLI(t, tc.env, tc.args...), false)
	}
	for _, format := range signFormats {
		args := concat(goldenArgs, "-format", format, "-expires", "200h")
		r := runCLI(t, tokenEnv, args...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, r.code, r.stderr)
		}
		check(t, args, r, true)
		var want string
		switch format {
		case "json":
			want = `"x-amz-security-token": "` + testToken + `"`
		case "html":
			want = `name="x-amz-security-token" value="` + testToken + `"`
		case "curl":
			want = `--form-string 'x-amz-security-token=` + testToken + `'`
		}
		if n := strings.Count(r.stdout, testToken); n != 1 || !strings.Contains(r.stdout, want) {
			t.Errorf("%s: the token appears %d times, want once as %s:\n%s", format, n, want, r.stdout)
		}
	}
	for _, args := range [][]string{{"help"}, {"sign", "-h"}} {
		check(t, args, runCLI(t, tokenEnv, args...), false)
	}
}

// TestSessionToken checks that temporary credentials add the
// x-amz-security-token field after x-amz-date, and its condition to the
// policy.
func TestSessionToken(t *testing.T) {
	r := runCLI(t, tokenEnv, goldenArgs...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	_, _, fields := decodeForm(t, r.stdout)
	var names []string
	for _, f := range fields {
		names = append(names, f[0])
	}
	want := []string{"key", "success_action_status", "x-amz-meta-uploader", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token", "policy", "x-amz-signature"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if v, _ := fieldValue(fields, "x-amz-security-token"); v != testToken {
		t.Errorf("x-amz-security-token = %q", v)
	}
	if p := decodedPolicy(t, fields); !strings.Contains(p, `{"x-amz-security-token":"`+testToken+`"}`) {
		t.Errorf("the policy has no token condition: %s", p)
	}
}

// TestWarnings checks that Lint's warnings reach stderr, prefixed
// "warning:", on success and on failure.
func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"long expiration", concat(goldenArgs, "-expires", "200h"), 0, []string{"warning: expiration: ", "(rule expiration-over-7-days)"}},
		{"odd status", concat(goldenArgs, "-success-action-status", "202"), 0, []string{"warning: success_action_status: ", "(rule field-value)"}},
		{"over 5 GiB", concat(goldenArgs, "-max-size", "6GiB"), 0, []string{"warning: content-length-range: ", "(rule range-over-5gib)"}},
		{"relative redirect", concat(goldenArgs, "-success-action-redirect", "/done"), 0, []string{"warning: success_action_redirect: "}},
		{"with an error", concat(goldenArgs, "-bucket", "Bad_Name", "-expires", "200h"), 1, []string{"(rule bucket-name)", "warning: expiration: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, longTermEnv, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			if tc.code == 0 {
				decodeForm(t, r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestSignFlags checks what each policy flag puts in the form and the
// policy.
func TestSignFlags(t *testing.T) {
	base := []string{"sign", "-bucket", "acme-user-uploads", "-region", "eu-west-1", "-now", testNow}
	for _, tc := range []struct {
		name       string
		args       []string
		fields     [][]string // the fields before x-amz-algorithm
		conditions string     // the policy's conditions between the credential and the date
		expiration string
	}{
		{
			name:       "exact key",
			args:       concat(base, "-key", "avatars/42.png"),
			fields:     [][]string{{"key", "avatars/42.png"}},
			conditions: `{"bucket":"acme-user-uploads"},{"key":"avatars/42.png"}`,
		},
		{
			name:       "key prefix",
			args:       concat(base, "-key-prefix", "uploads/"),
			conditions: `{"bucket":"acme-user-uploads"},["starts-with","$key","uploads/"]`,
		},
		{
			name:       "any key",
			args:       concat(base, "-key-prefix", ""),
			conditions: `{"bucket":"acme-user-uploads"},["starts-with","$key",""]`,
		},
		{
			name:       "content type",
			args:       concat(base, "-key", "k", "-content-type", "image/png"),
			fields:     [][]string{{"key", "k"}, {"Content-Type", "image/png"}},
			conditions: `{"bucket":"acme-user-uploads"},{"key":"k"},{"Content-Type":"image/png"}`,
		},
		{
			name:       "sizes",
			args:       concat(base, "-key", "k", "-max-size", "5gb", "-min-size", "1KiB"),
			fields:     [][]string{{"key", "k"}},
			conditions: `{"bucket":"acme-user-uploads"},{"key":"k"},["content-length-range",1024,5000000000]`,
		},
		{
			name:       "everything",
			args:       concat(base, "-key", "k", "-acl", "private", "-success-action-status", "204", "-success-action-redirect", "https://example.com/done?x=1&y=2", "-meta", "a=1", "-meta", "b=x=y", "-expires", "1h"),
			fields:     [][]string{{"key", "k"}, {"acl", "private"}, {"success_action_status", "204"}, {"success_action_redirect", "https://example.com/done?x=1&y=2"}, {"x-amz-meta-a", "1"}, {"x-amz-meta-b", "x=y"}},
			conditions: `{"bucket":"acme-user-uploads"},{"key":"k"},{"acl":"private"},{"success_action_status":"204"},{"success_action_redirect":"https://example.com/done?x=1&y=2"},{"x-amz-meta-a":"1"},{"x-amz-meta-b":"x=y"}`,
			expiration: "2015-12-29T01:00:00.000Z",
		},
		{
			name:       "fractional now",
			args:       concat(base, "-key", "k", "-now", "2016-02-29T23:59:59.5+01:00", "-expires", "90s"),
			fields:     [][]string{{"key", "k"}},
			conditions: `{"bucket":"acme-user-uploads"},{"key":"k"}`,
			expiration: "2016-02-29T23:01:29.500Z",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, longTermEnv, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			_, _, fields := decodeForm(t, r.stdout)
			var before [][]string
			for _, f := range fields {
				if f[0] == "x-amz-algorithm" {
					break
				}
				before = append(before, f)
			}
			if diff := cmp.Diff(tc.fields, before); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			p := decodedPolicy(t, fields)
			cred, _ := fieldValue(fields, "x-amz-credential")
			date, _ := fieldValue(fields, "x-amz-date")
			exp := tc.expiration
			if exp == "" {
				exp = "2015-12-29T00:15:00.000Z"
			}
			want := `{"conditions":[{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"` + cred + `"},` +
				tc.conditions + `,{"x-amz-date":"` + date + `"}],"expiration":"` + exp + `"}`
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSignPageFields checks that the fields the page supplies appear in the
// curl and HTML output, prefilled with their prefix, but not in the JSON.
func TestSignPageFields(t *testing.T) {
	args := []string{"sign", "-bucket", "acme-user-uploads", "-region", "eu-west-1", "-now", testNow, "-key-prefix", "uploads/", "-content-type-prefix", "image/"}
	j := runCLI(t, longTermEnv, args...)
	if _, _, fields := decodeForm(t, j.stdout); len(fields) > 0 && fields[0][0] != "x-amz-algorithm" {
		t.Errorf("the JSON form carries a page field: %q", fields[0])
	}
	c := runCLI(t, longTermEnv, concat(args, "-format", "curl")...)
	got := curlArgs(t, c.stdout)
	tail := []string{"--form-string", "key=uploads/", "--form-string", "Content-Type=image/", "-F", "file=@FILE", "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/"}
	if len(got) < len(tail) {
		t.Fatalf("curl arguments: %q", got)
	}
	if diff := cmp.Diff(tail, got[len(got)-len(tail):]); diff != "" {
		t.Errorf("curl arguments (-want +got):\n%s", diff)
	}
	h := runCLI(t, longTermEnv, concat(args, "-format", "html")...)
	for _, w := range []string{`name="key" value="uploads/" required`, `name="Content-Type" value="image/" required`} {
		if !strings.Contains(h.stdout, w) {
			t.Errorf("the HTML has no %s:\n%s", w, h.stdout)
		}
	}
}

// TestSignURL checks the form's URL for each addressing style and a custom
// endpoint.
func TestSignURL(t *testing.T) {
	base := []string{"sign", "-bucket", "acme-user-uploads", "-region", "eu-west-1", "-key", "k", "-now", testNow}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{base, "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/"},
		{concat(base, "-path-style"), "https://s3.eu-west-1.amazonaws.com/acme-user-uploads"},
		{concat(base, "-virtual-hosted"), "https://acme-user-uploads.s3.eu-west-1.amazonaws.com/"},
		{concat(base, "-endpoint", "http://127.0.0.1:9000"), "http://127.0.0.1:9000/acme-user-uploads"},
		{concat(base, "-endpoint", "https://storage.example.com/s3/", "-path-style"), "https://storage.example.com/s3/acme-user-uploads"},
		{concat(base, "-endpoint", "https://storage.example.com", "-virtual-hosted"), "https://acme-user-uploads.storage.example.com/"},
	} {
		r := runCLI(t, longTermEnv, tc.args...)
		if r.code != 0 {
			t.Errorf("%q: exit %d\n%s", tc.args, r.code, r.stderr)
			continue
		}
		if _, url, _ := decodeForm(t, r.stdout); url != tc.want {
			t.Errorf("%q: url = %q, want %q", tc.args[8:], url, tc.want)
		}
	}
}

// TestSignRegion checks where the region comes from: -region, else
// AWS_REGION, else AWS_DEFAULT_REGION.
func TestSignRegion(t *testing.T) {
	withEnv := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range longTermEnv {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	args := []string{"sign", "-bucket", "acme-user-uploads", "-key", "k", "-now", testNow}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{withEnv("AWS_REGION", "eu-central-1"), args, "eu-central-1"},
		{withEnv("AWS_DEFAULT_REGION", "ap-south-1"), args, "ap-south-1"},
		{withEnv("AWS_REGION", "eu-central-1", "AWS_DEFAULT_REGION", "ap-south-1"), args, "eu-central-1"},
		{withEnv("AWS_REGION", "eu-central-1"), concat(args, "-region", "us-east-2"), "us-east-2"},
	} {
		r := runCLI(t, tc.env, tc.args...)
		if r.code != 0 {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
			continue
		}
		_, _, fields := decodeForm(t, r.stdout)
		if cred, _ := fieldValue(fields, "x-amz-credential"); cred != testAccessKeyID+"/20151229/"+tc.want+"/s3/aws4_request" {
			t.Errorf("credential %q, want region %s", cred, tc.want)
		}
	}
}

// TestSignWithoutNow checks that sign works with the real clock.
func TestSignWithoutNow(t *testing.T) {
	r := runCLI(t, longTermEnv, readmeArgs...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	_, _, fields := decodeForm(t, r.stdout)
	if sig, _ := fieldValue(fields, "x-amz-signature"); len(sig) != 64 {
		t.Errorf("signature %q", sig)
	}
}

// TestHelp checks the help requests: usage on stdout, exit 0.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"Usage: postpolicy <command>", "sign "}},
		{[]string{"-h"}, []string{"Usage: postpolicy <command>"}},
		{[]string{"--help"}, []string{"Usage: postpolicy <command>"}},
		{[]string{"help", "sign"}, []string{"Usage: postpolicy sign", "-max-size SIZE", "-key-prefix", "Exit status"}},
		{[]string{"sign", "-h"}, []string{"Usage: postpolicy sign", "-format format", "(default json)", "(default 15m0s)"}},
		{[]string{"sign", "-help"}, []string{"Usage: postpolicy sign"}},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%q: exit %d, stderr:\n%s", tc.args, r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%q: stdout does not hold %q:\n%s", tc.args, w, r.stdout)
			}
		}
	}
}

// TestCommands checks that every subcommand is listed in the usage and
// answers -h with its usage.
func TestCommands(t *testing.T) {
	usage := runCLI(t, nil, "help").stdout
	for name, c := range commands {
		if !strings.Contains(usage, "\n  "+name+" ") || !strings.Contains(usage, c.summary) {
			t.Errorf("the usage does not list %s:\n%s", name, usage)
		}
		r := runCLI(t, nil, name, "-h")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: postpolicy "+name) {
			t.Errorf("%s -h: exit %d, stdout:\n%s", name, r.code, r.stdout)
		}
	}
}

// TestParseSize checks the size syntax of -max-size and -min-size.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0":          0,
		"1":          1,
		"10485760":   10485760,
		"7B":         7,
		"1KB":        1000,
		"1kb":        1000,
		"3MB":        3000000,
		"5GB":        5000000000,
		"1KiB":       1024,
		"10MiB":      10 << 20,
		"10mib":      10 << 20,
		"10MIB":      10 << 20,
		"10 MiB":     10 << 20,
		"  42  ":     42,
		"5GiB":       5 << 30,
		"0GiB":       0,
		"0010":       10,
		"8589934592": 8 << 30,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                      "empty",
		"   ":                   "empty",
		"-1":                    "negative",
		"-10MiB":                "negative",
		"+5":                    "whole number",
		"abc":                   "whole number",
		"MiB":                   "whole number",
		"1.5MB":                 `unknown unit ".5MB"`,
		"10XB":                  `unknown unit "XB"`,
		"10 M":                  `unknown unit "M"`,
		"1e6":                   `unknown unit "e6"`,
		"0x10":                  `unknown unit "x10"`,
		"10MiB5":                `unknown unit "MiB5"`,
		"9223372036854775808":   "too large",
		"9007199254740992KiB":   "too large",
		"99999999999999999999B": "too large",
	} {
		_, err := parseSize(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseSize(%q) error = %v, want one holding %q", in, err, want)
		}
	}
}

// FuzzParseSize checks that parseSize never panics, never returns a
// negative size, and returns 0 with every error.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10MiB", "5 gb", "-1", "9223372036854775807", "1.5MB", "", "0KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n < 0 {
			t.Errorf("parseSize(%q) = %d", s, n)
		}
		if err != nil && n != 0 {
			t.Errorf("parseSize(%q) = %d with error %v", s, n, err)
		}
	})
}

// TestNameValues checks the repeatable name=value flag behind -meta.
func TestNameValues(t *testing.T) {
	var nv nameValues
	for _, s := range []string{"a=1", "b=x=y", "c="} {
		if err := nv.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(nameValues{{"a", "1"}, {"b", "x=y"}, {"c", ""}}, nv, cmp.AllowUnexported(nameValue{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := nv.String(); got != "a=1,b=x=y,c=" {
		t.Errorf("String() = %q", got)
	}
	for _, s := range []string{"", "a", "=1"} {
		if err := nv.Set(s); err == nil {
			t.Errorf("Set(%q) succeeded", s)
		}
	}
}

// errWriter fails every write.
type errWriter struct{}

// Write returns an error.
func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestWriteError checks that a failed write of the form exits 1.
func TestWriteError(t *testing.T) {
	var stderr bytes.Buffer
	code := run(goldenArgs, func(k string) string { return longTermEnv[k] }, errWriter{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "disk full") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
