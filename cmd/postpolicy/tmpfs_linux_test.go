package main

import (
	"crypto/sha256"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/postpolicy/postpolicy/internal/testutil"
)

// TestServeFullTmpfs runs serve on a real full disk: a tmpfs of 1 MiB
// mounted for the test (which needs the privilege to mount; the test is
// skipped without it, and TestServeDiskFull covers the same paths with an
// injected writer). An upload larger than the free space is answered 500
// InternalError and leaves nothing, the space it took is given back (an
// upload that fits is stored after it), and the object stored before it
// stays whole.
func TestServeFullTmpfs(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs; skipped in -short mode")
	}
	data := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		t.Skipf("cannot mount a 1 MiB tmpfs here (%v): run as root, or in a container with CAP_SYS_ADMIN, to test a real full disk", err)
	}
	// Registered before serve starts, so it runs after serve has stopped.
	t.Cleanup(func() {
		if err := syscall.Unmount(data, 0); err != nil {
			t.Errorf("unmounting the tmpfs: %v", err)
		}
	})
	s := startLiveServe(t, serveLimits{}, "-data", data, "-max-size", "4MiB")
	check := testutil.LeakCheck(t)

	first := pattern(8, 300<<10)
	if a := s.post(t, s.form(t, "t"), "image/png", "first.png", strings.NewReader(first)); a.status != http.StatusCreated {
		t.Fatalf("an upload that fits: %d %s", a.status, a.body)
	}
	free := func() uint64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(data, &st); err != nil {
			t.Fatal(err)
		}
		return st.Bfree * uint64(st.Bsize)
	}
	before := free()
	a := s.post(t, s.form(t, "t"), "image/png", "big.png", strings.NewReader(pattern(9, 2<<20)))
	if a.status != http.StatusInternalServerError || a.code != "InternalError" {
		t.Errorf("an upload larger than the free space: %d %s, want 500 InternalError", a.status, a.body)
	}
	if strings.Contains(a.body, "space") || strings.Contains(a.body, data) {
		t.Errorf("the answer tells the cause: %s", a.body)
	}
	if !strings.Contains(s.stderr.String(), "no space left on device") {
		t.Errorf("the log lacks the cause:\n%s", s.stderr)
	}
	if after := free(); after != before {
		t.Errorf("%d bytes free after the failed upload, %d before: its temporary file was not removed", after, before)
	}
	keys, temps := storeState(t, s.data, "uploads")
	if strings.Join(keys, " ") != "users/t/first.png" || len(temps) != 0 {
		t.Errorf("the store holds %q and temporary files %q", keys, temps)
	}
	second := pattern(10, 300<<10)
	if a := s.post(t, s.form(t, "t"), "image/png", "second.png", strings.NewReader(second)); a.status != http.StatusCreated {
		t.Errorf("an upload that fits, after the failure: %d %s", a.status, a.body)
	}
	for key, content := range map[string]string{"users/t/first.png": first, "users/t/second.png": second} {
		if status, got := s.getObject(t, key); status != http.StatusOK || sha256.Sum256(got) != sha256.Sum256([]byte(content)) {
			t.Errorf("%s: %d, %d bytes", key, status, len(got))
		}
	}
	check()
	t.Logf("serve's log:\n%s", s.stderr)
}
