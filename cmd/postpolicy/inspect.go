package main

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// inspectUsage is the text "postpolicy inspect -h" prints before the flags.
const inspectUsage = `Usage: postpolicy inspect [flags] INPUT

Inspect explains an S3 POST policy and says whether S3 would accept an
upload made with it. INPUT is a file, "-" for standard input, or the text
itself, holding one of:

  - a policy as a form carries it, in base64;
  - a policy document (JSON);
  - a form as JSON, {"url": ..., "fields": {...}}, as "postpolicy sign",
    boto3's generate_presigned_post (also as Python prints it) and the AWS
    JavaScript SDK's createPresignedPost give it; fields may also be a list
    of [name, value] pairs;
  - an HTML page holding the form: its inputs are read in order, up to the
    file input.

Inspect prints the policy, explains each condition in words and lists what
the lint finds, each problem with its rule. When the fields a browser sends
are known (from a form, and from -fields: the fields the page adds itself,
which replace the form's fields of the same name), it also says whether S3
would accept the upload and, if not, which condition fails and what S3
would answer. -size adds the file's size to the check, -filename its name
(which S3 puts in place of ${filename}).

The signature can only be checked with the secret key: when
AWS_SECRET_ACCESS_KEY is set (and AWS_ACCESS_KEY_ID, if set, names the
form's key), inspect checks the form's signature with it. It never prints
the secret, an expected signature or a session token.

Examples:

  postpolicy sign -bucket acme -region eu-west-1 -key 'u/${filename}' -max-size 1MiB > form.json
  postpolicy inspect -size 2MiB -filename cat.png form.json
  postpolicy inspect -fields page-fields.txt -now 2015-12-29T00:00:00Z upload.html

Flags:
`

// inspectExitStatus ends the usage of inspect.
const inspectExitStatus = `
Exit status: 0 when the lint finds no error and, if the fields are known, S3
would accept the upload; 1 otherwise, or when INPUT cannot be read or is
not a policy; 2 for a usage error.
`

// maxInspectInput bounds what inspect reads from a file or stdin.
const maxInspectInput = 4 << 20

// inspectOptions holds the flags of inspect.
type inspectOptions struct {
	fields   string
	size     byteSize
	filename string
	now      timeValue
	bucket   string
	set      map[string]bool
}

func newInspectFlags(o *inspectOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("postpolicy inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.fields, "fields", "", "read the fields the page adds from `FILE` (\"-\" for standard input): JSON,\n[[\"name\", \"value\"], ...] or {\"name\": \"value\"}, or name=value lines")
	fs.Var(&o.size, "size", "check the file's `SIZE` against content-length-range, such as 12345 or 2MiB")
	fs.StringVar(&o.filename, "filename", "", "the uploaded file's `name`, which S3 puts in place of ${filename}")
	fs.Var(&o.now, "now", "check the expiration at this `time` (RFC 3339) instead of the current time")
	fs.StringVar(&o.bucket, "bucket", "", "the `bucket` the form posts to (default: the policy's bucket condition)")
	return fs
}

func writeInspectUsage(w io.Writer) {
	var o inspectOptions
	fs := newInspectFlags(&o)
	var b strings.Builder
	b.WriteString(inspectUsage)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	b.WriteString(inspectExitStatus)
	io.WriteString(w, b.String())
}

// runInspect is the inspect subcommand, reading "-" from the process's
// standard input.
func runInspect(args []string, env func(string) string, stdout, stderr io.Writer) int {
	return inspectMain(args, env, os.Stdin, stdout, stderr)
}

// inspectMain is inspect with its standard input as a parameter.
func inspectMain(args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o inspectOptions
	fs := newInspectFlags(&o)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		writeInspectUsage(stdout)
		return 0
	}
	usage := func(err error) int {
		fmt.Fprintf(stderr, "postpolicy inspect: %v\nRun 'postpolicy inspect -h' for usage.\n", err)
		return 2
	}
	if err != nil {
		return usage(err)
	}
	o.set = make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	switch {
	case fs.NArg() == 0:
		return usage(errors.New("INPUT is missing: give a file, \"-\" for standard input, or the policy or form itself"))
	case fs.NArg() > 1:
		return usage(fmt.Errorf("one INPUT only, got %d (quote an input that holds spaces)", fs.NArg()))
	case fs.Arg(0) == "-" && o.fields == "-":
		return usage(errors.New("INPUT and -fields cannot both be standard input"))
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "postpolicy inspect: %v\n", err)
		return 1
	}
	data, source, err := readInspectArg(fs.Arg(0), stdin, true)
	if err != nil {
		return fail(err)
	}
	in, err := parseInspectInput(data)
	if err != nil {
		if source == "the command line" {
			return fail(fmt.Errorf("INPUT is not a file, and as text it is %w", err))
		}
		return fail(fmt.Errorf("%s: %w", source, err))
	}
	in.source = source
	var page []postpolicy.Field
	if o.fields != "" {
		fdata, fsource, err := readInspectArg(o.fields, stdin, false)
		if err != nil {
			return fail(fmt.Errorf("-fields: %w", err))
		}
		if page, err = parseFieldsFile(fdata); err != nil {
			return fail(fmt.Errorf("-fields %s: %w", fsource, err))
		}
	}
	now := o.now.t
	if now.IsZero() {
		now = time.Now()
	}
	size := int64(-1)
	if o.set["size"] {
		size = int64(o.size)
	}
	r := &inspection{in: in, page: page, hasPage: o.fields != "", now: now, bucket: o.bucket, filename: o.filename, size: size, env: env}
	ok := r.run()
	io.WriteString(stdout, r.output())
	if !ok {
		return 1
	}
	return 0
}

// inspection is one run of inspect: its inputs, and the report it builds.
type inspection struct {
	in       *inspectInput
	page     []postpolicy.Field
	hasPage  bool
	now      time.Time
	bucket   string
	filename string
	size     int64
	env      func(string) string

	b       strings.Builder
	secrets []string // values to redact from the output
}

func (r *inspection) printf(format string, args ...any) { fmt.Fprintf(&r.b, format, args...) }

// run writes the report and returns whether inspect succeeds: no lint
// error and, when the fields are known, an upload S3 would accept.
func (r *inspection) run() bool {
	in := r.in
	r.printf("Input: %s, from %s", in.kind, in.source)
	if in.url != "" {
		r.printf(", posting to %s", in.url)
	}
	r.printf(".\n")

	pol, err := receiver.ParsePolicy(in.doc)
	if err != nil {
		r.printf("\nThe policy document cannot be parsed, so S3 would refuse every upload with it:\n  %s\n", s3ErrorText(err))
		if utf8.Valid(in.doc) {
			r.printf("\nThe document:\n%s\n", indentText(string(in.doc), "  "))
		}
		return false
	}
	r.noteSecrets(pol)

	r.printf("\nPolicy (%d bytes):\n%s", len(in.doc), r.prettyPolicy(in.doc, pol))
	exp := pol.Expiration.UTC()
	if r.now.Before(pol.Expiration) {
		r.printf("\nIt expires at %s, %s after %s.\n", exp.Format(time.RFC3339Nano), roundDuration(pol.Expiration.Sub(r.now)), r.nowText())
	} else {
		r.printf("\nIt expired at %s, %s before %s: S3 refuses every upload with it.\n", exp.Format(time.RFC3339Nano), roundDuration(r.now.Sub(pol.Expiration)), r.nowText())
	}

	r.printf("\nConditions (an upload must meet every one):\n")
	for i, c := range pol.Conditions {
		r.printf("  %2d. %s\n      %s\n", i+1, r.conditionText(c), r.explain(c))
	}

	fields, known := r.fields(pol)
	lintOK := r.lint(pol, fields, known)
	if !known {
		r.printf("\nWithout the fields a browser sends (give a form, or -fields), inspect cannot say whether S3\nwould accept an upload.\n")
		return lintOK
	}
	sig := r.signature(fields)
	verdictOK := r.verdict(pol, fields, sig)
	return lintOK && verdictOK
}

// nowText describes the time checked against.
func (r *inspection) nowText() string {
	return "the time checked, " + r.now.UTC().Format(time.RFC3339)
}

// noteSecrets records the session tokens the policy and fields carry, and
// the environment's secrets, so that output never shows them.
func (r *inspection) noteSecrets(pol postpolicy.Policy) {
	for _, c := range pol.Conditions {
		if strings.EqualFold(c.Field(), "x-amz-security-token") {
			r.secrets = append(r.secrets, c.Value())
		}
	}
	for _, fs := range [][]postpolicy.Field{r.in.fields, r.page} {
		for _, f := range fs {
			if strings.EqualFold(f.Name, "x-amz-security-token") {
				r.secrets = append(r.secrets, f.Value)
			}
		}
	}
	r.secrets = append(r.secrets, r.env("AWS_SECRET_ACCESS_KEY"), r.env("AWS_SESSION_TOKEN"))
}

// output returns the report with secrets redacted and characters a
// terminal could misread escaped.
func (r *inspection) output() string {
	s := r.b.String()
	for _, secret := range r.secrets {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return safeText(s)
}

// safeText escapes the characters of s that are not printable (control
// characters, bidirectional overrides, ...), except newlines and tabs.
func safeText(s string) string {
	clean := true
	for _, c := range s {
		if c != '\n' && c != '\t' && !unicode.IsPrint(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if c != '\n' && c != '\t' && !unicode.IsPrint(c) {
			if c > 0xffff {
				fmt.Fprintf(&b, `\U%08X`, c)
			} else {
				fmt.Fprintf(&b, `\u%04X`, c)
			}
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// prettyPolicy returns the policy document indented, one condition per
// line, as written (member order kept), with session tokens redacted.
func (r *inspection) prettyPolicy(doc []byte, pol postpolicy.Policy) string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if _, err := dec.Token(); err != nil {
		return indentText(string(doc), "  ")
	}
	var b strings.Builder
	b.WriteString("{\n")
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.WriteString("  " + compactJSON(mustJSON(name)) + ": ")
		if name != "conditions" {
			b.WriteString(compactJSON(raw))
			continue
		}
		var elems []json.RawMessage
		json.Unmarshal(raw, &elems)
		b.WriteString("[\n")
		for i, e := range elems {
			text := compactJSON(e)
			if i < len(pol.Conditions) && strings.EqualFold(pol.Conditions[i].Field(), "x-amz-security-token") {
				text = `{"x-amz-security-token": "(the session token, not shown)"}`
			}
			b.WriteString("    " + text)
			if i < len(elems)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("  ]")
	}
	b.WriteString("\n}\n")
	return b.String()
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// compactJSON returns raw without insignificant space, with a space after
// each ':' and ',' outside strings, for reading.
func compactJSON(raw []byte) string {
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return string(raw)
	}
	var b strings.Builder
	inString, escaped := false, false
	for _, ch := range c.String() {
		b.WriteRune(ch)
		switch {
		case escaped:
			escaped = false
		case inString && ch == '\\':
			escaped = true
		case ch == '"':
			inString = !inString
		case !inString && (ch == ':' || ch == ','):
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// indentText indents every line of s.
func indentText(s, indent string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return indent + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// conditionText returns a condition as S3 quotes it, session tokens
// redacted.
func (r *inspection) conditionText(c postpolicy.Condition) string {
	if strings.EqualFold(c.Field(), "x-amz-security-token") {
		return `["eq", "$x-amz-security-token", "(the session token, not shown)"]`
	}
	return c.String()
}

// explain returns what a condition requires, in words.
func (r *inspection) explain(c postpolicy.Condition) string {
	f, v := c.Field(), c.Value()
	lf := strings.ToLower(f)
	switch c.Op() {
	case postpolicy.OpContentLengthRange:
		lo, hi := c.Range()
		s := fmt.Sprintf("the file must be %d to %d bytes", lo, hi)
		if hi >= 1024 {
			s += " (at most " + sizeText(hi) + ")"
		}
		return s
	case postpolicy.OpEq:
		switch {
		case lf == "bucket":
			return fmt.Sprintf("the form must be posted to the bucket %q (S3 takes the bucket from the URL)", v)
		case lf == "acl":
			return fmt.Sprintf("acl must be %q: the object gets this canned ACL", v)
		case lf == "success_action_status":
			what := map[string]string{"200": "200 with an empty body", "201": "201 with an XML document naming the object", "204": "204 No Content"}[v]
			if what == "" {
				what = "204 No Content (S3 ignores other values)"
			}
			return fmt.Sprintf("success_action_status must be %q: S3 answers a successful upload with %s", v, what)
		case lf == "success_action_redirect" || lf == "redirect":
			return fmt.Sprintf("%s must be %q: after a successful upload S3 redirects the browser there", f, v)
		case lf == "x-amz-algorithm":
			return fmt.Sprintf("x-amz-algorithm must be %q (set by the signer)", v)
		case lf == "x-amz-credential":
			if s := strings.Split(v, "/"); len(s) == 5 {
				return fmt.Sprintf("x-amz-credential must be %q: signed with access key %s for %s, region %s, service %s", v, s[0], s[1], s[2], s[3])
			}
			return fmt.Sprintf("x-amz-credential must be %q (set by the signer)", v)
		case lf == "x-amz-date":
			if t, err := time.Parse("20060102T150405Z", v); err == nil {
				return fmt.Sprintf("x-amz-date must be %q: the form was signed at %s", v, t.Format(time.RFC3339))
			}
			return fmt.Sprintf("x-amz-date must be %q (set by the signer)", v)
		case lf == "x-amz-security-token":
			return "x-amz-security-token must be the session token of the temporary credentials that signed (not shown)"
		case lf == "key":
			return fmt.Sprintf("key must be exactly %q", v)
		case lf == "x-amz-server-side-encryption" && v == "AES256":
			return "x-amz-server-side-encryption must be \"AES256\": S3 encrypts the object with S3-managed keys (SSE-S3)"
		case lf == "x-amz-server-side-encryption" && strings.HasPrefix(v, "aws:kms"):
			return fmt.Sprintf("x-amz-server-side-encryption must be %q: S3 encrypts the object with AWS KMS", v)
		case strings.HasPrefix(lf, "x-amz-meta-"):
			return fmt.Sprintf("%s must be %q: the object's metadata %q", f, v, lf[len("x-amz-meta-"):])
		}
		return fmt.Sprintf("%s must be exactly %q", f, v)
	case postpolicy.OpStartsWith:
		if v == "" {
			return fmt.Sprintf("%s may hold anything, but it must be sent", f)
		}
		if lf == "content-type" {
			return fmt.Sprintf("Content-Type must start with %q (a value with commas is a list, and every element must)", v)
		}
		return fmt.Sprintf("%s must start with %q", f, v)
	}
	return "not a condition S3 knows"
}

// fields returns the fields a browser would send, and whether they are
// known at all: the form's, with the page's (-fields) replacing those of
// the same name or added after them. For a policy without a form, the
// authentication fields the policy names are assumed to be sent as the
// policy requires (a signed form carries them).
func (r *inspection) fields(pol postpolicy.Policy) ([]postpolicy.Field, bool) {
	if !r.in.isForm && !r.hasPage {
		return nil, false
	}
	fields := append([]postpolicy.Field(nil), r.in.fields...)
	var replaced, added, fromPage []string
	for _, p := range r.page {
		i := slices.IndexFunc(fields[:len(r.in.fields)], func(f postpolicy.Field) bool { return strings.EqualFold(f.Name, p.Name) })
		if i >= 0 {
			fields[i].Value = p.Value
			replaced = append(replaced, p.Name)
			continue
		}
		fields = append(fields, p)
		added = append(added, p.Name)
	}
	// The fields the form's JSON says the page adds, unless -fields gave
	// them: with the least value their conditions allow.
	for _, p := range r.in.page {
		if _, given := postpolicy.Fields(fields).Get(p.field); !given {
			fields = append(fields, postpolicy.Field{Name: p.field, Value: p.value})
			fromPage = append(fromPage, fmt.Sprintf("%s = %q (%s)", p.field, p.value, p.op))
		}
	}
	var assumed []string
	if !r.in.isForm {
		for _, c := range pol.Conditions {
			switch strings.ToLower(c.Field()) {
			case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token":
				if _, sent := postpolicy.Fields(fields).Get(c.Field()); c.Op() == postpolicy.OpEq && !sent {
					fields = append(fields, postpolicy.Field{Name: c.Field(), Value: c.Value()})
					assumed = append(assumed, c.Field())
				}
			}
		}
	}

	r.printf("\nFields a browser sends, in order, before the file:\n")
	if len(fields) == 0 {
		r.printf("  (none)\n")
	}
	width := 0
	for _, f := range fields {
		width = max(width, len(f.Name))
	}
	for _, f := range fields {
		r.printf("  %-*s  %s\n", width, f.Name, fieldValueText(f))
	}
	if len(replaced) > 0 {
		r.printf("  (-fields replaced the form's %s)\n", strings.Join(replaced, ", "))
	}
	if r.in.isForm && len(added) > 0 {
		r.printf("  (-fields added %s after the form's fields)\n", strings.Join(added, ", "))
	}
	if len(assumed) > 0 {
		r.printf("  (assumed from the policy, as a signed form carries them: %s)\n", strings.Join(assumed, ", "))
	}
	if len(fromPage) > 0 {
		r.printf("  (the form's pageConditions say the page adds %s: assumed with the least value they allow;\n  give the page's own with -fields)\n", strings.Join(fromPage, ", "))
	}
	if len(r.in.after) > 0 {
		r.printf("  (after the file input the form also has %s; S3 ignores fields after the file)\n", strings.Join(r.in.after, ", "))
	}
	if r.in.noFile {
		r.printf("  (the form has no file input; S3 needs the file in a field named \"file\", last)\n")
	}
	return fields, true
}

// fieldValueText returns a field's value for display: quoted, with the
// policy and session token summarised.
func fieldValueText(f postpolicy.Field) string {
	switch strings.ToLower(f.Name) {
	case "policy":
		return fmt.Sprintf("(%d characters of base64: the policy above)", len(f.Value))
	case "x-amz-security-token":
		return fmt.Sprintf("(the session token, %d characters, not shown)", len(f.Value))
	}
	return strconv.Quote(f.Value)
}

// lint prints the lint's problems and reports whether none is an error.
// Without the fields, problems that only the fields could settle (a
// condition on a field nothing sends; the signer's own conditions) are
// left out.
func (r *inspection) lint(pol postpolicy.Policy, fields []postpolicy.Field, known bool) bool {
	var problems []postpolicy.Problem
	if known {
		problems = pol.LintForm(r.now, fields)
		r.printf("\nLint, with these fields, at %s:\n", r.now.UTC().Format(time.RFC3339))
	} else {
		for _, p := range pol.Lint(r.now) {
			if p.Rule != postpolicy.RuleConditionWithoutField && p.Rule != postpolicy.RuleSignerField {
				problems = append(problems, p)
			}
		}
		r.printf("\nLint, of the policy alone, at %s:\n", r.now.UTC().Format(time.RFC3339))
	}
	ok := true
	for _, p := range problems {
		level := "error  "
		if p.Warning {
			level = "warning"
		} else {
			ok = false
		}
		r.printf("  %s %s\n", level, problemText(p))
	}
	if len(problems) == 0 {
		r.printf("  no problems found\n")
	}
	return ok
}

// sigState is what inspect could tell of a form's signature.
type sigState int

const (
	sigUnchecked sigState = iota
	sigValid
	sigInvalid
)

// signature checks the form's signature when the environment holds the
// secret key.
func (r *inspection) signature(fields []postpolicy.Field) sigState {
	policyText, hasPolicy := postpolicy.Fields(fields).Get("policy")
	sig, hasSig := postpolicy.Fields(fields).Get("x-amz-signature")
	if !hasPolicy && !hasSig && !r.in.isForm {
		return sigUnchecked // a policy document and the page's fields: nothing to check
	}
	if !hasPolicy || !hasSig {
		r.printf("\nSignature: not checked; the form lacks the policy or x-amz-signature field.\n")
		return sigUnchecked
	}
	secret := strings.TrimSpace(r.env("AWS_SECRET_ACCESS_KEY"))
	if secret == "" {
		r.printf("\nSignature: not checked; that needs the secret access key that signed the form\n(set AWS_SECRET_ACCESS_KEY to check it).\n")
		return sigUnchecked
	}
	cred, _ := postpolicy.Fields(fields).Get("x-amz-credential")
	scope := strings.Split(cred, "/")
	date, err := time.Parse("20060102", scopePart(scope, 1))
	if len(scope) != 5 || err != nil {
		r.printf("\nSignature: not checked; x-amz-credential %q is not ACCESSKEYID/YYYYMMDD/REGION/SERVICE/aws4_request.\n", cred)
		return sigUnchecked
	}
	if id := strings.TrimSpace(r.env("AWS_ACCESS_KEY_ID")); id != "" && id != scope[0] {
		r.printf("\nSignature: not checked; the form was signed with access key %s, and AWS_ACCESS_KEY_ID is %s.\n", scope[0], id)
		return sigUnchecked
	}
	key := postpolicy.DeriveSigningKey(secret, date, scope[2], scope[3])
	if !hmac.Equal([]byte(postpolicy.SignEncodedPolicy(key, policyText)), []byte(sig)) {
		r.printf("\nSignature: does NOT match the secret in AWS_SECRET_ACCESS_KEY for %s, %s, %s, %s.\n", scope[0], scope[1], scope[2], scope[3])
		r.printf("  S3 would answer 403 SignatureDoesNotMatch. Either another secret signed the form, or the\n  policy field changed after signing (the signature covers its exact base64 text).\n")
		return sigInvalid
	}
	r.printf("\nSignature: valid, made with the secret of %s for %s, region %s, service %s.\n", scope[0], scope[1], scope[2], scope[3])
	return sigValid
}

func scopePart(scope []string, i int) string {
	if i < len(scope) {
		return scope[i]
	}
	return ""
}

// verdict says whether S3 would accept the upload and, if not, why; it
// reports whether S3 would.
func (r *inspection) verdict(pol postpolicy.Policy, fields []postpolicy.Field, sig sigState) bool {
	bucket, from := r.bucket, "-bucket"
	if bucket == "" {
		from = "the policy"
		for _, c := range pol.Conditions {
			if c.Op() == postpolicy.OpEq && strings.EqualFold(c.Field(), "bucket") {
				bucket = c.Value()
				break
			}
		}
	}
	r.bucket = bucket
	if bucket == "" {
		r.printf("\nS3's answer to a post to no bucket (the policy names none; give -bucket)")
	} else {
		r.printf("\nS3's answer to a post to bucket %q (from %s)", bucket, from)
	}
	if r.filename != "" {
		r.printf(", file %q", r.filename)
	} else {
		r.printf(", file name not given (-filename)")
	}
	if r.size >= 0 {
		r.printf(", %d bytes", r.size)
	} else {
		r.printf(", size not given (-size)")
	}
	r.printf(":\n")
	var err error
	if r.in.isForm {
		// The checks S3 makes of a signed form's fields before the policy.
		err = receiver.CheckFields(fields)
	}
	if err == nil {
		err = receiver.Evaluate(pol, r.now, bucket, fields, r.filename, r.size)
	}
	if sig == sigInvalid {
		r.printf("  refused: 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.\n")
		if err == nil {
			r.printf("  With a valid signature, every condition would hold.\n")
		} else {
			r.printf("  With a valid signature, it would still be refused: %s\n", s3ErrorText(err))
		}
		return false
	}
	if err == nil {
		if sig == sigValid {
			r.printf("  accepted: the signature is valid, every condition holds and every field is covered.\n")
		} else {
			r.printf("  accepted, if the signature is valid: every condition holds and every field is covered.\n")
		}
		if r.filename == "" {
			if k, _ := postpolicy.Fields(fields).Get("key"); strings.Contains(k, "${filename}") {
				r.printf("  (the key keeps ${filename} here; S3 puts the file's name there: -filename)\n")
			}
		}
		return true
	}
	r.printf("  refused: %s\n", s3ErrorText(err))
	if why := r.why(err, pol); why != "" {
		r.printf("  why: %s\n", why)
	}
	return false
}

// why explains an S3 refusal in terms of the policy and the fields.
func (r *inspection) why(err error, pol postpolicy.Policy) string {
	var e *receiver.S3Error
	if !errors.As(err, &e) {
		return ""
	}
	extra := func(name string) string { v, _ := postpolicy.Fields(e.Extra).Get(name); return v }
	var cond *receiver.ConditionError
	var field *receiver.ExtraFieldError
	switch {
	case e.Code == receiver.CodeEntityTooLarge:
		return fmt.Sprintf("the file is %s bytes; the policy allows at most %s", extra("ProposedSize"), extra("MaxSizeAllowed"))
	case e.Code == receiver.CodeEntityTooSmall:
		return fmt.Sprintf("the file is %s bytes; the policy needs at least %s", extra("ProposedSize"), extra("MinSizeAllowed"))
	case errors.As(err, &field) && strings.EqualFold(field.Field, "bucket"):
		return "the policy has no condition on bucket"
	case errors.As(err, &field):
		return fmt.Sprintf("the form sends %s, which no condition covers; add a condition on it to the policy, or drop the field (S3 also ignores fields named x-ignore-*)", field.Field)
	case errors.As(err, &cond):
		c := cond.Condition
		switch {
		case strings.EqualFold(c.Field(), "bucket"):
			return fmt.Sprintf("%s, but the form posts to %q", r.explain(c), r.bucket)
		case !cond.Sent:
			return fmt.Sprintf("%s, and the form does not send %s", r.explain(c), c.Field())
		case strings.EqualFold(c.Field(), "x-amz-security-token"):
			return "the session token differs from the one in the policy"
		}
		return fmt.Sprintf("%s, but the form sends %s = %s", r.explain(c), c.Field(), strconv.Quote(cond.Value))
	case strings.HasSuffix(e.Message, "Policy expired."):
		return fmt.Sprintf("the policy expired at %s, before %s", pol.Expiration.UTC().Format(time.RFC3339Nano), r.nowText())
	}
	return ""
}

// s3ErrorText returns an S3 error as "STATUS CODE: Message", or err's text.
func s3ErrorText(err error) string {
	var e *receiver.S3Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%d %s: %s", e.Status, string(e.Code), e.Message)
	}
	return strings.TrimPrefix(err.Error(), "postpolicy: ")
}

// roundDuration rounds d for display.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
