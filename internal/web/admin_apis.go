package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/valid"
)

// The console pages of APIs (/admin/apis…): list and search, create,
// edit (name, scopes with their descriptions, the policy with the
// group→scopes rules of personal access tokens), delete. They call
// package apikey as POST, PATCH and DELETE /v1/apis do.

// apisView is the list of APIs.
type apisView struct {
	frame
	Query  string
	APIs   []api.API
	Notice string
}

// listAPIs answers GET /admin/apis?q=: every API, or those whose name or
// audience holds q. APIs are few (one per resource server), so the page
// shows them all.
func (s *Site) listAPIs(w http.ResponseWriter, r *http.Request, v visitor) {
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	view := apisView{frame: s.adminFrame(r, "APIs", tabAPIs, v), Query: q, Notice: apiNotices[r.URL.Query().Get("notice")]}
	for _, a := range as {
		if q == "" || strings.Contains(strings.ToLower(a.Name+" "+a.Audience), strings.ToLower(q)) {
			view.APIs = append(view.APIs, apikey.APIView(a))
		}
	}
	s.render(w, r, http.StatusOK, pageAPIs, view)
}

// apiNotices are the confirmations of the API pages (?notice=…).
var apiNotices = map[string]string{
	"created": "The API was created.",
	"saved":   "The API was saved.",
	"deleted": "The API was deleted.",
}

// apiForm is the API form as typed: every field a string, so that a
// refused form comes back as it was sent.
type apiForm struct {
	Name, Audience, KeyPrefix, Scopes string
	// Descriptions are "scope: words" lines.
	Descriptions string
	// UserScopes are "group: scope scope" lines; the group * is
	// everyone.
	UserScopes                 string
	DynamicScopes              string
	MaxKeyTTL, PATMaxTTL       string
	NoExpiry, RequireAllowlist bool
	// ApprovalScopes and ApproveClients are the approval step's
	// policy: pat_approval_scopes and approve_dynamic_clients.
	ApprovalScopes string
	ApproveClients bool
}

// apiView is the page of one API (ID set) or the new-API form.
type apiView struct {
	frame
	ID      string
	System  bool // the built-in tokend API, which the console does not edit
	API     api.API
	Form    apiForm
	Problem formProblem
	Notice  string
}

func (s *Site) renderAPI(w http.ResponseWriter, r *http.Request, status int, v visitor, av apiView) {
	title := "New API"
	if av.ID != "" {
		title = av.API.Name
	}
	av.frame = s.adminFrame(r, title, tabAPIs, v)
	av.System = av.ID == apikey.SystemAPIID
	s.render(w, r, status, pageAPI, av)
}

// newAPIForm answers GET /admin/apis/new.
func (s *Site) newAPIForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderAPI(w, r, http.StatusOK, v, apiView{})
}

// showAPI answers GET /admin/apis/{id}: the API's settings as a form.
func (s *Site) showAPI(w http.ResponseWriter, r *http.Request, v visitor) {
	a, err := s.keys.API(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := apikey.APIView(a)
	s.renderAPI(w, r, http.StatusOK, v, apiView{ID: a.ID, API: view, Form: formOfAPI(view),
		Notice: apiNotices[r.URL.Query().Get("notice")]})
}

// createAPI answers POST /admin/apis.
func (s *Site) createAPI(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := readAPIForm(f)
	req := api.CreateAPIRequest{Name: form.Name, Audience: strings.TrimSpace(form.Audience),
		KeyPrefix: strings.TrimSpace(form.KeyPrefix), Scopes: words(form.Scopes)}
	err = form.policy(&req.Policy)
	if err == nil {
		a, cerr := s.keys.CreateAPI(r.Context(), s.actor(r, v), req)
		if cerr == nil {
			http.Redirect(w, r, "/admin/apis/"+url.PathEscape(a.ID)+"?notice=created", http.StatusSeeOther)
			return
		}
		err = cerr
	}
	s.refuseAPI(w, r, v, apiView{Form: form}, err)
}

// updateAPI answers POST /admin/apis/{id}: the form replaces the name,
// the scopes and the policy; the policy's default rate limits, which the
// form does not show, are kept.
func (s *Site) updateAPI(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := s.keys.API(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := readAPIForm(f)
	p := apikey.APIView(cur).Policy
	scopes := words(form.Scopes)
	if err = form.policy(&p); err == nil {
		_, err = s.keys.UpdateAPI(r.Context(), s.actor(r, v), id, api.UpdateAPIRequest{Name: &form.Name, Scopes: &scopes, Policy: &p})
	}
	if err != nil {
		s.refuseAPI(w, r, v, apiView{ID: id, API: apikey.APIView(cur), Form: form}, err)
		return
	}
	http.Redirect(w, r, "/admin/apis/"+url.PathEscape(id)+"?notice=saved", http.StatusSeeOther)
}

// deleteAPI answers POST /admin/apis/{id}/delete, with the confirm box.
func (s *Site) deleteAPI(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := s.keys.API(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !confirmed(f) {
		err = valid.Errorf("confirm", "tick the box to confirm that the API and every key of it are to be deleted")
	} else {
		err = s.keys.DeleteAPI(r.Context(), s.actor(r, v), id)
	}
	if err != nil {
		view := apikey.APIView(cur)
		s.refuseAPI(w, r, v, apiView{ID: id, API: view, Form: formOfAPI(view)}, err)
		return
	}
	http.Redirect(w, r, "/admin/apis?notice=deleted", http.StatusSeeOther)
}

// refuseAPI shows the API form again with the reason, or the error page
// when the reason is not for people.
func (s *Site) refuseAPI(w http.ResponseWriter, r *http.Request, v visitor, av apiView, err error) {
	if p, status, ok := s.refusal(w, r, err); ok {
		av.Problem = p
		s.renderAPI(w, r, status, v, av)
	}
}

func readAPIForm(f url.Values) apiForm {
	return apiForm{Name: f.Get("name"), Audience: f.Get("audience"), KeyPrefix: f.Get("key_prefix"), Scopes: f.Get("scopes"),
		Descriptions: f.Get("scope_descriptions"), UserScopes: f.Get("user_scopes"), DynamicScopes: f.Get("dynamic_client_scopes"),
		MaxKeyTTL: f.Get("max_key_ttl"), PATMaxTTL: f.Get("pat_max_ttl"),
		NoExpiry: f.Get("pat_allow_no_expiry") == "yes", RequireAllowlist: f.Get("require_ip_allowlist") == "yes",
		ApprovalScopes: f.Get("pat_approval_scopes"), ApproveClients: f.Get("approve_dynamic_clients") == "yes"}
}

// policy sets the policy fields the form shows on p. Lines it cannot
// read are a *valid.Error naming their field; the rest is the service's
// to judge.
func (f apiForm) policy(p *api.Policy) error {
	maxTTL, err := optDuration("max_key_ttl", f.MaxKeyTTL)
	if err != nil {
		return err
	}
	patTTL, err := optDuration("pat_max_ttl", f.PATMaxTTL)
	if err != nil {
		return err
	}
	p.MaxKeyTTL, p.PATMaxTTL = 0, 0
	if maxTTL != nil {
		p.MaxKeyTTL = *maxTTL
	}
	if patTTL != nil {
		p.PATMaxTTL = *patTTL
	}
	p.PATAllowNoExpiry, p.RequireIPAllowlist = f.NoExpiry, f.RequireAllowlist
	p.DynamicClientScopes = words(f.DynamicScopes)
	p.PATApprovalScopes, p.ApproveDynamicClients = words(f.ApprovalScopes), f.ApproveClients
	p.ScopeDescriptions = nil
	for _, l := range lines(f.Descriptions) {
		sc, d, ok := strings.Cut(l, ":")
		if !ok {
			return valid.Errorf("scope_descriptions", "write each as a line “scope: what it allows”")
		}
		if p.ScopeDescriptions == nil {
			p.ScopeDescriptions = map[string]string{}
		}
		p.ScopeDescriptions[strings.TrimSpace(sc)] = strings.TrimSpace(d)
	}
	p.UserScopes = nil
	for _, l := range lines(f.UserScopes) {
		g, scs, ok := strings.Cut(l, ":")
		if !ok {
			return valid.Errorf("user_scopes", "write each rule as a line “group: scope scope”, with * for every user")
		}
		us := api.UserScopes{Group: strings.TrimSpace(g), Scopes: words(scs)}
		if us.Group == "*" {
			us.Group, us.Everyone = "", true
		}
		if us.Scopes == nil {
			us.Scopes = []string{}
		}
		p.UserScopes = append(p.UserScopes, us)
	}
	return nil
}

// formOfAPI is the form showing a's settings.
func formOfAPI(a api.API) apiForm {
	f := apiForm{Name: a.Name, Audience: a.Audience, KeyPrefix: a.KeyPrefix, Scopes: strings.Join(a.Scopes, " "),
		DynamicScopes: strings.Join(a.Policy.DynamicClientScopes, " "), MaxKeyTTL: fmtDuration(a.Policy.MaxKeyTTL.Std()),
		PATMaxTTL: fmtDuration(a.Policy.PATMaxTTL.Std()), NoExpiry: a.Policy.PATAllowNoExpiry,
		RequireAllowlist: a.Policy.RequireIPAllowlist, ApprovalScopes: strings.Join(a.Policy.PATApprovalScopes, " "),
		ApproveClients: a.Policy.ApproveDynamicClients}
	var ds []string
	for sc, d := range a.Policy.ScopeDescriptions {
		ds = append(ds, sc+": "+d)
	}
	slices.Sort(ds)
	f.Descriptions = strings.Join(ds, "\n")
	var us []string
	for _, u := range a.Policy.UserScopes {
		g := u.Group
		if u.Everyone {
			g = "*"
		}
		us = append(us, g+": "+strings.Join(u.Scopes, " "))
	}
	f.UserScopes = strings.Join(us, "\n")
	return f
}
