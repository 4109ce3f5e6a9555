package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/valid"
)

// publicError is an error whose message is written for the person reading
// the page (the vizerror idea): besides the fixed messages
// of classify that a page shows.
type publicError struct {
	status int
	msg    string
}

func (e *publicError) Error() string { return e.msg }

// The errors of the surface itself.
var (
	errNoPage      = &publicError{http.StatusNotFound, "There is no page at this address."}
	errMethod      = &publicError{http.StatusMethodNotAllowed, "This page does not take that kind of request."}
	errCrossOrigin = &publicError{http.StatusForbidden, "This form was sent from another site, so tokend refused it and " +
		"changed nothing. Open tokend directly and try again."}
	errFormTooLarge = &publicError{http.StatusRequestEntityTooLarge, "The form was too large. Nothing was changed."}
	errFieldTooLong = &publicError{http.StatusBadRequest, "A field of the form was too long. Nothing was changed."}
	errFormType     = &publicError{http.StatusUnsupportedMediaType, "The form was not sent as a web form. Nothing was changed."}
	errBadForm      = &publicError{http.StatusBadRequest, "The form could not be read. Nothing was changed."}
)

// classify is the one place where errors become what a page shows: a
// status and a message for people. Only errors of known kinds produce
// their own text; anything else is a 500 whose detail stays in the log
// (internal is then true). It follows the API's mapping
// (internal/server/errors.go) kind for kind, in words for a page.
func classify(err error) (status int, msg string, internal bool) {
	if e, ok := errors.AsType[*publicError](err); ok {
		return e.status, e.msg, false
	}
	if e, ok := errors.AsType[*valid.Error](err); ok {
		return http.StatusBadRequest, fieldMessage(e), false
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "There is no such item: it may have been deleted.", false
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "That name is already taken; choose another.", false
	case errors.Is(err, store.ErrInUse):
		return http.StatusConflict, "It is still in use: revoke or delete what depends on it first.", false
	case errors.Is(err, store.ErrBadCursor):
		return http.StatusBadRequest, "This page address is not one tokend made; start again from the first page.", false
	case errors.Is(err, apikey.ErrSystemAPI):
		return http.StatusConflict, "This is tokend's own API, which cannot be changed or deleted.", false
	case errors.Is(err, apikey.ErrRevoked):
		return http.StatusConflict, "The key is revoked: it can no longer change.", false
	case errors.Is(err, apikey.ErrOwnerDisabled):
		return http.StatusConflict, "The user is disabled and may hold no new token.", false
	case errors.Is(err, approval.ErrDecided):
		return http.StatusConflict, "This request was decided already; a decision is final.", false
	case errors.Is(err, user.ErrInvalidLink):
		return http.StatusBadRequest, "This set-password link is invalid, already used or expired. Ask an admin for a new one.", false
	case errors.Is(err, user.ErrDirectoryUser):
		return http.StatusConflict, "This account comes from the directory (LDAP), which owns its password; " +
			"change it there.", false
	case errors.Is(err, user.ErrUnavailable):
		return http.StatusServiceUnavailable, "The directory (LDAP) cannot be reached right now, so directory accounts " +
			"cannot sign in. Try again in a few minutes; accounts made in tokend are not affected.", false
	case errors.Is(err, ratelimit.ErrUnavailable):
		return http.StatusServiceUnavailable, "tokend cannot reach its shared rate limiter right now. Try again in a few minutes.", false
	case errors.Is(err, context.Canceled):
		return 499, "The request was cancelled.", false
	}
	return http.StatusInternalServerError, "Something went wrong on tokend's side. Nothing you did caused it; " +
		"if it keeps happening, give the request id below to your administrator.", true
}

// fieldMessage turns a validation error into a sentence naming the
// field the way the form labels it.
func fieldMessage(e *valid.Error) string {
	name := e.Field
	if label, ok := fieldLabels[e.Field]; ok {
		name = label
	} else if label, ok := fieldLabels[formField(e.Field)]; ok {
		name = label
	}
	return name + ": " + e.Reason + "."
}

// fieldLabels are the labels of form fields whose names differ from the
// API's field names.
var fieldLabels = map[string]string{
	"password":      "Password",
	"username":      "Username",
	"email":         "Email",
	"display_name":  "Display name",
	"groups":        "Groups",
	"name":          "Name",
	"scopes":        "Scopes",
	"expires_at":    "Expires",
	"ttl":           "Expires",
	"api_id":        "API",
	"allowed_cidrs": "Allowed addresses",
	"ratelimits":    "Rate limit",
	// The console's forms (admin_*.go), by form field.
	"audience":                   "Audience",
	"key_prefix":                 "Key prefix",
	"scope_descriptions":         "Scope descriptions",
	"user_scopes":                "Who may hold which scopes",
	"pat_max_ttl":                "Longest lifetime",
	"pat_allow_no_expiry":        "Allow tokens that never expire",
	"max_key_ttl":                "Longest key lifetime",
	"require_ip_allowlist":       "Require an IP allowlist",
	"dynamic_client_scopes":      "Scopes for self-registered OAuth clients",
	"pat_approval_scopes":        "Scopes that need an administrator's approval",
	"reason":                     "Reason",
	"state":                      "Show",
	"confirm":                    "Confirm",
	"subject":                    "Subject",
	"grace":                      "Grace period",
	"grant_types":                "Grant types",
	"api_scopes":                 "API scopes",
	"redirect_uris":              "Redirect URIs",
	"post_logout_redirect_uris":  "Post-logout redirect URIs",
	"access_token_ttl":           "Access token lifetime",
	"refresh_token_ttl":          "Refresh token lifetime",
	"access_token_format":        "Access token format",
	"token_endpoint_auth_method": "Client authentication",
	"url":                        "URL",
	"events":                     "Events",
	"description":                "Description",
	"cursor":                     "Page",
	"application_type":           "Application type",
	"user":                       "User",
	"show":                       "Show",
	"grant":                      "Grants",
	"since":                      "From",
	"until":                      "To",
}

// fail renders the error page for err. An internal error is logged once,
// with the request id the API's access log carries.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, internal := classify(err)
	id := w.Header().Get("X-Request-Id")
	if internal {
		s.log.ErrorContext(r.Context(), "page failed", "request_id", id, "path", r.URL.Path, "err", err)
	}
	s.renderError(w, r, status, errorView{frame: s.frame(r, statusTitle(status)), Status: status, Message: msg, RequestID: id})
}

// statusTitle is the heading of an error page.
func statusTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Refused"
	case http.StatusServiceUnavailable:
		return "Unavailable"
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}
