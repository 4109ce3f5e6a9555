package web

import (
	"net/http"

	"github.com/tokend/tokend/internal/audit"
)

// deviceView is the /device page: the form where a signed-in person types
// the code a device shows (RFC 8628 §3.3), and its outcome.
type deviceView struct {
	frame
	UserCode string
	Error    string
	Done     string
}

func (s *Site) renderDevice(w http.ResponseWriter, r *http.Request, status int, v deviceView) {
	v.frame = s.frame(r, "Connect a device")
	s.render(w, r, status, pageDevice, v)
}

// deviceForm answers GET /device, prefilled from verification_uri_complete.
func (s *Site) deviceForm(w http.ResponseWriter, r *http.Request, _ visitor) {
	s.renderDevice(w, r, http.StatusOK, deviceView{UserCode: r.URL.Query().Get("user_code")})
}

// deviceLookup answers POST /device: user_code. A known pending code
// shows the consent page; a wrong one the form again (guesses count
// against the address, see oauth.Service.LookupUserCode).
func (s *Site) deviceLookup(w http.ResponseWriter, r *http.Request, _ visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := s.oauth.LookupUserCode(r.Context(), f.Get("user_code"), s.clientIP(r))
	if err != nil {
		s.deviceRefused(w, r, f.Get("user_code"), err)
		return
	}
	v := consentView{ConsentRequest: req.Consent, Action: "/device/decide", UserCode: req.UserCode}
	v.frame = s.frame(r, "Allow access?")
	s.render(w, r, http.StatusOK, pageConsent, v)
}

// deviceRefused shows the form again with why the code was refused.
func (s *Site) deviceRefused(w http.ResponseWriter, r *http.Request, typed string, err error) {
	status, msg, internal := classify(oauthError(err))
	if internal {
		s.fail(w, r, err)
		return
	}
	if status == http.StatusBadRequest {
		msg = "That code is unknown, expired or already used. Check the code on your device and try again."
	} else if status == http.StatusTooManyRequests {
		msg = "Too many wrong codes from your network. Wait a minute and try again."
	}
	s.renderDevice(w, r, status, deviceView{UserCode: typed, Error: msg})
}

// deviceDecide answers POST /device/decide: user_code and decision.
func (s *Site) deviceDecide(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	approve := f.Get("decision") == "allow"
	err = s.oauth.DecideDevice(r.Context(), audit.Actor{ID: v.user.ID, IP: s.clientIP(r)}, f.Get("user_code"), who(v), approve)
	if err != nil {
		s.deviceRefused(w, r, "", err)
		return
	}
	done := "Access denied. You can close this window; the device gets nothing."
	if approve {
		done = "Done. Your device is connected; you can close this window."
	}
	s.renderDevice(w, r, http.StatusOK, deviceView{Done: done})
}
