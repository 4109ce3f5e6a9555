package user

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// SignIn checks a username and password and starts a session: against
// the local user of that name, else against the Directory if one is
// configured (provisioning or updating the local copy of the person).
// Failed sign-ins are throttled per account and per client address.
//
// Errors: ErrInvalidCredentials (never saying whether the user exists),
// ErrDisabled (only after a right password), *ThrottledError (before any
// password is checked), ErrUnavailable (the directory did not answer;
// local users are unaffected).
func (s *Service) SignIn(ctx context.Context, username, password string, m ClientMeta) (SignedIn, error) {
	now := s.now()
	if err := s.throttle.check(ctx, username, m.IP, now); err != nil {
		s.metrics.attempt(resultOf(err))
		return SignedIn{}, err
	}
	u, err := s.authenticate(ctx, username, password)
	s.metrics.attempt(resultOf(err))
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return SignedIn{}, s.failed(ctx, username, u.ID, m, now)
	case err != nil:
		return SignedIn{}, err
	}
	if err := s.throttle.succeed(ctx, username); err != nil {
		s.log.WarnContext(ctx, "clear sign-in failures", "err", err)
	}
	return s.startSession(ctx, u, []string{"pwd"}, m)
}

// authenticate checks the password of a local user, or asks the
// directory about a person tokend does not know or got from it. On
// ErrInvalidCredentials the user's id is set when the user exists.
func (s *Service) authenticate(ctx context.Context, username, password string) (store.User, error) {
	if len(username) > maxUsernameInput || len(password) > MaxPasswordLength {
		// Never sent to the store or the directory; it costs what a
		// wrong password costs.
		if _, _, err := s.hasher.check(ctx, "", ""); err != nil {
			return store.User{}, err
		}
		return store.User{}, ErrInvalidCredentials
	}
	local, err := s.db.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, err
	}
	if s.directory != nil && (err != nil || local.Source == api.UserSourceLDAP) {
		u, err := s.directorySignIn(ctx, username, password)
		if errors.Is(err, ErrInvalidCredentials) {
			// A local user's wrong password costs an argon2id
			// check; a refusal of the directory (an unknown name
			// above all) costs one too, so that the time of the
			// answer does not tell a local account from no account.
			if _, _, herr := s.hasher.check(ctx, "", password); herr != nil {
				return store.User{}, herr
			}
			return store.User{ID: local.ID}, err
		}
		return u, err
	}
	if _, err := s.CheckPassword(ctx, username, password); err != nil {
		return store.User{ID: local.ID}, err
	}
	return local, nil
}

// failed records a failed sign-in: it counts it for the throttle, writes
// an audit event and, if the failure locked the account or the address,
// another. It returns ErrInvalidCredentials.
func (s *Service) failed(ctx context.Context, username, userID string, m ClientMeta, now time.Time) error {
	by := audit.Actor{ID: "anonymous", IP: clip(m.IP, maxIP)}
	l, err := s.throttle.fail(ctx, username, m.IP, now)
	if err != nil {
		s.log.WarnContext(ctx, "count failed sign-in", "err", err)
	}
	at := s.clock()
	s.appendEvent(ctx, by, at, "user.sign_in_failed", userID, nil)
	if l.account {
		s.metrics.lock("account")
		s.appendEvent(ctx, by, at, "user.sign_in_locked", userID, map[string]any{"scope": "account"})
	}
	if l.address {
		s.metrics.lock("address")
		s.appendEvent(ctx, by, at, "user.sign_in_locked", userID, map[string]any{"scope": "address", "ip": by.IP})
	}
	return ErrInvalidCredentials
}

// appendEvent writes an audit event about the user with the given id
// ("" for a username nobody has), logging a failure: a sign-in's answer
// does not wait on the audit log's health.
func (s *Service) appendEvent(ctx context.Context, by audit.Actor, at time.Time, action, userID string, detail map[string]any) {
	var after any
	if detail != nil {
		after = detail
	}
	ev, err := audit.Change(by, at, action, "user", userID, nil, after)
	if err == nil {
		err = s.db.AppendEvent(ctx, ev)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "audit sign-in", "action", action, "err", err)
	}
}

// CompleteSecondFactor turns the session whose token is token into a full
// one, after the caller checked a second factor of method amr ("otp",
// "hwk", "swk"). The session gets a new id and token; the old token
// stops working. A session pending enrolment completes only once the
// user has a second factor. A full session may step up the same way
// (which renews its auth time).
func (s *Service) CompleteSecondFactor(ctx context.Context, token, amr string, m ClientMeta) (SignedIn, error) {
	old, u, err := s.CheckSession(ctx, token)
	if err != nil {
		return SignedIn{}, err
	}
	if old.Pending == PendingEnrol {
		f, err := s.secondFactors(ctx, u.ID)
		if err != nil {
			return SignedIn{}, err
		}
		if !f.Any() {
			return SignedIn{}, ErrNoSecondFactor
		}
	}
	methods := slices.Clone(old.AMR)
	if !slices.Contains(methods, amr) {
		methods = append(methods, amr)
	}
	if len(methods) >= 2 && !slices.Contains(methods, "mfa") {
		methods = append(methods, "mfa")
	}
	now := s.clock()
	next, ss := s.newSession(u.ID, "", methods, now, m)
	ev, err := sessionEvent(audit.Actor{ID: u.ID, IP: ss.IP}, now, "session.second_factor", ss)
	if err != nil {
		return SignedIn{}, err
	}
	err = s.db.ReplaceSession(ctx, credential.Hash(token), ss, ev)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return SignedIn{}, ErrNoSession
	case errors.Is(err, store.ErrDisabled):
		return SignedIn{}, ErrNoSession
	case err != nil:
		return SignedIn{}, err
	}
	return SignedIn{Token: next, Session: sessionView(ss), User: u}, nil
}

// maxUsernameInput bounds the username a sign-in reads (usernames are at
// most 64 characters; a directory's may be an email address).
const maxUsernameInput = 256

// ErrNoSecondFactor refuses to complete an enrolment session before the
// user has set up a second factor.
var ErrNoSecondFactor = errors.New("set up a second factor first")

// ChangePassword changes the password of the local user with the given
// id, who must give the current one, and ends their other sessions (all
// but keepSessionID). The new password must pass the password policy. A
// wrong current password is ErrInvalidCredentials and counts as a failed
// sign-in for the throttle.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keepSessionID string) error {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.Source != api.UserSourceLocal {
		return ErrDirectoryUser
	}
	if err := s.throttle.check(ctx, u.Username, "", s.now()); err != nil {
		return err
	}
	if err := s.common.checkPassword(u.Username, next); err != nil {
		return err
	}
	if _, err := s.CheckPassword(ctx, u.Username, current); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			return s.failed(ctx, u.Username, u.ID, ClientMeta{}, s.now())
		}
		return err
	}
	h, err := s.hasher.hash(ctx, next)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateUserKeeping(ctx, userID, keepSessionID, func(cur *store.User) (store.Event, error) {
		before, now := *cur, s.clock()
		if !now.After(cur.PasswordChangedAt) { // the store tells a change from a rehash by this time
			now = cur.PasswordChangedAt.Add(time.Microsecond)
		}
		cur.PasswordHash, cur.PasswordChangedAt, cur.UpdatedAt = h, now, now
		return userEvent(audit.Actor{ID: userID}, now, "user.change_password", &before, cur)
	})
	return err
}

func resultOf(err error) string {
	var te *ThrottledError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &te):
		return "throttled"
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid"
	case errors.Is(err, ErrDisabled):
		return "disabled"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "error"
}
