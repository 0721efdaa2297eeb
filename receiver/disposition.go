package receiver

import (
	"mime/multipart"
	"strings"
)

// This file holds the one place a part of the form is named: the parser
// of its Content-Disposition header. mime.ParseMediaType (and with it
// multipart.Part's FormName and FileName) is not used, because it merges
// the RFC 2231 / RFC 5987 starred parameters (name*=UTF-8''key,
// filename*=UTF-8''a%0D%0A.png) over the plain ones: a part could then
// be named by a parameter the policy's author never thought of, and a
// file name could carry CR, LF or NUL into a key. RFC 7578 section 4.2
// says a form-data part has a name parameter and may have a filename
// parameter, and that senders must not use the RFC 5987 encoding for file
// names; this parser therefore reads only the plain name and filename,
// and ignores every parameter with a '*' in its name.

// partNames returns a part's field name and its file name as sent, and
// whether it has a filename parameter. ok is false when the part does not
// have exactly one Content-Disposition header, or when that header is not
// a well-formed form-data disposition (see parseFormDisposition).
func partNames(p *multipart.Part) (name, filename string, hasFilename, ok bool) {
	cd := p.Header.Values("Content-Disposition")
	if len(cd) != 1 {
		return "", "", false, false
	}
	return parseFormDisposition(cd[0])
}

// parseFormDisposition parses the value of a multipart/form-data part's
// Content-Disposition header: the disposition type form-data (compared
// case-insensitively), then parameters, each a token, "=", and a token or
// a quoted-string (RFC 7578 section 4.2; the grammar of RFC 6266 section
// 4.1, with the token and quoted-string of RFC 9110 section 5.6).
//
// It returns the name parameter and the filename parameter (names compared
// case-insensitively), and whether a filename parameter was sent. Spaces
// and tabs may surround ';' and '='; a trailing ';' is allowed. A quoted
// string ends at the first unescaped '"', and a backslash escapes the byte
// after it, whatever (bar a control character) it is: "a\b" is "ab", as
// RFC 9110 reads it, where mime.ParseMediaType keeps the backslash for the
// unescaped paths of old Internet Explorer. Go's multipart.Writer escapes
// every backslash and quote with a backslash; current browsers do not (the
// HTML standard percent-encodes '"', CR and LF in names and leaves '\' as
// it is), so a browser's file named a\b.png arrives as ab.png, and one
// named a\ is refused as malformed: rare names, and no harm. Parameters with a '*' in their name (RFC 2231 and RFC 5987
// extended values and continuations) must be well-formed too but are
// otherwise ignored. ok is false for anything else: another disposition
// type, a control character (NUL, CR, LF, DEL…) anywhere but a tab, a
// plain parameter sent twice, or trailing bytes.
func parseFormDisposition(v string) (name, filename string, hasFilename, ok bool) {
	typ, params, ok := parseDisposition(v)
	if !ok || !strings.EqualFold(typ, "form-data") {
		return "", "", false, false
	}
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if strings.Contains(p.name, "*") {
			continue
		}
		if seen[p.name] {
			return "", "", false, false
		}
		seen[p.name] = true
		switch p.name {
		case "name":
			name = p.value
		case "filename":
			filename, hasFilename = p.value, true
		}
	}
	return name, filename, hasFilename, true
}

// dispositionParam is a parameter of a Content-Disposition: its name in
// lower case, and its value (a quoted-string unescaped).
type dispositionParam struct{ name, value string }

// parseDisposition splits a Content-Disposition value into its type and
// its parameters, in order, by the grammar parseFormDisposition describes.
// It keeps every parameter, duplicates and starred ones included.
func parseDisposition(v string) (typ string, params []dispositionParam, ok bool) {
	i := skipToken(v, 0)
	if i == 0 {
		return "", nil, false
	}
	typ = v[:i]
	for {
		i = skipOWS(v, i)
		if i == len(v) {
			return typ, params, true
		}
		if v[i] != ';' {
			return "", nil, false
		}
		i = skipOWS(v, i+1)
		if i == len(v) {
			return typ, params, true // a trailing ';'
		}
		j := skipToken(v, i)
		if j == i {
			return "", nil, false
		}
		pname := strings.ToLower(v[i:j])
		i = skipOWS(v, j)
		if i == len(v) || v[i] != '=' {
			return "", nil, false
		}
		i = skipOWS(v, i+1)
		var value string
		if i < len(v) && v[i] == '"' {
			value, i, ok = quotedString(v, i)
			if !ok {
				return "", nil, false
			}
		} else {
			j = skipToken(v, i)
			if j == i {
				return "", nil, false
			}
			value, i = v[i:j], j
		}
		params = append(params, dispositionParam{name: pname, value: value})
	}
}

// skipToken returns the index of the first byte at or after i that is not
// a tchar (RFC 9110 section 5.6.2).
func skipToken(v string, i int) int {
	for i < len(v) && isTchar(v[i]) {
		i++
	}
	return i
}

// skipOWS returns the index of the first byte at or after i that is not a
// space or a tab.
func skipOWS(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// quotedString reads the quoted-string that starts at v[i] (a '"') and
// returns its value and the index after its closing quote (RFC 9110
// section 5.6.4): qdtext is a tab, a space, any visible ASCII byte but '"'
// and '\', or a byte of 0x80 and above; a quoted-pair is '\' and a tab, a
// space, a visible ASCII byte or a byte of 0x80 and above.
func quotedString(v string, i int) (string, int, bool) {
	var b strings.Builder
	for i++; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			return b.String(), i + 1, true
		case c == '\\':
			if i+1 == len(v) || !isQuotable(v[i+1]) {
				return "", 0, false
			}
			i++
			b.WriteByte(v[i])
		case isQuotable(c):
			b.WriteByte(c)
		default:
			return "", 0, false
		}
	}
	return "", 0, false // no closing quote
}

// isQuotable reports whether c may stand in a quoted-string, after a
// backslash or not (bar '"' and '\' themselves, which need the
// backslash): a tab, a space, visible ASCII, or obs-text (0x80 to 0xFF).
func isQuotable(c byte) bool {
	return c == '\t' || (c >= ' ' && c != 0x7f)
}

// isTchar reports whether c is a tchar of RFC 9110 section 5.6.2: a letter,
// a digit, or one of !#$%&'*+-.^_`|~.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
