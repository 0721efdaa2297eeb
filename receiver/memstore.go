package receiver

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"sync"
	"time"
)

// Object is a stored object.
type Object struct {
	ObjectInfo
	Bucket, Key string
	Body        []byte
}

// MemoryStore is a Store in memory.
type MemoryStore struct {
	mu      sync.Mutex
	objects map[[2]string]Object
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{objects: make(map[[2]string]Object)}
}

// Put reads body to its end and stores the object only if that succeeds.
// It keeps info.ETag when it is set, and sets it to the hex MD5 of the
// content otherwise.
func (m *MemoryStore) Put(_ context.Context, bucket, key string, info ObjectInfo, body io.Reader) (ObjectInfo, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return ObjectInfo{}, err
	}
	if info.ETag == "" {
		sum := md5.Sum(data)
		info.ETag = hex.EncodeToString(sum[:])
	}
	info.Size = int64(len(data))
	info.LastModified = time.Now().UTC().Truncate(time.Second)
	m.mu.Lock()
	m.objects[[2]string{bucket, key}] = Object{ObjectInfo: info, Bucket: bucket, Key: key, Body: data}
	m.mu.Unlock()
	return info, nil
}

// Get returns an object's information and content.
func (m *MemoryStore) Get(_ context.Context, bucket, key string) (ObjectInfo, io.ReadCloser, error) {
	o, ok := m.Object(bucket, key)
	if !ok {
		return ObjectInfo{}, nil, ErrNoSuchKey
	}
	return o.ObjectInfo, io.NopCloser(bytes.NewReader(o.Body)), nil
}

// Object returns a stored object.
func (m *MemoryStore) Object(bucket, key string) (Object, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[[2]string{bucket, key}]
	return o, ok
}

// Keys returns the keys stored in bucket, in no particular order.
func (m *MemoryStore) Keys(bucket string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if k[0] == bucket {
			keys = append(keys, k[1])
		}
	}
	return keys
}
