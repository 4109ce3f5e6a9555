package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

//go:embed templates static
var assets embed.FS

// The pages, one template file each in templates/ beside layout.html
// and console.html (the parts the console's list pages share).
// Every name here is parsed by New; a render method names its page by
// one of these constants.
const (
	pageError         = "error"
	pageSetPassword   = "set_password"
	pageSignIn        = "signin"
	pageSecondFactor  = "second_factor"
	pageEnrol         = "enrol"
	pageAccount       = "account"
	pagePassword      = "password"
	pageSessions      = "sessions"
	pageUsers         = "users"
	pageUser          = "user"
	pageNewUser       = "new_user"
	pagePasskeys      = "passkeys"
	pageConsent       = "consent"
	pageDevice        = "device"
	pageLogout        = "logout"
	pageReturn        = "return"
	pageTOTP          = "totp"
	pageRecoveryCodes = "recovery_codes"
	pageTokens        = "tokens"
	pageToken         = "token"
	pageNewToken      = "token_new"
	pageTokenSecret   = "token_secret"
	pageRevokeAll     = "revoke_all"
	pageSecret        = "admin_secret"
	pageAPIs          = "admin_apis"
	pageAPI           = "admin_api"
	pageKeys          = "admin_keys"
	pageKey           = "admin_key"
	pageNewKey        = "admin_new_key"
	pageClients       = "admin_clients"
	pageClient        = "admin_client"
	pageAdminTokens   = "admin_tokens"
	pageAdminGrants   = "admin_grants"
	pageSigningKeys   = "admin_signing_keys"
	pageAudit         = "admin_audit"
	pageApprovals     = "admin_approvals"
	pageWebhooks      = "admin_webhooks"
	pageWebhook       = "admin_webhook"
	pageDeliveries    = "admin_deliveries"
)

var pageNames = []string{pageError, pageSetPassword, pageSignIn, pageSecondFactor, pageEnrol, pageAccount, pagePassword,
	pageSessions, pageUsers, pageUser, pageNewUser, pagePasskeys, pageConsent, pageDevice, pageLogout, pageReturn,
	pageTOTP, pageRecoveryCodes,
	pageTokens, pageToken, pageNewToken, pageTokenSecret, pageRevokeAll,
	pageSecret, pageAPIs, pageAPI, pageKeys, pageKey, pageNewKey, pageClients, pageClient, pageAdminTokens, pageAdminGrants,
	pageSigningKeys, pageAudit, pageApprovals, pageWebhooks, pageWebhook, pageDeliveries}

// pages holds every page's template: the layout with the page's blocks.
type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/console.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(assets, "templates/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	// when formats a time for people, in UTC so that every reader of
	// a page (and every screenshot) sees the same text.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2 Jan 2006, 15:04 UTC")
	},
	"join": strings.Join,
	// invalid marks the input a form problem names (console.go).
	"invalid": invalid,
	// has reports whether a list holds a value (checked boxes).
	"has": slices.Contains[[]string, string],
	// duration writes a duration as the forms read it.
	"duration": fmtDuration,
}

// frame is what the layout shows around every page. Every view embeds it.
type frame struct {
	// Title is the page's heading and the first part of its <title>.
	Title string
	// User is the signed-in person for the navigation, nil when no one
	// is signed in (or on pages that do not show the navigation).
	User *api.User
	// Section marks the current navigation entry (aria-current).
	Section string
	// Scripts are files under /static/ the page loads, deferred.
	Scripts []string
	// AdminTab marks the current entry of the admin console's
	// navigation, AdminTabs (console.go); "" on other pages.
	AdminTab  string
	AdminTabs []adminTab
}

// frame returns the frame of a page with the given title.
func (s *Site) frame(_ *http.Request, title string) frame { return frame{Title: title} }

// render writes the named page with view. The page is executed into a
// buffer first, so a template error becomes a clean 500 rather than
// half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", view); err != nil {
		s.log.ErrorContext(r.Context(), "page failed", "request_id", w.Header().Get("X-Request-Id"), "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // a failed write is the client's loss, not the request's failure
}

// errorView is the error page.
type errorView struct {
	frame
	Status    int
	Message   string
	RequestID string
}

func (s *Site) renderError(w http.ResponseWriter, r *http.Request, status int, v errorView) {
	s.render(w, r, status, pageError, v)
}
