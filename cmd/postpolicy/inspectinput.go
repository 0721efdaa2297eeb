package main

// This file reads what inspect is given: INPUT (a base64 policy, a policy
// document, a form as JSON or as Python prints it, an HTML form) and the
// fields of -fields.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/postpolicy/postpolicy"
)

// readInspectArg returns the bytes arg names: standard input for "-", a
// file's content when arg names a file, else (when literal is true) arg
// itself. It also returns a description of where they came from.
func readInspectArg(arg string, stdin io.Reader, literal bool) ([]byte, string, error) {
	read := func(r io.Reader, what string) ([]byte, string, error) {
		b, err := io.ReadAll(io.LimitReader(r, maxInspectInput+1))
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", what, err)
		}
		if len(b) > maxInspectInput {
			return nil, "", fmt.Errorf("%s is larger than %s", what, sizeText(maxInspectInput))
		}
		return b, what, nil
	}
	if arg == "-" {
		return read(stdin, "standard input")
	}
	st, statErr := os.Stat(arg)
	if statErr == nil && st.Mode().IsRegular() {
		f, err := os.Open(arg)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		return read(f, arg)
	}
	if statErr == nil {
		return nil, "", fmt.Errorf("%s is not a regular file", arg)
	}
	if !literal {
		return nil, "", statErr
	}
	return []byte(arg), "the command line", nil
}

// inspectInput is what INPUT held.
type inspectInput struct {
	kind    string             // what INPUT was, for the output
	source  string             // where it came from
	doc     []byte             // the policy document
	encoded string             // the base64 text of the policy, as the input carried it
	url     string             // the form's URL, if known
	isForm  bool               // whether INPUT was a form (fields known)
	fields  []postpolicy.Field // the form's fields before the file, in order
	after   []string           // an HTML form's inputs after the file input, which S3 ignores
	noFile  bool               // an HTML form without a file input
	// page are the fields a form's JSON says the page adds (its
	// pageConditions), each with the least value that satisfies its
	// condition: the condition's value.
	page []pageField
}

// pageField is a field the page adds, as a form's pageConditions says.
type pageField struct {
	field, op, value string
}

// parseInspectInput recognises INPUT's kind by its first character: "<"
// for HTML, "{" for JSON (or a Python dict), anything else for base64.
func parseInspectInput(data []byte) (*inspectInput, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	switch {
	case len(t) == 0:
		return nil, errors.New("empty input")
	case t[0] == '<':
		return parseHTMLForm(t)
	case t[0] == '{':
		if json.Valid(t) {
			return parseJSONInput(t, "")
		}
		if js, err := pythonToJSON(string(t)); err == nil {
			return parseJSONInput(js, " (as Python prints it)")
		}
		var syn *json.SyntaxError
		if err := json.Unmarshal(t, new(any)); errors.As(err, &syn) {
			return nil, fmt.Errorf("starts with { but is not JSON: %v at byte %d", syn, syn.Offset)
		}
		return nil, errors.New("starts with { but is not JSON")
	}
	return policyFromBase64(string(t), "a base64 policy")
}

// policyFromBase64 decodes a base64 policy, ignoring white space (which a
// pasted value may be wrapped with).
func policyFromBase64(s, kind string) (*inspectInput, error) {
	enc := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	doc, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("not a policy: neither base64, nor JSON (starting with {), nor HTML (starting with <)")
	}
	return &inspectInput{kind: kind, doc: doc, encoded: enc}, nil
}

// parseJSONInput reads a policy document or a form.
func parseJSONInput(js []byte, how string) (*inspectInput, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	members := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if _, dup := members[name]; !dup {
			members[name] = raw
		}
	}
	fieldsRaw, isForm := members["fields"]
	if !isForm {
		_, hasConds := members["conditions"]
		_, hasExp := members["expiration"]
		if !hasConds && !hasExp {
			return nil, errors.New("the JSON is neither a policy (with expiration and conditions) nor a form (with url and fields)")
		}
		return &inspectInput{kind: "a policy document" + how, doc: js}, nil
	}
	fields, err := parseFieldsJSON(fieldsRaw)
	if err != nil {
		return nil, fmt.Errorf("the form's fields: %w", err)
	}
	in := &inspectInput{kind: "a form as JSON" + how, isForm: true, fields: fields}
	if u, ok := members["url"]; ok {
		json.Unmarshal(u, &in.url)
	}
	if raw, ok := members["pageConditions"]; ok {
		// The shape Form.MarshalJSON writes: [{"field", "op", "value"}].
		var page []struct{ Field, Op, Value string }
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("the form's pageConditions: want [{\"field\": ..., \"op\": ..., \"value\": ...}]: %v", err)
		}
		for _, p := range page {
			if p.Field == "" || (p.Op != "eq" && p.Op != "starts-with") {
				return nil, fmt.Errorf("the form's pageConditions: %q %q is not a condition on a field", p.Field, p.Op)
			}
			in.page = append(in.page, pageField{p.Field, p.Op, p.Value})
		}
	}
	return in, in.decodeFormPolicy()
}

// decodeFormPolicy decodes the policy field of a form.
func (in *inspectInput) decodeFormPolicy() error {
	enc, ok := postpolicy.Fields(in.fields).Get("policy")
	if !ok {
		return errors.New("the form has no policy field")
	}
	doc, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return errors.New("the form's policy field is not base64; S3 would answer 400 InvalidPolicyDocument")
	}
	in.doc, in.encoded = doc, enc
	return nil
}

// parseFieldsJSON reads form fields: an object (its members in order), or
// an array of [name, value] pairs or {"name": ..., "value": ...} objects.
func parseFieldsJSON(raw []byte) ([]postpolicy.Field, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		fields := make([]postpolicy.Field, 0, len(elems))
		for i, e := range elems {
			var pair []string
			var obj struct{ Name, Value *string }
			switch {
			case json.Unmarshal(e, &pair) == nil && len(pair) == 2:
				fields = append(fields, postpolicy.Field{Name: pair[0], Value: pair[1]})
			case json.Unmarshal(e, &obj) == nil && obj.Name != nil && obj.Value != nil:
				fields = append(fields, postpolicy.Field{Name: *obj.Name, Value: *obj.Value})
			default:
				return nil, fmt.Errorf("element %d is neither [name, value] nor {\"name\": ..., \"value\": ...}", i)
			}
		}
		return fields, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("want an object or an array")
	}
	var fields []postpolicy.Field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var value string
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("the value of %q is not a string", name)
		}
		fields = append(fields, postpolicy.Field{Name: name, Value: value})
	}
	return fields, nil
}

// parseFieldsFile reads -fields: JSON (see parseFieldsJSON) or name=value
// lines; empty lines and lines starting with # are skipped.
func parseFieldsFile(data []byte) ([]postpolicy.Field, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
		return parseFieldsJSON(t)
	}
	var fields []postpolicy.Field
	for i, line := range strings.Split(string(t), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("line %d: want name=value", i+1)
		}
		fields = append(fields, postpolicy.Field{Name: strings.TrimSpace(name), Value: value})
	}
	return fields, nil
}

// parseHTMLForm reads the form of an HTML page with encoding/xml in its
// lenient HTML mode: the inputs of the first form with a policy field (or
// else of the first form with inputs), in document order.
func parseHTMLForm(page []byte) (*inspectInput, error) {
	d := xml.NewDecoder(strings.NewReader(quoteAttributes(stripElements(string(page), "script", "style"))))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	type htmlForm struct {
		action  string
		fields  []postpolicy.Field
		after   []string
		hasFile bool
	}
	var forms []*htmlForm
	var cur *htmlForm
	var decodeErr error
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			decodeErr = err
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch strings.ToLower(t.Name.Local) {
			case "form":
				action, _ := htmlAttr(t, "action")
				cur = &htmlForm{action: action}
				forms = append(forms, cur)
			case "input", "textarea":
				name, _ := htmlAttr(t, "name")
				if name == "" {
					continue
				}
				if cur == nil {
					cur = &htmlForm{}
					forms = append(forms, cur)
				}
				value, _ := htmlAttr(t, "value")
				if strings.EqualFold(t.Name.Local, "textarea") {
					value = textUntilEnd(d)
				} else {
					typ, _ := htmlAttr(t, "type")
					switch strings.ToLower(typ) {
					case "file":
						cur.hasFile = true
						continue
					case "submit", "button", "reset", "image":
						continue
					case "checkbox", "radio":
						if _, checked := htmlAttr(t, "checked"); !checked {
							continue
						}
					}
				}
				if cur.hasFile {
					cur.after = append(cur.after, name)
				} else {
					cur.fields = append(cur.fields, postpolicy.Field{Name: name, Value: value})
				}
			}
		case xml.EndElement:
			if strings.EqualFold(t.Name.Local, "form") {
				cur = nil
			}
		}
	}
	var pick *htmlForm
	for _, f := range forms {
		if _, ok := postpolicy.Fields(f.fields).Get("policy"); ok {
			pick = f
			break
		}
	}
	if pick == nil {
		if decodeErr != nil {
			return nil, fmt.Errorf("reading the HTML: %v", decodeErr)
		}
		return nil, errors.New("the HTML holds no form with a policy field before its file input")
	}
	in := &inspectInput{kind: "an HTML form", isForm: true, url: pick.action, fields: pick.fields, after: pick.after, noFile: !pick.hasFile}
	return in, in.decodeFormPolicy()
}

// htmlAttr returns the value of the attribute name of t, compared
// case-insensitively, and whether it is present.
func htmlAttr(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Name.Local, name) && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// textUntilEnd returns the text up to the end of the current element.
func textUntilEnd(d *xml.Decoder) string {
	var b strings.Builder
	depth := 1
	for depth > 0 {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return b.String()
}

// stripElements removes the elements named names (script, style), whose
// content HTML does not parse as markup but an XML decoder would.
func stripElements(s string, names ...string) string {
	for _, name := range names {
		for {
			lower := strings.ToLower(s)
			start := strings.Index(lower, "<"+name)
			if start < 0 {
				break
			}
			end := strings.Index(lower[start:], "</"+name)
			if end < 0 {
				s = s[:start]
				break
			}
			end += start
			gt := strings.IndexByte(lower[end:], '>')
			if gt < 0 {
				s = s[:start]
				break
			}
			s = s[:start] + s[end+gt+1:]
		}
	}
	return s
}

// quoteAttributes puts quotes around the unquoted attribute values of
// start tags (action=/upload), which HTML allows and encoding/xml, even in
// its lenient mode, reads only when they hold name characters alone.
func quoteAttributes(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 64)
	i := 0
	for i < len(s) {
		if s[i] != '<' || i+1 >= len(s) || !('a' <= s[i+1]|0x20 && s[i+1]|0x20 <= 'z') {
			b.WriteByte(s[i])
			i++
			continue
		}
		var quote byte
	tag:
		for i < len(s) {
			c := s[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				b.WriteByte(c)
				i++
				break tag
			case c == '=':
				b.WriteByte(c)
				i++
				for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
					i++
				}
				if i < len(s) && s[i] != '"' && s[i] != '\'' && s[i] != '>' {
					j := i
					for j < len(s) && strings.IndexByte(" \t\r\n>", s[j]) < 0 {
						j++
					}
					b.WriteString(`"` + strings.ReplaceAll(s[i:j], `"`, "&quot;") + `"`)
					i = j
				}
				continue
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// pythonToJSON converts a Python literal, as print() writes a dict such as
// boto3's generate_presigned_post returns, to JSON: dicts, lists, tuples,
// strings in single or double quotes (with u, r or b prefixes), numbers,
// True, False and None.
func pythonToJSON(s string) ([]byte, error) {
	p := &pyParser{s: s}
	out, err := p.value(nil, 0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the value", p.s[p.i:min(len(p.s), p.i+10)])
	}
	return out, nil
}

// pyParser reads a Python literal from s, at i.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value(out []byte, depth int) ([]byte, error) {
	if depth > 32 {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.container(out, '}', true, depth)
	case c == '[':
		return p.container(out, ']', false, depth)
	case c == '(':
		return p.container(out, ')', false, depth)
	case c == '\'' || c == '"':
		return p.str(out, false)
	case c == 'u' || c == 'U' || c == 'b' || c == 'B' || c == 'r' || c == 'R':
		raw := c == 'r' || c == 'R'
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == 'r' || p.s[p.i] == 'R' || p.s[p.i] == 'b' || p.s[p.i] == 'B') {
			raw = raw || p.s[p.i] == 'r' || p.s[p.i] == 'R'
			p.i++
		}
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			return nil, errors.New("not a Python literal")
		}
		return p.str(out, raw)
	}
	for _, w := range []struct{ py, js string }{{"True", "true"}, {"False", "false"}, {"None", "null"}} {
		if strings.HasPrefix(p.s[p.i:], w.py) {
			p.i += len(w.py)
			return append(out, w.js...), nil
		}
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[p.i]) >= 0 {
		p.i++
	}
	num := p.s[start:p.i]
	if num == "" || !json.Valid([]byte(num)) {
		return nil, fmt.Errorf("unexpected %q", p.s[start:min(len(p.s), start+10)])
	}
	return append(out, num...), nil
}

func (p *pyParser) container(out []byte, end byte, dict bool, depth int) ([]byte, error) {
	p.i++
	if dict {
		out = append(out, '{')
	} else {
		out = append(out, '[')
	}
	for n := 0; ; n++ {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			break
		}
		if n > 0 {
			if p.i >= len(p.s) || p.s[p.i] != ',' {
				return nil, errors.New("want ','")
			}
			p.i++
			p.space()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				break
			}
			out = append(out, ',')
		}
		var err error
		if dict {
			p.space()
			if p.i >= len(p.s) || strings.IndexByte("'\"uUbBrR", p.s[p.i]) < 0 {
				return nil, errors.New("dict keys must be strings")
			}
			if out, err = p.value(out, depth+1); err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errors.New("want ':'")
			}
			p.i++
			out = append(out, ':')
		}
		if out, err = p.value(out, depth+1); err != nil {
			return nil, err
		}
	}
	if dict {
		return append(out, '}'), nil
	}
	return append(out, ']'), nil
}

// str reads a quoted Python string and appends it as a JSON string.
func (p *pyParser) str(out []byte, raw bool) ([]byte, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return nil, errors.New("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return append(out, mustJSON(b.String())...), nil
		case c == '\n':
			return nil, errors.New("line break in a string")
		case c == '\\' && raw:
			b.WriteByte(c)
			if p.i+1 < len(p.s) {
				b.WriteByte(p.s[p.i+1])
				p.i++
			}
			p.i++
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return nil, errors.New("unterminated string")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '0':
				b.WriteByte(0)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if p.i+n > len(p.s) {
					return nil, errors.New("short escape")
				}
				v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil || v > unicode.MaxRune {
					return nil, errors.New("bad escape")
				}
				b.WriteRune(rune(v))
				p.i += n
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}
