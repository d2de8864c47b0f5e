package main

// The site in a real browser against a real provider: headless Chromium
// (Debian's chromium, driven through the DevTools protocol by chromedp)
// signs in through npm oidc-provider's own login and consent pages
// (interop/signin-provider.mjs), lands on the signed-in page, is refused
// the role-guarded page, signs out (at the site and, through RP-initiated
// logout, at the provider) and is signed out; then a user with the role
// signs in and sees the page, and a login that asks to land on another
// site lands on the site's home page.
//
// It needs Chromium and Node with interop/node_modules installed, so it
// runs only when AUTHGATE_TEST_CHROMIUM names the browser (.ci/run sets it
// and AUTHGATE_INTEROP_DIR). Once switched on, a missing piece is a
// failure, never a skip.

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/authgate/signin"
)

func TestBrowserSignIn(t *testing.T) {
	chrome := os.Getenv("AUTHGATE_TEST_CHROMIUM")
	if chrome == "" {
		t.Skip("AUTHGATE_TEST_CHROMIUM not set: the real-browser sign-in test needs headless Chromium and npm oidc-provider (.ci/run installs both and sets it)")
	}
	dir := os.Getenv("AUTHGATE_INTEROP_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "interop")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("AUTHGATE_TEST_CHROMIUM is set but npm oidc-provider is not installed (npm ci in %s): %v", dir, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := "http://" + ln.Addr().String()
	issuer := startProvider(t, dir, app)
	h, _, err := newHandler(options{Issuer: issuer, ClientID: "webapp", ClientSecret: "webapp-secret", URL: app,
		Keys: []signin.Key{signin.NewKey("k1")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("headless", "new"),
		// Only loopback: every other host name fails at once (the
		// provider's pages import a web font; the test never leaves the
		// machine).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The browser starts on this first call, without a deadline (one
	// would stop the browser); each step then has its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	value := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, a)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return strings.TrimSpace(s)
	}
	text := func(step, sel string) string {
		t.Helper()
		run(step, chromedp.WaitVisible(sel))
		return value(step, chromedp.Text(sel))
	}
	location := func() string { return value("reading the location", chromedp.Location()) }
	consent := func() bool {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`!!document.querySelector('input[name="prompt"][value="consent"]')`))
		if err != nil {
			t.Fatalf("looking for the consent page: %v", err)
		}
		return ok
	}

	// A public page, nobody signed in.
	run("open the public page", chromedp.Navigate(app+"/"))
	if got := text("public page", "#title"); got != "Welcome" {
		t.Fatalf("public page title = %q", got)
	}

	// The signed-in page sends the browser to the provider's login.
	run("open the signed-in page", chromedp.Navigate(app+"/me"))
	signInAs(t, run, location, consent, app, "bob")
	if loc := location(); loc != app+"/me" {
		t.Fatalf("after sign-in the browser is at %s, want %s/me", loc, app)
	}
	if got := text("signed-in page", "#name"); got != "Bob" {
		t.Fatalf("signed-in page shows name %q, want Bob", got)
	}
	if got := text("signed-in page", "#roles"); got != "reader" {
		t.Fatalf("signed-in page shows roles %q, want reader", got)
	}
	cookies := value("read document.cookie", chromedp.Evaluate[string](`document.cookie`))
	if strings.Contains(cookies, "authgate") {
		t.Fatalf("the session cookie is readable by scripts: %q", cookies)
	}

	// The role-guarded page is refused to a user without the role.
	run("open the admin page as bob", chromedp.Navigate(app+"/admin"))
	if got := text("admin page as bob", "h1"); got != "Forbidden" {
		t.Fatalf("admin page for bob shows %q, want Forbidden", got)
	}

	// Sign out: the site, then the provider's logout confirmation.
	run("back to the signed-in page", chromedp.Navigate(app+"/me"))
	run("sign out", chromedp.WaitVisible("#logout"), chromedp.Click("#logout"))
	run("confirm at the provider", chromedp.WaitVisible(`button[name="logout"][value="yes"]`), chromedp.Click(`button[name="logout"][value="yes"]`))
	run("back on the site", chromedp.WaitVisible("#login"))
	if loc := location(); loc != app+"/" {
		t.Fatalf("after sign-out the browser is at %s, want %s/", loc, app)
	}
	// Signed out: the signed-in page asks for a login again.
	run("open the signed-in page signed out", chromedp.Navigate(app+"/me"))
	run("the provider asks for a login", chromedp.WaitVisible(`input[name="login"]`))

	// A user with the role sees the guarded page.
	signInAs(t, run, location, consent, app, "alice")
	run("open the admin page as alice", chromedp.Navigate(app+"/admin"))
	if got := text("admin page as alice", "#title"); got != "Administration" {
		t.Fatalf("admin page for alice shows %q, want Administration", got)
	}

	// An open-redirect attempt: the provider's session signs alice in
	// again at once, and the site lands on its own home page, not there.
	run("login with a foreign next", chromedp.Navigate(app+"/login?next="+url.QueryEscape("https://evil.example.test/")))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.HasPrefix(location(), app) && time.Now().Before(deadline) {
		if consent() {
			run("consent", chromedp.Click(`button[type="submit"]`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	run("landing", chromedp.WaitVisible("#title"))
	if loc := location(); loc != app+"/" {
		t.Fatalf("sign-in with next=https://evil.example.test/ landed on %s, want %s/", loc, app)
	}
}

// signInAs fills the provider's login page with user, passes its consent
// page and waits until the browser is back on the site.
func signInAs(t *testing.T, run func(string, ...chromedp.Action[chromedp.Void]), location func() string, consent func() bool, app, user string) {
	t.Helper()
	run("provider login page", chromedp.WaitVisible(`input[name="login"]`),
		chromedp.SendKeys(`input[name="login"]`, user),
		chromedp.SendKeys(`input[name="password"]`, "any password"),
		chromedp.Click(`button[type="submit"]`))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.HasPrefix(location(), app) {
			return
		}
		if consent() {
			run("consent", chromedp.Click(`button[type="submit"]`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("signing in as %s did not return to the site; the browser is at %s", user, location())
}

// startProvider starts interop/signin-provider.mjs for the site at app and
// returns its issuer; the process is killed at the end of the test.
func startProvider(t *testing.T, dir, app string) string {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "signin-provider.mjs"), "0", app)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting signin-provider.mjs: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- line
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case issuer := <-ready:
		return strings.TrimSpace(issuer)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("signin-provider.mjs did not print its ready line within 60 s; it said: %.2000s", stderr.String())
	}
	return ""
}
