package user

import (
	"context"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// ClientMeta is what a surface knows of the browser behind a request.
type ClientMeta struct{ IP, UserAgent string }

// The steps a session may still owe (Session.Pending).
const (
	// PendingSecondFactor: the password was right; the user must now
	// give a second factor.
	PendingSecondFactor = "second_factor"
	// PendingEnrol: policy demands a second factor the user lacks. Only
	// enrolment is allowed until one is added and CompleteSecondFactor
	// is called.
	PendingEnrol = "enrol"
)

// Session is one server-side session. Its token is stored only as its
// SHA-256 (credential prefix "tkss").
type Session struct {
	ID, UserID string
	// Pending is "", PendingSecondFactor or PendingEnrol.
	Pending string
	// AMR are RFC 8176 method names: "pwd", "otp", "hwk"/"swk", and
	// "mfa" when two were used.
	AMR []string
	// AuthTime is when the user last authenticated (OIDC auth_time).
	AuthTime                         time.Time
	CreatedAt, LastSeenAt, ExpiresAt time.Time
	IP, UserAgent                    string
}

// SignedIn is the result of a sign-in: the session's token (for the
// cookie; shown once, never stored), the session and its user.
type SignedIn struct {
	Token   string
	Session Session
	User    api.User
}

// ErrNoSession means a session token is malformed, unknown, expired or
// ended: which of these is not said.
var ErrNoSession = errors.New("no such session: sign in again")

// The session defaults.
const (
	// DefaultSessionIdle ends a session nobody used for this long.
	DefaultSessionIdle = 12 * time.Hour
	// DefaultSessionMax ends every session this long after sign-in.
	DefaultSessionMax = 7 * 24 * time.Hour
	// pendingTTL bounds a session that waits for a second factor.
	pendingTTL = 10 * time.Minute
	// enrolTTL bounds a session that may only enrol a second factor.
	enrolTTL = time.Hour
	// touchEvery is how stale a node lets a session's last-seen time
	// get before it writes the new one: at most one write a minute per
	// session and node, never one per request.
	touchEvery   = time.Minute
	maxUserAgent = 512
	maxIP        = 64
)

// StartSession starts a full or pending session for the user with the
// given id, who authenticated with amr without a password (passkey
// sign-in calls it with "hwk" or "swk"). The second-factor policy decides
// whether the session is pending. A disabled or unknown user gets
// ErrDisabled or store.ErrNotFound; a person from the directory must
// still be enabled there (ErrDisabled, or ErrUnavailable when it does not
// answer).
func (s *Service) StartSession(ctx context.Context, userID string, amr []string, m ClientMeta) (SignedIn, error) {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return SignedIn{}, err
	}
	if u.Source == api.UserSourceLDAP && s.directory != nil && u.Enabled {
		e, err := s.directory.Lookup(ctx, u.Username)
		switch {
		case errors.Is(err, ErrNotFound) || err == nil && e.Disabled:
			s.endDirectorySessions(ctx, u.Username, "disabled in the directory")
			return SignedIn{}, ErrDisabled
		case err != nil:
			return SignedIn{}, errors.Join(ErrUnavailable, err)
		}
	}
	return s.startSession(ctx, u, amr, m)
}

// startSession starts a session for u, who authenticated with amr.
func (s *Service) startSession(ctx context.Context, u store.User, amr []string, m ClientMeta) (SignedIn, error) {
	if !u.Enabled {
		return SignedIn{}, ErrDisabled
	}
	pending, err := s.pendingFor(ctx, u, amr)
	if err != nil {
		return SignedIn{}, err
	}
	now := s.clock()
	token, ss := s.newSession(u.ID, pending, amr, now, m)
	ev, err := sessionEvent(audit.Actor{ID: u.ID, IP: ss.IP}, now, "session.create", ss)
	if err != nil {
		return SignedIn{}, err
	}
	if err := s.db.CreateSession(ctx, ss, ev); err != nil {
		if errors.Is(err, store.ErrDisabled) {
			return SignedIn{}, ErrDisabled
		}
		return SignedIn{}, err
	}
	return SignedIn{Token: token, Session: sessionView(ss), User: view(u)}, nil
}

// newSession makes a session with a new id and token, created at now.
func (s *Service) newSession(userID, pending string, amr []string, now time.Time, m ClientMeta) (string, store.Session) {
	token := credential.Generate(credential.SessionPrefix)
	expires := now.Add(s.sessionMax)
	switch pending {
	case PendingSecondFactor:
		expires = now.Add(min(pendingTTL, s.sessionMax))
	case PendingEnrol:
		expires = now.Add(min(enrolTTL, s.sessionMax))
	}
	return token, store.Session{ID: ids.New("ses", now), Hash: credential.Hash(token), UserID: userID, Pending: pending,
		AMR: slices.Clone(amr), AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires,
		IP: clip(m.IP, maxIP), UserAgent: clip(m.UserAgent, maxUserAgent)}
}

// clip cuts s to at most n bytes on a rune boundary, and drops invalid
// UTF-8, so that what a browser sends cannot bloat or break a row.
func clip(s string, n int) string {
	s = string([]rune(s)) // replaces invalid bytes
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// CheckSession returns the live session whose token is token, and its
// user. It is the hot path of every page: answers come from an
// in-process cache that the store's one invalidation channel keeps true
// (an ended session, or a disabled, deleted or changed user, drops its
// entries on every node). An unknown, expired or ended session, or one
// of a disabled user, is ErrNoSession.
func (s *Service) CheckSession(ctx context.Context, token string) (Session, api.User, error) {
	if prefix, ok := credential.Parse(token); !ok || prefix != credential.SessionPrefix {
		return Session{}, api.User{}, ErrNoSession
	}
	h := credential.Hash(token)
	now := s.now()
	e, ok := s.sessions.get(h)
	if !ok || !s.live(e, now) {
		var err error
		if e, err = s.loadSession(ctx, h); err != nil {
			return Session{}, api.User{}, err
		}
		if !s.live(e, now) {
			s.sessions.drop(h)
			return Session{}, api.User{}, ErrNoSession
		}
	}
	// One request of those that find the time stale writes it; the
	// others go on with the new time.
	if seen := e.lastSeen.Load(); now.UnixNano()-seen >= int64(touchEvery) && e.lastSeen.CompareAndSwap(seen, now.UnixNano()) {
		s.touch(ctx, e, now)
	}
	ss := e.session
	ss.LastSeenAt = time.Unix(0, e.lastSeen.Load()).UTC()
	return ss, e.user, nil
}

// live reports whether e's session has not ended at now. A session that
// looks idle here may have been used on another node: the caller then
// reads it again before saying no.
func (s *Service) live(e *sessionEntry, now time.Time) bool {
	return now.Before(e.session.ExpiresAt) && now.UnixNano()-e.lastSeen.Load() < int64(s.sessionIdle)
}

// loadSession reads the session and its user from the store and caches
// them, unless an invalidation raced with the read.
func (s *Service) loadSession(ctx context.Context, h [32]byte) (*sessionEntry, error) {
	gen := s.sessions.generation()
	ss, err := s.db.SessionByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	u, err := s.db.UserByID(ctx, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if !u.Enabled {
		return nil, ErrNoSession
	}
	e := newSessionEntry(h, sessionView(ss), view(u))
	s.sessions.put(e, gen)
	return e, nil
}

// touch writes that the session was used at now (the caller has set
// e.lastSeen). A failed write is only logged: the session stays usable,
// and the next write comes a minute later.
func (s *Service) touch(ctx context.Context, e *sessionEntry, now time.Time) {
	if err := s.db.TouchSession(ctx, e.session.ID, now.UTC().Truncate(time.Microsecond)); err != nil {
		s.log.WarnContext(ctx, "touch session", "session", e.session.ID, "err", err)
	}
}

// SignOut ends the session whose token is token. An unknown token is
// ErrNoSession.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if prefix, ok := credential.Parse(token); !ok || prefix != credential.SessionPrefix {
		return ErrNoSession
	}
	h := credential.Hash(token)
	ss, err := s.db.SessionByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return err
	}
	ev, err := sessionEvent(audit.Actor{ID: ss.UserID}, s.clock(), "session.sign_out", ss)
	if err != nil {
		return err
	}
	err = s.db.DeleteSessionByHash(ctx, h, ev)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

// Sessions returns the sessions of the user with the given id that have
// not ended, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]api.Session, error) {
	ss, err := s.db.SessionsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	out := []api.Session{}
	for _, x := range ss {
		if now.Before(x.ExpiresAt) && now.Sub(x.LastSeenAt) < s.sessionIdle {
			out = append(out, wireSession(x))
		}
	}
	return out, nil
}

// EndSession ends the session with the given id of the given user; one of
// another user is store.ErrNotFound.
func (s *Service) EndSession(ctx context.Context, userID, sessionID string) error {
	ev, err := audit.Change(audit.Actor{ID: userID}, s.clock(), "session.end", credential.KindSession, sessionID, nil, nil)
	if err != nil {
		return err
	}
	return s.db.DeleteSession(ctx, userID, sessionID, ev)
}

// EndSessions ends every session of the user with the given id but the
// one with id exceptSessionID ("" ends them all).
func (s *Service) EndSessions(ctx context.Context, userID, exceptSessionID string) error {
	_, err := s.endSessions(ctx, audit.Actor{ID: userID}, userID, exceptSessionID)
	return err
}

// AdminEndSessions ends every session of the user with the given id, for
// an admin; it returns store.ErrNotFound for an unknown user.
func (s *Service) AdminEndSessions(ctx context.Context, by audit.Actor, userID string) error {
	if _, err := s.db.UserByID(ctx, userID); err != nil {
		return err
	}
	_, err := s.endSessions(ctx, by, userID, "")
	return err
}

// AdminSessions returns the sessions of the user with the given id, for
// an admin; it returns store.ErrNotFound for an unknown user.
func (s *Service) AdminSessions(ctx context.Context, userID string) (api.SessionList, error) {
	if _, err := s.db.UserByID(ctx, userID); err != nil {
		return api.SessionList{}, err
	}
	ss, err := s.Sessions(ctx, userID)
	return api.SessionList{Sessions: ss}, err
}

func (s *Service) endSessions(ctx context.Context, by audit.Actor, userID, except string) (int, error) {
	ev, err := audit.Change(by, s.clock(), "session.end_all", "user", userID, nil, map[string]any{"except": except})
	if err != nil {
		return 0, err
	}
	return s.db.DeleteUserSessions(ctx, userID, except, ev)
}

func sessionView(ss store.Session) Session {
	return Session{ID: ss.ID, UserID: ss.UserID, Pending: ss.Pending, AMR: ss.AMR, AuthTime: ss.AuthTime,
		CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt, IP: ss.IP, UserAgent: ss.UserAgent}
}

func wireSession(ss store.Session) api.Session {
	amr := ss.AMR
	if amr == nil {
		amr = []string{}
	}
	return api.Session{ID: ss.ID, Pending: ss.Pending, AMR: amr, AuthTime: ss.AuthTime, CreatedAt: ss.CreatedAt,
		LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt, IP: ss.IP, UserAgent: ss.UserAgent}
}

// sessionEvent is the audit event of action on ss; it never holds the
// token or its hash.
func sessionEvent(by audit.Actor, now time.Time, action string, ss store.Session) (store.Event, error) {
	return audit.Change(by, now, action, credential.KindSession, ss.ID, nil, map[string]any{
		"user_id": ss.UserID, "pending": ss.Pending, "amr": ss.AMR, "expires_at": ss.ExpiresAt,
		"ip": ss.IP, "user_agent": ss.UserAgent})
}

// EndSessionsCounted ends every session of user userID but the one with
// id keep ("" for none), as by (the person, or an admin), and returns how
// many ended.
func (s *Service) EndSessionsCounted(ctx context.Context, by audit.Actor, userID, keep string) (int, error) {
	return s.endSessions(ctx, by, userID, keep)
}
