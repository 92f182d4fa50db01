package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
	"github.com/redisimnest/nest/cmd/nest/internal/web"
	"github.com/redisimnest/nest/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// ---- The test schema: plain keys, collections, a secret and a password ----

type (
	webUser struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"1h"`
		Name           nest.Key[string]         `nest:"name"`
		Profile        nest.Key[map[string]any] `nest:"profile"`
		Score          nest.Key[float64]        `nest:"score" ttl:"10m"`
		Prefs          nest.Hash[string]        `nest:"prefs"`
		Feed           nest.List[string]        `nest:"feed"`
		Password       nest.Password            `nest:"password"`
		APIToken       nest.Secret[string]      `nest:"api_token"`
	}
	webRoot struct {
		nest.Namespace `nest:"app"`
		Config         nest.Key[map[string]int] `nest:"config"`
		User           nest.Sub[webUser]
	}
)

// The planted secrets: no response may contain them.
const (
	plainPassword = "correct horse battery staple"
	plainToken    = "tok-SUPER-SECRET-123"
)

// fixture is a seeded server, the live schema and the handler's options.
type fixture struct {
	rdb  *redis.Client
	root *webRoot
	m    *inspect.Model
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb := redistest.Shared(t)
	key := nest.SecretKey{ID: "k1", Key: make([]byte, nest.SecretKeyLen)}
	if _, err := rand.Read(key.Key); err != nil {
		t.Fatal(err)
	}
	root, err := nest.New[webRoot](rdb, &nest.Options{SecretKeys: []nest.SecretKey{key}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.Config.Set(ctx, map[string]int{"workers": 4}))
	for i := 1; i <= 12; i++ {
		u := root.User.At(i)
		must(u.Name.Set(ctx, fmt.Sprintf("user %d", i)))
		must(u.Score.Set(ctx, float64(i)+0.5))
		if i <= 3 {
			must(u.Profile.Set(ctx, map[string]any{"city": "Lyon", "langs": []string{"go", "fr"}}))
			_, err := u.Prefs.Set(ctx, "theme", "dark")
			must(err)
			_, err = u.Feed.RPush(ctx, "hello", "world")
			must(err)
			must(u.Password.Set(ctx, plainPassword))
			must(u.APIToken.Set(ctx, plainToken))
		}
	}
	must(rdb.Set(ctx, "app:stray:1", "x", 0).Err()) // an orphan
	m, err := inspect.FromNamespace(root.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{rdb: rdb, root: root, m: m}
}

func (f *fixture) server(t *testing.T, opt web.Options) *httptest.Server {
	t.Helper()
	opt.Model, opt.Client = f.m, f.rdb
	h, err := web.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	code   int
	body   string
	header http.Header
}

func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.Header}
}

func get(t *testing.T, u string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return do(t, req)
}

// csrfOf reads the per-process token from the page, as the JS does.
func csrfOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	page := get(t, srv.URL+"/").body
	_, rest, ok := strings.Cut(page, `name="nest-csrf" content="`)
	tok, _, _ := strings.Cut(rest, `"`)
	if !ok || len(tok) != 32 {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return tok
}

func post(t *testing.T, srv *httptest.Server, body string, hdr map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/clear", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", srv.URL)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return do(t, req)
}

func noSecrets(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range []string{plainPassword, plainToken, "$argon2id$"} {
		if strings.Contains(body, s) {
			t.Errorf("%s leaks %q:\n%s", what, s, body)
		}
	}
}

func TestAssetsEmbedded(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t, web.Options{})
	for path, want := range map[string]string{
		"/":        `<script src="app.js"></script>`,
		"/app.js":  "function memChart",
		"/app.css": ".key {",
	} {
		r := get(t, srv.URL+path)
		if r.code != 200 || !strings.Contains(r.body, want) {
			t.Errorf("GET %s = %d, missing %q", path, r.code, want)
		}
		// The SVG namespace is a name, not a fetch.
		if body := strings.ReplaceAll(r.body, "http://www.w3.org/2000/svg", ""); strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("GET %s refers to another site (no CDN allowed)", path)
		}
	}
	r := get(t, srv.URL+"/")
	if !strings.Contains(r.body, `name="nest-writes" content="false"`) || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("page: read-only flag or CSP missing: %v", r.header)
	}
	if r := get(t, srv.URL+"/nope"); r.code != 404 {
		t.Errorf("GET /nope = %d", r.code)
	}
}

func TestSchemaAndTree(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t, web.Options{})

	r := get(t, srv.URL+"/api/schema")
	var sch struct {
		Root struct {
			Template string `json:"template"`
		} `json:"root"`
		Labels []string `json:"histogram_labels"`
		Writes bool     `json:"allow_writes"`
	}
	if err := json.Unmarshal([]byte(r.body), &sch); err != nil || r.code != 200 || sch.Root.Template != "app" || len(sch.Labels) != 8 || sch.Writes {
		t.Fatalf("GET /api/schema = %d %v: %s", r.code, err, r.body)
	}

	r = get(t, srv.URL+"/api/tree")
	var rep inspect.TreeReport
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || r.code != 200 {
		t.Fatalf("GET /api/tree = %d %v: %s", r.code, err, r.body)
	}
	byPattern := map[string]*inspect.Group{}
	for _, g := range rep.Groups {
		byPattern[g.Pattern] = g
	}
	for pat, n := range map[string]int64{
		"app:config": 1, "app:user:{user_id}:name": 12, "app:user:{user_id}:score": 12,
		"app:user:{user_id}:password": 3, "app:user:{user_id}:api_token": 3, "app:user:{user_id}:feed": 3,
	} {
		g := byPattern[pat]
		if g == nil || g.Count != n {
			t.Errorf("group %s: %+v, want %d keys", pat, g, n)
		}
	}
	score := byPattern["app:user:{user_id}:score"]
	if score == nil || score.TTL.Expiring != 12 || score.TTL.MaxMS > 600_000 || score.TTL.Histogram[1] != 12 || score.Memory.EstimatedBytes <= 0 {
		t.Errorf("score: TTL %+v, memory %+v; want 12 keys under 10 minutes and a memory figure", score.TTL, score.Memory)
	}
	if g := byPattern["app:stray:{}"]; g == nil || g.Kind != inspect.KindOrphan {
		t.Errorf("orphan group missing: %+v", rep.Groups)
	}
}

func TestKeysAndValues(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t, web.Options{})

	r := get(t, srv.URL+"/api/keys?template="+url.QueryEscape("app:user:{user_id}:profile"))
	var keys struct {
		Keys []string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &keys); err != nil || r.code != 200 || len(keys.Keys) != 3 {
		t.Fatalf("GET /api/keys = %d: %s", r.code, r.body)
	}
	if r := get(t, srv.URL+"/api/keys?template=app:nothing"); r.code != 404 {
		t.Errorf("keys of an unknown template = %d, want 404", r.code)
	}

	for name, want := range map[string]string{
		"app:user:1:profile": `"value":{"city":"Lyon","langs":["go","fr"]}`,
		"app:user:2:name":    `"value":"user 2"`,
		"app:user:3:score":   `"value":3.5`,
		"app:config":         `"value":{"workers":4}`,
		"app:user:1:prefs":   `"value":{"theme":"dark"}`,
		"app:user:1:feed":    `"value":["hello","world"]`,
	} {
		r := get(t, srv.URL+"/api/value?key="+url.QueryEscape(name))
		if r.code != 200 || !strings.Contains(r.body, want) {
			t.Errorf("GET /api/value?key=%s = %d %s; want %s", name, r.code, r.body, want)
		}
	}
	var v inspect.Value
	r = get(t, srv.URL+"/api/value?key=app:user:3:score")
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.TTLMS <= 0 || v.TTLMS > 600_000 || v.Codec != "float" {
		t.Errorf("score value: %+v %v", v, err)
	}

	// Refusals: secrets and passwords (the keys exist and hold the planted
	// values), names outside the schema, missing keys.
	for name, code := range map[string]int{
		"app:user:1:password":  403,
		"app:user:2:api_token": 403,
		"app:stray:1":          404,
		"app:user:99:name":     404,
		"other":                404,
	} {
		r := get(t, srv.URL+"/api/value?key="+url.QueryEscape(name))
		if r.code != code {
			t.Errorf("GET /api/value?key=%s = %d %s, want %d", name, r.code, r.body, code)
		}
		noSecrets(t, "value of "+name, r.body)
	}
	if n, _ := f.rdb.Exists(context.Background(), "app:user:1:password", "app:user:2:api_token").Result(); n != 2 {
		t.Fatalf("the planted secrets are missing (%d): the refusals above prove nothing", n)
	}
	// Nothing else leaks them either.
	for _, p := range []string{"/api/tree", "/api/schema", "/api/keys?template=" + url.QueryEscape("app:user:{user_id}:api_token")} {
		noSecrets(t, p, get(t, srv.URL+p).body)
	}
}

func TestClear(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	user1 := `{"target":"app:user:{user_id}","params":{"user_id":"1"}}`

	// Read-only: refused, nothing deleted.
	ro := f.server(t, web.Options{})
	if r := post(t, ro, user1, map[string]string{web.CSRFHeader: csrfOf(t, ro)}); r.code != 403 || !strings.Contains(r.body, "--allow-writes") {
		t.Errorf("clear on a read-only server = %d %s, want 403", r.code, r.body)
	}

	rw := f.server(t, web.Options{AllowWrites: true})
	csrf := csrfOf(t, rw)
	if !strings.Contains(get(t, rw.URL+"/").body, `name="nest-writes" content="true"`) {
		t.Error("the page does not know writes are allowed")
	}
	ok := map[string]string{web.CSRFHeader: csrf}
	// Cross-site attempts: refused before anything runs.
	for name, hdr := range map[string]map[string]string{
		"no CSRF header":       {},
		"wrong CSRF header":    {web.CSRFHeader: strings.Repeat("0", 32)},
		"foreign Origin":       {web.CSRFHeader: csrf, "Origin": "http://evil.example"},
		"Sec-Fetch-Site cross": {web.CSRFHeader: csrf, "Sec-Fetch-Site": "cross-site"},
	} {
		if r := post(t, rw, user1, hdr); r.code != 403 || !strings.Contains(r.body, "cross-site") {
			t.Errorf("%s: %d %s, want 403", name, r.code, r.body)
		}
	}
	// A form post (no JSON) with the right header is refused too.
	if r := post(t, rw, "target=app", map[string]string{web.CSRFHeader: csrf, "Content-Type": "application/x-www-form-urlencoded"}); r.code != 415 {
		t.Errorf("form post = %d, want 415", r.code)
	}
	// GET never clears.
	if r := get(t, rw.URL+"/api/clear"); r.code != 405 {
		t.Errorf("GET /api/clear = %d, want 405", r.code)
	}
	if n, _ := f.rdb.Exists(ctx, "app:user:1:name").Result(); n != 1 {
		t.Fatal("a refused request deleted keys")
	}

	// Hostile parameters are refused as the library refuses them.
	for _, bad := range []string{`{"target":"app:user:{user_id}","params":{"user_id":"1*"}}`, `{"target":"app:user:{user_id}","params":{"user_id":"1:2"}}`, `{"target":"app:nothing"}`} {
		if r := post(t, rw, bad, ok); r.code != 400 {
			t.Errorf("clear %s = %d %s, want 400", bad, r.code, r.body)
		}
	}

	// Dry run: counts, deletes nothing.
	r := post(t, rw, `{"target":"app:user:{user_id}","params":{"user_id":"1"},"dry_run":true}`, ok)
	var res web.ClearResult
	if err := json.Unmarshal([]byte(r.body), &res); err != nil || r.code != 200 || res.Count != 7 || res.Deleted != 0 || res.Prefix != "app:user:1" {
		t.Fatalf("dry run = %d %s; want 7 keys of app:user:1", r.code, r.body)
	}
	// Clear: exactly the library's Clear (user 1, never user 10, 11, 12).
	want, err := f.root.User.At(1).Count(ctx)
	if err != nil || want != 7 {
		t.Fatalf("library Count = %d, %v", want, err)
	}
	r = post(t, rw, user1, ok)
	if err := json.Unmarshal([]byte(r.body), &res); err != nil || r.code != 200 || res.Deleted != 7 {
		t.Fatalf("clear = %d %s", r.code, r.body)
	}
	for _, name := range []string{"app:user:10:name", "app:user:11:score", "app:user:2:password", "app:config"} {
		if n, _ := f.rdb.Exists(ctx, name).Result(); n != 1 {
			t.Errorf("%s deleted by the clear of user 1", name)
		}
	}
	if n, _ := f.root.User.At(1).Count(ctx); n != 0 {
		t.Errorf("user 1 still holds %d keys", n)
	}
}

func TestTokenAndHost(t *testing.T) {
	f := newFixture(t)
	const token = "s3cr3t-token"
	srv := f.server(t, web.Options{Token: token})

	for _, p := range []string{"/", "/app.js", "/api/tree", "/api/value?key=app:config"} {
		if r := get(t, srv.URL+p); r.code != 401 {
			t.Errorf("GET %s without the token = %d, want 401", p, r.code)
		}
		if r := get(t, srv.URL+p+"&token=wrong"); r.code != 401 && !strings.Contains(p, "?") {
			t.Errorf("GET %s with a wrong token = %d, want 401", p, r.code)
		}
	}
	if r := get(t, srv.URL+"/api/tree?token=wrong"); r.code != 401 {
		t.Errorf("wrong ?token = %d, want 401", r.code)
	}
	// A bearer token works.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/value?key=app:config", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if r := do(t, req); r.code != 200 {
		t.Errorf("bearer token = %d %s", r.code, r.body)
	}
	// ?token= sets an HttpOnly, SameSite=Strict cookie that then suffices.
	r := get(t, srv.URL+"/?token="+token)
	cookie := r.header.Get("Set-Cookie")
	if r.code != 200 || !strings.Contains(cookie, web.TokenCookie+"="+token) || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("?token: %d, cookie %q", r.code, cookie)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/tree", nil)
	req.AddCookie(&http.Cookie{Name: web.TokenCookie, Value: token})
	if r := do(t, req); r.code != 200 {
		t.Errorf("cookie = %d", r.code)
	}
	// A POST with the token but without the CSRF header is still refused.
	if r := post(t, srv, `{"target":"app"}`, map[string]string{"Authorization": "Bearer " + token}); r.code != 403 {
		t.Errorf("POST with the token, no CSRF header = %d, want 403", r.code)
	}

	// Without a token, only loopback Host names are served (DNS rebinding).
	open := f.server(t, web.Options{})
	for host, code := range map[string]int{"evil.example": 403, "evil.example:80": 403, "localhost": 200, "127.0.0.1:9": 200, "[::1]:9": 200} {
		req, _ := http.NewRequest(http.MethodGet, open.URL+"/api/schema", nil)
		req.Host = host
		if r := do(t, req); r.code != code {
			t.Errorf("Host %s = %d, want %d", host, r.code, code)
		}
	}
}
