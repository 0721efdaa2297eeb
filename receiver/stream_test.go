package receiver_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/receiver"
)

// patternReader yields n bytes of a repeating 251-byte pattern (a prime
// period, so no power-of-two buffer boundary lines up with it) without
// allocating.
type patternReader struct{ n, off int64 }

var pattern = func() []byte {
	b := make([]byte, 251*256)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	n := copy(b, pattern[p.off%251:])
	p.off += int64(n)
	return n, nil
}

// streamedUpload returns a request whose body a goroutine writes as it is
// read: the signed form's fields, then a file of size bytes. Nothing of the
// file is ever held in memory by the writer.
func streamedUpload(t testing.TB, size int64) (*http.Request, *receiver.Verifier) {
	t.Helper()
	now := time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC)
	creds := postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	s := &postpolicy.Signer{Credentials: creds, Region: "us-east-1", Now: func() time.Time { return now }}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: now.Add(time.Hour),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket("big"),
			postpolicy.Key("big/${filename}"),
			postpolicy.ContentLengthRange(size, size),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range form.Fields {
			mw.WriteField(f.Name, f.Value)
		}
		fw, err := mw.CreateFormFile("file", "big.bin")
		if err == nil {
			_, err = io.Copy(fw, &patternReader{n: size})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req := httptest.NewRequest(http.MethodPost, form.URL, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	v := &receiver.Verifier{Lookup: receiver.StaticCredentials(creds), Region: "us-east-1", Now: func() time.Time { return now.Add(time.Minute) }}
	return req, v
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes,
// or -1 where /proc is not available.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// TestVerifyStreamsLargeUpload verifies a streamed upload of 1 GiB (64 MiB
// under the race detector, whose bookkeeping is slow) and
// checks that the heap never grows with it: a sampler records the largest
// live heap while the file streams, and the process's peak RSS is reported.
func TestVerifyStreamsLargeUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a large body; skipped in -short mode")
	}
	size := int64(1 << 30)
	if testutil.Race {
		size = 64 << 20
	}
	debug.FreeOSMemory()
	before := peakRSS()
	req, v := streamedUpload(t, size)

	done := make(chan struct{})
	peakHeap := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				peakHeap <- peak
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	start := time.Now()
	up, err := v.Verify(req, "big")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, up.File)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	heap := <-peakHeap
	if n != size || up.Key != "big/big.bin" {
		t.Fatalf("read %d bytes of key %q, want %d of big/big.bin", n, up.Key, size)
	}
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	if string(h.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatal("streamed content differs from what was sent")
	}
	after := peakRSS()
	t.Logf("verified %d MiB in %v (%.0f MiB/s); peak heap in use %.1f MiB; process peak RSS %.1f MiB (%.1f MiB before)",
		size>>20, elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds(), float64(heap)/(1<<20), float64(after)/(1<<20), float64(before)/(1<<20))
	if heap > 24<<20 {
		t.Errorf("peak heap in use %d bytes while streaming: memory grows with the file", heap)
	}
}

func BenchmarkVerifyStream(b *testing.B) {
	for _, size := range []int64{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				req, v := streamedUpload(b, size)
				up, err := v.Verify(req, "big")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, up.File); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
