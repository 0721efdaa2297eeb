//go:build linux

package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// This file measures the memory of a receiver.Handler taking a large
// multipart upload: the receiver runs in a child process (this test binary
// re-executed, see TestMain), so that its peak RSS is its own and not the
// client's; the client, in the test process, creates the upload, PUTs the
// parts to presigned URLs from a generated stream, completes it and reads
// the object back. See README.md, "Multipart upload memory".

// Environment of the receiver child: receiverStoreEnv, set, makes the
// test binary a receiver storing objects in that directory, its parts in
// receiverPartDirEnv (empty: in memory).
const (
	receiverStoreEnv   = "POSTPOLICY_MPMEM_STORE"
	receiverPartDirEnv = "POSTPOLICY_MPMEM_PARTDIR"
	// mpDiskMiBEnv overrides the size, in MiB, of BenchmarkMultipartMemory's
	// upload with parts on disk (default 2048).
	mpDiskMiBEnv = "POSTPOLICY_MPMEM_MIB"
)

// memPath is where the receiver child answers its memory figures (a
// receiverMem as JSON; with the query "gc", after a collection, with
// Live). "-" is no bucket name, so it is no S3 request.
const memPath = "/-/mem"

const (
	mpKey      = "uploads/user-42/film.bin"
	mpPartSize = 64 << 20
	// mpBound is the claim: a receiver with PartDir takes a 2 GiB upload
	// in less than this peak RSS.
	mpBound = 64 << 20
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(receiverStoreEnv); dir != "" {
		if err := runReceiver(dir, os.Getenv(receiverPartDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "receiver:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// receiverMem is the receiver child's memory, in bytes.
type receiverMem struct {
	HWM       uint64 // VmHWM: peak resident set size of the process
	RSS       uint64 // VmRSS: resident set size now
	HeapSys   uint64 // MemStats.HeapSys: heap memory obtained from the OS
	Sys       uint64 // MemStats.Sys: all memory obtained from the OS
	PeakHeap  uint64 // largest MemStats.HeapInuse seen, sampled every millisecond
	HeapInuse uint64 // MemStats.HeapInuse now
	NumGC     uint32 // MemStats.NumGC: garbage collections so far
	// Live is MemStats.HeapAlloc after a runtime.GC, the heap still
	// reachable; set only when asked for (GET memPath?gc).
	Live uint64
}

// runReceiver serves a receiver.Handler on a loopback port, with a
// fileStore in storeDir and parts in partDir, prints its address on
// stdout and serves until stdin is closed.
func runReceiver(storeDir, partDir string) error {
	var peakHeap atomic.Uint64
	go sampleHeap(&peakHeap)
	h := &receiver.Handler{
		Verifier: &receiver.Verifier{Lookup: receiver.StaticCredentials(mpCredentials), Region: region},
		Store:    &fileStore{dir: storeDir},
		Buckets:  []string{bucket},
		PartDir:  partDir,
		ErrorLog: func(r *http.Request, err error) { fmt.Fprintf(os.Stderr, "%s %s: %v\n", r.Method, r.URL, err) },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		ReadHeaderTimeout: time.Minute,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != memPath {
				h.ServeHTTP(w, r)
				return
			}
			m, err := readMem(&peakHeap, r.URL.Query().Has("gc"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(m)
		}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes it, or exits
	srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sampleHeap keeps in peak the largest heap in use (objects and the free
// space of their spans, MemStats.HeapInuse), read every millisecond.
func sampleHeap(peak *atomic.Uint64) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	for range time.Tick(time.Millisecond) {
		metrics.Read(samples)
		if v := samples[0].Value.Uint64() + samples[1].Value.Uint64(); v > peak.Load() {
			peak.Store(v)
		}
	}
}

func readMem(peakHeap *atomic.Uint64, gc bool) (receiverMem, error) {
	var m receiverMem
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return m, err
	}
	for line := range strings.Lines(string(status)) {
		name, value, _ := strings.Cut(line, ":")
		var dst *uint64
		switch name {
		case "VmHWM":
			dst = &m.HWM
		case "VmRSS":
			dst = &m.RSS
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/self/status: %q: %v", line, err)
		}
		*dst = kb << 10
	}
	if m.HWM == 0 || m.RSS == 0 {
		return m, errors.New("/proc/self/status has no VmHWM or VmRSS")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapSys, m.Sys, m.HeapInuse, m.NumGC = ms.HeapSys, ms.Sys, ms.HeapInuse, ms.NumGC
	m.PeakHeap = max(peakHeap.Load(), ms.HeapInuse)
	if gc {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		m.Live = ms.HeapAlloc
	}
	return m, nil
}

// fileStore is a receiver.Store keeping each object in a file of dir
// (named by a hash of its bucket and key) and the objects' ObjectInfo in
// memory. Put streams the content to a temporary file of dir and renames
// it over the object's once the body has been read to its end; Get opens
// the file. It does not sync: durability is not what is measured.
type fileStore struct {
	dir   string
	mu    sync.Mutex
	infos map[string]receiver.ObjectInfo // by file name
}

func (s *fileStore) name(bucket, key string) string {
	sum := sha256.Sum256([]byte(bucket + "/" + key))
	return hex.EncodeToString(sum[:16])
}

func (s *fileStore) Put(_ context.Context, bucket, key string, info receiver.ObjectInfo, body io.Reader) (receiver.ObjectInfo, error) {
	f, err := os.CreateTemp(s.dir, "put-*")
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	var w io.Writer = f
	var sum hash.Hash
	if info.ETag == "" {
		sum = md5.New()
		w = io.MultiWriter(f, sum)
	}
	n, err := io.Copy(w, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return receiver.ObjectInfo{}, err
	}
	if sum != nil {
		info.ETag = hex.EncodeToString(sum.Sum(nil))
	}
	info.Size = n
	info.LastModified = time.Now().UTC().Truncate(time.Second)
	name := s.name(bucket, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(f.Name(), filepath.Join(s.dir, name)); err != nil {
		os.Remove(f.Name())
		return receiver.ObjectInfo{}, err
	}
	if s.infos == nil {
		s.infos = make(map[string]receiver.ObjectInfo)
	}
	s.infos[name] = info
	return info, nil
}

func (s *fileStore) Get(_ context.Context, bucket, key string) (receiver.ObjectInfo, io.ReadCloser, error) {
	name := s.name(bucket, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.infos[name]
	if !ok {
		return receiver.ObjectInfo{}, nil, receiver.ErrNoSuchKey
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return receiver.ObjectInfo{}, nil, err
	}
	return info, f, nil
}

// mpCredentials are the scenario's temporary credentials.
var mpCredentials = postpolicy.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken}

// stream reads bytes [off, end) of an endless deterministic stream: the
// little-endian 64-bit words splitmix64(i) for i = 0, 1, … Every byte is a
// function of its offset, so a part can start anywhere, and no two parts
// are alike (a part sent twice, or in the wrong place, changes the
// object's SHA-256).
type stream struct{ off, end int64 }

func splitmix64(i uint64) uint64 {
	z := (i + 1) * 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (s *stream) Read(p []byte) (int, error) {
	if s.off >= s.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.end-s.off)]
	n := 0
	for n < len(p) {
		pos := s.off + int64(n)
		w := splitmix64(uint64(pos / 8))
		if pos%8 == 0 && len(p)-n >= 8 {
			binary.LittleEndian.PutUint64(p[n:], w)
			n += 8
			continue
		}
		var word [8]byte
		binary.LittleEndian.PutUint64(word[:], w)
		n += copy(p[n:], word[pos%8:])
	}
	s.off += int64(n)
	return n, nil
}

// mpResult is what one multipart upload through a receiver child measured.
type mpResult struct {
	size                 int64
	idle, complete, end  receiverMem // before the upload, after Complete, after reading back
	live                 uint64      // the heap reachable at the end, after a GC
	upload, finish, read time.Duration
}

// uploadMiBps is the throughput of the upload: the parts' PUTs and the
// Complete that streams them into the Store.
func (r mpResult) uploadMiBps() float64 {
	return float64(r.size) / (1 << 20) / (r.upload + r.finish).Seconds()
}

func (r mpResult) readMiBps() float64 { return float64(r.size) / (1 << 20) / r.read.Seconds() }

// checkDiskSpace skips tb when the file system of dir has less than need
// bytes free.
func checkDiskSpace(tb testing.TB, dir string, need int64) {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		tb.Fatal(err)
	}
	if free := int64(st.Bavail) * st.Bsize; free < need {
		tb.Skipf("%s has %d MiB free; this upload needs %d MiB", dir, free>>20, need>>20)
	}
}

// runMultipartUpload starts a receiver child, with its parts in a
// directory when onDisk (else in memory) and a fileStore, both in a new
// directory of tb.TempDir(), uploads size bytes of the stream in parts of
// partSize, completes the upload, reads the object back and checks its
// SHA-256 and ETag, checks that no part file is left, and returns the
// child's memory and the times taken. It removes the directory before it
// returns.
func runMultipartUpload(tb testing.TB, size, partSize int64, onDisk bool) mpResult {
	tb.Helper()
	dir, err := os.MkdirTemp(tb.TempDir(), "mp-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	need := size + 64<<20
	if onDisk {
		need += size // the parts and the object, until the Complete deletes the parts
	}
	checkDiskSpace(tb, dir, need)
	storeDir, partDir := filepath.Join(dir, "store"), ""
	if err := os.Mkdir(storeDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if onDisk {
		partDir = filepath.Join(dir, "parts")
		if err := os.Mkdir(partDir, 0o755); err != nil {
			tb.Fatal(err)
		}
	}

	c := startReceiver(tb, storeDir, partDir)
	defer c.stop(tb)
	ctx := tb.Context()
	res := mpResult{size: size}
	res.idle = c.mem(tb, "")

	// CreateMultipartUpload, signed in its Authorization header as a
	// backend signs it.
	resp, body := c.signed(tb, http.MethodPost, "?uploads", nil)
	var created struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &created); err != nil || resp.StatusCode != http.StatusOK || created.UploadID == "" {
		tb.Fatalf("CreateMultipartUpload: %s %s", resp.Status, body)
	}

	// The parts, one after the other, each PUT to its presigned URL as a
	// browser does, its bytes generated as they are sent and hashed.
	sent := sha256.New()
	var list bytes.Buffer
	list.WriteString("<CompleteMultipartUpload>")
	var partMD5s []byte
	start := time.Now()
	for n, off := 1, int64(0); off < size; n, off = n+1, off+partSize {
		sz := min(partSize, size-off)
		p, err := c.signer.PresignUploadPart(ctx, bucket, mpKey, created.UploadID, n, sz, time.Now().Add(time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, io.NopCloser(io.TeeReader(&stream{off: off, end: off + sz}, sent)))
		if err != nil {
			tb.Fatal(err)
		}
		req.ContentLength = sz
		for _, h := range p.Header {
			if !strings.EqualFold(h.Name, "Content-Length") {
				req.Header.Set(h.Name, h.Value)
			}
		}
		resp, body := c.do(tb, req)
		etag := resp.Header.Get("ETag")
		sum, err := hex.DecodeString(strings.Trim(etag, `"`))
		if resp.StatusCode != http.StatusOK || err != nil || len(sum) != md5.Size {
			tb.Fatalf("UploadPart %d: %s, ETag %q: %s", n, resp.Status, etag, body)
		}
		partMD5s = append(partMD5s, sum...)
		fmt.Fprintf(&list, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, etag)
	}
	res.upload = time.Since(start)
	list.WriteString("</CompleteMultipartUpload>")
	nparts := len(partMD5s) / md5.Size

	// CompleteMultipartUpload: the receiver streams the parts into the
	// Store.
	start = time.Now()
	resp, body = c.signed(tb, http.MethodPost, "?uploadId="+created.UploadID, list.Bytes())
	res.finish = time.Since(start)
	var completed struct {
		ETag string `xml:"ETag"`
	}
	wantETag := fmt.Sprintf(`"%x-%d"`, md5.Sum(partMD5s), nparts)
	if err := xml.Unmarshal(body, &completed); err != nil || resp.StatusCode != http.StatusOK || completed.ETag != wantETag {
		tb.Fatalf("CompleteMultipartUpload: %s %s (want ETag %s)", resp.Status, body, wantETag)
	}
	res.complete = c.mem(tb, "")

	// Read the object back with a presigned GET and compare its SHA-256
	// with the one computed while sending.
	g, err := c.signer.PresignGet(ctx, bucket, mpKey, time.Now().Add(time.Hour), nil)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, g.Method, g.URL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	start = time.Now()
	resp, err = c.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	res.read = time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK || n != size {
		tb.Fatalf("GET: %s, read %d bytes of %d: %v", resp.Status, n, size, err)
	}
	if resp.Header.Get("ETag") != wantETag {
		tb.Errorf("GET: ETag %s, want %s", resp.Header.Get("ETag"), wantETag)
	}
	if g, s := got.Sum(nil), sent.Sum(nil); !bytes.Equal(g, s) {
		tb.Fatalf("the stored object's SHA-256 is %x, the upload's %x", g, s)
	}
	res.end = c.mem(tb, "")
	res.live = c.mem(tb, "?gc").Live

	// The Complete deleted the parts; the store holds the object alone.
	if onDisk {
		if left, err := os.ReadDir(partDir); err != nil || len(left) != 0 {
			tb.Errorf("PartDir after the Complete: %d entries (%v)", len(left), err)
		}
	}
	if files, err := os.ReadDir(storeDir); err != nil || len(files) != 1 {
		tb.Errorf("store: %d files, want 1 (%v)", len(files), err)
	}
	return res
}

// receiverChild is a running receiver child and its client.
type receiverChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr *bytes.Buffer
	base   string // http://127.0.0.1:PORT
	client *http.Client
	signer *postpolicy.Signer
	done   bool
}

func startReceiver(tb testing.TB, storeDir, partDir string) *receiverChild {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), receiverStoreEnv+"="+storeDir, receiverPartDirEnv+"="+partDir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	c := &receiverChild{cmd: cmd, stdin: stdin, stderr: new(bytes.Buffer)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		c.stop(tb)
		tb.Fatalf("the receiver did not start: %v", err)
	}
	c.base = "http://" + strings.TrimSpace(addr)
	c.client = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	c.signer = &postpolicy.Signer{Credentials: mpCredentials, Region: region, Endpoint: c.base, URLStyle: postpolicy.URLStylePath}
	return c
}

// stop closes the child's stdin, which ends it, and waits for it.
func (c *receiverChild) stop(tb testing.TB) {
	if c.done {
		return
	}
	c.done = true
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		tb.Errorf("receiver: %v\n%s", err, c.stderr)
	} else if c.stderr.Len() > 0 {
		tb.Errorf("receiver's errors:\n%s", c.stderr)
	}
}

func (c *receiverChild) do(tb testing.TB, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	resp, err := c.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

// signed sends a request about mpKey, query appended to its URL, signed in
// its Authorization header with its body's SHA-256.
func (c *receiverChild) signed(tb testing.TB, method, query string, body []byte) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, c.base+"/"+bucket+"/"+mpKey+query, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body == nil {
		req.Header.Set("Content-Type", "application/octet-stream") // the object's
	}
	if err := c.signer.SignRequest(tb.Context(), req, postpolicy.PayloadHash(body)); err != nil {
		tb.Fatal(err)
	}
	return c.do(tb, req)
}

// mem returns the child's memory; query "?gc" has it collect first and
// report its live heap.
func (c *receiverChild) mem(tb testing.TB, query string) receiverMem {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, c.base+memPath+query, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, body := c.do(tb, req)
	var m receiverMem
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s: %s %s (%v)", memPath, resp.Status, body, err)
	}
	return m
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func logResult(tb testing.TB, r mpResult) {
	tb.Helper()
	tb.Logf("%d MiB: receiver RSS idle %.1f MiB, peak %.1f MiB after Complete, %.1f MiB after reading back; peak heap in use %.1f MiB; HeapSys %.1f MiB, Sys %.1f MiB; %d GCs; live heap at the end %.2f MiB",
		r.size>>20, mib(r.idle.RSS), mib(r.complete.HWM), mib(r.end.HWM), mib(r.end.PeakHeap), mib(r.end.HeapSys), mib(r.end.Sys), r.end.NumGC, mib(r.live))
	tb.Logf("parts %v, Complete %v: %.0f MiB/s; read back %v: %.0f MiB/s", r.upload.Round(time.Millisecond), r.finish.Round(time.Millisecond), r.uploadMiBps(), r.read.Round(time.Millisecond), r.readMiBps())
}

// BenchmarkMultipartMemory uploads 2 GiB (POSTPOLICY_MPMEM_MIB MiB) in
// 64 MiB parts to a receiver child with PartDir, and, for contrast,
// 256 MiB to one keeping the parts in memory, and reports the child's
// peak RSS (VmHWM, over the whole run: idle, parts, Complete, read back),
// its idle RSS, its peak heap in use, its HeapSys and Sys at the end, and
// the throughput of the upload (parts and Complete) and of the read.
// Every op starts a new child; with several ops, the largest figures and
// the mean throughput are reported. Run it with -benchtime 1x.
func BenchmarkMultipartMemory(b *testing.B) {
	diskSize := int64(2048 << 20)
	if s := os.Getenv(mpDiskMiBEnv); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q is not a positive number of MiB", mpDiskMiBEnv, s)
		}
		diskSize = n << 20
	}
	for _, c := range []struct {
		parts string
		size  int64
	}{{"disk", diskSize}, {"memory", 256 << 20}} {
		b.Run(fmt.Sprintf("parts=%s/size=%dMiB", c.parts, c.size>>20), func(b *testing.B) {
			var peak, idle, heap, heapSys, sys uint64
			var up, read time.Duration
			ops := 0
			for b.Loop() {
				r := runMultipartUpload(b, c.size, mpPartSize, c.parts == "disk")
				logResult(b, r)
				peak, idle, heap = max(peak, r.end.HWM), max(idle, r.idle.RSS), max(heap, r.end.PeakHeap)
				heapSys, sys = max(heapSys, r.end.HeapSys), max(sys, r.end.Sys)
				up += r.upload + r.finish
				read += r.read
				ops++
			}
			if c.parts == "disk" && peak >= mpBound {
				b.Errorf("peak RSS %.1f MiB with parts on disk, want under %d MiB", mib(peak), mpBound>>20)
			}
			total := float64(c.size) * float64(ops) / (1 << 20)
			b.ReportMetric(mib(peak), "peak-RSS-MiB")
			b.ReportMetric(mib(idle), "idle-RSS-MiB")
			b.ReportMetric(mib(heap), "peak-heap-MiB")
			b.ReportMetric(mib(heapSys), "heap-sys-MiB")
			b.ReportMetric(mib(sys), "sys-MiB")
			b.ReportMetric(total/up.Seconds(), "MiB/s")
			b.ReportMetric(total/read.Seconds(), "read-MiB/s")
		})
	}
}

// TestMultipartMemory is the claim's check at a size CI can afford: a
// receiver child with PartDir takes a 256 MiB upload in 64 MiB parts with
// a peak RSS under mpBound, and growing by at most the same share of the
// upload's size as mpBound is of 2 GiB (8 MiB) over its idle RSS. As a
// control of the measurement, a child keeping the parts in memory must
// grow by at least the 128 MiB it is sent. BenchmarkMultipartMemory
// measures 2 GiB. Skipped with -short.
func TestMultipartMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 384 MiB through loopback; skipped with -short")
	}
	const size = 256 << 20
	r := runMultipartUpload(t, size, mpPartSize, true)
	logResult(t, r)
	growth := int64(r.end.HWM) - int64(r.idle.RSS)
	if limit := int64(mpBound) * size / (2048 << 20); r.end.HWM >= mpBound || growth > limit {
		t.Errorf("parts on disk: peak RSS %.1f MiB, %.1f MiB over idle; want under %d MiB and at most %d MiB over idle",
			mib(r.end.HWM), float64(growth)/(1<<20), mpBound>>20, limit>>20)
	}

	const memSize = 128 << 20
	r = runMultipartUpload(t, memSize, mpPartSize, false)
	logResult(t, r)
	if growth := int64(r.complete.HWM) - int64(r.idle.RSS); growth < memSize {
		t.Errorf("parts in memory: peak RSS %.1f MiB, only %.1f MiB over idle for %d MiB of parts: the measurement misses them",
			mib(r.complete.HWM), float64(growth)/(1<<20), memSize>>20)
	}
}

// TestStream: the stream's bytes depend on their offset only, however it
// is read.
func TestStream(t *testing.T) {
	const n = 1000
	whole, err := io.ReadAll(&stream{end: n})
	if err != nil || len(whole) != n {
		t.Fatalf("read %d bytes: %v", len(whole), err)
	}
	for _, cut := range []int64{1, 7, 8, 13, 512, 999} {
		a, _ := io.ReadAll(&stream{end: cut})
		var b bytes.Buffer
		buf := make([]byte, 5)
		if _, err := io.CopyBuffer(struct{ io.Writer }{&b}, struct{ io.Reader }{&stream{off: cut, end: n}}, buf); err != nil {
			t.Fatal(err)
		}
		if got := append(a, b.Bytes()...); !bytes.Equal(got, whole) {
			t.Errorf("cut at %d: the bytes differ", cut)
		}
	}
	if bytes.Equal(whole[:64], whole[64:128]) {
		t.Error("the stream repeats")
	}
}
