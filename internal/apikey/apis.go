package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The built-in API whose keys authenticate to tokend itself.
const (
	SystemAPIID    = "api_tokend"
	SystemAudience = "tokend"
	SystemPrefix   = credential.AdminKeyPrefix
	// ScopeAdmin grants the whole management API.
	ScopeAdmin = "tokend:admin"
	// ScopeVerify grants POST /v1/verify and nothing else.
	ScopeVerify = "tokend:verify"
	// ScopeSelf, held by a person's own personal access token of the
	// built-in API, grants /v1/me: what the person may do for
	// themselves, and nothing of anyone else.
	ScopeSelf = "tokend:self"
	// SelfTokenMaxTTL caps the lifetime of those tokens.
	SelfTokenMaxTTL = 365 * 24 * time.Hour
)

// ErrSystemAPI is returned for changes the built-in API does not allow.
var ErrSystemAPI = errors.New("the built-in tokend API cannot be changed or deleted")

// Config configures a Service.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	Now    func() time.Time
	// KEK is the key-encryption key (seal.KEKSize bytes) that seals keys'
	// hmac-sha256 signing secrets. Without it, such keys cannot be made.
	KEK []byte
}

// Service manages APIs and keys. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
	kek []byte
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	s := &Service{db: cfg.DB, log: cfg.Logger, now: cfg.Now, kek: cfg.KEK}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// EnsureSystemAPI creates the built-in API if it is missing, and gives
// one created by an older tokend the tokend:self scope and the policy
// that lets every person hold it in a personal access token.
func (s *Service) EnsureSystemAPI(ctx context.Context) error {
	now := s.clock()
	sys := store.API{ID: SystemAPIID, Name: "tokend", Audience: SystemAudience,
		Scopes: []string{ScopeAdmin, ScopeVerify, ScopeSelf}, KeyPrefix: SystemPrefix, Policy: systemPolicy(),
		CreatedAt: now, UpdatedAt: now}
	if err := s.db.EnsureAPI(ctx, sys); err != nil {
		return err
	}
	a, err := s.db.APIByID(ctx, SystemAPIID)
	if err != nil || slices.Contains(a.Scopes, ScopeSelf) {
		return err
	}
	_, err = s.db.UpdateAPI(ctx, SystemAPIID, func(a *store.API) (store.Event, error) {
		before := auditAPI(*a)
		a.Scopes, a.Policy, a.UpdatedAt = sys.Scopes, sys.Policy, now
		return audit.Change(audit.System, now, "api.update", "api", a.ID, before, auditAPI(*a))
	})
	return err
}

// systemPolicy is the built-in API's policy: every person may hold a
// personal access token with tokend:self, for at most SelfTokenMaxTTL.
func systemPolicy() store.Policy {
	return store.Policy{UserScopes: []store.UserScopes{{Everyone: true, Scopes: []string{ScopeSelf}}},
		PATMaxTTL:         SelfTokenMaxTTL,
		ScopeDescriptions: map[string]string{ScopeSelf: "See and manage your own tokens, apps, sessions and passkeys"}}
}

// CreateAPI validates req and creates the API. It returns *valid.Error or
// store.ErrConflict (audience or prefix taken).
func (s *Service) CreateAPI(ctx context.Context, by audit.Actor, req api.CreateAPIRequest) (store.API, error) {
	if err := checkAPI(req.Name, req.Scopes, req.Policy); err != nil {
		return store.API{}, err
	}
	if err := unreservedScopes(req.Scopes); err != nil {
		return store.API{}, err
	}
	if err := valid.Text("audience", req.Audience, 1, 2048); err != nil {
		return store.API{}, err
	}
	if req.Audience == SystemAudience {
		return store.API{}, valid.Errorf("audience", "%q is reserved", SystemAudience)
	}
	if !credential.ValidPrefix(req.KeyPrefix) || credential.Reserved(req.KeyPrefix) {
		return store.API{}, valid.Errorf("key_prefix", "must be 1 to 16 of a-z, 0-9 and '_', and not start with tokend's own %s",
			strings.Join(credential.Prefixes(), ", "))
	}
	now := s.clock()
	a := store.API{ID: ids.New("api", now), Name: req.Name, Audience: req.Audience, Scopes: nonNil(req.Scopes),
		KeyPrefix: req.KeyPrefix, Policy: policy(req.Policy), CreatedAt: now, UpdatedAt: now}
	ev, err := audit.Change(by, now, "api.create", "api", a.ID, nil, auditAPI(a))
	if err != nil {
		return store.API{}, err
	}
	return a, s.db.CreateAPI(ctx, a, ev)
}

func checkAPI(name string, scopes []string, p api.Policy) error {
	if err := valid.Text("name", name, 1, 200); err != nil {
		return err
	}
	if err := valid.Scopes("scopes", scopes); err != nil {
		return err
	}
	if err := valid.Duration("policy.max_key_ttl", p.MaxKeyTTL.Std(), 0, MaxTTL); err != nil {
		return err
	}
	if _, err := checkLimits("policy.default_ratelimits", p.DefaultRateLimits); err != nil {
		return err
	}
	if err := valid.Subset("policy.dynamic_client_scopes", p.DynamicClientScopes, scopes); err != nil {
		return err
	}
	if err := valid.Subset("policy.pat_approval_scopes", p.PATApprovalScopes, scopes); err != nil {
		return err
	}
	if err := checkDescriptions(p.ScopeDescriptions, scopes); err != nil {
		return err
	}
	return checkPATPolicy(p, scopes)
}

// checkDescriptions accepts a description of 1 to 300 characters for
// scopes the API defines.
func checkDescriptions(ds map[string]string, scopes []string) error {
	if len(ds) > 100 {
		return valid.Errorf("policy.scope_descriptions", "at most 100 descriptions")
	}
	for sc, d := range ds {
		if !slices.Contains(scopes, sc) {
			return valid.Errorf("policy.scope_descriptions", "%q is not a scope of the API", sc)
		}
		if err := valid.Text("policy.scope_descriptions."+sc, d, 1, 300); err != nil {
			return err
		}
	}
	return nil
}

// unreservedScopes refuses scopes named like tokend's own ("tokend:…"):
// a key of another API holding "tokend:admin" would read as an admin key
// to a person, though tokend itself never takes it for one.
func unreservedScopes(scopes []string) error {
	for _, sc := range scopes {
		if strings.HasPrefix(sc, credential.ReservedScopePrefix) {
			return valid.Errorf("scopes", "%q: scopes starting with %q are tokend's own", sc, credential.ReservedScopePrefix)
		}
	}
	return nil
}

// fmtDays writes a whole number of days as people type it ("366d").
func fmtDays(d time.Duration) string { return fmt.Sprintf("%dd", d/(24*time.Hour)) }

func policy(p api.Policy) store.Policy {
	ls, _ := checkLimits("", p.DefaultRateLimits)
	return store.Policy{MaxKeyTTL: p.MaxKeyTTL.Std(), RequireIPAllowlist: p.RequireIPAllowlist, DefaultRateLimits: ls,
		UserScopes: userScopes(p.UserScopes), PATMaxTTL: p.PATMaxTTL.Std(), PATAllowNoExpiry: p.PATAllowNoExpiry,
		DynamicClientScopes: p.DynamicClientScopes, ScopeDescriptions: p.ScopeDescriptions,
		RequireSignedRequests: p.RequireSignedRequests, ApproveDynamicClients: p.ApproveDynamicClients,
		PATApprovalScopes: p.PATApprovalScopes}
}

// checkLimits validates named limits (at most 10, distinct names, a limit
// of at least 1 per window of 1ms to ratelimit.MaxWindow) and converts them.
func checkLimits(field string, ls []api.RateLimit) ([]store.RateLimit, error) {
	if len(ls) > 10 {
		return nil, valid.Errorf(field, "at most 10 rate limits")
	}
	out := make([]store.RateLimit, 0, len(ls))
	seen := map[string]bool{}
	for _, l := range ls {
		if err := valid.LimitName(field, l.Name); err != nil {
			return nil, err
		}
		if seen[l.Name] {
			return nil, valid.Errorf(field, "limit %q is listed twice", l.Name)
		}
		seen[l.Name] = true
		if l.Limit < 1 || l.Window.Std() < time.Millisecond || l.Window.Std() > ratelimit.MaxWindow {
			return nil, valid.Errorf(field, "limit %q needs a limit of at least 1 and a window between 1ms and %s",
				l.Name, fmtDays(ratelimit.MaxWindow))
		}
		out = append(out, store.RateLimit{Name: l.Name, Limit: l.Limit, Window: l.Window.Std()})
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// UpdateAPI applies req to API id. It returns store.ErrNotFound,
// ErrSystemAPI or *valid.Error.
func (s *Service) UpdateAPI(ctx context.Context, by audit.Actor, id string, req api.UpdateAPIRequest) (store.API, error) {
	if id == SystemAPIID {
		return store.API{}, ErrSystemAPI
	}
	now := s.clock()
	updated, err := s.db.UpdateAPI(ctx, id, func(a *store.API) (store.Event, error) {
		before, was := auditAPI(*a), *a
		if req.Name != nil {
			a.Name = *req.Name
		}
		if req.Scopes != nil {
			if err := unreservedScopes(*req.Scopes); err != nil {
				return store.Event{}, err
			}
			a.Scopes = nonNil(*req.Scopes)
		}
		p := APIView(*a).Policy
		if req.Policy != nil {
			p = *req.Policy
		} else {
			p = prunePolicy(p, a.Scopes) // scopes removed leave the policy too
		}
		if err := checkAPI(a.Name, a.Scopes, p); err != nil {
			return store.Event{}, err
		}
		a.Policy = policy(p)
		if audit.Same(was, *a) {
			return store.Event{}, errUnchanged // no event, no new updated_at
		}
		a.UpdatedAt = now
		return audit.Change(by, now, "api.update", "api", a.ID, before, auditAPI(*a))
	})
	if errors.Is(err, errUnchanged) {
		return s.db.APIByID(ctx, id)
	}
	return updated, err
}

// DeleteAPI deletes API id and its dead keys. It returns store.ErrNotFound,
// store.ErrInUse (live keys remain) or ErrSystemAPI.
func (s *Service) DeleteAPI(ctx context.Context, by audit.Actor, id string) error {
	if id == SystemAPIID {
		return ErrSystemAPI
	}
	a, err := s.db.APIByID(ctx, id)
	if err != nil {
		return err
	}
	now := s.clock()
	ev, err := audit.Change(by, now, "api.delete", "api", id, auditAPI(a), nil)
	if err != nil {
		return err
	}
	return s.db.DeleteAPI(ctx, id, now, ev)
}

// prunePolicy drops from p's scope lists the scopes not in scopes.
func prunePolicy(p api.Policy, scopes []string) api.Policy {
	var dyn []string
	for _, sc := range p.DynamicClientScopes {
		if slices.Contains(scopes, sc) {
			dyn = append(dyn, sc)
		}
	}
	p.DynamicClientScopes = dyn
	if p.ScopeDescriptions != nil {
		ds := map[string]string{}
		for sc, d := range p.ScopeDescriptions {
			if slices.Contains(scopes, sc) {
				ds[sc] = d
			}
		}
		p.ScopeDescriptions = ds
	}
	return p
}
