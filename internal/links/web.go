package links

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/links/store"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// pages holds the parsed templates; parsed once at start.
type pages struct {
	index, stats, notFound, errorPage *template.Template
}

func mustPages() *pages {
	parse := func(name string) *template.Template {
		return template.Must(template.ParseFS(webFS, "web/templates/layout.html", "web/templates/"+name))
	}
	return &pages{
		index:     parse("index.html"),
		stats:     parse("stats.html"),
		notFound:  parse("notfound.html"),
		errorPage: parse("error.html"),
	}
}

// staticHandler serves the embedded files under /static/, and nothing
// else: a directory (/static/ itself) is a 404, not a listing.
func (h *handler) staticHandler() http.Handler {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() || strings.HasSuffix(r.URL.Path, "/") {
			h.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// pageCSP is the Content-Security-Policy of every HTML page.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render executes a template into a buffer first so a template error never
// leaves a half-written page with a 200 status.
func render(w http.ResponseWriter, t *template.Template, status int, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "internal error rendering page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages load only our own stylesheet: no script at all, no frames.
	h.Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (p *pages) renderNotFound(w http.ResponseWriter) {
	render(w, p.notFound, http.StatusNotFound, nil)
}

func (p *pages) renderError(w http.ResponseWriter, status int, msg string) {
	render(w, p.errorPage, status, map[string]any{"Message": msg, "Status": status})
}

type indexData struct {
	Error string
	URL   string
	Slug  string
	// NeedToken asks for the create token in the form (CREATE_TOKEN set).
	NeedToken bool
	// Recent are the links created from this browser (the recent cookie),
	// never other visitors' links.
	Recent []linkView
	// ListError says the recent links could not be loaded; the form still works.
	ListError bool
}

type linkView struct {
	Slug, URL, ShortURL, Created string
}

// The start page lists only the links this browser created, remembered in
// a cookie. It used to list the ten newest links of everyone: that shows
// every visitor what anyone shortened (private documents, spam, phishing,
// advertised for free on our page) and makes the page cost a table query.
const (
	recentCookie = "links_recent"
	recentMax    = 10
	recentMaxAge = 30 * 24 * time.Hour
)

type recentEntry struct {
	slug    string
	created time.Time
}

// parseRecent reads the cookie's "slug:unixseconds" entries joined by
// '.'; whatever is not such an entry is dropped (the cookie is the
// visitor's to edit).
func parseRecent(r *http.Request) []recentEntry {
	c, err := r.Cookie(recentCookie)
	if err != nil {
		return nil
	}
	var out []recentEntry
	for _, e := range strings.Split(c.Value, ".") {
		slug, secs, ok := strings.Cut(e, ":")
		n, err := strconv.ParseInt(secs, 10, 64)
		if !ok || err != nil || !validSlug(slug) || n < 0 || len(out) == recentMax {
			continue
		}
		out = append(out, recentEntry{slug: slug, created: time.Unix(n, 0)})
	}
	return out
}

// rememberRecent puts a new link first in the cookie.
func (h *handler) rememberRecent(w http.ResponseWriter, r *http.Request, l store.Link) {
	parts := []string{l.Slug + ":" + strconv.FormatInt(l.CreatedAt.Unix(), 10)}
	for _, e := range parseRecent(r) {
		if e.slug != l.Slug && len(parts) < recentMax {
			parts = append(parts, e.slug+":"+strconv.FormatInt(e.created.Unix(), 10))
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: recentCookie, Value: strings.Join(parts, "."), Path: "/",
		MaxAge: int(recentMaxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(h.baseURL(r), "https://"),
	})
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.renderIndex(w, r, http.StatusOK, indexData{})
}

func (h *handler) renderIndex(w http.ResponseWriter, r *http.Request, status int, d indexData) {
	d.NeedToken = h.cfg.CreateToken != ""
	if entries := parseRecent(r); len(entries) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		defer cancel()
		base := h.baseURL(r)
		for _, e := range entries {
			// Resolve is the cached lookup the redirect uses: showing a
			// visitor's own links costs no table read once they are warm.
			target, err := h.st.Resolve(ctx, e.slug)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since
			}
			if err != nil {
				storeFailed(w, err)
				d.ListError = true
				break
			}
			d.Recent = append(d.Recent, linkView{
				Slug: e.slug, URL: target, ShortURL: base + "/" + e.slug,
				Created: e.created.UTC().Format("2006-01-02 15:04 UTC"),
			})
		}
	}
	render(w, h.pages.index, status, d)
}

// createForm handles the HTML form (application/x-www-form-urlencoded), so
// the page works without JavaScript: success redirects (303) to the stats
// page, an error shows the form again with the message. A form posted
// from another site is refused (Sec-Fetch-Site, or Origin against Host).
func (h *handler) createForm(w http.ResponseWriter, r *http.Request) {
	if err := h.crossOrigin.Check(r); err != nil {
		h.renderIndex(w, r, http.StatusForbidden, indexData{Error: "This form can only be sent from this site's own page."})
		return
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r)
			return
		}
		h.renderIndex(w, r, http.StatusBadRequest, indexData{Error: "The form could not be read; reload the page and try again."})
		return
	}
	rawURL, slug, token := r.PostForm.Get("url"), r.PostForm.Get("slug"), r.PostForm.Get("token")
	if status, msg := h.admitCreate(w, r, token, token != ""); status != 0 {
		if status == http.StatusUnauthorized {
			msg = "Enter the create token: this service lets only its owners shorten links."
		}
		h.renderIndex(w, r, status, indexData{Error: msg, URL: rawURL, Slug: slug})
		return
	}
	l, status, msg := h.create(w, r, rawURL, slug)
	if status != http.StatusCreated {
		h.renderIndex(w, r, status, indexData{Error: msg, URL: rawURL, Slug: slug})
		return
	}
	h.rememberRecent(w, r, l)
	http.Redirect(w, r, "/s/"+l.Slug, http.StatusSeeOther)
}

// Chart geometry of the stats page's SVG, in user units.
const (
	chartW, chartH = 560, 220
	chartTop       = 20 // room for the count above the tallest bar
	chartBottom    = 30 // room for the day labels
	chartBarGap    = 12
)

type chartBar struct {
	X, Y, W, H int
	LabelX     int
	Day, Short string
	Clicks     int64
}

type statsData struct {
	Link      linkView
	Total     int64
	Bars      []chartBar
	Width     int
	Height    int
	BaselineY int
}

// chartBars lays out one bar per day, scaled to the busiest day.
func chartBars(days []store.DayCount) []chartBar {
	if len(days) == 0 {
		return nil
	}
	var peak int64 = 1
	for _, d := range days {
		peak = max(peak, d.Clicks)
	}
	slot := chartW / len(days)
	plotH := chartH - chartTop - chartBottom
	bars := make([]chartBar, len(days))
	for i, d := range days {
		h := int(d.Clicks * int64(plotH) / peak)
		if d.Clicks > 0 && h < 2 {
			h = 2 // a day with clicks stays visible
		}
		short := d.Day
		if len(short) == len("2006-01-02") {
			short = short[5:]
		}
		bars[i] = chartBar{
			X: i*slot + chartBarGap/2, W: slot - chartBarGap,
			Y: chartTop + plotH - h, H: h,
			LabelX: i*slot + slot/2,
			Day:    d.Day, Short: short, Clicks: d.Clicks,
		}
	}
	return bars
}

func (h *handler) statsPage(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		h.notFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	st, err := h.st.Stats(ctx, slug, h.now(), statsDays)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.pageTableDown(w, r, err)
		return
	}
	render(w, h.pages.stats, http.StatusOK, statsData{
		Link: linkView{
			Slug: st.Slug, URL: st.URL, ShortURL: h.baseURL(r) + "/" + st.Slug,
			Created: st.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		},
		Total:     st.Total,
		Bars:      chartBars(st.Days),
		Width:     chartW,
		Height:    chartH,
		BaselineY: chartH - chartBottom,
	})
}
