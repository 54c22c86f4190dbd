package refserver_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// TestBrowserEnroll runs the console's Account Protection flow in real
// Chromium: sign in, Enable MFA, read the key (from a screenshot of the
// QR code, or from the text under "Scan failed?"), bind two consecutive
// codes of the emulator's account, sign out, sign in with password and a
// fresh code. The server's clock is a manual one, advanced a step between
// bind and sign-in (replay is by step), while Chromium runs in real time.
func TestBrowserEnroll(t *testing.T) {
	chromium := testenv.FindChromium(t, "browser test")
	for _, how := range []string{"qr", "manual"} {
		t.Run(how, func(t *testing.T) { browserEnroll(t, chromium, how) })
	}
}

func browserEnroll(t *testing.T, chromium, how string) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	clk := clock.NewManual(time.Now().Truncate(30 * time.Second).Add(3 * time.Second))
	opts := refserver.DefaultOptions()
	opts.Clock = clk
	srv, err := refserver.Start(ctx, "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	actx, acancel := testenv.ChromiumAllocator(ctx, t, chromium, 1280, 1200)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s (%s): %v", what, how, err)
		}
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("reading #%s (%s): %v", id, how, err)
		}
		return s
	}
	signIn := chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), refserver.DemoUser),
		chromedp.SendKeys(chromedp.ID("password"), refserver.DemoPassword),
		chromedp.Click(chromedp.ID("signin")),
	)

	run("open the console and sign in", chromedp.Navigate(srv.URL+"/console/"), signIn, chromedp.WaitVisible(chromedp.ID("enable-mfa")))
	run("enable MFA", chromedp.Click(chromedp.ID("enable-mfa")), chromedp.WaitVisible(chromedp.ID("qr")))

	var acct *emulator.Account
	switch how {
	case "qr":
		shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot of the enrollment page: %v", err)
		}
		if err := os.WriteFile("/tmp/refserver-enroll.png", shot, 0o644); err != nil {
			t.Logf("saving the screenshot: %v", err)
		}
		qrs, err := scanner.DecodeImageBytes(ctx, "enrollment screenshot", shot, scanner.DecodeOptions{})
		if err != nil || len(qrs) != 1 {
			t.Fatalf("decoding the screenshot (saved in /tmp/refserver-enroll.png): %d codes, %v", len(qrs), err)
		}
		key, findings := scanner.ParseURI(qrs[0].Text)
		if key == nil || scanner.HasError(findings) {
			t.Fatalf("the QR payload does not parse: %v", findings)
		}
		if key.Issuer != opts.Issuer || key.Account != refserver.DemoUser || key.SecretBits() != 160 {
			t.Errorf("scanned key %v: want issuer %q, account %q, 160 bits", key, opts.Issuer, refserver.DemoUser)
		}
		t.Logf("screenshot: QR version %d, %.1f px per module, quiet zone %.1f modules", qrs[0].Version, qrs[0].ModulePx, qrs[0].QuietZoneModules)
		if acct, err = emulator.AccountFromURI(qrs[0].Text); err != nil {
			t.Fatal(err)
		}
	case "manual":
		account, issuer, key := text("manual-account"), text("manual-issuer"), text("manual-key")
		if !strings.Contains(key, " ") {
			t.Errorf("manual key is not grouped: %d characters without spaces", len(key))
		}
		if acct, err = emulator.ManualEntry(account, key, issuer); err != nil {
			t.Fatal(err)
		}
	}

	step, err := acct.Step(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	run("type two consecutive codes and press Next",
		chromedp.SendKeys(chromedp.ID("code1"), acct.CodeAtStep(step-1)),
		chromedp.SendKeys(chromedp.ID("code2"), acct.CodeAtStep(step)),
		chromedp.Click(chromedp.ID("next")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	if notice := text("notice"); !strings.Contains(notice, "MFA is enabled") {
		t.Fatalf("after Next: notice %q", notice)
	}

	run("sign out and sign in with the password", chromedp.Click(chromedp.ID("signout")), signIn, chromedp.WaitVisible(chromedp.ID("code")))
	clk.Advance(30 * time.Second) // a fresh code: replay is by step
	code, err := acct.Code(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	run("type a fresh code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("mfa-status")),
	)
	if status := text("mfa-status"); !strings.HasPrefix(status, "Enabled") {
		t.Errorf("signed in with password and code: MFA status %q, want Enabled", status)
	}
}
