package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/receiver"
)

// TestServeLoad sends many concurrent uploads of mixed sizes, valid and
// invalid, to serve (its HTTP server, receiver and disk store, in a
// temporary directory) over loopback, and checks that every valid upload
// is stored intact (read back, SHA-256 compared), every invalid one is
// refused with its S3 code, none is lost (sent = stored + refused) and
// nothing else is on disk. It reports uploads per second and the peak
// memory of the process (client and server both run in it).
//
// The forms are signed inside the uploading goroutines, by one Signer, so
// that signing is concurrent too; TestSignConcurrent in the library's
// signer_test.go checks the Signer's answers under contention.
//
// The normal run sends 200 uploads, all at once. The full configuration
// sends more, 200 at a time:
//
//	POSTPOLICY_LOAD=2000 go test -run TestServeLoad -v ./cmd/postpolicy
//
// (add -race to run it under the race detector, several times slower).
func TestServeLoad(t *testing.T) {
	total, concurrency := 200, 200
	if v := os.Getenv("POSTPOLICY_LOAD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("POSTPOLICY_LOAD=%q: want a number of uploads", v)
		}
		total = n
	}
	concurrency = min(concurrency, total)
	const maxSize = 1 << 20
	// Every upload at once: -max-uploads as many, and quotas that hold
	// them all, stored (at most 1 MiB each) and in flight (the bytes an
	// upload has sent count until it is refused) together.
	s := startLiveServe(t, serveLimits{}, "-max-size", "1MiB", "-max-uploads", strconv.Itoa(concurrency),
		"-user-quota", strconv.Itoa(2*total)+"MiB", "-data-quota", strconv.Itoa(2*total)+"MiB")

	// The content of every upload is a slice of one random buffer, at an
	// offset of its own.
	pool := make([]byte, 2*maxSize+512<<10)
	rand.NewChaCha8([32]byte{'l', 'o', 'a', 'd'}).Read(pool)
	content := func(i, size int) []byte {
		off := (i * 7919) % (len(pool) - size)
		return pool[off : off+size]
	}
	sizes := []int{3, 100, 1000, 10_000, 64 << 10, 256 << 10, 700 << 10, maxSize}

	type upload struct {
		kind    string
		key     string
		size    int
		status  int    // expected
		code    string // expected S3 code, "" for a stored upload
		got     int
		gotCode string
		err     error
	}
	ups := make([]upload, total)
	for i := range ups {
		u := &ups[i]
		u.key = fmt.Sprintf("users/load%d/f%d.png", i%25, i)
		u.size = sizes[i%len(sizes)]
		switch i % 12 {
		case 7:
			u.kind, u.size, u.status, u.code = "oversize", maxSize+1+i%(300<<10), 400, "EntityTooLarge"
		case 8:
			u.kind, u.status, u.code = "wrong type", 403, "AccessDenied"
		case 9:
			u.kind, u.status, u.code = "wrong prefix", 403, "AccessDenied"
		case 10:
			u.kind, u.status, u.code = "tampered signature", 403, "SignatureDoesNotMatch"
		case 11:
			u.kind, u.size, u.status, u.code = "empty", 0, 400, "EntityTooSmall"
		default:
			u.kind, u.status = "valid", 201
		}
	}

	tr := &http.Transport{MaxIdleConnsPerHost: concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	timeout := 2*time.Minute + time.Duration(total)*100*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	send := func(i int) {
		u := &ups[i]
		user, name, _ := strings.Cut(strings.TrimPrefix(u.key, "users/"), "/")
		form, err := s.uploads.Sign(ctx, user, exampleType(s.o.types[0]))
		if err != nil {
			u.err = err
			return
		}
		ct := "image/png"
		switch u.kind {
		case "wrong type":
			ct = "text/plain"
		case "wrong prefix":
			setField(form, "key", "users/someone-else/"+name)
		case "tampered signature":
			sig, _ := form.Get("x-amz-signature")
			setField(form, "x-amz-signature", sig[:63]+string("10"[sig[63]&1]))
		}
		// The body as a browser sends it, with its Content-Length; the
		// file streams from the pool.
		var pre bytes.Buffer
		mw := multipart.NewWriter(&pre)
		for _, f := range append(form.Fields, postpolicy.Field{Name: "Content-Type", Value: ct}) {
			mw.WriteField(f.Name, f.Value)
		}
		mw.CreateFormFile("file", name)
		var post bytes.Buffer // "\r\n--BOUNDARY--\r\n"
		mw2 := multipart.NewWriter(&post)
		mw2.SetBoundary(mw.Boundary())
		mw2.Close()
		file := content(i, u.size)
		body := io.MultiReader(bytes.NewReader(pre.Bytes()), bytes.NewReader(file), bytes.NewReader(post.Bytes()))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, form.URL, body)
		if err != nil {
			u.err = err
			return
		}
		req.ContentLength = int64(pre.Len() + len(file) + post.Len())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := client.Do(req)
		if err != nil {
			u.err = err
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		u.got, u.gotCode = resp.StatusCode, testutil.S3Code(string(b))
	}

	// Sample the heap while the uploads run; reset the process's peak RSS
	// first where the kernel allows it (Linux: clear_refs 5).
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	runtime.GC()
	var peakHeap, peakSys atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap.Store(max(peakHeap.Load(), ms.HeapInuse))
			peakSys.Store(max(peakSys.Load(), ms.Sys))
			select {
			case <-stopSampling:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()

	start := time.Now()
	begin := make(chan struct{})
	next := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			<-begin
			for i := range next {
				send(i)
			}
		})
	}
	close(begin)
	for i := range ups {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	rss := vmHWM()

	var stored, refused, lost, sentBytes int
	byKind := map[string]int{}
	var want []string
	for i := range ups {
		u := &ups[i]
		sentBytes += u.size
		switch {
		case u.err != nil:
			lost++
			if lost <= 5 {
				t.Errorf("upload %d (%s, %d bytes): %v", i, u.kind, u.size, u.err)
			}
		case u.got != u.status || u.gotCode != u.code:
			lost++
			if lost <= 5 {
				t.Errorf("upload %d (%s, %d bytes): %d %s, want %d %s", i, u.kind, u.size, u.got, u.gotCode, u.status, u.code)
			}
		case u.code == "":
			stored++
			want = append(want, u.key)
		default:
			refused++
		}
		byKind[u.kind]++
	}
	t.Logf("%d uploads (%v), %d at a time, %.1f MiB of files, in %v: %.0f uploads/s, %.1f MiB/s",
		total, byKind, concurrency, float64(sentBytes)/(1<<20), elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), float64(sentBytes)/(1<<20)/elapsed.Seconds())
	t.Logf("stored %d, refused %d, lost %d; peak heap in use %.1f MiB, peak Go memory from the OS %.1f MiB, peak RSS (VmHWM, client and server) %.1f MiB",
		stored, refused, lost, float64(peakHeap.Load())/(1<<20), float64(peakSys.Load())/(1<<20), float64(rss)/(1<<20))
	if stored+refused+lost != total || lost != 0 {
		t.Fatalf("sent %d = stored %d + refused %d + lost %d", total, stored, refused, lost)
	}

	// Every valid upload reads back intact; the store holds those and
	// nothing else, and no temporary file.
	var bad atomic.Int64
	idx := make(chan int)
	var rg sync.WaitGroup
	for range 16 {
		rg.Go(func() {
			for i := range idx {
				u := &ups[i]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/uploads/"+receiver.EscapeKey(u.key), nil)
				req.AddCookie(s.signIn(t, keyOwner(u.key)))
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					t.Errorf("GET %s: %v", u.key, err)
					continue
				}
				h := sha256.New()
				n, err := io.Copy(h, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || n != int64(u.size) || !bytes.Equal(h.Sum(nil), sha256Of(content(i, u.size))) {
					if bad.Add(1) <= 5 {
						t.Errorf("GET %s: %s, %d bytes (want %d), %v: not the content sent", u.key, resp.Status, n, u.size, err)
					}
				}
			}
		})
	}
	for i := range ups {
		if ups[i].code == "" {
			idx <- i
		}
	}
	close(idx)
	rg.Wait()
	keys, temps := storeState(t, s.data, "uploads")
	slices.Sort(want)
	if !slices.Equal(keys, want) || len(temps) != 0 {
		t.Errorf("the store holds %d objects (want the %d valid uploads) and temporary files %q", len(keys), len(want), temps)
	}
	if bad.Load() == 0 {
		t.Logf("read back all %d stored objects: each intact", len(want))
	}
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// vmHWM returns the process's peak resident set size in bytes, from
// /proc/self/status, or 0 where it is not available.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
