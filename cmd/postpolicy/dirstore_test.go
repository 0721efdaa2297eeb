package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/internal/testutil"
	"github.com/postpolicy/postpolicy/receiver"
)

// openStore opens a dirStore on a fresh directory with the bucket
// "uploads", and returns it with its root.
func openStore(t *testing.T) (*dirStore, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "data")
	s, _, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func put(t *testing.T, s *dirStore, key, content string) receiver.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), "uploads", key, receiver.ObjectInfo{ContentType: "text/plain"}, strings.NewReader(content))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func get(t *testing.T, s *dirStore, key string) (receiver.ObjectInfo, string, error) {
	t.Helper()
	info, rc, err := s.Get(context.Background(), "uploads", key)
	if err != nil {
		return info, "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return info, string(b), nil
}

// filesUnder returns the paths of the regular files under root, relative
// to it, sorted.
func filesUnder(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func TestDirStorePutGet(t *testing.T) {
	s, _ := openStore(t)
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)
	s.now = func() time.Time { return fixed }
	in := receiver.ObjectInfo{
		ContentType: "image/png",
		Metadata:    []postpolicy.Field{{Name: "x-amz-meta-b", Value: "2"}, {Name: "x-amz-meta-a", Value: "1"}},
		Headers:     []postpolicy.Field{{Name: "Cache-Control", Value: "max-age=60"}, {Name: "Content-Disposition", Value: `attachment; filename="cat.png"`}},
	}
	info, err := s.Put(context.Background(), "uploads", "users/alice/cat.png", in, strings.NewReader("meow"))
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("meow"))
	want := receiver.ObjectInfo{
		ContentType:  "image/png",
		Metadata:     in.Metadata,
		Headers:      in.Headers,
		Size:         4,
		ETag:         hex.EncodeToString(sum[:]),
		LastModified: fixed.Truncate(time.Second),
	}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Put's info (-want +got):\n%s", diff)
	}
	got, body, err := get(t, s, "users/alice/cat.png")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get's info (-want +got):\n%s", diff)
	}
	if body != "meow" {
		t.Errorf("Get's body = %q, want meow", body)
	}
	// The same from the metadata file, after a restart.
	reopened, _, err := newDirStore(s.root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := get(t, reopened, "users/alice/cat.png"); err != nil || !cmp.Equal(want, got) {
		t.Errorf("Get's info after reopening: %+v, %v; want %+v", got, err, want)
	}
	if _, _, err := get(t, s, "users/alice/dog.png"); !errors.Is(err, receiver.ErrNoSuchKey) {
		t.Errorf("Get of a missing key: %v, want ErrNoSuchKey", err)
	}
	if _, _, err := s.Get(context.Background(), "other", "k"); err == nil {
		t.Error("Get in a bucket the store did not open succeeded")
	}
}

// TestDirStoreReopen checks that objects survive a restart.
func TestDirStoreReopen(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "users/alice/a.txt", "first")
	put(t, s, "users/bob/b.txt", "second")
	s2, removed, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if removed != 0 {
		t.Errorf("reopening removed %d files, want 0", removed)
	}
	if _, body, err := get(t, s2, "users/alice/a.txt"); err != nil || body != "first" {
		t.Errorf("after reopening: %q, %v", body, err)
	}
	list, err := s2.List("uploads", "users/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	if diff := cmp.Diff([]string{"users/alice/a.txt", "users/bob/b.txt"}, keys); diff != "" {
		t.Errorf("List after reopening (-want +got):\n%s", diff)
	}
}

// TestDirStoreGivenETag checks the receiver.Store contract for an object
// the Handler assembles from multipart parts: an ETag given in the
// ObjectInfo is stored as it is, not the MD5 of the content, and survives
// a restart; a replacement without one gets the MD5 again.
func TestDirStoreGivenETag(t *testing.T) {
	s, root := openStore(t)
	const etag = "3858f62230ac3c915f300c664312c11f-3"
	info, err := s.Put(context.Background(), "uploads", "users/alice/big.bin", receiver.ObjectInfo{ETag: etag}, strings.NewReader("parts"))
	if err != nil || info.ETag != etag || info.Size != 5 {
		t.Fatalf("Put: %+v, %v", info, err)
	}
	s2, _, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if got, body, err := get(t, s2, "users/alice/big.bin"); err != nil || got.ETag != etag || body != "parts" {
		t.Errorf("after reopening: %+v %q %v", got, body, err)
	}
	sum := md5.Sum([]byte("one"))
	if info := put(t, s2, "users/alice/big.bin", "one"); info.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("a replacement without an ETag: %q", info.ETag)
	}
}

// failingReader returns some bytes, then an error, as the Verifier's file
// reader does for an oversize upload.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(b []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(b, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestDirStoreFailedPut checks that a Put whose body fails stores nothing,
// leaves no file behind and keeps the previous object of the key.
func TestDirStoreFailedPut(t *testing.T) {
	s, root := openStore(t)
	tooLarge := &receiver.S3Error{Code: receiver.CodeEntityTooLarge, Status: 400}
	_, err := s.Put(context.Background(), "uploads", "new", receiver.ObjectInfo{}, &failingReader{strings.Repeat("x", 100000), tooLarge})
	if !errors.Is(err, receiver.CodeEntityTooLarge) {
		t.Fatalf("Put = %v, want the body's error", err)
	}
	if _, _, err := get(t, s, "new"); !errors.Is(err, receiver.ErrNoSuchKey) {
		t.Errorf("after a failed Put, Get = %v, want ErrNoSuchKey", err)
	}
	if files := filesUnder(t, root); len(files) != 0 {
		t.Errorf("a failed Put left files: %q", files)
	}

	put(t, s, "old", "kept")
	before := filesUnder(t, root)
	if _, err := s.Put(context.Background(), "uploads", "old", receiver.ObjectInfo{}, &failingReader{"partial", io.ErrUnexpectedEOF}); err == nil {
		t.Fatal("Put with a failing body succeeded")
	}
	if _, body, err := get(t, s, "old"); err != nil || body != "kept" {
		t.Errorf("a failed Put over an object: Get = %q, %v; want the old object", body, err)
	}
	if diff := cmp.Diff(before, filesUnder(t, root)); diff != "" {
		t.Errorf("a failed Put changed the files (-before +after):\n%s", diff)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "uploads", "cancelled", receiver.ObjectInfo{}, strings.NewReader("x")); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if _, _, err := get(t, s, "cancelled"); !errors.Is(err, receiver.ErrNoSuchKey) {
		t.Errorf("Put with a cancelled context stored the object: %v", err)
	}
}

// TestDirStoreReplace checks that a second Put of a key replaces the
// object and removes the first one's content file.
func TestDirStoreReplace(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "k", "one")
	put(t, s, "k", "two, longer")
	info, body, err := get(t, s, "k")
	if err != nil || body != "two, longer" || info.Size != int64(len(body)) {
		t.Errorf("Get = %q (size %d), %v; want the second object", body, info.Size, err)
	}
	if files := filesUnder(t, root); len(files) != 2 {
		t.Errorf("after replacing, the files are %q; want one metadata and one content file", files)
	}
}

// TestDirStoreCleansAtStart checks that opening a store removes temporary
// files and content files no metadata names, and nothing else.
func TestDirStoreCleansAtStart(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "kept", "content")
	dir := filepath.Join(root, "uploads")
	orphan := keyHash("orphan") + "-0123456789abcdef.data"
	for _, name := range []string{".tmp-12345", ".tmp-meta", orphan, "notes.txt", "README"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := filesUnder(t, root)
	_, removed, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if removed != 3 {
		t.Errorf("removed %d files, want 3", removed)
	}
	var want []string
	for _, f := range before {
		base := filepath.Base(f)
		if !strings.HasPrefix(base, ".tmp-") && base != orphan {
			want = append(want, f)
		}
	}
	if diff := cmp.Diff(want, filesUnder(t, root)); diff != "" {
		t.Errorf("files after opening (-want +got):\n%s", diff)
	}
	if _, body, err := get(t, s, "kept"); err != nil || body != "content" {
		t.Errorf("the committed object is gone: %q, %v", body, err)
	}
}

// hostileKeys are keys that would escape or confuse a store that used keys
// as paths.
var hostileKeys = []string{
	"../x",
	"../../etc/passwd",
	"/etc/passwd",
	"a/../../b",
	"a\x00b",
	`a\..\b`,
	`..\..\windows\win.ini`,
	".",
	"..",
	"./",
	"//double//slash",
	"trailing/",
	"users/alice/ .. ",
	"CON",
	"nul.txt",
	strings.Repeat("k/", 512),
	strings.Repeat("é", 2000),
	"e\u0301",
	"\u00e9",
	"\u202eevil.png",
	"😀/🙂",
	"line\nbreak",
	"tab\there",
	"%2e%2e%2fencoded",
	// Dots, slashes and separators in other scripts and encodings.
	"\uff0e\uff0e\uff0fetc\uff0fpasswd", // fullwidth ../etc/passwd
	"\u2024\u2024/x",                    // one dot leaders
	"a\u2215..\u2215b",                  // division slash
	"..\u2044x",                         // fraction slash
	"\ufeff..",                          // a byte order mark before ..
	"..\x00/../x",
	"\x00",
	"C:\\Windows\\system.ini",
	`\\server\share\x`,
	"~/x",
	"$HOME/x",
	"a/./b",
	"/",
	// Keys that differ only in case or normalisation stay distinct, even
	// on a case-insensitive or normalising file system.
	"Key",
	"key",
	"KEY",
	"\u212a",  // Kelvin sign, which some file systems fold to K
	"\u00c5",  // Å, precomposed
	"A\u030a", // Å, decomposed
	"\u0130",  // İ, dotted capital I
	strings.Repeat("x", 1024),
}

// TestDirStoreHostileKeys checks that no key reaches a file outside its
// bucket's directory, and that every key round-trips exactly, as a
// distinct object.
func TestDirStoreHostileKeys(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "data")
	s, _, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range hostileKeys {
		put(t, s, key, "content of "+key)
	}
	for _, key := range hostileKeys {
		_, body, err := get(t, s, key)
		if err != nil || body != "content of "+key {
			t.Errorf("Get(%q) = %q, %v", key, body, err)
		}
	}
	list, err := s.List("uploads", "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	want := slices.Clone(hostileKeys)
	slices.Sort(want)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	// Only the data directory is in the parent, and every file is a
	// metadata or content file directly in the bucket's directory.
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "data" {
		t.Errorf("the store wrote outside its root: %v", entries)
	}
	files := filesUnder(t, root)
	if len(files) != 2*len(hostileKeys) {
		t.Errorf("%d files for %d keys, want two per key", len(files), len(hostileKeys))
	}
	for _, f := range files {
		dir, name, _ := strings.Cut(f, "/")
		hash, isMeta := strings.CutSuffix(name, ".json")
		if dir != "uploads" || strings.Contains(name, "/") || !(isMeta && isHashName(hash) || isDataName(name)) {
			t.Errorf("unexpected file %q", f)
		}
	}

	if _, err := s.Put(context.Background(), "uploads", "\xff\xfe", receiver.ObjectInfo{}, strings.NewReader("x")); !errors.Is(err, receiver.CodeInvalidArgument) {
		t.Errorf("Put of a key that is not UTF-8 = %v, want InvalidArgument", err)
	}
	if _, err := s.Put(context.Background(), "uploads", "", receiver.ObjectInfo{}, strings.NewReader("x")); err == nil {
		t.Error("Put of an empty key succeeded")
	}
}

// TestDirStoreBucketNames checks that only names safe as a directory name
// open.
func TestDirStoreBucketNames(t *testing.T) {
	root := t.TempDir()
	for _, b := range []string{"", ".", "..", "...", "a", "ab", "../up", "a/b", `a\b`, "Uploads", "-up", "up-", ".up", "a\x00b", strings.Repeat("a", 64)} {
		if _, _, err := newDirStore(root, b); err == nil {
			t.Errorf("newDirStore(%q) succeeded", b)
		}
	}
	for _, b := range []string{"uploads", "my.bucket-1", "abc"} {
		if _, _, err := newDirStore(root, b); err != nil {
			t.Errorf("newDirStore(%q): %v", b, err)
		}
	}
}

// TestDirStoreTamperedMetadata checks that a metadata file naming a
// content file other than its own is not followed: a store opened on it
// leaves the object out of its index (Get and List do not see it), and a
// store opened before goes on serving the object as committed, from its
// index.
func TestDirStoreTamperedMetadata(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "k", "content")
	secret := filepath.Join(root, "secret.txt")
	if err := os.WriteFile(secret, []byte("not an object"), 0o600); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(root, "uploads", keyHash("k")+".json")
	for _, data := range []string{"../secret.txt", "/etc/passwd", keyHash("other") + "-0123456789abcdef.data", ""} {
		b, _ := os.ReadFile(meta)
		tampered := strings.Replace(string(b), `"data":"`, `"data":"`+data+`","was":"`, 1)
		if err := os.WriteFile(meta, []byte(tampered), 0o600); err != nil {
			t.Fatal(err)
		}
		reopened, _, err := newDirStore(root, "uploads")
		if err != nil {
			t.Fatal(err)
		}
		if _, body, err := get(t, reopened, "k"); err == nil {
			t.Errorf("data %q: Get read %q", data, body)
		}
		if list, _ := reopened.List("uploads", ""); len(list) != 0 {
			t.Errorf("data %q: List shows %v", data, list)
		}
		if _, body, err := get(t, s, "k"); err != nil || body != "content" {
			t.Errorf("data %q: the store opened before reads %q, %v; want the object as committed", data, body, err)
		}
		os.WriteFile(meta, b, 0o600)
	}
}

// TestDirStoreConcurrent puts and reads one key from many goroutines (run
// with -race): every read sees a whole object, and one content file is
// left.
func TestDirStoreConcurrent(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "k", "v0-"+strings.Repeat("x", 1000))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			body := strings.Repeat(string(rune('a'+i)), 1000+i)
			if _, err := s.Put(context.Background(), "uploads", "k", receiver.ObjectInfo{}, strings.NewReader(body)); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			info, body, err := get(t, s, "k")
			if err != nil {
				t.Error(err)
				return
			}
			if int64(len(body)) != info.Size {
				t.Errorf("read %d bytes of an object of %d", len(body), info.Size)
			}
		}()
	}
	wg.Wait()
	if files := filesUnder(t, root); len(files) != 2 {
		t.Errorf("files after concurrent puts: %q", files)
	}
}

// TestDirStoreWriteFailures fails the writes of the content, then of the
// metadata, as a full disk does: Put returns the error, no temporary file
// is left, and the object stored before under the key stays whole.
func TestDirStoreWriteFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		disk *fullDisk
	}{
		{"content", &fullDisk{room: 10}},
		{"content, nothing written", &fullDisk{room: 0}},
		{"metadata", &fullDisk{nth: 2, room: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := openStore(t)
			put(t, s, "k", "old content")
			before := filesUnder(t, root)
			s.wrapWriter = tc.disk.wrap
			_, err := s.Put(context.Background(), "uploads", "k", receiver.ObjectInfo{}, strings.NewReader(strings.Repeat("new", 1000)))
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Put = %v, want ENOSPC", err)
			}
			s.wrapWriter = nil
			if diff := cmp.Diff(before, filesUnder(t, root)); diff != "" {
				t.Errorf("the failed Put changed the files (-before +after):\n%s", diff)
			}
			if _, body, err := get(t, s, "k"); err != nil || body != "old content" {
				t.Errorf("Get = %q, %v; want the old object", body, err)
			}
		})
	}
}

// panicReader panics after some bytes, as a broken body might.
type panicReader struct{ n int }

func (p *panicReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		panic("broken body")
	}
	n := min(len(b), p.n)
	p.n -= n
	return n, nil
}

// TestDirStorePanicLeavesNothing checks that a Put interrupted by a panic
// (which net/http recovers, so the server goes on) closes and removes its
// temporary file.
func TestDirStorePanicLeavesNothing(t *testing.T) {
	s, root := openStore(t)
	fds := testutil.OpenFDs()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Put did not panic")
			}
		}()
		s.Put(context.Background(), "uploads", "k", receiver.ObjectInfo{}, &panicReader{n: 100000})
	}()
	if files := filesUnder(t, root); len(files) != 0 {
		t.Errorf("files after the panic: %q", files)
	}
	if n := testutil.OpenFDs(); n > fds {
		t.Errorf("%d open files after the panic, %d before", n, fds)
	}
}

// TestDirStoreKeepsUnreadableMetadata checks that opening a store keeps
// the content of a key whose metadata file it cannot read (damaged on
// disk, say): it may be the only copy of a committed object.
func TestDirStoreKeepsUnreadableMetadata(t *testing.T) {
	s, root := openStore(t)
	put(t, s, "damaged", "content")
	put(t, s, "fine", "content")
	meta := filepath.Join(root, "uploads", keyHash("damaged")+".json")
	if err := os.WriteFile(meta, []byte(`{"key":"damaged","da`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := filesUnder(t, root)
	if _, removed, err := newDirStore(root, "uploads"); err != nil || removed != 0 {
		t.Fatalf("reopening: removed %d, %v", removed, err)
	}
	if diff := cmp.Diff(before, filesUnder(t, root)); diff != "" {
		t.Errorf("reopening changed the files (-before +after):\n%s", diff)
	}
}

// writeObjects writes n objects of content "x" into the bucket directory
// dir as Put lays them out (users/uI/fJ, I from 0 to 9), without Put's
// syncs, to fill a store quickly.
func writeObjects(t testing.TB, dir string, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprintf("users/u%d/f%06d.png", i%10, i)
		hash := keyHash(key)
		m := objectMeta{Key: key, Data: hash + "-0123456789abcdef" + dataSuffix, ContentType: "image/png", Size: 1, ETag: "9dd4e461268c8034f5c8564e155c67a6", LastModified: time.Unix(1700000000, 0).UTC()}
		b, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(dir, hash+metaSuffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.Data), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDirStoreListFromIndex checks that List answers from the index the
// store loads at start and keeps at each commit, not from the files: with
// every metadata file gone from the disk, it still lists each object, in
// key order.
func TestDirStoreListFromIndex(t *testing.T) {
	_, root := openStore(t)
	dir := filepath.Join(root, "uploads")
	writeObjects(t, dir, 300)
	s, _, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "users/u3/late.png", "y")
	metas, _ := filepath.Glob(filepath.Join(dir, "*"+metaSuffix))
	if len(metas) != 301 {
		t.Fatalf("%d metadata files, want 301", len(metas))
	}
	for _, m := range metas {
		os.Remove(m)
	}
	list, err := s.List("uploads", "users/u3/")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for i := 3; i < 300; i += 10 {
		want = append(want, fmt.Sprintf("users/u3/f%06d.png", i))
	}
	want = append(want, "users/u3/late.png")
	for _, o := range list {
		got = append(got, o.Key)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List without metadata files on disk (-want +got):\n%s", diff)
	}
}

// BenchmarkDirStoreList lists one user's objects in a store of 20,000
// objects of 10 users, as GET /api/uploads does.
func BenchmarkDirStoreList(b *testing.B) {
	root := filepath.Join(b.TempDir(), "data")
	if _, _, err := newDirStore(root, "uploads"); err != nil {
		b.Fatal(err)
	}
	writeObjects(b, filepath.Join(root, "uploads"), 20000)
	s, _, err := newDirStore(root, "uploads")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		list, err := s.List("uploads", "users/u7/")
		if err != nil || len(list) != 2000 {
			b.Fatalf("List: %d objects, %v", len(list), err)
		}
	}
}

// maxSizeAllowed returns the MaxSizeAllowed of an EntityTooLarge error,
// or "" for any other error.
func maxSizeAllowed(err error) string {
	var e *receiver.S3Error
	if !errors.As(err, &e) || e.Code != receiver.CodeEntityTooLarge {
		return ""
	}
	for _, f := range e.Extra {
		if f.Name == "MaxSizeAllowed" {
			return f.Value
		}
	}
	return ""
}

// TestDirStoreQuotaInProgress checks that the quotas count the bytes of
// uploads still streaming: two uploads at once cannot each take the room
// left, and a refused or failed upload gives its bytes back.
func TestDirStoreQuotaInProgress(t *testing.T) {
	s, root := openStore(t)
	s.userQuota, s.dataQuota = 1000, 1500
	ctx := context.Background()
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "uploads", "users/alice/a", receiver.ObjectInfo{}, pr)
		first <- err
	}()
	pw.Write([]byte(strings.Repeat("a", 600)))
	waitFor(t, "the first upload's bytes to be counted", func() bool {
		s.qmu.Lock()
		defer s.qmu.Unlock()
		return s.pendingTotal == 600
	})
	if _, err := s.Put(ctx, "uploads", "users/alice/b", receiver.ObjectInfo{}, strings.NewReader(strings.Repeat("b", 500))); maxSizeAllowed(err) != "400" {
		t.Errorf("alice's second upload while her first streams: %v, want EntityTooLarge with MaxSizeAllowed 400", err)
	}
	if _, err := s.Put(ctx, "uploads", "users/bob/c", receiver.ObjectInfo{}, strings.NewReader(strings.Repeat("c", 950))); maxSizeAllowed(err) != "900" {
		t.Errorf("bob's upload while alice's streams: %v, want EntityTooLarge with MaxSizeAllowed 900", err)
	}
	if _, err := s.Put(ctx, "uploads", "users/bob/d", receiver.ObjectInfo{}, &failingReader{strings.Repeat("d", 300), io.ErrUnexpectedEOF}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("bob's broken upload: %v", err)
	}
	pw.Write([]byte(strings.Repeat("a", 400)))
	pw.Close()
	if err := <-first; err != nil {
		t.Fatalf("alice's first upload, 1000 bytes of her 1000: %v", err)
	}
	if _, err := s.Put(ctx, "uploads", "users/bob/e", receiver.ObjectInfo{}, strings.NewReader(strings.Repeat("e", 500))); err != nil {
		t.Errorf("bob's upload of the 500 bytes left: %v", err)
	}
	s.qmu.Lock()
	used, pending := s.usedTotal, s.pendingTotal
	s.qmu.Unlock()
	if used != 1500 || pending != 0 {
		t.Errorf("%d bytes used and %d pending, want 1500 and 0", used, pending)
	}
	var keys []string
	for _, f := range filesUnder(t, root) {
		if strings.Contains(f, tmpPrefix) {
			t.Errorf("a temporary file is left: %s", f)
		}
	}
	list, _ := s.List("uploads", "")
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	if diff := cmp.Diff([]string{"users/alice/a", "users/bob/e"}, keys); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	// Reopened, the store counts what is on disk.
	s2, _, err := newDirStore(root, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	if objects, bytes := s2.usage(); objects != 2 || bytes != 1500 {
		t.Errorf("reopened: %d objects of %d bytes, want 2 of 1500", objects, bytes)
	}
}

// TestDirStoreUploadHolds checks the reservation of a multipart upload:
// its declared size counts against the quotas from its start; the Put
// that completes it takes the reservation over instead of counting its
// bytes again, and gives it back to the upload when it fails; an abort or
// the upload's expiry releases it.
func TestDirStoreUploadHolds(t *testing.T) {
	s, root := openStore(t)
	s.userQuota, s.dataQuota = 1000, 1500
	ctx := context.Background()
	pending := func(owner string) (int64, int64) {
		s.qmu.Lock()
		defer s.qmu.Unlock()
		return s.pending[owner], s.pendingTotal
	}
	if err := s.reserveUpload("alice", 700); err != nil {
		t.Fatal(err)
	}
	if err := s.reserveUpload("alice", 400); maxSizeAllowed(err) != "300" {
		t.Errorf("a second reservation over alice's quota: %v, want EntityTooLarge with MaxSizeAllowed 300", err)
	}
	const key = "users/alice/ID/big.bin"
	s.holdUpload("alice", key, 700, time.Now().Add(time.Hour))
	// A form upload meanwhile finds the room the upload holds taken.
	if _, err := s.Put(ctx, "uploads", "users/alice/form.png", receiver.ObjectInfo{}, strings.NewReader(strings.Repeat("f", 301))); maxSizeAllowed(err) != "300" {
		t.Errorf("a form upload of 301 bytes beside the hold: %v, want MaxSizeAllowed 300", err)
	}
	// A completion that fails gives the reservation back to the upload.
	if _, err := s.Put(ctx, "uploads", key, receiver.ObjectInfo{}, &failingReader{strings.Repeat("x", 500), io.ErrUnexpectedEOF}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a broken completion: %v", err)
	}
	if mine, all := pending("alice"); mine != 700 || all != 700 || len(s.holds) != 1 {
		t.Errorf("after a broken completion: %d bytes pending for alice, %d in all, %d holds; want 700, 700, 1", mine, all, len(s.holds))
	}
	// The completion: exactly the bytes held, counted once.
	if _, err := s.Put(ctx, "uploads", key, receiver.ObjectInfo{ETag: "e-2"}, strings.NewReader(strings.Repeat("x", 700))); err != nil {
		t.Fatalf("the completion: %v", err)
	}
	if mine, all := pending("alice"); mine != 0 || all != 0 || len(s.holds) != 0 || s.used["alice"] != 700 {
		t.Errorf("after the completion: %d pending for alice, %d in all, %d holds, %d used; want 0, 0, 0, 700", mine, all, len(s.holds), s.used["alice"])
	}
	put(t, s, "users/alice/small.txt", strings.Repeat("s", 300))

	// An abort, and an expiry.
	if err := s.reserveUpload("bob", 400); err != nil {
		t.Fatal(err)
	}
	s.holdUpload("bob", "users/bob/A/a.bin", 400, time.Now().Add(time.Hour))
	if err := s.reserveUpload("carol", 400); maxSizeAllowed(err) != "100" {
		t.Errorf("carol's reservation with the store nearly full: %v, want MaxSizeAllowed 100", err)
	}
	if !s.releaseUpload("users/bob/A/a.bin") || s.releaseUpload("users/bob/A/a.bin") {
		t.Error("releaseUpload does not report the hold it released, once")
	}
	if err := s.reserveUpload("carol", 400); err != nil {
		t.Fatalf("carol's reservation after bob's abort: %v", err)
	}
	s.holdUpload("carol", "users/carol/B/b.bin", 400, time.Now().Add(time.Hour))
	if n := s.expireUploads(time.Now()); n != 0 {
		t.Errorf("expireUploads before the expiry: %d", n)
	}
	if n := s.expireUploads(time.Now().Add(2 * time.Hour)); n != 1 {
		t.Errorf("expireUploads after the expiry: %d, want 1", n)
	}
	if _, all := pending("carol"); all != 0 {
		t.Errorf("after the expiry %d bytes are pending, want 0", all)
	}
	if temps := filesUnder(t, root); slices.ContainsFunc(temps, func(f string) bool { return strings.Contains(f, tmpPrefix) }) {
		t.Errorf("temporary files are left: %q", temps)
	}
}

// TestDirStoreEmptiesPartDir checks that a store opened on a directory
// removes the part files a previous process left, and nothing else there.
func TestDirStoreEmptiesPartDir(t *testing.T) {
	_, root := openStore(t)
	parts := filepath.Join(root, partDirName)
	for _, name := range []string{"part-1", "part-2", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(parts, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, removed, err := newDirStore(root, "uploads")
	if err != nil || removed != 2 {
		t.Fatalf("reopening: removed %d, %v; want the 2 part files", removed, err)
	}
	entries, _ := os.ReadDir(parts)
	if len(entries) != 1 || entries[0].Name() != "notes.txt" {
		t.Errorf("the part directory holds %v, want notes.txt only", entries)
	}
}
