package web

import (
	"net/http"
	"slices"

	"github.com/tokend/tokend/internal/signer"
)

// The console page of the JWT signing keys (/admin/signing-keys): every
// key with its state (pending, active, retired, expired) and a rotate
// button, as GET /v1/signing-keys and POST /v1/signing-keys/rotate.

// signingView is the signing-key page.
type signingView struct {
	frame
	// Keys are newest first.
	Keys   []signer.Key
	Notice string
}

// listSigningKeys answers GET /admin/signing-keys.
func (s *Site) listSigningKeys(w http.ResponseWriter, r *http.Request, v visitor) {
	ks, err := s.signer.Keys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.Reverse(ks)
	notice := ""
	if r.URL.Query().Get("notice") == "rotated" {
		notice = "A new key is published; it starts signing once caches have had time to fetch it, and the old one retires then."
	}
	s.render(w, r, http.StatusOK, pageSigningKeys, signingView{frame: s.adminFrame(r, "Signing keys", tabSigning, v), Keys: ks, Notice: notice})
}

// rotateSigningKey answers POST /admin/signing-keys/rotate.
func (s *Site) rotateSigningKey(w http.ResponseWriter, r *http.Request, v visitor) {
	if _, err := readForm(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.signer.RotateAs(r.Context(), s.actor(r, v)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/signing-keys?notice=rotated", http.StatusSeeOther)
}
