package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The create-a-token page: the person picks an API among those whose
// policy lets their groups hold tokens, then a name, scopes (only those
// the policy grants them), an expiry (within the API's maximum; "no
// expiry" only where the policy allows it), and optionally an IP
// allowlist and a rate limit. The secret is shown once, on the answer to
// the POST, never in a URL.

// newTokenView is the create-a-token page.
type newTokenView struct {
	frame
	APIs     []store.API   // the APIs the person may hold tokens for
	API      *store.API    // the chosen one, nil before the choice
	Scopes   []scopeChoice // what the policy grants the person there
	Expiries []expiryChoice
	Form     newTokenForm
	Error    string
}

// newTokenForm is what the person typed, kept across a refusal.
type newTokenForm struct {
	Name, Expiry, CIDRs, Rate string
	Scopes                    []string
}

type scopeChoice struct {
	api.Scope
	Checked bool
	// Gated: a token with this scope waits for an administrator's
	// approval (policy.pat_approval_scopes).
	Gated bool
}

type expiryChoice struct {
	Value, Label string
	Selected     bool
}

// tokenTTLs are the lifetimes the page offers, cut at the API's maximum.
var tokenTTLs = []int{7, 30, 90, 180, 365}

// newToken answers GET /account/tokens/new?api_id=.
func (s *Site) newToken(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderNewToken(w, r, http.StatusOK, v, r.URL.Query().Get("api_id"), newTokenForm{Expiry: "30"}, "")
}

func (s *Site) renderNewToken(w http.ResponseWriter, r *http.Request, status int, v visitor, apiID string, f newTokenForm, msg string) {
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := newTokenView{frame: s.accountFrame(r, "Create a personal access token", "tokens", v), Form: f, Error: msg}
	for _, a := range as {
		if _, ok := apikey.Grantable(a.Policy, v.user.Groups); ok {
			view.APIs = append(view.APIs, a)
		}
	}
	for i := range view.APIs {
		if a := &view.APIs[i]; a.ID == apiID || len(view.APIs) == 1 {
			view.API = a
		}
	}
	if view.API != nil {
		grantable, _ := apikey.Grantable(view.API.Policy, v.user.Groups)
		for _, sc := range view.API.Scopes {
			if slices.Contains(grantable, sc) {
				view.Scopes = append(view.Scopes, scopeChoice{Scope: api.Scope{Name: sc, Description: view.API.Policy.ScopeDescriptions[sc]},
					Checked: slices.Contains(f.Scopes, sc), Gated: slices.Contains(view.API.Policy.PATApprovalScopes, sc)})
			}
		}
		view.Expiries = expiries(view.API.Policy, f.Expiry)
	}
	s.render(w, r, status, pageNewToken, view)
}

// expiries are the expiry choices under p, selected marking one.
func expiries(p store.Policy, selected string) []expiryChoice {
	max := apikey.PATMaxTTL(p)
	var out []expiryChoice
	for _, days := range tokenTTLs {
		if max > 0 && time.Duration(days)*24*time.Hour > max {
			break
		}
		out = append(out, expiryChoice{Value: strconv.Itoa(days), Label: strconv.Itoa(days) + " days"})
	}
	if max > 0 && (len(out) == 0 || time.Duration(tokenTTLs[len(out)-1])*24*time.Hour < max) {
		days := int(max / (24 * time.Hour))
		if days >= 1 {
			out = append(out, expiryChoice{Value: strconv.Itoa(days), Label: strconv.Itoa(days) + " days (the longest allowed)"})
		}
	}
	if p.PATAllowNoExpiry {
		out = append(out, expiryChoice{Value: "never", Label: "No expiry"})
	}
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}

// createdTokenView is the page that shows a new secret, once.
type createdTokenView struct {
	frame
	Token  tokenRow
	Secret string
	// Grace is how long the old secret of a regenerated token keeps
	// working ("" for none, or for a new token).
	Grace string
}

// createToken answers POST /account/tokens.
func (s *Site) createToken(w http.ResponseWriter, r *http.Request, v visitor) {
	form, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newTokenForm{Name: form.Get("name"), Expiry: form.Get("expiry"), CIDRs: form.Get("allowed_cidrs"),
		Rate: form.Get("rate_per_minute"), Scopes: form["scope"]}
	apiID := form.Get("api_id")
	req, err := tokenRequest(apiID, f)
	if err == nil {
		var k store.Key
		var secret string
		if k, secret, err = s.keys.CreatePAT(r.Context(), s.actor(r, v), v.user.ID, req); err == nil {
			a, _ := s.keys.API(r.Context(), k.APIID)
			now := s.keys.Now()
			s.render(w, r, http.StatusCreated, pageTokenSecret, createdTokenView{frame: s.accountFrame(r, "Your new token", "tokens", v),
				Token: s.tokenRow(apikey.TokenView(k, now), a, "", now), Secret: secret})
			return
		}
	}
	status, msg, internal := classify(err)
	if internal {
		s.fail(w, r, err)
		return
	}
	s.renderNewToken(w, r, status, v, apiID, f, msg)
}

// tokenRequest turns the form into the request CreatePAT checks against
// the API's policy.
func tokenRequest(apiID string, f newTokenForm) (api.CreateTokenRequest, error) {
	req := api.CreateTokenRequest{APIID: apiID, Name: strings.TrimSpace(f.Name), Scopes: f.Scopes}
	if req.Scopes == nil {
		req.Scopes = []string{}
	}
	switch f.Expiry {
	case "never":
	default:
		days, err := strconv.Atoi(f.Expiry)
		if err != nil || days < 1 {
			return req, valid.Errorf("expires_at", "choose when the token expires")
		}
		d := api.Duration(time.Duration(days) * 24 * time.Hour)
		req.TTL = &d
	}
	for _, c := range strings.FieldsFunc(f.CIDRs, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		req.AllowedCIDRs = append(req.AllowedCIDRs, c)
	}
	if rate := strings.TrimSpace(f.Rate); rate != "" {
		n, err := strconv.ParseInt(rate, 10, 64)
		if err != nil || n < 1 {
			return req, valid.Errorf("ratelimits", "the rate limit must be a whole number of requests per minute, at least 1")
		}
		req.RateLimits = []api.RateLimit{{Name: "per_minute", Limit: n, Window: api.Duration(time.Minute)}}
	}
	return req, nil
}
