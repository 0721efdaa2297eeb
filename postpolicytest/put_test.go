package postpolicytest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/postpolicytest"
)

// TestPresignPut uploads through the Server by a presigned PUT from
// Signer.PresignPut, reads the object back, and sees S3's refusal of a
// PUT that sends another Content-Type than the signed one.
func TestPresignPut(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	p, err := srv.Signer().PresignPut(t.Context(), postpolicy.Policy{Expiration: time.Now().Add(5 * time.Minute), Conditions: []postpolicy.Condition{
		postpolicy.Bucket("uploads"), postpolicy.Key("user-42/hello.txt"), postpolicy.ContentType("text/plain"), postpolicy.Meta("user", "42"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := postpolicytest.NewPresignedRequest(p, strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://page.example")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"`+md5Hello+`"` || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("PUT: %s, ETag %q, %v", resp.Status, resp.Header.Get("ETag"), resp.Header)
	}
	obj, ok := srv.Object("uploads", "user-42/hello.txt")
	if !ok || string(obj.Body) != "hello" || obj.ContentType != "text/plain" || len(obj.Metadata) != 1 || obj.Metadata[0].Value != "42" {
		t.Errorf("stored %+v", obj)
	}

	req, _ = postpolicytest.NewPresignedRequest(p, strings.NewReader("<script>"))
	req.Header.Set("Content-Type", "text/html")
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || s3Code(t, string(body)) != "SignatureDoesNotMatch" {
		t.Errorf("PUT of another Content-Type: %s %s", resp.Status, body)
	}
	if obj, _ := srv.Object("uploads", "user-42/hello.txt"); string(obj.Body) != "hello" {
		t.Errorf("the refused PUT replaced the object: %q", obj.Body)
	}

	// Read back by a presigned GET too.
	g, err := srv.Signer().PresignGet(t.Context(), "uploads", "user-42/hello.txt", time.Now().Add(time.Minute), &postpolicy.GetOptions{ResponseContentDisposition: "attachment"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = postpolicytest.NewPresignedRequest(g, nil)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hello" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("presigned GET: %s %q %v", resp.Status, body, resp.Header)
	}
}

// TestMultipartUpload runs a multipart upload against the Server, every
// call signed in its Authorization header by Signer.SignRequest, as a
// backend does: small parts (the Server's MinPartSize), the object read
// back with S3's multipart ETag.
func TestMultipartUpload(t *testing.T) {
	srv := postpolicytest.NewServer("uploads")
	defer srv.Close()
	signer := srv.Signer()
	call := func(method, query string, header map[string]string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/uploads/big/file.bin"+query, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if err := signer.SignRequest(t.Context(), req, postpolicy.PayloadHash(body)); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := call("POST", "?uploads", map[string]string{"Content-Type": "application/octet-stream"}, nil)
	var created struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &created); err != nil || resp.StatusCode != 200 || created.UploadID == "" {
		t.Fatalf("CreateMultipartUpload: %s %s", resp.Status, body)
	}
	parts := [][]byte{[]byte("first part, "), []byte("second part, "), []byte("last")}
	var list strings.Builder
	list.WriteString("<CompleteMultipartUpload>")
	var sums []byte
	for i, p := range parts {
		resp, body := call("PUT", fmt.Sprintf("?partNumber=%d&uploadId=%s", i+1, created.UploadID), nil, p)
		if resp.StatusCode != 200 {
			t.Fatalf("UploadPart %d: %s %s", i+1, resp.Status, body)
		}
		fmt.Fprintf(&list, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i+1, resp.Header.Get("ETag"))
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	list.WriteString("</CompleteMultipartUpload>")
	resp, body = call("POST", "?uploadId="+created.UploadID, nil, []byte(list.String()))
	all := md5.Sum(sums)
	want := hex.EncodeToString(all[:]) + "-3"
	if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
		t.Fatalf("CompleteMultipartUpload: %s %s", resp.Status, body)
	}
	obj, ok := srv.Object("uploads", "big/file.bin")
	if !ok || string(obj.Body) != "first part, second part, last" || obj.ETag != want || obj.ContentType != "application/octet-stream" {
		t.Errorf("stored %+v", obj)
	}
}
