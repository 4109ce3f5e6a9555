package oauth

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// IDTokenAlgs are the id_token_signed_response_alg values a client may
// register; the signer must hold keys of the one it picks (RS256 always,
// OIDC Core §15.1, and the server's own algorithm).
var IDTokenAlgs = []string{"RS256", "ES256", "EdDSA"}

// DefaultIDTokenAlg is the algorithm of ID tokens for clients that name
// none, as OIDC Core §3.1.3.7 expects.
const DefaultIDTokenAlg = "RS256"

// IDTokenTTL is how long an ID token is valid: it proves a sign-in to
// the client once, at the token response.
const IDTokenTTL = 10 * time.Minute

// The acr values tokend asserts (REFEDS assurance profiles): a single
// factor, or several (amr holds "mfa").
const (
	ACRSingleFactor = "https://refeds.org/profile/sfa"
	ACRMultiFactor  = "https://refeds.org/profile/mfa"
)

// idClaims are the claims of an ID token (OIDC Core §2, §5.1).
type idClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        string   `json:"aud"`
	AuthorizedParty string   `json:"azp"`
	Expiry          int64    `json:"exp"`
	IssuedAt        int64    `json:"iat"`
	AuthTime        int64    `json:"auth_time,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	AMR             []string `json:"amr,omitempty"`
	ACR             string   `json:"acr,omitempty"`
	AtHash          string   `json:"at_hash,omitempty"`
	SessionID       string   `json:"sid,omitempty"`
	UserClaims
}

// UserClaims are the claims about a person that the profile, email and
// groups scopes release, in the ID token and at userinfo.
type UserClaims struct {
	Name              string   `json:"name,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Email             string   `json:"email,omitempty"`
	EmailVerified     *bool    `json:"email_verified,omitempty"`
	Groups            []string `json:"groups,omitempty"`
}

// userClaims returns what scopes release about u.
func userClaims(u store.User, scopes []string) UserClaims {
	var c UserClaims
	if slices.Contains(scopes, ScopeProfile) {
		c.Name, c.PreferredUsername = u.DisplayName, u.Username
	}
	if slices.Contains(scopes, ScopeEmail) && u.Email != "" {
		// An operator or a directory set it; tokend has not proved it.
		verified := u.Source != "local"
		c.Email, c.EmailVerified = u.Email, &verified
	}
	if slices.Contains(scopes, ScopeGroups) {
		c.Groups = append([]string{}, u.Groups...)
	}
	return c
}

// idGrant is the sign-in an ID token asserts.
type idGrant struct {
	user      store.User
	scopes    []string
	nonce     string
	authTime  time.Time
	amr       []string
	sessionID string
}

// idTokenAlg returns the algorithm of c's ID tokens.
func idTokenAlg(c store.Client) string {
	if c.IDTokenAlg != "" {
		return c.IDTokenAlg
	}
	return DefaultIDTokenAlg
}

// mintIDToken signs an ID token for client c about g, issued with access
// token accessToken (at_hash, OIDC Core §3.1.3.6).
func (s *Service) mintIDToken(c store.Client, g idGrant, accessToken string, now time.Time) (string, error) {
	alg := idTokenAlg(c)
	claims := idClaims{Issuer: s.issuer, Subject: g.user.ID, Audience: c.ID, AuthorizedParty: c.ID,
		Expiry: now.Add(min(IDTokenTTL, s.signer.MaxTokenTTL())).Unix(), IssuedAt: now.Unix(), Nonce: g.nonce,
		AMR: g.amr, ACR: ACRSingleFactor, SessionID: g.sessionID, UserClaims: userClaims(g.user, g.scopes)}
	if !g.authTime.IsZero() {
		claims.AuthTime = g.authTime.Unix()
	}
	if slices.Contains(g.amr, "mfa") {
		claims.ACR = ACRMultiFactor
	}
	if accessToken != "" {
		claims.AtHash = atHash(alg, accessToken)
	}
	tok, err := s.signer.SignWith(alg, claims, credential.TypIDToken)
	if err != nil {
		return "", fmt.Errorf("sign id token with %s: %w", alg, err)
	}
	return tok, nil
}

// atHash is the left half of the hash of the access token, with the hash
// of the signing algorithm: SHA-256 for RS256 and ES256, SHA-512 for
// EdDSA with Ed25519.
func atHash(alg, token string) string {
	var sum []byte
	if alg == "EdDSA" {
		h := sha512.Sum512([]byte(token))
		sum = h[:]
	} else {
		h := sha256.Sum256([]byte(token))
		sum = h[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
