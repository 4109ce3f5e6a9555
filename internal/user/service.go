package user

import (
	"context"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

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
}

// Service manages users. It is safe for concurrent use.
type Service struct {
	db      *store.DB
	now     func() time.Time
	hasher  *hasher
	common  commonPasswords
	linkTTL time.Duration
	// webauthn is the passkey relying party; nil when passkeys are off.
	webauthn *webauthn.WebAuthn
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, now: cfg.Now, common: loadCommon(), linkTTL: cfg.LinkTTL}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if s.linkTTL <= 0 {
		s.linkTTL = DefaultLinkTTL
	}
	s.hasher = newHasher(cfg.Params, cfg.HashSlots)
	s.webauthn, _ = relyingParty(cfg.PublicURL) // nil: passkeys off, PasskeysAvailable says why
	return s
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
