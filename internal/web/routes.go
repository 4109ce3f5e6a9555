package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/tokend/tokend/internal/user"
)

// factorPages are the pages where a person sets up a second factor, in
// the order the account and enrolment pages offer them. The TOTP and
// passkey pages add themselves here.
func factorPages() []factorPage {
	return []factorPage{
		{Path: "/account/totp", Name: "Authenticator app", Help: "A six-digit code from an app on your phone, with recovery codes."},
		{Path: "/account/passkeys", Name: "Passkeys", Help: "Sign in with your fingerprint, face or security key."},
	}
}

// routes lists every page the Site serves. Patterns name their method,
// so that a GET never changes anything and every POST passes the
// cross-origin check of protect.
func (s *Site) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static())

	mux.HandleFunc("GET /set-password", s.setPasswordForm)
	mux.HandleFunc("POST /set-password", s.setPassword)

	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /signin", s.signInForm)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.signOut)
	mux.HandleFunc("GET /signin/second-factor", s.secondFactor(s.secondFactorForm))
	mux.HandleFunc("POST /signin/second-factor", s.secondFactor(s.secondFactorCode))
	mux.HandleFunc("GET /signin/enrol", s.withSession(s.enrolPage, user.PendingEnrol))
	mux.HandleFunc("POST /signin/passkey/options", s.signInOptions)
	mux.HandleFunc("POST /signin/passkey", s.signInWithPasskey)
	mux.HandleFunc("POST /signin/second-factor/passkey/options", s.ceremony(s.secondFactorOptions, user.PendingSecondFactor))
	mux.HandleFunc("POST /signin/second-factor/passkey", s.ceremony(s.secondFactorPasskey, user.PendingSecondFactor))

	mux.HandleFunc("GET /account", s.signedIn(s.account))
	mux.HandleFunc("GET /account/password", s.signedIn(s.passwordForm))
	mux.HandleFunc("POST /account/password", s.signedIn(s.changePassword))
	mux.HandleFunc("GET /account/sessions", s.signedIn(s.sessions))
	mux.HandleFunc("POST /account/sessions/end-others", s.signedIn(s.endOtherSessions))
	mux.HandleFunc("POST /account/sessions/{id}/end", s.signedIn(s.endSession))
	mux.HandleFunc("GET /account/totp", s.enrolling(s.totpPage))
	mux.HandleFunc("POST /account/totp/begin", s.enrolling(s.beginTOTP))
	mux.HandleFunc("POST /account/totp/confirm", s.enrolling(s.confirmTOTP))
	mux.HandleFunc("POST /account/totp/disable", s.enrolling(s.disableTOTP))
	mux.HandleFunc("POST /account/totp/recovery-codes", s.signedIn(s.newRecoveryCodes))
	mux.HandleFunc("GET /account/passkeys", s.enrolling(s.passkeys))
	mux.HandleFunc("POST /account/passkeys/options", s.ceremony(s.registrationOptions, user.PendingEnrol))
	mux.HandleFunc("POST /account/passkeys", s.ceremony(s.addPasskey, user.PendingEnrol))
	mux.HandleFunc("POST /account/passkeys/{id}/rename", s.signedIn(s.renamePasskey))
	mux.HandleFunc("POST /account/passkeys/{id}/remove", s.signedIn(s.removePasskey))

	if s.keys != nil {
		mux.HandleFunc("GET /account/tokens", s.signedIn(s.tokens))
		mux.HandleFunc("GET /account/tokens/new", s.signedIn(s.newToken))
		mux.HandleFunc("POST /account/tokens", s.signedIn(s.createToken))
		mux.HandleFunc("GET /account/tokens/revoke-all", s.signedIn(s.revokeAllForm))
		mux.HandleFunc("POST /account/tokens/revoke-all", s.signedIn(s.revokeAll))
		mux.HandleFunc("GET /account/tokens/{id}", s.signedIn(s.token))
		mux.HandleFunc("POST /account/tokens/{id}/revoke", s.signedIn(s.revokeToken))
		mux.HandleFunc("POST /account/tokens/{id}/regenerate", s.signedIn(s.regenerateToken))
		mux.HandleFunc("POST /account/tokens/sessions/{id}/end", s.signedIn(s.endSessionHere))
		mux.HandleFunc("POST /account/tokens/passkeys/{id}/remove", s.signedIn(s.removePasskeyHere))
	}
	if s.keys != nil && s.oauth != nil {
		mux.HandleFunc("POST /account/tokens/apps/{client_id}/revoke", s.signedIn(s.revokeApp))
		mux.HandleFunc("POST /account/tokens/families/{id}/revoke", s.signedIn(s.revokeFamily))
	}

	// /admin/ is the console's address in the docs: its first page.
	mux.HandleFunc("GET /admin", s.admin(s.adminHome))
	mux.HandleFunc("GET /admin/{$}", s.admin(s.adminHome))
	mux.HandleFunc("GET /admin/users", s.admin(s.listUsers))
	mux.HandleFunc("GET /admin/users/new", s.admin(s.newUserForm))
	mux.HandleFunc("POST /admin/users", s.admin(s.createUser))
	mux.HandleFunc("GET /admin/users/{id}", s.admin(s.showUser))
	mux.HandleFunc("POST /admin/users/{id}/disable", s.admin(s.onUser(s.disableUser)))
	mux.HandleFunc("POST /admin/users/{id}/enable", s.admin(s.onUser(s.enableUser)))
	mux.HandleFunc("POST /admin/users/{id}/delete", s.admin(s.onUser(s.deleteUser)))
	mux.HandleFunc("POST /admin/users/{id}/groups", s.admin(s.onUser(s.setGroups)))
	mux.HandleFunc("POST /admin/users/{id}/end-sessions", s.admin(s.onUser(s.endUserSessions)))
	mux.HandleFunc("POST /admin/users/{id}/reset-mfa", s.admin(s.onUser(s.resetMFA)))
	mux.HandleFunc("POST /admin/users/{id}/password-link", s.admin(s.passwordLink))
	s.consoleRoutes(mux)

	if s.oauth != nil {
		mux.HandleFunc("GET /oauth2/authorize", s.authorize)
		mux.HandleFunc("POST /oauth2/authorize", s.authorize)
		mux.HandleFunc("POST /oauth2/authorize/decide", s.signedIn(s.authorizeDecide))
		mux.HandleFunc("GET /device", s.signedIn(s.deviceForm))
		mux.HandleFunc("POST /device", s.signedIn(s.deviceLookup))
		mux.HandleFunc("POST /device/decide", s.signedIn(s.deviceDecide))
		mux.HandleFunc("GET /oauth2/logout", s.logoutForm)
		mux.HandleFunc("POST /oauth2/logout", s.logout)
	}

	mux.Handle("/", s.notFound(mux))
	return mux
}

// consoleRoutes are the admin console's pages beyond users (console.go),
// each group only when its service is configured.
func (s *Site) consoleRoutes(mux *http.ServeMux) {
	if s.keys != nil {
		mux.HandleFunc("GET /admin/apis", s.admin(s.listAPIs))
		mux.HandleFunc("GET /admin/apis/new", s.admin(s.newAPIForm))
		mux.HandleFunc("POST /admin/apis", s.admin(s.createAPI))
		mux.HandleFunc("GET /admin/apis/{id}", s.admin(s.showAPI))
		mux.HandleFunc("POST /admin/apis/{id}", s.admin(s.updateAPI))
		mux.HandleFunc("POST /admin/apis/{id}/delete", s.admin(s.deleteAPI))

		mux.HandleFunc("GET /admin/keys", s.admin(s.listKeys))
		mux.HandleFunc("GET /admin/keys/new", s.admin(s.newKeyForm))
		mux.HandleFunc("POST /admin/keys", s.admin(s.createKey))
		mux.HandleFunc("GET /admin/keys/{id}", s.admin(s.showKey))
		mux.HandleFunc("POST /admin/keys/{id}/revoke", s.admin(s.revokeKey))
		mux.HandleFunc("POST /admin/keys/{id}/rotate", s.admin(s.rotateKey))

		mux.HandleFunc("GET /admin/tokens", s.admin(s.listTokens))
		mux.HandleFunc("POST /admin/tokens/revoke", s.admin(s.revokeTokens))
	}
	if s.keys != nil && s.approvals != nil {
		mux.HandleFunc("GET /admin/approvals", s.admin(s.listApprovals))
		mux.HandleFunc("POST /admin/approvals/{id}", s.admin(s.decideApproval))
	}
	if s.oauth != nil {
		mux.HandleFunc("GET /admin/clients", s.admin(s.listClients))
		mux.HandleFunc("GET /admin/clients/new", s.admin(s.newClientForm))
		mux.HandleFunc("POST /admin/clients", s.admin(s.createClient))
		mux.HandleFunc("GET /admin/clients/{id}", s.admin(s.showClient))
		mux.HandleFunc("POST /admin/clients/{id}", s.admin(s.updateClient))
		mux.HandleFunc("POST /admin/clients/{id}/rotate", s.admin(s.rotateClient))
		mux.HandleFunc("POST /admin/clients/{id}/delete", s.admin(s.deleteClient))
		mux.HandleFunc("POST /admin/tokens/grants/revoke", s.admin(s.revokeGrant))
	}
	if s.keys != nil && s.oauth != nil {
		mux.HandleFunc("GET /admin/grants", s.admin(s.listGrants))
		mux.HandleFunc("POST /admin/grants/revoke", s.admin(s.revokeGrants))
	}
	if s.signer != nil {
		mux.HandleFunc("GET /admin/signing-keys", s.admin(s.listSigningKeys))
		mux.HandleFunc("POST /admin/signing-keys/rotate", s.admin(s.rotateSigningKey))
	}
	if s.webhooks != nil {
		mux.HandleFunc("GET /admin/webhooks", s.admin(s.listWebhooks))
		mux.HandleFunc("GET /admin/webhooks/new", s.admin(s.newWebhookForm))
		mux.HandleFunc("POST /admin/webhooks", s.admin(s.createWebhook))
		mux.HandleFunc("GET /admin/webhooks/{id}", s.admin(s.showWebhook))
		mux.HandleFunc("POST /admin/webhooks/{id}/rotate", s.admin(s.rotateWebhook))
		mux.HandleFunc("POST /admin/webhooks/{id}/delete", s.admin(s.deleteWebhook))
		mux.HandleFunc("GET /admin/webhooks/{id}/deliveries", s.admin(s.listDeliveries))
	}
	if s.audit != nil {
		mux.HandleFunc("GET /admin/audit", s.admin(s.listAudit))
	}
}

// static serves the embedded stylesheet and scripts, without directory
// listings.
func (s *Site) static() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed pattern names the directory: cannot happen
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			s.fail(w, r, errNoPage)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// notFound answers what no route matched: a 405 page with Allow when the
// path exists for another method, else a 404 page.
func (s *Site) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "/" && p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, errMethod)
			return
		}
		s.fail(w, r, errNoPage)
	})
}
