package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postpolicy/postpolicy"
)

// signUsage is the text "postpolicy sign -h" prints before the list of
// flags.
const signUsage = `Usage: postpolicy sign -bucket NAME (-key KEY | -key-prefix PREFIX) [flags]

Sign builds an S3 POST policy from the flags, checks it against the rules
S3 applies, signs it with AWS Signature Version 4 and prints the upload
form: as JSON (the default; the {"url", "method", "fields"} shape of boto3's
generate_presigned_post), as an HTML <form>, or as a curl command that
posts a file with it. With -key-prefix or -content-type-prefix the page
adds the key or Content-Type field itself, before the file: the HTML and
curl forms include a field for it, prefilled with the prefix; the JSON
form does not.

Credentials come from the environment only: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and, for temporary credentials, AWS_SESSION_TOKEN.
The secret is never printed; a session token appears only in the form's
x-amz-security-token field, which S3 needs. The region is -region, or else
AWS_REGION, or else AWS_DEFAULT_REGION.

A SIZE is a number of bytes, or a whole number with a unit: KB, MB, GB
(powers of 1000) or KiB, MiB, GiB (powers of 1024), in any case.

Example:

  postpolicy sign -bucket acme-user-uploads -region eu-west-1 \
    -key 'uploads/user-42/${filename}' -content-type-prefix image/ -max-size 10MiB

Flags:
`

// signExitStatus ends the usage of sign.
const signExitStatus = `
Exit status: 0 when the form was signed (warnings, if any, go to stderr);
1 when the policy or the credentials cannot be signed (each problem on its
own line on stderr, with its rule); 2 for a usage error.
`

// signFormats are the output formats of sign.
var signFormats = []string{"json", "html", "curl"}

// signOptions holds the flags of sign.
type signOptions struct {
	bucket                string
	region                string
	key                   string
	keyPrefix             string
	maxSize               byteSize
	minSize               byteSize
	contentType           string
	contentTypePrefix     string
	acl                   string
	successActionStatus   int
	successActionRedirect string
	meta                  nameValues
	expires               time.Duration
	endpoint              string
	pathStyle             bool
	virtualHosted         bool
	format                choiceValue
	now                   timeValue

	// set holds the names of the flags given on the command line, so that
	// an explicitly empty value (-key-prefix '') counts as given.
	set map[string]bool
}

// newSignFlags returns a new flag set for sign that stores into o. Its
// output is discarded: runSign reports parse errors itself, with the
// command's prefix, and writes the usage where it belongs.
func newSignFlags(o *signOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("postpolicy sign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.format = choiceValue{value: "json", choices: signFormats}
	o.expires = 15 * time.Minute

	fs.StringVar(&o.bucket, "bucket", "", "the `name` of the bucket to upload to (required)")
	fs.StringVar(&o.region, "region", "", "the bucket's `region`, such as eu-west-1 (default $AWS_REGION, then $AWS_DEFAULT_REGION)")
	fs.StringVar(&o.key, "key", "", "the object `key` the form sets; a ${filename} in it becomes a starts-with on the text before it,\nand S3 puts the uploaded file's name there")
	fs.StringVar(&o.keyPrefix, "key-prefix", "", "let the page choose the key, which must start with `prefix` (\"\" allows any key)")
	fs.Var(&o.maxSize, "max-size", "the largest file accepted, as a `SIZE` (content-length-range)")
	fs.Var(&o.minSize, "min-size", "the smallest file accepted, as a `SIZE` (default 0; needs -max-size)")
	fs.StringVar(&o.contentType, "content-type", "", "the Content-Type the form sets, which S3 stores with the object, as a MIME `type`")
	fs.StringVar(&o.contentTypePrefix, "content-type-prefix", "", "let the page set Content-Type, which must start with `prefix`, such as image/")
	fs.StringVar(&o.acl, "acl", "", "the canned `ACL` of the new object, such as private or public-read")
	fs.IntVar(&o.successActionStatus, "success-action-status", 0, "the `status` S3 answers a successful upload with: 200, 201 or 204")
	fs.StringVar(&o.successActionRedirect, "success-action-redirect", "", "the absolute `URL` S3 redirects to after a successful upload")
	fs.Var(&o.meta, "meta", "user metadata x-amz-meta-NAME set to VALUE, as `name=value` (repeatable)")
	fs.DurationVar(&o.expires, "expires", o.expires, "how long the form stays valid after the signing time, as a Go `duration` such as 15m or 2h")
	fs.StringVar(&o.endpoint, "endpoint", "", "the base `URL` of an S3-compatible service, such as http://127.0.0.1:9000")
	fs.BoolVar(&o.pathStyle, "path-style", false, "put the bucket in the URL's path: https://HOST/BUCKET")
	fs.BoolVar(&o.virtualHosted, "virtual-hosted", false, "put the bucket in the URL's host name: https://BUCKET.HOST/")
	fs.Var(&o.format, "format", "the output `format`: json, html or curl")
	fs.Var(&o.now, "now", "sign at this `time` (RFC 3339) instead of the current time, for reproducible output;\n-expires counts from it")
	return fs
}

// writeSignUsage writes the usage of sign, with its flags, to w.
func writeSignUsage(w io.Writer) {
	var o signOptions
	fs := newSignFlags(&o)
	var b strings.Builder
	b.WriteString(signUsage)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	b.WriteString(signExitStatus)
	io.WriteString(w, b.String())
}

// runSign is the sign subcommand.
func runSign(args []string, env func(string) string, stdout, stderr io.Writer) int {
	var o signOptions
	err := parseSignArgs(&o, args, env)
	if errors.Is(err, flag.ErrHelp) {
		writeSignUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "postpolicy sign: %v\nRun 'postpolicy sign -h' for usage.\n", err)
		return 2
	}

	now := o.now.t
	if now.IsZero() {
		now = time.Now()
	}
	policy := o.policy(now)

	creds, err := postpolicy.EnvCredentials(env)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	signer := &postpolicy.Signer{
		Credentials: creds,
		Region:      o.region,
		Now:         func() time.Time { return now },
		Endpoint:    o.endpoint,
	}
	switch {
	case o.pathStyle:
		signer.URLStyle = postpolicy.URLStylePath
	case o.virtualHosted:
		signer.URLStyle = postpolicy.URLStyleVirtualHosted
	}

	form, signErr := signer.Sign(context.Background(), policy)
	if signErr != nil {
		printErrors(stderr, signErr)
	}
	for _, p := range policy.Lint(now) {
		if p.Warning {
			fmt.Fprintf(stderr, "warning: %s\n", problemText(p))
		}
	}
	if signErr != nil {
		return 1
	}
	if err := writeForm(stdout, form, o.format.value); err != nil {
		fmt.Fprintf(stderr, "postpolicy sign: writing the form: %v\n", err)
		return 1
	}
	return 0
}

// parseSignArgs parses the flags of sign into o and checks the rules the
// flag package cannot: required flags, mutually exclusive ones, and the
// region's fallback to the environment. A returned error is a usage error.
func parseSignArgs(o *signOptions, args []string, env func(string) string) error {
	fs := newSignFlags(o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.set = make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })

	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: sign takes flags only (quote a value that holds spaces)", fs.Arg(0))
	}
	if o.bucket == "" {
		return errors.New("-bucket is required")
	}
	switch {
	case o.set["key"] && o.set["key-prefix"]:
		return errors.New("-key and -key-prefix are mutually exclusive: -key sets the key in the form, -key-prefix lets the page choose it")
	case !o.set["key"] && !o.set["key-prefix"]:
		return errors.New("one of -key or -key-prefix is required")
	}
	if o.set["content-type"] && o.set["content-type-prefix"] {
		return errors.New("-content-type and -content-type-prefix are mutually exclusive")
	}
	if o.set["min-size"] && !o.set["max-size"] {
		return errors.New("-min-size needs -max-size: S3's content-length-range has both bounds")
	}
	if o.pathStyle && o.virtualHosted {
		return errors.New("-path-style and -virtual-hosted are mutually exclusive")
	}
	if o.expires <= 0 {
		return fmt.Errorf("-expires must be positive, not %s", o.expires)
	}
	if o.region == "" {
		o.region = strings.TrimSpace(env("AWS_REGION"))
	}
	if o.region == "" {
		o.region = strings.TrimSpace(env("AWS_DEFAULT_REGION"))
	}
	if o.region == "" {
		return errors.New("-region is required when neither AWS_REGION nor AWS_DEFAULT_REGION is set")
	}
	return nil
}

// policy returns the policy the options describe, expiring o.expires after
// now. The conditions are in a fixed order: bucket, key, Content-Type,
// content-length-range, acl, success_action_status,
// success_action_redirect, then metadata in the order given.
func (o *signOptions) policy(now time.Time) postpolicy.Policy {
	conds := []postpolicy.Condition{postpolicy.Bucket(o.bucket)}
	if o.set["key"] {
		conds = append(conds, postpolicy.Key(o.key))
	} else {
		conds = append(conds, postpolicy.KeyPrefix(o.keyPrefix))
	}
	switch {
	case o.set["content-type"]:
		conds = append(conds, postpolicy.ContentType(o.contentType))
	case o.set["content-type-prefix"]:
		conds = append(conds, postpolicy.ContentTypePrefix(o.contentTypePrefix))
	}
	if o.set["max-size"] {
		conds = append(conds, postpolicy.ContentLengthRange(int64(o.minSize), int64(o.maxSize)))
	}
	if o.set["acl"] {
		conds = append(conds, postpolicy.ACL(o.acl))
	}
	if o.set["success-action-status"] {
		conds = append(conds, postpolicy.SuccessActionStatus(o.successActionStatus))
	}
	if o.set["success-action-redirect"] {
		conds = append(conds, postpolicy.SuccessActionRedirect(o.successActionRedirect))
	}
	for _, m := range o.meta {
		conds = append(conds, postpolicy.Meta(m.name, m.value))
	}
	return postpolicy.Policy{Expiration: now.Add(o.expires), Conditions: conds}
}

// printErrors writes err to w, one line per joined error (a Sign error
// joins one [postpolicy.Problem] per problem), each prefixed with the
// command's name.
func printErrors(w io.Writer, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var p postpolicy.Problem
		if errors.As(e, &p) {
			fmt.Fprintf(w, "postpolicy sign: %s\n", problemText(p))
			continue
		}
		fmt.Fprintf(w, "postpolicy sign: %s\n", strings.TrimPrefix(e.Error(), "postpolicy: "))
	}
}

// problemText returns p as "field: detail (rule id)", without the
// package prefix and warning marker of p.Error.
func problemText(p postpolicy.Problem) string {
	s := p.Detail + " (rule " + string(p.Rule) + ")"
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	return s
}
