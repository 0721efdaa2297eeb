package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cliDir is a directory for the postpolicy binary the browser tests build,
// made by TestMain and removed after the tests.
var cliDir string

// raceCLI is set (by race_test.go) when the tests are built with -race: the
// CLI is then built with -race too, so that a data race in serve makes it
// exit with status 66, which the tests report.
var raceCLI bool

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "postpolicy-e2e-cli-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: making a directory for the CLI: %v\n", err)
		os.Exit(1)
	}
	cliDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	// buildTimeout bounds building the CLI: seconds with a warm build
	// cache, up to a minute or two on a cold machine.
	buildTimeout = 5 * time.Minute
	// serveStartTimeout bounds the wait for serve's "listening on" line.
	serveStartTimeout = 15 * time.Second
)

var cliBuild struct {
	once sync.Once
	path string
	err  error
}

// buildCLI builds ../cmd/postpolicy once per test binary, with the root
// module's own go.mod (as a user's go build would), and returns the path of
// the binary.
func buildCLI(t *testing.T) string {
	t.Helper()
	cliBuild.once.Do(func() {
		out := filepath.Join(cliDir, "postpolicy")
		args := []string{"build", "-o", out}
		if raceCLI {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/postpolicy")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = ".." // the repository root, whose module holds cmd/postpolicy
		start := time.Now()
		b, err := cmd.CombinedOutput()
		if err != nil {
			cliBuild.err = fmt.Errorf("go %s (in the repository root): %v\n%s", strings.Join(args, " "), err, b)
			return
		}
		cliBuild.path = out
		fmt.Printf("e2e: built the postpolicy CLI (race %v) in %s\n", raceCLI, time.Since(start).Round(10*time.Millisecond))
	})
	if cliBuild.err != nil {
		t.Fatalf("building the CLI: %v", cliBuild.err)
	}
	return cliBuild.path
}

// serveProc is a running "postpolicy serve".
type serveProc struct {
	// URL is the page's base URL, http://127.0.0.1:PORT, which is also the
	// page's origin.
	URL string
	// Stdout is serve's startup summary; Stderr its request log.
	Stdout, Stderr *lockedBuffer
}

// lineWatcher is an io.Writer that keeps what is written and sends, once,
// the rest of the first line that starts with prefix.
type lineWatcher struct {
	buf    lockedBuffer
	prefix string
	found  chan string

	mu      sync.Mutex
	partial []byte
	sent    bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.buf.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if rest, ok := strings.CutPrefix(line, w.prefix); ok {
			w.sent = true
			w.found <- strings.TrimSpace(rest)
			w.partial = nil
			break
		}
	}
	return len(p), nil
}

// serveEnv returns the environment for serve: this process's, without any
// AWS credentials, plus extra.
func serveEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startServe starts "postpolicy serve" with args on 127.0.0.1 and a port
// the kernel picks (-addr 127.0.0.1:0, read back from serve's "listening
// on" line, so no other process can take the port in between), with the
// environment env, and waits until the page answers 200. When the test
// ends, serve is stopped with SIGINT, which must end it with status 0
// within stopTimeout; it is killed otherwise.
func startServe(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	bin := buildCLI(t)
	args = append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	stdout := &lineWatcher{prefix: "listening on ", found: make(chan string, 1)}
	stderr := &lockedBuffer{}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	p := &serveProc{Stdout: &stdout.buf, Stderr: stderr}
	sp := startProcess(t, "postpolicy serve", cmd, os.Interrupt, func(waitErr error) {
		switch {
		case waitErr != nil:
			t.Errorf("postpolicy serve did not exit cleanly after SIGINT: %v (want exit status 0)", waitErr)
		case !strings.Contains(p.Stdout.String(), "\nstopped\n"):
			t.Errorf("postpolicy serve exited 0 but did not print \"stopped\"; stdout:\n%s", p.Stdout)
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("postpolicy serve %s (exit: %v)\n--- stdout:\n%s--- stderr (request log):\n%s", strings.Join(args[1:], " "), waitErr, p.Stdout, p.Stderr)
		}
	})
	exited := sp.exited

	select {
	case u := <-stdout.found:
		p.URL = u
	case <-exited:
		t.Fatalf("postpolicy serve exited before listening (%v)\nstdout:\n%s\nstderr:\n%s", sp.waitErr, p.Stdout, p.Stderr)
	case <-time.After(serveStartTimeout):
		t.Fatalf("postpolicy serve did not print \"listening on\" within %s\nstdout:\n%s\nstderr:\n%s", serveStartTimeout, p.Stdout, p.Stderr)
	}
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		t.Fatalf("postpolicy serve listens on %q, want http://127.0.0.1:PORT", p.URL)
	}
	if err := waitHealthy(p.URL+"/", exited); err != nil {
		t.Fatalf("postpolicy serve on %s: %v\nstderr:\n%s", p.URL, err, p.Stderr)
	}
	return p
}
