package postpolicy

import (
	"html/template"
	"io"
	"net/url"
	"strings"
	"time"
)

// Form is a signed upload form: where the browser posts it and the fields
// it carries, in order. The browser sends the fields as
// multipart/form-data, then any fields the page adds itself
// (PageConditions), then the file in a field named "file", which must be
// the last field: S3 ignores everything after it.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html
type Form struct {
	// URL is the form's action: the bucket's URL.
	URL string

	// Fields are the form fields in the order to send them: the policy's
	// fixed fields in condition order, then x-amz-algorithm,
	// x-amz-credential, x-amz-date, x-amz-security-token (temporary
	// credentials only), policy and x-amz-signature. Field names are
	// unique, compared case-insensitively as S3 does.
	Fields []Field

	// PageConditions are the conditions on the fields the page must add
	// itself, before the file ([SourcePage]): for example a starts-with on
	// key when the page chooses the key, or on Content-Type. S3 fails the
	// upload when such a field is missing ("Policy Condition failed").
	PageConditions []Condition

	// Expiration is the policy's expiration as written in it: in UTC, to
	// the millisecond.
	Expiration time.Time

	// Warnings are the warnings of the policy's lint ([Policy.Lint]): what
	// S3 accepts but probably not as meant. They are for the backend (a
	// log line, a test); MarshalJSON and WriteHTML leave them out.
	Warnings []Problem
}

// Field is one form field: a name and its value.
type Field struct {
	Name  string
	Value string
}

// Get returns the value of the field named name, compared
// case-insensitively, and whether the form has it.
func (f *Form) Get(name string) (string, bool) {
	return Fields(f.Fields).Get(name)
}

// Fields are form fields in the order they are sent.
type Fields []Field

// Get returns the value of the first field named name, compared
// case-insensitively as S3 compares field names, and whether there is one.
func (fs Fields) Get(name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Values returns the fields as url.Values, for Go clients that build the
// multipart body themselves. url.Values is a map and loses the order; S3
// does not need it, but the file must still come last.
func (f *Form) Values() url.Values {
	v := make(url.Values, len(f.Fields))
	for _, fl := range f.Fields {
		v.Set(fl.Name, fl.Value)
	}
	return v
}

// MarshalJSON returns the form in the shape browser code written for
// boto3's generate_presigned_post, the AWS JavaScript SDK's
// createPresignedPost and Uppy's AwsS3 plugin already consumes, with the
// fields in order:
//
//	{"url":"https://…/","method":"POST","fields":{"key":"…",…,"x-amz-signature":"…"}}
//
// When the page must add fields itself, a "pageConditions" member lists
// what their values must satisfy, for example
// [{"field":"Content-Type","op":"starts-with","value":"image/"}]; code that
// does not know it ignores it. The page appends those fields, then the
// file, to a FormData built from fields in this order.
func (f *Form) MarshalJSON() ([]byte, error) {
	n := 64 + len(f.URL)
	for _, fl := range f.Fields {
		n += len(fl.Name) + len(fl.Value) + 8
	}
	b := appendFormHead(make([]byte, 0, n), f.URL)
	b = appendFieldsJSON(b, f.Fields, false)
	b = append(b, '}')
	if len(f.PageConditions) > 0 {
		b = append(b, `,"pageConditions":[`...)
		b = appendPageConditionsJSON(b, f.PageConditions, false)
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendFormHead appends the form's JSON up to its fields: the URL, the
// method and the opening of the fields object.
func appendFormHead(b []byte, url string) []byte {
	b = append(b, `{"url":`...)
	b = appendJSONString(b, url)
	return append(b, `,"method":"POST","fields":{`...)
}

// appendFieldsJSON appends fields as members of the form's fields object,
// after a comma when comma is set.
func appendFieldsJSON(b []byte, fields []Field, comma bool) []byte {
	for _, fl := range fields {
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = appendJSONString(b, fl.Name)
		b = append(b, ':')
		b = appendJSONString(b, fl.Value)
	}
	return b
}

// appendFieldsJSONOf appends, as appendFieldsJSON appends them, the fields
// the form carries for conds when no field has several conditions: one
// for each condition the form carries, in order (formFields). facts are
// the lint's of conds. It returns whether it wrote a comma or a field.
func appendFieldsJSONOf(b []byte, conds []Condition, facts []condFacts, comma bool) ([]byte, bool) {
	for i := range conds {
		c := &conds[i]
		if c.source != SourceForm {
			continue
		}
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, '"')
		b = appendJSONCharsAs(b, c.field, facts[i].json&nameJSON != 0)
		b = append(b, '"', ':', '"')
		b = appendJSONCharsAs(b, c.formValue, facts[i].json&formJSON != 0)
		b = append(b, '"')
	}
	return b, comma
}

// appendPageConditionsJSONOf appends, as appendPageConditionsJSON appends
// them, the conditions of conds the page supplies (SourcePage), after a
// comma when comma is set.
func appendPageConditionsJSONOf(b []byte, conds []Condition, comma bool) []byte {
	for i := range conds {
		if conds[i].source == SourcePage {
			b = appendPageConditionsJSON(b, conds[i:i+1], comma)
			comma = true
		}
	}
	return b
}

// appendPageConditionsJSON appends page as elements of the form's
// pageConditions array, after a comma when comma is set.
func appendPageConditionsJSON(b []byte, page []Condition, comma bool) []byte {
	for i := range page {
		c := &page[i]
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, `{"field":`...)
		b = appendJSONString(b, c.field)
		b = append(b, `,"op":`...)
		b = appendJSONString(b, c.op.String())
		b = append(b, `,"value":`...)
		b = appendJSONString(b, c.value)
		b = append(b, '}')
	}
	return b
}

var formTemplate = template.Must(template.New("form").Parse(
	`<form action="{{.URL}}" method="post" enctype="multipart/form-data">
{{- range .Fields}}
  <input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
{{- range .PageConditions}}
  <label>{{.Field}} <input type="text" name="{{.Field}}" value="{{.Value}}" required></label>
{{- end}}
  <input type="file" name="file" required>
  <button type="submit">Upload</button>
</form>
`))

// WriteHTML writes the form as an HTML <form> element with html/template
// escaping: a hidden input per field, a text input prefilled with the
// required prefix or value for each field the page supplies (one per field,
// prefilled from its first condition), then the file input, last, and a
// submit button.
func (f *Form) WriteHTML(w io.Writer) error {
	page := make([]Condition, 0, len(f.PageConditions))
	for _, c := range f.PageConditions {
		if !hasField(page, c.field) {
			page = append(page, c)
		}
	}
	return formTemplate.Execute(w, struct {
		URL            string
		Fields         []Field
		PageConditions []Condition
	}{f.URL, f.Fields, page})
}
