package sigv4

// Requests signed in their query, presigned URLs: "Authenticating Requests:
// Using Query Parameters (AWS Signature Version 4)" in the S3 API Reference,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// MaxExpires is the most seconds X-Amz-Expires may say: 7 days.
const MaxExpires = 7 * 24 * 60 * 60

// QueryAuth is what a presigned URL adds to its request's query to carry
// its authentication: the parameters X-Amz-Algorithm (Algorithm),
// X-Amz-Credential (Key.Credential), X-Amz-Date (Time), X-Amz-Expires,
// X-Amz-SignedHeaders (the request's signed-headers line) and, for
// temporary credentials, X-Amz-Security-Token. X-Amz-Signature follows
// them in the URL and is not signed.
type QueryAuth struct {
	// Key is the signing key.
	Key *Key
	// Time is the signing time; X-Amz-Date is it in UTC, to the second
	// (AppendTime), and must fall on the key's date.
	Time time.Time
	// Expires is how many seconds the URL is valid from Time: 1 to
	// MaxExpires.
	Expires int64
	// SecurityToken is the session token of temporary credentials, empty
	// for long-term ones.
	SecurityToken string
}

// Presigned is a request signed in its query (Request.Presign).
type Presigned struct {
	// Canonical is the canonical request.
	Canonical []byte
	// URI and Query are the canonical URI and the canonical query string,
	// the authentication parameters included, within Canonical. Under
	// PathS3 they are the escaped path and the query of the presigned
	// URL, which ends with "&X-Amz-Signature=" and Signature.
	URI, Query []byte
	// Signature is the signature, lower-case hex.
	Signature [2 * sha256.Size]byte
}

// Presign signs r in its query with auth: it appends to dst the canonical
// request of r with the authentication parameters of auth added to r.Query
// (which holds the request's other parameters, such as S3's response-*),
// and signs it as Request.Sign does a canonical request. It is how a
// presigned URL is made: the URL is the request's scheme and host, the
// result's URI, '?', its Query, "&X-Amz-Signature=" and its Signature;
// writing the URL from these spans encodes the path and the query once.
// The canonical request is the one AppendCanonical gives for r with the
// parameters in its Query. It fails as AppendCanonical does, and for an
// Expires out of range or a Time not on the key's date; on error dst is
// not changed.
func (r *Request) Presign(dst []byte, auth *QueryAuth) (Presigned, error) {
	if auth.Expires < 1 || auth.Expires > MaxExpires {
		return Presigned{}, fmt.Errorf("sigv4: X-Amz-Expires %d is not between 1 and %d seconds", auth.Expires, MaxExpires)
	}
	var date [len(TimeLayout)]byte
	AppendTime(date[:0], auth.Time)
	if string(date[:len(DateLayout)]) != auth.Key.Date {
		return Presigned{}, fmt.Errorf("sigv4: x-amz-date %s is not on the credential date %s", string(date[:]), auth.Key.Date)
	}
	if err := checkQuery(r.Query); err != nil {
		return Presigned{}, err
	}
	var expires [20]byte
	text := queryAuthText{
		credential: auth.Key.credentialQuery,
		date:       date[:],
		expires:    strconv.AppendInt(expires[:0], auth.Expires, 10),
		token:      auth.SecurityToken,
	}
	start := len(dst)
	creq, sp, err := r.appendCanonical(dst, &text)
	if err != nil {
		return Presigned{}, err
	}
	return Presigned{
		Canonical: creq[start:],
		URI:       creq[sp.uri : sp.query-1],
		Query:     creq[sp.query : sp.headers-1],
		Signature: auth.Key.SignCanonicalRequest(string(date[:]), creq[start:]),
	}, nil
}

// queryAuthText is a QueryAuth's parameter values, formatted.
type queryAuthText struct {
	credential string // X-Amz-Credential, encoded (Key.credentialQuery)
	date       []byte // X-Amz-Date: digits, 'T' and 'Z', encoded as they are
	expires    []byte // decimal digits, encoded as they are
	token      string
}

// authParamNames are the names of the query-authentication parameters, in
// canonical order (ascending bytes), with X-Amz-Signature, which follows
// the canonical query in a URL. They encode as they are.
var authParamNames = [...]string{
	"X-Amz-Algorithm",
	"X-Amz-Credential",
	"X-Amz-Date",
	"X-Amz-Expires",
	"X-Amz-Security-Token",
	"X-Amz-SignedHeaders",
	"X-Amz-Signature",
}

// checkQuery reports a parameter of a request to presign that has the
// name of an authentication parameter.
func checkQuery(params []Param) error {
	for _, p := range params {
		for _, n := range authParamNames {
			if p.Name == n {
				return errors.New("sigv4: the query of a request to presign holds " + n + ", which presigning adds")
			}
		}
	}
	return nil
}

// appendCanonicalQuery appends the canonical query string of params with
// the query-authentication parameters of a added, whose X-Amz-SignedHeaders
// is the signed-headers line of names: what AppendCanonicalQuery appends
// for all of them. The request's own parameters are put in canonical
// order by AppendCanonicalQuery; the authentication ones, in canonical
// order already and named unlike them (checkQuery), are encoded straight
// into dst where they fall among them.
func (a *queryAuthText) appendCanonicalQuery(dst []byte, params []Param, names []string) []byte {
	var own []byte // "name=value&name=value...", encoded, sorted
	if len(params) > 0 {
		var buf [512]byte
		own = AppendCanonicalQuery(buf[:0], params)
	}
	start := len(dst)
	// flush appends the request's parameters named before name ("" for
	// all that are left).
	flush := func(name string) {
		for len(own) > 0 {
			piece := own
			if i := bytes.IndexByte(own, '&'); i >= 0 {
				piece = own[:i]
			}
			if name != "" && string(piece[:bytes.IndexByte(piece, '=')]) > name {
				return
			}
			if len(dst) > start {
				dst = append(dst, '&')
			}
			dst = append(dst, piece...)
			own = own[min(len(piece)+1, len(own)):]
		}
	}
	for _, name := range authParamNames[:len(authParamNames)-1] {
		if name == "X-Amz-Security-Token" && a.token == "" {
			continue
		}
		flush(name)
		if len(dst) > start {
			dst = append(dst, '&')
		}
		dst = append(dst, name...)
		dst = append(dst, '=')
		switch name {
		case "X-Amz-Algorithm":
			dst = append(dst, Algorithm...)
		case "X-Amz-Credential":
			dst = append(dst, a.credential...)
		case "X-Amz-Date":
			dst = append(dst, a.date...)
		case "X-Amz-Expires":
			dst = append(dst, a.expires...)
		case "X-Amz-Security-Token":
			dst = AppendURIEncode(dst, a.token, false)
		case "X-Amz-SignedHeaders":
			// The names encoded one by one, and the ';' that joins them
			// as %3B: the encoding of the line, byte for byte.
			for i, n := range names {
				if i > 0 {
					dst = append(dst, "%3B"...)
				}
				dst = AppendURIEncode(dst, n, false)
			}
		}
	}
	flush("")
	return dst
}
