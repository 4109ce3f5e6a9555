package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// BeginPasskeyLogin starts a passkey sign-in and returns the options for
// navigator.credentials.get (as {"publicKey": ...}) with the opaque state
// token FinishPasskeyLogin needs back.
//
// With a userID, the passkey is a second factor for that user: the
// options allow only their passkeys, and user verification is preferred.
// It returns ErrNoPasskeys if they have none.
//
// With userID "", the sign-in is passwordless: the options allow any
// discoverable passkey of this relying party (no allowCredentials, so the
// page may also pass them to a conditional-mediation request, the
// browser's autofill), and user verification is required, so that the
// passkey alone stands for two factors (possession and a PIN or
// biometric).
func (s *Service) BeginPasskeyLogin(ctx context.Context, userID string) (options json.RawMessage, state string, err error) {
	rp, err := s.rp()
	if err != nil {
		return nil, "", err
	}
	if userID == "" {
		assertion, sd, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, "", fmt.Errorf("begin passkey login: %w", err)
		}
		return s.beginCeremony(ctx, ceremonyLogin, "", assertion, sd)
	}
	pu, err := s.passkeyUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if len(pu.keys) == 0 {
		return nil, "", ErrNoPasskeys
	}
	assertion, sd, err := rp.BeginLogin(pu)
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey login: %w", err)
	}
	return s.beginCeremony(ctx, ceremonyLogin, userID, assertion, sd)
}

// BeginPasswordlessLogin starts a passwordless passkey sign-in, as
// BeginPasskeyLogin with no user, for the browser m describes. Anyone may
// start one, so each client address may start only so many
// (passkeyStarts): beyond them it returns *ThrottledError, before any
// ceremony is stored.
func (s *Service) BeginPasswordlessLogin(ctx context.Context, m ClientMeta) (options json.RawMessage, state string, err error) {
	if _, err := s.rp(); err != nil {
		return nil, "", err
	}
	if err := s.throttle.start(ctx, m.IP, s.now()); err != nil {
		return nil, "", err
	}
	return s.BeginPasskeyLogin(ctx, "")
}

// FinishPasskeyLogin checks body, the browser's answer (the
// PublicKeyCredential as JSON) to the sign-in ceremony that state names,
// and returns the user it proves. The state works once, so a replayed
// answer is refused; so is an answer for the passkey of a user other than
// the one the ceremony began for, one whose origin, relying party,
// challenge or signature is wrong, and one whose signature counter did
// not increase (go-webauthn's clone warning: a cloned authenticator or a
// replay; refused, not merely logged). All of those are
// ErrPasskeyRefused. A body that is not an assertion is a *valid.Error
// and leaves the ceremony usable. A disabled user is ErrDisabled, only
// after the passkey verified.
//
// The caller then starts a session (passwordless) or completes the
// second factor of one; the passkey's time of use and counter are
// recorded here.
func (s *Service) FinishPasskeyLogin(ctx context.Context, state string, body []byte) (api.User, error) {
	rp, err := s.rp()
	if err != nil {
		return api.User{}, err
	}
	parsed, err := parseAssertion(body)
	if err != nil {
		return api.User{}, err
	}
	c, sd, err := s.takeCeremony(ctx, ceremonyLogin, state)
	if err != nil {
		return api.User{}, err
	}
	pu, cred, err := s.validateLogin(ctx, rp, c.UserID, sd, parsed)
	if err != nil {
		return api.User{}, err
	}
	if cred.Authenticator.CloneWarning {
		return api.User{}, fmt.Errorf("%w: %w", ErrPasskeyRefused, store.ErrStaleSignCount)
	}
	key := pu.key(cred.ID)
	err = s.db.UsePasskey(ctx, key.ID, store.PasskeyUse{SignCount: cred.Authenticator.SignCount,
		UserVerified: key.UserVerified || cred.Flags.UserVerified, BackupState: cred.Flags.BackupState, At: s.clock()})
	if errors.Is(err, store.ErrStaleSignCount) || errors.Is(err, store.ErrNotFound) {
		return api.User{}, fmt.Errorf("%w: %w", ErrPasskeyRefused, err)
	}
	if err != nil {
		return api.User{}, err
	}
	if !pu.u.Enabled {
		return api.User{}, ErrDisabled
	}
	return view(pu.u), nil
}

// validateLogin verifies parsed against the ceremony's session: for the
// user the ceremony began for, or, for a discoverable one, for the user
// whose handle the authenticator returned.
func (s *Service) validateLogin(ctx context.Context, rp *webauthn.WebAuthn, userID string, sd webauthn.SessionData,
	parsed *protocol.ParsedCredentialAssertionData) (*passkeyUser, *webauthn.Credential, error) {
	if userID != "" {
		pu, err := s.passkeyUser(ctx, userID)
		if err != nil {
			return nil, nil, err
		}
		cred, err := rp.ValidateLogin(pu, sd, parsed)
		if err != nil {
			return nil, nil, refused(err)
		}
		return pu, cred, nil
	}
	var pu *passkeyUser
	byHandle := func(_, handle []byte) (webauthn.User, error) {
		id, err := s.db.PasskeyHandleUser(ctx, handle)
		if err != nil {
			return nil, err
		}
		if pu, err = s.passkeyUser(ctx, id); err != nil {
			return nil, err
		}
		return pu, nil
	}
	_, cred, err := rp.ValidatePasskeyLogin(byHandle, sd, parsed)
	if err != nil {
		return nil, nil, refused(err)
	}
	return pu, cred, nil
}

// key returns the user's passkey with the given credential id; the
// credential was found among them by go-webauthn.
func (p *passkeyUser) key(credentialID []byte) store.Passkey {
	for _, k := range p.keys {
		if string(k.CredentialID) == string(credentialID) {
			return k
		}
	}
	return store.Passkey{}
}

func parseAssertion(body []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(body) > MaxPasskeyResponse {
		return nil, valid.Errorf("credential", "must be at most %d bytes", MaxPasskeyResponse)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, valid.Errorf("credential", "is not a WebAuthn sign-in response")
	}
	if err := checkCredentialKeys(body, reflect.TypeFor[protocol.CredentialAssertionResponse]()); err != nil {
		return nil, err
	}
	return parsed, nil
}
