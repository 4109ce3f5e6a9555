package web

import (
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/user"
)

// The OAuth pages: /oauth2/authorize with its consent step, /device and
// /oauth2/logout. package oauth decides everything (which client, which
// redirect, whether a sign-in or consent is needed); these handlers only
// carry the person through the steps. Between steps the request travels
// as a single-use request_uri that oauth.Service.Encode stored, so that
// nothing a page round-trips can be altered.

// consentView is the consent page of an authorization or a device
// request.
type consentView struct {
	frame
	oauth.ConsentRequest
	// Action is where the decision is posted; RequestURI or UserCode
	// names the request there.
	Action     string
	ClientID   string
	RequestURI string
	UserCode   string
}

// oauthError shows an *oauth.Error to the person as a page: its words
// are written for clients, but hold nothing secret.
func oauthError(err error) error {
	if e, ok := errors.AsType[*oauth.Error](err); ok {
		status := e.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return &publicError{status, "This sign-in request cannot be used: " + e.Description + "."}
	}
	return err
}

// authorizeForm reads an authorization request: the query of a GET, the
// form of a POST (OIDC Core §3.1.2.1 allows both).
func (s *Site) authorizeForm(w http.ResponseWriter, r *http.Request) (oauth.Form, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		f, err := readForm(w, r)
		if err != nil {
			return oauth.Form{}, err
		}
		raw = f.Encode()
	}
	f, err := oauth.ParseForm([]byte(raw))
	return f, oauthError(err)
}

// who is what the OAuth service knows of v.
func who(v visitor) oauth.SignedIn {
	return oauth.SignedIn{UserID: v.user.ID, SessionID: v.session.ID, AuthTime: v.session.AuthTime, AMR: v.session.AMR}
}

// authorize answers GET and POST /oauth2/authorize.
func (s *Site) authorize(w http.ResponseWriter, r *http.Request) {
	f, err := s.authorizeForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.oauth.Authorize(r.Context(), f, s.clientIP(r))
	if s.redirected(w, r, err) {
		return
	}
	v, err := s.visit(r)
	signedIn := err == nil && v.session.Pending == ""
	if err != nil && !errors.Is(err, user.ErrNoSession) {
		s.fail(w, r, err)
		return
	}
	var person oauth.SignedIn
	if signedIn {
		person = who(v)
	}
	step, err := s.oauth.Decide(r.Context(), a, person)
	if s.redirected(w, r, err) {
		return
	}
	switch step {
	case oauth.StepLogin:
		s.authorizeSignIn(w, r, a, v.token)
	case oauth.StepConsent:
		s.renderConsent(w, r, a)
	default:
		s.issueCode(w, r, a, person)
	}
}

// returnView is the page that sends the browser back to an app.
type returnView struct {
	frame
	// Refresh is the meta refresh; URL the same address for the link.
	Refresh string
	URL     template.URL
}

// toClient sends the browser to to, an address at a client that package
// oauth built from a registered redirect URI. It is a page that moves on
// at once (meta refresh, and a link without it) rather than an HTTP
// redirect: after a form post (sign-in, consent, logout) a redirect to
// another origin would break the pages' CSP form-action 'self', which
// browsers apply to every redirect of a form's navigation.
func (s *Site) toClient(w http.ResponseWriter, r *http.Request, to string) {
	v := returnView{Refresh: "0;url=" + to, URL: template.URL(to)} // a registered redirect URI: no javascript:, checked by oauth
	v.frame = s.frame(r, "Returning to the app")
	s.render(w, r, http.StatusOK, pageReturn, v)
}

// redirected handles an error of the OAuth service: a *RedirectError
// goes back to the client, anything else is a page. It reports whether
// err was one.
func (s *Site) redirected(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	if re, ok := errors.AsType[*oauth.RedirectError](err); ok {
		s.toClient(w, r, re.URL)
		return true
	}
	if e, ok := errors.AsType[*oauth.Error](err); ok && e.RetryAfter > 0 {
		// A limit (client metadata document fetches per address) says
		// when to come back.
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds())))))
	}
	s.fail(w, r, oauthError(err))
	return true
}

// authorizeSignIn sends the person to sign in and back to a. A session
// that is too old for the request (prompt=login, max_age) ends first, so
// that the sign-in page asks again.
func (s *Site) authorizeSignIn(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, token string) {
	uri, err := s.oauth.Encode(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if token != "" {
		if err := s.users.SignOut(r.Context(), token); err != nil && !errors.Is(err, user.ErrNoSession) {
			s.fail(w, r, err)
			return
		}
		s.clearSession(w)
	}
	next := oauth.AuthorizePath + "?" + url.Values{"client_id": {a.Client.ID}, "request_uri": {uri}}.Encode()
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}

func (s *Site) renderConsent(w http.ResponseWriter, r *http.Request, a *oauth.Authorization) {
	uri, err := s.oauth.Encode(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := consentView{ConsentRequest: s.oauth.ConsentFor(a), Action: oauth.AuthorizePath + "/decide", ClientID: a.Client.ID, RequestURI: uri}
	v.frame = s.frame(r, "Allow access?")
	s.render(w, r, http.StatusOK, pageConsent, v)
}

// issueCode redirects to the client with a code.
func (s *Site) issueCode(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, person oauth.SignedIn) {
	to, err := s.oauth.IssueCode(r.Context(), a, person)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.toClient(w, r, to)
}

// authorizeDecide answers POST /oauth2/authorize/decide: request_uri and
// decision (allow or deny), from the consent page of the signed-in
// person.
func (s *Site) authorizeDecide(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := oauth.ParseForm([]byte(url.Values{"client_id": {f.Get("client_id")}, "request_uri": {f.Get("request_uri")}}.Encode()))
	if err != nil {
		s.fail(w, r, oauthError(err))
		return
	}
	a, err := s.oauth.Authorize(r.Context(), q, s.clientIP(r))
	if s.redirected(w, r, err) {
		return
	}
	if f.Get("decision") != "allow" {
		s.toClient(w, r, s.oauth.Deny(a))
		return
	}
	if err := s.oauth.Consent(r.Context(), audit.Actor{ID: v.user.ID, IP: s.clientIP(r)}, a, v.user.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.issueCode(w, r, a, who(v))
}
