package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

var (
	secretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryRE = regexp.MustCompile(`<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>`)
)

// totpCode is the code an authenticator app with secret shows at the
// server's time.
func totpCode(t *testing.T, s *servertest.Server, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, s.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP sets up TOTP on the agent's account through the pages and
// returns the secret and the recovery codes; the clock then moves to the
// next 30-second step, so that the next code is a fresh one.
func enrolTOTP(t *testing.T, s *servertest.Server, a *agent) (string, []string) {
	t.Helper()
	wantPage(t, "TOTP page, off", a.get("/account/totp"), 200, `action="/account/totp/begin"`)
	wantRedirect(t, "begin", a.post("/account/totp/begin", nil), "/account/totp")
	p := a.get("/account/totp")
	wantPage(t, "TOTP page, pending", p, 200, `src="data:image/png;base64,`, `autocomplete="one-time-code"`)
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page shows no secret:\n%s", p.body)
	}
	p = a.post("/account/totp/confirm", url.Values{"code": {totpCode(t, s, m[1])}})
	wantPage(t, "confirm", p, 200, "Your authenticator app is on", "shown only now")
	var codes []string
	for _, c := range recoveryRE.FindAllStringSubmatch(p.body, -1) {
		codes = append(codes, c[1])
	}
	if len(codes) != 10 {
		t.Fatalf("the page shows %d recovery codes, want 10", len(codes))
	}
	s.Clock.Advance(30 * time.Second)
	return m[1], codes
}

// secondStep signs the agent in with a password and fails unless it lands
// on the second-factor step (with next, if any).
func secondStep(t *testing.T, a *agent, username, next string) {
	t.Helper()
	want := "/signin/second-factor"
	form := url.Values{"username": {username}, "password": {alicePW}}
	if next != "" {
		form.Set("next", next)
		want += "?next=" + url.QueryEscape(next)
	}
	wantRedirect(t, "password of "+username, a.post("/signin", form), want)
}

// TestSecondFactorCode: after the password, a code from the app or a
// recovery code completes the sign-in under a new session token; a wrong,
// reused or replayed code is refused and changes nothing; the browser
// goes on to the page it was going to, never to another site.
func TestSecondFactorCode(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "tess", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("tess", alicePW, "/account")
	secret, codes := enrolTOTP(t, s, a)

	b := newAgent(t, s.URL)
	secondStep(t, b, "tess", "/account/sessions")
	p := b.get("/signin/second-factor?next=%2Faccount%2Fsessions")
	wantPage(t, "second step", p, 200, `name="next" value="/account/sessions"`, `autocomplete="one-time-code"`)
	wantRedirect(t, "account while pending", b.get("/account"), "/signin/second-factor")
	pending := b.cookie()
	wantPage(t, "wrong code", b.post("/signin/second-factor", url.Values{"code": {"000000"}}), 401, "not right")
	wantPage(t, "junk code", b.post("/signin/second-factor", url.Values{"code": {"<b>x</b>"}}), 401, "not right")
	code := totpCode(t, s, secret)
	wantRedirect(t, "right code", b.post("/signin/second-factor", url.Values{"code": {code}, "next": {"/account/sessions"}}),
		"/account/sessions")
	if b.cookie() == pending || b.cookie() == "" {
		t.Error("the second factor kept the pending session's token; want a new one")
	}
	if _, _, err := s.Users.CheckSession(t.Context(), pending); err == nil {
		t.Error("the pending session's token still works after the second factor")
	}
	ss, _, err := s.Users.CheckSession(t.Context(), b.cookie())
	if err != nil || ss.Pending != "" || !strings.Contains(strings.Join(ss.AMR, " "), "otp") {
		t.Fatalf("the new session = %+v, %v; want a full one with otp", ss, err)
	}
	wantPage(t, "account after the second factor", b.get("/account"), 200, "tess@example.com")

	// The same code again, in the same 30 seconds, is refused.
	c := newAgent(t, s.URL)
	secondStep(t, c, "tess", "")
	wantPage(t, "reused code", c.post("/signin/second-factor", url.Values{"code": {code}}), 401, "used already")
	// A recovery code works once, in any case and with spaces.
	rc := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
	wantRedirect(t, "recovery code", c.post("/signin/second-factor", url.Values{"code": {rc}, "next": {"//evil.example"}}), "/account")
	d := newAgent(t, s.URL)
	secondStep(t, d, "tess", "")
	wantPage(t, "reused recovery code", d.post("/signin/second-factor", url.Values{"code": {codes[0]}}), 401, "not right")
	if m, _ := s.Users.MFA(t.Context(), mustUserID(t, s, "tess")); m.RecoveryCodesLeft != 9 {
		t.Errorf("recovery codes left = %d, want 9", m.RecoveryCodesLeft)
	}
	// A fresh code in the next step works.
	s.Clock.Advance(30 * time.Second)
	wantRedirect(t, "next step's code", d.post("/signin/second-factor", url.Values{"code": {totpCode(t, s, secret)}}), "/account")
	for _, secret := range append([]string{secret, code}, codes...) {
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}

// TestSecondFactorThrottled: after five wrong codes the step says to
// wait, with Retry-After, and refuses even the right code until then.
func TestSecondFactorThrottled(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "uma", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("uma", alicePW, "/account")
	secret, _ := enrolTOTP(t, s, a)
	b := newAgent(t, s.URL)
	secondStep(t, b, "uma", "")
	var last page
	for range 6 {
		last = b.post("/signin/second-factor", url.Values{"code": {"111111"}})
	}
	wantPage(t, "after 6 wrong codes", last, 429, "Too many wrong codes", "wait")
	if last.header.Get("Retry-After") == "" {
		t.Error("a throttled code has no Retry-After")
	}
	wantPage(t, "right code while throttled", b.post("/signin/second-factor", url.Values{"code": {totpCode(t, s, secret)}}),
		429, "Too many wrong codes")
	s.Clock.Advance(5 * time.Minute) // the lock, not the pending session's ten minutes
	wantRedirect(t, "after the wait", b.post("/signin/second-factor", url.Values{"code": {totpCode(t, s, secret)}}), "/account")
}

// TestTOTPPages: set up with a wrong first code refused (the same secret
// shown again), new recovery codes and turning off only with the
// password or a code, and cancelling a pending set-up.
func TestTOTPPages(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "vic", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("vic", alicePW, "/account")
	wantPage(t, "account", a.get("/account"), 200, `href="/account/totp"`, "Authenticator app")

	// Cancel a set-up, then a wrong first code.
	wantRedirect(t, "begin", a.post("/account/totp/begin", nil), "/account/totp")
	wantRedirect(t, "cancel", a.post("/account/totp/disable", nil), "/account/totp?done=cancelled")
	wantPage(t, "after cancel", a.get("/account/totp?done=cancelled"), 200, "The set-up was cancelled", `action="/account/totp/begin"`)
	wantRedirect(t, "begin again", a.post("/account/totp/begin", nil), "/account/totp")
	first := secretRE.FindStringSubmatch(a.get("/account/totp").body)[1]
	p := a.post("/account/totp/confirm", url.Values{"code": {"123456"}})
	wantPage(t, "wrong first code", p, 400, "not right", `id="totp-secret">`+first+`<`)
	p = a.post("/account/totp/confirm", url.Values{"code": {totpCode(t, s, first)}})
	wantPage(t, "confirm", p, 200, "Your authenticator app is on")
	old := recoveryRE.FindAllStringSubmatch(p.body, -1)
	s.Clock.Advance(30 * time.Second)
	wantPage(t, "TOTP on", a.get("/account/totp"), 200, "You have 10 unused recovery codes", `autocomplete="current-password"`)
	wantPage(t, "begin while on", a.post("/account/totp/begin", nil), 409, "already set up")

	// New recovery codes: the password, not a wrong one.
	wantPage(t, "renew, wrong password", a.post("/account/totp/recovery-codes", url.Values{"proof": {"not-the-password-1"}}),
		401, "not right", "Nothing was changed")
	p = a.post("/account/totp/recovery-codes", url.Values{"proof": {alicePW}})
	wantPage(t, "renew", p, 200, "Your new recovery codes are ready")
	renewed := recoveryRE.FindAllStringSubmatch(p.body, -1)
	if len(renewed) != 10 || renewed[0][1] == old[0][1] {
		t.Fatalf("renewed codes = %v", renewed)
	}
	id := mustUserID(t, s, "vic")
	if err := s.Users.UseRecoveryCode(t.Context(), id, old[1][1]); err == nil {
		t.Error("an old recovery code works after renewal")
	}

	// Turn off: a wrong code is refused, a right one works.
	wantPage(t, "off, wrong code", a.post("/account/totp/disable", url.Values{"proof": {"000000"}}), 400, "not right")
	if m, _ := s.Users.MFA(t.Context(), id); !m.TOTP {
		t.Fatal("a refused turn-off turned TOTP off")
	}
	wantRedirect(t, "off", a.post("/account/totp/disable", url.Values{"proof": {totpCode(t, s, first)}}), "/account/totp?done=off")
	if m, _ := s.Users.MFA(t.Context(), id); m.TOTP || m.RecoveryCodesLeft != 0 {
		t.Errorf("after turning off: %+v", m)
	}
	wantPage(t, "renew while off", a.post("/account/totp/recovery-codes", url.Values{"proof": {alicePW}}), 409, "no set-up")
	if strings.Contains(s.Logs.String(), first) {
		t.Error("the log holds the TOTP secret")
	}
}

// TestTOTPEnrolForced: where policy demands a second factor, a person
// without one is held on the enrolment step, which offers the
// authenticator app; setting it up there completes the session and goes
// on to the page they were going to.
func TestTOTPEnrolForced(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAEveryone})
	newUser(t, s, "wren", alicePW, false)
	a := newAgent(t, s.URL)
	p := a.post("/signin", url.Values{"username": {"wren"}, "password": {alicePW}, "next": {"/account/sessions"}})
	wantRedirect(t, "password", p, "/signin/enrol?next=%2Faccount%2Fsessions")
	wantRedirect(t, "account while held", a.get("/account"), "/signin/enrol")
	wantPage(t, "enrol page", a.get("/signin/enrol?next=%2Faccount%2Fsessions"), 200,
		`href="/account/totp?next=%2faccount%2fsessions"`, `href="/account/passkeys?next=%2faccount%2fsessions"`)
	wantPage(t, "renew while held", a.post("/account/totp/recovery-codes", url.Values{"proof": {alicePW}}), 303)
	wantRedirect(t, "begin", a.post("/account/totp/begin", url.Values{"next": {"/account/sessions"}}),
		"/account/totp?next=%2Faccount%2Fsessions")
	p = a.get("/account/totp?next=%2Faccount%2Fsessions")
	wantPage(t, "pending", p, 200, `name="next" value="/account/sessions"`)
	secret := secretRE.FindStringSubmatch(p.body)[1]
	held := a.cookie()
	p = a.post("/account/totp/confirm", url.Values{"code": {totpCode(t, s, secret)}, "next": {"/account/sessions"}})
	wantPage(t, "confirm", p, 200, "Your authenticator app is on", `href="/account/sessions"`)
	if a.cookie() == held {
		t.Error("the enrolment kept the held session's token; want a new one")
	}
	wantPage(t, "sessions after", a.get("/account/sessions"), 200)
}

// TestAdminResetMFA: the admin page shows a user's second factors and
// removes them only with the box ticked; the user is signed out and
// their next sign-in asks for no code.
func TestAdminResetMFA(t *testing.T) {
	s, admin := adminAgent(t)
	newUser(t, s, "xena", alicePW, false)
	u := newAgent(t, s.URL)
	u.signIn("xena", alicePW, "/account")
	enrolTOTP(t, s, u)
	id := mustUserID(t, s, "xena")
	wantPage(t, "user page", admin.get("/admin/users/"+id), 200, "authenticator app (10 recovery codes left)",
		`action="/admin/users/`+id+`/reset-mfa"`)
	wantPage(t, "reset unticked", admin.post("/admin/users/"+id+"/reset-mfa", nil), 400, "Tick the box", "Nothing was changed")
	if m, _ := s.Users.MFA(t.Context(), id); !m.TOTP {
		t.Fatal("an unconfirmed reset removed TOTP")
	}
	wantRedirect(t, "reset", admin.post("/admin/users/"+id+"/reset-mfa", url.Values{"confirm": {"yes"}}),
		"/admin/users/"+id+"?notice=mfa")
	if m, _ := s.Users.MFA(t.Context(), id); m != (api.MFA{}) {
		t.Errorf("after the reset: %+v", m)
	}
	wantRedirect(t, "the user's session after the reset", u.get("/account"), "/signin?next=%2Faccount")
	newAgent(t, s.URL).signIn("xena", alicePW, "/account")
	wantPage(t, "reset by a non-admin", u.post("/admin/users/"+id+"/reset-mfa", url.Values{"confirm": {"yes"}}), 303)
}

// TestMFAFormsRefuseCrossOrigin: every new form refuses a POST from
// another origin before it runs, and nothing changes.
func TestMFAFormsRefuseCrossOrigin(t *testing.T) {
	s, admin := adminAgent(t)
	newUser(t, s, "yuri", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("yuri", alicePW, "/account")
	secret, codes := enrolTOTP(t, s, a)
	id := mustUserID(t, s, "yuri")
	b := newAgent(t, s.URL)
	secondStep(t, b, "yuri", "")
	cross := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"},
		"Sec-Fetch-Site": {"cross-site"}}
	for _, c := range []struct {
		who  *agent
		path string
		form url.Values
	}{
		{b, "/signin/second-factor", url.Values{"code": {codes[0]}}},
		{a, "/account/totp/begin", nil},
		{a, "/account/totp/confirm", url.Values{"code": {totpCode(t, s, secret)}}},
		{a, "/account/totp/recovery-codes", url.Values{"proof": {alicePW}}},
		{a, "/account/totp/disable", url.Values{"proof": {alicePW}}},
		{admin, "/admin/users/" + id + "/reset-mfa", url.Values{"confirm": {"yes"}}},
	} {
		p := c.who.send(http.MethodPost, c.path, strings.NewReader(c.form.Encode()), cross)
		wantPage(t, "cross-origin POST "+c.path, p, 403, "another site")
	}
	if m, _ := s.Users.MFA(t.Context(), id); m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("after the refused posts: %+v, want TOTP with 10 codes", m)
	}
	if _, _, err := s.Users.CheckSession(t.Context(), b.cookie()); err != nil {
		t.Errorf("the pending session after a refused post: %v", err)
	}
	wantRedirect(t, "the recovery code, same origin", b.post("/signin/second-factor", url.Values{"code": {codes[0]}}), "/account")
}

// TestPasskeyOptionsFlood: the passwordless passkey start is limited per
// client address: a flood gets 429 with Retry-After as JSON, before any
// ceremony is stored.
func TestPasskeyOptionsFlood(t *testing.T) {
	s := servertest.New(t)
	h := http.Header{"Content-Type": {"application/json"}, "Origin": {s.LocalhostURL}, "Sec-Fetch-Site": {"same-origin"}}
	var last page
	n := 0
	for range 100 {
		last = do(t, http.MethodPost, s.LocalhostURL+"/signin/passkey/options", strings.NewReader(`{}`), h)
		if last.status != 200 {
			break
		}
		n++
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" ||
		!strings.Contains(last.body, `"error":"Too many passkey sign-ins`) {
		t.Fatalf("after %d starts: %d %v %s; want 429 with Retry-After", n, last.status, last.header, last.body)
	}
	if n < 10 || n >= 100 {
		t.Errorf("%d starts admitted before the limit", n)
	}
}
