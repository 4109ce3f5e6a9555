// Command adminlist measures the admin console's lists of personal access
// tokens (/admin/tokens) and of OAuth grants (/admin/grants) over a store
// holding many of them: it seeds -pats tokens of -users people over two
// APIs into a SQLite store (with expiries and last uses spread over a
// year) and -grants grants of those people to as many clients as that
// takes, serves the real pages (package web) on 127.0.0.1 with an
// admin's session, and prints the latency of each list page, the first
// and one deep in the list, for every filter, beside a bare net/http
// handler answering a page of the same size over the same client.
//
//	go run ./bench/adminlist [-pats 100000] [-grants 100000] [-users 1000] [-n 50]
package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/internal/web"
)

type options struct {
	pats, grants, users, n int
}

func main() {
	var o options
	flag.IntVar(&o.pats, "pats", 100_000, "personal access tokens to seed")
	flag.IntVar(&o.grants, "grants", -1, "OAuth grants to seed (default: as many as -pats)")
	flag.IntVar(&o.users, "users", 1000, "people holding them")
	flag.IntVar(&o.n, "n", 50, "requests measured per page, after 3 to warm")
	flag.Parse()
	if o.grants < 0 {
		o.grants = o.pats
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "adminlist:", err)
		os.Exit(1)
	}
}

// site is the console under test: its store, services and pages.
type site struct {
	db    *store.DB
	keys  *apikey.Service
	users *user.Service
	pages *web.Site
}

// page is one list page the benchmark measures: path "" is the next
// page of the page before it.
type page struct{ name, path string }

func run(o options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-adminlist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := open(ctx, dir)
	if err != nil {
		return err
	}
	defer s.db.Close()
	cookie, err := s.adminSession(ctx)
	if err != nil {
		return err
	}
	apis, owners, err := s.people(ctx, o.users)
	if err != nil {
		return err
	}
	ids, err := s.seed(ctx, apis, owners, o.pats)
	if err != nil {
		return err
	}
	grants, err := s.seedGrants(ctx, apis, owners, o.grants)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(s.pages)
	defer srv.Close()
	deep := ids[len(ids)*9/10]                        // a cursor nine tenths into the list
	one := fmt.Sprintf("person%04d", o.users*42/1000) // person0042 of 1,000
	pages := []page{
		{"every token, first page", "/admin/tokens"},
		{"every token, deep page", "/admin/tokens?after=" + deep},
		{"one user's tokens", "/admin/tokens?user=" + one},
		{"one API's tokens", "/admin/tokens?api=" + apis[1]},
		{"one API's tokens, deep page", "/admin/tokens?api=" + apis[1] + "&after=" + deep},
		{"expiring within 7 days", "/admin/tokens?show=expiring"},
		{"unused for 90 days", "/admin/tokens?show=unused"},
		{"unused for 90 days, second page", ""},
		{"active", "/admin/tokens?show=active&after=" + deep},
	}
	if len(grants) > 0 {
		g := grants[len(grants)*9/10]
		gdeep := url.QueryEscape(g.UserID + "." + g.ClientID)
		pages = append(pages,
			page{"every grant, first page", "/admin/grants"},
			page{"every grant, deep page", "/admin/grants?after=" + gdeep},
			page{"one user's grants", "/admin/grants?user=" + one},
			page{"one app's grants", "/admin/grants?client=" + url.QueryEscape(g.ClientID)},
			page{"one API's grants", "/admin/grants?api=" + apis[1]},
			page{"one API's grants, deep page", "/admin/grants?api=" + apis[1] + "&after=" + gdeep},
			page{"grants unused for 90 days", "/admin/grants?show=unused"},
			page{"grants unused, second page", ""},
		)
	}
	client := &http.Client{}
	fmt.Printf("adminlist: %d personal access tokens and %d grants of %d people over 2 APIs in SQLite; the pages (package web) and this client share the machine's %d cores; %d requests per page after 3 to warm\n",
		o.pats, len(grants), o.users, runtime.NumCPU(), o.n)
	fmt.Printf("%-34s %9s %9s %9s %7s\n", "page", "p50 ms", "p99 ms", "max ms", "rows")
	var size int
	prev := ""
	for _, p := range pages {
		if p.path == "" {
			// the second page of the time-ordered list before: its link
			// carries a cursor of time and id.
			p.path = nextLink(client, srv.URL+prev, cookie, prev)
		}
		prev = p.path
		st, body, err := measure(client, srv.URL+p.path, cookie, o.n)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		size = max(size, len(body))
		rows := bytes.Count(body, []byte(`name="id"`)) + bytes.Count(body, []byte(`name="grant"`))
		fmt.Printf("%-34s %9.2f %9.2f %9.2f %7d\n", p.name, ms(st[len(st)/2]), ms(st[len(st)*99/100]), ms(st[len(st)-1]), rows)
	}
	bare := httptest.NewServer(bareHandler(size))
	defer bare.Close()
	st, _, err := measure(client, bare.URL+"/", cookie, o.n)
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %9.2f %9.2f %9.2f %7s\n", "bare handler, same size", ms(st[len(st)/2]), ms(st[len(st)*99/100]), ms(st[len(st)-1]), "-")
	return nil
}

func open(ctx context.Context, dir string) (*site, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(dir, "tokend.db"), store.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	s := &site{db: db, keys: apikey.NewService(apikey.Config{DB: db, Logger: log})}
	if err := s.keys.EnsureSystemAPI(ctx); err != nil {
		return nil, err
	}
	s.users = user.New(user.Config{DB: db, MFA: user.MFAOff, Params: user.Params{Time: 1, Memory: 64, Threads: 1}})
	// The grant list needs the authorization server, for the clients'
	// names: with its signing key and verification engine.
	const issuer = "http://127.0.0.1"
	sg, err := signer.New(ctx, signer.Config{DB: db, KEK: make([]byte, signer.KEKSize), Logger: log})
	if err != nil {
		return nil, err
	}
	engine := verify.New(verify.Config{DB: db, Logger: log, JWT: &verify.JWTConfig{Signer: sg, Issuer: issuer}})
	o, err := oauth.New(oauth.Config{DB: db, Signer: sg, Verifier: engine, Issuer: issuer, Logger: log})
	if err != nil {
		return nil, err
	}
	s.pages, err = web.New(web.Config{Users: s.users, Keys: s.keys, OAuth: o, Audit: audit.NewLog(db), Logger: log})
	return s, err
}

// adminSession creates an admin and signs them in: the session cookie.
func (s *site) adminSession(ctx context.Context) (*http.Cookie, error) {
	const pw = "bench-admin-password-1"
	if _, err := s.users.Create(ctx, audit.System, api.CreateUserRequest{Username: "root", Password: pw, Admin: true}); err != nil {
		return nil, err
	}
	in, err := s.users.SignIn(ctx, "root", pw, user.ClientMeta{IP: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	return &http.Cookie{Name: "tokend_session", Value: in.Token}, nil
}

// people creates the two APIs and the token holders.
func (s *site) people(ctx context.Context, n int) (apis, owners []string, err error) {
	for _, name := range []string{"wiki", "ci"} {
		a, err := s.keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: name, Audience: "https://" + name + ".example",
			KeyPrefix: name, Scopes: []string{"read"}, Policy: api.Policy{PATAllowNoExpiry: true,
				UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}}})
		if err != nil {
			return nil, nil, err
		}
		apis = append(apis, a.ID)
	}
	for i := range n {
		u, err := s.users.Create(ctx, audit.System, api.CreateUserRequest{Username: fmt.Sprintf("person%04d", i), Password: "bench-person-password"})
		if err != nil {
			return nil, nil, err
		}
		owners = append(owners, u.User.ID)
	}
	return apis, owners, nil
}

// seed writes total tokens through store.CreateKey (one transaction
// each, as the service writes them) from parallel goroutines: token i
// belongs to owner i mod len(owners) and API i mod 2, expires within a
// year (or never) and was last used within a year (or never). It
// returns their ids, sorted.
func (s *site) seed(ctx context.Context, apis, owners []string, total int) ([]string, error) {
	out := make([]string, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	start, now := time.Now(), time.Now().UTC().Truncate(time.Microsecond)
	for range 4 * runtime.NumCPU() {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				id, err := s.seedOne(ctx, apis[i%2], owners[i%len(owners)], i, now)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				out[i] = id
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	el := time.Since(start)
	fmt.Printf("seeded %d tokens in %s (%.0f/s)\n", total, el.Round(time.Millisecond), float64(total)/el.Seconds())
	slices.Sort(out)
	return out, nil
}

func (s *site) seedOne(ctx context.Context, apiID, owner string, i int, now time.Time) (string, error) {
	token := credential.Generate(credential.PersonalTokenPrefix)
	start, end := credential.Display(token)
	day := 24 * time.Hour
	k := store.Key{ID: ids.New("pat", now), APIID: apiID, Prefix: credential.PersonalTokenPrefix, Subject: owner, UserID: owner,
		Name: "token " + strconv.Itoa(i), Scopes: []string{"read"}, Enabled: true, Start: start, End: end,
		CreatedAt: now.Add(-time.Duration(i%400) * day), UpdatedAt: now}
	if i%5 != 0 {
		k.ExpiresAt = now.Add(time.Duration(i%365) * day).Add(time.Hour)
	}
	if i%3 != 0 {
		k.LastUsedAt = now.Add(-time.Duration(i%365) * day)
	}
	sec := store.Secret{Hash: credential.Hash(token), KeyID: k.ID, Start: start, End: end, CreatedAt: now}
	ev := store.Event{Time: now, Actor: "bench-seed", Action: "pat.create", TargetType: "pat", TargetID: k.ID}
	return k.ID, s.db.CreateKey(ctx, k, sec, ev)
}

// seedGrants writes total grants through store.SaveGrant (one
// transaction each, as consent writes them) from parallel goroutines:
// grant i is of owner i mod len(owners) to client i / len(owners) (as
// many clients as that takes), for API i mod 2, last used within a year.
// It returns them in the list's order, by user and client.
func (s *site) seedGrants(ctx context.Context, apis, owners []string, total int) ([]store.Grant, error) {
	if total == 0 {
		return nil, nil
	}
	start, now := time.Now(), time.Now().UTC().Truncate(time.Microsecond)
	clients := make([]string, (total+len(owners)-1)/len(owners))
	for i := range clients {
		c := store.Client{ID: ids.New("cli", now), Name: fmt.Sprintf("app %04d", i), GrantTypes: []string{"authorization_code", "refresh_token"},
			APIScopes: map[string][]string{apis[0]: {"read"}, apis[1]: {"read"}}, AccessTokenTTL: time.Hour, RefreshTokenTTL: 24 * time.Hour,
			TokenFormat: "jwt", AuthMethod: "none", RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: now, UpdatedAt: now}
		ev := store.Event{Time: now, Actor: "bench-seed", Action: "client.create", TargetType: "client", TargetID: c.ID}
		if err := s.db.CreateClient(ctx, c, ev); err != nil {
			return nil, err
		}
		clients[i] = c.ID
	}
	out := make([]store.Grant, total)
	err := parallel(total, func(i int) error {
		day := 24 * time.Hour
		g := store.Grant{UserID: owners[i%len(owners)], ClientID: clients[i/len(owners)], Scopes: []string{"openid", "read"},
			APIIDs: []string{apis[i%2]}, CreatedAt: now.Add(-time.Duration(i%400) * day), LastUsedAt: now.Add(-time.Duration(i%365) * day)}
		out[i] = g
		ev := store.Event{Time: now, Actor: g.UserID, Action: "grant.create", TargetType: "client", TargetID: g.ClientID}
		return s.db.SaveGrant(ctx, g, ev)
	})
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	fmt.Printf("seeded %d grants to %d clients in %s (%.0f/s)\n", total, len(clients), el.Round(time.Millisecond), float64(total)/el.Seconds())
	slices.SortFunc(out, func(a, b store.Grant) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}

// parallel runs do(0) … do(total-1) from 4 goroutines per core and
// returns the first error.
func parallel(total int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 4 * runtime.NumCPU() {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				if err := do(i); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// measure GETs url n times after 3 to warm and returns the latencies,
// sorted, and the last body.
func measure(c *http.Client, url string, cookie *http.Cookie, n int) ([]time.Duration, []byte, error) {
	var st []time.Duration
	var body []byte
	for i := range n + 3 {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, nil, err
		}
		req.AddCookie(cookie)
		t := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return nil, nil, err
		}
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t)
		if err != nil {
			return nil, nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s = %d: %.300s", url, res.StatusCode, body)
		}
		if i >= 3 {
			st = append(st, d)
		}
	}
	slices.Sort(st)
	return st, body, nil
}

// nextLink is the "Next page" link of the page at url, or fallback when
// it has none.
func nextLink(c *http.Client, url string, cookie *http.Cookie, fallback string) string {
	_, body, err := measure(c, url, cookie, 1)
	if err != nil {
		return fallback
	}
	i := bytes.Index(body, []byte(`">Next page`))
	if i < 0 {
		return fallback
	}
	j := bytes.LastIndex(body[:i], []byte(`href="`))
	return html.UnescapeString(string(body[j+len(`href="`) : i]))
}

// bareHandler answers a fixed HTML body of size bytes.
func bareHandler(size int) http.Handler {
	body := bytes.Repeat([]byte("x"), size)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
