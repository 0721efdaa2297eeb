package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/postpolicy/postpolicy"
)

// writeForm writes f to w in format: "json", "html" or "curl".
func writeForm(w io.Writer, f *postpolicy.Form, format string) error {
	switch format {
	case "json":
		return writeJSON(w, f)
	case "html":
		return f.WriteHTML(w)
	case "curl":
		_, err := io.WriteString(w, curlCommand(f))
		return err
	}
	return fmt.Errorf("unknown format %q", format)
}

// writeJSON writes the form's own JSON encoding (Form.MarshalJSON, fields in
// order) indented by two spaces, with a final newline. json.Indent keeps
// the members in the order they were written.
func writeJSON(w io.Writer, f *postpolicy.Form) error {
	raw, err := f.MarshalJSON()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// curlPlaceholderFile is the file name the curl command uploads; the user
// replaces it with the path of a real file.
const curlPlaceholderFile = "FILE"

// curlCommand returns a POSIX shell command that posts f with curl: every
// form field in order with --form-string (which sends the value literally,
// even when it starts with @ or <), then one field per page condition with
// the condition's value (the prefix or exact value the page must send; a
// starting point to edit), then the file, last, as S3 requires, and the
// URL. Every value is single-quoted; each argument is on its own line.
func curlCommand(f *postpolicy.Form) string {
	args := []string{"curl -sS -i"}
	for _, fl := range f.Fields {
		args = append(args, "--form-string "+shellQuote(fl.Name+"="+fl.Value))
	}
	for _, c := range f.PageConditions {
		args = append(args, "--form-string "+shellQuote(c.Field()+"="+c.Value()))
	}
	args = append(args, "-F "+shellQuote("file=@"+curlPlaceholderFile), shellQuote(f.URL))
	return strings.Join(args, " \\\n  ") + "\n"
}

// shellQuote returns s as one single-quoted POSIX shell word. Inside single
// quotes every character is literal except the single quote itself, which
// is written by closing the quotes, adding an escaped quote and reopening
// them, so that it's becomes
//
//	'it'\''s'
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
