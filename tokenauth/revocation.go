package tokenauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/api"
)

// revocations remembers, per jti, when tokend was last asked about a JWT
// and what it answered, so that it is asked at most once per
// RevocationCheckInterval per token. It holds at most size entries.
type revocations struct {
	flights group[verifyResult]

	mu   sync.Mutex
	m    map[string]revocation
	size int
}

type revocation struct {
	checked time.Time
	refusal *Error // nil: the token was VALID
}

func newRevocations(size int) *revocations {
	return &revocations{m: make(map[string]revocation), size: size}
}

// check asks tokend about a JWT that passed every local check, with
// ask, unless it was asked within the interval, and returns its refusal
// if any. A refusal is a copy, since the caller adds the route's scopes
// to it.
func (rv *revocations) check(a *Auth, jti string, ask func() verifyResult) *Error {
	now := a.now()
	rv.mu.Lock()
	last, ok := rv.m[jti]
	rv.mu.Unlock()
	if !ok || now.Sub(last.checked) >= a.cfg.RevocationCheckInterval {
		r, _ := rv.flights.do(jti, ask)
		if r.err != nil {
			return unavailable(r.err)
		}
		_, refusal := verdict(r.res, false)
		last = revocation{checked: now, refusal: refusal}
		rv.remember(jti, last, now, a.cfg.RevocationCheckInterval)
	}
	if last.refusal == nil {
		return nil
	}
	e := *last.refusal
	return &e
}

// revocationQuestion returns how to ask tokend whether a JWT of audience
// was revoked: /v1/verify for a bearer token; for one bound to a DPoP
// key (jkt), whose proof was checked here and which /v1/verify answers
// only with a proof of its own, RFC 7662 introspection, which says
// whether it is active.
func (a *Auth) revocationQuestion(ctx context.Context, token, audience, jkt string) func() verifyResult {
	if jkt != "" {
		return func() verifyResult {
			res, err := a.introspect(ctx, token)
			return verifyResult{res, err}
		}
	}
	return func() verifyResult {
		res, err := a.ask(ctx, api.VerifyRequest{Token: token, Audience: audience})
		return verifyResult{res, err}
	}
}

// introspect asks tokend's /oauth2/introspect (RFC 7662) about token,
// authenticated with the verify key, and answers as /v1/verify would
// about revocation: VALID while the token is active, else REVOKED (its
// expiry was checked here).
func (a *Auth) introspect(ctx context.Context, token string) (*api.VerifyResponse, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Timeout)
	defer cancel()
	body := strings.NewReader(url.Values{"token": {token}}.Encode())
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/oauth2/introspect", body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+a.cfg.VerifyKey)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("introspect: read answer: %w", err)
	}
	var out struct {
		Active *bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Active == nil {
		return nil, fmt.Errorf("introspect: /oauth2/introspect answered %s", resp.Status)
	}
	if !*out.Active {
		return &api.VerifyResponse{Code: api.CodeRevoked}, nil
	}
	return &api.VerifyResponse{Valid: true, Code: api.CodeValid, Token: &api.TokenInfo{}}, nil
}

// remember stores an answer, making room first when the map is full:
// answers older than the interval go, then arbitrary ones.
func (rv *revocations) remember(jti string, r revocation, now time.Time, interval time.Duration) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if _, ok := rv.m[jti]; !ok && len(rv.m) >= rv.size {
		n := 0
		for k, old := range rv.m {
			if now.Sub(old.checked) >= interval || n == 0 {
				delete(rv.m, k)
				n++
			}
			if n >= 16 {
				break
			}
		}
	}
	rv.m[jti] = r
}
