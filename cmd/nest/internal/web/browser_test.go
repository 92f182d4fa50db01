package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redisimnest/nest/cmd/nest/internal/web"
)

// screenshot is where TestBrowser saves the page (committed, for the
// README and reviews).
var screenshot = filepath.Join("..", "..", "testdata", "ui-screenshot.png")

// chromium returns Debian's chromium (or another Chrome) or skips the test;
// under NEST_REQUIRE_REDIS=1 (make test) a missing browser fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("NEST_REQUIRE_REDIS") == "1" {
		t.Fatal("chromium not found in PATH, and NEST_REQUIRE_REDIS=1 requires it: run 'make chromium' (apt-get install chromium)")
	}
	t.Skip("chromium not found in PATH; skipping (set NEST_REQUIRE_REDIS=1 to fail instead; 'make chromium' installs it)")
	return ""
}

// TestBrowser loads the page in headless chromium from a seeded Redis,
// waits for the tree, checks the rendered figures and the memory chart,
// clicks a key and reads its decoded value, checks that a password's
// value is refused, and saves a screenshot.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	f := newFixture(t)
	srv := f.server(t, web.Options{})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1400, 1000))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// Start the browser without a deadline (a deadline on the first Run
	// would stop it), then bound each step.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	nameRow := `#tree .key[data-template="app:user:{user_id}:name"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(nameRow)),
	); err != nil {
		t.Fatalf("the tree did not render: %v", err)
	}
	tree, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#tree")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"app:user:{user_id}", "profile", "api_token", "secret", "password"} {
		if !strings.Contains(tree, want) {
			t.Errorf("tree text lacks %q:\n%s", want, tree)
		}
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(nameRow+" .count")))
	if err != nil || strings.TrimSpace(count) != "12" {
		t.Errorf("count of app:user:{user_id}:name = %q, %v; want 12", count, err)
	}
	if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#summary"))); err != nil || !strings.Contains(s, "keys on 1 server") {
		t.Errorf("summary = %q, %v", s, err)
	}
	if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#others"))); err != nil || !strings.Contains(s, "app:stray:{}") || !strings.Contains(s, "orphan") {
		t.Errorf("orphans = %q, %v", s, err)
	}

	// The memory chart: one bar per measured template, drawn by the JS.
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#memchart svg rect.bar").length`))
	if err != nil || bars < 5 {
		t.Errorf("memory chart: %d bars, %v; want one per measured template", bars, err)
	}
	chart, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#memchart svg").textContent`))
	if err != nil || !strings.Contains(chart, "app:user:{user_id}:name") {
		t.Errorf("memory chart labels = %q, %v", chart, err)
	}
	hists, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tree svg.hist").length`))
	if err != nil || hists < 8 {
		t.Errorf("TTL histograms: %d, %v; want one per declared key", hists, err)
	}

	// Click a template, then a key: its decoded value.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#tree .key[data-template="app:user:{user_id}:profile"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#keys li[data-key="app:user:2:profile"]`)),
		chromedp.Click(chromedp.CSS(`#keys li[data-key="app:user:2:profile"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#value-json`)),
	); err != nil {
		t.Fatalf("clicking a key: %v", err)
	}
	val, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#value-json")))
	if err != nil || !strings.Contains(val, `"city": "Lyon"`) || !strings.Contains(val, `"go"`) {
		t.Errorf("decoded value = %q, %v", val, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	// A password key: the page shows the server's refusal, never the hash.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#tree .key[data-template="app:user:{user_id}:password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#keys li[data-key="app:user:1:password"]`)),
		chromedp.Click(chromedp.CSS(`#keys li[data-key="app:user:1:password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#value .refused`)),
	); err != nil {
		t.Fatalf("clicking a password key: %v", err)
	}
	refusal, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#value")))
	if err != nil || !strings.Contains(refusal, "never shown") {
		t.Errorf("password value panel = %q, %v", refusal, err)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the rendered page", html)

	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if err := os.WriteFile(screenshot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", screenshot, len(png))
}
