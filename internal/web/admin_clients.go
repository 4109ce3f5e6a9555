package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The console pages of OAuth clients (/admin/clients…): the list with
// cursor pages, create (the secret shown once), edit (grant types,
// API scopes, redirect URIs, first party, lifetimes), rotate the secret
// (shown once), delete. They call package oauth as the /v1/clients
// endpoints do.

// grantChoices are the grant types the client form offers.
var grantChoices = []struct{ Value, Label string }{
	{oauth.GrantClientCredentials, "Client credentials (a service acting for itself)"},
	{oauth.GrantAuthorizationCode, "Authorization code (people sign in on tokend's pages)"},
	{oauth.GrantDeviceCode, "Device code (sign-in for TVs and command-line tools)"},
	{oauth.GrantRefreshToken, "Refresh tokens"},
}

// authChoices are the client authentication methods a new client may
// take on the form (private_key_jwt needs a JWKS: the API sets those).
var authChoices = []string{oauth.AuthSecretBasic, oauth.AuthSecretPost, oauth.AuthNone}

// clientsView is the list of clients.
type clientsView struct {
	frame
	Clients []api.Client
	After   string
	Next    string
	Notice  string
}

// listClients answers GET /admin/clients?after=.
func (s *Site) listClients(w http.ResponseWriter, r *http.Request, v visitor) {
	after := r.URL.Query().Get("after")
	err := store.CheckClientCursor(after)
	var cs []store.Client
	if err == nil {
		cs, err = s.oauth.Clients(r.Context(), after, consolePageSize+1)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := clientsView{frame: s.adminFrame(r, "OAuth clients", tabClients, v), After: after,
		Notice: clientNotices[r.URL.Query().Get("notice")]}
	cs, view.Next = onePage(cs, func(last store.Client) string {
		return pageLink("/admin/clients", url.Values{"after": {last.ID}})
	})
	for _, c := range cs {
		view.Clients = append(view.Clients, oauth.ClientView(c))
	}
	s.render(w, r, http.StatusOK, pageClients, view)
}

// clientNotices are the confirmations of the client pages (?notice=…).
var clientNotices = map[string]string{
	"saved":   "The client was saved.",
	"deleted": "The client was deleted with its tokens.",
}

// clientForm is the client form as typed.
type clientForm struct {
	Name       string
	GrantTypes []string
	// APIScopes are "api_id: scope scope" lines.
	APIScopes, RedirectURIs, LogoutURIs string
	FirstParty                          bool
	AuthMethod, Format                  string
	AccessTTL, RefreshTTL               string
}

// clientView is one client's page (ID set) or the new-client form.
type clientView struct {
	frame
	ID      string
	Client  api.Client
	Form    clientForm
	APIs    []api.API
	Grants  []struct{ Value, Label string }
	Auths   []string
	Problem formProblem
	Notice  string
}

func (s *Site) renderClient(w http.ResponseWriter, r *http.Request, status int, v visitor, cv clientView) {
	title := "New OAuth client"
	if cv.ID != "" {
		title = cv.Client.Name
	}
	if s.keys != nil {
		as, err := s.keys.APIs(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cv.APIs = apiViews(as)
	}
	cv.frame, cv.Grants, cv.Auths = s.adminFrame(r, title, tabClients, v), grantChoices, authChoices
	s.render(w, r, status, pageClient, cv)
}

// newClientForm answers GET /admin/clients/new.
func (s *Site) newClientForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderClient(w, r, http.StatusOK, v, clientView{Form: clientForm{GrantTypes: []string{oauth.GrantClientCredentials},
		AuthMethod: oauth.AuthSecretBasic, Format: "jwt"}})
}

// showClient answers GET /admin/clients/{id}.
func (s *Site) showClient(w http.ResponseWriter, r *http.Request, v visitor) {
	c, err := s.oauth.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := oauth.ClientView(c)
	s.renderClient(w, r, http.StatusOK, v, clientView{ID: c.ID, Client: view, Form: formOfClient(view),
		Notice: clientNotices[r.URL.Query().Get("notice")]})
}

// createClient answers POST /admin/clients: the secret is shown once.
func (s *Site) createClient(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := readClientForm(f)
	req := api.CreateClientRequest{Name: form.Name, GrantTypes: form.GrantTypes, AccessTokenFormat: form.Format,
		TokenEndpointAuthMethod: form.AuthMethod, ClientSettings: api.ClientSettings{RedirectURIs: words(form.RedirectURIs),
			PostLogoutRedirectURIs: words(form.LogoutURIs), FirstParty: form.FirstParty}}
	if req.APIScopes, err = form.apiScopes(); err == nil {
		if req.AccessTokenTTL, err = optDuration("access_token_ttl", form.AccessTTL); err == nil {
			req.RefreshTokenTTL, err = optDuration("refresh_token_ttl", form.RefreshTTL)
		}
	}
	if err == nil {
		c, secret, cerr := s.oauth.CreateClient(r.Context(), s.actor(r, v), req)
		if cerr == nil {
			back := "/admin/clients/" + url.PathEscape(c.ID)
			if secret == "" {
				http.Redirect(w, r, back+"?notice=saved", http.StatusSeeOther)
				return
			}
			s.renderSecret(w, r, http.StatusCreated, v, tabClients, secretView{What: "client secret", Secret: secret,
				Back: back, BackLabel: "The client's page", Notice: "The client " + c.ID + " was created."})
			return
		}
		err = cerr
	}
	s.refuseClient(w, r, v, clientView{Form: form}, err)
}

// updateClient answers POST /admin/clients/{id}.
func (s *Site) updateClient(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := s.oauth.Client(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := readClientForm(f)
	redirects, logouts := words(form.RedirectURIs), words(form.LogoutURIs)
	req := api.UpdateClientRequest{Name: &form.Name, GrantTypes: &form.GrantTypes, AccessTokenFormat: &form.Format,
		RedirectURIs: &redirects, PostLogoutRedirectURIs: &logouts, FirstParty: &form.FirstParty}
	var scopes map[string][]string
	if scopes, err = form.apiScopes(); err == nil {
		req.APIScopes = &scopes
		if req.AccessTokenTTL, err = optDuration("access_token_ttl", form.AccessTTL); err == nil {
			req.RefreshTokenTTL, err = optDuration("refresh_token_ttl", form.RefreshTTL)
		}
	}
	if err == nil {
		if _, err = s.oauth.UpdateClient(r.Context(), s.actor(r, v), id, req); err == nil {
			http.Redirect(w, r, "/admin/clients/"+url.PathEscape(id)+"?notice=saved", http.StatusSeeOther)
			return
		}
	}
	s.refuseClient(w, r, v, clientView{ID: id, Client: oauth.ClientView(cur), Form: form}, err)
}

// rotateClient answers POST /admin/clients/{id}/rotate: a new secret
// (and, for a registered client, registration access token), shown once;
// the old ones stop working at once.
func (s *Site) rotateClient(w http.ResponseWriter, r *http.Request, v visitor) {
	if _, err := readForm(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	_, rot, err := s.oauth.RotateSecret(r.Context(), s.actor(r, v), id)
	if err != nil {
		s.refuseClientAction(w, r, v, id, err)
		return
	}
	sv := secretView{What: "client secret", Secret: rot.Secret, Back: "/admin/clients/" + url.PathEscape(id),
		BackLabel: "The client's page", Notice: "The client has a new secret; the old one no longer works."}
	if rot.RegistrationToken != "" {
		sv.Extra, sv.ExtraWhat = rot.RegistrationToken, "registration access token"
	}
	s.renderSecret(w, r, http.StatusOK, v, tabClients, sv)
}

// deleteClient answers POST /admin/clients/{id}/delete, with the confirm
// box.
func (s *Site) deleteClient(w http.ResponseWriter, r *http.Request, v visitor) {
	id := r.PathValue("id")
	s.deleteConfirmed(w, r, valid.Errorf("confirm", "tick the box to confirm that the client and its tokens are to be deleted"),
		func() error { return s.oauth.DeleteClient(r.Context(), s.actor(r, v), id) },
		func(err error) { s.refuseClientAction(w, r, v, id, err) }, "/admin/clients?notice=deleted")
}

// refuseClientAction shows the client's page with the reason an action
// was refused.
func (s *Site) refuseClientAction(w http.ResponseWriter, r *http.Request, v visitor, id string, err error) {
	c, gerr := s.oauth.Client(r.Context(), id)
	if gerr != nil {
		s.fail(w, r, gerr)
		return
	}
	view := oauth.ClientView(c)
	s.refuseClient(w, r, v, clientView{ID: id, Client: view, Form: formOfClient(view)}, err)
}

func (s *Site) refuseClient(w http.ResponseWriter, r *http.Request, v visitor, cv clientView, err error) {
	if p, status, ok := s.refusal(w, r, err); ok {
		cv.Problem = p
		s.renderClient(w, r, status, v, cv)
	}
}

func readClientForm(f url.Values) clientForm {
	gts := []string{}
	for _, g := range f["grant_types"] {
		if !slices.Contains(gts, g) {
			gts = append(gts, g)
		}
	}
	return clientForm{Name: f.Get("name"), GrantTypes: gts, APIScopes: f.Get("api_scopes"),
		RedirectURIs: f.Get("redirect_uris"), LogoutURIs: f.Get("post_logout_redirect_uris"),
		FirstParty: f.Get("first_party") == "yes", AuthMethod: f.Get("token_endpoint_auth_method"),
		Format: f.Get("access_token_format"), AccessTTL: f.Get("access_token_ttl"), RefreshTTL: f.Get("refresh_token_ttl")}
}

// apiScopes reads the "api_id: scope scope" lines.
func (f clientForm) apiScopes() (map[string][]string, error) {
	m := map[string][]string{}
	for _, l := range lines(f.APIScopes) {
		id, scs, ok := strings.Cut(l, ":")
		if !ok {
			return nil, valid.Errorf("api_scopes", "write each API as a line “API id: scope scope”")
		}
		id = strings.TrimSpace(id)
		m[id] = append(m[id], words(scs)...)
		if m[id] == nil {
			m[id] = []string{}
		}
	}
	return m, nil
}

// formOfClient is the form showing c's settings.
func formOfClient(c api.Client) clientForm {
	var scopes []string
	for id, scs := range c.APIScopes {
		scopes = append(scopes, id+": "+strings.Join(scs, " "))
	}
	slices.Sort(scopes)
	return clientForm{Name: c.Name, GrantTypes: c.GrantTypes, APIScopes: strings.Join(scopes, "\n"),
		RedirectURIs: strings.Join(c.RedirectURIs, "\n"), LogoutURIs: strings.Join(c.PostLogoutRedirectURIs, "\n"),
		FirstParty: c.FirstParty, AuthMethod: c.TokenEndpointAuthMethod, Format: c.AccessTokenFormat,
		AccessTTL: fmtDuration(c.AccessTokenTTL.Std()), RefreshTTL: fmtDuration(c.RefreshTokenTTL.Std())}
}
