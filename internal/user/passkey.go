package user

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// BeginPasskeyRegistration starts registering a new passkey for the user:
// it returns the options for navigator.credentials.create (as
// {"publicKey": ...}, with the binary fields base64url-encoded) and the
// opaque state token that FinishPasskeyRegistration needs back. The
// passkey is discoverable (a resident key), so that it can sign in
// without a username; the user's existing passkeys are excluded, so an
// authenticator is not registered twice. The state works once, within
// PasskeyCeremonyTTL.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID string) (options json.RawMessage, state string, err error) {
	rp, err := s.rp()
	if err != nil {
		return nil, "", err
	}
	pu, err := s.registeringUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if len(pu.keys) >= MaxPasskeys {
		return nil, "", valid.Errorf("passkey", "at most %d passkeys per user; remove one first", MaxPasskeys)
	}
	exclude := webauthn.Credentials(pu.WebAuthnCredentials()).CredentialDescriptors()
	creation, sd, err := rp.BeginRegistration(pu, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.beginCeremony(ctx, ceremonyRegister, userID, creation, sd)
}

// FinishPasskeyRegistration checks body, the browser's answer (the
// PublicKeyCredential as JSON) to the ceremony that state names, and
// stores the new passkey under name. It is refused with
// ErrPasskeyRefused when the state is unknown, used, expired or another
// user's, or when the answer does not verify (origin, relying party,
// challenge); a body that is not a credential is a *valid.Error and
// leaves the ceremony usable. An empty name becomes "Passkey".
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID, state, name string, body []byte) (api.Passkey, error) {
	rp, err := s.rp()
	if err != nil {
		return api.Passkey{}, err
	}
	if name == "" {
		name = "Passkey"
	}
	if err := valid.Text("name", name, 1, 64); err != nil {
		return api.Passkey{}, err
	}
	parsed, err := parseCreation(body)
	if err != nil {
		return api.Passkey{}, err
	}
	c, sd, err := s.takeCeremony(ctx, ceremonyRegister, state)
	if err != nil {
		return api.Passkey{}, err
	}
	if c.UserID != userID {
		return api.Passkey{}, fmt.Errorf("%w: the ceremony is another user's", ErrPasskeyRefused)
	}
	pu, err := s.registeringUser(ctx, userID)
	if err != nil {
		return api.Passkey{}, err
	}
	cred, err := rp.CreateCredential(pu, sd, parsed)
	if err != nil {
		return api.Passkey{}, refused(err)
	}
	p := storedPasskey(cred, userID, name, s.clock())
	ev, err := passkeyEvent(audit.Actor{ID: userID}, p.CreatedAt, "passkey.create", nil, &p)
	if err != nil {
		return api.Passkey{}, err
	}
	if err := s.db.CreatePasskey(ctx, p, ev); err != nil {
		return api.Passkey{}, err
	}
	return passkeyView(p), nil
}

func parseCreation(body []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(body) > MaxPasskeyResponse {
		return nil, valid.Errorf("credential", "must be at most %d bytes", MaxPasskeyResponse)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, valid.Errorf("credential", "is not a WebAuthn registration response")
	}
	if err := checkCredentialKeys(body, reflect.TypeFor[protocol.CredentialCreationResponse]()); err != nil {
		return nil, err
	}
	return parsed, nil
}

func storedPasskey(c *webauthn.Credential, userID, name string, now time.Time) store.Passkey {
	ts := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		ts[i] = string(t)
	}
	return store.Passkey{ID: ids.New("pk", now), UserID: userID, CredentialID: c.ID, PublicKey: c.PublicKey,
		AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat, AAGUID: c.Authenticator.AAGUID,
		SignCount: c.Authenticator.SignCount, Transports: ts, UserVerified: c.Flags.UserVerified,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState, Name: name, CreatedAt: now}
}

// Passkeys returns the user's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID string) ([]api.Passkey, error) {
	ps, err := s.db.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]api.Passkey, 0, len(ps))
	for _, p := range ps {
		out = append(out, passkeyView(p))
	}
	return out, nil
}

// RenamePasskey gives the user's passkey id a new name. It returns
// store.ErrNotFound if the user has no such passkey.
func (s *Service) RenamePasskey(ctx context.Context, by audit.Actor, userID, id, name string) (api.Passkey, error) {
	if err := valid.Text("name", name, 1, 64); err != nil {
		return api.Passkey{}, err
	}
	p, err := s.db.RenamePasskey(ctx, userID, id, func(p *store.Passkey) (store.Event, error) {
		before := *p
		p.Name = name
		return passkeyEvent(by, s.clock(), "passkey.rename", &before, p)
	})
	if err != nil {
		return api.Passkey{}, err
	}
	return passkeyView(p), nil
}

// DeletePasskey removes the user's passkey id. It returns
// store.ErrNotFound if the user has no such passkey.
func (s *Service) DeletePasskey(ctx context.Context, by audit.Actor, userID, id string) error {
	return s.db.DeletePasskey(ctx, userID, id, func(p store.Passkey) (store.Event, error) {
		return passkeyEvent(by, s.clock(), "passkey.delete", &p, nil)
	})
}

func passkeyView(p store.Passkey) api.Passkey {
	ts := p.Transports
	if ts == nil {
		ts = []string{}
	}
	return api.Passkey{ID: p.ID, Name: p.Name, AAGUID: aaguid(p.AAGUID), Transports: ts,
		BackupEligible: p.BackupEligible, BackedUp: p.BackupState, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt}
}

func aaguid(b []byte) string {
	u, err := uuid.FromBytes(b)
	if err != nil {
		return uuid.Nil.String()
	}
	return u.String()
}

// auditPasskey is what the audit log records of a passkey: whose it is,
// its name and authenticator model, never its key.
type auditPasskey struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	AAGUID string `json:"aaguid"`
}

func passkeyEvent(by audit.Actor, now time.Time, action string, before, after *store.Passkey) (store.Event, error) {
	var b, a any
	id := ""
	if before != nil {
		b, id = auditPasskey{UserID: before.UserID, Name: before.Name, AAGUID: aaguid(before.AAGUID)}, before.ID
	}
	if after != nil {
		a, id = auditPasskey{UserID: after.UserID, Name: after.Name, AAGUID: aaguid(after.AAGUID)}, after.ID
	}
	return audit.Change(by, now, action, "passkey", id, b, a)
}
