package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromeInstallHint is how to install the browser the tests drive.
const chromeInstallHint = "apt-get install -y --no-install-recommends chromium"

const (
	// browserTestTimeout bounds everything a browser test does in the
	// browser, its start included; the browser is closed when it passes.
	browserTestTimeout = 2 * time.Minute
	// browserStepTimeout bounds one step: a navigation, a wait for the
	// page's answer.
	browserStepTimeout = 30 * time.Second
	// pollInterval is how often a wait in the page checks its condition.
	pollInterval = 50 * time.Millisecond
)

// findChrome returns the path of the Chromium binary: $CHROME, else
// /usr/bin/chromium, /usr/lib/chromium/chromium, or chromium on $PATH. The
// error says where it looked.
func findChrome() (string, error) {
	if p := os.Getenv("CHROME"); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("CHROME is set to %q, which is not an executable file (%v)", p, err)
		}
		return p, nil
	}
	candidates := []string{"/usr/bin/chromium", "/usr/lib/chromium/chromium"}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("$CHROME is not set, neither of %s exists, and chromium is not on $PATH", strings.Join(candidates, " and "))
}

// browser is a headless Chromium with one tab.
type browser struct {
	// Ctx is the tab's context; every action runs in it or in a context
	// derived from it.
	Ctx context.Context
	// console collects the page's console messages and exceptions, and
	// chromedp's own errors, for the log of a failed test.
	console *lockedBuffer
}

// requireChrome returns the path of Chromium, or skips the test (fails it
// when CI is set) when there is none. Browser tests call it first, before
// starting any server.
func requireChrome(t *testing.T) string {
	t.Helper()
	path, err := findChrome()
	if err != nil {
		if inCI() {
			t.Fatalf("Chromium is required in CI but was not found: %v; install it with: %s (bash .ci/e2e does)", err, chromeInstallHint)
		}
		t.Skipf("skipping the browser test: Chromium not found (%v); install it with: %s, or set CHROME to its path", err, chromeInstallHint)
	}
	return path
}

// newBrowser starts headless Chromium at path (from requireChrome) for the
// test, with a fresh profile, and closes it (waiting for the process to
// exit) when the test ends. On a failure it first saves a screenshot of
// the tab, as NAME-failure.png. Start it after the servers the page uses,
// so that it is closed before them.
func newBrowser(t *testing.T, path, name string) *browser {
	t.Helper()
	return newBrowserFor(t, path, name, browserTestTimeout)
}

// newBrowserFor is newBrowser for a test that may take up to life in the
// browser.
func newBrowserFor(t *testing.T, path, name string, life time.Duration) *browser {
	t.Helper()
	// Registered first, so removed last: after the browser has exited.
	profile := t.TempDir()
	output := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.CombinedOutput(output),
	)
	lifeCtx, lifeCancel := context.WithTimeout(context.Background(), life)
	allocCtx, allocCancel := chromedp.NewExecAllocator(lifeCtx, opts...)
	console := &lockedBuffer{}
	logf := func(format string, args ...any) {
		fmt.Fprintf(console, "chromedp: "+format+"\n", args...)
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))
	b := &browser{Ctx: ctx, console: console}
	t.Cleanup(func() {
		if t.Failed() && ctx.Err() == nil {
			b.screenshot(t, name+"-failure")
		}
		// Cancelling the first tab's context closes the browser; the
		// allocator's cancel waits for the process to exit.
		cancel()
		allocCancel()
		lifeCancel()
		if t.Failed() {
			t.Logf("browser console:\n%s\nChromium output (without D-Bus complaints):\n%s", console, withoutDBus(output.String()))
		}
	})

	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium %s: %v\noutput:\n%s", path, err, output)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintf(console, "%s %s:%d %s\n", m.Type, m.URL, m.Line+1, m)
		}
	}()
	t.Logf("Chromium %s started in %s", path, time.Since(start).Round(time.Millisecond))
	return b
}

// do runs steps with the step timeout and fails the test on an error.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates the JavaScript expression js, which must give a string
// (or a promise of one), with the step timeout, and fails the test on an
// error.
func (b *browser) eval(t *testing.T, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", js, err)
	}
	return s
}

// evalJSON evaluates js, which must give a JSON text, into v.
func (b *browser) evalJSON(t *testing.T, js string, v any) {
	t.Helper()
	s := b.eval(t, js)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("evaluating %.80q: the result is not the JSON expected: %v: %s", js, err, s)
	}
}

// poll waits until the JavaScript expression js is truthy and returns its
// value as a string, failing the test after the step timeout.
func (b *browser) poll(t *testing.T, what, js string) string {
	t.Helper()
	return b.pollWithin(t, what, js, browserStepTimeout)
}

// pollWithin is poll waiting up to d.
func (b *browser) pollWithin(t *testing.T, what, js string, d time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, d+5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Poll[string](js,
		chromedp.WithPollingInterval(pollInterval),
		chromedp.WithPollingTimeout(d)))
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return s
}

// screenshot saves a screenshot of the whole page as NAME.png in the
// artifacts directory and logs its path; a failure to do so is logged, not
// fatal, so that it cannot hide the test's own result.
func (b *browser) screenshot(t *testing.T, name string) string {
	t.Helper()
	dir, err := artifactsDir()
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return ""
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return ""
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(img))
	return path
}

// artifactsDir returns the directory where the browser tests leave their
// screenshots, which outlives the test: $E2E_ARTIFACTS, else
// postpolicy-e2e-artifacts in the temporary directory.
func artifactsDir() (string, error) {
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "postpolicy-e2e-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making the artifacts directory: %v", err)
	}
	return dir, nil
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// noisePNG returns a valid PNG of w×h pixels of seeded noise, which does
// not compress: its size is about 4·w·h bytes.
func noisePNG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for y := range h {
		for x := range w {
			v := r.Uint32()
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(v), G: uint8(v >> 8), B: uint8(v >> 16), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withoutDBus returns Chromium's output without its lines about D-Bus,
// which it complains about at every start in a container and which are
// harmless.
func withoutDBus(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.Contains(line, "dbus") {
			b.WriteString(line)
		}
	}
	return b.String()
}
