package sigv4

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy/internal/testutil"
)

// TestPresignExample reproduces S3's presigned URL example with Presign:
// the canonical request, the signature, and the URL written from the
// result's URI and Query.
func TestPresignExample(t *testing.T) {
	v, k := readS3Examples(t)
	ex := v.Presigned.Examples[0]
	at, err := time.Parse(TimeLayout, v.AmzDate)
	if err != nil {
		t.Fatal(err)
	}
	expires, err := strconv.ParseInt(ex.Expires, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	r := Request{
		Method:        ex.Method,
		Path:          ex.Path,
		Header:        toHeaders(ex.Headers),
		SignedHeaders: []string{"host"},
		PayloadHash:   UnsignedPayload,
	}
	p, err := r.Presign(nil, &QueryAuth{Key: k, Time: at, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ex.Creq, string(p.Canonical)); diff != "" {
		t.Errorf("canonical request (-want +got):\n%s", diff)
	}
	if string(p.Signature[:]) != ex.Signature {
		t.Errorf("signature = %s, want %s", p.Signature, ex.Signature)
	}
	if u := ex.Scheme + "://" + ex.Host + string(p.URI) + "?" + string(p.Query) + "&X-Amz-Signature=" + string(p.Signature[:]); u != ex.URL {
		t.Errorf("URL =\n%s\nwant\n%s", u, ex.URL)
	}
}

// TestPresignMatchesSign checks Presign against what it stands for:
// AppendCanonical and Sign of the request with the authentication
// parameters written into its Query, on requests whose parameters sort
// before, among and after the X-Amz-* ones, repeat a name, need encoding,
// and carry session tokens; and that it appends to dst.
func TestPresignMatchesSign(t *testing.T) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128", "eu-west-1", "s3")
	at := time.Date(2026, 11, 28, 23, 59, 59, 999999999, time.UTC)
	for _, tc := range []struct {
		name    string
		r       Request
		expires int64
		token   string
	}{
		{"minimal", Request{Method: "GET", Path: "/k", Header: []Header{{"Host", "b.s3.amazonaws.com"}}, SignedHeaders: []string{"host"}, PayloadHash: UnsignedPayload}, 1, ""},
		{"hostile", Request{
			Method: "PUT", Path: "/a b/+~/ü//%2F?#",
			Query: []Param{{"response-content-disposition", `attachment; filename="ü b.png"`}, {"A", "1"}, {"X-Amz-Foo", "x/y"}, {"a", ""}, {"A", "0"},
				{"", "empty name"}, {"X-Amz-", ""}, {"X-Amz-B", "1"}, {"X-Amz-Credential0", "&="}, {"X-Amz-Date ", "1"}, {"X-Amz-Datf", "x"},
				{"X-Amz-Expires~", "1"}, {"X-Amz-Security", "1"}, {"X-Amz-Security-Tokens", "1"}, {"X-Amz-SignedHeaders=", "1"}, {"X-Amz-Sz", "1"}, {"Y", "y"}, {"X-Amz-Foo", "x/x"}},
			Header:        []Header{{"host", "b.s3.amazonaws.com"}, {"Content-Type", " text/plain;  charset=utf-8 "}, {"x-amz-meta-a", "\tone  two\t"}, {"X-Amz-Meta-A", "three"}},
			SignedHeaders: []string{"content-type", "host", "x-amz-meta-a"}, PayloadHash: UnsignedPayload,
		}, MaxExpires, "FQoG/ZXIv+YXdz==~._-" + strings.Repeat("Ab/+=", 100)},
		{"every header signed", Request{Method: "HEAD", Path: "", Header: []Header{{"Host", "h"}, {"X-B", "2"}, {"x-a", "1"}}, PayloadHash: EmptyPayloadHash}, 900, "t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkPresign(t, tc.r, &QueryAuth{Key: k, Time: at, Expires: tc.expires, SecurityToken: tc.token})
		})
	}
}

// checkPresign checks r.Presign with auth against AppendCanonical and Sign
// of r with auth's parameters added to its Query. It returns at once when
// AppendCanonical refuses r, after checking that Presign does too.
func checkPresign(t *testing.T, r Request, auth *QueryAuth) {
	t.Helper()
	k := auth.Key
	amzDate := string(AppendTime(nil, auth.Time))
	want := r
	if line, err := r.AppendSignedHeaders(nil); err == nil {
		want.Query = append(append([]Param(nil), r.Query...),
			Param{"X-Amz-Algorithm", Algorithm},
			Param{"X-Amz-Credential", k.Credential},
			Param{"X-Amz-Date", amzDate},
			Param{"X-Amz-Expires", strconv.FormatInt(auth.Expires, 10)},
			Param{"X-Amz-SignedHeaders", string(line)})
		if auth.SecurityToken != "" {
			want.Query = append(want.Query, Param{"X-Amz-Security-Token", auth.SecurityToken})
		}
	}
	dst := append(make([]byte, 0, 4096), "prefix"...)
	got, err := r.Presign(dst, auth)
	creq, wantErr := want.AppendCanonical(nil)
	for _, p := range r.Query {
		if strings.HasPrefix(p.Name, "X-Amz-") && slices.Contains(authParamNames[:], p.Name) {
			wantErr = fmt.Errorf("the query holds %s", p.Name)
		}
	}
	if wantErr != nil || err != nil {
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Presign: %v; AppendCanonical: %v", err, wantErr)
		}
		return
	}
	if diff := cmp.Diff(string(creq), string(got.Canonical)); diff != "" {
		t.Errorf("canonical request (-AppendCanonical +Presign):\n%s", diff)
	}
	if !bytes.HasPrefix(creq, []byte(r.Method+"\n"+string(got.URI)+"\n"+string(got.Query)+"\n")) {
		t.Errorf("URI %q and Query %q are not the second and third lines of\n%s", got.URI, got.Query, creq)
	}
	if q := AppendCanonicalQuery(nil, want.Query); string(got.Query) != string(q) {
		t.Errorf("Query = %s, want %s", got.Query, q)
	}
	sig, err := want.Sign(k, amzDate)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signature != sig {
		t.Errorf("signature = %s, Sign's %s", got.Signature, sig)
	}
	if string(dst) != "prefix" {
		t.Errorf("dst changed: %q", dst)
	}
	if fits := len(dst)+len(got.Canonical) <= cap(dst); fits && &dst[:cap(dst)][len(dst)] != &got.Canonical[0] {
		t.Errorf("the canonical request is not appended to dst in place")
	}
}

// FuzzPresign checks Presign against AppendCanonical and Sign (checkPresign)
// on fuzzed paths, queries, header values and session tokens.
func FuzzPresign(f *testing.F) {
	f.Add("PUT", "/a b/+~/ü//%2F", "response-content-type=a%20b&A=1&X-Amz-Datf=0&X-Amz-Security=1&&Z", "  x  y ", "FQoG/ZXIv+YXdz==", int64(900))
	f.Add("GET", "/k", "X-Amz-Date=1", "", "", int64(60))
	f.Add("GET", "", "", "", "", int64(1))
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128", "eu-west-1", "s3")
	at := time.Date(2026, 11, 28, 23, 59, 59, 0, time.UTC)
	f.Fuzz(func(t *testing.T, method, path, rawQuery, value, token string, expires int64) {
		query, err := ParseQuery(rawQuery)
		if err != nil || expires < 1 || expires > MaxExpires {
			return
		}
		r := Request{
			Method: method, Path: path, Query: query,
			Header:        []Header{{"Host", "b.s3.amazonaws.com"}, {"X-Amz-Meta-V", value}},
			SignedHeaders: []string{"host", "x-amz-meta-v"},
			PayloadHash:   UnsignedPayload,
		}
		checkPresign(t, r, &QueryAuth{Key: k, Time: at, Expires: expires, SecurityToken: token})
	})
}

// TestPresignErrors checks that Presign refuses an X-Amz-Expires out of
// range, a time off the key's date and a request AppendCanonical refuses,
// leaving dst as it was.
func TestPresignErrors(t *testing.T) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128", "eu-west-1", "s3")
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	good := Request{Method: "GET", Path: "/k", Header: []Header{{"Host", "h"}}, SignedHeaders: []string{"host"}, PayloadHash: UnsignedPayload}
	bad := good
	bad.Method = "G T"
	for _, tc := range []struct {
		name string
		r    Request
		auth QueryAuth
		want string
	}{
		{"zero expires", good, QueryAuth{Key: k, Time: at, Expires: 0}, "X-Amz-Expires 0"},
		{"eight days", good, QueryAuth{Key: k, Time: at, Expires: MaxExpires + 1}, "X-Amz-Expires 604801"},
		{"next day", good, QueryAuth{Key: k, Time: at.Add(12 * time.Hour), Expires: 60}, "not on the credential date"},
		{"bad method", bad, QueryAuth{Key: k, Time: at, Expires: 60}, "not an HTTP token"},
		{"authentication parameter", withQuery(good, Param{"X-Amz-Date", "20261128T120000Z"}), QueryAuth{Key: k, Time: at, Expires: 60}, "holds X-Amz-Date"},
		{"signature parameter", withQuery(good, Param{"X-Amz-Signature", "0"}), QueryAuth{Key: k, Time: at, Expires: 60}, "holds X-Amz-Signature"},
	} {
		dst := make([]byte, 3, 4096)
		copy(dst, "abc")
		_, err := tc.r.Presign(dst, &tc.auth)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
		if string(dst) != "abc" {
			t.Errorf("%s: dst = %q", tc.name, dst)
		}
	}
}

func withQuery(r Request, params ...Param) Request {
	r.Query = params
	return r
}

// TestSignCanonicalRequestConcurrent signs different canonical requests
// with one key from many goroutines, which share its pool of MAC states,
// and checks every signature against Signature with the derived key.
func TestSignCanonicalRequestConcurrent(t *testing.T) {
	const secret, date = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128"
	k := NewKey("AKIAIOSFODNN7EXAMPLE", secret, date, "eu-west-1", "s3")
	signing := DeriveKey(secret, date, "eu-west-1", "s3")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				creq := fmt.Appendf(nil, "GET\n/%d/%d\n\nhost:h\n\nhost\n%s", g, i, strings.Repeat("x", i))
				amzDate := fmt.Sprintf("%sT%02d0000Z", date, i%24)
				got := k.SignCanonicalRequest(amzDate, creq)
				if want := Signature(signing, AppendStringToSign(nil, amzDate, k.Scope(), creq)); got != want {
					t.Errorf("goroutine %d, request %d: signature %s, want %s", g, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestPresignAllocations checks that a warm key signs without allocating,
// and that Presign allocates nothing either when dst has room.
func TestPresignAllocations(t *testing.T) {
	if testutil.Race {
		t.Skip("the race detector allocates")
	}
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128", "eu-west-1", "s3")
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := Request{
		Method: "PUT", Path: "/users/user-10/avatar.png",
		Header:        []Header{{"host", "acme-user-uploads.s3.eu-west-1.amazonaws.com"}, {"Content-Type", "image/png"}, {"Content-Length", "1048576"}, {"x-amz-meta-uploader", "user-10"}},
		SignedHeaders: []string{"content-length", "content-type", "host", "x-amz-meta-uploader"},
		PayloadHash:   UnsignedPayload,
	}
	auth := &QueryAuth{Key: k, Time: at, Expires: 900, SecurityToken: strings.Repeat("FQoGZXIvYXdzEXAMPLETOKEN", 15)}
	buf := make([]byte, 0, 2048)
	presign := func() {
		if _, err := r.Presign(buf, auth); err != nil {
			t.Fatal(err)
		}
	}
	presign() // the key's pool
	if n := testing.AllocsPerRun(100, presign); n != 0 {
		t.Errorf("Presign allocated %v times, want 0", n)
	}
	creq := []byte("GET\n/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD")
	if n := testing.AllocsPerRun(100, func() { k.SignCanonicalRequest("20261128T120000Z", creq) }); n != 0 {
		t.Errorf("SignCanonicalRequest allocated %v times, want 0", n)
	}
}

// trimAllReference is appendHeaderValue as first written, byte by byte:
// the reference of FuzzHeaderValue.
func trimAllReference(dst []byte, v string) ([]byte, bool) {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return dst, false
		}
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst, true
}

// FuzzHeaderValue checks appendHeaderValue, which appends in pieces,
// against the byte-by-byte reference.
func FuzzHeaderValue(f *testing.F) {
	for _, v := range []string{"", " ", "a", "  a  b   c  ", "\t a \t b \t", "a\tb", "ü  é", "a\nb", "a\x7f", "  \t  "} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, gotOK := appendHeaderValue([]byte("x:"), v)
		want, wantOK := trimAllReference([]byte("x:"), v)
		if gotOK != wantOK || gotOK && string(got) != string(want) {
			t.Errorf("appendHeaderValue(%q) = %q, %v; want %q, %v", v, got, gotOK, want, wantOK)
		}
	})
}

// BenchmarkPresign presigns a PUT with three signed headers and a session
// token, as a presigner does for every URL, into a reused buffer.
func BenchmarkPresign(b *testing.B) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261128", "eu-west-1", "s3")
	r := Request{
		Method: "PUT", Path: "/users/user-10/avatar.png",
		Header:        []Header{{"host", "acme-user-uploads.s3.eu-west-1.amazonaws.com"}, {"Content-Type", "image/png"}, {"Content-Length", "1048576"}, {"x-amz-meta-uploader", "user-10"}},
		SignedHeaders: []string{"content-length", "content-type", "host", "x-amz-meta-uploader"},
		PayloadHash:   UnsignedPayload,
	}
	auth := &QueryAuth{Key: k, Time: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), Expires: 900, SecurityToken: strings.Repeat("FQoGZXIvYXdzEXAMPLETOKEN", 15)}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Presign(buf, auth); err != nil {
			b.Fatal(err)
		}
	}
}
