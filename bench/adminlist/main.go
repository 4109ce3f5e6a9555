// Command adminlist measures the admin console's list of personal access
// tokens (/admin/tokens) over a store holding many of them: it seeds
// -pats tokens of -users people over two APIs into a SQLite store (with
// expiries and last uses spread over a year), serves the real pages
// (package web) on 127.0.0.1 with an admin's session, and prints the
// latency of each list page, the first and one deep in the list, for
// every filter, beside a bare net/http handler answering a page of the
// same size over the same client.
//
//	go run ./bench/adminlist [-pats 100000] [-users 1000] [-n 50]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/web"
)

type options struct {
	pats, users, n int
}

func main() {
	var o options
	flag.IntVar(&o.pats, "pats", 100_000, "personal access tokens to seed")
	flag.IntVar(&o.users, "users", 1000, "people holding them")
	flag.IntVar(&o.n, "n", 50, "requests measured per page, after 3 to warm")
	flag.Parse()
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
	srv := httptest.NewServer(s.pages)
	defer srv.Close()
	deep := ids[len(ids)*9/10] // a cursor nine tenths into the list
	pages := []struct{ name, path string }{
		{"every token, first page", "/admin/tokens"},
		{"every token, deep page", "/admin/tokens?after=" + deep},
		{"one user's tokens", fmt.Sprintf("/admin/tokens?user=person%04d", o.users*42/1000)}, // person0042 of 1,000
		{"one API's tokens", "/admin/tokens?api=" + apis[1]},
		{"one API's tokens, deep page", "/admin/tokens?api=" + apis[1] + "&after=" + deep},
		{"expiring within 7 days", "/admin/tokens?show=expiring"},
		{"unused for 90 days", "/admin/tokens?show=unused"},
		{"unused for 90 days, second page", ""},
		{"active", "/admin/tokens?show=active&after=" + deep},
	}
	client := &http.Client{}
	fmt.Printf("adminlist: %d personal access tokens of %d people over 2 APIs in SQLite; the pages (package web) and this client share the machine's %d cores; %d requests per page after 3 to warm\n",
		o.pats, o.users, runtime.NumCPU(), o.n)
	fmt.Printf("%-34s %9s %9s %9s %7s\n", "page", "p50 ms", "p99 ms", "max ms", "rows")
	var size int
	for _, p := range pages {
		if p.path == "" {
			// the second page of the last time-ordered list: its link
			// carries a cursor of time and id.
			p.path = nextLink(client, srv.URL+"/admin/tokens?show=unused", cookie)
		}
		st, body, err := measure(client, srv.URL+p.path, cookie, o.n)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		size = max(size, len(body))
		fmt.Printf("%-34s %9.2f %9.2f %9.2f %7d\n", p.name, ms(st[len(st)/2]), ms(st[len(st)*99/100]), ms(st[len(st)-1]),
			bytes.Count(body, []byte(`name="id"`)))
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
	s.pages, err = web.New(web.Config{Users: s.users, Keys: s.keys, Audit: audit.NewLog(db), Logger: log})
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

// nextLink is the "Next page" link of the page at url.
func nextLink(c *http.Client, url string, cookie *http.Cookie) string {
	_, body, err := measure(c, url, cookie, 1)
	if err != nil {
		return "/admin/tokens?show=unused"
	}
	i := bytes.Index(body, []byte(`">Next page`))
	if i < 0 {
		return "/admin/tokens?show=unused"
	}
	j := bytes.LastIndex(body[:i], []byte(`href="`))
	return string(bytes.ReplaceAll(body[j+len(`href="`):i], []byte("&amp;"), []byte("&")))
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
