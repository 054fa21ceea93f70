package links

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/links/store"
)

// Listing limits for GET /api/links.
const (
	defaultLimit = 20
	maxLimit     = 100
)

// slugAttempts bounds retries when a generated slug is taken. With 62^7
// slugs a second collision in a row means something else is wrong.
const slugAttempts = 5

type createRequest struct {
	URL  string `json:"url"`
	Slug string `json:"slug"`
}

type linkJSON struct {
	Slug      string `json:"slug"`
	URL       string `json:"url"`
	ShortURL  string `json:"short_url"`
	CreatedAt string `json:"created_at"`
}

type statsJSON struct {
	linkJSON
	TotalClicks int64     `json:"total_clicks"`
	Days        []dayJSON `json:"days"`
}

type dayJSON struct {
	Day    string `json:"day"`
	Clicks int64  `json:"clicks"`
}

type listJSON struct {
	Links      []linkJSON `json:"links"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

type errorJSON struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are marshalled; they always encode.
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorJSON{Error: msg})
}

func (h *handler) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, http.StatusNotFound, "no such API route; see GET /api/links")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSONError(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow)
}

// apiLinks serves /api/links: POST creates, GET lists.
func (h *handler) apiLinks(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.apiCreate(w, r)
	case http.MethodGet, http.MethodHead:
		h.apiList(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// apiLink serves /api/links/{slug}: GET shows, DELETE removes.
func (h *handler) apiLink(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.apiStats(w, r)
	case http.MethodDelete:
		h.apiDelete(w, r)
	default:
		methodNotAllowed(w, "GET, DELETE")
	}
}

func (h *handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	token, sent := bearerToken(r)
	if status, msg := h.admitCreate(w, r, token, sent); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="links"`)
		}
		writeJSONError(w, status, msg)
		return
	}
	// Only application/json: a cross-site HTML form can send text/plain
	// or form bodies without a CORS preflight, never application/json.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSONError(w, http.StatusUnsupportedMediaType, "send the body as JSON with Content-Type: application/json")
		return
	}
	var req createRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields() // a typo like "slg" is an error, not an ignored field
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r)
			return
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			writeJSONError(w, http.StatusBadRequest, "unknown field "+field+`; the fields are "url" and "slug"`)
			return
		}
		writeJSONError(w, http.StatusBadRequest, `body must be a JSON object like {"url": "https://example.com", "slug": "optional"}`)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r)
			return
		}
		writeJSONError(w, http.StatusBadRequest, "body must hold exactly one JSON object")
		return
	}
	l, status, msg := h.create(w, r, req.URL, req.Slug)
	if status != http.StatusCreated {
		writeJSONError(w, status, msg)
		return
	}
	w.Header().Set("Location", "/api/links/"+l.Slug)
	writeJSON(w, http.StatusCreated, h.linkJSON(r, l))
}

// admitCreate decides whether a create may go ahead, before its body is
// read: the client's rate limit first (so guessing the token is limited
// too), then the create token. It returns 0 when admitted, else the status
// and message; a 429 also sets Retry-After.
func (h *handler) admitCreate(w http.ResponseWriter, r *http.Request, token string, sent bool) (int, string) {
	client, ok := clientAddr(r, h.cfg.TrustedProxyHops)
	if !ok {
		client = netip.IPv4Unspecified() // unreadable: one shared budget
	}
	if allowed, wait := h.creates.allow(client, h.now()); !allowed {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return http.StatusTooManyRequests, fmt.Sprintf("too many links created from your address; try again in %d s", secs)
	}
	if h.cfg.CreateToken == "" {
		return 0, ""
	}
	if !sent {
		return http.StatusUnauthorized, "creating links needs the create token: send Authorization: Bearer <CREATE_TOKEN>"
	}
	if !tokenMatches(token, h.cfg.CreateToken) && !tokenMatches(token, h.cfg.AdminToken) {
		return http.StatusForbidden, "the create token is wrong"
	}
	return 0, ""
}

// create validates and stores a link, generating a slug when none is given.
// It returns the HTTP status and, when not 201, a message for the user.
func (h *handler) create(w http.ResponseWriter, r *http.Request, rawURL, slug string) (store.Link, int, string) {
	if err := ValidateURL(rawURL); err != nil {
		return store.Link{}, http.StatusBadRequest, err.Error()
	}
	if slug != "" {
		if err := ValidateSlug(slug); err != nil {
			return store.Link{}, http.StatusBadRequest, err.Error()
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		l := store.Link{Slug: slug, URL: rawURL, CreatedAt: h.now().UTC()}
		if slug == "" {
			s, err := NewSlug(GeneratedSlugLen)
			if err != nil {
				storeFailed(w, err)
				return store.Link{}, http.StatusInternalServerError, "could not generate a slug"
			}
			if !validSlug(s) { // a reserved word such as "healthz"
				continue
			}
			l.Slug = s
		}
		err := h.st.Create(ctx, l)
		switch {
		case err == nil:
			return l, http.StatusCreated, ""
		case errors.Is(err, store.ErrExists) && slug != "":
			return store.Link{}, http.StatusConflict, "slug " + strconv.Quote(slug) + " is taken; choose another or leave it empty"
		case errors.Is(err, store.ErrExists) && attempt+1 < slugAttempts:
			continue
		default:
			storeFailed(w, err)
			return store.Link{}, http.StatusServiceUnavailable, apiTableDownMsg
		}
	}
}

func (h *handler) apiList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			writeJSONError(w, http.StatusBadRequest, "limit must be a whole number from 1 to 100")
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	page, err := h.st.List(ctx, limit, q.Get("cursor"))
	if errors.Is(err, store.ErrBadCursor) {
		writeJSONError(w, http.StatusBadRequest, "cursor is not one this service returned; start again without it")
		return
	}
	if err != nil {
		apiTableDown(w, r, err)
		return
	}
	out := listJSON{Links: make([]linkJSON, 0, len(page.Links)), NextCursor: page.Cursor}
	for _, l := range page.Links {
		out.Links = append(out.Links, h.linkJSON(r, l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) apiStats(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		writeJSONError(w, http.StatusNotFound, "no link with this slug")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	st, err := h.st.Stats(ctx, slug, h.now(), statsDays)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no link with this slug")
		return
	}
	if err != nil {
		apiTableDown(w, r, err)
		return
	}
	out := statsJSON{linkJSON: h.linkJSON(r, st.Link), TotalClicks: st.Total, Days: make([]dayJSON, 0, len(st.Days))}
	for _, d := range st.Days {
		out.Days = append(out.Days, dayJSON{Day: d.Day, Clicks: d.Clicks})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) apiDelete(w http.ResponseWriter, r *http.Request) {
	status, msg := h.authorize(r)
	if status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="links"`)
		}
		writeJSONError(w, status, msg)
		return
	}
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		writeJSONError(w, http.StatusNotFound, "no link with this slug")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	err := h.st.Delete(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no link with this slug")
		return
	}
	if err != nil {
		apiTableDown(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// authorize checks the admin bearer token. It returns 0 when allowed,
// else the status and message to answer with. With no ADMIN_TOKEN
// configured nothing is allowed.
func (h *handler) authorize(r *http.Request) (int, string) {
	given, ok := bearerToken(r)
	if !ok {
		return http.StatusUnauthorized, "send Authorization: Bearer <ADMIN_TOKEN>"
	}
	if !tokenMatches(given, h.cfg.AdminToken) {
		return http.StatusForbidden, "the admin token is wrong"
	}
	return 0, ""
}

// bearerToken is the token of an "Authorization: Bearer <token>" header
// (the scheme in any case); ok is false when there is no such header.
func bearerToken(r *http.Request) (token string, ok bool) {
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(auth[len(prefix):]), true
}

// tokenMatches compares in constant time; an unset token matches nothing.
func tokenMatches(given, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(given), []byte(want)) == 1
}

func (h *handler) linkJSON(r *http.Request, l store.Link) linkJSON {
	return linkJSON{
		Slug:      l.Slug,
		URL:       l.URL,
		ShortURL:  h.baseURL(r) + "/" + l.Slug,
		CreatedAt: l.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// baseURL is Config.BaseURL, or the scheme and host the request came in on
// (X-Forwarded-Proto is set by the ALB and API Gateway in front of us).
func (h *handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimRight(h.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
