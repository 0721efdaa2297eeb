package postpolicy

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// appendBase64 must write exactly what encoding/base64 writes.

func TestAppendBase64(t *testing.T) {
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for n := 0; n <= len(src); n++ {
		for _, prefix := range [][]byte{nil, []byte("abc"), make([]byte, 2, 4096)} {
			want := base64.StdEncoding.AppendEncode(append([]byte(nil), prefix...), src[:n])
			got := appendBase64(append([]byte(nil), prefix...), src[:n])
			if !bytes.Equal(got, want) {
				t.Fatalf("%d bytes after %q: %q, want %q", n, prefix, got, want)
			}
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(""), []byte("x"))
	f.Add([]byte("prefix"), []byte{0xff, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, prefix, src []byte) {
		want := base64.StdEncoding.AppendEncode(append([]byte(nil), prefix...), src)
		if got := appendBase64(append([]byte(nil), prefix...), src); !bytes.Equal(got, want) {
			t.Fatalf("appendBase64 = %q, want %q", got, want)
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	src := bytes.Repeat([]byte("policy document bytes "), 40)
	dst := make([]byte, 0, 4096)
	b.Run("encoding/base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
	b.Run("appendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
}
