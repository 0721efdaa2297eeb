package postpolicy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParsePolicy parses a policy document (the JSON, not its base64) strictly,
// as a verifier must: it returns a [*DocumentError] for anything but an object with exactly one
// "expiration" string and one "conditions" array (member names
// case-sensitive, no other members, no duplicates, nothing after the
// object) whose elements are one-member objects with a string value
// ({"acl": "public-read"}) or arrays of exactly three elements:
// ["eq" or "starts-with", "$field", "value"] or
// ["content-length-range", min, max] with non-negative integer bounds
// (written as numbers, or as strings of digits, which S3 also accepts).
// The expiration must be ISO 8601 in UTC ("Z"), with or without a fraction.
//
// encoding/json alone would accept duplicate and wrong-case members, which
// would let one policy text mean two things; ParsePolicy reads the token
// stream itself to refuse them. The conditions it returns have
// [SourceNone]: a parsed policy says nothing about who sends each field.
func ParsePolicy(doc []byte) (Policy, error) {
	if !utf8.Valid(doc) {
		return Policy{}, invalidPolicy("Invalid JSON.")
	}
	p := policyParser{dec: json.NewDecoder(bytes.NewReader(doc))}
	p.dec.UseNumber()
	pol, err := p.policy()
	if err != nil {
		return Policy{}, err
	}
	return pol, nil
}

// DecodePolicy decodes the base64 text of a policy, as a form carries it in
// its policy field, and parses it with [ParsePolicy]. It does not check the
// signature: a verifier checks the signature over the base64 text first
// ([Verifier] does).
func DecodePolicy(encoded string) (Policy, error) {
	doc, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return Policy{}, invalidPolicy("Invalid Base64 encoding.")
	}
	return ParsePolicy(doc)
}

type policyParser struct {
	dec *json.Decoder
}

var errJSON = invalidPolicy("Invalid JSON.")

// invalidPolicy returns the error for a document S3 answers with
// InvalidPolicyDocument, reason being S3's message after "Invalid Policy: ".
func invalidPolicy(reason string) error { return &DocumentError{Reason: reason} }

// token returns the next token; any syntax error is S3's "Invalid JSON.".
func (p *policyParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		return nil, errJSON
	}
	return t, nil
}

func (p *policyParser) delim(want json.Delim) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return errJSON
	}
	return nil
}

func (p *policyParser) policy() (Policy, error) {
	var pol Policy
	if err := p.delim('{'); err != nil {
		return pol, err
	}
	var haveExp, haveConds bool
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return pol, err
		}
		name, _ := t.(string)
		switch name {
		case "expiration":
			if haveExp {
				return pol, invalidPolicy("Duplicate 'expiration' member.")
			}
			haveExp = true
			if pol.Expiration, err = p.expiration(); err != nil {
				return pol, err
			}
		case "conditions":
			if haveConds {
				return pol, invalidPolicy("Duplicate 'conditions' member.")
			}
			haveConds = true
			if pol.Conditions, err = p.conditions(); err != nil {
				return pol, err
			}
		default:
			return pol, invalidPolicy("Unexpected: '" + name + "'")
		}
	}
	if err := p.delim('}'); err != nil {
		return pol, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return pol, invalidPolicy("Invalid JSON: data after the policy object.")
	}
	switch {
	case !haveExp:
		return pol, invalidPolicy("Policy missing expiration.")
	case !haveConds:
		return pol, invalidPolicy("Policy missing conditions.")
	}
	return pol, nil
}

// expiration parses the expiration value: ISO 8601 in UTC. S3 refuses
// offsets such as +02:00 ("Invalid 'expiration' value", observed).
func (p *policyParser) expiration() (time.Time, error) {
	t, err := p.token()
	if err != nil {
		return time.Time{}, err
	}
	s, ok := t.(string)
	if !ok {
		return time.Time{}, invalidPolicy("Invalid 'expiration' value: it must be a string.")
	}
	exp, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return time.Time{}, invalidPolicy("Invalid 'expiration' value: '" + s + "'")
	}
	return exp, nil
}

func (p *policyParser) conditions() ([]Condition, error) {
	if err := p.delim('['); err != nil {
		return nil, invalidPolicy("Invalid 'conditions' value: it must be an array.")
	}
	var conds []Condition
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		var c Condition
		switch t {
		case json.Delim('{'):
			c, err = p.simpleCondition()
		case json.Delim('['):
			c, err = p.arrayCondition()
		default:
			err = invalidPolicy("Invalid Condition: each condition must be an object or an array.")
		}
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if err := p.delim(']'); err != nil {
		return nil, err
	}
	return conds, nil
}

// simpleCondition parses {"field": "value"} after its opening brace.
func (p *policyParser) simpleCondition() (Condition, error) {
	errOne := invalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
	if !p.dec.More() {
		return Condition{}, errOne
	}
	t, err := p.token()
	if err != nil {
		return Condition{}, err
	}
	field, _ := t.(string)
	if t, err = p.token(); err != nil {
		return Condition{}, err
	}
	value, ok := t.(string)
	if !ok {
		return Condition{}, invalidPolicy("Invalid Simple-Condition: value must be a string.")
	}
	if p.dec.More() {
		return Condition{}, errOne
	}
	if err := p.delim('}'); err != nil {
		return Condition{}, err
	}
	return Condition{op: OpEq, field: field, value: value}, nil
}

// arrayCondition parses a three-element condition after its opening
// bracket.
func (p *policyParser) arrayCondition() (Condition, error) {
	var elems [3]json.Token
	n := 0
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return Condition{}, err
		}
		if _, nested := t.(json.Delim); nested {
			return Condition{}, invalidPolicy("Invalid Condition: condition elements must be strings or numbers.")
		}
		if n == len(elems) {
			return Condition{}, invalidPolicy("Invalid Condition: a condition array must have exactly three elements.")
		}
		elems[n] = t
		n++
	}
	if err := p.delim(']'); err != nil {
		return Condition{}, err
	}
	if n != len(elems) {
		return Condition{}, invalidPolicy("Invalid Condition: a condition array must have exactly three elements.")
	}
	op, _ := elems[0].(string)
	switch op {
	case "eq", "starts-with":
		ref, ok1 := elems[1].(string)
		value, ok2 := elems[2].(string)
		if !ok1 || !ok2 {
			return Condition{}, invalidPolicy("Invalid Condition: the field and value of " + op + " must be strings.")
		}
		if len(ref) < 2 || ref[0] != '$' {
			return Condition{}, invalidPolicy("Invalid Condition: the field of " + op + " must be written \"$name\", got " + strconv.Quote(ref) + ".")
		}
		o := OpEq
		if op == "starts-with" {
			o = OpStartsWith
		}
		return Condition{op: o, field: ref[1:], value: value}, nil
	case "content-length-range":
		lo, err1 := rangeBound(elems[1])
		hi, err2 := rangeBound(elems[2])
		if err := errors.Join(err1, err2); err != nil {
			return Condition{}, err
		}
		return Condition{op: OpContentLengthRange, min: lo, max: hi}, nil
	}
	return Condition{}, invalidPolicy("Invalid Condition: unknown operation " + strconv.Quote(op) + ".")
}

// rangeBound parses a content-length-range bound: a non-negative integer,
// as a JSON number without fraction or exponent or as a string of digits.
// S3 answered "Invalid JSON" for 512.0 and 400 for negative bounds
// (recorded by ceph/s3-tests, test_post_object_invalid_content_length_argument).
func rangeBound(t json.Token) (int64, error) {
	var s string
	switch v := t.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	default:
		return 0, invalidPolicy("Invalid content-length-range: bounds must be integers.")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, invalidPolicy("Invalid content-length-range: bound " + strconv.Quote(s) + " is not a non-negative integer.")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalidPolicy("Invalid content-length-range: bound " + strconv.Quote(s) + " is out of range.")
	}
	return n, nil
}
