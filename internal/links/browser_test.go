package links

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns a Chromium or Chrome binary, or "" when there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives a real headless Chromium through the no-JavaScript
// flow: open /, submit the form, follow the short link to a local target,
// open the stats page and find the chart with one click.
func TestBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("LOWFARE_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("chromium is required (LOWFARE_REQUIRE_CHROMIUM=1) but no chromium binary was found")
		}
		t.Skip("no chromium binary found (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>target</title><p id="arrived">you arrived at ` + r.URL.Path + `</p>`))
	}))
	t.Cleanup(target.Close)
	s := newTestService(t, Config{})
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	targetURL := target.URL + "/landing"
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css("#url")),
		chromedp.SendKeys(css("#url"), targetURL),
		chromedp.SendKeys(css("#slug"), "browsed"),
		chromedp.Click(css("#shorten")),
		chromedp.WaitVisible(css("#chart")),
	)
	if err != nil {
		t.Fatalf("submitting the form: %v", err)
	}
	statsURL := run(t, bctx, chromedp.Location())
	heading := run(t, bctx, chromedp.Text(css("h1")))
	if statsURL != srv.URL+"/s/browsed" || !strings.Contains(heading, "browsed") {
		t.Fatalf("after submitting: at %q with heading %q, want the stats page of browsed", statsURL, heading)
	}

	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/browsed"), chromedp.WaitVisible(css("#arrived"))); err != nil {
		t.Fatalf("following the short link: %v", err)
	}
	landed := run(t, bctx, chromedp.Location())
	arrived := run(t, bctx, chromedp.Text(css("#arrived")))
	if landed != targetURL || !strings.Contains(arrived, "/landing") {
		t.Fatalf("short link led to %q (%q), want %q", landed, arrived, targetURL)
	}

	// Clicks are buffered; write them before reading the stats page.
	s.flush(t)
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/s/browsed"), chromedp.WaitVisible(css("#chart"))); err != nil {
		t.Fatalf("opening the stats page: %v", err)
	}
	total := run(t, bctx, chromedp.Text(css("#total")))
	clicksToday := run(t, bctx, chromedp.AttributeValue(css("#chart g.day:last-of-type"), "data-clicks")).Value
	days := run(t, bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#chart g.day')).map(g => g.dataset.clicks)`))
	if total != "1" || clicksToday != "1" {
		t.Errorf("stats page shows total %q, today %q; want 1 and 1", total, clicksToday)
	}
	if strings.Join(days, ",") != "0,0,0,0,0,0,1" {
		t.Errorf("chart bars %v, want six empty days and one click today", days)
	}
}

// run runs one browser action and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}
