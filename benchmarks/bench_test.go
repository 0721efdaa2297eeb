package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// roundOrder returns impls rotated by one place per round after the first,
// the round number being POSTPOLICY_BENCH_ROUND (set by scripts/run.sh), so
// that across rounds no implementation always runs first or right after the
// same other one. Round 1, and a run without the variable, keep the table's
// order, which benchstat then shows.
func roundOrder() []impl { return rotated(impls) }

// rotated returns s rotated by one place per round after the first, as
// roundOrder does for impls.
func rotated[T any](s []T) []T {
	r, _ := strconv.Atoi(os.Getenv("POSTPOLICY_BENCH_ROUND"))
	k := max(r-1, 0) % len(s)
	return append(s[k:len(s):len(s)], s[:k]...)
}

// checkNoRequests fails b if an implementation's transport (nil when it
// has none) saw a request.
func checkNoRequests(b *testing.B, rt *failingTransport) {
	if rt != nil {
		if n := rt.requests.Load(); n != 0 {
			b.Fatalf("the implementation made %d HTTP requests", n)
		}
	}
}

// BenchmarkSign measures one fresh signature of a freshly built policy per
// op, for a different user each op, on one goroutine.
func BenchmarkSign(b *testing.B) {
	for _, im := range roundOrder() {
		b.Run("impl="+im.name, func(b *testing.B) {
			inst, err := im.start()
			if err != nil {
				b.Fatal(err)
			}
			w := inst.newWorker()
			if err := w.sign(testUser); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := w.sign(userIDs[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(userIDs) {
					i = 0
				}
			}
			checkNoRequests(b, inst.transport)
		})
	}
}

// BenchmarkSignParallel measures signatures from GOMAXPROCS goroutines
// sharing one started implementation (one Signer, one client), each with its
// own worker, and reports the throughput in signatures per second.
func BenchmarkSignParallel(b *testing.B) {
	for _, im := range roundOrder() {
		b.Run("impl="+im.name, func(b *testing.B) {
			inst, err := im.start()
			if err != nil {
				b.Fatal(err)
			}
			if err := inst.newWorker().sign(testUser); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := inst.newWorker()
				i := 0
				for pb.Next() {
					if err := w.sign(userIDs[i]); err != nil {
						b.Error(err)
						return
					}
					if i++; i == len(userIDs) {
						i = 0
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
			checkNoRequests(b, inst.transport)
		})
	}
}

// BenchmarkVerify measures receiver.Verifier on a streamed upload of a
// 1 MiB and a 100 MiB file: a goroutine writes the multipart body (the
// form's fields, then the file) into an io.Pipe as the Verifier reads it,
// and the verified file is read to its end. It reports MB/s of file and the
// peak heap in use while it ran, sampled every millisecond.
func BenchmarkVerify(b *testing.B) {
	for _, size := range []int64{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("size=%dMiB", size>>20), func(b *testing.B) {
			fields, v := verifyFixture(b, size)
			b.SetBytes(size)
			b.ReportAllocs()
			sampler := startHeapSampler()
			for b.Loop() {
				if err := postStreamed(fields, v, size); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sampler.stop())/(1<<20), "peak-heap-MiB")
		})
	}
}

// verifyFixture signs the scenario's policy, with a content-length-range
// that admits exactly size bytes, and returns the fields a browser sends
// before the file and a Verifier that accepts them.
func verifyFixture(b *testing.B, size int64) ([]postpolicy.Field, *receiver.Verifier) {
	b.Helper()
	creds := postpolicy.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken}
	s := &postpolicy.Signer{Credentials: creds, Region: region, Now: fixedClock}
	form, err := s.Sign(context.Background(), postpolicy.Policy{
		Expiration: signingTime.Add(expiresIn),
		Conditions: []postpolicy.Condition{
			postpolicy.Bucket(bucket),
			postpolicy.Key(keyPrefix(testUser) + "${filename}"),
			postpolicy.ContentLengthRange(size, size),
			postpolicy.ContentTypePrefix(contentTypePfx),
			postpolicy.SuccessActionStatus(201),
			postpolicy.Meta("uploader", testUser),
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	fields := append(form.Fields, postpolicy.Field{Name: "Content-Type", Value: contentTypePfx + "png"})
	v := &receiver.Verifier{
		Lookup: receiver.StaticCredentials(creds),
		Region: region,
		Now:    func() time.Time { return signingTime.Add(time.Minute) },
	}
	return fields, v
}

// postStreamed posts fields and a file of size bytes through an io.Pipe to
// v and reads the verified file to its end.
func postStreamed(fields []postpolicy.Field, v *receiver.Verifier, size int64) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	contentType := mw.FormDataContentType()
	written := make(chan error, 1)
	go func() {
		err := writeUpload(mw, fields, size)
		pw.CloseWithError(err)
		written <- err
	}()
	req, err := http.NewRequest(http.MethodPost, "https://"+bucket+".s3."+region+".amazonaws.com/", pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	up, err := v.Verify(req, bucket)
	var n int64
	if err == nil {
		n, err = io.Copy(io.Discard, up.File)
	}
	// The writer may still be writing the closing boundary, which the
	// Verifier does not read.
	pr.Close()
	if werr := <-written; werr != nil && !errors.Is(werr, io.ErrClosedPipe) && err == nil {
		err = werr
	}
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes of the file, want %d", n, size)
	}
	return err
}

func writeUpload(mw *multipart.Writer, fields []postpolicy.Field, size int64) error {
	for _, f := range fields {
		if err := mw.WriteField(f.Name, f.Value); err != nil {
			return err
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.png")
	if err != nil {
		return err
	}
	if _, err := (&patternFile{n: size}).WriteTo(fw); err != nil {
		return err
	}
	return mw.Close()
}

// patternFile is a file of n bytes of a fixed pattern, written in 64 KiB
// chunks without allocating.
type patternFile struct{ n int64 }

var patternChunk = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

func (p *patternFile) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for total < p.n {
		chunk := patternChunk[:min(int64(len(patternChunk)), p.n-total)]
		n, err := w.Write(chunk)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// heapSampler records the largest heap in use (live and not yet swept
// objects plus the free space in their spans: MemStats.HeapInuse) seen
// while it runs.
type heapSampler struct {
	done chan struct{}
	peak chan uint64
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{}), peak: make(chan uint64, 1)}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	var ready sync.WaitGroup
	ready.Add(1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var peak uint64
		sample := func() {
			metrics.Read(samples)
			peak = max(peak, samples[0].Value.Uint64()+samples[1].Value.Uint64())
		}
		sample()
		ready.Done()
		for {
			select {
			case <-s.done:
				sample()
				s.peak <- peak
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	ready.Wait()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.done)
	return <-s.peak
}
