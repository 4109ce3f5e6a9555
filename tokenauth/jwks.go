package tokenauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// publicKey is one verification key of the JWKS, bound to the one
// algorithm its JWK names (RFC 8725 §3.1): a token's alg must match it.
type publicKey struct {
	alg string
	key crypto.PublicKey
}

// keySet is tokend's JWKS as last fetched. It is refetched when its
// Cache-Control max-age (capped by JWKSMaxAge) has passed, and when a
// token names an unknown kid, at most once per JWKSRefreshInterval, so
// that a rotation is picked up at the first token signed with the new key.
// Fetches are single-flight. A failed fetch keeps the keys already known.
type keySet struct {
	a      *Auth
	flight group[struct{}]

	mu          sync.RWMutex
	keys        map[string]publicKey
	expires     time.Time // when the set is stale
	lastAttempt time.Time // the last fetch, successful or not
	lastErr     error     // why the last fetch failed, nil if it did not
	jwksURL     string    // Config.JWKSURL or discovered
}

func newKeySet(a *Auth) *keySet { return &keySet{a: a, jwksURL: a.cfg.JWKSURL} }

// key returns the key for kid, fetching the set if it is stale or lacks
// kid. It fails with 401 for a kid the fresh set does not hold, and 503
// when the set could not be fetched and the kid is not already known.
func (ks *keySet) key(ctx context.Context, kid string) (publicKey, *Error) {
	now := ks.a.now()
	ks.mu.RLock()
	k, ok := ks.keys[kid]
	fresh := now.Before(ks.expires)
	ks.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}
	ks.flight.do("", func() struct{} { ks.refresh(ctx); return struct{}{} })
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if k, ok := ks.keys[kid]; ok {
		return k, nil // possibly stale, when tokend cannot be reached
	}
	if ks.lastErr != nil {
		return publicKey{}, unavailable(ks.lastErr)
	}
	return publicKey{}, invalidToken("the token is signed with an unknown key")
}

// refresh fetches the set unless a fetch was attempted less than
// JWKSRefreshInterval ago.
func (ks *keySet) refresh(ctx context.Context) {
	now := ks.a.now()
	ks.mu.RLock()
	recent := !ks.lastAttempt.IsZero() && now.Sub(ks.lastAttempt) < ks.a.cfg.JWKSRefreshInterval
	u := ks.jwksURL
	ks.mu.RUnlock()
	if recent {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ks.a.cfg.Timeout)
	defer cancel()
	var err error
	if u == "" {
		u, err = ks.a.discover(ctx)
	}
	var keys map[string]publicKey
	var maxAge time.Duration
	if err == nil {
		keys, maxAge, err = ks.a.fetchJWKS(ctx, u)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.lastAttempt, ks.lastErr = now, err
	if err != nil {
		ks.a.log.ErrorContext(ctx, "tokenauth: cannot fetch tokend's JWKS", "err", err)
		return
	}
	ks.jwksURL, ks.keys = u, keys
	ks.expires = now.Add(min(max(maxAge, ks.a.cfg.JWKSRefreshInterval), ks.a.cfg.JWKSMaxAge))
}

// discover reads the jwks_uri of the issuer's RFC 8414 metadata, after
// checking that the metadata is the issuer's (§3.3).
func (a *Auth) discover(ctx context.Context) (string, error) {
	var md struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := wellKnown(a.cfg.Issuer, "oauth-authorization-server")
	if _, err := a.getJSON(ctx, u, &md); err != nil {
		return "", fmt.Errorf("discover the JWKS: %w", err)
	}
	if md.Issuer != a.cfg.Issuer {
		return "", fmt.Errorf("discover the JWKS: %s names issuer %q, not %q", u, md.Issuer, a.cfg.Issuer)
	}
	if !isHTTPURL(md.JWKSURI) {
		return "", fmt.Errorf("discover the JWKS: %s has no usable jwks_uri", u)
	}
	return md.JWKSURI, nil
}

// fetchJWKS fetches a JWK Set and returns its usable keys by kid, with
// the max-age of its Cache-Control (JWKSMaxAge when absent).
func (a *Auth) fetchJWKS(ctx context.Context, u string) (map[string]publicKey, time.Duration, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	h, err := a.getJSON(ctx, u, &set)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch the JWKS: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	for _, raw := range set.Keys {
		// Keys this package cannot use (another type, another use, no
		// alg) are skipped, not fatal: they may be for someone else.
		var jwk jose.JSONWebKey
		if jwk.UnmarshalJSON(raw) != nil || jwk.KeyID == "" || !jwk.IsPublic() || (jwk.Use != "" && jwk.Use != "sig") {
			continue
		}
		if usable(jwk.Algorithm, jwk.Key) {
			keys[jwk.KeyID] = publicKey{alg: jwk.Algorithm, key: jwk.Key}
		}
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("fetch the JWKS: no usable signing key")
	}
	return keys, maxAge(h.Get("Cache-Control"), a.cfg.JWKSMaxAge), nil
}

// usable reports whether key can verify alg: the algorithms tokend signs
// with and their relatives, never "none" nor an HMAC, whose key would be
// public here.
func usable(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256() || alg == "ES384" && k.Curve == elliptic.P384() ||
			alg == "ES512" && k.Curve == elliptic.P521()
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case *rsa.PublicKey:
		return k.N.BitLen() >= 2048 && rsaHash(alg) != 0
	}
	return false
}

// maxAge is the max-age of a Cache-Control value; def when there is none,
// zero for no-store and no-cache.
func maxAge(cc string, def time.Duration) time.Duration {
	for d := range strings.SplitSeq(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				return time.Duration(min(n, 1<<31)) * time.Second
			}
		}
	}
	return def
}

// getJSON GETs u from tokend into v, reading at most maxAnswer bytes.
func (a *Auth) getJSON(ctx context.Context, u string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return resp.Header, nil
}
