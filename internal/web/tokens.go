package web

import (
	"context"
	"net/http"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The "my tokens" page: every credential and permission a person holds
// (personal access tokens, the apps they authorized with their
// refresh-token families, device sign-ins, sessions, passkeys), each
// with a button that revokes it on every node within a second, and
// "revoke everything".

// tokensPage is how many personal access tokens one page lists; the
// rest are a cursor away.
const tokensPage = 100

// tokensView is the "my tokens" page.
type tokensView struct {
	frame
	Notice   string
	Tokens   []tokenRow
	Next     string
	Grants   []api.Grant
	Device   []api.Family
	Sessions []sessionRow
	Passkeys []api.Passkey
	OAuth    bool
}

// tokenRow is one personal access token as the pages show it.
type tokenRow struct {
	api.Token
	APIName string
	Scopes  []api.Scope
	LastIP  string
	// State is "active", "pending" (awaiting an administrator's
	// approval), "expired", "denied" (by an administrator) or "revoked".
	State string
	// Why says why tokend revoked it, when not at its owner's request
	// and not by an approval's denial (which the approval shows): a
	// sentence of revokedWhy, else "".
	Why string
}

// revokedWhy says, by api.Token.RevokedReason, why a token was revoked.
var revokedWhy = map[string]string{
	api.RevokedLeaked: "it was found in public and reported as leaked",
}

// Usable reports whether the token's owner may still revoke it: it is
// active or awaits approval.
func (r tokenRow) Usable() bool { return r.State == "active" || r.State == "pending" }

var tokenNotices = map[string]string{
	"token":   "The token was revoked: it stopped working everywhere.",
	"app":     "The app's access was revoked: its tokens stopped working everywhere.",
	"device":  "The device sign-in was revoked.",
	"session": "The session was ended: that browser is signed out.",
	"passkey": "The passkey was removed.",
	"all":     "Everything was revoked: every token, app and other session. Only this browser is still signed in.",
}

// tokens answers GET /account/tokens?after=.
func (s *Site) tokens(w http.ResponseWriter, r *http.Request, v visitor) {
	ctx := r.Context()
	view := tokensView{frame: s.accountFrame(r, "Your tokens and access", "tokens", v), OAuth: s.oauth != nil,
		Notice: tokenNotices[r.URL.Query().Get("done")]}
	var err error
	if view.Tokens, view.Next, err = s.tokenRows(ctx, v.user.ID, r.URL.Query().Get("after")); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.oauth != nil {
		m, err := s.oauth.Mine(ctx, v.user.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		view.Grants, view.Device = m.Grants, m.Device
	}
	ss, err := s.users.Sessions(ctx, v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, x := range ss {
		view.Sessions = append(view.Sessions, sessionRow{Session: x, Browser: browserName(x.UserAgent), Current: x.ID == v.session.ID})
	}
	if view.Passkeys, err = s.users.Passkeys(ctx, v.user.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, pageTokens, view)
}

// tokenRows is one page of owner's personal access tokens after cursor
// after, with their APIs' names, their scopes in the APIs' words and the
// address of their last use; next is the cursor of the next page.
func (s *Site) tokenRows(ctx context.Context, owner, after string) (rows []tokenRow, next string, err error) {
	ks, err := s.keys.PATs(ctx, owner, after, tokensPage+1)
	if err != nil {
		return nil, "", err
	}
	if len(ks) > tokensPage {
		ks, next = ks[:tokensPage], ks[tokensPage-1].ID
	}
	apis, err := s.apiIndex(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(ks))
	for i, k := range ks {
		ids[i] = k.ID
	}
	last, err := s.keys.LastUses(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	now := s.keys.Now()
	for _, k := range ks {
		rows = append(rows, s.tokenRow(apikey.TokenView(k, now), apis[k.APIID], last[k.ID].IP, now))
	}
	return rows, next, nil
}

func (s *Site) tokenRow(t api.Token, a store.API, lastIP string, now time.Time) tokenRow {
	row := tokenRow{Token: t, APIName: a.Name, LastIP: lastIP, State: "active"}
	if row.APIName == "" {
		row.APIName = t.APIID
	}
	for _, sc := range t.Scopes {
		row.Scopes = append(row.Scopes, api.Scope{Name: sc, Description: a.Policy.ScopeDescriptions[sc]})
	}
	switch {
	case t.Approval != nil && t.Approval.State == api.ApprovalDenied:
		row.State = "denied"
	case t.RevokedAt != nil:
		row.State, row.Why = "revoked", revokedWhy[t.RevokedReason]
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		row.State = "expired"
	case t.Approval != nil && t.Approval.State == api.ApprovalPending:
		row.State = "pending"
	}
	return row
}

// apiIndex is every API by id.
func (s *Site) apiIndex(ctx context.Context) (map[string]store.API, error) {
	as, err := s.keys.APIs(ctx)
	out := make(map[string]store.API, len(as))
	for _, a := range as {
		out[a.ID] = a
	}
	return out, err
}

// tokenDetailView is one personal access token with its recent uses.
type tokenDetailView struct {
	frame
	Token  tokenRow
	Uses   []api.TokenUse
	Graces []graceChoice
}

// graceChoice is one choice of how long a regenerated token's old secret
// keeps working.
type graceChoice struct {
	Value, Label string
}

// regenerateGraces are the grace choices the detail page offers, within
// apikey.MaxGrace; the API and CLI take any duration up to it.
var regenerateGraces = []graceChoice{
	{"0", "None: the old secret stops working at once"},
	{"1h", "1 hour"},
	{"24h", "1 day"},
	{"168h", "7 days"},
}

// token answers GET /account/tokens/{id}. Another person's token is the
// not-found page.
func (s *Site) token(w http.ResponseWriter, r *http.Request, v visitor) {
	ctx := r.Context()
	k, err := s.keys.PAT(ctx, v.user.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	uses, err := s.keys.PATUses(ctx, v.user.ID, k.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apis, err := s.apiIndex(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.keys.Now()
	var lastIP string
	for _, u := range uses {
		if u.Code == api.CodeValid {
			lastIP = u.IP
			break
		}
	}
	row := s.tokenRow(apikey.TokenView(k, now), apis[k.APIID], lastIP, now)
	s.render(w, r, http.StatusOK, pageToken, tokenDetailView{frame: s.accountFrame(r, "Token "+k.Name, "tokens", v),
		Token: row, Uses: uses, Graces: regenerateGraces})
}

// regenerateToken answers POST /account/tokens/{id}/regenerate (grace):
// the token gets a new secret with all its settings, shown once on the
// answer, as POST /v1/me/tokens/{id}/regenerate and "tokend pat rotate"
// do; the old secret keeps working for the grace chosen. Another
// person's token is the not-found page and changes nothing.
func (s *Site) regenerateToken(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	grace, err := readGrace(f.Get("grace"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	k, secret, err := s.keys.RegeneratePAT(ctx, s.actor(r, v), v.user.ID, r.PathValue("id"), grace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, _ := s.keys.API(ctx, k.APIID)
	now := s.keys.Now()
	s.render(w, r, http.StatusOK, pageTokenSecret, createdTokenView{frame: s.accountFrame(r, "Your regenerated token", "tokens", v),
		Token: s.tokenRow(apikey.TokenView(k, now), a, "", now), Secret: secret, Grace: graceLabel(grace)})
}

// readGrace reads the grace field: one of regenerateGraces' values, or
// any duration RegeneratePAT accepts (it checks the bounds).
func readGrace(v string) (time.Duration, error) {
	if v == "" || v == "0" {
		return 0, nil
	}
	d, err := api.ParseDuration(v)
	if err != nil {
		return 0, valid.Errorf("grace", "must be a duration such as 1h or 7d")
	}
	return d, nil
}

// graceLabel says how long the old secret keeps working.
func graceLabel(d time.Duration) string {
	for _, g := range regenerateGraces[1:] {
		if gd, _ := time.ParseDuration(g.Value); gd == d {
			return g.Label
		}
	}
	if d == 0 {
		return ""
	}
	return fmtDuration(d)
}

// revoked answers a revoke button: back to the page with a notice, or
// the error page (not found for another person's id, nothing changed).
func (s *Site) revoked(w http.ResponseWriter, r *http.Request, err error, done string) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/tokens?done="+done, http.StatusSeeOther)
}

// revokeToken answers POST /account/tokens/{id}/revoke.
func (s *Site) revokeToken(w http.ResponseWriter, r *http.Request, v visitor) {
	_, err := s.keys.RevokePAT(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("id"))
	s.revoked(w, r, err, "token")
}

// revokeApp answers POST /account/tokens/apps/{client_id}/revoke.
func (s *Site) revokeApp(w http.ResponseWriter, r *http.Request, v visitor) {
	s.revoked(w, r, s.oauth.RevokeGrant(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("client_id")), "app")
}

// revokeFamily answers POST /account/tokens/families/{id}/revoke.
func (s *Site) revokeFamily(w http.ResponseWriter, r *http.Request, v visitor) {
	s.revoked(w, r, s.oauth.RevokeFamily(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("id")), "device")
}

// endSessionHere answers POST /account/tokens/sessions/{id}/end; ending
// the current session signs this browser out.
func (s *Site) endSessionHere(w http.ResponseWriter, r *http.Request, v visitor) {
	id := r.PathValue("id")
	if err := s.users.EndSession(r.Context(), v.user.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	if id == v.session.ID {
		s.clearSession(w)
		http.Redirect(w, r, "/signin?signed-out", http.StatusSeeOther)
		return
	}
	s.revoked(w, r, nil, "session")
}

// removePasskeyHere answers POST /account/tokens/passkeys/{id}/remove.
func (s *Site) removePasskeyHere(w http.ResponseWriter, r *http.Request, v visitor) {
	s.revoked(w, r, s.users.DeletePasskey(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("id")), "passkey")
}

// revokeAllForm answers GET /account/tokens/revoke-all: the confirm step.
func (s *Site) revokeAllForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.render(w, r, http.StatusOK, pageRevokeAll, struct{ frame }{s.accountFrame(r, "Revoke everything", "tokens", v)})
}

// revokeAll answers POST /account/tokens/revoke-all: every personal
// access token, every app's access and every other session. This
// session stays, and so do passkeys: they are how the person signs in
// again.
func (s *Site) revokeAll(w http.ResponseWriter, r *http.Request, v visitor) {
	ctx, by := r.Context(), s.actor(r, v)
	if _, err := s.keys.RevokeAllPATs(ctx, by, v.user.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.oauth != nil {
		if _, _, err := s.oauth.RevokeAll(ctx, by, v.user.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	_, err := s.users.EndSessionsCounted(ctx, by, v.user.ID, v.session.ID)
	s.revoked(w, r, err, "all")
}
