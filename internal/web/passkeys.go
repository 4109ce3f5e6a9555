package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/jsonkeys"
	"github.com/tokend/tokend/internal/user"
)

// The passkey pages: /account/passkeys (add, rename, remove), and the
// passkey ceremonies that static/passkey.js runs against JSON endpoints:
// adding one, signing in with one instead of a password, and using one
// as the second step. The ceremony's state is opaque here: the script
// keeps it in memory between the options and the answer, and package
// user keeps only its hash, for five minutes, usable once.

// passkeysView is the account's passkeys page.
type passkeysView struct {
	frame
	Passkeys []api.Passkey
	// Off says why passkeys cannot be used (no host name to bind them
	// to), "" when they can.
	Off    string
	Error  string
	Notice string
	// Next is the local page to go to once a passkey is added (from
	// the enrolment step).
	Next string
}

func (s *Site) renderPasskeys(w http.ResponseWriter, r *http.Request, status int, v visitor, pv passkeysView) {
	pv.frame = s.accountFrame(r, "Passkeys", "account", v)
	pv.Scripts = []string{"passkey.js"}
	if err := s.users.PasskeysAvailable(); err != nil {
		pv.Off = err.Error()
	}
	if pv.Passkeys == nil {
		ps, err := s.users.Passkeys(r.Context(), v.user.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pv.Passkeys = ps
	}
	s.render(w, r, status, pagePasskeys, pv)
}

// passkeys answers GET /account/passkeys.
func (s *Site) passkeys(w http.ResponseWriter, r *http.Request, v visitor) {
	pv := passkeysView{Next: localPath(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("done") {
	case "added":
		pv.Notice = "Your passkey is added. You can sign in with it now."
	case "renamed":
		pv.Notice = "The passkey is renamed."
	case "removed":
		pv.Notice = "The passkey is removed."
	}
	s.renderPasskeys(w, r, http.StatusOK, v, pv)
}

// renamePasskey answers POST /account/passkeys/{id}/rename: name.
func (s *Site) renamePasskey(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.users.RenamePasskey(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("id"), f.Get("name"))
	s.afterPasskeyChange(w, r, v, err, "renamed")
}

// removePasskey answers POST /account/passkeys/{id}/remove.
func (s *Site) removePasskey(w http.ResponseWriter, r *http.Request, v visitor) {
	err := s.users.DeletePasskey(r.Context(), s.actor(r, v), v.user.ID, r.PathValue("id"))
	s.afterPasskeyChange(w, r, v, err, "removed")
}

func (s *Site) afterPasskeyChange(w http.ResponseWriter, r *http.Request, v visitor, err error, done string) {
	if err != nil {
		status, msg, internal := classify(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		s.renderPasskeys(w, r, status, v, passkeysView{Error: msg})
		return
	}
	http.Redirect(w, r, "/account/passkeys?done="+done, http.StatusSeeOther)
}

// ceremonyStart is the answer to a request for passkey options.
type ceremonyStart struct {
	Options json.RawMessage `json:"options"`
	State   string          `json:"state"`
}

// ceremonyAnswer is what passkey.js posts back: the state, the browser's
// PublicKeyCredential as JSON and, when adding a passkey, its name.
type ceremonyAnswer struct {
	State      string          `json:"state"`
	Name       string          `json:"name,omitempty"`
	Credential json.RawMessage `json:"credential"`
	// Next is the local page a sign-in goes to (the sign-in page's next).
	Next string `json:"next,omitempty"`
}

// ceremonyDone tells passkey.js where to go next.
type ceremonyDone struct {
	Redirect string `json:"redirect"`
}

// registrationOptions answers POST /account/passkeys/options.
func (s *Site) registrationOptions(w http.ResponseWriter, r *http.Request, v visitor) {
	opts, state, err := s.users.BeginPasskeyRegistration(r.Context(), v.user.ID)
	s.answerJSON(w, r, ceremonyStart{Options: opts, State: state}, err)
}

// addPasskey answers POST /account/passkeys: the registration's answer.
// A session that was waiting for a second factor to be set up becomes a
// full one, and goes on to the answer's next, if any.
func (s *Site) addPasskey(w http.ResponseWriter, r *http.Request, v visitor) {
	a, err := readAnswer(w, r)
	if err == nil {
		_, err = s.users.FinishPasskeyRegistration(r.Context(), v.user.ID, a.State, a.Name, a.Credential)
	}
	if err != nil {
		s.answerJSON(w, r, nil, err)
		return
	}
	if v.session.Pending == user.PendingEnrol {
		in, err := s.users.CompleteSecondFactor(r.Context(), v.token, "hwk", s.meta(r))
		if err != nil {
			s.answerJSON(w, r, nil, err)
			return
		}
		s.setSession(w, in)
	}
	s.answerJSON(w, r, ceremonyDone{Redirect: orDefault(localPath(a.Next), "/account/passkeys?done=added")}, nil)
}

// signInOptions answers POST /signin/passkey/options: a passwordless
// sign-in with any passkey of this site (also used for the browser's
// autofill).
func (s *Site) signInOptions(w http.ResponseWriter, r *http.Request) {
	if err := noBody(w, r); err != nil {
		s.answerJSON(w, r, nil, err)
		return
	}
	opts, state, err := s.users.BeginPasswordlessLogin(r.Context(), s.meta(r))
	s.answerJSON(w, r, ceremonyStart{Options: opts, State: state}, err)
}

// signInWithPasskey answers POST /signin/passkey: the assertion of a
// passwordless sign-in. The passkey, with user verification, is both
// factors, so the session is full at once.
func (s *Site) signInWithPasskey(w http.ResponseWriter, r *http.Request) {
	a, err := readAnswer(w, r)
	var u api.User
	if err == nil {
		u, err = s.users.FinishPasskeyLogin(r.Context(), a.State, a.Credential)
	}
	var in user.SignedIn
	if err == nil {
		in, err = s.users.StartSession(r.Context(), u.ID, []string{"hwk"}, s.meta(r))
	}
	if err != nil {
		s.answerJSON(w, r, nil, err)
		return
	}
	s.setSession(w, in)
	next := s.stepPage(in.Session)
	if in.Session.Pending == "" {
		next = orDefault(localPath(a.Next), next)
	}
	s.answerJSON(w, r, ceremonyDone{Redirect: next}, nil)
}

// secondFactorOptions answers POST /signin/second-factor/passkey/options:
// the person's own passkeys only.
func (s *Site) secondFactorOptions(w http.ResponseWriter, r *http.Request, v visitor) {
	opts, state, err := s.users.BeginPasskeyLogin(r.Context(), v.user.ID)
	s.answerJSON(w, r, ceremonyStart{Options: opts, State: state}, err)
}

// secondFactorPasskey answers POST /signin/second-factor/passkey: the
// assertion that completes the pending session.
func (s *Site) secondFactorPasskey(w http.ResponseWriter, r *http.Request, v visitor) {
	a, err := readAnswer(w, r)
	var u api.User
	if err == nil {
		u, err = s.users.FinishPasskeyLogin(r.Context(), a.State, a.Credential)
	}
	if err == nil && u.ID != v.user.ID {
		err = user.ErrPasskeyRefused // cannot happen: the ceremony was for v's passkeys only
	}
	var in user.SignedIn
	if err == nil {
		in, err = s.users.CompleteSecondFactor(r.Context(), v.token, "hwk", s.meta(r))
	}
	if err != nil {
		s.answerJSON(w, r, nil, err)
		return
	}
	s.setSession(w, in)
	s.answerJSON(w, r, ceremonyDone{Redirect: orDefault(localPath(a.Next), s.stepPage(in.Session))}, nil)
}

// ceremony runs h, a passkey endpoint of passkey.js, for a session whose
// Pending is allowed (a full session is also admitted where enrolment
// is). Unlike the pages it never redirects: without such a session the
// answer is a JSON error the script shows.
func (s *Site) ceremony(h visitorHandler, allowed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.visit(r)
		if err == nil && v.session.Pending != allowed && (v.session.Pending != "" || allowed != user.PendingEnrol) {
			err = user.ErrNoSession
		}
		if err != nil {
			s.answerJSON(w, r, nil, err)
			return
		}
		h(w, r, v)
	}
}

// maxAnswerBytes bounds a ceremony's answer: the credential and a little
// for the state and name.
const maxAnswerBytes = user.MaxPasskeyResponse + 4<<10

// readAnswer reads a ceremony answer: JSON, within maxAnswerBytes,
// decoded as strictly as every /v1 body (jsonkeys): field names exactly
// as written, none unknown, no key given twice. The credential is the
// browser's, whose fields package user checks against the WebAuthn
// library's types; here it is a raw value, refused only for a key given
// twice inside it.
func readAnswer(w http.ResponseWriter, r *http.Request) (ceremonyAnswer, error) {
	var a ceremonyAnswer
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return a, errNotJSON
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAnswerBytes))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return a, errAnswerTooLarge
	}
	if err != nil {
		return a, errBadAnswer
	}
	if err := jsonkeys.Unmarshal(body, &a, jsonkeys.Strict); err != nil {
		return ceremonyAnswer{}, answerError(err)
	}
	return a, nil
}

// noBody refuses a body on an options request, which takes none (an
// empty JSON object is allowed, as passkey.js sends one; so is no body).
func noBody(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<10))
	if err != nil {
		return errBadAnswer
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var v struct{}
	return answerError(jsonkeys.Unmarshal(body, &v, jsonkeys.Strict))
}

// answerError is what the passkey endpoints say of a body jsonkeys
// refused: the key it refused (its text names the field, never a value),
// or that the body could not be read at all.
func answerError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*jsonkeys.Error](err); ok {
		return &publicError{http.StatusBadRequest, "The passkey answer could not be read: " + e.Error() + ". Nothing was changed."}
	}
	return errBadAnswer
}

// The errors of the passkey endpoints.
var (
	errNotJSON        = &publicError{http.StatusUnsupportedMediaType, "The passkey answer must be sent as JSON. Nothing was changed."}
	errAnswerTooLarge = &publicError{http.StatusRequestEntityTooLarge, "The passkey answer was too large. Nothing was changed."}
	errBadAnswer      = &publicError{http.StatusBadRequest, "The passkey answer could not be read. Nothing was changed."}
)

// passkeyProblem is the JSON error of the passkey endpoints: the message
// the page shows.
type passkeyProblem struct {
	Error string `json:"error"`
}

// answerJSON writes v as JSON, or err as {"error": message} with the
// status classify gives it (an internal error is logged once, as fail
// does).
func (s *Site) answerJSON(w http.ResponseWriter, r *http.Request, v any, err error) {
	status := http.StatusOK
	if err != nil {
		var msg string
		var internal bool
		status, msg, internal = passkeyError(err)
		retryAfter(w, err)
		if internal {
			s.log.ErrorContext(r.Context(), "page failed", "request_id", w.Header().Get("X-Request-Id"),
				"path", r.URL.Path, "err", err)
		}
		v = passkeyProblem{Error: msg}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // a failed write is the client's loss
}

// passkeyError is what the passkey pages say of a refusal. A refused
// answer says nothing of why (the detail is for the log only).
func passkeyError(err error) (status int, msg string, internal bool) {
	if te, ok := errors.AsType[*user.ThrottledError](err); ok {
		return http.StatusTooManyRequests, "Too many passkey sign-ins were started from your network. Wait " +
			waitText(te.RetryAfter) + ", or sign in with your password.", false
	}
	switch {
	case errors.Is(err, user.ErrPasskeyRefused):
		return http.StatusUnauthorized, "The passkey was not accepted. Try again, or use another way to sign in.", false
	case errors.Is(err, user.ErrPasskeysOff):
		return http.StatusServiceUnavailable, "Passkeys are off on this tokend: its public address has no host name " +
			"to bind them to. Ask your administrator.", false
	case errors.Is(err, user.ErrNoPasskeys):
		return http.StatusConflict, "You have no passkey yet. Use your code instead.", false
	case errors.Is(err, user.ErrDisabled):
		return http.StatusForbidden, "This account is disabled. Ask an administrator to enable it.", false
	case errors.Is(err, user.ErrNoSession):
		return http.StatusUnauthorized, "Your sign-in expired. Sign in again.", false
	}
	return classify(err)
}
