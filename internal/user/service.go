package user

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// DefaultLinkTTL is how long a set-password link works.
const DefaultLinkTTL = 24 * time.Hour

// Config configures a Service. Zero fields take their defaults.
type Config struct {
	DB *store.DB
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Params are the argon2id parameters of new hashes (default
	// DefaultParams).
	Params Params
	// HashSlots bounds the hashes computed at once (default
	// GOMAXPROCS).
	HashSlots int
	// LinkTTL is the lifetime of set-password links (default
	// DefaultLinkTTL).
	LinkTTL time.Duration
	// PublicURL is the URL people reach tokend at (--issuer). Passkeys
	// are bound to its host name (the WebAuthn relying party id) and
	// accepted only from its origin; without a host name (empty, or an
	// IP address) passkeys are off.
	PublicURL string

	// SessionIdle ends a session unused this long (default
	// DefaultSessionIdle); SessionMax ends every session this long
	// after sign-in (default DefaultSessionMax).
	SessionIdle, SessionMax time.Duration
	// SessionCacheSize bounds the sessions cached in process (default
	// DefaultSessionCacheSize; negative: no cache).
	SessionCacheSize int
	// MFA says who must give a second factor (default MFAAdmins).
	MFA MFAPolicy

	// Directory, if set, is consulted at sign-in for people tokend
	// does not know or got from it, and every DirectoryCheck (default
	// DefaultDirectoryCheck) by Run.
	Directory      Directory
	DirectoryCheck time.Duration

	// Failures, if set, holds the sign-in throttle's counts (Redis,
	// shared by every node); otherwise they are kept in process, as
	// they are while Failures fails. AccountThrottle and
	// AddressThrottle default to DefaultAccountThrottle and
	// DefaultAddressThrottle.
	Failures                         FailureCounter
	AccountThrottle, AddressThrottle ThrottlePolicy

	// Logger receives what goes wrong in the background (default:
	// discarded). Registerer, if set, gets the sign-in metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// KEK is the key-encryption key that seals TOTP secrets at rest
	// (seal.KEKSize bytes; the one the signing keys use). Without it,
	// BeginTOTP fails with ErrNoKEK.
	KEK []byte
	// Issuer names tokend in authenticator apps (default "tokend").
	Issuer string
}

// Service manages users. It is safe for concurrent use.
type Service struct {
	db          *store.DB
	now         func() time.Time
	hasher      *hasher
	common      commonPasswords
	linkTTL     time.Duration
	sessionIdle time.Duration
	sessionMax  time.Duration
	sessions    *sessionCache
	mfa         MFAPolicy
	directory   Directory
	dirCheck    time.Duration
	throttle    *throttle
	log         *slog.Logger
	metrics     *metrics
	// webauthn is the passkey relying party; nil when passkeys are off.
	webauthn *webauthn.WebAuthn
	kek      []byte
	issuer   string
}

// New returns a Service. It subscribes to cfg.DB's changes for as long
// as the DB lives.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, now: cfg.Now, common: loadCommon(), linkTTL: cfg.LinkTTL, log: cfg.Logger,
		sessionIdle: orDefault(cfg.SessionIdle, DefaultSessionIdle), sessionMax: orDefault(cfg.SessionMax, DefaultSessionMax),
		mfa: cfg.MFA, directory: cfg.Directory, dirCheck: orDefault(cfg.DirectoryCheck, DefaultDirectoryCheck),
		metrics: newMetrics(cfg.Registerer)}
	s.kek, s.issuer = cfg.KEK, cfg.Issuer
	if s.issuer == "" {
		s.issuer = "tokend"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.mfa == "" {
		s.mfa = MFAAdmins
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if s.linkTTL <= 0 {
		s.linkTTL = DefaultLinkTTL
	}
	if cfg.SessionCacheSize == 0 {
		cfg.SessionCacheSize = DefaultSessionCacheSize
	}
	s.sessions = newSessionCache(cfg.SessionCacheSize)
	cfg.DB.Subscribe(s.sessions.onChange)
	s.throttle = &throttle{account: cfg.AccountThrottle, address: cfg.AddressThrottle, shared: cfg.Failures,
		local: newMemoryFailures(1 << 16), log: s.log}
	if s.throttle.account == (ThrottlePolicy{}) {
		s.throttle.account = DefaultAccountThrottle
	}
	if s.throttle.address == (ThrottlePolicy{}) {
		s.throttle.address = DefaultAddressThrottle
	}
	s.hasher = newHasher(cfg.Params, cfg.HashSlots)
	s.webauthn, _ = relyingParty(cfg.PublicURL) // nil: passkeys off, PasskeysAvailable says why
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// sweepEvery is how often Run deletes ended sessions.
const sweepEvery = 10 * time.Minute

// Run does the service's background work until ctx ends: it deletes
// ended sessions, and with a Directory, checks the people tokend got
// from it every DirectoryCheck.
func (s *Service) Run(ctx context.Context) {
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	check := make(<-chan time.Time)
	if s.directory != nil {
		t := time.NewTicker(s.dirCheck)
		defer t.Stop()
		check = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			s.sweepSessions(ctx)
		case <-check:
			if err := s.CheckDirectory(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "directory check", "err", err)
			}
		}
	}
}

// sweepSessions deletes the sessions that ended.
func (s *Service) sweepSessions(ctx context.Context) {
	now := s.clock()
	n, err := s.db.DeleteExpiredSessions(ctx, now, now.Add(-s.sessionIdle))
	if err != nil {
		s.log.WarnContext(ctx, "sweep sessions", "err", err)
	} else if n > 0 {
		s.log.DebugContext(ctx, "swept sessions", "sessions", n)
	}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Get returns the user with the given id, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (api.User, error) {
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return api.User{}, err
	}
	return view(u), nil
}

// ListFilter selects users for List: a username prefix (any case), a
// group, an enabled state, a cursor and a page size.
type ListFilter = store.UserFilter

// List returns a page of users in id order; its NextCursor, if set,
// is the After of the next page.
func (s *Service) List(ctx context.Context, f ListFilter) (api.UserList, error) {
	us, err := s.db.ListUsers(ctx, f)
	if err != nil {
		return api.UserList{}, err
	}
	out := api.UserList{Users: make([]api.User, 0, len(us))}
	for _, u := range us {
		out.Users = append(out.Users, view(u))
	}
	if len(us) == f.Limit {
		out.NextCursor = us[len(us)-1].ID
	}
	return out, nil
}

// view is the wire form of u, without its password hash.
func view(u store.User) api.User {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return api.User{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Groups: groups,
		Admin: u.Admin, Enabled: u.Enabled, Source: u.Source, HasPassword: u.PasswordHash != "",
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// auditUser is what the audit log records of a user: everything but the
// password hash, of which it records only the time it changed.
type auditUser struct {
	Username          string    `json:"username"`
	Email             string    `json:"email"`
	DisplayName       string    `json:"display_name"`
	Groups            []string  `json:"groups"`
	Admin             bool      `json:"admin"`
	Enabled           bool      `json:"enabled"`
	Source            string    `json:"source"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

func auditOf(u store.User) auditUser {
	return auditUser{Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Groups: u.Groups,
		Admin: u.Admin, Enabled: u.Enabled, Source: u.Source, PasswordChangedAt: u.PasswordChangedAt}
}

func userEvent(by audit.Actor, now time.Time, action string, before, after *store.User) (store.Event, error) {
	var b, a any
	id := ""
	if before != nil {
		b, id = auditOf(*before), before.ID
	}
	if after != nil {
		a, id = auditOf(*after), after.ID
	}
	return audit.Change(by, now, action, "user", id, b, a)
}
