package testenv

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// FindChromium returns the path of Debian's Chromium, or skips (fails when
// outside programs are required) the test that needs it for why.
func FindChromium(t testing.TB, why string) string {
	t.Helper()
	return LookPath(t, why, "chromium", "chromium-browser", "/usr/bin/chromium")
}

// ChromiumAllocator starts headless Chromium at path with the flags this
// workplace's closed network needs (no QUIC, no background networking,
// component updates or sync), a fresh profile in a test directory and a
// window of width x height. Cancel it to stop the browser.
func ChromiumAllocator(ctx context.Context, t testing.TB, path string, width, height int) (context.Context, context.CancelFunc) {
	t.Helper()
	return chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
}
