// Package leak handles reports of tokend credentials found in public
// (POST /v1/leaked-tokens), from a secret-scanning service or a person.
//
// A report names a token value and, optionally, where it was found. If
// the value is a live credential tokend issued, it is revoked at once:
//
//   - an API key of any API (tokend's own admin and verify keys
//     included) or a personal access token: revoked, with the reason
//     "leaked" kept on the key and shown by the management API
//     (revoked_reason);
//   - an opaque OAuth access token, a refresh token (its whole family)
//     or a JWT access token of this issuer (by its jti);
//   - a browser session: ended.
//
// Each revocation writes its audit event with the reason and where. A
// value that is not a well-formed tokend token (the checksum tells,
// without a lookup), or is unknown, expired or already revoked, changes
// nothing. The other token kinds (client secrets, which authenticate
// only with their client id; one-time codes and links, which live
// minutes) are not acted on.
//
// The answer is the same whatever the value was, so a report reveals
// nothing about it. Reports are limited per client address (an IPv6
// address by its /64, see Admit): past the limit they are refused with a
// *ThrottledError before anything is read or looked up, in memory
// bounded whatever the number of addresses.
package leak

import (
	"context"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/valid"
)

// Config configures a Service.
type Config struct {
	// Keys revokes API keys and personal access tokens. Required.
	Keys *apikey.Service
	// OAuth revokes OAuth tokens; nil leaves them alone.
	OAuth *oauth.Service
	// Users ends sessions; nil leaves them alone.
	Users *user.Service
	// Limit is how many reports one client address may make per Window;
	// default DefaultLimit per minute.
	Limit  int
	Window time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultLimit is the default number of reports per address per minute.
const DefaultLimit = 20

// Limits of a report's fields.
const (
	maxToken = 4096
	maxURL   = 2048
)

// Actor is the audit actor of every revocation a report causes; the
// audit event also records the reporter's address.
const Actor = "leak_report"

// Service handles leak reports. Make it with New.
type Service struct {
	keys  *apikey.Service
	oauth *oauth.Service
	users *user.Service
	limit *limiter
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Limit <= 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	s := &Service{keys: cfg.Keys, oauth: cfg.OAuth, users: cfg.Users, log: cfg.Logger, now: cfg.Now,
		limit: newLimiter(cfg.Limit, cfg.Window, maxAddresses)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// ThrottledError refuses a report from an address over its limit.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return "too many leaked-token reports from this address; try again later"
}

// Admit counts one report from the client at ip, before its body is
// read. It returns *ThrottledError past the address's limit.
func (s *Service) Admit(ip string) error {
	if wait := s.limit.take(ip, s.now()); wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// Report handles one report, admitted, from the client at ip: token
// found at where. It returns *valid.Error for an empty or oversized
// field, and otherwise nil whatever token was, unless the store fails.
func (s *Service) Report(ctx context.Context, ip, token, where string) error {
	switch {
	case token == "":
		return valid.Errorf("token", "is required")
	case len(token) > maxToken:
		return valid.Errorf("token", "is longer than %d bytes", maxToken)
	case len(where) > maxURL:
		return valid.Errorf("url", "is longer than %d bytes", maxURL)
	}
	kind, id, err := s.revoke(ctx, audit.Actor{ID: Actor, IP: ip}, token, where)
	if err != nil {
		return err
	}
	if id != "" {
		s.log.WarnContext(ctx, "leaked credential revoked", "kind", kind, "id", id, "found_at", where, "reporter_ip", ip)
	}
	return nil
}

// revoke revokes token if it is a live credential, and returns its kind
// and id ("" if nothing was revoked).
func (s *Service) revoke(ctx context.Context, by audit.Actor, token, where string) (kind, id string, err error) {
	if credential.LooksLikeJWT(token) {
		if s.oauth == nil {
			return "", "", nil
		}
		id, err = s.oauth.RevokeLeaked(ctx, by, token, where)
		return credential.KindJWTAccessToken, id, err
	}
	prefix, ok := credential.Parse(token)
	if !ok {
		return "", "", nil
	}
	switch prefix {
	case credential.AccessTokenPrefix, credential.RefreshTokenPrefix:
		if s.oauth == nil {
			return "", "", nil
		}
		id, err = s.oauth.RevokeLeaked(ctx, by, token, where)
		return prefix, id, err
	case credential.SessionPrefix:
		if s.users == nil {
			return "", "", nil
		}
		id, err = s.users.EndLeakedSession(ctx, by, token, where)
		return credential.KindSession, id, err
	}
	if credential.Reserved(prefix) && prefix != credential.AdminKeyPrefix && prefix != credential.PersonalTokenPrefix {
		return "", "", nil // client secrets, codes, links: not keys
	}
	id, err = s.keys.RevokeLeaked(ctx, by, token, where)
	if prefix == credential.PersonalTokenPrefix {
		return credential.KindPersonalToken, id, err
	}
	return credential.KindAPIKey, id, err
}
