package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's chromium, headless, over the DevTools
// protocol (chromedp) against a real tokend on 127.0.0.1. They skip only
// when chromium is missing and CI is unset: in CI a missing chromium
// fails them (.ci/run installs it).

// stepTimeout bounds one group of browser steps. It is generous: the
// machine is shared, and a cold chromium can take seconds to start.
const stepTimeout = 2 * time.Minute

// browser is one chromium with one tab, a fresh profile, closed when the
// test ends.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// chromiumPath finds Debian's chromium or skips (fails in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("chromium is not installed (apt-get install chromium); the browser tests need it")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as ctx: no
	// timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	b.do(chromedp.EmulateViewport(1280, 800))
	return b
}

// do runs steps in the tab and fails the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// run runs one action that returns a value.
func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// location is the tab's URL, "" if it cannot be read.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return u
}

// text is the visible text of the first element that sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return run(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// visible reports whether sel matches an element that is shown.
func (b *browser) visible(sel string) bool {
	b.t.Helper()
	return run(b, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.checkVisibility(); })()`, sel)))
}

// submit fills the fields (CSS selector to text) and clicks the button,
// then waits until the next page has loaded and shows waitFor.
func (b *browser) submit(fields [][2]string, button, waitFor string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for _, f := range fields {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(f[0]), f[1], chromedp.NodeVisible))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible))
	b.navigate(steps...)
	b.do(chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// follow clicks the link or button sel, which leads to another page, and
// waits until that page has loaded and shows waitFor.
func (b *browser) follow(sel, waitFor string) {
	b.t.Helper()
	b.navigate(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	b.do(chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// navigate runs steps that end in a navigation (a click on a link or on a
// form's button) and returns once the page they lead to has loaded. A
// click returns as soon as it is dispatched, while the page it leaves is
// still shown: a WaitVisible right after it can match an element of that
// page (its own .error or .notice, or one a script of it shows late), and
// a step that reads such an element can lose it in mid-call when the
// navigation destroys its JavaScript context ("Cannot find context with
// specified id"). Both happened under load.
func (b *browser) navigate(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// noScript turns JavaScript off in the tab, to show a page works without it.
func (b *browser) noScript() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// Screen sizes of the screenshots: a laptop, and a phone (an iPhone
// 12-16's CSS viewport).
var screens = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

// screenshotDir is where TOKEND_SCREENSHOTS=1 writes the pictures, from
// this package's directory.
const screenshotDir = "../../docs/screenshots"

// shoot writes the current page at desktop and phone width to
// docs/screenshots/<name>-<screen>.png when TOKEND_SCREENSHOTS=1, so that
// a reviewer can look at every page; otherwise it does nothing.
func (b *browser) shoot(name string) {
	b.t.Helper()
	if os.Getenv("TOKEND_SCREENSHOTS") != "1" {
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	for _, s := range screens {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.do(chromedp.EmulateViewport(s.width, s.height, opts...))
		png := run(b, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(screenshotDir, name+"-"+s.name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do(chromedp.EmulateViewport(1280, 800))
}

// mustContain fails unless got holds every one of want.
func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
}
