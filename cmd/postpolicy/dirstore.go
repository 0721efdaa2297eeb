package main

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/receiver"
)

// dirStore is a [receiver.Store] that keeps objects in a directory,
// so that what serve's embedded target receives survives a restart.
//
// The layout under the root directory is
//
//	BUCKET/                    one directory per bucket
//	BUCKET/HASH.json           an object's metadata; HASH is the hex SHA-256 of its key
//	BUCKET/HASH-RANDOM.data    the object's content, named by its metadata
//	BUCKET/.tmp-*              files being written
//	.parts/part-*              the parts of multipart uploads in progress
//	                           (receiver.Handler.PartDir)
//
// Keys never become paths: a file name is the hash of a key, so no key
// ("../x", "/etc/passwd", a NUL, a backslash, 1,024 bytes of anything) can
// name a file outside its bucket's directory or collide with another file
// name; the key itself is kept inside the metadata.
//
// Writes are atomic. Put writes the content and then the metadata to
// temporary files in the bucket's directory, syncs them, renames the
// content to a fresh name and then the metadata over the old metadata:
// that last rename is the commit, and the previous content file is removed
// after it. A failed write (the body broke content-length-range or a
// quota, the client went away, the disk is full) removes its temporary
// files before Put returns. A crash leaves at most temporary files and a
// content file no metadata names; newDirStore removes both, but never the
// content of a key whose metadata file it cannot read.
//
// The metadata of every object is also kept in memory, in an index that
// newDirStore loads and each commit updates: Get and List read it, not
// the metadata files, so listing a user's objects takes time in the
// number of that user's objects, not of all the objects. Reads, commits
// and the index are ordered by a lock, held only for map and slice
// operations (and, by Get, the opening of a content file), so that a
// reader never opens a content file that a commit is removing, and a List
// never holds up a commit for long.
//
// The store counts the bytes each owner (the user of a key under
// users/NAME/, see keyOwner) and the whole store keep, and refuses an
// upload as it streams once it would take its owner over userQuota or the
// store over dataQuota, counting the bytes of uploads in progress. An
// object being replaced counts until its replacement is committed, since
// a failed replacement keeps it.
//
// Temporary files are removed at start without asking whose they are, so
// two processes must not share a data directory.
type dirStore struct {
	root    string
	buckets map[string]string // bucket name → its directory
	now     func() time.Time

	mu    sync.RWMutex
	index map[string]*bucketIndex // bucket name → its objects; guarded by mu

	// userQuota and dataQuota are the most an owner and the whole store
	// may keep, in bytes; 0 means no limit. Set them before use.
	userQuota, dataQuota int64

	qmu          sync.Mutex       // guards the counts below; taken after mu, never before
	used         map[string]int64 // owner → bytes of its committed objects
	usedTotal    int64
	pending      map[string]int64 // owner → bytes read by its uploads in progress, and held for its multipart uploads
	pendingTotal int64
	holds        map[string]uploadHold // object key → the bytes its multipart upload holds

	// wrapWriter, when set, wraps the writer of every temporary file:
	// tests use it to fail writes as a full disk does.
	wrapWriter func(io.Writer) io.Writer
}

// uploadHold is the reservation a multipart upload in progress holds: size
// bytes of owner's, counted in dirStore.pending, until expires.
type uploadHold struct {
	owner   string
	size    int64
	expires time.Time
}

// partDirName is the directory under the store's root where the parts of
// multipart uploads in progress are kept (receiver.Handler.PartDir): a
// name no bucket can have. Parts do not outlive the process that received
// them (the uploads in progress live in its memory), so newDirStore
// empties it.
const partDirName = ".parts"

// bucketIndex is the in-memory index of a bucket's objects.
type bucketIndex struct {
	keys    []string              // sorted
	objects map[string]objectMeta // key → its metadata, never changed once stored
}

// objectMeta is the JSON metadata file of an object.
type objectMeta struct {
	Key          string      `json:"key"`
	Data         string      `json:"data"`
	ContentType  string      `json:"content_type,omitempty"`
	Metadata     [][2]string `json:"metadata,omitempty"`
	Headers      [][2]string `json:"headers,omitempty"`
	Size         int64       `json:"size"`
	ETag         string      `json:"etag"`
	LastModified time.Time   `json:"last_modified"`
}

// storedObject is one entry of dirStore.List.
type storedObject struct {
	Key string
	receiver.ObjectInfo
}

const (
	tmpPrefix   = ".tmp-"
	metaSuffix  = ".json"
	dataSuffix  = ".data"
	maxMetaSize = 1 << 20 // far above what 20 KB of form fields can produce
)

// newDirStore opens (creating them when needed) the directories of buckets
// under root and the part directory (partDirName), loads the index of
// their objects, and removes what an interrupted write left in them:
// temporary files, content files that no metadata names, and the part
// files of multipart uploads a previous process received. It touches
// nothing else under root. It returns how many files it removed.
func newDirStore(root string, buckets ...string) (*dirStore, int, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, 0, err
	}
	s := &dirStore{root: abs, buckets: make(map[string]string), index: make(map[string]*bucketIndex), now: time.Now,
		used: make(map[string]int64), pending: make(map[string]int64), holds: make(map[string]uploadHold)}
	removed := 0
	for _, b := range buckets {
		if !storeBucketName(b) {
			return nil, 0, fmt.Errorf("bucket name %q cannot be a directory name here; use 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit", b)
		}
		dir := filepath.Join(abs, b)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, 0, err
		}
		idx, n, err := loadBucketDir(dir)
		removed += n
		if err != nil {
			return nil, removed, err
		}
		s.buckets[b] = dir
		s.index[b] = idx
		for _, m := range idx.objects {
			s.used[keyOwner(m.Key)] += m.Size
			s.usedTotal += m.Size
		}
	}
	n, err := emptyPartDir(s.partDir())
	removed += n
	if err != nil {
		return nil, removed, err
	}
	return s, removed, nil
}

// partDir returns the directory of the parts of multipart uploads.
func (s *dirStore) partDir() string { return filepath.Join(s.root, partDirName) }

// emptyPartDir makes dir when needed and removes the part files in it
// (part-*, as receiver.Handler names them), returning how many.
func emptyPartDir(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "part-") && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// storeBucketName reports whether b is safe as a directory name: S3's
// bucket alphabet, never "." or "..".
func storeBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return b[0] != '.' && b[0] != '-' && b[len(b)-1] != '.' && b[len(b)-1] != '-'
}

// loadBucketDir reads the metadata files of dir into an index, and
// removes temporary files and unreferenced content files. A content file
// is unreferenced when no metadata file of its key exists, or when that
// metadata file names another content file; when the metadata file exists
// but cannot be read, the key's content files are kept, since they may be
// the only copy of a committed object (which the index then lacks).
func loadBucketDir(dir string) (*bucketIndex, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	idx := &bucketIndex{objects: make(map[string]objectMeta)}
	referenced := make(map[string]bool)
	unreadable := make(map[string]bool) // key hashes whose metadata could not be read
	var data []string
	removed := 0
	for _, e := range entries {
		name := e.Name()
		hash, isMeta := strings.CutSuffix(name, metaSuffix)
		switch {
		case strings.HasPrefix(name, tmpPrefix) && e.Type().IsRegular():
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, removed, err
			}
			removed++
		case isMeta && isHashName(hash):
			if m, err := readMeta(dir, hash); err == nil {
				referenced[m.Data] = true
				idx.objects[m.Key] = m
				idx.keys = append(idx.keys, m.Key)
			} else {
				unreadable[hash] = true
			}
		case isDataName(name):
			data = append(data, name)
		}
	}
	slices.Sort(idx.keys)
	for _, name := range data {
		hash, _, _ := strings.Cut(name, "-")
		if referenced[name] || unreadable[hash] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return nil, removed, err
		}
		removed++
	}
	return idx, removed, nil
}

// keyHash returns the hex SHA-256 of key, the base of its file names.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// isHashName reports whether s is a key hash.
func isHashName(s string) bool { return len(s) == 2*sha256.Size && isLowerHex(s) }

// isDataName reports whether name is a content file name: HASH-RANDOM.data.
func isDataName(name string) bool {
	base, ok := strings.CutSuffix(name, dataSuffix)
	if !ok {
		return false
	}
	hash, random, ok := strings.Cut(base, "-")
	return ok && isHashName(hash) && len(random) == 16 && isLowerHex(random)
}

// dir returns the directory of bucket.
func (s *dirStore) dir(bucket string) (string, error) {
	d, ok := s.buckets[bucket]
	if !ok {
		return "", fmt.Errorf("dirstore: bucket %q is not open", bucket)
	}
	return d, nil
}

// readMeta reads the metadata file of the key whose hash is hash, checking
// that it names a content file of that hash (so that an edited metadata
// file cannot point anywhere else).
func readMeta(dir, hash string) (objectMeta, error) {
	f, err := os.Open(filepath.Join(dir, hash+metaSuffix))
	if err != nil {
		return objectMeta{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetaSize+1))
	if err != nil {
		return objectMeta{}, err
	}
	if len(b) > maxMetaSize {
		return objectMeta{}, fmt.Errorf("dirstore: metadata file %s is too large", hash+metaSuffix)
	}
	var m objectMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return objectMeta{}, fmt.Errorf("dirstore: metadata file %s: %w", hash+metaSuffix, err)
	}
	if !isDataName(m.Data) || !strings.HasPrefix(m.Data, hash+"-") || keyHash(m.Key) != hash {
		return objectMeta{}, fmt.Errorf("dirstore: metadata file %s does not match its name", hash+metaSuffix)
	}
	return m, nil
}

func (m objectMeta) info() receiver.ObjectInfo {
	info := receiver.ObjectInfo{
		ContentType:  m.ContentType,
		Size:         m.Size,
		ETag:         m.ETag,
		LastModified: m.LastModified,
	}
	for _, f := range m.Metadata {
		info.Metadata = append(info.Metadata, postpolicy.Field{Name: f[0], Value: f[1]})
	}
	for _, f := range m.Headers {
		info.Headers = append(info.Headers, postpolicy.Field{Name: f[0], Value: f[1]})
	}
	return info
}

// writeTemp writes r to a new temporary file in dir, syncs and closes it,
// and returns its path, the number of bytes and their MD5. On error (or a
// panic) the file is closed and removed.
func (s *dirStore) writeTemp(dir string, r io.Reader) (path string, n int64, sum []byte, err error) {
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", 0, nil, err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := md5.New()
	var w io.Writer = f
	if s.wrapWriter != nil {
		w = s.wrapWriter(f)
	}
	if n, err = io.Copy(io.MultiWriter(w, h), r); err != nil {
		return "", 0, nil, err
	}
	if err = f.Sync(); err != nil {
		return "", 0, nil, err
	}
	if err = f.Close(); err != nil {
		return "", 0, nil, err
	}
	done = true
	return f.Name(), n, h.Sum(nil), nil
}

// errKeyNotUTF8 is Put's answer to a key that is not valid UTF-8: S3 keys
// are Unicode text, and the metadata file stores the key as JSON text.
var errKeyNotUTF8 = &receiver.S3Error{Code: receiver.CodeInvalidArgument, Status: http.StatusBadRequest,
	Message: "The object key is not valid UTF-8."}

// Put reads body to its end into a temporary file and commits the object
// only if that succeeds; otherwise it removes what it wrote and returns the
// error (for an upload that broke content-length-range, the *S3Error the
// Verifier's reader returned; for one over a quota, quotaError's). As the
// receiver.Store contract says, it keeps info.ETag when it is set (the
// multipart ETag of an object the Handler assembled from parts) and sets
// the hex MD5 of the content otherwise.
func (s *dirStore) Put(ctx context.Context, bucket, key string, info receiver.ObjectInfo, body io.Reader) (receiver.ObjectInfo, error) {
	dir, err := s.dir(bucket)
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	switch {
	case key == "":
		return receiver.ObjectInfo{}, errors.New("dirstore: empty key")
	case !utf8.ValidString(key):
		return receiver.ObjectInfo{}, errKeyNotUTF8
	}
	quota := &quotaReader{r: body, s: s, owner: keyOwner(key)}
	// The completion of a multipart upload: its bytes were reserved when
	// it started.
	hold, held := s.takeHold(key, quota.owner)
	quota.prepaid = hold.size
	committed := false
	defer func() {
		if !committed {
			s.release(quota.owner, quota.extra)
			if held {
				s.restoreHold(key, hold)
			}
		}
	}()
	dataTmp, size, sum, err := s.writeTemp(dir, quota)
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	defer func() {
		if !committed {
			os.Remove(dataTmp)
		}
	}()
	if err := ctx.Err(); err != nil {
		return receiver.ObjectInfo{}, err
	}

	hash := keyHash(key)
	var random [8]byte
	rand.Read(random[:])
	m := objectMeta{
		Key:          key,
		Data:         hash + "-" + hex.EncodeToString(random[:]) + dataSuffix,
		ContentType:  info.ContentType,
		Size:         size,
		ETag:         info.ETag,
		LastModified: s.now().UTC().Truncate(time.Second),
	}
	if m.ETag == "" {
		m.ETag = hex.EncodeToString(sum)
	}
	for _, f := range info.Metadata {
		m.Metadata = append(m.Metadata, [2]string{f.Name, f.Value})
	}
	for _, f := range info.Headers {
		m.Headers = append(m.Headers, [2]string{f.Name, f.Value})
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	metaTmp, _, _, err := s.writeTemp(dir, strings.NewReader(string(mb)))
	if err != nil {
		return receiver.ObjectInfo{}, err
	}
	defer func() {
		if !committed {
			os.Remove(metaTmp)
		}
	}()

	if err := s.commit(bucket, dir, hash, dataTmp, metaTmp, m, quota.prepaid+quota.extra); err != nil {
		return receiver.ObjectInfo{}, err
	}
	committed = true
	// Outside the lock: the renames are visible already, this makes them
	// durable, and commits of other keys need not wait for it.
	syncDir(dir)
	return m.info(), nil
}

// commit renames the content file into place, then the metadata over the
// key's old metadata (the commit itself), removes the old content file,
// and updates the index and the counts: the object's bytes, reserved while
// it streamed, become its owner's. On error nothing is committed and the
// content file is removed.
func (s *dirStore) commit(bucket, dir, hash, dataTmp, metaTmp string, m objectMeta, reserved int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dataPath := filepath.Join(dir, m.Data)
	if err := os.Rename(dataTmp, dataPath); err != nil {
		return err
	}
	if err := os.Rename(metaTmp, filepath.Join(dir, hash+metaSuffix)); err != nil {
		os.Remove(dataPath)
		return err
	}
	idx := s.index[bucket]
	old, replaced := idx.objects[m.Key]
	if replaced && old.Data != m.Data {
		// Best effort: what is left is removed at the next start.
		os.Remove(filepath.Join(dir, old.Data))
	}
	if !replaced {
		i, _ := slices.BinarySearch(idx.keys, m.Key)
		idx.keys = slices.Insert(idx.keys, i, m.Key)
	}
	idx.objects[m.Key] = m

	owner := keyOwner(m.Key)
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.pending[owner] -= reserved
	s.pendingTotal -= reserved
	if s.pending[owner] == 0 {
		delete(s.pending, owner)
	}
	s.used[owner] += m.Size - old.Size // old is zero when !replaced
	s.usedTotal += m.Size - old.Size
	return nil
}

// syncDir flushes a directory's entries (the renames) to disk where the
// system supports it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Get returns an object's information and an open file of its content.
func (s *dirStore) Get(_ context.Context, bucket, key string) (receiver.ObjectInfo, io.ReadCloser, error) {
	dir, err := s.dir(bucket)
	if err != nil {
		return receiver.ObjectInfo{}, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.index[bucket].objects[key]
	if !ok {
		return receiver.ObjectInfo{}, nil, receiver.ErrNoSuchKey
	}
	f, err := os.Open(filepath.Join(dir, m.Data))
	if err != nil {
		return receiver.ObjectInfo{}, nil, err
	}
	return m.info(), f, nil
}

// List returns the objects of bucket whose keys start with prefix, sorted
// by key, from the index: it reads no file, and holds the lock only to
// copy the entries it returns.
func (s *dirStore) List(bucket, prefix string) ([]storedObject, error) {
	if _, err := s.dir(bucket); err != nil {
		return nil, err
	}
	s.mu.RLock()
	idx := s.index[bucket]
	i, _ := slices.BinarySearch(idx.keys, prefix)
	var metas []objectMeta
	for ; i < len(idx.keys) && strings.HasPrefix(idx.keys[i], prefix); i++ {
		metas = append(metas, idx.objects[idx.keys[i]])
	}
	s.mu.RUnlock()
	out := make([]storedObject, len(metas))
	for i, m := range metas {
		out[i] = storedObject{Key: m.Key, ObjectInfo: m.info()}
	}
	return out, nil
}

// usage returns how many objects the store keeps, and their bytes.
func (s *dirStore) usage() (objects int, bytes int64) {
	s.mu.RLock()
	for _, idx := range s.index {
		objects += len(idx.keys)
	}
	s.mu.RUnlock()
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return objects, s.usedTotal
}

// quotaReader counts, against the store's quotas, the bytes it reads from
// an upload's body for owner, and fails the read that would take the owner
// or the store over its quota. The first prepaid bytes were reserved
// before (a multipart upload's hold), and are not counted again.
type quotaReader struct {
	r       io.Reader
	s       *dirStore
	owner   string
	prepaid int64 // bytes reserved before the upload streamed
	n       int64 // bytes read, all reserved: the prepaid ones, then extra
	extra   int64 // bytes read beyond prepaid, reserved as they came
}

func (q *quotaReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if n > 0 {
		if over := q.n + int64(n) - max(q.prepaid, q.n); over > 0 {
			if qerr := q.s.reserve(q.owner, over, q.n+int64(n)-over); qerr != nil {
				return 0, qerr
			}
			q.extra += over
		}
		q.n += int64(n)
	}
	return n, err
}

// reserve counts n more bytes of an upload of owner that holds mine bytes
// already, or returns quotaError when they would take the owner or the
// store over its quota, with the bytes of the uploads in progress counted.
func (s *dirStore) reserve(owner string, n, mine int64) error {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	left, msg := int64(math.MaxInt64), ""
	if s.userQuota > 0 {
		left, msg = s.userQuota-s.used[owner]-s.pending[owner], "Your proposed upload exceeds the storage left in your quota"
	}
	if dataLeft := s.dataQuota - s.usedTotal - s.pendingTotal; s.dataQuota > 0 && dataLeft < left {
		left, msg = dataLeft, "Your proposed upload exceeds the storage left on this server"
	}
	if n > left {
		return quotaError(mine+n, mine+max(left, 0), msg)
	}
	s.pending[owner] += n
	s.pendingTotal += n
	return nil
}

// release gives back the n bytes an upload of owner reserved and did not
// commit.
func (s *dirStore) release(owner string, n int64) {
	if n == 0 {
		return
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.releaseLocked(owner, n)
}

func (s *dirStore) releaseLocked(owner string, n int64) {
	s.pending[owner] -= n
	s.pendingTotal -= n
	if s.pending[owner] == 0 {
		delete(s.pending, owner)
	}
}

// reserveUpload reserves size bytes for a multipart upload of owner about
// to start, as bytes of an upload in progress, or returns quotaError's
// answer when they would take owner or the store over its quota. The
// caller then hands the reservation to the upload (holdUpload) or gives it
// back (release).
func (s *dirStore) reserveUpload(owner string, size int64) error {
	return s.reserve(owner, size, 0)
}

// holdUpload records that the multipart upload of key holds the size
// bytes reserveUpload reserved for owner, until expires: the Put of key
// takes them over. A hold key had already is released.
func (s *dirStore) holdUpload(owner, key string, size int64, expires time.Time) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if old, ok := s.holds[key]; ok {
		s.releaseLocked(old.owner, old.size)
	}
	s.holds[key] = uploadHold{owner: owner, size: size, expires: expires}
}

// releaseUpload gives back what the multipart upload of key holds, and
// reports whether it held anything: the upload was aborted.
func (s *dirStore) releaseUpload(key string) bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	h, ok := s.holds[key]
	if ok {
		delete(s.holds, key)
		s.releaseLocked(h.owner, h.size)
	}
	return ok
}

// expireUploads gives back what the multipart uploads that expired at now
// hold, and returns how many did.
func (s *dirStore) expireUploads(now time.Time) int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	n := 0
	for key, h := range s.holds {
		if !now.Before(h.expires) {
			delete(s.holds, key)
			s.releaseLocked(h.owner, h.size)
			n++
		}
	}
	return n
}

// takeHold removes and returns the hold of key's multipart upload, whose
// bytes the Put of key takes over for owner (the key's). A hold of
// another owner, which serve never makes, is released instead.
func (s *dirStore) takeHold(key, owner string) (uploadHold, bool) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	h, ok := s.holds[key]
	if !ok {
		return uploadHold{}, false
	}
	delete(s.holds, key)
	if h.owner != owner {
		s.releaseLocked(h.owner, h.size)
		return uploadHold{}, false
	}
	return h, true
}

// restoreHold gives a hold back to key's upload after a failed Put: the
// upload stays for a retry.
func (s *dirStore) restoreHold(key string, h uploadHold) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if old, ok := s.holds[key]; ok {
		s.releaseLocked(old.owner, old.size)
	}
	s.holds[key] = h
}

// quotaError is the answer to an upload over a quota: 400 EntityTooLarge,
// with ProposedSize the bytes read so far (a lower bound of the file's
// size, as for content-length-range) and MaxSizeAllowed the room the
// upload had. S3 has no storage quota of its own to copy; EntityTooLarge
// is its answer to a file larger than may be stored, which browsers'
// pages and SDKs already show (the demo page prints MaxSizeAllowed as
// "the limit"), where AccessDenied would send the user looking for a
// fault in the policy or the credentials.
func quotaError(proposed, allowed int64, msg string) *receiver.S3Error {
	return &receiver.S3Error{Code: receiver.CodeEntityTooLarge, Status: http.StatusBadRequest, Message: msg,
		Extra: []postpolicy.Field{
			{Name: "ProposedSize", Value: strconv.FormatInt(proposed, 10)},
			{Name: "MaxSizeAllowed", Value: strconv.FormatInt(allowed, 10)},
		}}
}
