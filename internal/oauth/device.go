package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// The device authorization grant (RFC 8628).
const (
	// DevicePath is the device authorization endpoint; DevicePagePath
	// the page where people enter the user code.
	DevicePath     = "/oauth2/device_authorization"
	DevicePagePath = "/device"
	// DeviceCodeTTL is how long a device code may be approved and
	// redeemed.
	DeviceCodeTTL = 10 * time.Minute
	// DevicePollInterval is the least time between two polls; a faster
	// poll is slow_down (RFC 8628 §3.5).
	DevicePollInterval = 5 * time.Second
)

// The device grant's polling errors (RFC 8628 §3.5).
const (
	ErrAuthorizationPending = "authorization_pending"
	ErrSlowDown             = "slow_down"
	ErrExpiredToken         = "expired_token"
)

// userCodeAlphabet has no vowels (no words) and none of the look-alikes
// 0/O, 1/I/L, 2/Z, 5/S, 8/B: 20 consonants, as RFC 8628 §6.1 suggests.
const userCodeAlphabet = "BCDFGHJKMNPQRTVWXY34"

// UserCodeFailures is how many wrong user codes one address may enter
// per minute.
const UserCodeFailures = 10

// userCodeLen gives 20^8 ≈ 2^34.6 codes; with DeviceCodeTTL and the
// guessing limit of CheckUserCode an attacker's chance is negligible.
const userCodeLen = 8

// DeviceAuthorization is the answer of the device authorization endpoint
// (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// AuthorizeDevice starts a device authorization for client c (RFC 8628
// §3.1), with the scope and resource parameters of f resolved as for the
// code grant.
func (s *Service) AuthorizeDevice(ctx context.Context, c store.Client, f Form) (DeviceAuthorization, error) {
	if !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		return DeviceAuthorization{}, newError(400, ErrUnauthorizedClient, "the client may not use the device grant")
	}
	us, err := s.resolveUserScopes(ctx, c, f.Get("scope"), f.All("resource"))
	if err != nil {
		return DeviceAuthorization{}, err
	}
	now := s.clock()
	device := credential.Generate(credential.DeviceCodePrefix)
	d := store.DeviceCode{Hash: credential.Hash(device), ClientID: c.ID, Scopes: us.all(), Status: store.DevicePending,
		CreatedAt: now, ExpiresAt: now.Add(DeviceCodeTTL)}
	if us.api != nil {
		d.APIID = us.api.ID
	}
	for try := 0; ; try++ {
		d.UserCode = newUserCode()
		err = s.db.CreateDeviceCode(ctx, d)
		if !errors.Is(err, store.ErrConflict) || try == 5 {
			break
		}
	}
	if err != nil {
		return DeviceAuthorization{}, err
	}
	shown := d.UserCode[:4] + "-" + d.UserCode[4:]
	return DeviceAuthorization{DeviceCode: device, UserCode: shown, VerificationURI: s.issuer + DevicePagePath,
		VerificationURIComplete: s.issuer + DevicePagePath + "?user_code=" + shown,
		ExpiresIn:               int64(DeviceCodeTTL / time.Second), Interval: int64(DevicePollInterval / time.Second)}, nil
}

func newUserCode() string {
	b := make([]byte, userCodeLen)
	n := big.NewInt(int64(len(userCodeAlphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand never fails on supported systems
		}
		b[i] = userCodeAlphabet[x.Int64()]
	}
	return string(b)
}

// NormalizeUserCode returns the user code a person typed in its stored
// form: case, spaces and dashes do not matter. ok is false when it
// cannot be a user code.
func NormalizeUserCode(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ':
		case r < 128 && strings.IndexByte(userCodeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == userCodeLen
}

// DeviceRequest is a pending device authorization as the /device page
// shows it before the person decides, with its consent text.
type DeviceRequest struct {
	UserCode string
	Client   store.Client
	Consent  ConsentRequest
}

// LookupUserCode finds the pending request of a typed user code for the
// person at ip. Failed lookups count against ip (an IPv6 address by its
// /64): after UserCodeFailures in a minute, every lookup from it is 429
// temporarily_unavailable until the minute ends (with Config.Failures,
// counted by every node together, until a minute after the last wrong
// code), so that codes cannot be guessed. An unknown,
// expired or decided code is invalid_grant.
func (s *Service) LookupUserCode(ctx context.Context, typed, ip string) (DeviceRequest, error) {
	if e := s.userCodes.blocked(ctx, ip, s.now()); e != nil {
		return DeviceRequest{}, e
	}
	bad := func() error {
		s.userCodes.add(ctx, ip, s.now())
		return invalidGrant("the code is unknown, expired or already used")
	}
	code, ok := NormalizeUserCode(typed)
	if !ok {
		return DeviceRequest{}, bad()
	}
	d, err := s.db.DeviceCodeByUserCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) || err == nil && (d.Status != store.DevicePending || !s.clock().Before(d.ExpiresAt)) {
		return DeviceRequest{}, bad()
	}
	if err != nil {
		return DeviceRequest{}, err
	}
	c, err := s.client(ctx, d.ClientID)
	if err != nil {
		return DeviceRequest{}, err
	}
	a := &Authorization{Client: c, scopes: userScopes{}}
	for _, sc := range d.Scopes {
		if slices.Contains(OIDCScopes, sc) {
			a.scopes.oidc = append(a.scopes.oidc, sc)
		} else {
			a.scopes.apiS = append(a.scopes.apiS, sc)
		}
	}
	if d.APIID != "" {
		api, err := s.apiByID(ctx, d.APIID)
		if err != nil {
			return DeviceRequest{}, err
		}
		a.scopes.api = &api
	}
	cr := s.ConsentFor(a)
	cr.RedirectHost = ""
	return DeviceRequest{UserCode: code, Client: c, Consent: cr}, nil
}

// DecideDevice records the signed-in person's answer to the device
// request of userCode (normalized, from LookupUserCode): approve, which
// also records their consent, or deny. The polling client learns it at
// its next poll.
func (s *Service) DecideDevice(ctx context.Context, by audit.Actor, userCode string, who SignedIn, approve bool) error {
	dec := store.DeviceDecision{Status: store.DeviceDenied}
	if approve {
		dec = store.DeviceDecision{Status: store.DeviceApproved, UserID: who.UserID, AuthTime: who.AuthTime, AMR: who.AMR}
		if dec.AuthTime.IsZero() {
			dec.AuthTime = s.clock()
		}
	}
	d, err := s.db.DecideDeviceCode(ctx, userCode, s.clock(), dec)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenUsed) {
		return invalidGrant("the code is unknown, expired or already used")
	}
	if err != nil || !approve {
		return err
	}
	c, err := s.client(ctx, d.ClientID)
	if err != nil {
		return err
	}
	a := &Authorization{Client: c}
	a.scopes.oidc = d.Scopes // every scope goes into the grant as it is
	if d.APIID != "" {
		api, err := s.apiByID(ctx, d.APIID)
		if err != nil {
			return err
		}
		a.scopes.api = &api
	}
	return s.Consent(ctx, by, a, who.UserID)
}

// deviceCode runs the device_code grant (RFC 8628 §3.4) for client c.
func (s *Service) deviceCode(ctx context.Context, by audit.Actor, c store.Client, f Form, jkt string) (TokenResponse, error) {
	raw := f.Get("device_code")
	if raw == "" {
		return TokenResponse{}, invalidRequest("device_code is required")
	}
	bad := invalidGrant("the device code is invalid or was issued to another client")
	if p, ok := credential.Parse(raw); !ok || p != credential.DeviceCodePrefix {
		return TokenResponse{}, bad
	}
	hash := credential.Hash(raw)
	now := s.clock()
	d, err := s.db.PollDeviceCode(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, bad
	}
	if err != nil {
		return TokenResponse{}, err
	}
	switch {
	case d.ClientID != c.ID:
		return TokenResponse{}, bad
	case d.Status == store.DeviceUsed:
		return TokenResponse{}, s.replayed(ctx, by, d.Issued, now)
	case !now.Before(d.ExpiresAt):
		return TokenResponse{}, newError(400, ErrExpiredToken, "the device code has expired; start again")
	case d.Status == store.DeviceDenied:
		return TokenResponse{}, newError(400, ErrAccessDenied, "the person denied the request")
	case !d.PolledAt.IsZero() && now.Sub(d.PolledAt) < DevicePollInterval:
		return TokenResponse{}, newError(400, ErrSlowDown, "poll at most every %s", DevicePollInterval)
	case d.Status == store.DevicePending:
		return TokenResponse{}, newError(400, ErrAuthorizationPending, "the person has not answered yet")
	}
	g := userGrant{client: c, ip: by.IP, userID: d.UserID, apiID: d.APIID, scopes: d.Scopes, authTime: d.AuthTime, amr: d.AMR, jkt: jkt}
	resp, red, err := s.issueUserTokens(ctx, g, f.All("resource"), now)
	if err != nil {
		return TokenResponse{}, err
	}
	if err := s.db.RedeemDeviceCode(ctx, hash, red); errors.Is(err, store.ErrTokenUsed) {
		return TokenResponse{}, invalidGrant("the device code was already used")
	} else if err != nil {
		return TokenResponse{}, err
	}
	return resp, nil
}
