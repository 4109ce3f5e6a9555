package user

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softAuthenticator is a software WebAuthn authenticator and the browser
// in front of it, for tests: it makes P-256 credentials, answers
// navigator.credentials.create with a "none" attestation and
// navigator.credentials.get with real ES256 assertions, as a platform
// authenticator would. Its fields let a test break one thing at a time.
type softAuthenticator struct {
	t testing.TB
	// origin is the origin the browser puts in clientDataJSON; rpID is
	// the relying party whose SHA-256 the authenticator data carries
	// ("" = the rp.id of the options).
	origin, rpID string
	// noCounter makes the authenticator keep no signature counter
	// (always 0), as synced passkeys do.
	noCounter bool
	creds     []*softCredential
}

// softCredential is one credential the authenticator holds.
type softCredential struct {
	id     []byte
	key    *ecdsa.PrivateKey
	rpID   string
	handle []byte // the user handle given at registration
	count  uint32
}

var b64u = base64.RawURLEncoding

// AuthenticatorData flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func newSoftAuthenticator(t testing.TB, origin string) *softAuthenticator {
	return &softAuthenticator{t: t, origin: origin}
}

// creationOptions is the part of PublicKeyCredentialCreationOptions the
// authenticator reads.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

// requestOptions is the part of PublicKeyCredentialRequestOptions the
// authenticator reads.
type requestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
		UserVerification string `json:"userVerification"`
	} `json:"publicKey"`
}

// create answers registration options with a new credential, returning
// the PublicKeyCredential as the browser's JSON.
func (a *softAuthenticator) create(options []byte) []byte {
	a.t.Helper()
	var o creationOptions
	mustUnmarshal(a.t, options, &o)
	handle, err := b64u.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		a.t.Fatalf("user.id %q: %v", o.PublicKey.User.ID, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	c := &softCredential{id: randomBytes(16), key: key, rpID: o.PublicKey.RP.ID, handle: handle}
	a.creds = append(a.creds, c)
	clientData := a.clientData("webauthn.create", o.PublicKey.Challenge)
	authData := a.authData(c.rpID, flagUP|flagUV|flagBE|flagAT, 0)
	authData = append(authData, make([]byte, 16)...) // AAGUID: none given
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(c.id)))
	authData = append(authData, c.id...)
	authData = append(authData, coseKey(a.t, &key.PublicKey)...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		a.t.Fatal(err)
	}
	return mustMarshal(a.t, map[string]any{
		"id": b64u.EncodeToString(c.id), "rawId": b64u.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(clientData),
			"attestationObject": b64u.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
	})
}

// get answers sign-in options with an assertion of credential c (nil:
// the first credential the options allow, or the first held).
func (a *softAuthenticator) get(options []byte, c *softCredential) []byte {
	a.t.Helper()
	var o requestOptions
	mustUnmarshal(a.t, options, &o)
	if c == nil {
		c = a.pick(o)
	}
	if !a.noCounter {
		c.count++
	}
	return a.assert(c, o.PublicKey.Challenge, c.count)
}

// assert signs an assertion of c over challenge with the given counter.
func (a *softAuthenticator) assert(c *softCredential, challenge string, count uint32) []byte {
	a.t.Helper()
	clientData := a.clientData("webauthn.get", challenge)
	authData := a.authData(c.rpID, flagUP|flagUV|flagBE, count)
	digest := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(append([]byte{}, authData...), digest[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, signed[:])
	if err != nil {
		a.t.Fatal(err)
	}
	return mustMarshal(a.t, map[string]any{
		"id": b64u.EncodeToString(c.id), "rawId": b64u.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(clientData),
			"authenticatorData": b64u.EncodeToString(authData),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString(c.handle),
		},
	})
}

func (a *softAuthenticator) pick(o requestOptions) *softCredential {
	a.t.Helper()
	for _, allowed := range o.PublicKey.AllowCredentials {
		for _, c := range a.creds {
			if b64u.EncodeToString(c.id) == allowed.ID {
				return c
			}
		}
	}
	if len(o.PublicKey.AllowCredentials) > 0 || len(a.creds) == 0 {
		a.t.Fatalf("the authenticator holds none of the allowed credentials")
	}
	return a.creds[0]
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	return mustMarshal(a.t, map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
}

// authData is the fixed part of the authenticator data: the RP ID hash,
// flags and signature counter.
func (a *softAuthenticator) authData(rpID string, flags byte, count uint32) []byte {
	if a.rpID != "" {
		rpID = a.rpID
	}
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}

// coseKey is pub as a COSE_Key (RFC 9053): EC2, ES256, P-256.
func coseKey(t testing.TB, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	b, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("options %s: %v", b, err)
	}
}
