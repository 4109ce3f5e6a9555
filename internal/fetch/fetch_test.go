package fetch_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/fetch"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:4700::6810:85e5": true, "8.8.8.8": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"224.0.0.1": false, "ff02::1": false, "100.64.0.1": false, "255.255.255.255": false, "240.0.0.1": false,
		"::ffff:127.0.0.1": false, "::ffff:169.254.169.254": false, "64:ff9b::a9fe:a9fe": false, "2002:7f00:1::": false,
		"198.18.0.1": false, "0.1.2.3": false,
	} {
		if got := fetch.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// server serves body as JSON with the given headers and counts requests.
func server(t *testing.T, tls bool, body string, header map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Write([]byte(body))
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &hits
}

// TestRefusesPrivateAddresses: without InsecureAllowPrivate, loopback,
// link-local (the cloud metadata address) and other private hosts are
// refused, by literal before anything is sent and by name at dial time
// (localhost resolves to loopback), and plain http is refused; the
// server sees no request.
func TestRefusesPrivateAddresses(t *testing.T) {
	s, hits := server(t, true, `{}`, nil)
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	f := fetch.New(fetch.Config{Timeout: 2 * time.Second})
	for _, u := range []string{
		s.URL + "/doc",
		"https://localhost" + port + "/doc",
		"https://[::ffff:127.0.0.1]" + port + "/doc",
		"https://169.254.169.254/latest/meta-data/",
		"https://10.0.0.1/doc",
		"https://[fd00::1]/doc",
		"https://0.0.0.0" + port + "/doc",
	} {
		_, _, err := f.Fetch(t.Context(), u)
		if !errors.Is(err, fetch.ErrForbiddenAddress) {
			t.Errorf("Fetch(%s) = %v, want a refusal of the address", u, err)
		}
		if e, ok := errors.AsType[*fetch.Error](err); !ok || !strings.Contains(e.Error(), "not a public address") {
			t.Errorf("Fetch(%s): error %q does not say the address is not public", u, err)
		}
	}
	for u, want := range map[string]string{
		"http://example.com/doc":          "must be https",
		"https://user:pw@example.com/doc": "user name",
		"https://example.com/doc#x":       "fragment",
		"/doc":                            "absolute",
	} {
		if _, _, err := f.Fetch(t.Context(), u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Fetch(%s) = %v, want an error saying %q", u, err, want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests; want none", n)
	}
}

// TestFetch: with InsecureAllowPrivate a document on 127.0.0.1 is
// fetched, and its freshness follows Cache-Control and Expires, capped.
func TestFetch(t *testing.T) {
	f := fetch.New(fetch.Config{InsecureAllowPrivate: true, Freshness: time.Minute, MaxFreshness: time.Hour})
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, tc := range map[string]struct {
		header map[string]string
		want   time.Duration
	}{
		"no headers":     {nil, time.Minute},
		"max-age":        {map[string]string{"Cache-Control": "public, max-age=300"}, 5 * time.Minute},
		"max-age capped": {map[string]string{"Cache-Control": "max-age=86400"}, time.Hour},
		"no-store":       {map[string]string{"Cache-Control": "max-age=300, no-store"}, 0},
		"no-cache":       {map[string]string{"Cache-Control": "no-cache"}, 0},
		"bad max-age":    {map[string]string{"Cache-Control": "max-age=soon"}, 0},
		"expires": {map[string]string{"Date": date.Format(http.TimeFormat),
			"Expires": date.Add(10 * time.Minute).Format(http.TimeFormat)}, 10 * time.Minute},
		"expired": {map[string]string{"Date": date.Format(http.TimeFormat), "Expires": "0"}, 0},
	} {
		s, _ := server(t, false, `{"a":1}`, tc.header)
		body, fresh, err := f.Fetch(t.Context(), s.URL+"/doc")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(body) != `{"a":1}` || fresh != tc.want {
			t.Errorf("%s: Fetch = %q fresh %v, want fresh %v", name, body, fresh, tc.want)
		}
	}
}

// TestFetchRefusals: a body over the limit, a redirect (not followed),
// an answer that is not 200 or not JSON, and one too slow are errors.
func TestFetchRefusals(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	json := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { json(w, `"`+strings.Repeat("a", 6000)+`"`) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/target", http.StatusFound) })
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { followed.Add(1); json(w, `{}`) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html></html>")) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	f := fetch.New(fetch.Config{InsecureAllowPrivate: true, Timeout: 300 * time.Millisecond})
	for path, want := range map[string]string{
		"/big": "larger than 5120 bytes", "/moved": "redirect", "/missing": "404", "/html": "not application/json",
		"/slow": "did not answer in time",
	} {
		if _, _, err := f.Fetch(t.Context(), s.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Fetch(%s) = %v, want an error saying %q", path, err, want)
		}
	}
	if followed.Load() != 0 {
		t.Error("a redirect was followed")
	}
}
