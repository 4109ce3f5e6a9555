package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/valid"
)

// The admin console: the pages of admin*.go, for users with the
// tokend:admin role behind the second-factor policy (s.admin). They
// call the same domain services as the management API's handlers
// (apikey, oauth, signer, audit, user), so every rule and every
// validation is the services' own; a page only reads its form into the
// API's request type and shows the answer. This file holds what the
// console pages share.

// The tabs of the console's navigation (layout.html), in its order.
const (
	tabUsers     = "users"
	tabAPIs      = "apis"
	tabKeys      = "keys"
	tabClients   = "clients"
	tabTokens    = "tokens"
	tabGrants    = "grants"
	tabApprovals = "approvals"
	tabSigning   = "signing"
	tabAudit     = "audit"
	tabHooks     = "webhooks"
)

// consolePageSize is the number of rows a console list page shows.
const consolePageSize = 50

// adminFrame is the frame of a console page on tab.
func (s *Site) adminFrame(r *http.Request, title, tab string, v visitor) frame {
	f := s.accountFrame(r, title, "admin", v)
	f.AdminTab = tab
	f.AdminTabs = s.adminTabs()
	return f
}

// adminTab is one entry of the console's navigation.
type adminTab struct {
	Name, Path, Label string
}

// adminTabs are the console's sections this Site serves: those of
// optional services only when the service is configured.
func (s *Site) adminTabs() []adminTab {
	tabs := []adminTab{{tabUsers, "/admin/users", "Users"}}
	if s.keys != nil {
		tabs = append(tabs, adminTab{tabAPIs, "/admin/apis", "APIs"}, adminTab{tabKeys, "/admin/keys", "API keys"})
	}
	if s.oauth != nil {
		tabs = append(tabs, adminTab{tabClients, "/admin/clients", "OAuth clients"})
	}
	if s.keys != nil {
		tabs = append(tabs, adminTab{tabTokens, "/admin/tokens", "Personal tokens"})
	}
	if s.keys != nil && s.oauth != nil {
		tabs = append(tabs, adminTab{tabGrants, "/admin/grants", "Authorized apps"})
	}
	if s.keys != nil && s.approvals != nil {
		tabs = append(tabs, adminTab{tabApprovals, "/admin/approvals", "Approvals"})
	}
	if s.signer != nil {
		tabs = append(tabs, adminTab{tabSigning, "/admin/signing-keys", "Signing keys"})
	}
	if s.webhooks != nil {
		tabs = append(tabs, adminTab{tabHooks, "/admin/webhooks", "Webhooks"})
	}
	if s.audit != nil {
		tabs = append(tabs, adminTab{tabAudit, "/admin/audit", "Audit log"})
	}
	return tabs
}

// formProblem is a refused form as its page shows it: the sentence, and
// the form field it names ("" when none), whose input is then marked
// invalid (the template function invalid).
type formProblem struct {
	Error string
	Field string
}

// problemOf is the formProblem of err and the page's status; internal
// is true when err is not for people (then the caller shows s.fail).
func problemOf(err error) (p formProblem, status int, internal bool) {
	status, msg, internal := classify(err)
	p.Error = msg
	if e, ok := errors.AsType[*valid.Error](err); ok {
		p.Field = formField(e.Field)
	}
	return p, status, internal
}

// formField is the name of the form field behind an API field:
// "policy.scope_descriptions.read" is the field scope_descriptions.
func formField(apiField string) string {
	f := strings.TrimPrefix(apiField, "policy.")
	if i := strings.IndexAny(f, ".["); i >= 0 {
		f = f[:i]
	}
	return f
}

// invalid is the template function that marks the input named name as
// the one a form problem names: aria-invalid and the error's id as its
// description.
func invalid(p formProblem, name string) template.HTMLAttr {
	if p.Field == "" || p.Field != name {
		return ""
	}
	return `aria-invalid="true" aria-describedby="form-error"`
}

// words splits a list typed with spaces, commas or lines.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// lines are the non-empty lines of a textarea, trimmed.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// optDuration reads an optional duration field ("90d", "12h"); empty is
// nil.
func optDuration(field, v string) (*api.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d, err := api.ParseDuration(v)
	if err != nil {
		return nil, valid.Errorf(field, "must be a duration such as 90d, 12h or 30m")
	}
	ad := api.Duration(d)
	return &ad, nil
}

// fmtDuration writes d the way the forms read it: whole days as 90d,
// anything else as Go writes it; zero as "".
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// pageLink is a list page's address with the query q.
func pageLink(path string, q url.Values) string {
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// secretView shows a secret once: a new API key, a rotated one, a new
// OAuth client secret. It is the answer to the POST that made it (no
// redirect), so the secret lives in no URL and no history entry.
type secretView struct {
	frame
	// What the secret is ("API key", "Client secret").
	What string
	// Secret is the value, shown once.
	Secret string
	// Extra is a second value shown once (a registration access token).
	Extra     string
	ExtraWhat string
	// Back is the page of the item; BackLabel its link's text.
	Back, BackLabel string
	Notice          string
	// Sealed says tokend keeps the secret encrypted, since it must use
	// it (a webhook's signing secret), rather than only its hash.
	Sealed bool
}

func (s *Site) renderSecret(w http.ResponseWriter, r *http.Request, status int, v visitor, tab string, sv secretView) {
	sv.frame = s.adminFrame(r, sv.What+" created", tab, v)
	s.render(w, r, status, pageSecret, sv)
}

// confirmed reports whether the form's confirm box is ticked.
func confirmed(f url.Values) bool { return f.Get("confirm") == "yes" }

// onePage cuts rows, read with one to spare (consolePageSize+1), to one
// page's rows, and gives the address of the next page, "" on the last:
// link is that of the page that starts after row last.
func onePage[T any](rows []T, link func(last T) string) (page []T, next string) {
	if len(rows) <= consolePageSize {
		return rows, ""
	}
	page = rows[:consolePageSize]
	return page, link(page[consolePageSize-1])
}

// refusal is the problem err makes on a form's page and the page's
// status. ok is false when err is not for people: the error page is
// then written, and the caller is done.
func (s *Site) refusal(w http.ResponseWriter, r *http.Request, err error) (p formProblem, status int, ok bool) {
	p, status, internal := problemOf(err)
	if internal {
		s.fail(w, r, err)
		return formProblem{}, 0, false
	}
	return p, status, true
}

// deleteConfirmed answers the delete form of an item's page: del runs
// only when the form's confirm box is ticked (else the refusal is
// unticked); refuse shows the item's page with a refusal, and a done
// delete goes to the list at done.
func (s *Site) deleteConfirmed(w http.ResponseWriter, r *http.Request, unticked error, del func() error,
	refuse func(error), done string) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !confirmed(f) {
		err = unticked
	} else {
		err = del()
	}
	if err != nil {
		refuse(err)
		return
	}
	http.Redirect(w, r, done, http.StatusSeeOther)
}

// revokeTicked answers the revoke form of a list with checkboxes: revoke
// gets the values of the ticked boxes named box (none ticked is refused
// with unticked), then the list page the form was on (its back field,
// else list) shows the notice "revoked".
func (s *Site) revokeTicked(w http.ResponseWriter, r *http.Request, box string, unticked error, revoke func([]string) error,
	list string) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(f[box]) == 0 {
		s.fail(w, r, unticked)
		return
	}
	if err := revoke(f[box]); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(backTo(f.Get("back"), list), "revoked"), http.StatusSeeOther)
}
