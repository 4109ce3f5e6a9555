package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tokend/tokend/internal/jsonkeys"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// Passkey limits and lifetimes.
const (
	// PasskeyCeremonyTTL is how long a registration or sign-in ceremony
	// may take, from its options to the browser's answer.
	PasskeyCeremonyTTL = 5 * time.Minute
	// MaxPasskeyResponse bounds the browser's answer to a ceremony, in
	// bytes; real answers are well under 4 KiB.
	MaxPasskeyResponse = 64 << 10
	// MaxPasskeys is how many passkeys one user may register.
	MaxPasskeys = 20
)

// The kinds of passkey ceremony.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// Passkey errors. Their texts are safe to show: ErrPasskeyRefused says
// nothing of why an answer was refused (the wrapped detail is for the
// log only).
var (
	// ErrPasskeysOff means tokend has no public URL with a host name to
	// bind passkeys to (WebAuthn refuses IP addresses).
	ErrPasskeysOff = errors.New("passkeys are off: tokend's public URL (--issuer) must name a host, not an IP address")
	// ErrPasskeyRefused means the authenticator's answer did not verify:
	// a wrong origin or relying party, a bad signature, a replayed or
	// expired ceremony, a passkey that is not the user's, or a
	// signature counter that went backwards (a cloned authenticator).
	ErrPasskeyRefused = errors.New("the passkey was not accepted; try again")
	// ErrNoPasskeys means the user has no passkey to sign in with.
	ErrNoPasskeys = errors.New("the user has no passkey")
)

// relyingParty is tokend as a WebAuthn relying party, bound to the host of
// publicURL. It returns ErrPasskeysOff if publicURL has no host name.
func relyingParty(publicURL string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, ErrPasskeysOff
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, ErrPasskeysOff
	}
	return webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         "tokend",
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
	})
}

// passkeyUser is a user as go-webauthn sees them: the random handle, never
// the user id, and their credentials.
type passkeyUser struct {
	u      store.User
	handle []byte
	keys   []store.Passkey
}

func (p *passkeyUser) WebAuthnID() []byte   { return p.handle }
func (p *passkeyUser) WebAuthnName() string { return p.u.Username }

func (p *passkeyUser) WebAuthnDisplayName() string {
	if p.u.DisplayName != "" {
		return p.u.DisplayName
	}
	return p.u.Username
}

func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.keys))
	for _, k := range p.keys {
		ts := make([]protocol.AuthenticatorTransport, len(k.Transports))
		for i, t := range k.Transports {
			ts[i] = protocol.AuthenticatorTransport(t)
		}
		out = append(out, webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey,
			AttestationType: k.AttestationType, AttestationFormat: k.AttestationFormat, Transport: ts,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: k.UserVerified,
				BackupEligible: k.BackupEligible, BackupState: k.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}})
	}
	return out
}

// registeringUser loads the user with the given id, their handle (made
// now if they have none: 32 random bytes, never the user id) and their
// passkeys.
func (s *Service) registeringUser(ctx context.Context, id string) (*passkeyUser, error) {
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	handle, err := s.db.PasskeyHandle(ctx, id, randomBytes(32))
	if err != nil {
		return nil, err
	}
	return s.withPasskeys(ctx, u, handle)
}

// passkeyUser loads the user with the given id, their handle and their
// passkeys. A user without a handle never registered a passkey:
// ErrNoPasskeys.
func (s *Service) passkeyUser(ctx context.Context, id string) (*passkeyUser, error) {
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	handle, err := s.db.PasskeyHandleOf(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPasskeys
	}
	if err != nil {
		return nil, err
	}
	return s.withPasskeys(ctx, u, handle)
}

func (s *Service) withPasskeys(ctx context.Context, u store.User, handle []byte) (*passkeyUser, error) {
	keys, err := s.db.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &passkeyUser{u: u, handle: handle, keys: keys}, nil
}

// PasskeysAvailable returns nil if passkeys work, or why they do not
// (ErrPasskeysOff), for the command to log at start.
func (s *Service) PasskeysAvailable() error {
	_, err := s.rp()
	return err
}

// rp returns the relying party, or ErrPasskeysOff.
func (s *Service) rp() (*webauthn.WebAuthn, error) {
	if s.webauthn == nil {
		return nil, ErrPasskeysOff
	}
	return s.webauthn, nil
}

// beginCeremony stores the session data of a ceremony of kind for userID
// ("" for a discoverable sign-in) and returns options as JSON with the
// opaque state token the browser's answer must come back with. The store
// keeps only the token's SHA-256.
func (s *Service) beginCeremony(ctx context.Context, kind, userID string, options any, sd *webauthn.SessionData) (json.RawMessage, string, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, "", err
	}
	session, err := json.Marshal(sd)
	if err != nil {
		return nil, "", err
	}
	state := rand.Text()
	now := s.clock()
	err = s.db.CreatePasskeyCeremony(ctx, store.PasskeyCeremony{Hash: sha256.Sum256([]byte(state)), Kind: kind,
		UserID: userID, Session: session, ExpiresAt: now.Add(PasskeyCeremonyTTL)}, now)
	if err != nil {
		return nil, "", err
	}
	return opts, state, nil
}

// takeCeremony consumes the ceremony of kind whose state token is state.
// A ceremony unknown, used or expired is ErrPasskeyRefused.
func (s *Service) takeCeremony(ctx context.Context, kind, state string) (store.PasskeyCeremony, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if state == "" || len(state) > 64 {
		return store.PasskeyCeremony{}, sd, fmt.Errorf("%w: no such ceremony", ErrPasskeyRefused)
	}
	c, err := s.db.TakePasskeyCeremony(ctx, sha256.Sum256([]byte(state)), kind, s.clock())
	if errors.Is(err, store.ErrNotFound) {
		return c, sd, fmt.Errorf("%w: the ceremony is unknown, used or expired", ErrPasskeyRefused)
	}
	if err != nil {
		return c, sd, err
	}
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return c, sd, fmt.Errorf("passkey ceremony session: %w", err)
	}
	return c, sd, nil
}

// refused wraps a go-webauthn verification failure as ErrPasskeyRefused,
// keeping its detail for the log.
func refused(err error) error {
	if e, ok := errors.AsType[*protocol.Error](err); ok {
		return fmt.Errorf("%w: %s: %s %s", ErrPasskeyRefused, e.Type, e.Details, e.DevInfo)
	}
	return fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
}

// checkCredentialKeys refuses a credential (the browser's
// PublicKeyCredential as JSON, already parsed by go-webauthn into a
// value of type t) whose keys go-webauthn read otherwise than written, as
// every JSON body tokend reads is refused (jsonkeys): encoding/json
// matches names without regard to case and lets a repeated key override
// the first. A key go-webauthn does not know is refused too: passkey.js
// sends the credential's fields by name, and a browser's
// PublicKeyCredential.toJSON() holds only fields it knows. The values it
// decodes itself (the base64url fields) and clientExtensionResults, a
// free-form map whose keys are the extensions', are refused only for a
// key given twice inside them. The error names the field, never a value.
func checkCredentialKeys(body []byte, t reflect.Type) error {
	err := jsonkeys.Check(body, t, jsonkeys.Strict)
	if e, ok := errors.AsType[*jsonkeys.Error](err); ok {
		return valid.Errorf("credential", "%s", e)
	}
	if err != nil {
		return valid.Errorf("credential", "is not JSON")
	}
	return nil
}
