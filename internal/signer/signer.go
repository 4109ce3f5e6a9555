package signer

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// Config configures a Signer. Zero values take the documented defaults.
type Config struct {
	// DB stores the keys. Required.
	DB *store.DB
	// KEK is the key-encryption key, KEKSize bytes. Required.
	KEK []byte
	// Alg is the algorithm of new keys: ES256 (the default), EdDSA or
	// RS256. Changing it takes effect at the next rotation.
	Alg string
	// RS256 keeps RS256 keys beside those of Alg, with their own
	// rotation (the "rsa" role), for SignWith(RS256, ...): OpenID Connect
	// requires ID tokens to be available in RS256. Ignored when Alg is
	// RS256.
	RS256 bool
	// Lead is how long a new key is published before it signs; default
	// 1h. It must exceed the time every verifier takes to pick up a new
	// JWKS: at least twice ReloadEvery, and more than the JWKS max-age.
	Lead time.Duration
	// RotateEvery is how long a key signs before the next one takes over;
	// default 30 days. It must exceed Lead.
	RotateEvery time.Duration
	// MaxTokenTTL is the longest lifetime of a token this Signer signs; a
	// retired key stays published that long. Default 24h. Callers must
	// not sign tokens that live longer.
	MaxTokenTTL time.Duration
	// ReloadEvery is how often Run checks the rotation schedule, deletes
	// expired keys and reloads the keys from the store; default 1m. The
	// reload is only a backstop: every node learns of a change to the
	// keys when the store announces it (see the package doc).
	ReloadEvery time.Duration
	// Logger receives rotations and failures; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Errors of Verify and Sign. Verify wraps one of the first four with
// detail; test with errors.Is.
var (
	// ErrMalformed: not a compact JWS tokend could have produced.
	ErrMalformed = errors.New("malformed token")
	// ErrUnknownKey: the kid names no published key.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrBadSignature: the algorithm is not accepted, does not match the
	// key, or the signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrWrongType: the typ header is not the expected one.
	ErrWrongType = errors.New("wrong token type")
	// ErrNoKey: no key is active yet; Sign cannot sign.
	ErrNoKey = errors.New("no active signing key")
)

// KeyState is where a key is in its life.
type KeyState string

// The key states, in order.
const (
	StatePending KeyState = "pending" // published, not signing yet
	StateActive  KeyState = "active"  // signing
	StateRetired KeyState = "retired" // published, no longer signing
	StateExpired KeyState = "expired" // no longer published, not yet deleted
)

// Key describes one signing key, without private material.
type Key struct {
	KID       string
	Alg       string
	State     KeyState
	CreatedAt time.Time
	ActiveAt  time.Time
	RetiredAt time.Time // zero: not retired yet
	ExpiresAt time.Time // zero: not retired yet
	Public    jose.JSONWebKey
}

// Signer signs and verifies JWTs with tokend's rotating keys. It is safe
// for concurrent use.
type Signer struct {
	db          *store.DB
	kek         []byte
	alg         string
	lead, every time.Duration
	maxTTL      time.Duration
	reloadEvery time.Duration
	log         *slog.Logger
	now         func() time.Time
	roles       []string // "" and, with Config.RS256, roleRSA

	ring     atomic.Pointer[keyring]
	reloadMu sync.Mutex
}

// New returns a Signer over the keys in cfg.DB, creating the first key if
// there is none, and subscribed to cfg.DB's changes. It fails if a key
// that may sign does not decrypt under cfg.KEK (ErrWrongKEK). Call Run to
// rotate on schedule in the background.
func New(ctx context.Context, cfg Config) (*Signer, error) {
	s := &Signer{db: cfg.DB, kek: cfg.KEK, alg: or(cfg.Alg, ES256), lead: or(cfg.Lead, time.Hour),
		every: or(cfg.RotateEvery, 30*24*time.Hour), maxTTL: or(cfg.MaxTokenTTL, 24*time.Hour),
		reloadEvery: or(cfg.ReloadEvery, time.Minute), log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.roles = []string{""}
	if cfg.RS256 && s.alg != RS256 {
		s.roles = append(s.roles, roleRSA)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	s.db.Subscribe(s.onChange) // before the first load: no change is missed
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	for _, role := range s.roles {
		if s.ring.Load().newest(role) == nil {
			// The first key signs at once: nobody holds a token or a JWKS
			// yet. Nodes starting together create one key between them.
			if _, err := s.rotate(ctx, audit.System, time.Time{}, 0, role); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// roleRSA is the role of the RS256 keys kept beside keys of another
// algorithm (Config.RS256).
const roleRSA = "rsa"

// algOf returns the algorithm of the keys of role.
func (s *Signer) algOf(role string) string {
	if role == roleRSA {
		return RS256
	}
	return s.alg
}

// Algs returns the algorithms SignWith can sign with, Alg first.
func (s *Signer) Algs() []string {
	out := make([]string, len(s.roles))
	for i, r := range s.roles {
		out[i] = s.algOf(r)
	}
	return out
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *Signer) validate() error {
	var errs []error
	if s.db == nil {
		errs = append(errs, errors.New("no database"))
	}
	if len(s.kek) != KEKSize {
		errs = append(errs, fmt.Errorf("key-encryption key has %d bytes, want %d", len(s.kek), KEKSize))
	}
	if !slices.Contains(Algorithms, s.alg) {
		errs = append(errs, fmt.Errorf("signing algorithm %q is not one of %v", s.alg, Algorithms))
	}
	if s.lead < 2*s.reloadEvery || s.lead <= JWKSMaxAge {
		errs = append(errs, fmt.Errorf("signing key lead time %v must be at least twice the reload interval %v and more than the JWKS max-age %v",
			s.lead, s.reloadEvery, JWKSMaxAge))
	}
	if s.every <= s.lead {
		errs = append(errs, fmt.Errorf("rotation interval %v must exceed the lead time %v", s.every, s.lead))
	}
	if s.maxTTL <= 0 || s.reloadEvery <= 0 {
		errs = append(errs, errors.New("max token lifetime and reload interval must be positive"))
	}
	return errors.Join(errs...)
}

// JWKSMaxAge is how long a client may cache the JWKS; the lead time must
// be longer, so a cached JWKS always holds the key that signs next.
const JWKSMaxAge = time.Minute

// MaxTokenTTL returns the longest token lifetime the keys are published
// for. Callers must not sign tokens that live longer.
func (s *Signer) MaxTokenTTL() time.Duration { return s.maxTTL }

// Sign returns claims, encoded with encoding/json, as a compact JWS signed
// with the active key, with the protected header alg, kid and typ (such as
// "at+jwt"; an empty typ is left out). It touches no database.
func (s *Signer) Sign(claims any, typ string) (string, error) {
	return s.signRole("", claims, typ)
}

// SignWith is Sign with a key of algorithm alg, one of Algs; for any
// other it returns ErrNoKey.
func (s *Signer) SignWith(alg string, claims any, typ string) (string, error) {
	for _, r := range s.roles {
		if s.algOf(r) == alg {
			return s.signRole(r, claims, typ)
		}
	}
	return "", ErrNoKey
}

func (s *Signer) signRole(role string, claims any, typ string) (string, error) {
	k := s.ring.Load().signer(s.now(), role)
	if k == nil {
		return "", ErrNoKey
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return k.sign(payload, typ)
}

// SignJSON is Sign for claims the caller has already encoded: payload
// must be one JSON object (the access-token claims append themselves
// without encoding/json's reflection, on every token request).
func (s *Signer) SignJSON(payload []byte, typ string) (string, error) {
	k := s.ring.Load().signer(s.now(), "")
	if k == nil {
		return "", ErrNoKey
	}
	return k.sign(payload, typ)
}

// JWKS returns the published keys, public halves only: pending, active,
// and retired keys whose tokens may still be live.
func (s *Signer) JWKS() jose.JSONWebKeySet {
	r, now := s.ring.Load(), s.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range r.published {
		if k.publishedAt(now) {
			set.Keys = append(set.Keys, k.jwk)
		}
	}
	return set
}

// Keys returns every stored key, oldest first, read from the store.
func (s *Signer) Keys(ctx context.Context) ([]Key, error) {
	stored, err := s.db.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Key, 0, len(stored))
	for _, sk := range stored {
		jwk, err := publicKey(sk)
		if err != nil {
			return nil, err
		}
		out = append(out, keyView(sk, jwk, now))
	}
	return out, nil
}

func keyView(sk store.SigningKey, jwk jose.JSONWebKey, now time.Time) Key {
	k := Key{KID: sk.KID, Alg: sk.Alg, CreatedAt: sk.CreatedAt, ActiveAt: sk.ActiveAt,
		RetiredAt: sk.RetiredAt, ExpiresAt: sk.ExpiresAt, Public: jwk}
	switch {
	case now.Before(sk.ActiveAt):
		k.State = StatePending
	case sk.RetiredAt.IsZero() || now.Before(sk.RetiredAt):
		k.State = StateActive
	case now.Before(sk.ExpiresAt):
		k.State = StateRetired
	default:
		k.State = StateExpired
	}
	return k
}

// Rotate adds a key that signs after the lead time, retiring the active
// one then, and returns it. If a rotation is already pending (here or on
// another node) it returns that key instead of adding another. The audit
// log names tokend itself as the actor; see RotateAs.
func (s *Signer) Rotate(ctx context.Context) (Key, error) {
	return s.RotateAs(ctx, audit.System)
}

// RotateAs is Rotate on behalf of actor, for the audit log. With
// Config.RS256 the RS256 keys rotate too; the key of Alg is returned.
func (s *Signer) RotateAs(ctx context.Context, actor audit.Actor) (Key, error) {
	now := s.now()
	var first Key
	for i, role := range s.roles {
		k, err := s.rotate(ctx, actor, now.Add(time.Microsecond), s.lead, role)
		if err != nil {
			return Key{}, err
		}
		if i == 0 {
			first = k
		}
	}
	return first, nil
}

// rotate creates a key of role active after lead unless the role's newest
// key activates at or after cutoff (zero cutoff: unless it has any key).
func (s *Signer) rotate(ctx context.Context, actor audit.Actor, cutoff time.Time, lead time.Duration, role string) (Key, error) {
	now := s.now()
	sk, err := newStoredKey(s.kek, s.algOf(role), now, now.Add(lead))
	if err != nil {
		return Key{}, fmt.Errorf("rotate signing key: %w", err)
	}
	sk.Role = role
	action := "signing_key.rotate"
	if cutoff.IsZero() {
		action = "signing_key.create"
	}
	ev, err := audit.Change(actor, now, action, "signing_key", sk.KID, nil,
		map[string]any{"kid": sk.KID, "alg": sk.Alg, "active_at": sk.ActiveAt})
	if err != nil {
		return Key{}, err
	}
	got, created, err := s.db.RotateSigningKey(ctx, sk, cutoff, s.maxTTL, ev)
	if err != nil {
		return Key{}, err
	}
	if created {
		s.log.InfoContext(ctx, "signing key created", "kid", got.KID, "alg", got.Alg, "active_at", got.ActiveAt, "actor", actor.ID)
	} else if err := s.reload(ctx); err != nil {
		// The key is another node's, announced perhaps before this
		// node listened (at start); a key of ours reloaded at commit.
		return Key{}, err
	}
	jwk, err := publicKey(got)
	if err != nil {
		return Key{}, err
	}
	return keyView(got, jwk, now), nil
}

// Run rotates on schedule, deletes expired keys and revoked jtis, and
// reloads the keys as a backstop, every ReloadEvery until ctx ends.
func (s *Signer) Run(ctx context.Context) {
	t := time.NewTicker(s.reloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "signing key maintenance failed", "err", err)
			}
		}
	}
}

// sweepLeeway is how long after their expiry revoked jtis are kept, to
// cover verifiers' clock leeway.
const sweepLeeway = 10 * time.Minute

// Maintain is one step of Run: reload, rotate if the active key has
// signed for RotateEvery less the lead time, and delete what expired.
func (s *Signer) Maintain(ctx context.Context) error {
	if err := s.reload(ctx); err != nil {
		return err
	}
	now := s.now()
	for _, role := range s.roles {
		if newest := s.ring.Load().newest(role); newest == nil || !now.Before(newest.activeAt.Add(s.every-s.lead)) {
			cutoff := now.Add(s.lead - s.every + time.Microsecond)
			if _, err := s.rotate(ctx, audit.System, cutoff, s.lead, role); err != nil {
				return err
			}
		}
	}
	if n, err := s.db.DeleteExpiredSigningKeys(ctx, now); err != nil {
		return err
	} else if n > 0 {
		s.log.InfoContext(ctx, "deleted expired signing keys", "count", n)
	}
	_, err := s.db.DeleteExpiredJTIs(ctx, now.Add(-sweepLeeway))
	return err
}

// onChange is the signer's subscription to the store's changes: it reloads
// the keys when they changed, here or on another node, or when changes
// may have been missed. A failed reload is logged; Run's backstop reload
// retries it.
func (s *Signer) onChange(c store.Change) {
	if !c.All && !c.SigningKeys {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.reload(ctx); err != nil {
		s.log.ErrorContext(ctx, "reload signing keys after a change", "err", err)
	}
}

// reload reads the keys and swaps in a new keyring. Keys that may sign
// are decrypted, once: a key already decrypted is taken from the old ring.
func (s *Signer) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	stored, err := s.db.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	old := s.ring.Load()
	r, err := buildRing(stored, old, s.kek, s.now())
	if err != nil {
		return err
	}
	s.ring.Store(r)
	return nil
}

// keyring is an immutable view of the keys, swapped whole on reload.
type keyring struct {
	published []*pubKey          // by ActiveAt, oldest first
	byKID     map[string]*pubKey // the same keys
	signing   []*signingKey      // keys that may sign, newest ActiveAt first
}

type pubKey struct {
	kid, alg  string
	role      string
	jwk       jose.JSONWebKey
	activeAt  time.Time
	expiresAt time.Time // zero: not retired
}

func (k *pubKey) publishedAt(now time.Time) bool {
	return k.expiresAt.IsZero() || now.Before(k.expiresAt)
}

type signingKey struct {
	kid      string
	alg      string
	role     string
	activeAt time.Time
	priv     crypto.Signer
	headers  sync.Map // typ -> base64url protected header (jws.go)
}

func buildRing(stored []store.SigningKey, old *keyring, kek []byte, now time.Time) (*keyring, error) {
	r := &keyring{byKID: make(map[string]*pubKey, len(stored))}
	for _, sk := range stored {
		jwk, err := publicKey(sk)
		if err != nil {
			return nil, err
		}
		pk := &pubKey{kid: sk.KID, alg: sk.Alg, role: sk.Role, jwk: jwk, activeAt: sk.ActiveAt, expiresAt: sk.ExpiresAt}
		r.published = append(r.published, pk)
		r.byKID[sk.KID] = pk
		if !sk.RetiredAt.IsZero() && !now.Before(sk.RetiredAt) {
			continue // retired: verifies, never signs again
		}
		if old != nil {
			if k := old.signingKey(sk.KID); k != nil {
				r.signing = append(r.signing, k)
				continue
			}
		}
		priv, err := privateKey(kek, sk, jwk)
		if err != nil {
			return nil, err
		}
		r.signing = append(r.signing, &signingKey{kid: sk.KID, alg: sk.Alg, role: sk.Role, activeAt: sk.ActiveAt, priv: priv})
	}
	slices.Reverse(r.signing)
	return r, nil
}

func (r *keyring) signingKey(kid string) *signingKey {
	for _, k := range r.signing {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

// signer returns the key of role that signs at now: the latest ActiveAt
// not after now.
func (r *keyring) signer(now time.Time, role string) *signingKey {
	for _, k := range r.signing {
		if k.role == role && !k.activeAt.After(now) {
			return k
		}
	}
	return nil
}

// newest returns the key of role with the latest ActiveAt, or nil.
func (r *keyring) newest(role string) *pubKey {
	for i := len(r.published) - 1; i >= 0; i-- {
		if r.published[i].role == role {
			return r.published[i]
		}
	}
	return nil
}
