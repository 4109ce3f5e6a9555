package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The console pages of API keys (/admin/keys…): the list filtered by
// API and state with cursor pages, create (the secret shown once), one
// key's page, revoke, rotate (the new secret shown once). They call
// package apikey as the /v1/keys endpoints do.

// keyStates are the states the key list filters by, in the order the
// filter offers them.
var keyStates = []store.KeyState{store.KeyActive, store.KeyDisabled, store.KeyExpired, store.KeyRevoked}

// keysView is the list of API keys.
type keysView struct {
	frame
	APIs   []api.API
	API    string // the API filter, an id
	State  string
	States []store.KeyState
	Keys   []keyRow
	After  string
	Next   string
	Notice string
}

// keyRow is a key as a list shows it.
type keyRow struct {
	api.Key
	APIName string
	State   store.KeyState
}

// listKeys answers GET /admin/keys?api=&state=&after=.
func (s *Site) listKeys(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	f := store.KeyFilter{APIID: q.Get("api"), State: store.KeyState(q.Get("state")), After: q.Get("after"),
		Limit: consolePageSize + 1, Now: s.keys.Now()}
	if f.State != "" && !slices.Contains(keyStates, f.State) {
		f.State = ""
	}
	if err := store.CheckKeyCursor(f); err != nil {
		s.fail(w, r, err)
		return
	}
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ks, err := s.keys.Keys(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := keysView{frame: s.adminFrame(r, "API keys", tabKeys, v), APIs: apiViews(as), API: f.APIID, State: string(f.State),
		States: keyStates, After: f.After, Notice: keyNotices[q.Get("notice")]}
	names := apiNames(as)
	ks, view.Next = onePage(ks, func(last store.Key) string {
		return pageLink("/admin/keys", url.Values{"api": {f.APIID}, "state": {string(f.State)}, "after": {store.KeyCursor(f, last)}})
	})
	for _, k := range ks {
		view.Keys = append(view.Keys, keyRow{Key: apikey.KeyView(k), APIName: names[k.APIID], State: keyState(k, f.Now)})
	}
	s.render(w, r, http.StatusOK, pageKeys, view)
}

// keyNotices are the confirmations of the key pages (?notice=…).
var keyNotices = map[string]string{
	"revoked": "The key is revoked: it stops working on every node at its next request.",
}

func apiViews(as []store.API) []api.API {
	out := make([]api.API, 0, len(as))
	for _, a := range as {
		out = append(out, apikey.APIView(a))
	}
	return out
}

func apiNames(as []store.API) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = a.Name
	}
	return m
}

// keyState is k's state at now, as the list's filter names it.
func keyState(k store.Key, now time.Time) store.KeyState {
	switch {
	case !k.RevokedAt.IsZero():
		return store.KeyRevoked
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now):
		return store.KeyExpired
	case !k.Enabled:
		return store.KeyDisabled
	}
	return store.KeyActive
}

// keyView is one key's page.
type keyView struct {
	frame
	Key     keyRow
	Problem formProblem
	Notice  string
}

// showKey answers GET /admin/keys/{id}.
func (s *Site) showKey(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderKey(w, r, http.StatusOK, v, r.PathValue("id"), keyView{Notice: keyNotices[r.URL.Query().Get("notice")]})
}

func (s *Site) renderKey(w http.ResponseWriter, r *http.Request, status int, v visitor, id string, kv keyView) {
	k, err := s.keys.Key(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.keys.API(r.Context(), k.APIID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kv.Key = keyRow{Key: apikey.KeyView(k), APIName: a.Name, State: keyState(k, s.keys.Now())}
	title := k.Name
	if title == "" {
		title = "Key " + k.Prefix + "_" + k.Start + "…"
	}
	kv.frame = s.adminFrame(r, title, tabKeys, v)
	s.render(w, r, status, pageKey, kv)
}

// newKeyView is the form that creates a key.
type newKeyView struct {
	frame
	APIs    []api.API
	Form    newKeyForm
	Problem formProblem
}

// newKeyForm is the new-key form as typed.
type newKeyForm struct {
	API, Subject, Name, Scopes, TTL, CIDRs string
}

// newKeyForm answers GET /admin/keys/new?api=.
func (s *Site) newKeyForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderNewKey(w, r, http.StatusOK, v, newKeyView{Form: newKeyForm{API: r.URL.Query().Get("api")}})
}

func (s *Site) renderNewKey(w http.ResponseWriter, r *http.Request, status int, v visitor, nv newKeyView) {
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range as {
		if a.ID != apikey.SystemAPIID {
			nv.APIs = append(nv.APIs, apikey.APIView(a))
		}
	}
	nv.frame = s.adminFrame(r, "New API key", tabKeys, v)
	s.render(w, r, status, pageNewKey, nv)
}

// createKey answers POST /admin/keys: the key's secret is shown once, in
// the answer.
func (s *Site) createKey(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := newKeyForm{API: f.Get("api_id"), Subject: f.Get("subject"), Name: f.Get("name"), Scopes: f.Get("scopes"),
		TTL: f.Get("ttl"), CIDRs: f.Get("allowed_cidrs")}
	req := api.CreateKeyRequest{APIID: form.API, Subject: strings.TrimSpace(form.Subject), Name: form.Name,
		Scopes: words(form.Scopes), AllowedCIDRs: words(form.CIDRs)}
	if req.TTL, err = optDuration("ttl", form.TTL); err == nil {
		if req.APIID == apikey.SystemAPIID {
			err = valid.Errorf("api_id", "admin and verify keys are made with tokend keys create-admin, not here")
		}
	}
	if err == nil {
		k, secret, cerr := s.keys.CreateKey(r.Context(), s.actor(r, v), req)
		if cerr == nil {
			s.renderSecret(w, r, http.StatusCreated, v, tabKeys, secretView{What: "API key", Secret: secret,
				Back: "/admin/keys/" + url.PathEscape(k.ID), BackLabel: "The key's page"})
			return
		}
		err = cerr
	}
	if p, status, ok := s.refusal(w, r, err); ok {
		s.renderNewKey(w, r, status, v, newKeyView{Form: form, Problem: p})
	}
}

// revokeKey answers POST /admin/keys/{id}/revoke.
func (s *Site) revokeKey(w http.ResponseWriter, r *http.Request, v visitor) {
	if _, err := readForm(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if _, err := s.keys.RevokeKey(r.Context(), s.actor(r, v), id); err != nil {
		s.refuseKey(w, r, v, id, err)
		return
	}
	http.Redirect(w, r, "/admin/keys/"+url.PathEscape(id)+"?notice=revoked", http.StatusSeeOther)
}

// rotateKey answers POST /admin/keys/{id}/rotate (grace): a new secret,
// shown once; the old one works for the grace period.
func (s *Site) rotateKey(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	grace, err := optDuration("grace", f.Get("grace"))
	if err == nil {
		var g api.Duration
		if grace != nil {
			g = *grace
		}
		_, secret, rerr := s.keys.RotateKey(r.Context(), s.actor(r, v), id, g.Std())
		if rerr == nil {
			s.renderSecret(w, r, http.StatusOK, v, tabKeys, secretView{What: "API key", Secret: secret,
				Back: "/admin/keys/" + url.PathEscape(id), BackLabel: "The key's page",
				Notice: "The key has a new secret. The old one works until the grace period ends."})
			return
		}
		err = rerr
	}
	s.refuseKey(w, r, v, id, err)
}

// refuseKey shows the key's page with the reason a change was refused.
func (s *Site) refuseKey(w http.ResponseWriter, r *http.Request, v visitor, id string, err error) {
	p, status, internal := problemOf(err)
	if internal || status == http.StatusNotFound {
		s.fail(w, r, err)
		return
	}
	s.renderKey(w, r, status, v, id, keyView{Problem: p})
}
