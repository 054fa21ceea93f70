package links

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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
	skipWithoutChromium(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>target</title><p id="arrived">you arrived at ` + r.URL.Path + `</p>`))
	}))
	t.Cleanup(target.Close)
	s := newTestService(t, Config{})
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)

	bctx := newBrowser(t)

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

// skipWithoutChromium skips the test when there is no browser (or -short),
// unless LOWFARE_REQUIRE_CHROMIUM=1 makes that a failure.
func skipWithoutChromium(t *testing.T) {
	t.Helper()
	if findChromium() == "" {
		if os.Getenv("LOWFARE_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("chromium is required (LOWFARE_REQUIRE_CHROMIUM=1) but no chromium binary was found")
		}
		t.Skip("no chromium binary found (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
}

// newBrowser starts a headless Chromium for the test and returns its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(findChromium()),
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
		chromedp.Flag("hide-scrollbars", true), // screenshots without scrollbar gutters
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// layout is what TestPhoneWidth measures on a page, in CSS pixels.
type layout struct {
	ScrollWidth, ClientWidth float64  // of the document
	Overflowing              []string // elements reaching past the viewport's right edge
	TargetWidth              float64  // narrowest td.target
	Clipped                  []string // cells whose text is cut off (scrollWidth > clientWidth)
}

const measureLayout = `(() => {
  const de = document.documentElement, cw = de.clientWidth;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const over = [], clipped = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > cw + 0.5) over.push(name(e) + ' right=' + Math.round(r.right));
  }
  for (const e of document.querySelectorAll('table.recent td, dl.link dd')) {
    if (e.scrollWidth > e.clientWidth + 1) clipped.push(name(e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
  }
  const targets = Array.from(document.querySelectorAll('td.target')).map(e => e.getBoundingClientRect().width);
  return {ScrollWidth: de.scrollWidth, ClientWidth: cw, Overflowing: over, TargetWidth: targets.length ? Math.min(...targets) : 0, Clipped: clipped};
})()`

// TestPhoneWidth opens the start page and a stats page at a phone's width
// (390 CSS px, an iPhone 12 to 15) with long targets and a long slug: the
// page must not scroll sideways, a long target must keep a readable width,
// and no cell (Created, stats) may be cut off. The screenshots go to the
// test's artifact directory (go test -artifacts -outputdir DIR).
func TestPhoneWidth(t *testing.T) {
	skipWithoutChromium(t)
	s := newTestService(t, Config{})
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)
	bctx := newBrowser(t)

	longSlug := strings.Repeat("long-slug_", 6) + "abcd" // 64 characters, the maximum
	links := []struct{ url, slug string }{
		{"https://example.com/" + strings.Repeat("averyveryverylongpathsegmentwithoutanybreaks", 8) + "?q=" + strings.Repeat("x", 200), longSlug},
		{"https://docs.example.org/guide/chapter-7/section-3/a-page-with-a-long-name.html#and-an-anchor-that-goes-on", ""},
		{"https://example.net/", "short"},
	}
	for _, l := range links {
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(srv.URL + "/"),
			chromedp.WaitVisible(chromedp.CSS("#url")),
			chromedp.SetValue(chromedp.CSS("#url"), l.url),
		}
		if l.slug != "" {
			steps = append(steps, chromedp.SetValue(chromedp.CSS("#slug"), l.slug))
		}
		steps = append(steps, chromedp.Click(chromedp.CSS("#shorten")), chromedp.WaitVisible(chromedp.CSS("#chart")))
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("creating %s through the form: %v", l.slug, err)
		}
	}
	pages := []struct {
		name, path, ready string
		width             int64
	}{
		{"home", "/", "table.recent", 390},
		{"stats", "/s/" + longSlug, "#chart", 390},
		{"home", "/", "table.recent", 1024}, // the table layout on a desktop
	}
	for _, p := range pages {
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(p.width, 844), chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		got := run(t, bctx, chromedp.Evaluate[layout](measureLayout))
		shot := run(t, bctx, chromedp.FullScreenshot(100) /* 100: PNG */)
		file := filepath.Join(t.ArtifactDir(), fmt.Sprintf("%s-%dpx.png", p.name, p.width))
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s at %d px: %+v; screenshot %s", p.name, p.width, got, file)
		if got.ClientWidth != float64(p.width) {
			t.Fatalf("%s: viewport is %v px wide, want %d", p.name, got.ClientWidth, p.width)
		}
		if got.ScrollWidth > got.ClientWidth {
			t.Errorf("%s scrolls sideways at 390 px: scrollWidth %v > clientWidth %v; past the edge: %v", p.name, got.ScrollWidth, got.ClientWidth, got.Overflowing)
		}
		if len(got.Overflowing) > 0 {
			t.Errorf("%s: elements past the right edge: %v", p.name, got.Overflowing)
		}
		if len(got.Clipped) > 0 {
			t.Errorf("%s: cut-off cells: %v", p.name, got.Clipped)
		}
		if p.name == "home" && p.width == 390 && got.TargetWidth < 0.75*got.ClientWidth {
			t.Errorf("home: a long target is squeezed into %v px of %v", got.TargetWidth, got.ClientWidth)
		}
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
