// Package web is `nest ui`: an http.Handler serving a page (one HTML, one
// JS and one CSS file, embedded, no framework, nothing fetched from
// elsewhere) and a small JSON API over the inspect layer:
//
//	GET  /api/schema              the schema model (inspect.Model)
//	GET  /api/tree                live counts, memory and TTLs per template (inspect.TreeReport)
//	GET  /api/keys?template=T     up to 50 names of instances of a declared key
//	GET  /api/value?key=NAME      a key's decoded value (inspect.Value); 403 for secrets and passwords
//	POST /api/clear               count (dry_run) or clear a subtree, only with AllowWrites
//
// Requests are checked in this order: the Host header (a loopback name
// unless a token is set, against DNS rebinding), the token when one is
// set (401), then for POST the Origin (same origin only), Sec-Fetch-Site
// and the per-process CSRF header, which a cross-site form cannot send.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

//go:embed assets
var assets embed.FS

// CSRFHeader is the header every POST must carry, holding the token the
// page received in its HTML.
const CSRFHeader = "X-Nest-CSRF"

// TokenCookie holds the access token once a browser gave it as ?token=.
const TokenCookie = "nest_token"

// Options configure [New].
type Options struct {
	Model  *inspect.Model        // the schema; required
	Client redis.UniversalClient // required
	// Token, when set, is required on every request: as a bearer token,
	// the ?token= parameter (which sets a cookie) or the cookie.
	Token string
	// AllowWrites enables POST /api/clear.
	AllowWrites bool
	// Timeout bounds each request's Redis work; default 60s.
	Timeout time.Duration
}

// Handler serves the page and the API.
type Handler struct {
	opt  Options
	csrf string
	mux  *http.ServeMux
}

// New returns the handler of the web view.
func New(opt Options) (*Handler, error) {
	if opt.Model == nil || opt.Client == nil {
		return nil, errors.New("web: a schema and a client are required")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Minute
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	h := &Handler{opt: opt, csrf: hex.EncodeToString(b), mux: http.NewServeMux()}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(static)
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.Handle("GET /app.js", files)
	h.mux.Handle("GET /app.css", files)
	h.mux.HandleFunc("GET /api/schema", h.schema)
	h.mux.HandleFunc("GET /api/tree", h.tree)
	h.mux.HandleFunc("GET /api/keys", h.keys)
	h.mux.HandleFunc("GET /api/value", h.value)
	h.mux.HandleFunc("POST /api/clear", h.clear)
	return h, nil
}

// ServeHTTP checks the request (see the package comment) and serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	if h.opt.Token == "" && !loopbackHost(r.Host) {
		httpError(w, http.StatusForbidden, "host %q refused: without --token only localhost names are served", r.Host)
		return
	}
	if h.opt.Token != "" && !h.authorised(w, r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nest"`)
		httpError(w, http.StatusUnauthorized, "a token is required (--token): open the page with ?token=TOKEN")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, HEAD, POST")
			httpError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
			return
		}
		if why := h.crossSite(r); why != "" {
			httpError(w, http.StatusForbidden, "cross-site request refused: %s", why)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorised(w http.ResponseWriter, r *http.Request) bool {
	eq := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(h.opt.Token)) == 1 }
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(t) {
		return true
	}
	if c, err := r.Cookie(TokenCookie); err == nil && eq(c.Value) {
		return true
	}
	if t := r.URL.Query().Get("token"); t != "" && eq(t) && r.Method == http.MethodGet {
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: h.opt.Token, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		return true
	}
	return false
}

// crossSite returns why a POST is refused, "" when it comes from the page.
func (h *Handler) crossSite(r *http.Request) string {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return "Sec-Fetch-Site is " + s
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return "Origin " + o + " is not this server (" + r.Host + ")"
		}
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(h.csrf)) != 1 {
		return "missing or wrong " + CSRFHeader + " header"
	}
	return ""
}

// loopbackHost reports whether a Host header names this machine's
// loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), h.opt.Timeout)
}

// index serves the page with the CSRF token and the write switch.
func (h *Handler) index(w http.ResponseWriter, _ *http.Request) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s := strings.Replace(string(page), "{{CSRF}}", h.csrf, 1)
	s = strings.Replace(s, "{{WRITES}}", strconv.FormatBool(h.opt.AllowWrites), 1)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(s))
}

func (h *Handler) schema(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, struct {
		*inspect.Model
		Histogram   []string `json:"histogram_labels"`
		AllowWrites bool     `json:"allow_writes"`
	}{h.opt.Model, inspect.HistogramLabels, h.opt.AllowWrites})
}

func (h *Handler) tree(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	rep, err := inspect.Tree(ctx, h.opt.Client, h.opt.Model, inspect.TreeOptions{Prefix: r.URL.Query().Get("prefix")})
	if err != nil {
		httpError(w, http.StatusBadGateway, "%v", err)
		return
	}
	writeJSON(w, rep)
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("template")
	k := h.opt.Model.KeyByTemplate(t)
	if k == nil {
		httpError(w, http.StatusNotFound, "no declared key has the template %q", t)
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	names, err := inspect.SampleKeys(ctx, h.opt.Client, h.opt.Model, k, 50)
	if err != nil {
		httpError(w, http.StatusBadGateway, "%v", err)
		return
	}
	writeJSON(w, map[string]any{"template": t, "sensitive": k.Sensitive(), "keys": names})
}

func (h *Handler) value(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("key")
	ctx, cancel := h.ctx(r)
	defer cancel()
	v, err := inspect.ReadValue(ctx, h.opt.Client, h.opt.Model, name)
	switch {
	case errors.Is(err, inspect.ErrSensitive):
		httpError(w, http.StatusForbidden, "%s: %v", name, err)
	case errors.Is(err, inspect.ErrNotDeclared):
		httpError(w, http.StatusNotFound, "%q: %v", name, err)
	case errors.Is(err, redis.Nil):
		httpError(w, http.StatusNotFound, "%q: no such key", name)
	case err != nil:
		httpError(w, http.StatusBadGateway, "%v", err)
	default:
		writeJSON(w, v)
	}
}

// clearRequest is the body of POST /api/clear: a namespace's template
// and its parameters, or a prefix, as `nest clear` takes them.
type clearRequest struct {
	Target string            `json:"target"`
	Params map[string]string `json:"params"`
	DryRun bool              `json:"dry_run"`
}

// ClearResult is the answer of POST /api/clear.
type ClearResult struct {
	Template string `json:"template"`
	Prefix   string `json:"prefix"`
	Count    int64  `json:"count"`
	DryRun   bool   `json:"dry_run"`
	Deleted  int64  `json:"deleted"`
}

func (h *Handler) clear(w http.ResponseWriter, r *http.Request) {
	if !h.opt.AllowWrites {
		httpError(w, http.StatusForbidden, "read-only: start nest ui with --allow-writes to clear subtrees")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		httpError(w, http.StatusUnsupportedMediaType, "want application/json, got %q", ct)
		return
	}
	var req clearRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpError(w, http.StatusBadRequest, "body: %v", err)
		return
	}
	st, err := h.opt.Model.Subtree(req.Target, req.Params)
	if err != nil {
		code := http.StatusBadRequest
		if !errors.Is(err, inspect.ErrUsage) {
			code = http.StatusConflict // e.g. ValidateParams rules an export cannot carry
		}
		httpError(w, code, "%s", strings.TrimPrefix(err.Error(), "usage: "))
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	res := ClearResult{Template: st.Template, Prefix: st.Prefix, DryRun: req.DryRun}
	if res.Count, err = st.Count(ctx, h.opt.Client, nil); err != nil {
		httpError(w, http.StatusBadGateway, "%v", err)
		return
	}
	if !req.DryRun && res.Count > 0 {
		if res.Deleted, err = st.Clear(ctx, h.opt.Client, 0, nil); err != nil {
			httpError(w, http.StatusBadGateway, "%v (deleted %d keys)", err, res.Deleted)
			return
		}
	}
	writeJSON(w, res)
}
